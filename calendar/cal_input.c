/* SPDX-License-Identifier: MIT */
/*
 * cal_input.c: what clients say to the calendar core (see cal.h): each
 * message's rules, the ACKs a client owes, and the ACKs held while the
 * runner learns of a request below its FREE_UNTIL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal_private.h"

static const char *const op_names[TT_OP_COUNT] = {
	"ack", "start", "request", "wait", "get",
	"update", "run", "free_until", "get_tod", "broadcast",
};

const char *tt_op_name(uint32_t op)
{
	return op < TT_OP_COUNT ? op_names[op] : "unknown";
}

/* Note that seq awaits c's ACK. */
void cal_ackq_push(struct cal_client *c, uint32_t seq)
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
void cal_defer(struct cal *cal, struct cal_client *c,
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

/* The held ACKs go out, each client's deferred messages in one write. */
void cal_holds_release(struct cal *cal)
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
void cal_hold_forget(struct cal *cal, struct cal_client *c)
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
	    r->slot)
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
