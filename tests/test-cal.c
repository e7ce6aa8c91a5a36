/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the calendar core: scripted events in, recorded messages
 * out.  No sockets, no FUSE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cal.h"
#include "shm.h"
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
	unsigned int last_n; /* messages in the last write */

	/* A model of a UML kernel (see the shared-memory tests below):
	 * k612 maps the page on START's ACK, as Linux >= 6.11 does. */
	bool model;     /* check every RUN against what it asked */
	bool k612;
	bool shm;       /* it mapped the page and set TIME_SHARE */
	uint16_t slot;  /* the ID from START's ACK */
	uint64_t off;   /* the page's current_time when it mapped it */
	uint64_t own;   /* its own time */
	uint64_t want;  /* its pending request, own time (or NONE) */
	unsigned int runs;
};

/* The page the shared-memory tests' calendar has, or NULL. */
static unsigned char *shm_mem;

static struct tt_shm_hdr *pg(void)
{
	return (struct tt_shm_hdr *)shm_mem;
}

static struct tt_shm_slot *pslot(unsigned int i)
{
	return (struct tt_shm_slot *)(shm_mem + TT_SHM_HDR_SIZE +
				      (size_t)i * TT_SHM_SLOT_SIZE);
}

/* What a kernel does as each message arrives (arch/um/kernel/time.c). */
static void model_recv(struct fake *f, const struct um_timetravel_msg *m,
		       unsigned int n, unsigned int i, bool start_ack)
{
	if (start_ack && i == 0) {
		/* time_travel_setup_shm(): a zero page (no slot) declines */
		f->slot = (uint16_t)(m->time & TT_START_ACK_ID);
		f->own = 0;
		f->want = CAL_TIME_NONE;
		if (f->k612 && shm_mem && f->slot &&
		    pg()->version == TT_SHM_VERSION &&
		    pg()->len >= shm_size(f->slot + 1u)) {
			f->shm = true;
			f->off = pg()->current_time;
			pslot(f->slot)->capa |= TT_SHM_CAP_TIME_SHARE;
		}
		return;
	}
	if (m->op == UM_TIMETRAVEL_FREE_UNTIL)
		CHECK(!f->shm); /* pointless: the kernel reads the page */
	if (m->op != UM_TIMETRAVEL_RUN)
		return;
	if (f->shm) {
		/* No FREE_UNTIL with it, and its REQ_RUN goes. */
		CHECK_EQ(n, 1);
		pslot(f->slot)->flags &= ~TT_SHM_FLAGS_REQ_RUN;
	}
	if (f->model) {
		/* Exactly what it asked for, never backwards. */
		CHECK_EQ(m->time, f->want);
		CHECK(m->time >= f->own);
		f->own = m->time;
		f->want = CAL_TIME_NONE;
	}
	f->runs++;
}

static void rec_send(void *data, const struct um_timetravel_msg *m,
		     unsigned int n, bool start_ack)
{
	struct fake *f = data;
	unsigned int i;

	f->writes++;
	f->start_acks += start_ack;
	f->last_n = n;
	for (i = 0; i < n; i++)
		model_recv(f, &m[i], n, i, start_ack);
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
	/* b, running freely, is told to stop there (not below its own
	 * time); a's answers wait for b's ACK of that */
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK_EQ(last(&b)->time, 5000);
	say(cal, &a, UM_TIMETRAVEL_GET, 0);
	ack_all(cal, &b);
	CHECK_EQ(a.rec[a.nrec - 2].op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(last(&a)->time, 1000);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 9000);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 1000);
	cal_free(cal);
}

/* b runs from 300, free until a's request at 900000; a then asks for
 * 400 (an interrupt, while it waits). */
static struct cal *b_runs_free_a_asks(struct fake *a, struct fake *b)
{
	struct cal *cal = a_waits_b_runs(a, b, 900000);

	say(cal, b, UM_TIMETRAVEL_REQUEST, 300);
	say(cal, b, UM_TIMETRAVEL_WAIT, 0);
	CHECK_EQ(last_op(b, UM_TIMETRAVEL_RUN)->time, 300);
	CHECK_EQ(last_op(b, UM_TIMETRAVEL_FREE_UNTIL)->time, 900000);
	ack_all(cal, b);
	return cal;
}

/* The wmediumd panic (issue 15): a runner free until a later time must
 * hear at once of a request below it, before the requester's ACK. */
static void test_request_lowers_runner_free_until(void)
{
	struct fake a, b;
	struct cal *cal = b_runs_free_a_asks(&a, &b);
	unsigned int n = a.nrec, nb = b.nrec;
	uint32_t req_seq;

	say(cal, &a, UM_TIMETRAVEL_REQUEST, 400);
	req_seq = a.seq;
	CHECK_EQ(b.nrec, nb + 1);
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK_EQ(last(&b)->time, 400);
	CHECK_EQ(a.nrec, n); /* its ACK waits for b's */
	/* b had not read it yet: its own exchange goes on as ever */
	say(cal, &b, UM_TIMETRAVEL_UPDATE, 350);
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(a.nrec, n);
	say(cal, &a, UM_TIMETRAVEL_GET, 0); /* kept behind, in order */
	CHECK_EQ(a.nrec, n);
	ack_all(cal, &b);
	CHECK_EQ(a.nrec, n + 2);
	CHECK_EQ(a.rec[n].op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(a.rec[n].seq, req_seq);
	CHECK_EQ(a.rec[n + 1].seq, req_seq + 1);
	CHECK_EQ(a.rec[n + 1].time, 350);
	/* b read it: it asks for its next event and waits; a runs at 400 */
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 500);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_RUN)->time, 400);
	CHECK_EQ(last_op(&a, UM_TIMETRAVEL_FREE_UNTIL)->time, 500);
	/* a request not below what the runner was told needs no word */
	nb = b.nrec;
	n = a.nrec;
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 450);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK_EQ(last(&a)->time, 450);
	ack_all(cal, &a);
	CHECK_EQ(b.nrec, nb + 1);
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 480);
	CHECK_EQ(a.nrec, n + 1); /* only the one FREE_UNTIL */
	CHECK_EQ(b.nrec, nb + 2);
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_ACK);
	cal_free(cal);
}

/* Never below the runner's own time (a USFSTL client asserts it). */
static void test_runner_bound_not_below_its_time(void)
{
	struct fake a, b;
	struct cal *cal = b_runs_free_a_asks(&a, &b);

	say(cal, &b, UM_TIMETRAVEL_UPDATE, 600);
	say(cal, &a, UM_TIMETRAVEL_REQUEST, 450);
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK_EQ(last(&b)->time, 600);
	cal_free(cal);
}

/* The runner waits before it reads the bound, or leaves: the held ACKs
 * go out before anyone runs. */
