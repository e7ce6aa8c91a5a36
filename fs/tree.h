/* SPDX-License-Identifier: MIT */
/*
 * tree.h: the FUSE adapter.  The calendar's state as a file tree (the
 * files and what they mean: docs/interface.md).
 *
 * The operations table is for fuse_session_new() with the tree as
 * userdata.  Requests that must wait (a write to clock, a pause) are parked
 * and answered by tree_process(), which the loop calls before it blocks.
 */
#ifndef TTFS_TREE_H
#define TTFS_TREE_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include "cal.h"

struct tree;

struct tree_config {
	size_t trace_records;   /* kept for slow trace readers */
	size_t timeline_events; /* kept for timeline.json */
};

struct tree *tree_new(struct cal *cal, const char *socket_path,
		      const struct tree_config *cfg);
/* Answers every parked request (EINTR): call before the session ends. */
void tree_stop(struct tree *t);
/* Frees the tree and its parked requests (call after the session ends). */
void tree_free(struct tree *t);
const struct fuse_lowlevel_ops *tree_ops(void);
/* Answer parked requests whose wait is over, or that were interrupted.
 * Called every loop turn: next to nothing when none are parked or polled. */
void tree_process(struct tree *t);
/* Sample the clock against the wall for stats; the loop calls it every
 * 100 ms, not every turn, to keep a clock read off each grant's path. */
void tree_tick(struct tree *t);
/* Anything waiting on the tree (a parked request, a poll): the tick must
 * run.  At the idle edges the loop takes a sample (tree_sample). */
bool tree_busy(const struct tree *t);
void tree_sample(struct tree *t);
/* One FUSE request taken from the session (stats: fs.requests), so what
 * watching the tree costs the loop can be seen. */
void tree_count_request(struct tree *t);
/* A message in or out, or a client gone (ev->msg NULL): for trace and
 * timeline.json. */
void tree_event(struct tree *t, const struct cal_event *ev);

#endif
