/* SPDX-License-Identifier: MIT */
/*
 * cal.c: the calendar core (see cal.h).
 *
 * Rules it keeps, from the UML client (arch/um/kernel/time.c):
 * - one client runs at a time, from START's ACK or RUN until its WAIT;
 * - RUN carries exactly the time the client asked for, else it BUGs;
 * - what a client is told of time never goes backwards, else it panics;
 * - FREE_UNTIL is forgotten at every WAIT, so it goes out with each RUN;
 * - a request below a message-mode runner's FREE_UNTIL lowers it at once,
 *   and the requester's ACK waits for the runner's ACK of that (see
 *   cal_runner_bound).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal.h"
#include "heap.h"
#include "shm.h"

/* Messages that may await one client's ACK at once: a client that reads
 * (kernels ACK as they read) never comes near; one that stopped is
 * dropped by the socket adapter long before (64 KiB unread). */
#define CAL_ACKQ_MAX 65536u
/* Messages kept for a client whose REQUEST's ACK is held: as many as the
 * socket adapter lets pile up unread before it drops a client. */
#define CAL_DEFER_MAX 4096u

struct cal_client {
	struct cal *cal;
	struct cal_client *prev, *next; /* connection order */
	struct cal_client *shm_prev, *shm_next; /* in cal->shm_head */
	struct cal_client *bucket_next; /* in cal->buckets */
	struct heap_node req_node;   /* in cal->queue while req is set */
	struct heap_node start_node; /* in cal->held while its START is */
	void *data;
	uint64_t number;
	uint64_t id;
	bool has_id;
	pid_t pid;
	enum cal_client_state state;
	uint64_t req; /* pending request on the calendar's clock */
	uint64_t offset; /* the clock at START's ACK: the client's time 0 */
	uint64_t given;  /* latest time it was given or reported (calendar) */
	/* The FREE_UNTIL of its last RUN (calendar): after it, its own time
	 * may be anywhere below this without our knowing. */
	uint64_t fu;
	/* The FREE_UNTIL a message-mode runner was last told (0: none, it
	 * asks for every event): a request below it must lower it. */
	uint64_t fu_told;
	/* A lowered FREE_UNTIL is out, and nothing but ACKs came since: if
	 * its ACK comes first, the runner read it while it waited (a kick's
	 * wait) at its reported time, so it reaches no further than that. */
	bool fu_quiet;
	/* Its REQUEST's ACK waits for the runner's ACK of a lowered
	 * FREE_UNTIL (cal->hold_seq); what we send it meanwhile waits in
	 * deferred, in order. */
	bool held;
	struct cal_client *hold_next; /* in cal->holds */
	struct um_timetravel_msg *deferred;
	unsigned int ndeferred, deferred_cap;
	uint32_t start_seq;
	uint32_t tx_seq;   /* seq of the last message we sent it */
	/* Seqs of our messages that await its ACK, oldest first (a ring):
	 * all but ACKs, and but RUN in shm mode.  ACKs come in this order. */
	uint32_t *ackq;
	unsigned int ackq_head, ackq_len, ackq_cap;
	bool ackq_lost; /* one could not be kept: its next ACK is refused */
	uint16_t slot;   /* on the shared page; 0: none */
	bool mode_known; /* its first message after START's ACK came */
	bool shm;        /* it set TIME_SHARE: uses the page */
	uint64_t shm_requests;
	uint64_t rx[TT_OP_COUNT];
	uint64_t tx[TT_OP_COUNT];
	bool frozen;
	bool named;         /* name set by hand, not the default */
	uint64_t frozen_at; /* the clock when frozen */
	char name[CAL_NAME_MAX + 1];
};

struct cal {
	const struct cal_ops *ops;
	void *data;
	struct cal_config cfg;
	uint64_t clock;
	uint64_t tod;
	uint64_t stop_at;
	bool run;
	bool expect_met;
	bool steered; /* run or pause was set by hand: --expect keeps off */
	unsigned int started; /* clients that ever sent START */
	unsigned int nclients;
	uint64_t next_number;
	struct cal_client *runner;
	/* Clients whose REQUEST's ACK waits for the runner (see
	 * cal_runner_bound), and that runner. */
	struct cal_client *holds;
	struct cal_client *hold_runner;
	uint32_t hold_seq; /* the FREE_UNTIL whose ACK releases them */
	struct cal_client *head, *tail;
	/* Clients by number, for the tree's every lookup: chains, and a
	 * power-of-2 count kept at least nclients (or NULL: walk the list,
	 * when there was no memory for it). */
	struct cal_client **buckets;
	size_t nbuckets;
	struct heap queue; /* clients with a request, earliest first */
	/* Held STARTs, lowest ID first.  Each counts as a request at the
	 * current clock, whenever that is, so they are kept apart from
	 * the queue, whose keys do not move. */
	struct heap held;
	struct heap waiters; /* until/ readers, earliest first */
	struct cal_stats stats;
	/* Pacing: simulated time may reach pace_sim0 + (wall - pace_wall0)
	 * * pace, rebased at every change so the clock never jumps. */
	double pace;
	uint64_t pace_wall0, pace_sim0;
	uint64_t wake_at; /* what we last asked ops->wake for */
	/* The shared-memory page, when the adapter gave one. */
	struct shm shm;
	bool has_shm;
	struct cal_client *shm_head; /* clients in shm mode */
	bool shm_scanned; /* the slots were just read: cal_schedule need not */
	/* Every slot request written since the last full look is at or above
	 * this: one written below free_until lowers it, and we note
	 * free_until at each WAIT and before each rewrite.  So while the next
	 * request we know of is below it, there is nothing to look for. */
	uint64_t shm_floor;
	uint64_t shm_fu_written; /* free_until as we last wrote it */
	unsigned int shm_skipped; /* looks skipped since the last full one */
	/* Wall ns between looks at the slots while idle (see cal_schedule). */
	uint64_t shm_poll;
};

#define CAL_SHM_POLL_MIN 1000000ull     /* 1 ms */
#define CAL_SHM_POLL_MAX 1000000000ull  /* 1 s */

/* How far ahead of the pace limit a runner may go unasked (wall ns). */
#define CAL_PACE_STEP 10000000ull

static const char *const op_names[TT_OP_COUNT] = {
	"ack", "start", "request", "wait", "get",
	"update", "run", "free_until", "get_tod", "broadcast",
};

const char *tt_op_name(uint32_t op)
{
	return op < TT_OP_COUNT ? op_names[op] : "unknown";
}

/* Earliest request first; ties by ID, then connection order, so that a
 * run does not depend on who won a race to the socket. */
