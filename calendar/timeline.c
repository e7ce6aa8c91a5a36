/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

#define TL_NAME_MAX 31

/* A completed slice (dur) or a request (at). */
struct tl_event {
	uint64_t number, t, arg;
	bool slice;
};

struct tl_client {
	uint64_t number;
	uint64_t start; /* of the open slice */
	size_t refs;    /* kept events that name it */
	bool named, open, gone;
	char name[TL_NAME_MAX + 1];
};

struct timeline {
	struct tl_event *ev; /* ring: ev[(first + i) % cap], i < n */
	size_t cap, n, first;
	/* The clients' entries, in no order; an entry lives while the
	 * client is here or a kept event still names it. */
	struct tl_client *c;
	size_t nc, ccap;
	/* c by client number, for every event at any number of clients:
	 * open addressing, linear probing; a slot holds an index + 1, 0 is
	 * empty; nslot is a power of 2 at least twice nc. */
	size_t *slot;
	size_t nslot;
	bool purge; /* some entry may have become removable */
	uint64_t now; /* the latest simulated time seen */
};

struct timeline *timeline_new(size_t max_events)
{
	struct timeline *tl;

	if (max_events == 0)
		max_events = 1;
	tl = calloc(1, sizeof(*tl));
	if (!tl)
		return NULL;
	tl->ev = calloc(max_events, sizeof(*tl->ev));
	if (!tl->ev) {
		free(tl);
		return NULL;
	}
	tl->cap = max_events;
	return tl;
}

void timeline_free(struct timeline *tl)
{
	if (!tl)
		return;
	free(tl->ev);
	free(tl->c);
	free(tl->slot);
	free(tl);
}

static size_t tl_hash(uint64_t number, size_t mask)
{
	uint64_t h = number * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */

	return (size_t)(h ^ (h >> 32)) & mask;
}

/* The slot that holds number, or the empty slot where it would go. */
static size_t tl_slot(const struct timeline *tl, uint64_t number)
{
	size_t mask = tl->nslot - 1, i = tl_hash(number, mask);

	while (tl->slot[i] && tl->c[tl->slot[i] - 1].number != number)
		i = (i + 1) & mask;
	return i;
}

static struct tl_client *tl_find(const struct timeline *tl, uint64_t number)
{
	size_t i;

	if (!tl->nslot)
		return NULL;
	i = tl_slot(tl, number);
	return tl->slot[i] ? &tl->c[tl->slot[i] - 1] : NULL;
}

/* Empty slot i, moving back the entries whose probe ran past it, so
 * that every probe still ends at an empty slot only after its entry. */
static void tl_slot_clear(struct timeline *tl, size_t i)
{
	size_t mask = tl->nslot - 1, j = i;

	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (!tl->slot[j])
			break;
		h = tl_hash(tl->c[tl->slot[j] - 1].number, mask);
		/* Its home is cyclically outside (i, j]: it may move to i. */
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			tl->slot[i] = tl->slot[j];
			i = j;
		}
	}
	tl->slot[i] = 0;
}

static int tl_index_grow(struct timeline *tl, size_t want)
{
	size_t n = tl->nslot ? tl->nslot : 16, i;
	size_t *v;

	while (n < 2 * want)
		n *= 2;
	if (n == tl->nslot)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	free(tl->slot);
	tl->slot = v;
	tl->nslot = n;
	for (i = 0; i < tl->nc; i++)
		tl->slot[tl_slot(tl, tl->c[i].number)] = i + 1;
	return 0;
}

/* The client's entry, made if new; NULL on ENOMEM.  Moves the others. */
static struct tl_client *tl_get(struct timeline *tl, uint64_t number)
{
	struct tl_client *c = tl_find(tl, number);

	if (c)
		return c;
	if (tl_index_grow(tl, tl->nc + 1) < 0)
		return NULL;
	if (tl->nc == tl->ccap) {
		size_t cap = tl->ccap ? tl->ccap * 2 : 8;
		struct tl_client *v = realloc(tl->c, cap * sizeof(*v));

		if (!v)
			return NULL;
		tl->c = v;
		tl->ccap = cap;
	}
	c = &tl->c[tl->nc++];
	memset(c, 0, sizeof(*c));
	c->number = number;
	tl->slot[tl_slot(tl, number)] = tl->nc;
	return c;
}