static void test_held_ack_released_by_wait_and_leave(void)
{
	struct fake a, b;
	struct cal *cal = b_runs_free_a_asks(&a, &b);
	unsigned int n = a.nrec;

	say(cal, &a, UM_TIMETRAVEL_REQUEST, 400);
	CHECK_EQ(a.nrec, n);
	say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
	CHECK(a.nrec >= n + 2);
	CHECK_EQ(a.rec[n].op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_RUN);
	CHECK_EQ(last(&a)->time, 400);
	ack_all(cal, &b); /* its late ACK of the FREE_UNTIL is taken */
	ack_all(cal, &a);
	/* now b, waiting, asks below a's bound, and a leaves */
	n = b.nrec;
	say(cal, &b, UM_TIMETRAVEL_REQUEST, 450);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK_EQ(b.nrec, n);
	cal_client_free(cal, a.cc);
	CHECK_EQ(b.rec[n].op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(last(&b)->op, UM_TIMETRAVEL_RUN);
	CHECK_EQ(last(&b)->time, 450);
	cal_free(cal);
}

/* The runner ACKs the lowered bound before it says anything else: it
 * read it in a wait, at its reported time, and cannot have gone past
 * it; a GET after its WAIT is not raised past it (else it jumps ahead of
 * the others: wmediumd was told 150 ms at 142 ms).  Said something
 * first, it may have run on: the old bound stands. */
static void test_runner_reach_after_lowered_bound(void)
{
	for (int quiet = 0; quiet < 2; quiet++) {
		struct fake a, b;
		struct cal *cal = b_runs_free_a_asks(&a, &b);

		say(cal, &a, UM_TIMETRAVEL_REQUEST, 400);
		if (!quiet)
			say(cal, &b, UM_TIMETRAVEL_UPDATE, 350);
		ack_all(cal, &b);
		say(cal, &b, UM_TIMETRAVEL_REQUEST, 500);
		say(cal, &b, UM_TIMETRAVEL_WAIT, 0);
		CHECK(cal_runner(cal) == a.cc);
		CHECK_EQ(cal_clock(cal), 400);
		say(cal, &b, UM_TIMETRAVEL_GET, 0);
		CHECK_EQ(last(&b)->time, quiet ? 400 : 500);
		cal_free(cal);
	}
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

/* ---- Shared-memory scheduling (Linux >= 6.11 clients) ----
 *
 * The page comes from the heap, zero-filled; the fakes with k612 set act
 * as a 6.12 kernel does: on START's ACK they map the page and set
 * TIME_SHARE in their slot (model_recv), they write their requests into
 * the slot while running_id names a TIME_SHARE slot (else send REQUEST),
 * write current_time while they run, send WAIT without waiting for an
 * ACK, and do not ACK RUN.
 */

static struct cal *mk_shm(bool paused, unsigned int nslots)
{
	struct cal *cal = mk(paused);
	size_t len = shm_size(nslots);

	shm_mem = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
	CHECK(shm_mem != NULL);
	memset(shm_mem, 0, len);
	CHECK_EQ(cal_shm_attach(cal, shm_mem, len), 0);
	return cal;
}

static void free_shm(struct cal *cal)
{
	cal_free(cal);
	free(shm_mem);
	shm_mem = NULL;
}

/* A kernel joins (6.12 if k612, else 6.1) and sends START. */
static void kjoin(struct cal *cal, struct fake *f, bool k612, uint64_t id)
{
	join(cal, f);
	f->model = true;
	f->k612 = k612;
	f->want = CAL_TIME_NONE;
	CHECK_EQ(say(cal, f, UM_TIMETRAVEL_START, id), 0);
}

/* time_travel_ext_update_request(): own time t. */
static int kreq(struct cal *cal, struct fake *f, uint64_t t)
{
	f->want = t;
	if (f->shm) {
		uint16_t r = pg()->running_id;

		CHECK(r < pg()->max_clients);
		if (r < pg()->max_clients &&
		    (pslot(r)->capa & TT_SHM_CAP_TIME_SHARE)) {
			pslot(f->slot)->flags |= TT_SHM_FLAGS_REQ_RUN;
			pslot(f->slot)->req_time = t + f->off;
			if (t + f->off < pg()->free_until)
				pg()->free_until = t + f->off;
			return 0;
		}
	}
	return say(cal, f, UM_TIMETRAVEL_REQUEST, t);
}

/* __time_travel_propagate_time() of a shm runner: own time t. */
static void kprop(struct fake *f, uint64_t t)
{
	CHECK(f->shm);
	CHECK_EQ(pg()->running_id, f->slot); /* else the kernel panics */
	CHECK(t + f->off < pg()->free_until);
	pg()->current_time = t + f->off;
	f->own = t;
}

/* ACK what needs one: all but ACKs, and RUN to a shm client. */
static void kack(struct cal *cal, struct fake *f)
{
	unsigned int i;

	for (i = 0; i < f->nrec; i++) {
		struct um_timetravel_msg a = { .op = UM_TIMETRAVEL_ACK };
		const char *why;

		if (f->rec[i].op == UM_TIMETRAVEL_ACK ||
		    (f->shm && f->rec[i].op == UM_TIMETRAVEL_RUN) ||
		    f->rec[i].seq == 0xdead)
			continue;
		a.seq = f->rec[i].seq;
		CHECK_EQ(cal_client_input(cal, f->cc, &a, &why), 0);
		f->rec[i].seq = 0xdead; /* acked */
	}
}

/* ACK one message by its seq, as the kernel does when it reads it. */
static int kack_seq(struct cal *cal, struct fake *f, uint32_t seq)
{
	struct um_timetravel_msg a = { .op = UM_TIMETRAVEL_ACK, .seq = seq };
	const char *why;
	unsigned int i;

	for (i = 0; i < f->nrec; i++)
		if (f->rec[i].op != UM_TIMETRAVEL_ACK && f->rec[i].seq == seq)
			f->rec[i].seq = 0xdead;
	return cal_client_input(cal, f->cc, &a, &why);
}

/* WAIT: a shm client gets no ACK for it. */
static void kwait(struct cal *cal, struct fake *f)
{
	unsigned int before = f->nrec, i;

	kack(cal, f);
	CHECK_EQ(say(cal, f, UM_TIMETRAVEL_WAIT, UINT64_MAX), 0);
	for (i = before; i < f->nrec; i++)
		if (f->rec[i].op == UM_TIMETRAVEL_ACK)
			CHECK(!f->shm);
}

/* Boot: GET_TOD, its first message after START's ACK, decides its mode. */
static void kboot(struct cal *cal, struct fake *f)
{
	CHECK_EQ(say(cal, f, UM_TIMETRAVEL_GET_TOD, UINT64_MAX), 0);
	CHECK_EQ(last(f)->op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(cal_client_shm(f->cc), f->shm);
}

static unsigned int count_op(const struct fake *f, uint32_t op)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->nrec; i++)
		n += f->rec[i].op == op;
	return n;
}

static void test_shm_attach(void)
{
	struct cal *cal = mk(false);
	unsigned char *mem = aligned_alloc(4096, 8192);

	CHECK(mem != NULL);
	memset(mem, 0, 8192);
	CHECK_EQ(cal_shm_attach(cal, mem, 4096), -EINVAL);
	CHECK_EQ(cal_shm_attach(cal, mem, shm_size(2) - 1), -EINVAL);
	CHECK_EQ(cal_shm_attach(cal, mem, 8192), 0);
	CHECK_EQ(cal_shm_attach(cal, mem, 8192), -EBUSY);
	CHECK_EQ(((struct tt_shm_hdr *)mem)->version, TT_SHM_VERSION);
	CHECK_EQ(((struct tt_shm_hdr *)mem)->max_clients, 32);
	cal_shm_detach(cal);
	cal_shm_detach(cal); /* twice is harmless */
	cal_free(cal);
	free(mem);
}

static void test_shm_start_ack_gives_slot(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake a;
	struct cal_stats st;

	kjoin(cal, &a, true, 7);
	CHECK_EQ(a.start_acks, 1);
	CHECK_EQ(a.nrec, 1);
	CHECK_EQ(a.rec[0].op, UM_TIMETRAVEL_ACK);
	CHECK_EQ(a.rec[0].seq, 1);
	CHECK_EQ(a.rec[0].time, 1); /* its slot */
	CHECK_EQ(cal_client_slot(a.cc), 1);
	CHECK(!cal_client_shm(a.cc)); /* not known before it says more */
	/* Named running before it heard it runs, with the clock and how far
	 * it may go. */
	CHECK_EQ(pg()->running_id, 1);
	CHECK_EQ(pg()->current_time, 0);
	CHECK_EQ(pg()->free_until, 1000000);
	CHECK_EQ(pslot(1)->name, 7);
	CHECK(a.shm);
	CHECK_EQ(a.off, 0);
	kboot(cal, &a);
	CHECK(cal_client_shm(a.cc));
	CHECK_EQ(cal_client_slot(a.cc), 1);
	cal_stats(cal, &st);
	CHECK_EQ(st.shm_clients, 1);
	CHECK_EQ(st.grants, 1);
	/* It runs on by itself, within free_until: the clock follows. */
	kprop(&a, 400000);
	CHECK_EQ(cal_clock(cal), 400000);
	free_shm(cal);
}

static void test_shm_mode_decided_at_first_message(void)
{
	struct cal *cal = mk_shm(true, 8);
	struct fake a, b, c, d;
	struct cal_stats st;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, false, 2); /* a 6.1 kernel: never maps the page */
	cal_set_run(cal, true);
	CHECK_EQ(a.start_acks, 1);
	CHECK_EQ(a.rec[0].time, 1);
	kboot(cal, &a);
	CHECK(cal_client_shm(a.cc));
	CHECK_EQ(kreq(cal, &a, 2000000), 0);
	kwait(cal, &a);
	CHECK_EQ(b.start_acks, 1);
	CHECK_EQ(b.rec[0].time, 2);
	CHECK_EQ(pg()->running_id, 2); /* until it tells its mode */
	kboot(cal, &b);
	/* No TIME_SHARE: messages, its slot given up, slot 0 names it. */
	CHECK(!cal_client_shm(b.cc));
	CHECK_EQ(cal_client_slot(b.cc), 0);
	CHECK_EQ(pg()->running_id, 0);
	CHECK_EQ(pslot(0)->capa, 0);
	cal_stats(cal, &st);
	CHECK_EQ(st.shm_clients, 1);
	/* The next START's ACK right after: slot 2 is quarantined. */
	kjoin(cal, &c, true, 3); /* held: b runs */
	CHECK_EQ(kreq(cal, &b, 500000), 0);
	kwait(cal, &b);
	CHECK_EQ(c.start_acks, 1);
	CHECK_EQ(c.rec[0].time, 3);
	kboot(cal, &c);
	CHECK(cal_client_shm(c.cc));
	CHECK_EQ(kreq(cal, &c, 3000000), 0);
	kwait(cal, &c);
	CHECK_EQ(b.runs, 1); /* b at 500000 */
	CHECK_EQ(pg()->running_id, 0);
	/* A later grant has passed: slot 2 comes back, cleared. */
	pslot(2)->flags = TT_SHM_FLAGS_REQ_RUN;
	pslot(2)->req_time = 1;
	kjoin(cal, &d, true, 4);
	CHECK_EQ(kreq(cal, &b, 4000000), 0);
	kwait(cal, &b);
	CHECK_EQ(d.start_acks, 1);
	CHECK_EQ(d.rec[0].time, 2);
	CHECK_EQ(cal_client_slot(d.cc), 2);
	CHECK_EQ(pslot(2)->name, 4);
	CHECK_EQ(pslot(2)->flags, 0);
	CHECK_EQ(pslot(2)->req_time, 0);
	CHECK_EQ(d.off, cal_client_offset(d.cc));
	kboot(cal, &d);
	CHECK(cal_client_shm(d.cc));
	cal_stats(cal, &st);
	CHECK_EQ(st.shm_clients, 3);
	free_shm(cal);
}

