/* SPDX-License-Identifier: MIT */
/*
 * fuzz-calendar.c: libFuzzer harness of the calendar core.
 *
 * The input is a script.  A 4-byte header configures the calendar; then
 * each opcode byte picks an action (low 5 bits) and a client slot (bits
 * 5-6), and actions read their arguments from the bytes that follow
 * (missing bytes read as 0).  Every byte a client says goes through its
 * own struct frame, fed in chunks, into cal_client_input, and a client
 * that breaks the protocol is dropped with cal_client_free, like the
 * daemon does.  Some actions make a client behave like a UML kernel
 * (ACK in order, START, GET, REQUEST, UPDATE within FREE_UNTIL, WAIT),
 * so that deep states are reached.
 *
 * A model of what each client was told is kept beside the core, and the
 * invariants are checked in the send callback and after every step; a
 * violation prints what broke and aborts.  FUZZ_VERBOSE=1 in the
 * environment prints the script as it runs.
 *
 * Shared memory (Linux >= 6.11): with bit 0 of the header's last byte,
 * a zero-filled page is attached (cal_shm_attach), and the clients named
 * in its high nibble act as 6.12 kernels: on START's ACK they map the
 * page and set TIME_SHARE in their slot, then write their requests into
 * the slot while running_id names a TIME_SHARE slot, write current_time
 * while they run, send WAIT without an ACK and do not ACK RUN.  ACT_POKE
 * writes junk anywhere in the page (any client may), ACT_KSHM writes a
 * request into a slot whatever running_id says (a kernel that read it
 * just before it changed).  RUNs must still carry exactly a request the
 * client made (or a value that junk put into its own slot), and never go
 * backwards.
 *
 * Script layout (tests/fuzz/mkseeds.py writes the same, from real traces):
 *   header: flags (bit 0 paused, bits 1-2 expect), quantum index,
 *           tod byte, shm (bit 0 attach a page, bits 1-3 its slots from
 *           shm_slots_table, bits 4-7 which clients are 6.12 kernels)
 *   ops:    ACT_* below; times are read by rd_time (a mode byte, then
 *           the bytes that mode needs).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal.h"
#include "frame.h"
#include "proto.h"
#include "shm.h"

#define NSLOT 4
#define NWAITER 4
#define OUTBOX 256
#define NHIST 16   /* req_time values a slot held, per client */
#define NOUTQ 128  /* messages a client has not ACKed yet */
#define NAWAIT 128 /* its inputs whose ACK the core holds */
#define NPAGE 64   /* most page slots */

enum {
	ACT_CONNECT = 0,
	ACT_DISCONNECT = 1,
	ACT_RAW = 2,       /* len byte, then len raw bytes to the outbox */
	ACT_MSG = 3,       /* op, seq mode, time: a crafted message */
	ACT_FLUSH = 4,     /* n byte: deliver n bytes (0: all) of the outbox */
	ACT_ACK_NEXT = 5,  /* ACK the oldest unacknowledged message */
	ACT_ACK_ALL = 6,
	ACT_UML = 7,       /* param byte: one well-behaved step */
	ACT_ADVANCE = 8,   /* time: cal_advance(clock + time) */
	ACT_RUN = 9,       /* byte: cal_set_run(byte & 1) */
	ACT_FREEZE = 10,   /* toggle the slot's client frozen */
	ACT_PACE = 11,     /* byte: a pace from pace_table */
	ACT_WALL = 12,     /* time: the wall clock moves; wake-ups fire */
	ACT_TICK = 13,     /* a spurious cal_tick */
	ACT_WAITER_ADD = 14, /* time: slot's waiter at clock + time */
	ACT_WAITER_DEL = 15,
	ACT_NAME = 16,     /* len byte, then the bytes */
	ACT_TOD = 17,      /* time: cal_set_tod */
	ACT_ROUND = 18,    /* n, seed: n well-behaved steps of all clients */
	ACT_EXACT = 19,    /* op u8, seq u32 le, time u64 le: exact message */
	ACT_ADVANCE_ABS = 20, /* time: cal_advance(time) */
	ACT_POKE = 21,     /* field byte, then what it needs: junk in the page */
	ACT_KSHM = 22,     /* time: a request into its slot, unasked */
	ACT_COUNT = 23,
};

struct slot {
	bool alive;
	uint64_t conn;      /* this connection's number, our client_data */
	struct cal_client *cc;
	struct frame fr;
	unsigned char out[OUTBOX]; /* bytes said but not yet delivered */
	size_t nout;
	uint32_t my_seq;

	/* The model: what this client knows, from what it was sent. */
	bool started, start_acked, running, waiting;
	uint32_t start_seq;
	uint32_t tx_seq;    /* last non-ACK seq the calendar sent */
	uint32_t acked;     /* last seq we ACKed */
	/* Seqs from the oldest not ACKed on: does each need an ACK (a RUN
	 * to a shm client does not)?  Leading ones that do not are gone. */
	uint32_t q_base;
	unsigned int q_n;
	bool q_need[NOUTQ];
	bool ack_wild;      /* more than NOUTQ outstanding: we lost count */
	/* Its inputs whose ACK the core holds while the runner learns of a
	 * request below its FREE_UNTIL, oldest first, with what a GET_TOD's
	 * answer was then; everything else to it waits behind them. */
	uint32_t await_seq[NAWAIT], await_op[NAWAIT];
	uint64_t await_tod[NAWAIT];
	unsigned int nawait;
	bool await_lost;    /* more than NAWAIT: not checked */
	bool req_valid;
	uint64_t req;       /* last REQUEST, client time */
	/* Last REQUEST message since its RUN: what the core holds for a
	 * running client (a shm runner's slot is read at its WAIT only). */
	bool mreq_valid;
	uint64_t mreq;
	uint64_t told;      /* the latest time it was told (RUN, GET) */
	uint64_t own;       /* its own time: told, or reported by UPDATE */
	bool fu_valid;
	uint64_t fu;        /* last FREE_UNTIL, client time */
	bool wild;          /* it misbehaved in ways UML does not */

	/* Shared memory. */
	bool k612;          /* maps the page on START's ACK */
	bool decided;       /* its first message after START's ACK went */
	bool shm;           /* the core put it in shm mode */
	uint16_t ps;        /* its page slot (0: none) */
	uint64_t off;       /* its time 0, on the calendar's clock */
	bool junked;        /* junk went into its slot */
	uint64_t hist[NHIST]; /* its requests, and its slot's values */
	unsigned int nhist;

