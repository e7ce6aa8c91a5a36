/* SPDX-License-Identifier: MIT */
/*
 * refcal.h: the least calendar the benchmark's clients can run under, to
 * measure ttfs against (bench --ttfs ref).  Raw epoll, one heap, no FUSE,
 * no checks beyond framing: what any calendar must spend per grant.
 */
#ifndef TTFS_REFCAL_H
#define TTFS_REFCAL_H

#include <stdint.h>

/* ttfs's default --quantum, so that free mode covers as many events. */
#define REFCAL_QUANTUM 10000000ull
/* ttfs's default niceness (fs/main.c), so that both are scheduled alike. */
#define REFCAL_NICE (-10)

/* Serve the clients that connect to lfd (listening, any flags) until
 * SIGTERM or an error; returns the exit status. */
int refcal_run(int lfd);
/* The same on a libev loop shaped like ttfs's (bench --ttfs ref-ev). */
int refcal_run_ev(int lfd);

#endif
