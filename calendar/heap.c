/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "heap.h"

void heap_init(struct heap *h, heap_less_fn less)
{
	h->v = NULL;
	h->n = h->cap = 0;
	h->less = less;
}

void heap_release(struct heap *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		h->v[i]->idx = HEAP_NONE;
	free(h->v);
	heap_init(h, h->less);
}

static void heap_set(struct heap *h, size_t i, struct heap_node *x)
{
	h->v[i] = x;
	x->idx = i;
}

static void heap_up(struct heap *h, size_t i)
{
	struct heap_node *x = h->v[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!h->less(x, h->v[p]))
			break;
		heap_set(h, i, h->v[p]);
		i = p;
	}
	heap_set(h, i, x);
}

static void heap_down(struct heap *h, size_t i)
{
	struct heap_node *x = h->v[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->less(h->v[c + 1], h->v[c]))
			c++;
		if (!h->less(h->v[c], x))
			break;
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, x);
}

int heap_insert(struct heap *h, struct heap_node *x)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct heap_node **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	heap_set(h, h->n++, x);
	heap_up(h, x->idx);
	return 0;
}

void heap_remove(struct heap *h, struct heap_node *x)
{
	size_t i = x->idx;
	struct heap_node *last;

	if (i == HEAP_NONE)
		return;
	x->idx = HEAP_NONE;
	last = h->v[--h->n];
	if (last == x)
		return;
	heap_set(h, i, last);
	heap_update(h, last);
}

void heap_update(struct heap *h, struct heap_node *x)
{
	size_t i = x->idx;

	if (i == HEAP_NONE)
		return;
	if (i > 0 && h->less(x, h->v[(i - 1) / 2]))
		heap_up(h, i);
	else
		heap_down(h, i);
}

struct heap_node *heap_top(const struct heap *h)
{
	return h->n ? h->v[0] : NULL;
}
