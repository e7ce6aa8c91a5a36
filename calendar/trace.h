/* SPDX-License-Identifier: MIT */
/*
 * trace.h: a bounded ring of the messages the calendar exchanged, read
 * like the kernel's trace_pipe: each reader keeps its own cursor, a
 * reader too slow for the ring is told how many records it lost, and
 * adding never waits for readers.  One line per record:
 *
 *   1795617164.799035939 2000000 1 0 uml0 -> WAIT seq=3 time=0
 *
 * wall clock (s.ns), calendar clock (ns), client number, its ID ("-"
 * before START), its label, "->" client to calendar or "<-" calendar to
 * client, or "=>" for a request the client wrote into its shared-memory
 * slot (seq 0; time in its own time, as a REQUEST message's), the op, the
 * message's seq and time.  Pure: no I/O.
 */
#ifndef TTFS_TRACE_H
#define TTFS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_NO_ID UINT64_MAX
/* Longest line trace_read() renders, with its '\n'. */
#define TRACE_LINE_MAX 200

struct trace_rec {
	uint64_t wall_ns; /* CLOCK_REALTIME ns */
	uint64_t clock;   /* the calendar's simulated clock, ns */
	uint64_t client;  /* client number */
	uint64_t id;      /* the client's ID from START, or TRACE_NO_ID */
	char name[32];    /* the client's label, NUL-terminated */
	bool out;         /* true: calendar -> client */
	bool shm;         /* read from the client's slot, not a message */
	uint32_t op, seq;
	uint64_t time;
};

struct trace;

/* A ring of capacity records (any capacity >= 1); NULL on ENOMEM. */
struct trace *trace_new(size_t capacity);
void trace_free(struct trace *t);
/* O(1); overwrites the oldest record when full. */
void trace_add(struct trace *t, const struct trace_rec *r);
/* The sequence number the next record gets: where a new reader starts. */
uint64_t trace_head(const struct trace *t);
/*
 * Render whole lines for a reader whose next record is *cursor into buf
 * (at most cap bytes, never a partial line; cap >= 256).  A cursor older
 * than the oldest record kept first gets "# lost N\n" and moves to the
 * oldest.  Advances *cursor past what was rendered; returns the bytes
 * written, 0 if there is nothing new.
 */
size_t trace_read(const struct trace *t, uint64_t *cursor, char *buf,
		  size_t cap);

#endif