static void test_shm_wait_gets_no_ack_and_exact_run(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake a;
	struct cal_stats st;
	unsigned int n;

	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	/* It runs itself: its request goes into its slot. */
	CHECK_EQ(kreq(cal, &a, 2500000), 0);
	CHECK_EQ(pslot(1)->flags, TT_SHM_FLAGS_REQ_RUN);
	CHECK_EQ(pslot(1)->req_time, 2500000);
	CHECK_EQ(cal_client_request(a.cc), CAL_TIME_NONE); /* it runs */
	n = a.nrec;
	kwait(cal, &a);
	/* Only RUN, alone in its write, exactly at its request. */
	CHECK_EQ(a.nrec, n + 1);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_RUN);
	CHECK_EQ(last(&a)->time, 2500000);
	CHECK_EQ(a.last_n, 1);
	CHECK_EQ(count_op(&a, UM_TIMETRAVEL_FREE_UNTIL), 0);
	CHECK_EQ(a.runs, 1);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(cal_clock(cal), 2500000);
	CHECK_EQ(pg()->running_id, 1);
	CHECK_EQ(pg()->current_time, 2500000);
	CHECK_EQ(pg()->free_until, 3500000);
	CHECK_EQ(pslot(1)->flags & TT_SHM_FLAGS_REQ_RUN, 0);
	CHECK_EQ(cal_client_shm_requests(a.cc), 1);
	cal_stats(cal, &st);
	CHECK_EQ(st.shm_requests, 1);
	CHECK_EQ(st.sent[UM_TIMETRAVEL_RUN], 1);
	CHECK_EQ(st.sent[UM_TIMETRAVEL_FREE_UNTIL], 0);
	CHECK_EQ(st.received[UM_TIMETRAVEL_WAIT], 1);
	/* RUN needs no ACK: an ACK for it is one too many. */
	{
		struct um_timetravel_msg m = {
			.op = UM_TIMETRAVEL_ACK, .seq = last(&a)->seq,
		};
		const char *why;

		CHECK_EQ(cal_client_input(cal, a.cc, &m, &why), -EPROTO);
	}
	free_shm(cal);
	cal = mk_shm(false, 4);
	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	/* It ran on, then waits for 7 ms. */
	kprop(&a, 300000);
	CHECK_EQ(kreq(cal, &a, 7000000), 0);
	kprop(&a, 900000);
	kwait(cal, &a);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(last(&a)->time, 7000000);
	CHECK_EQ(cal_clock(cal), 7000000);
	/* Several rounds: the core never needs an ACK. */
	for (n = 0; n < 10; n++) {
		kprop(&a, 7000000 + n * 1000000 + 5);
		CHECK_EQ(kreq(cal, &a, 8000000 + n * 1000000), 0);
		kwait(cal, &a);
	}
	CHECK_EQ(a.runs, 11);
	CHECK_EQ(a.own, 17000000);
	CHECK_EQ(cal_client_received(a.cc)[UM_TIMETRAVEL_ACK], 0);
	free_shm(cal);
}

static void test_shm_late_joiner(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake m, b;

	kjoin(cal, &m, false, 1);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000000), 0);
	kwait(cal, &m);
	CHECK_EQ(m.runs, 1);
	CHECK_EQ(cal_clock(cal), 1000000000);
	CHECK_EQ(pg()->current_time, 1000000000);
	kjoin(cal, &b, true, 2); /* held: m runs */
	CHECK_EQ(b.start_acks, 0);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 3000000000ull), 0);
	kwait(cal, &m);
	CHECK_EQ(b.start_acks, 1);
	/* Its time 0 is the page's current_time when it mapped it. */
	CHECK(b.shm);
	CHECK_EQ(b.off, 1000000000);
	CHECK_EQ(cal_client_offset(b.cc), 1000000000);
	kboot(cal, &b);
	CHECK_EQ(last(&b)->time, 1000 + 1000000000); /* GET_TOD */
	CHECK_EQ(kreq(cal, &b, 500000000), 0);
	CHECK_EQ(pslot(b.slot)->req_time, 1500000000);
	kwait(cal, &b);
	/* RUN in its own time, exactly. */
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(last(&b)->time, 500000000);
	CHECK_EQ(cal_clock(cal), 1500000000);
	CHECK_EQ(pg()->current_time, 1500000000);
	kprop(&b, 500000100);
	CHECK_EQ(cal_clock(cal), 1500000100);
	/* m's request bounds it: 3 s is 2 s for b; the quantum first */
	CHECK_EQ(pg()->free_until, 1501000000);
	free_shm(cal);
}

