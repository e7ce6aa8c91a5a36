/* SPDX-License-Identifier: MIT */
/*
 * heap.h: a binary min-heap of embedded nodes, O(log n) insert, remove
 * and update.  Each node knows its own index, so any node can be removed
 * or re-keyed without a search.  The heap owns only its pointer array.
 */
#ifndef TTFS_HEAP_H
#define TTFS_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#define HEAP_NONE ((size_t)-1)

/* The struct of type that holds member at ptr. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct heap_node {
	size_t idx; /* HEAP_NONE when not in a heap */
};

/* true if a goes before b */
typedef bool (*heap_less_fn)(const struct heap_node *a,
			     const struct heap_node *b);

struct heap {
	struct heap_node **v;
	size_t n, cap;
	heap_less_fn less;
};

void heap_init(struct heap *h, heap_less_fn less);
void heap_release(struct heap *h);
/* 0, or -ENOMEM (the heap is unchanged). */
int heap_insert(struct heap *h, struct heap_node *x);
void heap_remove(struct heap *h, struct heap_node *x);
/* x's key changed: move it to its place. */
void heap_update(struct heap *h, struct heap_node *x);
struct heap_node *heap_top(const struct heap *h);
static inline bool heap_contains(const struct heap_node *x)
{
	return x->idx != HEAP_NONE;
}

#endif
