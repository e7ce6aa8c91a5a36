/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of frame_feed: a stream of whole messages, cut anywhere,
 * comes out as the same messages in the same order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "test.h"

#define NMSG 5
#define STREAM (NMSG * TT_MSG_SIZE)

/* What fn saw; stop_at: return an error at that message (1-based). */
struct sink {
	struct um_timetravel_msg got[NMSG * 4];
	unsigned int n;
	unsigned int stop_at;
	unsigned int calls;
};

static int sink_fn(void *data, const struct um_timetravel_msg *m)
{
	struct sink *s = data;

	s->calls++;
	if (s->n < sizeof(s->got) / sizeof(s->got[0]))
		s->got[s->n++] = *m;
	if (s->stop_at && s->calls == s->stop_at)
		return -EPROTO;
	return 0;
}

/* N distinct messages as one byte stream (+1: unaligned copies). */
static unsigned char stream_buf[STREAM + 1];
static unsigned char *stream = stream_buf + 1;
static struct um_timetravel_msg msgs[NMSG];

static void mk_stream(void)
{
	unsigned int i;

	for (i = 0; i < NMSG; i++) {
		msgs[i].op = i % 9;
		msgs[i].seq = 100 + i;
		msgs[i].time = 0x0102030405060708ull * (i + 1);
		memcpy(stream + i * TT_MSG_SIZE, &msgs[i], TT_MSG_SIZE);
	}
}

static int same(const struct um_timetravel_msg *a,
		const struct um_timetravel_msg *b)
{
	return a->op == b->op && a->seq == b->seq && a->time == b->time;
}

static void check_all(const struct sink *s, unsigned int n)
{
	unsigned int i;

	CHECK_EQ(s->n, n);
	for (i = 0; i < n && i < s->n; i++)
		CHECK(same(&s->got[i], &msgs[i]));
}

static void test_whole_stream(void)
{
	struct frame f = { .len = 0 };
	struct sink s = { .n = 0 };

	mk_stream();
	CHECK_EQ(frame_feed(&f, stream, STREAM, sink_fn, &s), 0);
	check_all(&s, NMSG);
	CHECK(!frame_partial(&f));
}

static void test_empty_feed(void)
{
	struct frame f = { .len = 0 };
	struct sink s = { .n = 0 };

	mk_stream();
	CHECK_EQ(frame_feed(&f, stream, 0, sink_fn, &s), 0);
	CHECK_EQ(s.n, 0);
	CHECK(!frame_partial(&f));
	/* An empty feed in the middle of a message keeps the part. */
	CHECK_EQ(frame_feed(&f, stream, 3, sink_fn, &s), 0);
	CHECK_EQ(frame_feed(&f, stream + 3, 0, sink_fn, &s), 0);
	CHECK(frame_partial(&f));
	CHECK_EQ(frame_feed(&f, stream + 3, TT_MSG_SIZE - 3, sink_fn, &s), 0);
	CHECK_EQ(s.n, 1);
	CHECK(same(&s.got[0], &msgs[0]));
	CHECK(!frame_partial(&f));
}

/* One split at every point, then two splits at every pair of points. */
static void test_every_split(void)
{
	size_t a, b;

	mk_stream();
	for (a = 0; a <= STREAM; a++) {
		struct frame f = { .len = 0 };
		struct sink s = { .n = 0 };

		CHECK_EQ(frame_feed(&f, stream, a, sink_fn, &s), 0);
		CHECK_EQ(s.n, a / TT_MSG_SIZE);
		CHECK(frame_partial(&f) == (a % TT_MSG_SIZE != 0));
		CHECK_EQ(frame_feed(&f, stream + a, STREAM - a, sink_fn, &s), 0);
		check_all(&s, NMSG);
		CHECK(!frame_partial(&f));
	}
	for (a = 0; a <= STREAM; a++) {
		for (b = a; b <= STREAM; b++) {
			struct frame f = { .len = 0 };
			struct sink s = { .n = 0 };

			CHECK_EQ(frame_feed(&f, stream, a, sink_fn, &s), 0);
			CHECK_EQ(frame_feed(&f, stream + a, b - a, sink_fn, &s),
				 0);
			CHECK_EQ(s.n, b / TT_MSG_SIZE);
			CHECK(frame_partial(&f) == (b % TT_MSG_SIZE != 0));
			CHECK_EQ(frame_feed(&f, stream + b, STREAM - b, sink_fn,
					    &s), 0);
			check_all(&s, NMSG);
			CHECK(!frame_partial(&f));
		}
	}
}

