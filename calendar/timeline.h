/* SPDX-License-Identifier: MIT */
/*
 * timeline.h: who ran when, on the calendar's clock, rendered as Chrome
 * trace-event JSON for ui.perfetto.dev and chrome://tracing.  One track
 * (pid 1, tid = client number) per client; a RUN..WAIT span is an "X"
 * slice named "run", a REQUEST an instant named "request".  The last
 * max_events completed slices and requests are kept in a ring; a slice
 * still open is held apart and rendered up to the latest time seen.
 * Pure: no I/O.
 *
 * The event calls return 0, or -ENOMEM when a client's first event
 * could not be recorded; a timeline is a diagnostic, so callers may
 * ignore it.
 */
#ifndef TTFS_TIMELINE_H
#define TTFS_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

struct timeline;

/* Keeps the last max_events events (at least 1); NULL on ENOMEM. */
struct timeline *timeline_new(size_t max_events);
void timeline_free(struct timeline *tl);
/* 0, -EINVAL for 0, or -ENOMEM (unchanged); shrinking drops the oldest. */
int timeline_set_max(struct timeline *tl, size_t max_events);

/* The client's track name; call again when it changes.  Unnamed tracks
 * are "client-N". */
int timeline_name(struct timeline *tl, uint64_t number, const char *name);
/* The client starts running at simulated t (an open slice closes first);
 * name, if not NULL, is its track name as timeline_name() takes it. */
int timeline_run(struct timeline *tl, uint64_t number, const char *name,
		 uint64_t t_ns);
/* It stops (WAIT) at t: completes the open slice, if any. */
int timeline_wait(struct timeline *tl, uint64_t number, uint64_t t_ns);
/* An instant at t: it asked to run at at_ns. */
int timeline_request(struct timeline *tl, uint64_t number, uint64_t t_ns,
		     uint64_t at_ns);
/* It left at t: closes its open slice and forgets it once no kept event
 * names it. */
int timeline_gone(struct timeline *tl, uint64_t number, uint64_t t_ns);

/* Simulated time has reached t (a jump with no message): open slices
 * render up to it. */
void timeline_advance(struct timeline *tl, uint64_t t_ns);

/* The whole JSON document in a malloc'd buffer the caller frees (not
 * NUL-terminated in *len, though one follows): 0 or -ENOMEM. */
int timeline_render(const struct timeline *tl, char **buf, size_t *len);

#endif