static void test_shm_mixed_alternate(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;
	const struct um_timetravel_msg *fu;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	CHECK_EQ(pg()->running_id, 0);
	CHECK_EQ(kreq(cal, &m, 1000000), 0);
	kwait(cal, &m);
	/* m first, with a FREE_UNTIL; slot 0 named while it runs */
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(m.runs, 1);
	fu = last_op(&m, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK(fu && fu->time == 2000000);
	CHECK_EQ(pg()->running_id, 0);
	CHECK_EQ(pg()->current_time, 1000000);
	/* a interrupted while m runs: slot 0 has no TIME_SHARE, so a sends
	 * REQUEST, which lowers m's FREE_UNTIL, and gets its ACK once m
	 * has read that */
	{
		unsigned int n = a.nrec;

		CHECK_EQ(kreq(cal, &a, 1200000), 0);
		CHECK_EQ(a.nrec, n);
		CHECK_EQ(last(&m)->op, UM_TIMETRAVEL_FREE_UNTIL);
		CHECK_EQ(last(&m)->time, 1200000);
		CHECK_EQ(pslot(1)->flags & TT_SHM_FLAGS_REQ_RUN, 0);
		kack(cal, &m);
		CHECK_EQ(a.nrec, n + 1);
		CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_ACK);
	}
	CHECK_EQ(cal_client_request(a.cc), 1200000);
	CHECK_EQ(say(cal, &m, UM_TIMETRAVEL_UPDATE, 1100000), 0);
	CHECK_EQ(pg()->current_time, 1100000);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	/* a, without FREE_UNTIL, named on the page */
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(last(&a)->time, 1200000);
	CHECK_EQ(pg()->running_id, 1);
	CHECK_EQ(pg()->free_until, 2200000);
	kprop(&a, 2000000);
	CHECK_EQ(kreq(cal, &a, 4000000), 0); /* into its slot */
	kwait(cal, &a);
	CHECK_EQ(a.runs, 2);
	CHECK_EQ(last(&a)->time, 4000000);
	CHECK_EQ(kreq(cal, &a, 6000000), 0);
	kwait(cal, &a);
	/* m at 5 ms, bounded by a's request at 6 */
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(m.runs, 2);
	CHECK_EQ(pg()->running_id, 0);
	fu = last_op(&m, UM_TIMETRAVEL_FREE_UNTIL);
	CHECK(fu && fu->time == 6000000);
	CHECK_EQ(pg()->free_until, 6000000);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 6000000), 0);
	kwait(cal, &m);
	/* tie at 6 ms: ID 1 first */
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 3);
	CHECK_EQ(kreq(cal, &a, 9000000), 0);
	kwait(cal, &a);
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(m.runs, 3);
	CHECK_EQ(cal_clock(cal), 6000000);
	free_shm(cal);
}

/* A message-mode runner that went past a shared-memory client's request
 * unasked (it read the lower bound too late) moves the clock, but the
 * page shows that client no time past its request: its RUN would go
 * backwards (the wmediumd panic, issue 15). */
static void test_shm_page_time_not_past_a_request(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(kreq(cal, &a, 1200000), 0); /* held: m must read its bound */
	CHECK_EQ(say(cal, &m, UM_TIMETRAVEL_UPDATE, 1500000), 0);
	CHECK_EQ(cal_clock(cal), 1500000);
	CHECK_EQ(pg()->current_time, 1200000);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(last(&a)->time, 1200000);
	free_shm(cal);
}

/* A 6.11+ client that declined the page got no FREE_UNTIL with START's
 * ACK: it ran nowhere unasked, and its GET is the others' time, not the
 * page's bound (wmediumd's first GET jumped to the quantum). */
static void test_shm_declined_client_get_not_raised(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;

	kjoin(cal, &m, false, 1);
	cal_set_run(cal, true); /* m alone: the page's bound is the quantum */
	kboot(cal, &m);
	CHECK(!cal_client_shm(m.cc));
	kjoin(cal, &a, true, 2);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	kboot(cal, &a);
	kprop(&a, 100);
	CHECK_EQ(say(cal, &m, UM_TIMETRAVEL_GET, 0), 0);
	CHECK_EQ(last(&m)->time, 100);
	free_shm(cal);
}

static void test_shm_message_request_lowers_free_until(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;
	struct cal_waiter w;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 5000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 9000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(pg()->free_until, 6000000); /* the quantum */
	/* m, waiting, is interrupted: a must stop there */
	CHECK_EQ(kreq(cal, &m, 5500000), 0);
	CHECK_EQ(pg()->free_until, 5500000);
	/* a later one never raises it */
	CHECK_EQ(kreq(cal, &m, 7000000), 0);
	CHECK_EQ(pg()->free_until, 5500000);
	/* an until/ reader and a stop point lower it too */
	cal_waiter_add(cal, &w, 5200000);
	CHECK_EQ(pg()->free_until, 5200000);
	CHECK_EQ(cal_advance(cal, 5100000), 0);
	CHECK_EQ(pg()->free_until, 5100000);
	cal_set_run(cal, true);
	cal_waiter_remove(cal, &w);
	kprop(&a, 5050000);
	CHECK_EQ(kreq(cal, &a, 8000000), 0);
	kwait(cal, &a);
	/* m's latest request, bounded by a's */
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(m.runs, 1);
	CHECK_EQ(last_op(&m, UM_TIMETRAVEL_RUN)->time, 7000000);
	CHECK_EQ(last_op(&m, UM_TIMETRAVEL_FREE_UNTIL)->time, 8000000);
	free_shm(cal);
}

static void test_shm_message_request_clears_slot(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, b, m;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	kjoin(cal, &m, false, 3);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 2000000), 0);
	kwait(cal, &a);
	kboot(cal, &b);
	/* m's START is due now: b may not run on by itself */
	CHECK_EQ(pg()->free_until, 0);
	/* a, waiting, interrupted while b (shm) runs: into its slot */
	CHECK_EQ(kreq(cal, &a, 1500000), 0);
	CHECK_EQ(pslot(1)->req_time, 1500000);
	CHECK_EQ(cal_client_request(a.cc), 1500000); /* read off its slot */
	CHECK_EQ(kreq(cal, &b, 1200000), 0);
	kwait(cal, &b);
	kboot(cal, &m); /* m's START's ACK came first */
	CHECK(cal_runner(cal) == m.cc);
	/* a's slot request was taken; now a sends a REQUEST message,
	 * replacing it: the slot's REQ_RUN must not come back as its
	 * request */
	CHECK_EQ(cal_client_shm_requests(a.cc), 2);
	CHECK_EQ(cal_client_request(a.cc), 1500000);
	CHECK_EQ(kreq(cal, &a, 1800000), 0);
	CHECK_EQ(pslot(1)->flags & TT_SHM_FLAGS_REQ_RUN, 0);
	CHECK_EQ(cal_client_request(a.cc), 1800000);
	CHECK_EQ(kreq(cal, &m, 9000000), 0);
	kwait(cal, &m);
	/* b at 1.2 ms, then a at 1.8 ms */
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(kreq(cal, &b, 9000000), 0);
	kwait(cal, &b);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(last(&a)->time, 1800000);
	free_shm(cal);
}

/*
 * Every client may write all of the page.  Whatever is there, a RUN
 * carries exactly a request its client made (model_recv checks each),
 * no client's RUN goes backwards, and the clock does not either.
 */