	/* The input being handled now. */
	bool in_input;
	uint32_t in_op, in_seq;
	unsigned int in_acks;   /* ACKs it got during the input */
	unsigned int in_msgs;   /* any messages it got during the input */
	bool in_first_is_ack;
	uint64_t in_get_min;
};

struct waiter {
	struct cal_waiter w;
	bool on;
};

static struct {
	struct cal *cal;
	struct slot s[NSLOT];
	struct waiter w[NWAITER];
	uint64_t next_conn;
	uint64_t wall;
	uint64_t wake;     /* last wake asked for */
	uint64_t last_clock;
	uint64_t quantum;
	bool want_stop_valid;
	uint64_t want_stop;
	/* The stop point was set behind the runner's FREE_UNTIL, which
	 * cannot be taken back: the runner may overshoot it. */
	bool overrun;
	bool wild;         /* some client misbehaved: skip UML-only checks */
	/* a BROADCAST being handled */
	bool bcast;
	struct slot *bcast_from;
	uint64_t bcast_time;
	unsigned int bcast_count;
	const uint8_t *p, *end;
	uint32_t rng;
	/* The shared page, if attached. */
	bool shm;
	unsigned char *mem;
	size_t mem_len;
	unsigned int nps;   /* its slots, slot 0 included */
	bool freed[NPAGE];  /* a slot given back, at grant count freed_at */
	uint64_t freed_at[NPAGE];
	uint8_t k612_mask;  /* which client slots are 6.12 kernels */
	bool rid_junk;      /* running_id was junked */
	bool ct_junk;       /* current_time was junked */
	bool lone_fu;       /* this input sent a runner a FREE_UNTIL alone */
} F;

static bool verbose;

#define LOG(...)                                                           \
	do {                                                               \
		if (verbose)                                               \
			fprintf(stderr, __VA_ARGS__);                      \
	} while (0)

#define INV(cond)                                                          \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "INVARIANT FAILED: %s at %s:%d\n", \
				#cond, __FILE__, __LINE__);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* ---- reading the script ---- */

static uint8_t rd8(void)
{
	return F.p < F.end ? *F.p++ : 0;
}

static uint64_t rdn(unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)rd8() << (8 * i);
	return v;
}

/* A time, in a few shapes that matter: small, UML-like steps, big. */
static uint64_t rd_time(void)
{
	uint8_t m = rd8();

	switch (m % 8) {
	case 0: return m >> 3;
	case 1: return (uint64_t)rd8() * 256;
	case 2: return rdn(2) * 1000;
	case 3: return rdn(4);
	case 4: return rdn(8);
	case 5: return TT_TIME_MAX - rd8();
	case 6: return 10000000ull * (1 + (m >> 3));
	default: return (uint64_t)(m >> 3) * 1000000ull;
	}
}

static uint32_t rnd(void)
{
	F.rng = F.rng * 1103515245u + 12345u;
	return F.rng >> 8;
}

/* ---- the shared page, as clients see it ---- */

static struct tt_shm_hdr *pg(void)
{
	return (struct tt_shm_hdr *)F.mem;
}

static struct tt_shm_slot *pslot(unsigned int i)
{
	return (struct tt_shm_slot *)(F.mem + TT_SHM_HDR_SIZE +
				      (size_t)i * TT_SHM_SLOT_SIZE);
}

static uint64_t grants(void)
{
	struct cal_stats st;

	cal_stats(F.cal, &st);
	return st.grants;
}

/* A request it made, or a value its slot's req_time held (calendar
 * time): once junk hit its slot, any of them may be taken as its
 * request. */
static void hist_add(struct slot *s, uint64_t t)
{
	s->hist[s->nhist++ % NHIST] = t;
}

static bool hist_has(const struct slot *s, uint64_t t)
{
	unsigned int i, n = s->nhist < NHIST ? s->nhist : NHIST;

	for (i = 0; i < n; i++)
		if (s->hist[i] == t)
			return true;
	return s->nhist > NHIST; /* lost track */
}

/* ---- what each client must ACK ---- */

static void q_trim(struct slot *s)
{
	while (s->q_n && !s->q_need[0]) {
		memmove(s->q_need, s->q_need + 1, --s->q_n);
		s->q_base++;
	}
}

static void q_push(struct slot *s, uint32_t seq, bool need)
{

	if (s->q_n == 0)
		s->q_base = seq;
	if (s->q_n == NOUTQ) {
		s->ack_wild = true;
		return;
	}
	s->q_need[s->q_n++] = need;
	q_trim(s);
}

static bool q_due(const struct slot *s)
{
	return s->q_n > 0;
}

/* The seq its next ACK must carry. */
static uint32_t q_next(const struct slot *s)
{
	return s->q_n ? s->q_base : s->tx_seq + 1;
}

static void q_pop(struct slot *s)
{
	if (!s->q_n)
		return;
	memmove(s->q_need, s->q_need + 1, --s->q_n);
	s->q_base++;
	q_trim(s);
}

/* ---- the calendar's side ---- */

static struct slot *slot_of(void *client_data)
{
	uint64_t conn = (uint64_t)(uintptr_t)client_data;
	int i;

	for (i = 0; i < NSLOT; i++)
		if (F.s[i].alive && F.s[i].conn == conn)
			return &F.s[i];
	return NULL;
}

static int slot_index(const struct slot *s)
{
	return (int)(s - F.s);
}

