/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the calendar core: scripted events in, recorded messages
 * out.  No sockets, no FUSE.
 */
#include <errno.h>
#include <string.h>

#include "cal.h"
#include "test.h"

#define MAXREC 64

/* One fake client: what the core sent it, in order, with write batches. */
struct fake {
	struct cal_client *cc;
	struct um_timetravel_msg rec[MAXREC];
	unsigned int nrec;
	unsigned int writes;
	unsigned int start_acks;
	uint32_t seq; /* its own message seq */
};

static void rec_send(void *data, const struct um_timetravel_msg *m,
		     unsigned int n, bool start_ack)
{
	struct fake *f = data;
	unsigned int i;

	f->writes++;
	f->start_acks += start_ack;
	for (i = 0; i < n && f->nrec < MAXREC; i++)
		f->rec[f->nrec++] = m[i];
}

static const struct cal_ops rec_ops = { .send = rec_send };

/* A fake wall clock and the wake-ups asked of it, for pacing. */
static uint64_t fake_wall;
static uint64_t fake_wake = CAL_TIME_NONE;
static unsigned int kicked;

static uint64_t fake_now(void *data)
{
	(void)data;
	return fake_wall;
}

static void fake_wake_at(void *data, uint64_t when)
{
	(void)data;
	fake_wake = when;
}

static void fake_kick(void *client_data)
{
	(void)client_data;
	kicked++;
}

static const struct cal_ops wall_ops = {
	.send = rec_send, .now = fake_now, .wake = fake_wake_at,
	.kick = fake_kick,
};

static struct cal *mk(bool paused)
{
	struct cal_config cfg = { .quantum = 1000000, .tod = 1000, .paused = paused };

	return cal_new(&cfg, &rec_ops, NULL);
}

static void join(struct cal *cal, struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->cc = cal_client_new(cal, f, 1234);
}

static int say(struct cal *cal, struct fake *f, uint32_t op, uint64_t t)
{
	struct um_timetravel_msg m = { .op = op, .seq = ++f->seq, .time = t };
	const char *why = NULL;
	int r = cal_client_input(cal, f->cc, &m, &why);

	CHECK(r == 0 || why != NULL);
	return r;
}

/* ACK everything the calendar sent that is not an ACK itself. */
static void ack_all(struct cal *cal, struct fake *f)
{
	unsigned int i;

	for (i = 0; i < f->nrec; i++) {
		struct um_timetravel_msg a = { .op = UM_TIMETRAVEL_ACK };
		const char *why;

		if (f->rec[i].op == UM_TIMETRAVEL_ACK || f->rec[i].time == 0xdead)
			continue;
		a.seq = f->rec[i].seq;
		CHECK_EQ(cal_client_input(cal, f->cc, &a, &why), 0);
		f->rec[i].time = 0xdead; /* acked */
	}
}

static const struct um_timetravel_msg *last(const struct fake *f)
{
	return f->nrec ? &f->rec[f->nrec - 1] : NULL;
}

static const struct um_timetravel_msg *last_op(const struct fake *f,
					       uint32_t op)
{
	int i;

	for (i = (int)f->nrec - 1; i >= 0; i--)
		if (f->rec[i].op == op)
			return &f->rec[i];
	return NULL;
}

/* A client that starts (it must be let run at once), requests t and
 * waits. */
static void start_and_wait(struct cal *cal, struct fake *f, uint64_t id,
			   uint64_t req)
{
	join(cal, f);
	CHECK_EQ(say(cal, f, UM_TIMETRAVEL_START, id), 0);
	CHECK(cal_runner(cal) == f->cc);
	CHECK_EQ(say(cal, f, UM_TIMETRAVEL_REQUEST, req), 0);
	CHECK_EQ(say(cal, f, UM_TIMETRAVEL_WAIT, 0), 0);
}

/* a (ID 1) and b (ID 2) both started; a waits for ra, b runs. */
static struct cal *a_waits_b_runs(struct fake *a, struct fake *b,
				  uint64_t ra)
{
	struct cal *cal = mk(true);

	join(cal, a);
	join(cal, b);
	say(cal, a, UM_TIMETRAVEL_START, 1);
	say(cal, b, UM_TIMETRAVEL_START, 2);
	cal_set_run(cal, true);
	CHECK(cal_runner(cal) == a->cc);
	say(cal, a, UM_TIMETRAVEL_REQUEST, ra);
	say(cal, a, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == b->cc);
	CHECK_EQ(b->start_acks, 1);
	return cal;
}