/* Random chunks, byte-by-byte included, with a fixed seed. */
static void test_random_chunks(void)
{
	unsigned int round;

	mk_stream();
	srand(12345);
	for (round = 0; round < 2000; round++) {
		struct frame f = { .len = 0 };
		struct sink s = { .n = 0 };
		size_t off = 0;

		while (off < STREAM) {
			size_t n = (size_t)rand() % (round % 3 == 0 ? 2 : 40);

			if (n > STREAM - off)
				n = STREAM - off;
			CHECK_EQ(frame_feed(&f, stream + off, n, sink_fn, &s), 0);
			off += n;
			CHECK_EQ(s.n, off / TT_MSG_SIZE);
			CHECK(frame_partial(&f) == (off % TT_MSG_SIZE != 0));
		}
		check_all(&s, NMSG);
	}
}

/* fn stopping with an error: its value comes back, nothing after that
 * message is delivered from this feed, at every split point and for
 * every message it may stop at. */
static void test_stop_drops_rest(void)
{
	size_t a;
	unsigned int k;

	mk_stream();
	for (k = 1; k <= NMSG; k++) {
		for (a = 0; a <= STREAM; a++) {
			struct frame f = { .len = 0 };
			struct sink s = { .stop_at = k };
			int r1, r2 = 0;

			r1 = frame_feed(&f, stream, a, sink_fn, &s);
			if (r1 == 0)
				r2 = frame_feed(&f, stream + a, STREAM - a,
						sink_fn, &s);
			/* It stopped exactly once, at message k. */
			CHECK_EQ(s.calls, k);
			check_all(&s, k);
			CHECK(r1 == -EPROTO || r2 == -EPROTO);
			CHECK(!(r1 < 0 && r2 < 0));
			/* Stopped in the first feed iff k whole messages
			 * were in it. */
			CHECK((r1 < 0) == (a >= k * TT_MSG_SIZE));
		}
	}
}

/* A stop at a message completed from the kept part. */
static void test_stop_on_completed_part(void)
{
	struct frame f = { .len = 0 };
	struct sink s = { .stop_at = 1 };

	mk_stream();
	CHECK_EQ(frame_feed(&f, stream, 7, sink_fn, &s), 0);
	CHECK_EQ(s.calls, 0);
	CHECK_EQ(frame_feed(&f, stream + 7, STREAM - 7, sink_fn, &s), -EPROTO);
	CHECK_EQ(s.calls, 1);
	check_all(&s, 1);
}

static void test_partial(void)
{
	struct frame f = { .len = 0 };
	struct sink s = { .n = 0 };
	size_t i;

	mk_stream();
	CHECK(!frame_partial(&f));
	for (i = 0; i < TT_MSG_SIZE - 1; i++) {
		CHECK_EQ(frame_feed(&f, stream + i, 1, sink_fn, &s), 0);
		CHECK(frame_partial(&f));
		CHECK_EQ(s.n, 0);
	}
	CHECK_EQ(frame_feed(&f, stream + i, 1, sink_fn, &s), 0);
	CHECK(!frame_partial(&f));
	CHECK_EQ(s.n, 1);
	CHECK(same(&s.got[0], &msgs[0]));
	/* A message and a half leave half a message. */
	CHECK_EQ(frame_feed(&f, stream + TT_MSG_SIZE, TT_MSG_SIZE + 8, sink_fn,
			    &s), 0);
	CHECK(frame_partial(&f));
	CHECK_EQ(f.len, 8);
	CHECK_EQ(s.n, 2);
}

TEST_LIST(T(test_whole_stream),
	  T(test_empty_feed),
	  T(test_every_split),
	  T(test_random_chunks),
	  T(test_stop_drops_rest),
	  T(test_stop_on_completed_part),
	  T(test_partial))
