/* SPDX-License-Identifier: MIT */
/*
 * park.h: FUSE requests that must wait (a write to clock, a pause, a read
 * of trace or until/T), kept until the loop can answer them.  The engine
 * owns the waiting: the list, the interrupts (Ctrl-C), and the signal
 * checks that tell a "stop" from a harmless SIGCHLD.  Whoever parks says,
 * through a callback, when each request is done and how it is answered.
 */
#ifndef TTFS_PARK_H
#define TTFS_PARK_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

struct park {
	struct park *next;
	fuse_req_t req;
	pid_t pid;   /* the thread that asked: its signals are looked at */
	bool watch;  /* an interrupt came that was not a "stop": recheck */
	/* Set by the interrupt callback, which must not reply itself. */
	bool interrupted;
	/* The parker's: what it waits for. */
	int kind;
	uint64_t target;
	size_t nbytes; /* writes: the count; reads: the size asked */
	void *data;
};

struct park_ops {
	/* Answer p if its wait is over: true if it replied. */
	bool (*try)(void *ctx, struct park *p);
	/* p's writer gave up (a stop signal): before its EINTR. */
	void (*gave_up)(void *ctx, struct park *p);
};

struct park_set {
	struct park *head; /* oldest first */
	const struct park_ops *ops;
	void *ctx;
};

void park_init(struct park_set *s, const struct park_ops *ops, void *ctx);
/* Park req: 1 (parked), or -ENOMEM. */
int park_add(struct park_set *s, fuse_req_t req, int kind, uint64_t target,
	     size_t nbytes, void *data);
bool park_any(const struct park_set *s);
/* Answer what can be, until a pass answers nothing (answering one may
 * end another's wait). */
void park_process(struct park_set *s);
/* Every one gets its answer, EINTR, before the session ends. */
void park_stop(struct park_set *s);
/* The session is gone: forget them, unanswered. */
void park_free(struct park_set *s);

#endif
