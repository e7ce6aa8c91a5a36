/* SPDX-License-Identifier: MIT */
/*
 * log.h: one line per event, to stderr in the foreground and to syslog
 * once the daemon is in the background.  Debug lines only with -d.
 */
#ifndef TTFS_LOG_H
#define TTFS_LOG_H

#include <stdbool.h>

void log_to_syslog(bool on);
void log_set_debug(bool on);
bool log_debug_enabled(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
