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

#include "cal_private.h"

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

void cal_changed(struct cal *cal)
{
	if (cal->ops->changed)
		cal->ops->changed(cal->data);
}

void cal_send(struct cal *cal, struct cal_client *c,
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

void cal_ack(struct cal *cal, struct cal_client *c, uint32_t seq,
		    uint64_t time)
{
	struct um_timetravel_msg m = {
		.op = UM_TIMETRAVEL_ACK, .seq = seq, .time = time,
	};

	cal_send(cal, c, &m, 1, false);
}

uint64_t cal_to_client(const struct cal_client *c, uint64_t t)
{
	t -= c->offset;
	return t > TT_TIME_MAX ? TT_TIME_MAX : t;
}

/* A request, or a held START, enters or moves in the queue. */
int cal_queue_set(struct cal *cal, struct cal_client *c, uint64_t t)
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

void cal_queue_clear(struct cal *cal, struct cal_client *c)
{
	heap_remove(&cal->queue, &c->req_node);
	c->req = CAL_TIME_NONE;
}

/* The next to run: the earliest request, or the first held START
 * (which asks for "now"); ties as in cal_client_before. */
struct cal_client *cal_queue_top(const struct cal *cal)
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
uint64_t cal_client_due(const struct cal *cal,
			       const struct cal_client *c)
{
	return c->state == CAL_CLIENT_HELD ? cal->clock : c->req;
}

void cal_clock_to(struct cal *cal, uint64_t t)
{
	if (t > cal->clock) {
		cal->clock = t;
		cal_shm_publish(cal);
	}
}

/* The earliest until/ target still ahead of the clock. */
uint64_t cal_waiters_bound(struct cal *cal, uint64_t fu)
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

void cal_pace_rebase(struct cal *cal)
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

/* Decide what happens next; called after anything that may change it. */
void cal_schedule(struct cal *cal)
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
	c = cal_shm_choose(cal);
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

pid_t cal_client_pid(const struct cal_client *c) { return c->pid; }
void *cal_client_data(const struct cal_client *c) { return c->data; }
const uint64_t *cal_client_received(const struct cal_client *c) { return c->rx; }
const uint64_t *cal_client_sent(const struct cal_client *c) { return c->tx; }