static void test_start_ack_at_once_when_running(void)
{
	struct cal *cal = mk(false);
	struct fake a;

	join(cal, &a);
	CHECK_EQ(cal_client_state(a.cc), CAL_CLIENT_NEW);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_START, 7), 0);
	CHECK_EQ(a.start_acks, 1);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(last(&a)->seq, 1);
	CHECK_EQ(cal_client_state(a.cc), CAL_CLIENT_RUNNING);
	CHECK(cal_runner(cal) == a.cc);
	cal_free(cal);
}

static void test_start_held_while_paused(void)
{
	struct cal *cal = mk(true);
	struct fake a;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 7);
	CHECK_EQ(a.nrec, 0);
	CHECK_EQ(cal_client_state(a.cc), CAL_CLIENT_HELD);
	cal_set_run(cal, true);
	CHECK_EQ(a.start_acks, 1);
	CHECK_EQ(cal_client_state(a.cc), CAL_CLIENT_RUNNING);
	cal_free(cal);
}

static void test_held_starts_released_by_id(void)
{
	struct cal *cal = mk(true);
	struct fake a, b;

	join(cal, &a);
	join(cal, &b);
	say(cal, &a, UM_TIMETRAVEL_START, 2);
	say(cal, &b, UM_TIMETRAVEL_START, 1);
	cal_set_run(cal, true);
	CHECK_EQ(b.start_acks, 1); /* ID 1 first, though it came second */
	CHECK_EQ(a.start_acks, 0);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 256);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(a.start_acks, 1);
	CHECK(cal_runner(cal) == a.cc);
	cal_free(cal);
}

static void test_held_starts_by_id_across_clock_moves(void)
{
	struct cal *cal = mk(false);
	struct fake a, b, c;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1); /* runs */
	join(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_START, 9); /* held at clock 0 */
	say(cal, &a, UM_TIMETRAVEL_UPDATE, 1000);
	join(cal, &c);
	say(cal, &c, UM_TIMETRAVEL_START, 3); /* held at clock 1000 */
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 5000);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == c.cc); /* ID 3 before ID 9 */
	say(cal, &c, UM_TIMETRAVEL_REQUEST, 4000);
	say(cal, &c, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == b.cc);
	cal_free(cal);
}

static void test_earliest_request_runs_with_free_until(void)
{
	struct fake a, b;
	struct cal *cal = a_waits_b_runs(&a, &b, 5000);
	const struct um_timetravel_msg *fu, *run;

	say(cal, &b, UM_TIMETRAVEL_REQUEST, 300);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	/* b asked for the earliest time: FREE_UNTIL then RUN, one write */
	CHECK(b.nrec >= 2);
	if (b.nrec < 2)
		return;
	fu = &b.rec[b.nrec - 2];
	run = &b.rec[b.nrec - 1];
	CHECK_EQ(fu->op, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK_EQ(run->op, UM_TIMETRAVEL_RUN);
	CHECK_EQ(run->time, 300);
	CHECK_EQ(fu->time, 5000); /* a's request bounds it */
	CHECK_EQ(cal_clock(cal), 300);
	CHECK_EQ(cal_client_request(a.cc), 5000);
	CHECK_EQ(cal_client_request(b.cc), CAL_TIME_NONE);
	ack_all(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 9000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	run = last_op(&a, UM_TIMETRAVEL_RUN);
	CHECK(run && run->time == 5000);
	fu = last_op(&a, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK(fu && fu->time == 9000);
	cal_free(cal);
}

static void test_free_until_bounded_by_quantum(void)
{
	struct cal *cal = mk(false);
	struct fake a;

	start_and_wait(cal, &a, 1, 100);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_RUN);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time, 100 + 1000000);
	cal_free(cal);
}

static void test_ties_by_id_then_connection(void)
{
	struct cal *cal = mk(true);
	struct fake a, b, c;

	join(cal, &a);
	join(cal, &b);
	join(cal, &c);
	say(cal, &a, UM_TIMETRAVEL_START, 5);
	say(cal, &b, UM_TIMETRAVEL_START, 3);
	say(cal, &c, UM_TIMETRAVEL_START, 3);
	cal_set_run(cal, true);
	CHECK(cal_runner(cal) == b.cc);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 10);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == c.cc);
	say(cal, &c, UM_TIMETRAVEL_REQUEST, 10);
	say(cal, &c, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == a.cc);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 10);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	/* all at 10: ID 3 (b, then c by connection), then ID 5 */
	CHECK(cal_runner(cal) == b.cc);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 20);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == c.cc);
	cal_free(cal);
}

