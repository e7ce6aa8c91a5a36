/* SPDX-License-Identifier: MIT */
/* ttime.c: parse the time syntax of the tree's files (see ttime.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttime.h"

/* 128-bit products keep fractions exact (GCC and clang have it). */
__extension__ typedef unsigned __int128 ttime_u128;

struct unit {
	const char *name;
	uint64_t ns;
};

/* A unit is its whole suffix (ttime_unit compares lengths too); no
 * bare number means ns, the first. */
static const struct unit units[] = {
	{ "ns", 1ull },
	{ "us", 1000ull },
	{ "ms", 1000000ull },
	{ "s", 1000000000ull },
	{ "m", 60000000000ull },
	{ "h", 3600000000000ull },
	{ "d", 86400000000000ull },
};

/* Strip the one newline `echo` adds; more is an error. */
static size_t ttime_trim(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	return len;
}

int ttime_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	len = ttime_trim(s, len);
	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static const struct unit *ttime_unit(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return &units[0];
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len &&
		    memcmp(units[i].name, s, len) == 0)
			return &units[i];
	return NULL;
}

int ttime_parse(const char *s, size_t len, uint64_t now, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, fscale = 1, v;
	size_t i = 0, digits = 0;
	const struct unit *u;
	int rel = 0;

	len = ttime_trim(s, len);
	if (len > 0 && s[0] == '+') {
		rel = 1;
		i = 1;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (whole > (UINT64_MAX - d) / 10)
			return -ERANGE;
		whole = whole * 10 + d;
	}
	if (i < len && s[i] == '.') {
		/* Up to 18 decimals keep fscale within 64 bits; more are
		 * below a nanosecond for every unit, so they are dropped. */
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
			if (fscale < 1000000000000000000ull) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				fscale *= 10;
			}
		}
	}
	if (digits == 0)
		return -EINVAL;
	u = ttime_unit(s + i, len - i);
	if (!u)
		return -EINVAL;
	if (whole > UINT64_MAX / u->ns)
		return -ERANGE;
	v = whole * u->ns;
	/* frac / fscale of a unit, rounded down to whole ns, without
	 * overflowing: frac < fscale <= 1e18 and u->ns <= 8.64e13. */
	{
		ttime_u128 f = (ttime_u128)frac * u->ns / fscale;

		if (v > UINT64_MAX - (uint64_t)f)
			return -ERANGE;
		v += (uint64_t)f;
	}
	if (rel) {
		if (v > UINT64_MAX - now)
			return -ERANGE;
		v += now;
	}
	*out = v;
	return 0;
}

int ttime_parse_ratio(const char *s, size_t len, double *out)
{
	char text[64];
	size_t i, dots = 0, digits = 0;
	char *end;

	len = ttime_trim(s, len);
	if (len == 0 || len >= sizeof(text))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else
			return -EINVAL;
	}
	if (dots > 1 || digits == 0)
		return -EINVAL;
	/* strtod wants a terminated string; the syntax is checked above,
	 * so it reads exactly these bytes. */
	memcpy(text, s, len);
	text[len] = '\0';
	*out = strtod(text, &end);
	return *end ? -EINVAL : 0;
}