static void on_send(void *client_data, const struct um_timetravel_msg *msgs,
		    unsigned int n, bool start_ack)
{
	struct slot *s = slot_of(client_data);
	unsigned int i = 0;
	/* What the core held for it goes out now, in one write. */
	bool released = s && (s->nawait > 0 || s->await_lost);

	/* Never to a client that left. */
	INV(s != NULL);
	INV(n > 0);
	/* Nothing to a client before its START. */
	INV(s->started);
	INV(cal_clock(F.cal) >= F.last_clock);
	if (start_ack) {
		const struct um_timetravel_msg *m = &msgs[0];

		LOG("  c%d <- ACK(start) seq=%u time=%" PRIu64 "\n",
		    slot_index(s), m->seq, (uint64_t)m->time);
		/* Exactly once, answering its START. */
		INV(!s->start_acked);
		INV(m->op == UM_TIMETRAVEL_ACK);
		INV(m->seq == s->start_seq);
		/* A START's ACK lets it run, and only it. */
		INV(cal_runner(F.cal) == s->cc);
		INV(!cal_client_frozen(s->cc));
		s->start_acked = true;
		s->running = true;
		s->waiting = false;
		s->told = s->own = 0;
		s->fu_valid = false;
		s->req_valid = false;
		s->mreq_valid = false;
		s->off = cal_client_offset(s->cc);
		s->decided = s->shm = s->junked = false;
		s->nhist = 0;
		/* Its slot, in the low 16 bits: its own, and named running
		 * on the page, which shows the clock: its time 0. */
		s->ps = (uint16_t)(m->time & TT_START_ACK_ID);
		INV(m->time == s->ps);
		INV(s->ps == cal_client_slot(s->cc));
		if (!F.shm)
			INV(s->ps == 0);
		if (F.shm) {
			INV(s->ps < F.nps);
			INV(pg()->running_id == s->ps);
			INV(pg()->current_time == s->off);
			INV(pslot(0)->capa == 0);
		}
		if (s->ps) {
			int k;

			INV(pslot(s->ps)->capa == 0);
			INV(pslot(s->ps)->flags == 0);
			INV(pslot(s->ps)->req_time == 0);
			/* Nobody else has it, and a slot given back comes
			 * back only after a later grant named someone. */
			for (k = 0; k < NSLOT; k++)
				INV(&F.s[k] == s || !F.s[k].alive ||
				    F.s[k].ps != s->ps);
			if (F.freed[s->ps])
				INV(grants() - 1 > F.freed_at[s->ps]);
			F.freed[s->ps] = false;
			/* time_travel_setup_shm() */
			if (s->k612 && pg()->version == TT_SHM_VERSION &&
			    pg()->len >= shm_size(s->ps + 1u))
				pslot(s->ps)->capa |= TT_SHM_CAP_TIME_SHARE;
		}
		if (s->in_input) {
			s->in_msgs++;
		}
		i = 1;
	}
	/* Until START's ACK, nothing else. */
	INV(s->start_acked);
	for (; i < n; i++) {
		const struct um_timetravel_msg *m = &msgs[i];

		LOG("  c%d <- %s seq=%u time=%" PRIu64 "\n", slot_index(s),
		    tt_op_name(m->op), m->seq, (uint64_t)m->time);
		if (s->in_input) {
			if (s->in_msgs == 0)
				s->in_first_is_ack = m->op == UM_TIMETRAVEL_ACK;
			s->in_msgs++;
		}
		if (m->op == UM_TIMETRAVEL_ACK && released) {
			/* A held ACK: the oldest of those it awaits. */
			if (s->await_lost)
				continue;
			INV(s->nawait > 0);
			INV(m->seq == s->await_seq[0]);
			if (s->await_op[0] == UM_TIMETRAVEL_GET) {
				INV(m->time >= s->told);
				INV(m->time <= TT_TIME_MAX);
				s->told = s->own = m->time;
			} else if (s->await_op[0] == UM_TIMETRAVEL_GET_TOD) {
				INV(m->time == s->await_tod[0]);
			} else {
				INV(m->time == 0);
			}
			s->nawait--;
			memmove(s->await_seq, s->await_seq + 1,
				s->nawait * sizeof(s->await_seq[0]));
			memmove(s->await_op, s->await_op + 1,
				s->nawait * sizeof(s->await_op[0]));
			memmove(s->await_tod, s->await_tod + 1,
				s->nawait * sizeof(s->await_tod[0]));
			continue;
		}
		if (m->op == UM_TIMETRAVEL_ACK) {
			/* An ACK answers the message being handled now;
			 * START's is the only other and is flagged. */
			INV(s->in_input);
			INV(s->in_op != UM_TIMETRAVEL_START &&
			    s->in_op != UM_TIMETRAVEL_ACK);
			INV(m->seq == s->in_seq);
			s->in_acks++;
			if (s->in_op == UM_TIMETRAVEL_GET) {
				/* The answer becomes its time: never
				 * backwards. */
				INV(m->time >= s->told);
				/* (A shm runner that followed junk in
				 * free_until went past what it was given.) */
				if (!(s->shm && F.wild))
					INV(m->time >= s->own);
				INV(m->time <= TT_TIME_MAX);
				/* Never past its own pending request, which
				 * its RUN must carry (corpus regress-get-*),
				 * unless its own UPDATE went past it: a request
				 * behind its own time is no request (ttfs
				 * refuses it, as it could never be run), nor is
				 * junk in its slot. */
				INV(!s->req_valid || m->time <= s->req ||
				    s->req < s->own || s->junked);
				s->told = s->own = m->time;
			} else if (s->in_op == UM_TIMETRAVEL_GET_TOD) {
				INV(m->time == cal_tod(F.cal) +
				    cal_clock(F.cal));
			} else {
				INV(m->time == 0);
			}
			continue;
		}
		/* Its own numbering: one more each. */
		INV(m->seq == s->tx_seq + 1);
		s->tx_seq = m->seq;
		q_push(s, m->seq, !(s->shm && m->op == UM_TIMETRAVEL_RUN));
		switch (m->op) {
		case UM_TIMETRAVEL_FREE_UNTIL:
			/* A shm client reads free_until off the page. */
			INV(!s->shm);
			INV(m->time <= TT_TIME_MAX);
			if (i + 1 < n && msgs[i + 1].op == UM_TIMETRAVEL_RUN) {
				s->fu_valid = true;
				s->fu = m->time;
				break;
			}
			/* Alone: the runner hears of another's request below
			 * its bound, which only goes down, never below what it
			 * was told. */
			INV(s->running);
			INV(s->fu_valid && m->time < s->fu);
			INV(m->time >= s->told);
			s->fu = m->time;
			F.lone_fu = true;
			break;
		case UM_TIMETRAVEL_RUN: {
			uint64_t fu_cal, fu, off = cal_client_offset(s->cc);
			int k;

			INV(m->time <= TT_TIME_MAX);
			/* A shm client's time base is fixed (a message
			 * client's moves on thaw). */
			if (s->shm)
				INV(off == s->off);
			/* Only to a client that waits, once. */
			INV(s->waiting && !s->running);
			/* Exactly what it asked for (or what junk wrote
			 * into its own slot). */
			if (s->junked && hist_has(s, m->time + off)) {
				/* a value its slot held */
			} else {
				INV(s->req_valid);
				INV(m->time == s->req);
			}
			/* Never backwards. */
			INV(m->time >= s->told);
			if (!s->wild && !F.wild)
				INV(m->time >= s->own);
			INV(cal_runner(F.cal) == s->cc);
			INV(!cal_client_frozen(s->cc));
			INV(cal_is_running(F.cal));
			if (F.shm) {
				/* Named on the page before it hears it:
				 * its slot, or slot 0 for messages. */
				INV(pslot(0)->capa == 0);
				INV(pg()->running_id == (s->shm ? s->ps : 0));
				INV(pg()->current_time ==
				    (s->shm ? m->time + off :
				     cal_clock(F.cal)));
			}
			if (s->shm) {
				/* Alone, no FREE_UNTIL: it reads the page. */
				INV(n == 1);
				fu = pg()->free_until - off;
				INV(pg()->free_until >= off);
				/* the kernel: no request now, it runs */
				pslot(s->ps)->flags &= ~TT_SHM_FLAGS_REQ_RUN;
			} else {
				/* FREE_UNTIL, just before. */
				INV(i > 0 && msgs[i - 1].op ==
					     UM_TIMETRAVEL_FREE_UNTIL);
				fu = s->fu;
			}
			/* FREE_UNTIL: not behind the RUN, and bounded by
			 * what may take control back. */
			INV(fu >= m->time);
			if (fu < TT_TIME_MAX) {
				fu_cal = fu + off;
				/* (Not >= the clock: a waiter's REQUEST may
				 * land behind a runner that ran on within
				 * its FREE_UNTIL; it then runs in the
				 * calendar's past.) */
				INV(fu_cal >= m->time + off);
				INV(fu_cal <= cal_clock(F.cal) + F.quantum ||
				    cal_clock(F.cal) + F.quantum <
					    cal_clock(F.cal));
				INV(fu_cal <= cal_stop_at(F.cal));
				for (k = 0; k < NWAITER; k++)
					if (F.w[k].on &&
					    F.w[k].w.t > cal_clock(F.cal))
						INV(fu_cal <= F.w[k].w.t);
			}
			s->running = true;
			s->waiting = false;
			s->req_valid = false;
			s->mreq_valid = false;
			s->told = m->time;
			if (m->time > s->own)
				s->own = m->time;
			break;
		}
		case TT_OP_BROADCAST:
			if (released)
				break; /* held behind its ACK: sent earlier */
			INV(F.bcast && F.bcast_from != s);
			INV(m->time == F.bcast_time);
			F.bcast_count++;
			break;
		default:
			/* START, REQUEST, WAIT, GET, UPDATE, GET_TOD: a
			 * calendar never sends these. */
			INV(0);
		}
	}
}

