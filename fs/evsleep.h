/* SPDX-License-Identifier: MIT */
/*
 * evsleep.h: let libev's loop sleep with no timeout at all.
 *
 * libev never blocks without a timeout: with no timer due it still hands
 * epoll_wait its cap, and the kernel arms and cancels a timer for every
 * finite timeout, on every sleep; in ttfs that is twice per grant, on its
 * critical path.  evsleep.c defines epoll_wait, which libev's calls bind
 * to before libc's, and turns that cap into "forever" while the daemon
 * says none of its own timers is pending (docs/design.md).
 */
#ifndef TTFS_EVSLEEP_H
#define TTFS_EVSLEEP_H

#include <stdbool.h>

/* libev's cap, ev.c's MAX_BLOCKTIME (59.743 s) in the milliseconds its
 * epoll backend passes; with a timerfd for clock jumps it passes more. */
#define EVSLEEP_CAP_MS 59743

/* Whether a sleep at libev's cap may last until an fd is ready: true
 * only while no ev_timer (or ev_periodic) of the caller's is active.
 * Set it just before the loop sleeps (in an ev_prepare watcher). */
void evsleep_allow_forever(bool allow);

#endif