static bool cal_client_before(const struct heap_node *an,
			      const struct heap_node *bn)
{
	const struct cal_client *a =
		container_of(an, const struct cal_client, req_node);
	const struct cal_client *b =
		container_of(bn, const struct cal_client, req_node);

	if (a->req != b->req)
		return a->req < b->req;
	if (a->id != b->id)
		return a->id < b->id;
	return a->number < b->number;
}

/* Held STARTs: by ID, then connection order. */
static bool cal_client_before_id(const struct heap_node *an,
				 const struct heap_node *bn)
{
	const struct cal_client *a =
		container_of(an, const struct cal_client, start_node);
	const struct cal_client *b =
		container_of(bn, const struct cal_client, start_node);

	if (a->id != b->id)
		return a->id < b->id;
	return a->number < b->number;
}

static bool cal_waiter_before(const struct heap_node *a,
			      const struct heap_node *b)
{
	return container_of(a, const struct cal_waiter, hn)->t <
	       container_of(b, const struct cal_waiter, hn)->t;
}

static void cal_changed(struct cal *cal)
{
	if (cal->ops->changed)
		cal->ops->changed(cal->data);
}

/* Note that seq awaits c's ACK. */
static void cal_ackq_push(struct cal_client *c, uint32_t seq)
{
	if (c->ackq_len == c->ackq_cap) {
		unsigned int cap = c->ackq_cap ? c->ackq_cap * 2 : 8, i;
		uint32_t *q = cap <= CAL_ACKQ_MAX ?
			      malloc(cap * sizeof(*q)) : NULL;

		if (!q) {
			c->ackq_lost = true;
			return;
		}
		for (i = 0; i < c->ackq_len; i++)
			q[i] = c->ackq[(c->ackq_head + i) % c->ackq_cap];
		free(c->ackq);
		c->ackq = q;
		c->ackq_cap = cap;
		c->ackq_head = 0;
	}
	c->ackq[(c->ackq_head + c->ackq_len++) % c->ackq_cap] = seq;
}

/* Keep msgs for c until its held ACK goes out (cal_holds_release). */
static void cal_defer(struct cal *cal, struct cal_client *c,
		      const struct um_timetravel_msg *msgs, unsigned int n)
{
	if (c->ndeferred + n > c->deferred_cap) {
		unsigned int cap = c->deferred_cap ? c->deferred_cap * 2 : 4;
		struct um_timetravel_msg *v;

		while (cap < c->ndeferred + n)
			cap *= 2;
		v = cap <= CAL_DEFER_MAX ?
		    realloc(c->deferred, cap * sizeof(*v)) : NULL;
		if (!v) {
			/* It does not read what it is sent (or no memory):
			 * as the adapter does when output piles up. */
			if (cal->ops->kick)
				cal->ops->kick(c->data);
			return;
		}
		c->deferred = v;
		c->deferred_cap = cap;
	}
	memcpy(c->deferred + c->ndeferred, msgs, n * sizeof(*msgs));
	c->ndeferred += n;
}

