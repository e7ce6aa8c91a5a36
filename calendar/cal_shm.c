/* SPDX-License-Identifier: MIT */
/*
 * cal_shm.c: the calendar core's policy for the shared-memory page
 * (Linux >= 6.11; the page itself is shm.c): who is named on it, what it
 * shows, and the requests read from its slots.  The scheduler (cal.c)
 * calls it at a grant, before choosing, when idle and at a WAIT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal_private.h"

/* Grants between full looks at the slots, whatever the floor says: a
 * client that put free_until back after another lowered it hides that
 * request from the floor (see shm_floor), for this long at most. */
#define CAL_SHM_LOOK_EVERY 64
/* Choices taken back for a newer request in the chosen client's slot:
 * each is a request a look missed (rare: a scribbled free_until hid
 * it); a few suffice, and the bound keeps a client that rewrites its
 * slot without end from holding the loop. */
#define CAL_SHM_RECHOOSE_MAX 4

/* A runner that may be using the page: in shm mode, or with a slot and
 * no message yet to tell (a kernel maps the page before it sends one). */
bool cal_page_runner(const struct cal *cal)
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
void cal_shm_publish(struct cal *cal)
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
void cal_shm_hand(struct cal *cal, struct cal_client *c, uint64_t t,
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

/* The request in c's slot, checked as garbage may be there: false if
 * none, else *t (CAL_TIME_NONE: "sleep forever"). */
bool cal_shm_read(const struct cal *cal, const struct cal_client *c,
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
void cal_shm_release(struct cal *cal, struct cal_client *c)
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
bool cal_shm_take(struct cal *cal, struct cal_client *c)
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
void cal_shm_look(struct cal *cal)
{
	struct cal_client *next;

	if (!cal->shm_head)
		return;
	if (cal->has_shm)
		cal_shm_note(cal, shm_free_until(&cal->shm));
	next = cal_queue_top(cal);
	if (next && cal_client_due(cal, next) < cal->shm_floor &&
	    ++cal->shm_skipped < CAL_SHM_LOOK_EVERY)
		return;
	cal->shm_skipped = 0;
	cal_shm_scan(cal);
}

/*
 * Idle with shm clients waiting: a client that read running_id just before
 * we named slot 0 may write its slot after our last look, and would send
 * nothing.  Look again now and then (backing off) rather than hang.
 */
uint64_t cal_shm_poll_at(struct cal *cal)
{
	uint64_t at;

	if (!cal->shm_head || !cal->ops->now || !cal->ops->wake)
		return CAL_TIME_NONE;
	at = cal->ops->now(cal->data) + cal->shm_poll;
	if (cal->shm_poll < CAL_SHM_POLL_MAX)
		cal->shm_poll *= 2;
	return at;
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

/*
 * A kernel that maps the page sets TIME_SHARE in its slot before it sends
 * anything after START's ACK: its first message tells its mode for good.
 * A slot left unused goes back (see shm_get for when it is handed out).
 */
void cal_shm_decide(struct cal *cal, struct cal_client *c)
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
int cal_on_shm_wait(struct cal *cal, struct cal_client *c)
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

uint16_t cal_client_slot(const struct cal_client *c) { return c->slot; }
bool cal_client_shm(const struct cal_client *c) { return c->shm; }
uint64_t cal_client_shm_requests(const struct cal_client *c)
{
	return c->shm_requests;
}

/* Before choosing (a hook of cal_schedule): the next to run, and a RUN
 * must carry its newest request, which a shm client's slot may hold
 * unseen.  Take it, and choose again. */
struct cal_client *cal_shm_choose(struct cal *cal)
{
	struct cal_client *c = cal_queue_top(cal);

	for (int i = 0; i < CAL_SHM_RECHOOSE_MAX && c && c->shm &&
	     cal->has_shm && c->state == CAL_CLIENT_WAITING &&
	     cal_shm_take(cal, c); i++)
		c = cal_queue_top(cal);
	return c;
}