static void test_request_replaces_previous(void)
{
	struct fake a, b;
	struct cal *cal = a_waits_b_runs(&a, &b, 1000);

	say(cal, &a, UM_TIMETRAVEL_REQUEST, 700); /* a waiting client talks */
	CHECK_EQ(cal_client_request(a.cc), 700);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 900);
	CHECK_EQ(cal_client_request(a.cc), 900);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 800);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(last_op(&b, UM_TIMETRAVEL_RUN)->time, 800);
	CHECK_EQ(last_op(&b, UM_TIMETRAVEL_FREE_UNTIL)->time, 900);
	cal_free(cal);
}

static void test_late_joiner_offset(void)
{
	struct cal *cal = mk(false);
	struct fake a, b;
	const struct um_timetravel_msg *m;

	start_and_wait(cal, &a, 1, 1000000000); /* runs at 1 s */
	CHECK_EQ(cal_clock(cal), 1000000000);
	join(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_START, 2); /* held: a runs */
	CHECK_EQ(b.start_acks, 0);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 3000000000ull);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(b.start_acks, 1);
	say(cal, &b, UM_TIMETRAVEL_GET_TOD, 0);
	CHECK_EQ(last(&b)->time, 1000 + 1000000000);
	say(cal, &b, UM_TIMETRAVEL_GET, 0);
	CHECK_EQ(last(&b)->time, 0); /* its own time starts at 0 */
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 500000000);
	CHECK_EQ(cal_client_request(b.cc), 1500000000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	m = last_op(&b, UM_TIMETRAVEL_RUN);
	CHECK(m && m->time == 500000000);
	/* FREE_UNTIL in b's time: a's request at 3 s is 2 s for b, but the
	 * quantum (1 ms) is tighter */
	m = last_op(&b, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK(m && m->time == 500000000 + 1000000);
	CHECK_EQ(cal_clock(cal), 1500000000);
	cal_free(cal);
}

static void test_get_never_backwards(void)
{
	struct cal *cal = mk(false);
	struct fake a;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	say(cal, &a, UM_TIMETRAVEL_UPDATE, 500);
	CHECK_EQ(cal_clock(cal), 500);
	say(cal, &a, UM_TIMETRAVEL_GET, 0);
	CHECK_EQ(last(&a)->time, 500);
	cal_free(cal);
}

static void test_get_never_past_own_request(void)
{
	struct fake a, b;
	struct cal *cal = a_waits_b_runs(&a, &b, CAL_TIME_NONE - 1);

	/* a waits with no real request; b runs to 5000 */
	say(cal, &a, UM_TIMETRAVEL_REQUEST, UINT64_MAX); /* "never" */
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 5000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(cal_clock(cal), 5000);
	/* a, waiting, asks for 1000, then for the time: told 1000, not
	 * 5000, so that its RUN at 1000 is not behind what it was told */
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 1000);
	say(cal, &a, UM_TIMETRAVEL_GET, 0);
	CHECK_EQ(last(&a)->time, 1000);
	ack_all(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 9000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 1000);
	cal_free(cal);
}

static void test_update_past_own_request_is_error(void)
{
	struct cal *cal = mk(false);
	struct fake a;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 100);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_UPDATE, 100), 0);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_UPDATE, 101), -EPROTO);
	cal_free(cal);
}

