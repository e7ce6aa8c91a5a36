/* SPDX-License-Identifier: MIT */
/* until.c: until/'s entries by number and by name (see until.h). */
#include <stdlib.h>
#include <string.h>

#include "until.h"

struct until_map {
	struct until_ent **by_ino, **by_name; /* nbuckets chains each */
	size_t nbuckets; /* a power of 2, kept at least count */
	size_t count;
	uint64_t next_ino;
};

static size_t until_hash_name(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	while (len--) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static void until_link(struct until_map *m, struct until_ent *u)
{
	size_t i = (size_t)u->ino & (m->nbuckets - 1);
	size_t j = until_hash_name(u->name, strlen(u->name)) &
		   (m->nbuckets - 1);

	u->ino_next = m->by_ino[i];
	m->by_ino[i] = u;
	u->name_next = m->by_name[j];
	m->by_name[j] = u;
}

/* Room for one more; without memory the chains just get longer. */
static void until_grow(struct until_map *m)
{
	size_t old_n = m->nbuckets, i;
	struct until_ent **old = m->by_ino, **bi, **bn, *u, *next;

	if (m->count < m->nbuckets)
		return;
	bi = calloc(old_n * 2, sizeof(*bi));
	bn = calloc(old_n * 2, sizeof(*bn));
	if (!bi || !bn) {
		free(bi);
		free(bn);
		return;
	}
	free(m->by_name);
	m->by_ino = bi;
	m->by_name = bn;
	m->nbuckets = old_n * 2;
	for (i = 0; i < old_n; i++)
		for (u = old[i]; u; u = next) {
			next = u->ino_next;
			until_link(m, u);
		}
	free(old);
}

struct until_map *until_map_new(uint64_t first)
{
	struct until_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->nbuckets = 16;
	m->by_ino = calloc(m->nbuckets, sizeof(*m->by_ino));
	m->by_name = calloc(m->nbuckets, sizeof(*m->by_name));
	if (!m->by_ino || !m->by_name) {
		until_map_free(m);
		return NULL;
	}
	m->next_ino = first;
	return m;
}

void until_map_free(struct until_map *m)
{
	struct until_ent *u, *next;

	if (!m)
		return;
	for (size_t i = 0; m->by_ino && i < m->nbuckets; i++)
		for (u = m->by_ino[i]; u; u = next) {
			next = u->ino_next;
			free(u);
		}
	free(m->by_ino);
	free(m->by_name);
	free(m);
}

const struct until_ent *until_find(const struct until_map *m, uint64_t ino)
{
	const struct until_ent *u = m->by_ino[(size_t)ino & (m->nbuckets - 1)];

	while (u && u->ino != ino)
		u = u->ino_next;
	return u;
}

const struct until_ent *until_lookup(struct until_map *m, const char *name,
				     size_t len)
{
	struct until_ent *u;

	if (len > UNTIL_NAME_MAX)
		return NULL;
	u = m->by_name[until_hash_name(name, len) & (m->nbuckets - 1)];
	while (u && (strlen(u->name) != len || memcmp(u->name, name, len)))
		u = u->name_next;
	if (!u) {
		until_grow(m);
		u = calloc(1, sizeof(*u));
		if (!u)
			return NULL;
		memcpy(u->name, name, len);
		u->ino = m->next_ino++;
		until_link(m, u);
		m->count++;
	}
	u->nlookup++;
	return u;
}

void until_forget(struct until_map *m, uint64_t ino, uint64_t n)
{
	struct until_ent **p = &m->by_ino[(size_t)ino & (m->nbuckets - 1)];
	struct until_ent *u;

	while (*p && (*p)->ino != ino)
		p = &(*p)->ino_next;
	u = *p;
	if (!u)
		return;
	u->nlookup = n < u->nlookup ? u->nlookup - n : 0;
	if (u->nlookup)
		return;
	*p = u->ino_next;
	p = &m->by_name[until_hash_name(u->name, strlen(u->name)) &
			(m->nbuckets - 1)];
	while (*p != u)
		p = &(*p)->name_next;
	*p = u->name_next;
	m->count--;
	free(u);
}