static bool tl_removable(const struct tl_client *c)
{
	return c->gone && !c->open && c->refs == 0;
}

/* Entries are only dropped here, at the end of a call, so that a
 * tl_client pointer stays good through the call. */
static void tl_purge(struct timeline *tl)
{
	size_t i = 0;

	if (!tl->purge)
		return;
	tl->purge = false;
	while (i < tl->nc) {
		if (!tl_removable(&tl->c[i])) {
			i++;
			continue;
		}
		tl_slot_clear(tl, tl_slot(tl, tl->c[i].number));
		if (i != --tl->nc) {
			/* The last entry moves into i: so does its slot. */
			tl->c[i] = tl->c[tl->nc];
			tl->slot[tl_slot(tl, tl->c[i].number)] = i + 1;
		}
	}
}

static void tl_unref(struct timeline *tl, const struct tl_event *e)
{
	struct tl_client *c = tl_find(tl, e->number);

	if (c && --c->refs == 0 && c->gone)
		tl->purge = true;
}

static void tl_drop_oldest(struct timeline *tl)
{
	tl_unref(tl, &tl->ev[tl->first]);
	tl->first = (tl->first + 1) % tl->cap;
	tl->n--;
}

/* c must be the entry of e->number, got in this call. */
static void tl_push(struct timeline *tl, struct tl_client *c,
		    const struct tl_event *e)
{
	if (tl->n == tl->cap)
		tl_drop_oldest(tl);
	tl->ev[(tl->first + tl->n) % tl->cap] = *e;
	tl->n++;
	c->refs++;
}

static void tl_see(struct timeline *tl, uint64_t t)
{
	if (t > tl->now)
		tl->now = t;
}

void timeline_advance(struct timeline *tl, uint64_t t_ns)
{
	tl_see(tl, t_ns);
}

/* Complete c's open slice at t. */
static void tl_close(struct timeline *tl, struct tl_client *c, uint64_t t)
{
	struct tl_event e = {
		.number = c->number,
		.t = c->start,
		.arg = t > c->start ? t - c->start : 0,
		.slice = true,
	};

	c->open = false;
	tl_push(tl, c, &e);
}