static void test_shm_garbage(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, b;
	uint64_t clock;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	/* Junk in a slot before its owner gets it: cleared at START's ACK */
	pslot(2)->flags = 0xffffffff;
	pslot(2)->req_time = 0;
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(pslot(2)->flags, 0);
	kboot(cal, &b);
	CHECK_EQ(kreq(cal, &b, 2000000), 0);
	kwait(cal, &b);
	/* a, its clock at 1 ms (quantum), b at 2 ms, then a at 3 ms */
	CHECK_EQ(b.runs, 1);
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(kreq(cal, &b, 4000000), 0);
	kwait(cal, &b);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(a.own, 3000000);

	/* current_time beyond free_until, or backwards: not the clock */
	clock = cal_clock(cal);
	CHECK_EQ(clock, 3000000);
	pg()->current_time = 9000000000ull;
	CHECK_EQ(cal_clock(cal), 3000000);
	pg()->current_time = UINT64_MAX;
	CHECK_EQ(cal_clock(cal), 3000000);
	pg()->current_time = 3500000;
	CHECK_EQ(cal_clock(cal), 3500000);
	pg()->current_time = 1;
	CHECK_EQ(cal_clock(cal), 3500000);
	/* free_until raised by junk: the core keeps what it granted */
	pg()->free_until = UINT64_MAX;
	/* junk flags without REQ_RUN in b's slot: no request */
	pslot(2)->flags = ~TT_SHM_FLAGS_REQ_RUN;
	pslot(2)->req_time = 3600000;
	CHECK_EQ(kreq(cal, &a, 5000000), 0); /* a writes its slot */
	/* running_id junk */
	pg()->running_id = 0xffff;
	pg()->current_time = 9000000000ull;
	kwait(cal, &a);
	/* b at its own 4 ms, a's 5 ms is next; not the junk 3.6 ms, and
	 * the clock went to neither 9 s nor beyond a's 4 ms quantum */
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(b.runs, 2);
	CHECK_EQ(last(&b)->time, 4000000);
	CHECK_EQ(cal_clock(cal), 4000000);
	CHECK_EQ(pg()->running_id, 2);

	/* a's slot: below what it was given (3 ms, its RUN), and below
	 * its offset (0 here): ignored, its request stays 5 ms */
	pslot(1)->flags = TT_SHM_FLAGS_REQ_RUN;
	pslot(1)->req_time = 2999999;
	CHECK_EQ(cal_client_request(a.cc), 5000000);
	pg()->running_id = 1; /* b's name junked */
	CHECK_EQ(kreq(cal, &b, 6000000), 0); /* message: slot 1 has capa */
	pg()->running_id = 2;
	kwait(cal, &b);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 2);
	CHECK_EQ(last(&a)->time, 5000000);

	/* Huge requests mean sleep forever, never a RUN */
	CHECK_EQ(kreq(cal, &a, 7000000), 0);
	pslot(1)->req_time = UINT64_MAX;
	kwait(cal, &a);
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(cal_client_request(a.cc), CAL_TIME_NONE);
	CHECK_EQ(a.runs, 2);
	a.want = CAL_TIME_NONE;
	/* current_time below what b was given: ignored at its WAIT */
	pg()->current_time = 10;
	CHECK_EQ(kreq(cal, &b, 8000000), 0);
	pg()->current_time = 10;
	kwait(cal, &b);
	CHECK(cal_clock(cal) >= 6000000);
	/* a, waiting, writes TT_TIME_MAX and beyond: still forever */
	pslot(1)->flags = TT_SHM_FLAGS_REQ_RUN;
	pslot(1)->req_time = TT_TIME_MAX;
	cal_tick(cal);
	CHECK_EQ(cal_client_request(a.cc), CAL_TIME_NONE);
	CHECK_EQ(a.runs, 2);
	/* b runs at 8 ms; slot 0 given TIME_SHARE by junk is wiped */
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(b.runs, 4);
	pslot(0)->capa = TT_SHM_CAP_TIME_SHARE;
	pslot(0)->flags = TT_SHM_FLAGS_REQ_RUN;
	pslot(0)->req_time = 8000001;
	CHECK_EQ(kreq(cal, &b, 9000000), 0);
	kwait(cal, &b);
	CHECK_EQ(pslot(0)->capa, 0);
	CHECK_EQ(b.runs, 5);
	CHECK_EQ(last(&b)->time, 9000000);
	/* a real request from a again */
	CHECK_EQ(kreq(cal, &a, 9500000), 0);
	CHECK_EQ(kreq(cal, &b, 12000000), 0);
	kwait(cal, &b);
	CHECK_EQ(a.runs, 3);
	CHECK_EQ(a.own, 9500000);
	free_shm(cal);
}

/* A late joiner's slot with junk below its offset, and a clock that
 * must not be pulled back by it. */
static void test_shm_garbage_below_offset(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake m, b;

	kjoin(cal, &m, false, 1);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000000), 0);
	kwait(cal, &m);
	kjoin(cal, &b, true, 2);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000000 + 50000000), 0);
	kwait(cal, &m);
	kboot(cal, &b);
	CHECK_EQ(b.off, 1000000000);
	CHECK_EQ(kreq(cal, &b, 20000000), 0);
	kwait(cal, &b);
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(cal_clock(cal), 1020000000);
	CHECK_EQ(kreq(cal, &b, 100000000), 0);
	kwait(cal, &b);
	/* m runs at 1.05 s; b's slot gets junk below its offset */
	CHECK(cal_runner(cal) == m.cc);
	pslot(b.slot)->flags = TT_SHM_FLAGS_REQ_RUN;
	pslot(b.slot)->req_time = 5;
	CHECK_EQ(cal_client_request(b.cc), 1100000000);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 2000000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(b.runs, 2);
	CHECK_EQ(last(&b)->time, 100000000);
	CHECK_EQ(cal_clock(cal), 1100000000);
	free_shm(cal);
}

/* Many unACKed RUNs, then a BROADCAST: its ACK is still the one due
 * (the skipped seqs must not pile up and crowd it out). */
static void test_shm_many_runs_then_broadcast(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, b;
	uint64_t t = 1000000;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, t), 0);
	kwait(cal, &a);
	kboot(cal, &b);
	CHECK_EQ(kreq(cal, &b, t + 1), 0);
	kwait(cal, &b);
	for (int i = 0; i < 20; i++) {
		t += 1000;
		CHECK(cal_runner(cal) == a.cc);
		CHECK_EQ(kreq(cal, &a, t), 0);
		kwait(cal, &a);
		CHECK(cal_runner(cal) == b.cc);
		CHECK_EQ(kreq(cal, &b, t + 1), 0);
		kwait(cal, &b);
	}
	CHECK_EQ(a.runs, 21);
	CHECK_EQ(say(cal, &a, TT_OP_BROADCAST, 7), 0);
	CHECK_EQ(last(&b)->op, TT_OP_BROADCAST);
	CHECK_EQ(kack_seq(cal, &b, last(&b)->seq), 0);
	free_shm(cal);
}

/* A shared-memory client may leave a BROADCAST un-ACKed across many RUNs
 * (it ACKs it when it next reads messages): that late ACK is taken, the
 * client is not dropped (a fixed list of 8 RUNs used to overflow). */
static void test_shm_broadcast_acked_after_many_runs(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, b;
	uint64_t t = 1000000;
	uint32_t bseq;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, t), 0);
	kwait(cal, &a);
	kboot(cal, &b);
	CHECK_EQ(kreq(cal, &b, t + 1), 0);
	kwait(cal, &b);
	CHECK_EQ(say(cal, &a, TT_OP_BROADCAST, 7), 0);
	CHECK_EQ(last(&b)->op, TT_OP_BROADCAST);
	bseq = last(&b)->seq;
	for (int i = 0; i < 20; i++) {
		t += 1000;
		CHECK(cal_runner(cal) == a.cc);
		CHECK_EQ(kreq(cal, &a, t), 0);
		kwait(cal, &a);
		CHECK(cal_runner(cal) == b.cc);
		CHECK_EQ(kreq(cal, &b, t + 1), 0);
		CHECK_EQ(say(cal, &b, UM_TIMETRAVEL_WAIT, UINT64_MAX), 0);
	}
	CHECK_EQ(b.runs, 20);
	CHECK_EQ(kack_seq(cal, &b, bseq), 0);
	/* the next one's ACK too (the old list lost RUNs past 8) */
	CHECK_EQ(say(cal, &a, TT_OP_BROADCAST, 8), 0);
	CHECK_EQ(last(&b)->op, TT_OP_BROADCAST);
	CHECK_EQ(kack_seq(cal, &b, last(&b)->seq), 0);
	/* and an ACK nothing awaits is still refused */
	CHECK(kack_seq(cal, &b, bseq) < 0);
	free_shm(cal);
}