static void cal_send(struct cal *cal, struct cal_client *c,
		     struct um_timetravel_msg *msgs, unsigned int n,
		     bool start_ack)
{
	unsigned int i;

	if (c->held) {
		cal_defer(cal, c, msgs, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (msgs[i].op != UM_TIMETRAVEL_ACK) {
			msgs[i].seq = ++c->tx_seq;
			/* The kernel does not ACK RUN in shm mode. */
			if (msgs[i].op != UM_TIMETRAVEL_RUN || !c->shm)
				cal_ackq_push(c, msgs[i].seq);
		}
		if (msgs[i].op < TT_OP_COUNT) {
			c->tx[msgs[i].op]++;
			cal->stats.sent[msgs[i].op]++;
		}
		if (cal->ops->event) {
			struct cal_event ev = {
				.client = c, .msg = &msgs[i], .out = true,
				.start_ack = start_ack && i == 0,
			};

			cal->ops->event(cal->data, &ev);
		}
	}
	cal->ops->send(c->data, msgs, n, start_ack);
}

static void cal_ack(struct cal *cal, struct cal_client *c, uint32_t seq,
		    uint64_t time)
{
	struct um_timetravel_msg m = {
		.op = UM_TIMETRAVEL_ACK, .seq = seq, .time = time,
	};

	cal_send(cal, c, &m, 1, false);
}

static uint64_t cal_to_client(const struct cal_client *c, uint64_t t)
{
	t -= c->offset;
	return t > TT_TIME_MAX ? TT_TIME_MAX : t;
}

/* The held ACKs go out, each client's deferred messages in one write. */
static void cal_holds_release(struct cal *cal)
{
	struct cal_client *c;

	while ((c = cal->holds)) {
		cal->holds = c->hold_next;
		c->hold_next = NULL;
		c->held = false;
		if (c->ndeferred) {
			unsigned int n = c->ndeferred;

			c->ndeferred = 0;
			cal_send(cal, c, c->deferred, n, false);
		}
	}
	cal->hold_runner = NULL;
}

/* c leaves: whatever it was held for goes with it. */
static void cal_hold_forget(struct cal *cal, struct cal_client *c)
{
	struct cal_client **p;

	if (c->held) {
		for (p = &cal->holds; *p != c; p = &(*p)->hold_next)
			;
		*p = c->hold_next;
	}
	if (cal->hold_runner == c)
		cal->hold_runner = NULL;
	free(c->deferred);
}

/*
 * c, not the runner, asks for t below what the running message-mode
 * client was told it may run freely to.  That runner reads its socket
 * only in its own exchanges (an UPDATE, a GET, the wait for a device's
 * reply) and would go past t unasked, pushing the clock beyond c's
 * request: tell it the lower FREE_UNTIL now, and hold c's ACK until the
 * runner ACKs it.  When c's request answers the runner's own kick (a
 * frame from wmediumd, say), the runner waits for c meanwhile and so
 * reads the new bound before it can move on.  Never below the runner's
 * own time: a USFSTL client asserts that.
 */
static void cal_runner_bound(struct cal *cal, struct cal_client *c,
			     uint64_t t)
{
	struct cal_client *r = cal->runner;
	struct um_timetravel_msg m = { .op = UM_TIMETRAVEL_FREE_UNTIL };

	if (!r || r == c || r->state != CAL_CLIENT_RUNNING || c->frozen ||
	    t >= r->fu_told || r->slot)
		return; /* a runner with a slot reads free_until off the page */
	if (t < r->given)
		t = r->given;
	if (t >= r->fu_told)
		return;
	r->fu_told = t;
	m.time = cal_to_client(r, t);
	cal_send(cal, r, &m, 1, false);
	if (cal->hold_runner != r)
		r->fu_quiet = true;
	cal->hold_runner = r;
	cal->hold_seq = r->tx_seq;
	if (!c->held) {
		c->held = true;
		c->hold_next = cal->holds;
		cal->holds = c;
	}
}

/* A request, or a held START, enters or moves in the queue. */
static int cal_queue_set(struct cal *cal, struct cal_client *c, uint64_t t)
{
	c->req = t;
	if (c->frozen)
		return 0; /* kept and shown, but holds nobody back */
	if (heap_contains(&c->req_node)) {
		heap_update(&cal->queue, &c->req_node);
		return 0;
	}
	return heap_insert(&cal->queue, &c->req_node);
}

static void cal_queue_clear(struct cal *cal, struct cal_client *c)
{
	heap_remove(&cal->queue, &c->req_node);
	c->req = CAL_TIME_NONE;
}

/* The next to run: the earliest request, or the first held START
 * (which asks for "now"); ties as in cal_client_before. */
static struct cal_client *cal_queue_top(const struct cal *cal)
{
	struct heap_node *q = heap_top(&cal->queue);
	struct heap_node *h = heap_top(&cal->held);
	struct cal_client *qc, *hc;

	qc = q ? container_of(q, struct cal_client, req_node) : NULL;
	if (!h)
		return qc;
	hc = container_of(h, struct cal_client, start_node);
	if (!qc)
		return hc;
	if (qc->req != cal->clock)
		return qc->req < cal->clock ? qc : hc;
	/* A tie at the clock: by ID, then connection order. */
	if (qc->id != hc->id)
		return qc->id < hc->id ? qc : hc;
	return qc->number < hc->number ? qc : hc;
}

/* When the next to run asks to: a held START asks for now. */
static uint64_t cal_client_due(const struct cal *cal,
			       const struct cal_client *c)
{
	return c->state == CAL_CLIENT_HELD ? cal->clock : c->req;
}

/* A runner that may be using the page: in shm mode, or with a slot and
 * no message yet to tell (a kernel maps the page before it sends one). */
static bool cal_page_runner(const struct cal *cal)
{
	const struct cal_client *r = cal->runner;

	return r && r->slot && (r->shm || !r->mode_known);
}

/*
 * The page's current_time: owned by a shared-memory runner while one
 * runs, else the clock, which is what a waiting client takes as its time
 * at an interrupt.  Like a GET's answer it must not pass a waiting
 * client's pending request (its RUN would go backwards): a message-mode
 * runner that went past one unasked moved the clock, not the page.
 */
static void cal_shm_publish(struct cal *cal)
{
	struct cal_client *next;
	uint64_t t = cal->clock;

	if (!cal->has_shm || cal_page_runner(cal))
		return;
	next = cal_queue_top(cal);
	if (next && next->state == CAL_CLIENT_WAITING && next->req < t) {
		uint64_t shown = shm_time(&cal->shm);

		/* ...and never back below what it showed */
		t = shown > next->req && shown < t ? shown : next->req;
	}
	shm_set_time(&cal->shm, t);
}

static void cal_clock_to(struct cal *cal, uint64_t t)
{
	if (t > cal->clock) {
		cal->clock = t;
		cal_shm_publish(cal);
	}
}

/* The earliest until/ target still ahead of the clock. */
static uint64_t cal_waiters_bound(struct cal *cal, uint64_t fu)
{
	struct heap_node *n;

	/* Waiters already reached are the tree's to answer; drop them from
	 * the bound so they do not pin FREE_UNTIL to the past. */
	while ((n = heap_top(&cal->waiters)) &&
	       container_of(n, struct cal_waiter, hn)->t <= cal->clock)
		heap_remove(&cal->waiters, n);
	if (n && container_of(n, struct cal_waiter, hn)->t < fu)
		fu = container_of(n, struct cal_waiter, hn)->t;
	return fu;
}

/* The simulated time pacing allows at wall time `wall`. */
static uint64_t cal_pace_limit(const struct cal *cal, uint64_t wall)
{
	double d;

	if (wall <= cal->pace_wall0)
		return cal->pace_sim0;
	d = (double)(wall - cal->pace_wall0) * cal->pace;
	if (d >= (double)(TT_TIME_MAX - cal->pace_sim0))
		return TT_TIME_MAX;
	return cal->pace_sim0 + (uint64_t)d;
}

/* The wall time at which pacing allows simulated time t. */
static uint64_t cal_pace_when(const struct cal *cal, uint64_t t)
{
	double d = (double)(t - cal->pace_sim0) / cal->pace;

	if (d >= (double)(UINT64_MAX - cal->pace_wall0))
		return CAL_TIME_NONE;
	return cal->pace_wall0 + (uint64_t)d + 1;
}

static void cal_pace_rebase(struct cal *cal)
{
	if (cal->pace > 0) {
		cal->pace_wall0 = cal->ops->now(cal->data);
		cal->pace_sim0 = cal->clock;
	}
}

static void cal_wake(struct cal *cal, uint64_t when)
{
	if (cal->wake_at == when || !cal->ops->wake)
		return;
	cal->wake_at = when;
	cal->ops->wake(cal->data, when);
}

/* How far the runner may go without asking, on the calendar's clock:
 * up to the earliest other request, the stop point, and a quantum, so
 * that a pause or an advance takes effect promptly. */
static uint64_t cal_free_until(struct cal *cal)
{
	struct cal_client *next = cal_queue_top(cal);
	uint64_t fu = cal->clock + cal->cfg.quantum;

	if (fu < cal->clock)
		fu = CAL_TIME_NONE;
	if (next && cal_client_due(cal, next) < fu)
		fu = cal_client_due(cal, next);
	if (cal->stop_at < fu)
		fu = cal->stop_at;
	fu = cal_waiters_bound(cal, fu);
	if (cal->pace > 0) {
		uint64_t lim = cal_pace_limit(cal, cal->ops->now(cal->data) +
						   CAL_PACE_STEP);

		if (lim < fu)
			fu = lim;
	}
	/* What a kernel may be told (the page has no offset to cap it). */
	return fu > TT_TIME_MAX ? TT_TIME_MAX : fu;
}

/* What free_until reads now bounds every slot request written since the
 * last full look (see shm_floor); above what we wrote, it is garbage. */
static void cal_shm_note(struct cal *cal, uint64_t pfu)
{
	if (pfu < cal->shm_floor)
		cal->shm_floor = pfu;
	if (pfu > cal->shm_fu_written)
		cal->shm_floor = 0; /* raised: only garbage does that; look */
}

/* Name the runner on the page before it hears it runs: a kernel that
 * sets the time while not named panics.  A message-mode runner gets slot
 * 0, without TIME_SHARE, so shm clients send their REQUESTs as messages. */
static void cal_shm_hand(struct cal *cal, struct cal_client *c, uint64_t t,
			 uint64_t fu)
{
	struct cal_client *next;
	uint64_t prev;

	if (!cal->has_shm)
		return;
	cal->shm_poll = CAL_SHM_POLL_MIN;
	prev = shm_free_until(&cal->shm);
	cal_shm_note(cal, prev);
	/*
	 * Up to the next request exactly, the kernel's `time < free_until`
	 * would make a shm runner ask for an event at that very time, and a
	 * request written at it would not lower free_until: one past lets the
	 * runner take it unasked (ties have no order anyway), and any slot
	 * request written up to it shows in free_until (see shm_floor).
	 */
	next = c->shm ? cal_queue_top(cal) : NULL;
	if (next && cal_client_due(cal, next) == fu && fu < TT_TIME_MAX &&
	    fu < cal->stop_at && cal->pace == 0 &&
	    fu < cal->clock + cal->cfg.quantum &&
	    cal_waiters_bound(cal, fu + 1) > fu)
		fu++; /* only when the next request alone bounds it */
	cal->shm_fu_written = fu;
	shm_set_free_until(&cal->shm, fu);
	shm_set_time(&cal->shm, t);
	shm_set_running(&cal->shm, c->slot);
}

static void cal_grant(struct cal *cal, struct cal_client *c)
{
	uint64_t t = c->req, fu;

	if (c->state == CAL_CLIENT_HELD) {
		struct um_timetravel_msg ack = {
			.op = UM_TIMETRAVEL_ACK, .seq = c->start_seq,
		};

		/* A slot freed before the previous grant: see shm_get. */
		if (cal->has_shm && !c->slot)
			c->slot = shm_get(&cal->shm, cal->stats.grants);
		cal->runner = c;
		cal->stats.grants++;
		/* A late joiner's time starts at 0: its offset.  A shm client
		 * takes current_time as its offset when it maps the page, so
		 * that is the clock here too. */
		heap_remove(&cal->held, &c->start_node);
		c->offset = c->given = cal->clock;
		c->state = CAL_CLIENT_RUNNING;
		c->fu_told = 0; /* no FREE_UNTIL: it asks for every event */
		fu = cal_free_until(cal);
		if (c->slot) {
			/* Message mode got no FREE_UNTIL here; shm mode
			 * may run on up to the page's. */
			c->fu = fu;
			shm_slot_reset(&cal->shm, c->slot, c->id);
			ack.time = c->slot;
		}
		cal_shm_hand(cal, c, cal->clock, fu);
		cal_send(cal, c, &ack, 1, true);
	} else {
		struct um_timetravel_msg m[2] = {
			{ .op = UM_TIMETRAVEL_FREE_UNTIL },
			{ .op = UM_TIMETRAVEL_RUN },
		};

		cal->runner = c;
		cal->stats.grants++;
		cal_queue_clear(cal, c);
		cal_clock_to(cal, t);
		if (t > c->given)
			c->given = t;
		c->state = CAL_CLIENT_RUNNING;
		c->fu = c->fu_told = cal_free_until(cal);
		if (c->shm) {
			/* It reads free_until off the page, and would take a
			 * REQ_RUN left set as a request still pending. */
			if (cal->has_shm)
				shm_slot_clear_request(&cal->shm, c->slot);
			cal_shm_hand(cal, c, t, c->fu);
			m[1].time = t - c->offset;
			cal_send(cal, c, &m[1], 1, false);
			return;
		}
		cal_shm_hand(cal, c, cal->clock, c->fu);
		m[0].time = cal_to_client(c, c->fu);
		m[1].time = t - c->offset;
		cal_send(cal, c, m, 2, false);
	}
}

/* The request in c's slot, checked as garbage may be there: false if
 * none, else *t (CAL_TIME_NONE: "sleep forever"). */
static bool cal_shm_read(const struct cal *cal, const struct cal_client *c,
			 uint64_t *t)
{
	if (!shm_slot_request(&cal->shm, c->slot, t))
		return false;
	if (*t < c->offset || *t < c->given)
		return false; /* garbage, or half written: not a request yet */
	if (*t - c->offset >= TT_TIME_MAX || *t >= TT_TIME_MAX)
		*t = CAL_TIME_NONE;
	return true;
}

/* Give c's slot back; nobody is named runner with it any more. */
static void cal_shm_release(struct cal *cal, struct cal_client *c)
{
	if (!c->slot)
		return;
	if (shm_running(&cal->shm) == c->slot)
		shm_set_running(&cal->shm, 0);
	shm_put(&cal->shm, c->slot, cal->stats.grants);
	c->slot = 0;
}

/* A request read from c's slot: what a REQUEST message does.  Returns
 * true if it changed c's request. */
static bool cal_shm_take(struct cal *cal, struct cal_client *c)
{
	uint64_t t;

	if (!cal_shm_read(cal, c, &t) || t == c->req)
		return false;
	if (t == CAL_TIME_NONE)
		cal_queue_clear(cal, c);
	else if (cal_queue_set(cal, c, t) < 0)
		return false; /* no memory: looked at again next time */
	c->shm_requests++;
	cal->stats.shm_requests++;
	if (cal->ops->event) {
		struct um_timetravel_msg m = {
			.op = UM_TIMETRAVEL_REQUEST,
			.time = t == CAL_TIME_NONE ? UINT64_MAX : t - c->offset,
		};
		struct cal_event ev = { .client = c, .msg = &m, .shm = true };

		cal->ops->event(cal->data, &ev);
	}
	return true;
}

/* Requests written into slots are seen only when we look: whenever
 * nobody runs, before choosing who does (O(shm clients)). */
static void cal_shm_scan(struct cal *cal)
{
	struct cal_client *c;

	for (c = cal->shm_head; c; c = c->shm_next)
		if (c->state == CAL_CLIENT_WAITING)
			(void)cal_shm_take(cal, c);
	/* What is written from now on shows in free_until when we next note
	 * it: at a look, a WAIT or before a rewrite. */
	cal->shm_floor = CAL_TIME_NONE;
}

/* Look at the slots unless no request there can come before the next
 * one we know of: with many clients that waiting quietly, most grants
 * need no look (see shm_floor). */
static void cal_shm_look(struct cal *cal)
{
	struct cal_client *next;

	if (!cal->shm_head)
		return;
	if (cal->has_shm)
		cal_shm_note(cal, shm_free_until(&cal->shm));
	next = cal_queue_top(cal);
	/* A full look at least every 64 grants all the same: a client that
	 * put free_until back after another lowered it hides that request
	 * from the floor, for that long at most. */
	if (next && cal_client_due(cal, next) < cal->shm_floor &&
	    ++cal->shm_skipped < 64)
		return;
	cal->shm_skipped = 0;
	cal_shm_scan(cal);
}

/*
 * Idle with shm clients waiting: a client that read running_id just before
 * we named slot 0 may write its slot after our last look, and would send
 * nothing.  Look again now and then (backing off) rather than hang.
 */
static uint64_t cal_shm_poll_at(struct cal *cal)
{
	uint64_t at;

	if (!cal->shm_head || !cal->ops->now || !cal->ops->wake)
		return CAL_TIME_NONE;
	at = cal->ops->now(cal->data) + cal->shm_poll;
	if (cal->shm_poll < CAL_SHM_POLL_MAX)
		cal->shm_poll *= 2;
	return at;
}

/* Decide what happens next; called after anything that may change it. */
static void cal_schedule(struct cal *cal)
{
	struct cal_client *c;
	uint64_t due, lim = CAL_TIME_NONE;
	bool scanned = cal->shm_scanned;

	cal->shm_scanned = false;

	/* The runner those ACKs waited for waits or left: it read the bound
	 * (or never will); they go before anyone is granted a turn. */
	if (cal->holds && (!cal->runner || cal->runner != cal->hold_runner))
		cal_holds_release(cal);
	if (cal->runner || !cal->run) {
		/* A shm runner reads free_until live: a new earlier request,
		 * stop point or until/ reader takes effect at once. */
		if (cal_page_runner(cal))
			shm_lower_free_until(&cal->shm, cal_free_until(cal));
		cal_wake(cal, CAL_TIME_NONE);
		return;
	}
	if (!scanned)
		cal_shm_look(cal);
	c = cal_queue_top(cal);
	/* A RUN must carry the newest request: a shm client's slot may say
	 * otherwise than we saw (a request hidden from the look by a
	 * scribbled free_until).  Take it, and choose again. */
	for (int i = 0; i < 4 && c && c->shm && cal->has_shm &&
	     c->state == CAL_CLIENT_WAITING && cal_shm_take(cal, c); i++)
		c = cal_queue_top(cal);
	due = c ? cal_client_due(cal, c) : CAL_TIME_NONE;
	if (cal->stop_at != CAL_TIME_NONE && due >= cal->stop_at)
		due = cal->stop_at; /* a jump to the stop point */
	if (due == CAL_TIME_NONE) {
		/* Idle: nothing to follow the wall with; start afresh when
		 * someone asks, rather than in a burst. */
		cal_pace_rebase(cal);
		cal_wake(cal, cal_shm_poll_at(cal));
		cal_changed(cal);
		return;
	}
	if (cal->pace > 0) {
		lim = cal_pace_limit(cal, cal->ops->now(cal->data));
		if (due > lim) {
			/* Not yet: the clock creeps up to what the wall allows
			 * (nobody asks before), and we come back in time. */
			uint64_t when = cal_pace_when(cal, due);
			uint64_t poll = cal_shm_poll_at(cal);

			cal_clock_to(cal, lim);
			/* A slot written late is seen at the poll, not only
			 * when the wall reaches the next known request. */
			cal_wake(cal, poll < when ? poll : when);
			cal_changed(cal);
			return;
		}
	}
	cal_wake(cal, CAL_TIME_NONE);
	if (c && (cal->stop_at == CAL_TIME_NONE ||
		  cal_client_due(cal, c) < cal->stop_at)) {
		cal_grant(cal, c);
	} else {
		/* Nobody asks for time before the stop point: jump there. */
		cal_clock_to(cal, cal->stop_at);
		cal->stop_at = CAL_TIME_NONE;
		cal->run = false;
	}
	cal_changed(cal);
}

static size_t cal_bucket(const struct cal *cal, uint64_t number)
{
	/* Numbers are consecutive: their low bits spread them already. */
	return (size_t)number & (cal->nbuckets - 1);
}

static void cal_bucket_add(struct cal *cal, struct cal_client *c)
{
	struct cal_client **b = &cal->buckets[cal_bucket(cal, c->number)];

	c->bucket_next = *b;
	*b = c;
}

/* Room for one more client; without memory, lookups just get slower. */
static void cal_buckets_grow(struct cal *cal)
{
	size_t n = cal->nbuckets ? cal->nbuckets * 2 : 64;
	struct cal_client **v, *c;

	if (cal->nclients + 1 <= cal->nbuckets)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	free(cal->buckets);
	cal->buckets = v;
	cal->nbuckets = n;
	for (c = cal->head; c; c = c->next)
		cal_bucket_add(cal, c);
}

struct cal *cal_new(const struct cal_config *cfg, const struct cal_ops *ops,
		    void *data)
{
	struct cal *cal = calloc(1, sizeof(*cal));

	if (!cal)
		return NULL;
	cal->ops = ops;
	cal->data = data;
	cal->cfg = *cfg;
	if (cal->cfg.quantum == 0)
		cal->cfg.quantum = CAL_DEFAULT_QUANTUM;
	cal->tod = cfg->tod;
	cal->stop_at = CAL_TIME_NONE;
	cal->run = !cfg->paused && cfg->expect == 0;
	cal->next_number = 1;
	heap_init(&cal->queue, cal_client_before);
	heap_init(&cal->held, cal_client_before_id);
	heap_init(&cal->waiters, cal_waiter_before);
	cal->wake_at = CAL_TIME_NONE;
	cal->shm_poll = CAL_SHM_POLL_MIN;
	cal->shm_floor = CAL_TIME_NONE;
	return cal;
}

int cal_shm_attach(struct cal *cal, void *mem, size_t len)
{
	int r;

	if (cal->has_shm)
		return -EBUSY;
	r = shm_init(&cal->shm, mem, len);
	if (r < 0)
		return r;
	cal->has_shm = true;
	shm_set_time(&cal->shm, cal->clock);
	return 0;
}

void cal_shm_detach(struct cal *cal)
{
	struct cal_client *c;

	if (!cal->has_shm)
		return;
	/* Clients keep their mode and offsets; only the page goes. */
	for (c = cal->head; c; c = c->next) {
		c->slot = 0;
		c->shm_prev = c->shm_next = NULL;
	}
	cal->shm_head = NULL;
	shm_release(&cal->shm);
	cal->has_shm = false;
}

void cal_free(struct cal *cal)
{
	struct cal_client *c, *next;

	if (!cal)
		return;
	/* The heaps point into the clients: release them first. */
	heap_release(&cal->queue);
	heap_release(&cal->held);
	heap_release(&cal->waiters);
	if (cal->has_shm)
		shm_release(&cal->shm);
	for (c = cal->head; c; c = next) {
		next = c->next;
		free(c->deferred);
		free(c->ackq);
		free(c);
	}
	free(cal->buckets);
	free(cal);
}

uint64_t cal_clock(struct cal *cal)
{
	struct cal_client *r = cal->runner;

	/* A shm runner tells its progress only through the page; take it
	 * within what it was granted, never backwards. */
	if (cal_page_runner(cal)) {
		uint64_t t = shm_time(&cal->shm);

		if (t >= r->given && t <= r->fu && t <= TT_TIME_MAX) {
			r->given = t; /* its own time, even behind the clock */
			if (t > cal->clock)
				cal->clock = t;
		}
	}
	return cal->clock;
}
uint64_t cal_tod(const struct cal *cal) { return cal->tod; }
void cal_set_tod(struct cal *cal, uint64_t tod) { cal->tod = tod; }
bool cal_is_running(const struct cal *cal) { return cal->run; }
struct cal_client *cal_runner(const struct cal *cal) { return cal->runner; }
uint64_t cal_stop_at(const struct cal *cal) { return cal->stop_at; }
unsigned int cal_client_count(const struct cal *cal) { return cal->nclients; }

void cal_stats(const struct cal *cal, struct cal_stats *st)
{
	*st = cal->stats;
	st->clients_ever = cal->next_number - 1;
	st->clients_now = cal->nclients;
	st->shm_clients = 0;
	for (const struct cal_client *c = cal->shm_head; c; c = c->shm_next)
		st->shm_clients++;
}

int cal_set_pace(struct cal *cal, double pace)
{
	if (!(pace >= 0) || pace > 1e12 || (pace > 0 && !cal->ops->now))
		return -EINVAL;
	cal->pace = pace;
	cal_pace_rebase(cal);
	cal_schedule(cal);
	return 0;
}

double cal_pace(const struct cal *cal) { return cal->pace; }

void cal_tick(struct cal *cal)
{
	cal->wake_at = CAL_TIME_NONE;
	cal_schedule(cal);
}

void cal_waiter_add(struct cal *cal, struct cal_waiter *w, uint64_t t)
{
	w->t = t;
	w->hn.idx = HEAP_NONE;
	/* Without memory for the bound, the waiter is still answered, only
	 * later in simulated time: not worth failing the read for. */
	if (t > cal->clock) {
		(void)heap_insert(&cal->waiters, &w->hn);
		if (cal_page_runner(cal)) /* stops there */
			shm_lower_free_until(&cal->shm, cal_free_until(cal));
	}
}

void cal_waiter_remove(struct cal *cal, struct cal_waiter *w)
{
	heap_remove(&cal->waiters, &w->hn);
}

void cal_set_run(struct cal *cal, bool run)
{
	if (run && !cal->run)
		cal_pace_rebase(cal); /* no burst to catch up a pause */
	cal->steered = true;
	cal->run = run;
	cal->stop_at = CAL_TIME_NONE;
	cal_schedule(cal);
	cal_changed(cal);
}

int cal_advance(struct cal *cal, uint64_t t)
{
	if (t < cal_clock(cal) || t > TT_TIME_MAX)
		return -EINVAL;
	if (!cal->run)
		cal_pace_rebase(cal);
	cal->steered = true;
	cal->stop_at = t;
	cal->run = true;
	cal_schedule(cal);
	return 0;
}

struct cal_client *cal_client_new(struct cal *cal, void *client_data,
				  pid_t pid)
{
	struct cal_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cal = cal;
	c->data = client_data;
	c->number = cal->next_number++;
	c->pid = pid;
	c->state = CAL_CLIENT_NEW;
	c->req = CAL_TIME_NONE;
	c->fu = CAL_TIME_NONE;
	c->req_node.idx = c->start_node.idx = HEAP_NONE;
	snprintf(c->name, sizeof(c->name), "client-%llu",
		 (unsigned long long)c->number);
	cal_buckets_grow(cal); /* before c is listed: it adds c itself */
	if (cal->buckets)
		cal_bucket_add(cal, c);
	c->prev = cal->tail;
	if (cal->tail)
		cal->tail->next = c;
	else
		cal->head = c;
	cal->tail = c;
	cal->nclients++;
	cal_changed(cal);
	return c;
}

void cal_client_free(struct cal *cal, struct cal_client *c)
{
	if (!c)
		return;
	if (cal->ops->event) {
		struct cal_event ev = { .client = c };

		cal->ops->event(cal->data, &ev);
	}
	if (!c->frozen) {
		heap_remove(&cal->held, &c->start_node);
		heap_remove(&cal->queue, &c->req_node);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		cal->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		cal->tail = c->prev;
	if (cal->buckets) {
		struct cal_client **b = &cal->buckets[cal_bucket(cal,
								 c->number)];

		while (*b != c)
			b = &(*b)->bucket_next;
		*b = c->bucket_next;
	}
	cal->nclients--;
	if (c->shm) {
		if (c->shm_prev)
			c->shm_prev->shm_next = c->shm_next;
		else
			cal->shm_head = c->shm_next;
		if (c->shm_next)
			c->shm_next->shm_prev = c->shm_prev;
	}
	cal_shm_release(cal, c);
	cal_hold_forget(cal, c);
	if (cal->runner == c)
		cal->runner = NULL;
	free(c->ackq);
	free(c);
	/* A runner that left hands the turn on. */
	cal_schedule(cal);
	cal_changed(cal);
}

/*
 * The answer to GET, which becomes the client's time: never behind what
 * it was told or reported, nor past its own pending request (its RUN
 * must carry that exactly).
 */
static uint64_t cal_client_now(const struct cal *cal, struct cal_client *c)
{
	uint64_t t = c->given, lim;

	/* A runner's time is its own (a RUN granted behind the clock is
	 * still its time); a frozen client's time stands. */
	if (c->state == CAL_CLIENT_RUNNING || c->frozen)
		return t;
	if (cal->clock > t)
		t = cal->clock;
	/* After its last RUN it may have run on, unasked, up to just below
	 * that FREE_UNTIL; it waits for a request at or beyond it, so
	 * telling it that FREE_UNTIL is safe, and a lower time may not be. */
	lim = c->fu == CAL_TIME_NONE ? CAL_TIME_NONE :
	      c->fu < c->req ? c->fu : c->req;
	if (lim != CAL_TIME_NONE && lim > t)
		t = lim;
	if (c->req != CAL_TIME_NONE && t > c->req)
		t = c->req > c->given ? c->req : c->given;
	c->given = t;
	return t;
}

static int cal_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EPROTO;
}

static int cal_on_start(struct cal *cal, struct cal_client *c,
			const struct um_timetravel_msg *m, const char **why)
{
	if (c->state != CAL_CLIENT_NEW)
		return cal_fail(why, "second START");
	c->id = m->time;
	c->has_id = true;
	c->start_seq = m->seq;
	c->state = CAL_CLIENT_HELD;
	if (!c->named)
		snprintf(c->name, sizeof(c->name), "id-%llu",
			 (unsigned long long)c->id);
	if (!c->frozen && heap_insert(&cal->held, &c->start_node) < 0)
		return cal_fail(why, "out of memory");
	cal->started++;
	if (cal->cfg.expect && !cal->expect_met &&
	    cal->started >= cal->cfg.expect) {
		cal->expect_met = true;
		/* Unless someone already steered by hand (a pause stays). */
		if (!cal->steered && !cal->run) {
			cal_pace_rebase(cal);
			cal->run = true;
		}
	}
	cal_schedule(cal);
	return 0;
}

static int cal_on_request(struct cal *cal, struct cal_client *c,
			  const struct um_timetravel_msg *m, const char **why)
{
	uint64_t t = m->time;

	if (t >= TT_TIME_MAX || t + c->offset >= TT_TIME_MAX) {
		/* "Sleep forever": nothing we could ever grant. */
		cal_queue_clear(cal, c);
	} else {
		t += c->offset;
		if (t < c->given)
			return cal_fail(why, "REQUEST behind its own time");
		if (cal_queue_set(cal, c, t) < 0)
			return cal_fail(why, "out of memory");
		cal_runner_bound(cal, c, t);
	}
	/* Its slot may still claim an older request: this one is newer. */
	if (c->shm && cal->has_shm)
		shm_slot_clear_request(&cal->shm, c->slot);
	cal_ack(cal, c, m->seq, 0);
	cal_schedule(cal);
	return 0;
}

static int cal_on_ack(struct cal *cal, struct cal_client *c,
		      const struct um_timetravel_msg *m, const char **why)
{
	/* ACKs come in the order of our messages. */
	if (c->ackq_lost)
		return cal_fail(why, "more than 65536 messages await its "
				"ACK");
	if (!c->ackq_len || m->seq != c->ackq[c->ackq_head])
		return cal_fail(why, "ACK with an unexpected seq");
	c->ackq_head = (c->ackq_head + 1) % c->ackq_cap;
	c->ackq_len--;
	/* The runner read its lowered FREE_UNTIL: the requests behind it
	 * may be answered.  Read in a wait, it bounds the runner's reach
	 * (what a GET after its WAIT may be raised to). */
	if (c == cal->hold_runner && m->seq == cal->hold_seq) {
		if (c->fu_quiet && c->fu_told < c->fu)
			c->fu = c->fu_told;
		cal_holds_release(cal);
	}
	return 0;
}

/*
 * A kernel that maps the page sets TIME_SHARE in its slot before it sends
 * anything after START's ACK: its first message tells its mode for good.
 * A slot left unused goes back (see shm_get for when it is handed out).
 */
static void cal_shm_decide(struct cal *cal, struct cal_client *c)
{
	c->mode_known = true;
	if (!c->slot || !cal->has_shm)
		return;
	if (shm_slot_capa(&cal->shm, c->slot) & TT_SHM_CAP_TIME_SHARE) {
		c->shm = true;
		c->shm_next = cal->shm_head;
		if (cal->shm_head)
			cal->shm_head->shm_prev = c;
		cal->shm_head = c;
		return;
	}
	/* Message mode: START's ACK told it no FREE_UNTIL, so it ran
	 * nowhere unasked (else its GET would jump to the page's bound). */
	c->fu = CAL_TIME_NONE;
	cal_shm_release(cal, c);
}

/* A shm runner's WAIT: no ACK.  What it did shows on the page only. */
static int cal_on_shm_wait(struct cal *cal, struct cal_client *c)
{
	uint64_t t, pfu, reach;

	if (!cal->has_shm) { /* the page is gone (detached at exit) */
		c->state = CAL_CLIENT_WAITING;
		cal->runner = NULL;
		cal_schedule(cal);
		return 0;
	}
	t = shm_time(&cal->shm);
	pfu = shm_free_until(&cal->shm);

	/* Named until the next grant, it could still write current_time. */
	shm_set_running(&cal->shm, 0);
	cal_shm_note(cal, pfu);
	if (t >= c->given && t <= c->fu)
		c->given = t;
	c->state = CAL_CLIENT_WAITING;
	cal->runner = NULL;
	(void)cal_shm_take(cal, c);
	/*
	 * Unasked, it may have run on up to just below free_until (or its
	 * request): nothing happens before that, so the clock may stand
	 * there, and what waiting clients read as now must not be below
	 * its time.  Never past anyone's pending request, though.
	 */
	reach = c->fu < pfu ? c->fu : pfu;
	if (c->req < reach)
		reach = c->req;
	if (c->given > reach)
		reach = c->given;
	cal_shm_look(cal);
	{
		struct cal_client *next = cal_queue_top(cal);

		if (next && cal_client_due(cal, next) < reach)
			reach = cal_client_due(cal, next);
	}
	if (reach != CAL_TIME_NONE)
		cal_clock_to(cal, reach);
	cal_shm_publish(cal);
	cal->shm_scanned = true;
	cal_schedule(cal);
	return 0;
}

static int cal_on_broadcast(struct cal *cal, struct cal_client *c,
			    const struct um_timetravel_msg *m)
{
	struct cal_client *o;

	cal_ack(cal, c, m->seq, 0);
	for (o = cal->head; o; o = o->next) {
		struct um_timetravel_msg b = {
			.op = TT_OP_BROADCAST, .time = m->time,
		};

		if (o != c && (o->state == CAL_CLIENT_RUNNING ||
			       o->state == CAL_CLIENT_WAITING))
			cal_send(cal, o, &b, 1, false);
	}
	return 0;
}

int cal_client_input(struct cal *cal, struct cal_client *c,
		     const struct um_timetravel_msg *m, const char **why)
{
	uint64_t t;

	if (cal->ops->event) {
		struct cal_event ev = { .client = c, .msg = m };

		cal->ops->event(cal->data, &ev);
	}
	if (m->op >= TT_OP_COUNT)
		return cal_fail(why, "unknown op");
	c->rx[m->op]++;
	cal->stats.received[m->op]++;
	if (m->op == UM_TIMETRAVEL_START)
		return cal_on_start(cal, c, m, why);
	if (c->state == CAL_CLIENT_NEW)
		return cal_fail(why, "message before START");
	if (c->state == CAL_CLIENT_HELD)
		return cal_fail(why, "message before START's ACK");
	if (!c->mode_known)
		cal_shm_decide(cal, c);
	if (m->op != UM_TIMETRAVEL_ACK)
		c->fu_quiet = false; /* an exchange: it may have run on */

	switch (m->op) {
	case UM_TIMETRAVEL_ACK:
		return cal_on_ack(cal, c, m, why);
	case UM_TIMETRAVEL_REQUEST:
		return cal_on_request(cal, c, m, why);
	case UM_TIMETRAVEL_WAIT:
		if (c->state != CAL_CLIENT_RUNNING)
			return cal_fail(why, "WAIT while not running");
		if (c->shm)
			return cal_on_shm_wait(cal, c);
		c->state = CAL_CLIENT_WAITING;
		cal->runner = NULL;
		cal_ack(cal, c, m->seq, 0);
		cal_schedule(cal);
		return 0;
	case UM_TIMETRAVEL_GET:
		(void)cal_clock(cal); /* a shm runner's progress counts */
		if (c->shm && cal->has_shm && c->state == CAL_CLIENT_WAITING)
			(void)cal_shm_take(cal, c); /* not past its slot's */
		cal_ack(cal, c, m->seq, cal_to_client(c, cal_client_now(cal, c)));
		return 0;
	case UM_TIMETRAVEL_UPDATE:
		if (c->state == CAL_CLIENT_RUNNING && m->time < TT_TIME_MAX &&
		    m->time + c->offset < TT_TIME_MAX) {
			t = m->time + c->offset;
			/* Its own pending request is its next event: a time
			 * past it means the RUN it waits for could never
			 * be sent. */
			if (c->req != CAL_TIME_NONE && t > c->req)
				return cal_fail(why, "UPDATE past its own request");
			if (t > c->given)
				c->given = t;
			if (t > cal->clock) {
				cal_clock_to(cal, t);
				cal_changed(cal);
			}
		}
		cal_ack(cal, c, m->seq, 0);
		return 0;
	case UM_TIMETRAVEL_GET_TOD:
		cal_ack(cal, c, m->seq, cal->tod + cal_clock(cal));
		return 0;
	case TT_OP_BROADCAST:
		return cal_on_broadcast(cal, c, m);
	case UM_TIMETRAVEL_START: /* handled above */
	case UM_TIMETRAVEL_RUN:
	case UM_TIMETRAVEL_FREE_UNTIL:
		break;
	}
	return cal_fail(why, "op only a calendar may send");
}

struct cal_client *cal_client_first(const struct cal *cal) { return cal->head; }

struct cal_client *cal_client_next(const struct cal *cal,
				   const struct cal_client *c)
{
	(void)cal;
	return c->next;
}

struct cal_client *cal_client_find(const struct cal *cal, uint64_t number)
{
	struct cal_client *c;

	if (cal->buckets) {
		for (c = cal->buckets[cal_bucket(cal, number)]; c;
		     c = c->bucket_next)
			if (c->number == number)
				return c;
		return NULL;
	}
	for (c = cal->head; c; c = c->next)
		if (c->number == number)
			return c;
	return NULL;
}

void cal_client_set_frozen(struct cal *cal, struct cal_client *c, bool on)
{
	if (c->frozen == on)
		return;
	if (on) {
		c->frozen_at = cal->clock;
		heap_remove(&cal->held, &c->start_node);
		heap_remove(&cal->queue, &c->req_node);
		c->frozen = true;
	} else {
		/* Its clock stood still while the others went on: shift its
		 * time base by what it lost, so its request (and RUN, in its
		 * own time) stays exactly what it asked for. */
		/* A runner frozen mid-turn went on by itself: only what
		 * passed beyond its own time is lost. */
		uint64_t since = c->given > c->frozen_at ? c->given :
			c->frozen_at;
		uint64_t lost = cal->clock > since ? cal->clock - since : 0;

		c->frozen = false;
		if (c->slot)
			lost = 0; /* its offset is fixed: see cal.h */
		if (c->state != CAL_CLIENT_NEW && c->state != CAL_CLIENT_HELD) {
			c->offset += lost;
			c->given += lost;
			if (c->fu != CAL_TIME_NONE && c->fu < TT_TIME_MAX - lost)
				c->fu += lost;
		}
		if (c->state == CAL_CLIENT_HELD) {
			(void)heap_insert(&cal->held, &c->start_node);
		} else if (c->req != CAL_TIME_NONE) {
			uint64_t t = c->req + lost;

			if (t >= TT_TIME_MAX)
				cal_queue_clear(cal, c);
			else
				(void)cal_queue_set(cal, c, t);
		}
	}
	cal_schedule(cal);
}

bool cal_client_frozen(const struct cal_client *c) { return c->frozen; }

int cal_client_kick(struct cal *cal, struct cal_client *c)
{
	if (!cal->ops->kick)
		return -ENOTSUP;
	cal->ops->kick(c->data);
	return 0;
}

int cal_client_set_name(struct cal_client *c, const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > CAL_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
			return -EINVAL;
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	c->named = true;
	return 0;
}

const char *cal_client_name(const struct cal_client *c) { return c->name; }
uint64_t cal_client_offset(const struct cal_client *c) { return c->offset; }
uint64_t cal_client_number(const struct cal_client *c) { return c->number; }

bool cal_client_id(const struct cal_client *c, uint64_t *id)
{
	if (c->has_id)
		*id = c->id;
	return c->has_id;
}

enum cal_client_state cal_client_state(const struct cal_client *c)
{
	return c->state;
}

const char *cal_client_state_name(enum cal_client_state s)
{
	switch (s) {
	case CAL_CLIENT_NEW:
	case CAL_CLIENT_HELD:
		return "starting";
	case CAL_CLIENT_RUNNING:
		return "running";
	case CAL_CLIENT_WAITING:
		return "waiting";
	}
	return "unknown";
}

uint64_t cal_client_request(const struct cal_client *c)
{
	const struct cal *cal = c->cal;
	uint64_t t;

	/* A waiting shm client's newest request is in its slot, taken at
	 * the next look; show it now if it passes the same checks. */
	if (c->shm && cal->has_shm && c->state == CAL_CLIENT_WAITING &&
	    cal_shm_read(cal, c, &t))
		return t;
	return c->req;
}

uint16_t cal_client_slot(const struct cal_client *c) { return c->slot; }
bool cal_client_shm(const struct cal_client *c) { return c->shm; }
uint64_t cal_client_shm_requests(const struct cal_client *c)
{
	return c->shm_requests;
}

pid_t cal_client_pid(const struct cal_client *c) { return c->pid; }
void *cal_client_data(const struct cal_client *c) { return c->data; }
const uint64_t *cal_client_received(const struct cal_client *c) { return c->rx; }
const uint64_t *cal_client_sent(const struct cal_client *c) { return c->tx; }
