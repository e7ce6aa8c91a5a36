/* SPDX-License-Identifier: MIT */
/* Table tests of the time syntax. */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "ttime.h"

struct row {
	const char *in;
	uint64_t now;
	int ret;
	uint64_t out;
};

static const struct row rows[] = {
	{ "0", 0, 0, 0 },
	{ "2500000", 0, 0, 2500000 },
	{ "2500000\n", 0, 0, 2500000 },
	{ "1.5s", 0, 0, 1500000000 },
	{ "1.5s\n", 7, 0, 1500000000 },
	{ "+100ms", 5, 0, 100000005 },
	{ "+0", 42, 0, 42 },
	{ "10ns", 0, 0, 10 },
	{ "3us", 0, 0, 3000 },
	{ "2m", 0, 0, 120000000000ull },
	{ "1h", 0, 0, 3600000000000ull },
	{ "1d", 0, 0, 86400000000000ull },
	{ "0.000000001s", 0, 0, 1 },
	{ "0.0000000019s", 0, 0, 1 },
	{ "1.", 0, 0, 1 },
	{ ".5s", 0, 0, 500000000 },
	{ "18446744073709551615", 0, 0, UINT64_MAX },
	{ "18446744073709551616", 0, -ERANGE, 0 },
	{ "+1", UINT64_MAX, -ERANGE, 0 },
	{ "300000d", 0, -ERANGE, 0 },
	{ "", 0, -EINVAL, 0 },
	{ "\n", 0, -EINVAL, 0 },
	{ "+", 0, -EINVAL, 0 },
	{ "-1", 0, -EINVAL, 0 },
	{ "1x", 0, -EINVAL, 0 },
	{ "1 s", 0, -EINVAL, 0 },
	{ "1s\n\n", 0, -EINVAL, 0 },
	{ "1 2", 0, -EINVAL, 0 },
	{ ".", 0, -EINVAL, 0 },
	{ "s", 0, -EINVAL, 0 },
	{ "1ss", 0, -EINVAL, 0 },
	{ "++1", 0, -EINVAL, 0 },
	{ " 1", 0, -EINVAL, 0 },
};

static void test_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t out = 12345;
		int r = ttime_parse(rows[i].in, strlen(rows[i].in),
				    rows[i].now, &out);

		if (r != rows[i].ret || (r == 0 && out != rows[i].out)) {
			fprintf(stderr, "ttime_parse(\"%s\") = %d, %llu\n",
				rows[i].in, r, (unsigned long long)out);
			test_failed_checks++;
		}
		if (r < 0)
			CHECK_EQ(out, 12345); /* untouched on error */
	}
}

static void test_embedded_nul(void)
{
	uint64_t out;

	CHECK_EQ(ttime_parse("1\0s", 3, 0, &out), -EINVAL);
}

static void test_u64(void)
{
	uint64_t out = 0;

	CHECK_EQ(ttime_parse_u64("42\n", 3, &out), 0);
	CHECK_EQ(out, 42);
	CHECK_EQ(ttime_parse_u64("+42", 3, &out), -EINVAL);
	CHECK_EQ(ttime_parse_u64("4s", 2, &out), -EINVAL);
	CHECK_EQ(ttime_parse_u64("", 0, &out), -EINVAL);
	CHECK_EQ(ttime_parse_u64("99999999999999999999", 20, &out), -ERANGE);
}

static void test_ratio(void)
{
	static const char *const bad[] = {
		"", "\n", "-1", "1e3", "0x10", " 1", "1 ", "1.2.3", ".", "inf",
		"nan", "+1", "1\n\n",
	};
	double v = 0;
	size_t i;

	CHECK_EQ(ttime_parse_ratio("0.5\n", 4, &v), 0);
	CHECK(v == 0.5);
	CHECK_EQ(ttime_parse_ratio(".25", 3, &v), 0);
	CHECK(v == 0.25);
	CHECK_EQ(ttime_parse_ratio("10", 2, &v), 0);
	CHECK(v == 10.0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		if (ttime_parse_ratio(bad[i], strlen(bad[i]), &v) != -EINVAL) {
			fprintf(stderr, "ratio \"%s\" accepted\n", bad[i]);
			test_failed_checks++;
		}
		CHECK(v == 7);
	}
}

TEST_LIST(T(test_table), T(test_embedded_nul), T(test_u64), T(test_ratio))