static void on_changed(void *data)
{
	(void)data;
	INV(cal_clock(F.cal) >= F.last_clock);
}

static uint64_t on_now(void *data)
{
	(void)data;
	return F.wall;
}

static void on_wake(void *data, uint64_t when)
{
	(void)data;
	F.wake = when;
}

static const struct cal_ops ops = {
	.send = on_send, .changed = on_changed, .now = on_now, .wake = on_wake,
};

/* ---- checks after every step ---- */

static void check_all(void)
{
	struct cal_client *r = cal_runner(F.cal);
	unsigned int alive = 0, running = 0, shm_alive = 0;
	bool due = false;
	uint64_t clock = cal_clock(F.cal), first = cal_stop_at(F.cal);
	int i;

	INV(clock >= F.last_clock);
	/* Within what can be sent to a kernel (its time base). */
	INV(clock <= TT_TIME_MAX);
	F.last_clock = clock;
	for (i = 0; i < NSLOT; i++) {
		struct slot *s = &F.s[i];
		enum cal_client_state st;
		uint64_t req;

		if (!s->alive)
			continue;
		alive++;
		st = cal_client_state(s->cc);
		req = cal_client_request(s->cc);
		/* The core's state is what the client was told. */
		if (!s->started)
			INV(st == CAL_CLIENT_NEW);
		else if (!s->start_acked)
			INV(st == CAL_CLIENT_HELD);
		else if (s->running)
			INV(st == CAL_CLIENT_RUNNING);
		else
			INV(st == CAL_CLIENT_WAITING);
		if (st == CAL_CLIENT_RUNNING) {
			running++;
			INV(r == s->cc);
		}
		/* A pending request is the one it made, in its time (or
		 * junk from its own slot). */
		if (req != CAL_TIME_NONE &&
		    !(s->junked && hist_has(s, req))) {
			/* (A runner's slot is read at its WAIT: the core
			 * holds its last REQUEST message until then.) */
			bool run = st == CAL_CLIENT_RUNNING;

			INV(run ? s->mreq_valid : s->req_valid);
			INV(req - cal_client_offset(s->cc) ==
			    (run ? s->mreq : s->req));
		}
		if (s->started && s->start_acked) {
			INV(cal_client_slot(s->cc) == s->ps);
			if (s->decided)
				INV(cal_client_shm(s->cc) == s->shm);
			if (s->shm)
				shm_alive++;
		}
		if (!cal_client_frozen(s->cc) &&
		    (st == CAL_CLIENT_HELD ||
		     (st == CAL_CLIENT_WAITING && req != CAL_TIME_NONE))) {
			due = true;
			if (st == CAL_CLIENT_HELD)
				first = clock;
			else if (req < first)
				first = req;
		}
	}
	INV(alive == cal_client_count(F.cal));
	/* At most one runs, and it is the runner. */
	INV(running <= 1);
	INV((r != NULL) == (running == 1));
	if (F.shm) {
		struct cal_stats st;

		cal_stats(F.cal, &st);
		INV(st.shm_clients == shm_alive);
		/* The page names the runner: its slot, or 0 (messages, or
		 * nobody). */
		if (!F.rid_junk)
			INV(pg()->running_id ==
			    (r ? cal_client_slot(r) : 0));
	}
	if (!F.wild && !F.overrun && cal_stop_at(F.cal) != CAL_TIME_NONE)
		INV(clock <= cal_stop_at(F.cal));
	/* An advance stops exactly where it was asked to, and pauses. */
	if (F.want_stop_valid && cal_stop_at(F.cal) == CAL_TIME_NONE) {
		if (!F.wild && !F.overrun)
			INV(clock == F.want_stop);
		INV(!cal_is_running(F.cal));
		F.want_stop_valid = false;
		F.overrun = false;
	}
	/* No stall: running, nobody runs, yet someone is due and nothing
	 * will wake the calendar. */
	if (cal_is_running(F.cal) && !r &&
	    (due || cal_stop_at(F.cal) != CAL_TIME_NONE)) {
		/* Pacing, or a request in a slot the core has not looked
		 * at yet: it looks again now and then. */
		INV(cal_pace(F.cal) > 0 || shm_alive);
		/* (Unless the wall would need centuries to get there, or
		 * to catch up with a clock that a client's UPDATE pushed
		 * far past what pacing allowed.) */
		if (F.wall < (1ull << 62) && first >= clock &&
		    (cal_pace(F.cal) == 0 ||
		     (!F.wild &&
		      (double)(first - clock) / cal_pace(F.cal) < 1e15)))
			INV(F.wake != CAL_TIME_NONE);
	}
}