/* A shm runner bounded by the next request gets free_until one past it,
 * so that a request written at that time lowers it (see shm_floor); a
 * stop point bounds it exactly. */
static void test_shm_free_until_one_past(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, b;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &b);
	CHECK_EQ(kreq(cal, &b, 3500000), 0); /* within the quantum */
	kwait(cal, &b);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(pg()->free_until, 3500001);
	CHECK_EQ(kreq(cal, &a, 3800000), 0);
	CHECK_EQ(cal_advance(cal, 3600000), 0);
	kwait(cal, &a);
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(pg()->free_until, 3600000);
	free_shm(cal);
}

static void test_shm_broadcast_ack_order(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;
	uint32_t bseq, rseq;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000), 0);
	kwait(cal, &m);
	kack(cal, &m);
	/* m broadcasts: a, waiting, is sent it, and ACKs it late */
	CHECK_EQ(say(cal, &m, TT_OP_BROADCAST, 0x42), 0);
	CHECK_EQ(last(&a)->op, TT_OP_BROADCAST);
	bseq = last(&a)->seq;
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	/* its RUN went out in between: no ACK due for it */
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_RUN);
	rseq = last(&a)->seq;
	CHECK_EQ(rseq, bseq + 1);
	/* ACKing the RUN is wrong: the BROADCAST's is due */
	CHECK_EQ(kack_seq(cal, &a, rseq), -EPROTO);
	free_shm(cal);

	cal = mk_shm(true, 4);
	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000), 0);
	kwait(cal, &m);
	kack(cal, &m);
	CHECK_EQ(say(cal, &m, TT_OP_BROADCAST, 0x42), 0);
	bseq = last(&a)->seq;
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	rseq = last(&a)->seq;
	/* the late ACK of the BROADCAST steps over the RUN */
	CHECK_EQ(kack_seq(cal, &a, bseq), 0);
	/* nothing more is due */
	CHECK_EQ(kack_seq(cal, &a, rseq + 1), -EPROTO);
	free_shm(cal);

	/* Two BROADCASTs around the RUN, each ACKed late, in order */
	cal = mk_shm(true, 4);
	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 1000000), 0);
	kwait(cal, &m);
	kack(cal, &m);
	CHECK_EQ(say(cal, &m, TT_OP_BROADCAST, 1), 0);
	bseq = last(&a)->seq;
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	rseq = last(&a)->seq;
	CHECK_EQ(say(cal, &m, TT_OP_BROADCAST, 2), 0); /* m waits */
	CHECK_EQ(last(&a)->seq, rseq + 1);
	CHECK_EQ(kack_seq(cal, &a, bseq), 0);
	CHECK_EQ(kack_seq(cal, &a, rseq + 1), 0);
	/* a runs on, and its next RUN needs no ACK either */
	CHECK_EQ(kreq(cal, &a, 4000000), 0);
	kwait(cal, &a);
	CHECK_EQ(a.runs, 2);
	CHECK_EQ(say(cal, &a, TT_OP_BROADCAST, 3), 0);
	CHECK_EQ(last(&a)->op, UM_TIMETRAVEL_ACK);
	kack(cal, &m);
	free_shm(cal);
}

static void test_shm_slot_reuse_after_grant(void)
{
	struct cal *cal = mk_shm(false, 8);
	struct fake a, b, c, d;

	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	CHECK_EQ(cal_client_slot(a.cc), 1);
	kjoin(cal, &b, true, 2); /* held */
	kjoin(cal, &c, true, 3); /* held */
	/* a leaves while it runs: slot 1 is named no more */
	cal_client_free(cal, a.cc);
	/* b's START's ACK comes next: slot 1 is quarantined */
	CHECK_EQ(b.start_acks, 1);
	CHECK_EQ(cal_client_slot(b.cc), 2);
	CHECK_EQ(pg()->running_id, 2);
	kboot(cal, &b);
	CHECK_EQ(kreq(cal, &b, 1000), 0);
	kwait(cal, &b);
	/* c's START is due "now", before b's 1000 */
	CHECK_EQ(c.start_acks, 1);
	CHECK_EQ(cal_client_slot(c.cc), 1); /* a grant named b since */
	kboot(cal, &c);
	CHECK(cal_client_shm(c.cc));
	/* a client that leaves while waiting frees its slot too */
	cal_client_free(cal, b.cc);
	kjoin(cal, &d, true, 4); /* held: c runs */
	CHECK_EQ(kreq(cal, &c, 5000), 0);
	kwait(cal, &c);
	CHECK_EQ(d.start_acks, 1);
	CHECK_EQ(cal_client_slot(d.cc), 3); /* 2 freed at the last grant */
	kboot(cal, &d);
	free_shm(cal);
}

static void test_shm_freeze_keeps_offset(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 2000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	cal_client_set_frozen(cal, a.cc, true);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	/* a holds nobody back */
	CHECK_EQ(m.runs, 1);
	CHECK_EQ(cal_clock(cal), 5000000);
	CHECK_EQ(cal_client_request(a.cc), 2000000);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 8000000), 0);
	kwait(cal, &m);
	CHECK_EQ(cal_clock(cal), 8000000);
	/* thawed: its time base is the page's, it keeps it, and runs at
	 * its request, behind the clock */
	cal_client_set_frozen(cal, a.cc, false);
	CHECK_EQ(cal_client_offset(a.cc), 0);
	CHECK_EQ(cal_client_request(a.cc), 2000000);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 9000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(last(&a)->time, 2000000);
	CHECK_EQ(cal_clock(cal), 8000000);
	/* on it goes, in its own time */
	CHECK_EQ(kreq(cal, &a, 8500000), 0);
	kwait(cal, &a);
	CHECK(cal_runner(cal) == a.cc); /* 8.5 ms comes before m's 9 */
	CHECK_EQ(a.runs, 2);
	CHECK_EQ(kreq(cal, &a, 9500000), 0);
	kwait(cal, &a);
	CHECK(cal_runner(cal) == m.cc);
	/* frozen while waiting, it writes its slot: kept, not run */
	cal_client_set_frozen(cal, a.cc, true);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 20000000), 0);
	kwait(cal, &m);
	CHECK_EQ(a.runs, 2);
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(cal_clock(cal), 20000000);
	CHECK_EQ(kreq(cal, &a, 9200000), 0); /* an interrupt: a message */
	CHECK_EQ(cal_client_request(a.cc), 9200000);
	cal_client_set_frozen(cal, a.cc, false);
	CHECK_EQ(cal_client_offset(a.cc), 0);
	CHECK_EQ(cal_client_request(a.cc), 9200000);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 30000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(a.runs, 3);
	CHECK_EQ(last(&a)->time, 9200000);
	free_shm(cal);
}

static void test_shm_request_read_from_slot(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, b;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	CHECK_EQ(cal_client_request(a.cc), 3000000);
	kboot(cal, &b);
	/* a, waiting, writes an earlier one while b runs: shown at once,
	 * though the core takes it only when b waits */
	CHECK_EQ(kreq(cal, &a, 700000), 0);
	CHECK_EQ(cal_client_request(a.cc), 700000);
	CHECK_EQ(cal_client_shm_requests(a.cc), 1);
	/* junk there: what the core has */
	pslot(1)->req_time = UINT64_MAX;
	CHECK_EQ(cal_client_request(a.cc), CAL_TIME_NONE);
	pslot(1)->flags = 0;
	CHECK_EQ(cal_client_request(a.cc), 3000000);
	CHECK_EQ(kreq(cal, &a, 700000), 0);
	/* b, running, has none */
	CHECK_EQ(cal_client_request(b.cc), CAL_TIME_NONE);
	CHECK_EQ(kreq(cal, &b, 2000000), 0);
	CHECK_EQ(cal_client_request(b.cc), CAL_TIME_NONE);
	kwait(cal, &b);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(last(&a)->time, 700000);
	CHECK_EQ(cal_client_shm_requests(a.cc), 2);
	CHECK_EQ(cal_client_request(b.cc), 2000000);
	free_shm(cal);
}

