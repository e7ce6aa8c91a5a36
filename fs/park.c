/* SPDX-License-Identifier: MIT */
/* park.c: requests that wait (see park.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "park.h"

/* Signals that mean "stop waiting": Ctrl-C and friends. */
#define SIG_BIT(s) (1ull << ((s) - 1))
#define STOP_SIGNALS (SIG_BIT(SIGINT) | SIG_BIT(SIGTERM) | SIG_BIT(SIGHUP) | \
		      SIG_BIT(SIGQUIT) | SIG_BIT(SIGUSR1) | SIG_BIT(SIGUSR2) | \
		      SIG_BIT(SIGALRM) | SIG_BIT(SIGKILL))

void park_init(struct park_set *s, const struct park_ops *ops, void *ctx)
{
	s->head = NULL;
	s->ops = ops;
	s->ctx = ctx;
}

static void park_interrupted(fuse_req_t req, void *data)
{
	struct park *p = data;

	/* Only note it: this may run inside fuse_req_interrupt_func() or
	 * while libfuse holds the request; park_process() replies. */
	(void)req;
	p->interrupted = true;
}

int park_add(struct park_set *s, fuse_req_t req, int kind, uint64_t target,
	     size_t nbytes, void *data)
{
	struct park *p = calloc(1, sizeof(*p));
	struct park **pp = &s->head;

	if (!p)
		return -ENOMEM;
	p->req = req;
	p->pid = fuse_req_ctx(req)->pid;
	p->kind = kind;
	p->target = target;
	p->nbytes = nbytes;
	p->data = data;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	/* After listing it: the callback may run at once, from in here. */
	fuse_req_interrupt_func(req, park_interrupted, p);
	return 1;
}

bool park_any(const struct park_set *s)
{
	return s->head != NULL;
}

/*
 * Does the thread that asked have a "stop" signal pending?  The kernel
 * sends FUSE an interrupt for any caught signal, and a shell that waits
 * in `echo +5s > clock` catches SIGCHLD each time a background job ends:
 * that must not call the advance off.  Unknown (no /proc): yes.
 */
static bool park_pid_stopped(pid_t pid)
{
	char path[64], line[256];
	uint64_t pending = 0, blocked = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if ((sscanf(line, "SigPnd: %llx", &v) == 1 ||
		     sscanf(line, "ShdPnd: %llx", &v) == 1)) {
			pending |= v;
			found = true;
		} else if (sscanf(line, "SigBlk: %llx", &v) == 1) {
			/* A blocked signal is not delivered: it stops
			 * nothing now (SIGKILL cannot be blocked). */
			blocked = v;
		}
	}
	fclose(f);
	return !found || (pending & ~blocked & STOP_SIGNALS) != 0;
}

/* true: answered (and to be removed). */
static bool park_try(struct park_set *s, struct park *p)
{
	if (p->interrupted || p->watch) {
		/* Only one interrupt comes per request: after a harmless
		 * one, keep looking (the loop's tick wakes us). */
		p->watch = !park_pid_stopped(p->pid);
		p->interrupted = !p->watch;
	}
	if (p->interrupted) {
		if (s->ops->gave_up)
			s->ops->gave_up(s->ctx, p);
		fuse_reply_err(p->req, EINTR);
		return true;
	}
	return s->ops->try(s->ctx, p);
}

void park_process(struct park_set *s)
{
	bool again = true;

	while (again) {
		again = false;
		for (struct park **pp = &s->head; *pp;) {
			struct park *p = *pp;

			if (park_try(s, p)) {
				*pp = p->next;
				free(p);
				again = true;
			} else {
				pp = &p->next;
			}
		}
	}
}

void park_stop(struct park_set *s)
{
	/* Every request gets its one answer, even at exit: the writer
	 * learns its wait was cut short, and libfuse frees the request. */
	while (s->head) {
		struct park *p = s->head;

		s->head = p->next;
		fuse_reply_err(p->req, EINTR);
		free(p);
	}
}

void park_free(struct park_set *s)
{
	while (s->head) {
		struct park *p = s->head;

		s->head = p->next;
		free(p);
	}
}
