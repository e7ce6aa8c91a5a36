/* SPDX-License-Identifier: MIT */
/*
 * fuzz-ttime.c: libFuzzer harness of ttime_parse and ttime_parse_u64.
 *
 * Input: one byte choosing `now` (from now_table), then the text.  Both
 * parsers must never crash, must agree with the simple reference parser
 * below, and must give the same answer with one trailing "\n" added.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttime.h"

#define INV(cond)                                                          \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "INVARIANT FAILED: %s at %s:%d\n", \
				#cond, __FILE__, __LINE__);                \
			abort();                                           \
		}                                                          \
	} while (0)

__extension__ typedef unsigned __int128 u128;

static const uint64_t now_table[8] = {
	0, 1, 1000000000ull, 12345678901234ull, (1ull << 63),
	UINT64_MAX - 1000, UINT64_MAX - 1, UINT64_MAX,
};

enum ref { REF_OK, REF_SYNTAX, REF_RANGE };

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* u64: one or more digits, then at most one newline. */
static enum ref ref_u64(const char *s, size_t len, uint64_t *out)
{
	u128 v = 0;
	bool big = false;
	size_t i;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (len == 0)
		return REF_SYNTAX;
	for (i = 0; i < len; i++) {
		if (!digit(s[i]))
			return REF_SYNTAX;
		if (!big) {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > UINT64_MAX)
				big = true;
		}
	}
	if (big)
		return REF_RANGE;
	*out = (uint64_t)v;
	return REF_OK;
}

/*
 * [+] digits [. digits] [unit] [\n], at least one digit; the value is
 * whole * unit + floor(first 18 decimals * unit), plus now if relative.
 */
static enum ref ref_time(const char *s, size_t len, uint64_t now,
			 uint64_t *out)
{
	static const struct { const char *n; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull }, { "d", 86400000000000ull },
	};
	u128 whole = 0, frac = 0, scale = 1, v;
	bool big = false, rel = false;
	size_t i = 0, ndig = 0, nfrac = 0, k;
	uint64_t ns = 0;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (i < len && s[i] == '+') {
		rel = true;
		i++;
	}
	for (; i < len && digit(s[i]); i++, ndig++) {
		if (!big) {
			whole = whole * 10 + (unsigned)(s[i] - '0');
			if (whole > UINT64_MAX)
				big = true;
		}
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && digit(s[i]); i++, ndig++) {
			if (nfrac < 18) {
				frac = frac * 10 + (unsigned)(s[i] - '0');
				scale *= 10;
				nfrac++;
			}
		}
	}
	if (ndig == 0)
		return REF_SYNTAX;
	if (i == len) {
		ns = 1;
	} else {
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (strlen(units[k].n) == len - i &&
			    memcmp(units[k].n, s + i, len - i) == 0)
				ns = units[k].ns;
		if (!ns)
			return REF_SYNTAX;
	}
	if (big)
		return REF_RANGE;
	v = whole * ns + frac * ns / scale;
	if (rel)
		v += now;
	if (v > UINT64_MAX)
		return REF_RANGE;
	*out = (uint64_t)v;
	return REF_OK;
}

static void check_u64(const char *s, size_t len)
{
	uint64_t got = 0xdeadbeef, want = 0;
	enum ref ref = ref_u64(s, len, &want);
	int r = ttime_parse_u64(s, len, &got);

	INV(r == 0 || r == -EINVAL || r == -ERANGE);
	if (ref == REF_OK) {
		INV(r == 0);
		INV(got == want);
	} else if (ref == REF_RANGE) {
		INV(r == -ERANGE);
	} else {
		INV(r != 0);
	}
	if (r != 0)
		INV(got == 0xdeadbeef); /* untouched on error */
}

static void check_time(const char *s, size_t len, uint64_t now)
{
	uint64_t got = 0xdeadbeef, want = 0;
	enum ref ref = ref_time(s, len, now, &want);
	int r = ttime_parse(s, len, now, &got);

	INV(r == 0 || r == -EINVAL || r == -ERANGE);
	if (ref == REF_OK) {
		INV(r == 0);
		INV(got == want);
	} else if (ref == REF_RANGE) {
		INV(r == -ERANGE);
	} else {
		/* Overflow may be noticed before the syntax error. */
		INV(r != 0);
	}
	if (r != 0)
		INV(got == 0xdeadbeef);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now, a = 0, b = 0;
	size_t len;
	char *s;
	int ra, rb;

	if (size < 1)
		return 0;
	now = now_table[data[0] % 8];
	len = size - 1;
	/* A copy of exactly len bytes (ASan catches reads past it), and
	 * one with "\n" added. */
	s = malloc(len + 1);
	INV(s != NULL);
	memcpy(s, data + 1, len);

	check_u64(s, len);
	check_time(s, len, now);

	if (len == 0 || s[len - 1] != '\n') {
		char *t = malloc(len + 1);

		INV(t != NULL);
		memcpy(t, s, len);
		t[len] = '\n';
		ra = ttime_parse(s, len, now, &a);
		rb = ttime_parse(t, len + 1, now, &b);
		INV(ra == rb);
		INV(ra != 0 || a == b);
		ra = ttime_parse_u64(s, len, &a);
		rb = ttime_parse_u64(t, len + 1, &b);
		INV(ra == rb);
		INV(ra != 0 || a == b);
		check_u64(t, len + 1);
		check_time(t, len + 1, now);
		free(t);
	}
	free(s);
	return 0;
}
