/* SPDX-License-Identifier: MIT */
/*
 * watch.h: what the tree shows of the run as it goes, fed by every
 * message in and out (watch_event) and a wall-clock tick: the trace
 * stream, the timeline, and the stats' clock samples and counters.
 */
#ifndef TTFS_WATCH_H
#define TTFS_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "cal.h"
#include "timeline.h"
#include "trace.h"

struct watch;

/* NULL: no memory.  clock: the calendar's now (ratio_total from here). */
struct watch *watch_new(size_t trace_records, size_t timeline_events,
			uint64_t clock);
void watch_free(struct watch *w);
/* One message in or out (cal_ops.event). */
void watch_event(struct watch *w, struct cal *cal, const struct cal_event *ev);
/* A clock sample for ratio_last_second: every 100 ms of wall time
 * while anything runs. */
void watch_tick(struct watch *w, uint64_t clock);
/* A sample now, whenever the last: the daemon takes one as it falls
 * idle and wakes, and around every jump of the clock while idle, so that
 * the gaps between samples are stretches of a constant clock. */
void watch_sample(struct watch *w, uint64_t clock);
/* One FUSE request taken (fs.requests). */
void watch_count_request(struct watch *w);
/* stats' ratio_total (since start) and ratio_last_second, at clock. */
void watch_ratios(const struct watch *w, uint64_t clock, double *total,
		  double *last_second);
uint64_t watch_requests(const struct watch *w);
/* trace: records are kept only while someone reads (+1 at open, -1 at
 * release). */
struct trace *watch_trace(struct watch *w);
void watch_tracers(struct watch *w, int delta);
struct timeline *watch_timeline(struct watch *w);

#endif
