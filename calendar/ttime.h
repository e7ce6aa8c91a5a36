/* SPDX-License-Identifier: MIT */
/*
 * ttime.h: the time syntax of the tree's files.
 *
 *   2500000     ns            1.5s     a decimal with a unit
 *   +100ms      relative      ns us ms s m h d
 *
 * One value, optionally followed by one newline (what `echo` writes).
 */
#ifndef TTFS_TTIME_H
#define TTFS_TTIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse len bytes of s.  A leading '+' makes the value relative to `now`.
 * 0 and *out set, or -EINVAL (not a time) or -ERANGE (beyond 64 bits).
 */
int ttime_parse(const char *s, size_t len, uint64_t now, uint64_t *out);

/*
 * Parse an unsigned decimal integer (no unit, no sign), with an optional
 * trailing newline: 0, -EINVAL or -ERANGE.
 */
int ttime_parse_u64(const char *s, size_t len, uint64_t *out);

/*
 * Parse a ratio: decimal digits with at most one '.', no sign, no
 * exponent (0, 1, 10, 0.5, .25), optionally followed by one newline.
 * 0 and *out set, or -EINVAL.
 */
int ttime_parse_ratio(const char *s, size_t len, double *out);

#endif