int timeline_set_max(struct timeline *tl, size_t max_events)
{
	struct tl_event *v;
	size_t i;

	if (max_events == 0)
		return -EINVAL;
	v = calloc(max_events, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (tl->n > max_events)
		tl_drop_oldest(tl);
	for (i = 0; i < tl->n; i++)
		v[i] = tl->ev[(tl->first + i) % tl->cap];
	free(tl->ev);
	tl->ev = v;
	tl->cap = max_events;
	tl->first = 0;
	tl_purge(tl);
	return 0;
}

/* Every grant passes the name: copy it only when it changed. */
static void tl_name(struct tl_client *c, const char *name)
{
	size_t len;

	if (c->named && !strncmp(c->name, name, TL_NAME_MAX))
		return;
	len = strnlen(name, TL_NAME_MAX);
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	c->named = true;
}

int timeline_name(struct timeline *tl, uint64_t number, const char *name)
{
	struct tl_client *c = tl_get(tl, number);

	if (!c)
		return -ENOMEM;
	tl_name(c, name);
	return 0;
}

int timeline_run(struct timeline *tl, uint64_t number, const char *name,
		 uint64_t t_ns)
{
	struct tl_client *c = tl_get(tl, number);

	if (!c)
		return -ENOMEM;
	if (name)
		tl_name(c, name);
	tl_see(tl, t_ns);
	/* A RUN without the WAIT of the last one: end that slice here. */
	if (c->open)
		tl_close(tl, c, t_ns);
	c->open = true;
	c->start = t_ns;
	tl_purge(tl);
	return 0;
}

int timeline_wait(struct timeline *tl, uint64_t number, uint64_t t_ns)
{
	struct tl_client *c = tl_find(tl, number);

	tl_see(tl, t_ns);
	if (c && c->open)
		tl_close(tl, c, t_ns);
	tl_purge(tl);
	return 0;
}

int timeline_request(struct timeline *tl, uint64_t number, uint64_t t_ns,
		     uint64_t at_ns)
{
	struct tl_client *c = tl_get(tl, number);
	struct tl_event e = { .number = number, .t = t_ns, .arg = at_ns };

	if (!c)
		return -ENOMEM;
	tl_see(tl, t_ns);
	tl_push(tl, c, &e);
	tl_purge(tl);
	return 0;
}

int timeline_gone(struct timeline *tl, uint64_t number, uint64_t t_ns)
{
	struct tl_client *c = tl_find(tl, number);

	tl_see(tl, t_ns);
	if (c) {
		if (c->open)
			tl_close(tl, c, t_ns);
		c->gone = true;
		tl->purge = true;
	}
	tl_purge(tl);
	return 0;
}

/* Rendering: a growing buffer that remembers running out of memory. */
struct tl_buf {
	char *p;
	size_t len, cap;
	bool enomem;
};

static bool tl_reserve(struct tl_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->enomem)
		return false;
	if (b->len + more < b->cap)
		return true;
	while (b->len + more >= cap)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->enomem = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

__attribute__((format(printf, 2, 3)))
static void tl_printf(struct tl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !tl_reserve(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Microseconds with 3 decimals, so nanoseconds survive. */
static void tl_us(struct tl_buf *b, const char *key, uint64_t ns)
{
	tl_printf(b, ",\"%s\":%" PRIu64 ".%03u", key, ns / 1000,
		  (unsigned int)(ns % 1000));
}

/* A JSON string; bytes past ASCII as \u00XX, so any label stays valid
 * UTF-8 JSON. */
static void tl_str(struct tl_buf *b, const char *s)
{
	const unsigned char *p;

	tl_printf(b, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			tl_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			tl_printf(b, "\\u%04x", *p);
		else
			tl_printf(b, "%c", *p);
	}
	tl_printf(b, "\"");
}

static void tl_head(struct tl_buf *b, bool *first, const char *name,
		    const char *ph, uint64_t tid)
{
	tl_printf(b, "%s\n{\"name\":\"%s\",\"ph\":\"%s\",\"pid\":1,"
		  "\"tid\":%" PRIu64, *first ? "" : ",", name, ph, tid);
	*first = false;
}

static void tl_thread(struct tl_buf *b, bool *first,
		      const struct tl_client *c)
{
	char def[32];

	tl_head(b, first, "thread_name", "M", c->number);
	tl_printf(b, ",\"args\":{\"name\":");
	if (c->named) {
		tl_str(b, c->name);
	} else {
		snprintf(def, sizeof(def), "client-%" PRIu64, c->number);
		tl_str(b, def);
	}
	tl_printf(b, "}}");
	/* Lanes in client order, not first-seen order. */
	tl_head(b, first, "thread_sort_index", "M", c->number);
	tl_printf(b, ",\"args\":{\"sort_index\":%" PRIu64 "}}", c->number);
}

static void tl_slice(struct tl_buf *b, bool *first, uint64_t tid,
		     uint64_t ts, uint64_t dur, bool open)
{
	tl_head(b, first, "run", "X", tid);
	tl_us(b, "ts", ts);
	tl_us(b, "dur", dur);
	tl_printf(b, "%s}", open ? ",\"args\":{\"open\":true}" : "");
}

int timeline_render(const struct timeline *tl, char **buf, size_t *len)
{
	struct tl_buf b = { 0 };
	bool first = true;
	size_t i;

	tl_printf(&b, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
	/* A process's metadata names no thread: no stray lane 0. */
	tl_printf(&b, "\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,"
		  "\"args\":{\"name\":\"ttfs\"}}");
	first = false;
	for (i = 0; i < tl->nc; i++)
		if (tl->c[i].refs || tl->c[i].open)
			tl_thread(&b, &first, &tl->c[i]);
	for (i = 0; i < tl->n; i++) {
		const struct tl_event *e = &tl->ev[(tl->first + i) % tl->cap];

		if (e->slice) {
			tl_slice(&b, &first, e->number, e->t, e->arg, false);
			continue;
		}
		tl_head(&b, &first, "request", "i", e->number);
		tl_us(&b, "ts", e->t);
		tl_printf(&b, ",\"s\":\"t\",\"args\":{\"at_ns\":%" PRIu64 "}}",
			  e->arg);
	}
	for (i = 0; i < tl->nc; i++) {
		const struct tl_client *c = &tl->c[i];

		if (c->open)
			tl_slice(&b, &first, c->number, c->start,
				 tl->now > c->start ? tl->now - c->start : 0,
				 true);
	}
	tl_printf(&b, "\n]}\n");
	if (b.enomem) {
		free(b.p);
		return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}