/* ---- the clients' side ---- */

static void disconnect(struct slot *s)
{
	struct cal_client *cc = s->cc;

	LOG("  c%d leaves\n", slot_index(s));
	if (s->ps) {
		F.freed[s->ps] = true;
		F.freed_at[s->ps] = grants();
	}
	/* Gone before the core hears of it: it must not be sent to. */
	memset(s, 0, sizeof(*s));
	cal_client_free(F.cal, cc);
}

static int on_msg(void *data, const struct um_timetravel_msg *m)
{
	struct slot *s = data;
	const char *why = NULL;
	uint64_t off = cal_client_offset(s->cc);
	bool expect_ok = true, acks = false, either = false;
	int r;

	LOG("  c%d -> %s seq=%u time=%" PRIu64 "\n", slot_index(s),
	    tt_op_name(m->op), m->seq, (uint64_t)m->time);
	/* Its first message after START's ACK: the core reads its slot's
	 * TIME_SHARE for its mode, for good; message mode gives the slot
	 * back.  (A kernel sets it first; junk may have changed it.) */
	if (s->start_acked && !s->decided && m->op < TT_OP_COUNT &&
	    m->op != UM_TIMETRAVEL_START) {
		s->decided = true;
		s->shm = F.shm && s->ps &&
			 (pslot(s->ps)->capa & TT_SHM_CAP_TIME_SHARE);
		if (F.shm && s->ps && !s->shm) {
			F.freed[s->ps] = true;
			F.freed_at[s->ps] = grants();
			s->ps = 0;
		}
		LOG("     (c%d mode: %s)\n", slot_index(s),
		    s->shm ? "shm" : "messages");
	}
	/* What the core must say, from what the client knows. */
	if (m->op >= TT_OP_COUNT) {
		expect_ok = false;
	} else if (m->op == UM_TIMETRAVEL_START) {
		expect_ok = !s->started;
	} else if (!s->start_acked) {
		expect_ok = false;
	} else {
		switch (m->op) {
		case UM_TIMETRAVEL_ACK:
			expect_ok = q_due(s) && m->seq == q_next(s);
			either = s->ack_wild;
			break;
		case UM_TIMETRAVEL_REQUEST:
			if (m->time < TT_TIME_MAX &&
			    m->time + off < TT_TIME_MAX)
				expect_ok = m->time >= s->own;
			/* junk in current_time may have moved its time; so
			 * may the answer to a GET it sent while its ACKs
			 * were held, which it has not seen yet */
			either = F.ct_junk || s->nawait || s->await_lost;
			acks = true;
			break;
		case UM_TIMETRAVEL_WAIT:
			expect_ok = s->running;
			/* no ACK in shm mode */
			acks = !s->shm;
			break;
		case UM_TIMETRAVEL_UPDATE:
			/* A runner may not report a time past its own
			 * pending request: that RUN could never be sent.
			 * (A shm runner's slot is read at its WAIT.) */
			if (s->running && s->mreq_valid &&
			    m->time < TT_TIME_MAX &&
			    m->time + off < TT_TIME_MAX)
				expect_ok = m->time <= s->mreq;
			acks = true;
			break;
		case UM_TIMETRAVEL_GET:
		case UM_TIMETRAVEL_GET_TOD:
		case TT_OP_BROADCAST:
			acks = true;
			break;
		default:
			expect_ok = false;
		}
	}
	/* The model moves first where the core may answer at once. */
	if (expect_ok) {
		switch (m->op) {
		case UM_TIMETRAVEL_START:
			s->started = true;
			s->start_seq = m->seq;
			break;
		case UM_TIMETRAVEL_REQUEST:
			if (m->time < TT_TIME_MAX &&
			    m->time + off < TT_TIME_MAX) {
				s->req_valid = true;
				s->req = m->time;
			} else {
				s->req_valid = false;
			}
			s->mreq_valid = s->req_valid;
			s->mreq = s->req;
			/* (junk in its slot may hide a newer one) */
			if (s->req_valid)
				hist_add(s, m->time + off);
			break;
		case UM_TIMETRAVEL_WAIT:
			s->running = false;
			s->waiting = true;
			break;
		case UM_TIMETRAVEL_UPDATE:
			if (s->running && m->time < TT_TIME_MAX &&
			    m->time + off < TT_TIME_MAX) {
				/* UML stays within FREE_UNTIL, and below
				 * its own pending request. */
				if ((s->fu_valid && m->time > s->fu) ||
				    (s->req_valid && m->time > s->req) ||
				    !s->fu_valid)
					s->wild = F.wild = true;
				if (m->time > s->own)
					s->own = m->time;
			}
			break;
		case TT_OP_BROADCAST:
			F.bcast = true;
			F.bcast_from = s;
			F.bcast_time = m->time;
			F.bcast_count = 0;
			break;
		}
	}
	bool was_held = s->nawait > 0 || s->await_lost;

	F.lone_fu = false;
	s->in_input = true;
	s->in_op = m->op;
	s->in_seq = m->seq;
	s->in_acks = 0;
	s->in_msgs = 0;
	s->in_first_is_ack = false;
	r = cal_client_input(F.cal, s->cc, m, &why);
	s->in_input = false;
	F.bcast = false;
	LOG("     = %d%s%s\n", r, r ? " " : "", r ? why : "");
	INV(r == 0 || r == -EPROTO);
	INV(r == 0 || why != NULL);
	INV(either || (r == 0) == expect_ok);
	if (r < 0) {
		disconnect(s);
		check_all();
		return r;
	}
	if (m->op == UM_TIMETRAVEL_ACK) {
		s->acked = m->seq;
		q_pop(s);
	}
	if (acks && s->in_msgs == 0 &&
	    (was_held || (F.lone_fu && m->op == UM_TIMETRAVEL_REQUEST))) {
		/* Held: a request below the runner's bound (the runner was
		 * just told), or anything behind an ACK already held. */
		if (s->nawait == NAWAIT) {
			s->await_lost = true;
		} else {
			s->await_seq[s->nawait] = m->seq;
			s->await_op[s->nawait] = m->op;
			s->await_tod[s->nawait] = cal_tod(F.cal) +
						  cal_clock(F.cal);
			s->nawait++;
		}
	} else if (acks) {
		/* One ACK, before anything else it is sent. */
		INV(s->in_acks == 1);
		INV(s->in_first_is_ack);
	} else {
		INV(s->in_acks == 0);
	}
	if (m->op == TT_OP_BROADCAST) {
		unsigned int want = 0;
		int i;

		for (i = 0; i < NSLOT; i++)
			if (F.s[i].alive && &F.s[i] != s &&
			    F.s[i].start_acked && !F.s[i].nawait &&
			    !F.s[i].await_lost)
				want++;
		INV(F.bcast_count == want);
	}
	check_all();
	return 0;
}