static void test_get_after_free_run(void)
{
	struct cal *cal = mk(false);
	struct fake a;

	/* a runs at 100 with FREE_UNTIL 100 + 1 ms, runs its timers on
	 * unasked to just below that, and waits for 2 ms; paused, then an
	 * interrupt's GET: telling it 100 would send its time backwards */
	start_and_wait(cal, &a, 1, 100);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time, 1000100);
	ack_all(cal, &a);
	cal_set_run(cal, false);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 2000000);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	say(cal, &a, UM_TIMETRAVEL_GET, 0);
	CHECK_EQ(last(&a)->time, 1000100);
	/* its irq event at that time is a valid request */
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_REQUEST, 1000100), 0);
	cal_free(cal);
}

static void test_get_of_a_late_runner(void)
{
	struct fake a, b;
	struct cal *cal = a_waits_b_runs(&a, &b, 10);

	/* b runs on to 3000 and waits; a's RUN at 10 is behind the clock,
	 * but a's own time is 10: that is what its GET says */
	say(cal, &b, UM_TIMETRAVEL_UPDATE, 3000);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 900000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 10);
	say(cal, &a, UM_TIMETRAVEL_GET, 0);
	CHECK_EQ(last(&a)->time, 10);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_REQUEST, 110), 0);
	cal_free(cal);
}

static void test_expect_keeps_a_pause(void)
{
	struct cal_config cfg = { .quantum = 1000, .expect = 2 };
	struct cal *cal = cal_new(&cfg, &rec_ops, NULL);
	struct fake a, b;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	CHECK_EQ(cal_advance(cal, 500), 0); /* by hand: runs a, then */
	cal_set_run(cal, false);            /* pauses */
	join(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_START, 2); /* the count is met */
	CHECK(!cal_is_running(cal));
	CHECK_EQ(b.start_acks, 0);
	cal_free(cal);
}

static void test_update_from_waiter_ignored(void)
{
	struct cal *cal = mk(false);
	struct fake a, b;

	start_and_wait(cal, &a, 1, 1000);
	join(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_START, 2); /* held */
	/* a runs at 1000 ... */
	CHECK(cal_runner(cal) == a.cc);
	say(cal, &a, UM_TIMETRAVEL_UPDATE, 1500);
	CHECK_EQ(cal_clock(cal), 1500);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 2000);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == b.cc);
	say(cal, &a, UM_TIMETRAVEL_UPDATE, 99999); /* a waits: ignored */
	CHECK_EQ(cal_clock(cal), 1500);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_ACK);
	cal_free(cal);
}

static void test_request_behind_own_time_is_error(void)
{
	struct cal *cal = mk(false);
	struct fake a;
	const char *why = NULL;
	struct um_timetravel_msg m = { .op = UM_TIMETRAVEL_REQUEST, .time = 10 };

	start_and_wait(cal, &a, 1, 100); /* runs at 100 */
	m.seq = ++a.seq;
	CHECK_EQ(cal_client_input(cal, a.cc, &m, &why), -EPROTO);
	CHECK(why != NULL);
	cal_free(cal);
}

static void test_ack_seq_checked(void)
{
	struct cal *cal = mk(false);
	struct fake a;
	struct um_timetravel_msg m = { .op = UM_TIMETRAVEL_ACK };
	const char *why;

	start_and_wait(cal, &a, 1, 100); /* FREE_UNTIL seq 1, RUN seq 2 */
	m.seq = 2;
	CHECK_EQ(cal_client_input(cal, a.cc, &m, &why), -EPROTO);
	m.seq = 1;
	CHECK_EQ(cal_client_input(cal, a.cc, &m, &why), 0);
	m.seq = 2;
	CHECK_EQ(cal_client_input(cal, a.cc, &m, &why), 0);
	m.seq = 3; /* nothing outstanding */
	CHECK_EQ(cal_client_input(cal, a.cc, &m, &why), -EPROTO);
	cal_free(cal);
}

static void test_protocol_errors(void)
{
	struct cal *cal = mk(true);
	struct fake a, b;

	join(cal, &a);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_REQUEST, 5), -EPROTO);
	join(cal, &b);
	CHECK_EQ(say(cal, &b, 42, 5), -EPROTO);
	CHECK_EQ(say(cal, &b, UM_TIMETRAVEL_START, 1), 0);
	CHECK_EQ(say(cal, &b, UM_TIMETRAVEL_GET, 0), -EPROTO); /* held */
	cal_free(cal);
	cal = mk(false);
	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_START, 1), -EPROTO);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_RUN, 1), -EPROTO);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_WAIT, 0), -EPROTO);
	cal_free(cal);
}

