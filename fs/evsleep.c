/* SPDX-License-Identifier: MIT */
/*
 * evsleep.c: libev's sleeps without a kernel timer (see evsleep.h).
 *
 * An executable's definition of a function comes first in the dynamic
 * linker's search, before the shared libraries', so libev's call to
 * epoll_wait lands here.  Only a timeout at libev's cap changes, and only
 * while the daemon has no timer pending: then the cap is there only for
 * libev to notice a jump of the wall clock, which ttfs never asks it to
 * watch (no ev_periodic).  Every other call, ttfs's own or libev's with a
 * timer due, goes through as asked.  Should a libev build call something
 * else, nothing breaks: sleeps keep their timer and cost what they did.
 */
#include <stddef.h>
#include <sys/epoll.h>

#include "evsleep.h"

static bool forever;

void evsleep_allow_forever(bool allow)
{
	forever = allow;
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents,
	       int timeout)
{
	if (forever && timeout >= EVSLEEP_CAP_MS)
		timeout = -1;
	/* With no signal mask, epoll_pwait is epoll_wait, and not this. */
	return epoll_pwait(epfd, events, maxevents, timeout, NULL);
}
