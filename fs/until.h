/* SPDX-License-Identifier: MIT */
/*
 * until.h: the entries of until/, the files whose names are times.  Each
 * distinct name gets an inode number when the kernel looks it up and keeps
 * it until the kernel forgets it (its lookup count drops to 0).  Found by
 * number (every getattr, open) and by name (every lookup) in O(1).
 */
#ifndef TTFS_UNTIL_H
#define TTFS_UNTIL_H

#include <stddef.h>
#include <stdint.h>

#define UNTIL_NAME_MAX 64

struct until_ent {
	struct until_ent *ino_next, *name_next; /* hash chains */
	uint64_t ino;
	uint64_t nlookup;
	char name[UNTIL_NAME_MAX + 1];
};

struct until_map;

/* Numbers are handed out from first up, never reused.  NULL: no memory. */
struct until_map *until_map_new(uint64_t first);
void until_map_free(struct until_map *m);
const struct until_ent *until_find(const struct until_map *m, uint64_t ino);
/* The entry of name (len bytes, at most UNTIL_NAME_MAX), made if new;
 * its lookup count goes up by one.  NULL: no memory. */
const struct until_ent *until_lookup(struct until_map *m, const char *name,
				     size_t len);
/* The kernel forgets n lookups of ino; at 0 the entry goes. */
void until_forget(struct until_map *m, uint64_t ino, uint64_t n);

#endif