/* Events for the trace: requests read off a slot are flagged. */
static unsigned int shm_events, shm_event_req;
static uint64_t shm_event_time;

static void shm_ev(void *data, const struct cal_event *ev)
{
	(void)data;
	if (ev->shm) {
		shm_events++;
		CHECK(!ev->out);
		CHECK(ev->msg != NULL);
		if (ev->msg) {
			shm_event_req += ev->msg->op == UM_TIMETRAVEL_REQUEST;
			shm_event_time = ev->msg->time;
		}
	}
}

static void test_shm_events(void)
{
	static const struct cal_ops ev_ops = { .send = rec_send, .event = shm_ev };
	struct cal_config cfg = { .quantum = 1000000 };
	struct cal *cal = cal_new(&cfg, &ev_ops, NULL);
	size_t len = shm_size(4);
	struct fake a;

	shm_mem = aligned_alloc(4096, 8192);
	memset(shm_mem, 0, len);
	CHECK_EQ(cal_shm_attach(cal, shm_mem, len), 0);
	shm_events = shm_event_req = 0;
	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 4000000), 0);
	kwait(cal, &a);
	CHECK_EQ(shm_events, 1);
	CHECK_EQ(shm_event_req, 1);
	CHECK_EQ(shm_event_time, 4000000); /* its own time */
	free_shm(cal);
}

static void test_shm_advance_stops_exactly(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake a;

	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	CHECK_EQ(pg()->free_until, 1000000);
	/* a stop point while it runs: it reads it off the page */
	CHECK_EQ(cal_advance(cal, 500000), 0);
	CHECK_EQ(pg()->free_until, 500000);
	kprop(&a, 400000);
	CHECK_EQ(kreq(cal, &a, 2000000), 0);
	kwait(cal, &a);
	CHECK_EQ(cal_clock(cal), 500000);
	CHECK(!cal_is_running(cal));
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(pg()->running_id, 0);
	CHECK_EQ(pg()->current_time, 500000);
	CHECK_EQ(cal_client_request(a.cc), 2000000);
	CHECK_EQ(a.runs, 0);
	cal_set_run(cal, true);
	CHECK_EQ(a.runs, 1);
	CHECK_EQ(last(&a)->time, 2000000);
	free_shm(cal);
}

/* The clock a shm runner wrote is the clock, whether or not someone
 * read it since: a stop point behind it is refused. */
static void test_shm_advance_behind_live_clock(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake a;

	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	kprop(&a, 700000);
	CHECK_EQ(cal_advance(cal, 500000), -EINVAL);
	CHECK_EQ(cal_clock(cal), 700000);
	CHECK_EQ(cal_advance(cal, 500000), -EINVAL);
	CHECK_EQ(cal_advance(cal, 800000), 0);
	CHECK_EQ(pg()->free_until, 800000);
	free_shm(cal);
}

/* The clock stays within what can be sent to a kernel, however far
 * FREE_UNTIL would reach (a huge --quantum, or the end of time). */
static void test_shm_clock_below_time_max(void)
{
	struct cal_config cfg = { .quantum = UINT64_MAX / 2 };
	struct cal *cal = cal_new(&cfg, &rec_ops, NULL);
	size_t len = shm_size(4);
	struct fake a, b;

	shm_mem = aligned_alloc(4096, 8192);
	memset(shm_mem, 0, len);
	CHECK_EQ(cal_shm_attach(cal, shm_mem, len), 0);
	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	CHECK(pg()->free_until <= TT_TIME_MAX);
	/* it sleeps for ever: UML asks for S64_MAX */
	CHECK_EQ(kreq(cal, &a, INT64_MAX), 0);
	kwait(cal, &a);
	CHECK(cal_runner(cal) == NULL);
	CHECK_EQ(cal_client_request(a.cc), CAL_TIME_NONE);
	CHECK(cal_clock(cal) <= TT_TIME_MAX);
	CHECK(pg()->current_time <= TT_TIME_MAX);
	/* and the calendar still works */
	CHECK_EQ(cal_advance(cal, TT_TIME_MAX), 0);
	cal_set_run(cal, true);
	kjoin(cal, &b, false, 2);
	CHECK_EQ(b.start_acks, 1);
	CHECK_EQ(say(cal, &b, UM_TIMETRAVEL_GET_TOD, 0), 0);
	free_shm(cal);
}

/* Idle with shm clients: a slot written after the last look is found
 * by a later one (the calendar asks to be woken). */
static void test_shm_idle_poll(void)
{
	struct cal_config cfg = { .quantum = 1000000 };
	struct cal *cal;
	size_t len = shm_size(4);
	struct fake a;
	uint64_t first;

	fake_wall = 5000;
	fake_wake = CAL_TIME_NONE;
	cal = cal_new(&cfg, &wall_ops, NULL);
	shm_mem = aligned_alloc(4096, 8192);
	memset(shm_mem, 0, len);
	CHECK_EQ(cal_shm_attach(cal, shm_mem, len), 0);
	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, TT_TIME_MAX), 0); /* nothing to do */
	kwait(cal, &a);
	CHECK(cal_runner(cal) == NULL);
	CHECK(fake_wake != CAL_TIME_NONE);
	first = fake_wake;
	CHECK_EQ(first, 5000 + 1000000);
	/* nothing yet: it backs off */
	fake_wall = fake_wake;
	cal_tick(cal);
	CHECK(fake_wake > first);
	CHECK(fake_wake - fake_wall > first - 5000);
	/* a read running_id while it still named a TIME_SHARE slot, and
	 * writes its request after the calendar's last look: no message */
	a.want = 3000000;
	pslot(1)->req_time = 3000000;
	pslot(1)->flags |= TT_SHM_FLAGS_REQ_RUN;
	CHECK_EQ(a.runs, 0);
	fake_wall = fake_wake;
	cal_tick(cal);
	CHECK_EQ(a.runs, 1);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(last(&a)->time, 3000000);
	free_shm(cal);
}

/* A 6.12 kernel reads free_until off the page from START's ACK on, before
 * its first message says its mode: a stop point, an until/ reader or a
 * REQUEST set then must reach the page too. */