static void test_advance_without_clients_jumps(void)
{
	struct cal *cal = mk(true);

	CHECK_EQ(cal_advance(cal, 5000000000ull), 0);
	CHECK_EQ(cal_clock(cal), 5000000000ull);
	CHECK(!cal_is_running(cal));
	CHECK_EQ(cal_advance(cal, 1), -EINVAL);
	CHECK_EQ(cal_clock(cal), 5000000000ull);
	CHECK_EQ(cal_advance(cal, UINT64_MAX), -EINVAL);
	cal_free(cal);
}

static void test_advance_stops_exactly(void)
{
	struct cal *cal = mk(true);
	struct fake a;
	const struct um_timetravel_msg *fu;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	CHECK_EQ(cal_advance(cal, 2500), 0);
	CHECK(cal_runner(cal) == a.cc); /* released START */
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 1000);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	fu = last_op(&a, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK(fu && fu->time == 2500); /* never past the stop point */
	CHECK_EQ(cal_clock(cal), 1000);
	CHECK(cal_is_running(cal));
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 4000);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(cal_clock(cal), 2500);
	CHECK(!cal_is_running(cal));
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(cal_client_request(a.cc), 4000);
	/* run on: a gets exactly what it asked */
	cal_set_run(cal, true);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 4000);
	cal_free(cal);
}

static void test_pause_stops_after_wait(void)
{
	struct cal *cal = mk(false);
	struct fake a;

	start_and_wait(cal, &a, 1, 100);
	CHECK(cal_runner(cal) == a.cc);
	cal_set_run(cal, false);
	CHECK(cal_runner(cal) == a.cc); /* it runs until it waits */
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 200);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(cal_clock(cal), 100);
	cal_free(cal);
}

static void test_runner_leaving_hands_turn_on(void)
{
	struct fake a, b, c;
	struct cal *cal = a_waits_b_runs(&a, &b, 100);

	join(cal, &c);
	say(cal, &c, UM_TIMETRAVEL_START, 3); /* held: b runs */
	CHECK_EQ(c.start_acks, 0);
	cal_client_free(cal, b.cc);
	CHECK(cal_runner(cal) == c.cc); /* a held START counts as "now" */
	say(cal, &c, UM_TIMETRAVEL_REQUEST, 50);
	cal_client_free(cal, c.cc);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 100);
	CHECK_EQ(cal_client_count(cal), 1);
	cal_free(cal);
}

static void test_expect(void)
{
	struct cal_config cfg = { .quantum = 1000, .expect = 2 };
	struct cal *cal = cal_new(&cfg, &rec_ops, NULL);
	struct fake a, b;

	CHECK(!cal_is_running(cal));
	join(cal, &a);
	join(cal, &b);
	say(cal, &a, UM_TIMETRAVEL_START, 9);
	CHECK_EQ(a.start_acks, 0);
	say(cal, &b, UM_TIMETRAVEL_START, 8);
	CHECK(cal_is_running(cal));
	CHECK_EQ(b.start_acks, 1);
	cal_free(cal);
}

static void test_broadcast(void)
{
	struct fake a, b, c;
	struct cal *cal = a_waits_b_runs(&a, &b, 100);

	join(cal, &c); /* no START: gets no broadcast */
	say(cal, &b, TT_OP_BROADCAST, 0xabc);
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(last(&a)->op, TT_OP_BROADCAST);
	CHECK_EQ(last(&a)->time, 0xabc);
	CHECK_EQ(c.nrec, 0);
	CHECK_EQ(cal_client_received(b.cc)[TT_OP_BROADCAST], 1);
	CHECK_EQ(cal_client_sent(a.cc)[TT_OP_BROADCAST], 1);
	/* a must ACK it like any message of ours */
	ack_all(cal, &a);
	cal_free(cal);
}

static void test_free_until_below_s64_max(void)
{
	struct cal_config cfg = { .quantum = UINT64_MAX / 2 };
	struct cal *cal = cal_new(&cfg, &rec_ops, NULL);
	struct fake a;

	start_and_wait(cal, &a, 1, 100);
	CHECK(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time <= TT_TIME_MAX);
	/* a request "forever" is never granted */
	ack_all(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, (uint64_t)INT64_MAX);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(cal_client_request(a.cc), CAL_TIME_NONE);
	cal_free(cal);
}