static void deliver(struct slot *s, size_t n)
{
	unsigned char buf[OUTBOX];

	if (!s->alive)
		return;
	if (n == 0 || n > s->nout)
		n = s->nout;
	memcpy(buf, s->out, n);
	memmove(s->out, s->out + n, s->nout - n);
	s->nout -= n;
	/* on_msg drops the client on error; the rest is lost with it. */
	(void)frame_feed(&s->fr, buf, n, on_msg, s);
}

static void flush(struct slot *s)
{
	while (s->alive && s->nout)
		deliver(s, 0);
}

static void say_bytes(struct slot *s, const void *b, size_t n)
{
	if (!s->alive)
		return;
	if (s->nout + n > OUTBOX)
		flush(s);
	if (!s->alive)
		return;
	memcpy(s->out + s->nout, b, n);
	s->nout += n;
}

static void say(struct slot *s, uint32_t op, uint32_t seq, uint64_t t)
{
	struct um_timetravel_msg m = { .op = op, .seq = seq, .time = t };

	say_bytes(s, &m, sizeof(m));
}

/* Say it and deliver it now, as a kernel does with each message. */
static void say_now(struct slot *s, uint32_t op, uint64_t t)
{
	flush(s);
	say(s, op, ++s->my_seq, t);
	flush(s);
}

static void connect_slot(struct slot *s)
{
	if (s->alive)
		return;
	memset(s, 0, sizeof(*s));
	s->alive = true;
	s->conn = ++F.next_conn;
	s->k612 = (F.k612_mask >> slot_index(s)) & 1;
	LOG("  c%d connects (conn %" PRIu64 ")\n", slot_index(s), s->conn);
	s->cc = cal_client_new(F.cal, (void *)(uintptr_t)s->conn, 0);
	INV(s->cc != NULL);
	INV(cal_client_state(s->cc) == CAL_CLIENT_NEW);
}

/* ACKs carry the calendar's seq, not ours. */
static void send_ack(struct slot *s)
{
	flush(s);
	if (!s->alive || !s->start_acked || !q_due(s))
		return;
	say(s, UM_TIMETRAVEL_ACK, q_next(s), 0);
	flush(s);
}

static void ack_all(struct slot *s)
{
	while (s->alive && s->start_acked && q_due(s))
		send_ack(s);
}

/* A request into its slot, as time_travel_ext_update_request() writes
 * it (calendar time), lowering free_until. */
static void shm_write_request(struct slot *s, uint64_t t)
{
	uint64_t v = t + s->off;

	LOG("  c%d writes its slot %u: request %" PRIu64 "\n",
	    slot_index(s), s->ps, t);
	pslot(s->ps)->req_time = v;
	pslot(s->ps)->flags |= TT_SHM_FLAGS_REQ_RUN;
	if (v < pg()->free_until)
		pg()->free_until = v;
	hist_add(s, v);
	s->req_valid = t < TT_TIME_MAX && v < TT_TIME_MAX;
	s->req = t;
}

/* A kernel's request, own time t: into its slot while running_id names a
 * TIME_SHARE slot (its own when it runs), else a REQUEST message. */
static void kreq(struct slot *s, uint64_t t)
{
	if (s->shm) {
		uint16_t r = pg()->running_id;

		/* (A kernel reads clients[running_id] unchecked; junk
		 * beyond the page is taken here as "no TIME_SHARE".) */
		if (r < F.nps && (pslot(r)->capa & TT_SHM_CAP_TIME_SHARE)) {
			shm_write_request(s, t);
			return;
		}
	}
	say_now(s, UM_TIMETRAVEL_REQUEST, t);
}

/* How far a kernel may run unasked, own time (0: nowhere). */
static uint64_t kfree_until(const struct slot *s)
{
	if (s->shm) {
		uint64_t fu = pg()->free_until;

		return fu > s->off ? fu - s->off : 0;
	}
	return s->fu_valid ? s->fu : 0;
}

/* One step of a well-behaved UML kernel, steered by p. */
static void uml_step(struct slot *s, uint32_t p)
{
	uint64_t d = (p >> 4) % 4 == 0 ? 256 :
		     (p >> 4) % 4 == 1 ? (uint64_t)((p >> 6) % 64) * 1000 :
		     (p >> 4) % 4 == 2 ? 10000000 : (p >> 6) % 3;
	uint64_t t;

	if (!s->alive) {
		connect_slot(s);
		return;
	}
	flush(s);
	if (!s->alive)
		return;
	if (s->start_acked && q_due(s)) {
		ack_all(s);
		return;
	}
	if (!s->started) {
		say_now(s, UM_TIMETRAVEL_START, p % 4);
		return;
	}
	if (!s->start_acked)
		return;
	if (s->waiting) {
		/* An interrupt while waiting: an earlier timer. */
		if (p % 8 == 0 && s->req_valid && s->req > s->own)
			kreq(s, s->own + (s->req - s->own) / 2);
		return;
	}
	if (s->shm && s->decided) {
		uint64_t fu = kfree_until(s);

		switch (p % 10) {
		case 0:
		case 4:
			/* It runs on by itself, below free_until and its
			 * timer, and tells the page (only while named). */
			if (pg()->running_id != s->ps || fu == 0)
				break;
			t = s->own + d;
			if (t > fu - 1)
				t = fu - 1;
			if (s->req_valid && t > s->req)
				t = s->req;
			if (t <= s->own)
				break;
			LOG("  c%d runs on to %" PRIu64 "\n", slot_index(s),
			    t);
			pg()->current_time = t + s->off;
			s->own = t;
			return;
		case 2:
		case 3:
			/* A timer: it asks only at or past free_until. */
			t = s->own + d;
			if (t < fu)
				t = fu;
			kreq(s, t);
			return;
		case 7:
			/* Idle for ever (S64_MAX), then WAIT. */
			if (!s->req_valid)
				kreq(s, INT64_MAX);
			break;
		default:
			break;
		}
	}
	switch (p % 10) {
	case 0:
		/* UML asks GET at boot, before any REQUEST. */
		if (!s->req_valid && !s->shm)
			say_now(s, UM_TIMETRAVEL_GET, UINT64_MAX);
		break;
	case 1:
		say_now(s, UM_TIMETRAVEL_GET_TOD, UINT64_MAX);
		break;
	case 2:
	case 3:
		/* A timer: UML asks only past FREE_UNTIL. */
		t = s->own + d;
		if (s->fu_valid && t < s->fu)
			t = s->fu;
		say_now(s, UM_TIMETRAVEL_REQUEST, t);
		break;
	case 4:
		/* It ran on by itself, within FREE_UNTIL and its timer. */
		if (!s->fu_valid || s->shm)
			break;
		t = s->own + d;
		if (t > s->fu)
			t = s->fu;
		if (s->req_valid && t > s->req)
			t = s->req;
		if (t < s->own)
			t = s->own;
		say_now(s, UM_TIMETRAVEL_UPDATE, t);
		break;
	case 5:
		say_now(s, TT_OP_BROADCAST, p);
		break;
	default:
		/* Idle: the next timer, then WAIT. */
		if (!s->req_valid && !(s->shm && p % 10 == 7)) {
			t = s->own + d;
			if (t < kfree_until(s))
				t = kfree_until(s);
			kreq(s, t);
			if (!s->alive)
				return;
			ack_all(s);
		}
		if (s->alive)
			say_now(s, UM_TIMETRAVEL_WAIT, UINT64_MAX);
		break;
	}
}

