/* SPDX-License-Identifier: MIT */
/*
 * evsleep.c: libev's sleeps without a kernel timer (see evsleep.h).
 *
 * An executable's definition of a function comes first in the dynamic
 * linker's search, before the shared libraries', so libev's call to
 * epoll_wait lands here.  Only a timeout at libev's cap changes, and only
 * while no timer is active: then the cap is there only for libev to
 * notice a jump of the wall clock, which ttfs never asks it to watch (no
 * ev_periodic).  Every other call, ttfs's own or libev's with a timer
 * due, goes through as asked.  Should a libev build call something else,
 * nothing breaks: sleeps keep their timer and cost what they did.
 */
#include <stddef.h>
#include <sys/epoll.h>

#include "evsleep.h"

static struct evsleep_timer *timers; /* every one initialised */

void evsleep_timer_init(struct evsleep_timer *t,
			void (*cb)(struct ev_loop *, ev_timer *, int),
			double after, double repeat)
{
	ev_timer_init(&t->w, cb, after, repeat);
	t->next = timers;
	timers = t;
}

void evsleep_timer_forget(struct evsleep_timer *t)
{
	for (struct evsleep_timer **p = &timers; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			return;
		}
}

int evsleep_timeout(int timeout_ms)
{
	if (timeout_ms < EVSLEEP_CAP_MS)
		return timeout_ms;
	/* A few timers at most: cheaper than the kernel timer it saves. */
	for (const struct evsleep_timer *t = timers; t; t = t->next)
		if (ev_is_active(&t->w))
			return timeout_ms;
	return -1;
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents,
	       int timeout)
{
	/* With no signal mask, epoll_pwait is epoll_wait, and not this. */
	return epoll_pwait(epfd, events, maxevents, evsleep_timeout(timeout),
			   NULL);
}