static void test_numbers_never_reused(void)
{
	struct cal *cal = mk(true);
	struct fake a, b;
	uint64_t n;

	join(cal, &a);
	n = cal_client_number(a.cc);
	cal_client_free(cal, a.cc);
	join(cal, &b);
	CHECK(cal_client_number(b.cc) > n);
	CHECK(cal_client_find(cal, n) == NULL);
	CHECK(cal_client_find(cal, cal_client_number(b.cc)) == b.cc);
	cal_free(cal);
}


static void test_pace_follows_wall_clock(void)
{
	struct cal_config cfg = { .quantum = 1000000000ull };
	struct cal *cal;
	struct fake a;

	fake_wall = 1000;
	cal = cal_new(&cfg, &wall_ops, NULL);
	CHECK_EQ(cal_set_pace(cal, 1.0), 0);
	CHECK_EQ(cal_set_pace(cal, -1.0), -EINVAL);
	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 500000000); /* 0.5 s */
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	/* No wall time has passed: no grant, a wake-up at 0.5 s of wall */
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(fake_wake, 1000 + 500000000 + 1);
	fake_wall += 200000000; /* 0.2 s later: early tick, still not */
	cal_tick(cal);
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(cal_clock(cal), 200000000); /* crept up with the wall */
	fake_wall = fake_wake;
	cal_tick(cal);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 500000000);
	/* FREE_UNTIL stays within a pacing step of the wall */
	CHECK(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time <= 500000000 + 10000001);
	/* 0 runs flat out again, from where the clock is */
	ack_all(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 9000000000ull);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(cal_set_pace(cal, 0), 0);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(cal_clock(cal), 9000000000ull);
	cal_free(cal);
}

static void test_pace_needs_a_wall_clock(void)
{
	struct cal *cal = mk(false);

	CHECK_EQ(cal_set_pace(cal, 1.0), -EINVAL);
	CHECK_EQ(cal_set_pace(cal, 0), 0);
	cal_free(cal);
}

static void test_freeze_and_thaw(void)
{
	struct fake a, b;
	struct cal *cal = a_waits_b_runs(&a, &b, 1000);
	const struct um_timetravel_msg *m;

	cal_client_set_frozen(cal, a.cc, true);
	CHECK(cal_client_frozen(a.cc));
	CHECK_EQ(cal_client_request(a.cc), 1000); /* still shown */
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 5000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	/* a holds nobody back: b runs past a's request */
	m = last_op(&b, UM_TIMETRAVEL_RUN);
	CHECK(m && m->time == 5000);
	m = last_op(&b, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK(m && m->time == 5000 + 1000000);
	CHECK_EQ(cal_clock(cal), 5000);
	say(cal, &a, UM_TIMETRAVEL_GET, 0); /* its time stands */
	CHECK_EQ(last(&a)->time, 0);
	ack_all(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 8000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(cal_clock(cal), 8000);
	/* thawed at 8000, frozen at 0: it lost 8000 ns, and runs now, at
	 * exactly the time it asked for, in its own time */
	cal_client_set_frozen(cal, a.cc, false);
	CHECK_EQ(cal_client_request(a.cc), 9000);
	CHECK_EQ(cal_client_offset(a.cc), 8000);
	ack_all(cal, &b);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 20000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	m = last_op(&a, UM_TIMETRAVEL_RUN);
	CHECK(m && m->time == 1000);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(cal_clock(cal), 9000);
	cal_free(cal);
}

static void test_frozen_held_start(void)
{
	struct cal *cal = mk(true);
	struct fake a;

	join(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_START, 1);
	cal_client_set_frozen(cal, a.cc, true);
	CHECK_EQ(cal_advance(cal, 3000), 0);
	CHECK_EQ(a.start_acks, 0);
	CHECK_EQ(cal_clock(cal), 3000); /* jumped: nobody holds it back */
	cal_client_set_frozen(cal, a.cc, false);
	cal_set_run(cal, true);
	CHECK_EQ(a.start_acks, 1);
	cal_free(cal);
}

static void test_waiter_bounds_free_until(void)
{
	struct cal *cal = mk(false);
	struct cal_waiter w, old;
	struct fake a;

	cal_waiter_add(cal, &w, 700);
	cal_waiter_add(cal, &old, 0); /* already reached: no bound */
	start_and_wait(cal, &a, 1, 100);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time, 700);
	cal_waiter_remove(cal, &w);
	cal_waiter_remove(cal, &old);
	ack_all(cal, &a);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 200);
	say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time, 200 + 1000000);
	cal_free(cal);
}

