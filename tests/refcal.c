/* SPDX-License-Identifier: MIT */
/*
 * refcal.c: the reference calendar (see refcal.h).
 *
 * Its grant path is ttfs's with everything else left out: one heap of
 * requests; each socket read until a short read; all ACKs of a loop turn
 * and the next runner's FREE_UNTIL + RUN in one write per client, the
 * runner's first; a START's ACK sent at its turn, which sets the client's
 * offset.  No libev, no FUSE, no validation, no stats, no pause: what is
 * left is what the protocol and the kernel cost, so ttfs's us/grant over
 * this one's is what ttfs itself costs.  refcal_run_ev, at the end, puts
 * libev back and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "heap.h"
#include "proto.h"
#include "refcal.h"

/* A read takes at most 4 messages; add FREE_UNTIL + RUN. */
#define RC_OUT_MAX 8

struct rc_client {
	ev_io io;       /* first: the callback's pointer is the client's */
	int fd;
	bool starting;  /* START's ACK waits for its turn */
	bool dirty;     /* on the flush list */
	bool dead;      /* closed; freed at the flush */
	uint32_t start_seq;
	uint64_t number; /* connection order: breaks ties, as in ttfs */
	uint64_t offset; /* the clock at its START's ACK */
	uint64_t due;    /* its request, on the calendar's clock */
	struct heap_node hn;
	struct rc_client *next_dirty;
	unsigned char in[4 * TT_MSG_SIZE];
	size_t in_len;
	struct um_timetravel_msg out[RC_OUT_MAX];
	unsigned int n_out;
};

struct refcal {
	struct ev_loop *loop; /* refcal_run_ev only */
	uint64_t clock;
	struct rc_client *runner;
	struct heap queue;
	struct rc_client *dirty; /* last in, first out: the runner first */
};

#define RC_OF(n) \
	((struct rc_client *)((char *)(n) - offsetof(struct rc_client, hn)))

static bool rc_less(const struct heap_node *a, const struct heap_node *b)
{
	const struct rc_client *x = RC_OF(a), *y = RC_OF(b);

	return x->due != y->due ? x->due < y->due : x->number < y->number;
}

static void rc_put(struct refcal *rc, struct rc_client *c, uint32_t op,
		   uint32_t seq, uint64_t time)
{
	if (c->n_out == RC_OUT_MAX)
		return; /* cannot happen (see RC_OUT_MAX) */
	c->out[c->n_out++] = (struct um_timetravel_msg){
		.op = op, .seq = seq, .time = time,
	};
	if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = rc->dirty;
		rc->dirty = c;
	}
}

static int rc_queue(struct refcal *rc, struct rc_client *c, uint64_t due)
{
	c->due = due;
	if (heap_contains(&c->hn)) {
		heap_update(&rc->queue, &c->hn);
		return 0;
	}
	return heap_insert(&rc->queue, &c->hn);
}

static int rc_msg(struct refcal *rc, struct rc_client *c,
		  const struct um_timetravel_msg *m)
{
	uint64_t t = 0;

	switch (m->op) {
	case UM_TIMETRAVEL_ACK:
		return 0;
	case UM_TIMETRAVEL_START:
		c->starting = true;
		c->start_seq = m->seq;
		return rc_queue(rc, c, rc->clock);
	case UM_TIMETRAVEL_REQUEST:
		if (rc_queue(rc, c, c->offset + m->time) < 0)
			return -1;
		break;
	case UM_TIMETRAVEL_WAIT:
		if (rc->runner == c)
			rc->runner = NULL;
		break;
	case UM_TIMETRAVEL_GET:
		t = rc->clock - c->offset;
		break;
	default:
		break;
	}
	rc_put(rc, c, UM_TIMETRAVEL_ACK, m->seq, t);
	return 0;
}

/* Read until a short read: all the socket holds. */
static int rc_input(struct refcal *rc, struct rc_client *c)
{
	for (;;) {
		size_t room = sizeof(c->in) - c->in_len, off = 0;
		ssize_t n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->in_len += (size_t)n;
		for (; c->in_len - off >= TT_MSG_SIZE; off += TT_MSG_SIZE) {
			struct um_timetravel_msg m;

			memcpy(&m, c->in + off, sizeof(m));
			if (rc_msg(rc, c, &m) < 0)
				return -1;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		if ((size_t)n < room)
			return 0;
	}
}

static void rc_drop(struct refcal *rc, struct rc_client *c)
{
	if (heap_contains(&c->hn))
		heap_remove(&rc->queue, &c->hn);
	if (rc->runner == c)
		rc->runner = NULL;
	if (rc->loop)
		ev_io_stop(rc->loop, &c->io);
	close(c->fd);
	c->dead = true;
	c->n_out = 0;
	if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = rc->dirty;
		rc->dirty = c;
	}
}