static void test_shm_stop_before_mode_known(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake a, m;
	struct cal_waiter w;

	kjoin(cal, &a, true, 1);
	CHECK(a.shm);
	CHECK(!cal_client_shm(a.cc)); /* not said yet */
	CHECK_EQ(pg()->free_until, 1000000);
	CHECK_EQ(cal_advance(cal, 500000), 0);
	CHECK_EQ(pg()->free_until, 500000);
	cal_waiter_add(cal, &w, 300000);
	CHECK_EQ(pg()->free_until, 300000);
	cal_waiter_remove(cal, &w);
	kboot(cal, &a);
	kprop(&a, 250000);
	CHECK_EQ(kreq(cal, &a, 2000000), 0);
	kwait(cal, &a);
	CHECK_EQ(cal_clock(cal), 500000);
	CHECK(!cal_is_running(cal));
	free_shm(cal);

	/* the same with a message client's REQUEST */
	cal = mk_shm(true, 4);
	kjoin(cal, &m, false, 1);
	kjoin(cal, &a, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(pg()->free_until, 1000000);
	CHECK_EQ(kreq(cal, &m, 400000), 0); /* m, waiting, interrupted */
	CHECK_EQ(pg()->free_until, 400000);
	free_shm(cal);
}

/* Answers to messages use the clock a shm runner wrote, and a shm client
 * that asks GET (6.12 kernels read the page instead, but may) is told
 * neither less than it wrote nor more than the request in its slot. */
static void test_shm_answers_use_the_page(void)
{
	struct cal *cal = mk_shm(false, 4);
	struct fake a, b, m;

	kjoin(cal, &a, true, 1);
	kboot(cal, &a);
	kprop(&a, 700000);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_GET_TOD, 0), 0);
	CHECK_EQ(last(&a)->time, 1000 + 700000);
	free_shm(cal);

	/* b runs behind the clock and runs on: its GET says so */
	cal = mk_shm(true, 4);
	kjoin(cal, &m, false, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &m);
	CHECK_EQ(kreq(cal, &m, 900000), 0);
	kwait(cal, &m);
	kboot(cal, &b);
	CHECK_EQ(kreq(cal, &b, 5000000), 0);
	kwait(cal, &b);
	/* m at 0.9 ms, FREE_UNTIL 1.9 */
	CHECK(cal_runner(cal) == m.cc);
	CHECK_EQ(last_op(&m, UM_TIMETRAVEL_FREE_UNTIL)->time, 1900000);
	/* b, interrupted, asks for 1 ms; m runs on to 1.5 ms */
	CHECK_EQ(kreq(cal, &b, 1000000), 0);
	kack(cal, &m);
	CHECK_EQ(say(cal, &m, UM_TIMETRAVEL_UPDATE, 1500000), 0);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	/* b at 1 ms, behind the clock, runs on to 1.2 ms */
	CHECK(cal_runner(cal) == b.cc);
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(last(&b)->time, 1000000);
	CHECK_EQ(cal_clock(cal), 1500000);
	kprop(&b, 1200000);
	CHECK_EQ(cal_clock(cal), 1500000);
	CHECK_EQ(say(cal, &b, UM_TIMETRAVEL_GET, 0), 0);
	CHECK(last(&b)->time >= 1200000);
	CHECK_EQ(kreq(cal, &b, 3000000), 0);
	kwait(cal, &b);
	CHECK_EQ(b.runs, 2);
	free_shm(cal);

	/* a waiting shm client's GET is not told past its slot's request */
	cal = mk_shm(true, 4);
	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &b);
	/* a's REQUEST message (taken), then an earlier one in its slot */
	pg()->running_id = 0;
	CHECK_EQ(kreq(cal, &a, 2500000), 0);
	pg()->running_id = 2;
	kprop(&b, 999999);
	CHECK_EQ(cal_clock(cal), 999999);
	CHECK_EQ(kreq(cal, &a, 900000), 0); /* behind the clock: allowed */
	CHECK_EQ(pslot(1)->req_time, 900000);
	CHECK_EQ(cal_client_request(a.cc), 900000);
	CHECK_EQ(kreq(cal, &b, 1500000), 0);
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_GET, 0), 0);
	CHECK(last(&a)->time <= 900000);
	kwait(cal, &b);
	CHECK(cal_runner(cal) == a.cc);
	CHECK_EQ(last(&a)->time, 900000);
	free_shm(cal);
}

/* Paced and idle until a known request far ahead: a slot written after
 * the last look (a kernel that read running_id just before it changed)
 * is still looked at soon, not at that far request's wall time. */
static void test_shm_paced_idle_poll(void)
{
	struct cal_config cfg = { .quantum = 1000000 };
	struct cal *cal;
	size_t len = shm_size(4);
	struct fake a, b;

	fake_wall = 1000;
	fake_wake = CAL_TIME_NONE;
	cal = cal_new(&cfg, &wall_ops, NULL);
	shm_mem = aligned_alloc(4096, 8192);
	memset(shm_mem, 0, len);
	CHECK_EQ(cal_shm_attach(cal, shm_mem, len), 0);
	CHECK_EQ(cal_set_pace(cal, 1.0), 0);
	kjoin(cal, &a, true, 1);
	kjoin(cal, &b, true, 2); /* held */
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 10000000000ull), 0); /* 10 s */
	kwait(cal, &a);
	kboot(cal, &b);
	b.want = 2000000;
	/* b read running_id (its own slot) and writes its request after
	 * the calendar's last look: no message */
	CHECK_EQ(kreq(cal, &b, TT_TIME_MAX), 0); /* b: nothing for now */
	kwait(cal, &b);
	CHECK(cal_runner(cal) == NULL);
	pslot(b.slot)->req_time = 2000000;
	pslot(b.slot)->flags |= TT_SHM_FLAGS_REQ_RUN;
	b.want = 2000000;
	/* woken well before a's 10 s of wall time */
	CHECK(fake_wake != CAL_TIME_NONE);
	CHECK(fake_wake < 1000 + 1000000000ull);
	for (int i = 0; i < 100 && fake_wake != CAL_TIME_NONE &&
	     b.runs == 0 && fake_wake < 1000 + 20000000000ull; i++) {
		fake_wall = fake_wake;
		cal_tick(cal);
	}
	CHECK_EQ(b.runs, 1);
	CHECK_EQ(last(&b)->time, 2000000);
	CHECK(fake_wall < 1000 + 1000000000ull);
	free_shm(cal);
}

/* The adapter may detach the page while clients are still in (the API
 * says they keep their mode): the core must not touch it any more. */
static void shm_detach_then_go_on(void)
{
	struct cal *cal = mk_shm(true, 4);
	struct fake a, m;

	kjoin(cal, &a, true, 1);
	kjoin(cal, &m, false, 2);
	cal_set_run(cal, true);
	kboot(cal, &a);
	CHECK_EQ(kreq(cal, &a, 3000000), 0);
	kwait(cal, &a);
	kboot(cal, &m);
	cal_shm_detach(cal);
	memset(shm_mem, 0xff, shm_size(4)); /* gone: junk to the core */
	a.want = 2000000; /* it reads running_id junk: a message */
	CHECK_EQ(say(cal, &a, UM_TIMETRAVEL_REQUEST, 2000000), 0);
	CHECK_EQ(kreq(cal, &m, 1000000), 0);
	kwait(cal, &m);
	kack(cal, &m);
	CHECK_EQ(kreq(cal, &m, 5000000), 0);
	kwait(cal, &m);
	CHECK(cal_runner(cal) == a.cc);
	(void)say(cal, &a, UM_TIMETRAVEL_WAIT, 0);
	(void)cal_clock(cal);
	free_shm(cal);
}

static void test_shm_detach_with_clients(void)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int before = test_failed_checks;

		shm_detach_then_go_on();
		_exit(test_failed_checks != before);
	}
	CHECK(pid > 0);
	if (pid > 0) {
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (WIFSIGNALED(st))
			fprintf(stderr, "detach: child killed by signal %d\n",
				WTERMSIG(st));
	}
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
	  T(test_request_lowers_runner_free_until),
	  T(test_runner_bound_not_below_its_time),
	  T(test_held_ack_released_by_wait_and_leave),
	  T(test_runner_reach_after_lowered_bound),
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
	  T(test_stats_and_kick),
	  T(test_shm_attach),
	  T(test_shm_start_ack_gives_slot),
	  T(test_shm_mode_decided_at_first_message),
	  T(test_shm_wait_gets_no_ack_and_exact_run),
	  T(test_shm_late_joiner),
	  T(test_shm_mixed_alternate),
	  T(test_shm_page_time_not_past_a_request),
	  T(test_shm_declined_client_get_not_raised),
	  T(test_shm_message_request_lowers_free_until),
	  T(test_shm_message_request_clears_slot),
	  T(test_shm_garbage),
	  T(test_shm_garbage_below_offset),
	  T(test_shm_broadcast_ack_order),
	  T(test_shm_many_runs_then_broadcast),
	  T(test_shm_broadcast_acked_after_many_runs),
	  T(test_shm_free_until_one_past),
	  T(test_shm_slot_reuse_after_grant),
	  T(test_shm_freeze_keeps_offset),
	  T(test_shm_request_read_from_slot),
	  T(test_shm_events),
	  T(test_shm_advance_stops_exactly),
	  T(test_shm_advance_behind_live_clock),
	  T(test_shm_clock_below_time_max),
	  T(test_shm_idle_poll),
	  T(test_shm_paced_idle_poll),
	  T(test_shm_stop_before_mode_known),
	  T(test_shm_answers_use_the_page),
	  T(test_shm_detach_with_clients))
