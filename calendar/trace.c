/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

struct trace {
	struct trace_rec *v;
	size_t cap;
	uint64_t head; /* records ever added; record s lives at v[s % cap] */
};

/* Upper case, as the ttproxy logs and the kernel's header spell them;
 * our own table so that the ring links without the calendar core. */
static const char *const trace_ops[] = {
	"ACK", "START", "REQUEST", "WAIT", "GET",
	"UPDATE", "RUN", "FREE_UNTIL", "GET_TOD", "BROADCAST",
};

struct trace *trace_new(size_t capacity)
{
	struct trace *t;

	if (capacity == 0)
		capacity = 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->v = calloc(capacity, sizeof(*t->v));
	if (!t->v) {
		free(t);
		return NULL;
	}
	t->cap = capacity;
	return t;
}

void trace_free(struct trace *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

void trace_add(struct trace *t, const struct trace_rec *r)
{
	t->v[t->head % t->cap] = *r;
	t->head++;
}

uint64_t trace_head(const struct trace *t)
{
	return t->head;
}

static uint64_t trace_oldest(const struct trace *t)
{
	return t->head > t->cap ? t->head - t->cap : 0;
}

/* One record into line (TRACE_LINE_MAX bytes); returns its length. */
static size_t trace_line(const struct trace_rec *r, char *line)
{
	char name[sizeof(r->name)], id[24], op[16];
	size_t i, n = strnlen(r->name, sizeof(r->name) - 1);
	int len;

	/* The cal only takes printable labels without spaces; keep the
	 * fields splittable whatever a caller passes. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->name[i];

		name[i] = c <= ' ' || c > '~' ? '_' : (char)c;
	}
	if (n == 0)
		name[n++] = '-';
	name[n] = '\0';
	if (r->id == TRACE_NO_ID)
		strcpy(id, "-");
	else
		snprintf(id, sizeof(id), "%" PRIu64, r->id);
	if (r->op < sizeof(trace_ops) / sizeof(trace_ops[0]))
		snprintf(op, sizeof(op), "%s", trace_ops[r->op]);
	else
		snprintf(op, sizeof(op), "%" PRIu32, r->op);
	len = snprintf(line, TRACE_LINE_MAX,
		       "%" PRIu64 ".%09" PRIu64 " %" PRIu64 " %" PRIu64
		       " %s %s %s %s seq=%" PRIu32 " time=%" PRIu64 "\n",
		       r->wall_ns / 1000000000u, r->wall_ns % 1000000000u,
		       r->clock, r->client, id, name, r->shm ? "=>" : r->out ? "<-" : "->",
		       op, r->seq, r->time);
	return len < 0 ? 0 : (size_t)len;
}

size_t trace_read(const struct trace *t, uint64_t *cursor, char *buf,
		  size_t cap)
{
	uint64_t oldest = trace_oldest(t);
	char line[TRACE_LINE_MAX];
	size_t off = 0;

	/* A cursor from the future (not one of ours) reads from now on. */
	if (*cursor > t->head)
		*cursor = t->head;
	if (*cursor < oldest) {
		int n = snprintf(buf, cap, "# lost %" PRIu64 "\n",
				 oldest - *cursor);

		if (n < 0 || (size_t)n >= cap)
			return 0;
		off = (size_t)n;
		*cursor = oldest;
	}
	while (*cursor < t->head) {
		size_t n = trace_line(&t->v[*cursor % t->cap], line);

		if (n > cap - off)
			break;
		memcpy(buf + off, line, n);
		off += n;
		(*cursor)++;
	}
	return off;
}