/* Nobody runs: the earliest request's turn. */
static void rc_dispatch(struct refcal *rc)
{
	struct heap_node *top = heap_top(&rc->queue);
	struct rc_client *c;
	uint64_t fu;

	if (rc->runner || !top)
		return;
	c = RC_OF(top);
	heap_remove(&rc->queue, top);
	if (c->due > rc->clock)
		rc->clock = c->due;
	rc->runner = c;
	if (c->starting) {
		c->starting = false;
		c->offset = rc->clock;
		rc_put(rc, c, UM_TIMETRAVEL_ACK, c->start_seq, 0);
		return;
	}
	fu = rc->clock + REFCAL_QUANTUM;
	top = heap_top(&rc->queue);
	if (top && RC_OF(top)->due < fu)
		fu = RC_OF(top)->due;
	rc_put(rc, c, UM_TIMETRAVEL_FREE_UNTIL, 0, fu - c->offset);
	rc_put(rc, c, UM_TIMETRAVEL_RUN, 0, rc->clock - c->offset);
}

static void rc_flush(struct refcal *rc)
{
	struct rc_client *c;

	while ((c = rc->dirty)) {
		size_t len = c->n_out * sizeof(c->out[0]);

		rc->dirty = c->next_dirty;
		c->dirty = false;
		c->n_out = 0;
		if (!c->dead && len &&
		    send(c->fd, c->out, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
			    (ssize_t)len)
			rc_drop(rc, c); /* back on the list, as dead */
		else if (c->dead)
			free(c);
	}
}

/* A connection accepted, or NULL when none is pending (or on an error,
 * with errno other than EAGAIN). */
static struct rc_client *rc_accept_one(int lfd)
{
	static uint64_t number;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct rc_client *c;

	if (fd < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->number = ++number;
	c->hn.idx = HEAP_NONE;
	return c;
}

static int rc_accept(int ep, int lfd)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct rc_client *c = rc_accept_one(lfd);

		if (!c)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			close(c->fd);
			free(c);
			return -1;
		}
	}
}

int refcal_run(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	struct refcal rc = { 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	heap_init(&rc.queue, rc_less);
	if (ep < 0 || fcntl(lfd, F_SETFL, O_NONBLOCK) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return 1;
	for (;;) {
		int k = epoll_wait(ep, evs, 64, -1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return 1;
		for (int i = 0; i < k; i++) {
			struct rc_client *c = evs[i].data.ptr;

			if (!c) {
				if (rc_accept(ep, lfd) < 0)
					return 1;
			} else if (!c->dead && rc_input(&rc, c) < 0) {
				rc_drop(&rc, c);
			}
		}
		rc_dispatch(&rc);
		rc_flush(&rc);
	}
}

/*
 * The same calendar on libev, laid out as ttfs's loop is: a watcher per
 * client, and the turn handed on and the answers written in a prepare
 * watcher, once per loop turn.  Against refcal_run, it prices libev
 * itself; against ttfs, everything ttfs does besides (bench --ttfs ref-ev).
 * The calendar is the loop's userdata.
 */
static void rc_ev_client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rc_client *c = (struct rc_client *)w;
	struct refcal *rc = ev_userdata(loop);

	(void)revents;
	if (!c->dead && rc_input(rc, c) < 0)
		rc_drop(rc, c);
}

static void rc_ev_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct rc_client *c;

	(void)revents;
	while ((c = rc_accept_one(w->fd))) {
		ev_io_init(&c->io, rc_ev_client_cb, c->fd, EV_READ);
		ev_io_start(loop, &c->io);
	}
	if (errno != EAGAIN && errno != EINTR)
		ev_break(loop, EVBREAK_ALL);
}

static void rc_ev_prepare_cb(struct ev_loop *loop, ev_prepare *w,
			     int revents)
{
	struct refcal *rc = ev_userdata(loop);

	(void)w;
	(void)revents;
	rc_dispatch(rc);
	rc_flush(rc);
}

int refcal_run_ev(int lfd)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct refcal rc = { .loop = loop };
	ev_io accept_io;
	ev_prepare prepare;

	if (!loop || fcntl(lfd, F_SETFL, O_NONBLOCK) < 0)
		return 1;
	ev_set_userdata(loop, &rc);
	heap_init(&rc.queue, rc_less);
	ev_io_init(&accept_io, rc_ev_accept_cb, lfd, EV_READ);
	ev_io_start(loop, &accept_io);
	ev_prepare_init(&prepare, rc_ev_prepare_cb);
	ev_prepare_start(loop, &prepare);
	ev_run(loop, 0);
	return 1; /* only an accept error ends it */
}