static const uint64_t quantum_table[8] = {
	0, 1, 256, 1000, 1000000, 10000000, 1000000000000ull, UINT64_MAX / 2,
};

static const double pace_table[8] = {
	0, 1, 0.5, 2, 1000, 1e-6, -1, 1e13,
};

static const unsigned int shm_slots_table[4] = { 2, 3, 5, NPAGE };

/* After junk went into the page at [at, at + n): whose slot it hit. */
static void poked(size_t at, size_t n)
{
	int i;

	bool hdr = at < 24 && at + n > 8;

	/* free_until, current_time: a runner may go past what it was
	 * given, or the core take junk as its time; then a client's newer
	 * request may look like garbage, and an older one stand. */
	if (hdr)
		F.wild = F.ct_junk = true;
	if (at < 26 && at + n > 24)
		F.rid_junk = true;
	for (i = 0; i < NSLOT; i++) {
		struct slot *s = &F.s[i];
		size_t lo = TT_SHM_HDR_SIZE + (size_t)s->ps * TT_SHM_SLOT_SIZE;

		if (!s->alive || !s->ps)
			continue;
		if (!hdr && (at >= lo + 16 || at + n <= lo + 4))
			continue;
		/* its flags or req_time: whatever is there now may be
		 * taken as its request */
		s->junked = true;
		hist_add(s, pslot(s->ps)->req_time);
	}
}

static void poke(void)
{
	uint8_t f = rd8();
	unsigned int k = rd8() % F.nps;
	uint64_t v = rd_time();
	size_t slot_at = TT_SHM_HDR_SIZE + (size_t)k * TT_SHM_SLOT_SIZE;

	LOG("poke %u slot %u value %" PRIu64 "\n", f % 8, k, v);
	switch (f % 8) {
	case 0:
		pg()->free_until = v;
		poked(8, 8);
		break;
	case 1:
		pg()->current_time = v;
		poked(16, 8);
		break;
	case 2:
		pg()->running_id = (uint16_t)v;
		poked(24, 2);
		break;
	case 3:
		pslot(k)->capa = (uint32_t)v;
		poked(slot_at, 4);
		break;
	case 4:
		pslot(k)->flags = (uint32_t)v;
		poked(slot_at + 4, 4);
		break;
	case 5:
		pslot(k)->req_time = v;
		poked(slot_at + 8, 8);
		break;
	case 6: {
		/* raw bytes anywhere */
		size_t at = (size_t)(v % F.mem_len), n = f >> 5, i;

		for (i = 0; i < n && at + i < F.mem_len; i++)
			F.mem[at + i] = rd8();
		poked(at, i);
		break;
	}
	default:
		/* what kernels read when they map it */
		if (f & 8)
			pg()->version = (uint32_t)v;
		else
			pg()->len = (uint32_t)v;
		break;
	}
}