static void test_names(void)
{
	struct cal *cal = mk(true);
	struct fake a;

	join(cal, &a);
	CHECK(strcmp(cal_client_name(a.cc), "client-1") == 0);
	say(cal, &a, UM_TIMETRAVEL_START, 42);
	CHECK(strcmp(cal_client_name(a.cc), "id-42") == 0);
	CHECK_EQ(cal_client_set_name(a.cc, "router", 6), 0);
	CHECK(strcmp(cal_client_name(a.cc), "router") == 0);
	CHECK_EQ(cal_client_set_name(a.cc, "", 0), -EINVAL);
	CHECK_EQ(cal_client_set_name(a.cc, "a b", 3), -EINVAL);
	CHECK_EQ(cal_client_set_name(a.cc, "a/b", 3), -EINVAL);
	CHECK_EQ(cal_client_set_name(a.cc, "x\n", 2), -EINVAL);
	CHECK_EQ(cal_client_set_name(a.cc,
		"0123456789012345678901234567890123", 34), -EINVAL);
	CHECK(strcmp(cal_client_name(a.cc), "router") == 0);
	cal_free(cal);
}

static void test_stats_and_kick(void)
{
	struct cal_config cfg = { .quantum = 1000 };
	struct cal *cal = cal_new(&cfg, &wall_ops, NULL);
	struct cal_stats st;
	struct fake a;

	start_and_wait(cal, &a, 1, 100);
	cal_stats(cal, &st);
	CHECK_EQ(st.grants, 2); /* START's ACK, then RUN */
	CHECK_EQ(st.received[UM_TIMETRAVEL_REQUEST], 1);
	CHECK_EQ(st.sent[UM_TIMETRAVEL_RUN], 1);
	CHECK_EQ(st.clients_ever, 1);
	CHECK_EQ(st.clients_now, 1);
	kicked = 0;
	CHECK_EQ(cal_client_kick(cal, a.cc), 0);
	CHECK_EQ(kicked, 1);
	cal_free(cal);
	cal = mk(false);
	join(cal, &a);
	CHECK_EQ(cal_client_kick(cal, a.cc), -ENOTSUP);
	cal_free(cal);
}

TEST_LIST(T(test_start_ack_at_once_when_running),
	  T(test_start_held_while_paused),
	  T(test_held_starts_released_by_id),
	  T(test_held_starts_by_id_across_clock_moves),
	  T(test_earliest_request_runs_with_free_until),
	  T(test_free_until_bounded_by_quantum),
	  T(test_ties_by_id_then_connection),
	  T(test_request_replaces_previous),
	  T(test_late_joiner_offset),
	  T(test_get_never_backwards),
	  T(test_get_never_past_own_request),
	  T(test_update_past_own_request_is_error),
	  T(test_get_after_free_run),
	  T(test_get_of_a_late_runner),
	  T(test_expect_keeps_a_pause),
	  T(test_update_from_waiter_ignored),
	  T(test_request_behind_own_time_is_error),
	  T(test_ack_seq_checked),
	  T(test_protocol_errors),
	  T(test_advance_without_clients_jumps),
	  T(test_advance_stops_exactly),
	  T(test_pause_stops_after_wait),
	  T(test_runner_leaving_hands_turn_on),
	  T(test_expect),
	  T(test_broadcast),
	  T(test_free_until_below_s64_max),
	  T(test_numbers_never_reused),
	  T(test_pace_follows_wall_clock),
	  T(test_pace_needs_a_wall_clock),
	  T(test_freeze_and_thaw),
	  T(test_frozen_held_start),
	  T(test_waiter_bounds_free_until),
	  T(test_names),
	  T(test_stats_and_kick))
