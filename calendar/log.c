/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static bool use_syslog;
static bool debug;

void log_to_syslog(bool on)
{
	if (on && !use_syslog)
		openlog("ttfs", LOG_PID, LOG_DAEMON);
	use_syslog = on;
}

void log_set_debug(bool on) { debug = on; }
bool log_debug_enabled(void) { return debug; }

static void log_v(int prio, const char *fmt, va_list ap)
{
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	fputs("ttfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug)
		return;
	va_start(ap, fmt);
	log_v(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