static void step(uint8_t op)
{
	unsigned int act = op & 0x1f;
	struct slot *s = &F.s[(op >> 5) & 3];
	int si = slot_index(s);
	uint64_t t;
	uint8_t b;
	int r;

	/* The shm actions only with a page, so that scripts without one
	 * mean what they always did. */
	if (act >= ACT_POKE && !(F.shm && act < ACT_COUNT))
		act %= ACT_POKE;
	switch (act) {
	case ACT_CONNECT:
		connect_slot(s);
		break;
	case ACT_DISCONNECT:
		if (s->alive)
			disconnect(s);
		break;
	case ACT_RAW: {
		uint8_t buf[256];
		size_t n = rd8(), i;

		for (i = 0; i < n && F.p < F.end; i++)
			buf[i] = rd8();
		LOG("c%d raw %zu bytes\n", si, i);
		say_bytes(s, buf, i);
		break;
	}
	case ACT_MSG: {
		uint8_t o = rd8(), sm = rd8();
		uint32_t seq;

		t = rd_time();
		seq = sm % 4 == 0 ? ++s->my_seq :
		      sm % 4 == 1 ? q_next(s) :
		      sm % 4 == 2 ? s->start_seq : (uint32_t)(sm >> 2);
		LOG("c%d msg\n", si);
		say(s, o % 12, seq, t);
		break;
	}
	case ACT_EXACT: {
		uint8_t o = rd8();
		uint32_t seq = (uint32_t)rdn(4);

		t = rdn(8);
		LOG("c%d exact\n", si);
		say(s, o, seq, t);
		break;
	}
	case ACT_FLUSH:
		b = rd8();
		LOG("c%d flush %u\n", si, b);
		deliver(s, b);
		break;
	case ACT_ACK_NEXT:
		LOG("c%d ack next\n", si);
		send_ack(s);
		break;
	case ACT_ACK_ALL:
		LOG("c%d ack all\n", si);
		ack_all(s);
		break;
	case ACT_UML:
		b = rd8();
		LOG("c%d uml %u\n", si, b);
		uml_step(s, b);
		break;
	case ACT_ROUND: {
		unsigned int n = rd8() % 64, k, i;

		F.rng = rd8() * 7919u + 1;
		LOG("round %u\n", n);
		for (k = 0; k < n; k++)
			for (i = 0; i < NSLOT; i++)
				if (F.s[i].alive || k == 0)
					uml_step(&F.s[i], rnd());
		break;
	}
	case ACT_ADVANCE:
	case ACT_ADVANCE_ABS:
		t = rd_time();
		if (act == ACT_ADVANCE)
			t = cal_clock(F.cal) + t < t ? UINT64_MAX :
			    cal_clock(F.cal) + t;
		r = cal_advance(F.cal, t);
		LOG("advance %" PRIu64 " = %d\n", t, r);
		INV(r == 0 || r == -EINVAL);
		if (r == 0)
			INV(t >= F.last_clock && t <= TT_TIME_MAX);
		else	/* behind the clock (live, with a shm runner) */
			INV(t < cal_clock(F.cal) || t > TT_TIME_MAX);
		if (r == 0) {
			struct cal_client *rc = cal_runner(F.cal);
			struct slot *rs = rc ? slot_of(cal_client_data(rc)) :
					       NULL;

			F.want_stop_valid = true;
			F.want_stop = t;
			if (rs && rs->fu_valid &&
			    rs->fu + cal_client_offset(rc) > t)
				F.overrun = true;
			INV(F.wild || cal_stop_at(F.cal) == CAL_TIME_NONE ||
			    cal_stop_at(F.cal) == t);
		}
		break;
	case ACT_RUN:
		b = rd8();
		LOG("run %d\n", b & 1);
		cal_set_run(F.cal, b & 1);
		F.want_stop_valid = false;
		F.overrun = false;
		INV(cal_stop_at(F.cal) == CAL_TIME_NONE);
		break;
	case ACT_FREEZE:
		if (!s->alive)
			break;
		LOG("c%d freeze %d\n", si, !cal_client_frozen(s->cc));
		cal_client_set_frozen(F.cal, s->cc, !cal_client_frozen(s->cc));
		/* A thawed request may fall off the end of time. */
		if (cal_client_request(s->cc) == CAL_TIME_NONE &&
		    cal_client_state(s->cc) == CAL_CLIENT_WAITING)
			s->req_valid = false;
		break;
	case ACT_PACE: {
		double pace = pace_table[rd8() % 8];

		r = cal_set_pace(F.cal, pace);
		LOG("pace %g = %d\n", pace, r);
		INV((r == 0) == (pace >= 0 && pace <= 1e12));
		break;
	}
	case ACT_WALL:
		t = rd_time();
		/* A monotonic clock in ns stays far below 2^64 (the core
		 * adds a step to it unchecked: 584 years of uptime). */
		F.wall = F.wall + t < F.wall || F.wall + t > (1ull << 62) ?
			 (1ull << 62) : F.wall + t;
		LOG("wall %" PRIu64 "\n", F.wall);
		if (F.wake != CAL_TIME_NONE && F.wall >= F.wake) {
			F.wake = CAL_TIME_NONE;
			cal_tick(F.cal);
		}
		break;
	case ACT_TICK:
		LOG("tick\n");
		cal_tick(F.cal);
		break;
	case ACT_WAITER_ADD: {
		struct waiter *w = &F.w[si];

		t = rd_time();
		t = cal_clock(F.cal) + t < t ? UINT64_MAX :
		    cal_clock(F.cal) + t;
		if (w->on)
			cal_waiter_remove(F.cal, &w->w);
		LOG("waiter %d at %" PRIu64 "\n", si, t);
		cal_waiter_add(F.cal, &w->w, t);
		w->on = true;
		break;
	}
	case ACT_WAITER_DEL:
		if (F.w[si].on) {
			LOG("waiter %d off\n", si);
			cal_waiter_remove(F.cal, &F.w[si].w);
			F.w[si].on = false;
		}
		break;
	case ACT_NAME: {
		char buf[40];
		size_t n = rd8() % 40, i;

		for (i = 0; i < n; i++)
			buf[i] = (char)rd8();
		if (s->alive) {
			r = cal_client_set_name(s->cc, buf, n);
			INV(r == 0 || r == -EINVAL);
			if (r == 0) {
				INV(strlen(cal_client_name(s->cc)) == n);
				INV(memcmp(cal_client_name(s->cc), buf, n) == 0);
			}
		}
		break;
	}
	case ACT_TOD:
		cal_set_tod(F.cal, rd_time());
		break;
	case ACT_POKE:
		poke();
		break;
	case ACT_KSHM:
		/* It read running_id naming a TIME_SHARE slot just before
		 * that changed: its request goes into its slot anyway. */
		t = rd_time();
		/* (A kernel's times stay below S64_MAX.) */
		if (s->alive && s->shm && s->start_acked)
			shm_write_request(s, t > (uint64_t)INT64_MAX - s->own ?
					  (uint64_t)INT64_MAX : s->own + t);
		break;
	}
	check_all();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cal_config cfg = { 0 };
	uint8_t flags;
	int i;

	memset(&F, 0, sizeof(F));
	F.p = data;
	F.end = data + size;
	F.wake = CAL_TIME_NONE;
	F.wall = 1000000000ull;
	flags = rd8();
	cfg.paused = flags & 1;
	cfg.expect = (flags >> 1) & 3;
	cfg.quantum = quantum_table[rd8() % 8];
	cfg.tod = (uint64_t)rd8() * 1000000000ull;
	flags = rd8();
	F.quantum = cfg.quantum ? cfg.quantum : CAL_DEFAULT_QUANTUM;
	F.cal = cal_new(&cfg, &ops, NULL);
	INV(F.cal != NULL);
	/* (Low bits 01: a byte that was once ignored stays ignored for
	 * most old scripts.) */
	if ((flags & 3) == 1) {
		F.nps = shm_slots_table[(flags >> 2) & 3];
		F.mem_len = shm_size(F.nps);
		F.mem = aligned_alloc(4096, (F.mem_len + 4095) & ~(size_t)4095);
		INV(F.mem != NULL);
		memset(F.mem, 0, F.mem_len);
		INV(cal_shm_attach(F.cal, F.mem, F.mem_len) == 0);
		INV(pg()->version == TT_SHM_VERSION);
		INV(pg()->max_clients == F.nps);
		F.shm = true;
		for (i = 0; i < NSLOT; i++)
			F.k612_mask |= (uint8_t)(((flags >> (4 + i)) & 1) << i);
	}
	check_all();
	while (F.p < F.end)
		step(rd8());
	/* The rest of what they said, then everyone leaves. */
	for (i = 0; i < NSLOT; i++)
		flush(&F.s[i]);
	for (i = 0; i < NSLOT; i++) {
		if (F.s[i].alive) {
			disconnect(&F.s[i]);
			check_all();
		}
	}
	for (i = 0; i < NWAITER; i++)
		if (F.w[i].on)
			cal_waiter_remove(F.cal, &F.w[i].w);
	if (F.shm)
		cal_shm_detach(F.cal);
	cal_free(F.cal);
	free(F.mem);
	return 0;
}
