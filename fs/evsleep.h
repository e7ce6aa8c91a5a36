/* SPDX-License-Identifier: MIT */
/*
 * evsleep.h: let libev's loop sleep with no timeout at all.
 *
 * libev never blocks without a timeout: with no timer due it still hands
 * epoll_wait its cap, and the kernel arms and cancels a timer for every
 * finite timeout, on every sleep; in ttfs that is twice per grant, on its
 * critical path.  evsleep.c defines epoll_wait, which libev's calls bind
 * to before libc's, and turns that cap into "forever" while none of the
 * process's ev_timers is active (docs/design.md).
 *
 * So every ev_timer of the process is an evsleep_timer, set up with
 * evsleep_timer_init: that is the one list the sleep reads.  A bare
 * ev_timer due 59.7 s or more away would be slept through.
 */
#ifndef TTFS_EVSLEEP_H
#define TTFS_EVSLEEP_H

#include <ev.h>
#include <stdbool.h>

/* libev's cap, ev.c's MAX_BLOCKTIME (59.743 s) in the milliseconds its
 * epoll backend passes; with a timerfd for clock jumps it passes more. */
#define EVSLEEP_CAP_MS 59743

struct evsleep_timer {
	ev_timer w; /* start, stop and set it as any ev_timer */
	struct evsleep_timer *next;
};

/* ev_timer_init, and the sleep heeds the timer from now until
 * evsleep_timer_forget (stop it first). */
void evsleep_timer_init(struct evsleep_timer *t,
			void (*cb)(struct ev_loop *, ev_timer *, int),
			double after, double repeat);
void evsleep_timer_forget(struct evsleep_timer *t);

/* What epoll_wait is given instead of timeout_ms: -1 (forever) for
 * libev's cap while no evsleep_timer is active, else timeout_ms. */
int evsleep_timeout(int timeout_ms);

#endif
