/* SPDX-License-Identifier: MIT */
/* The trace ring: line format, wrap-around and loss counts, short reads
 * that never split a line, independent readers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "test.h"

/* Record i: distinct fields, so a line tells which record it is. */
static void rec(struct trace_rec *r, unsigned int i)
{
	memset(r, 0, sizeof(*r));
	r->wall_ns = 1795617164799035939ull + i;
	r->clock = 1000ull * i;
	r->client = 1 + i % 3;
	r->id = i % 3 == 0 ? TRACE_NO_ID : i;
	snprintf(r->name, sizeof(r->name), "uml%u", i % 3);
	r->out = i % 2;
	r->op = i % 10;
	r->seq = i;
	r->time = 5000ull * i;
}

static void add_n(struct trace *t, unsigned int from, unsigned int to)
{
	struct trace_rec r;

	for (; from < to; from++) {
		rec(&r, from);
		trace_add(t, &r);
	}
}

static void test_format(void)
{
	struct trace *t = trace_new(8);
	char buf[1024];
	uint64_t cur;
	size_t n;

	CHECK(t != NULL);
	cur = trace_head(t);
	CHECK_EQ(cur, 0);
	add_n(t, 0, 3);
	n = trace_read(t, &cur, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK_EQ(cur, 3);
	CHECK(strcmp(buf,
		     "1795617164.799035939 0 1 - uml0 -> ACK seq=0 time=0\n"
		     "1795617164.799035940 1000 2 1 uml1 <- START seq=1 time=5000\n"
		     "1795617164.799035941 2000 3 2 uml2 -> REQUEST seq=2 time=10000\n")
	      == 0);
	CHECK_EQ(n, strlen(buf));
	trace_free(t);
}

static void test_ops(void)
{
	static const char *const want[] = {
		"ACK", "START", "REQUEST", "WAIT", "GET", "UPDATE", "RUN",
		"FREE_UNTIL", "GET_TOD", "BROADCAST", "10", "4294967295",
	};
	struct trace *t = trace_new(16);
	struct trace_rec r;
	char buf[4096], *line, *save = NULL;
	uint64_t cur = 0;
	size_t i, n;

	for (i = 0; i < 12; i++) {
		rec(&r, 1);
		r.op = i < 10 ? (uint32_t)i : i == 10 ? 10 : UINT32_MAX;
		r.id = 0;
		r.wall_ns = 7;
		trace_add(t, &r);
	}
	n = trace_read(t, &cur, buf, sizeof(buf));
	buf[n] = '\0';
	for (i = 0, line = strtok_r(buf, "\n", &save); line;
	     i++, line = strtok_r(NULL, "\n", &save)) {
		char expect[128];

		snprintf(expect, sizeof(expect),
			 "0.000000007 1000 2 0 uml1 <- %s seq=1 time=5000",
			 want[i]);
		CHECK(i < 12 && strcmp(line, expect) == 0);
	}
	CHECK_EQ(i, 12);
	trace_free(t);
}

static void test_empty(void)
{
	struct trace *t = trace_new(4);
	char buf[256];
	uint64_t cur = trace_head(t);

	CHECK_EQ(trace_read(t, &cur, buf, sizeof(buf)), 0);
	CHECK_EQ(cur, 0);
	add_n(t, 0, 2);
	cur = trace_head(t);
	CHECK_EQ(trace_read(t, &cur, buf, sizeof(buf)), 0);
	CHECK_EQ(cur, 2);
	/* A cursor past the head (not one we gave) reads from now on. */
	cur = 100;
	CHECK_EQ(trace_read(t, &cur, buf, sizeof(buf)), 0);
	CHECK_EQ(cur, 2);
	trace_free(t);
}

/* Record i's seq from a line. */
static long line_seq(const char *line)
{
	const char *s = strstr(line, " seq=");

	return s ? strtol(s + 5, NULL, 10) : -1;
}

static void test_wrap(void)
{
	struct trace *t = trace_new(5);
	char buf[2048], *line, *save = NULL;
	uint64_t a = 0, b = 7, c = 10;
	long want = 12;
	size_t n;

	add_n(t, 0, 17); /* keeps 12..16 */
	CHECK_EQ(trace_head(t), 17);
	n = trace_read(t, &a, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK_EQ(a, 17);
	CHECK(strncmp(buf, "# lost 12\n", 10) == 0);
	for (line = strtok_r(buf + 10, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		CHECK_EQ(line_seq(line), want++);
	CHECK_EQ(want, 17);

	n = trace_read(t, &b, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK(strncmp(buf, "# lost 5\n", 9) == 0);
	CHECK_EQ(line_seq(buf + 9), 12);
	CHECK_EQ(b, 17);

	/* Only one behind the oldest. */
	c = 11;
	n = trace_read(t, &c, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK(strncmp(buf, "# lost 1\n", 9) == 0);
	CHECK_EQ(c, 17);

	/* Exactly at the oldest: nothing lost. */
	c = 12;
	n = trace_read(t, &c, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK(buf[0] != '#');
	CHECK_EQ(line_seq(buf), 12);

	/* Caught up, then lapped again. */
	CHECK_EQ(trace_read(t, &a, buf, sizeof(buf)), 0);
	add_n(t, 17, 30); /* keeps 25..29; a at 17 missed 8 */
	n = trace_read(t, &a, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK(strncmp(buf, "# lost 8\n", 9) == 0);
	CHECK_EQ(line_seq(buf + 9), 25);
	CHECK_EQ(a, 30);
	trace_free(t);
}

/* Long labels, so that few lines fit in 256 bytes. */
static void add_long(struct trace *t, unsigned int from, unsigned int to)
{
	struct trace_rec r;

	for (; from < to; from++) {
		rec(&r, from);
		memset(r.name, 'a' + from % 26, sizeof(r.name) - 1);
		r.name[sizeof(r.name) - 1] = '\0';
		r.clock = UINT64_MAX - from;
		r.time = UINT64_MAX;
		trace_add(t, &r);
	}
}

static void test_short_reads(void)
{
	enum { N = 50, CAP = 256 };
	struct trace *t = trace_new(64);
	static char whole[N * TRACE_LINE_MAX], joined[N * TRACE_LINE_MAX];
	char buf[CAP + 1];
	uint64_t a = 0, b = 0;
	size_t n, wl, jl = 0;
	int reads = 0;

	add_long(t, 0, N);
	wl = trace_read(t, &a, whole, sizeof(whole));
	CHECK_EQ(a, N);
	while ((n = trace_read(t, &b, buf, CAP)) > 0) {
		CHECK(n <= CAP);
		CHECK(buf[n - 1] == '\n');
		/* Whole lines only: the first line starts a record. */
		CHECK(buf[0] == '1');
		memcpy(joined + jl, buf, n);
		jl += n;
		reads++;
	}
	CHECK(reads > 1);
	CHECK_EQ(b, N);
	CHECK_EQ(jl, wl);
	CHECK(memcmp(joined, whole, wl) == 0);
	trace_free(t);
}

/* Lost, then short reads from the oldest kept. */
static void test_lost_short(void)
{
	struct trace *t = trace_new(10);
	char buf[256];
	uint64_t cur = 0;
	size_t n;
	long seq = 20;

	add_long(t, 0, 30);
	n = trace_read(t, &cur, buf, sizeof(buf));
	CHECK(n > 0 && buf[n - 1] == '\n');
	CHECK(strncmp(buf, "# lost 20\n", 10) == 0);
	CHECK(cur > 20 && cur < 30);
	seq = (long)cur;
	while ((n = trace_read(t, &cur, buf, sizeof(buf))) > 0) {
		buf[n - 1] = '\0';
		CHECK(buf[0] != '#');
		CHECK_EQ(line_seq(buf), seq);
		seq = (long)cur;
	}
	CHECK_EQ(cur, 30);
	trace_free(t);
}

static void test_two_readers(void)
{
	struct trace *t = trace_new(8);
	char buf[2048];
	uint64_t a, b;
	size_t n;

	add_n(t, 0, 3);
	a = 0;
	b = trace_head(t); /* a late reader sees only what follows */
	n = trace_read(t, &a, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK_EQ(a, 3);
	CHECK_EQ(line_seq(buf), 0);
	CHECK_EQ(trace_read(t, &b, buf, sizeof(buf)), 0);
	add_n(t, 3, 5);
	n = trace_read(t, &b, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK_EQ(line_seq(buf), 3);
	CHECK_EQ(b, 5);
	n = trace_read(t, &a, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK_EQ(line_seq(buf), 3);
	CHECK_EQ(a, 5);
	trace_free(t);
}

static void test_name_sanitised(void)
{
	struct trace *t = trace_new(2);
	struct trace_rec r;
	char buf[256];
	uint64_t cur = 0;
	size_t n;

	rec(&r, 1);
	strcpy(r.name, "a b\tc");
	trace_add(t, &r);
	rec(&r, 1);
	r.name[0] = '\0';
	trace_add(t, &r);
	n = trace_read(t, &cur, buf, sizeof(buf));
	buf[n] = '\0';
	CHECK(strstr(buf, " a_b_c <- ") != NULL);
	CHECK(strstr(buf, " 1 - <- START") != NULL);
	trace_free(t);
}

TEST_LIST(T(test_format), T(test_ops), T(test_empty), T(test_wrap),
	  T(test_short_reads), T(test_lost_short), T(test_two_readers),
	  T(test_name_sanitised))
