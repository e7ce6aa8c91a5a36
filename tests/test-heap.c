/* SPDX-License-Identifier: MIT */
/* The heap against a sorted reference, under random inserts, removes and
 * updates. */
#include <stdlib.h>

#include "heap.h"
#include "test.h"

struct item {
	struct heap_node hn;
	unsigned int key;
	bool in;
};

static bool item_less(const struct heap_node *a, const struct heap_node *b)
{
	return ((const struct item *)a)->key < ((const struct item *)b)->key;
}

static unsigned int min_key(const struct item *v, size_t n, bool *any)
{
	unsigned int m = ~0u;
	size_t i;

	*any = false;
	for (i = 0; i < n; i++)
		if (v[i].in && v[i].key <= m) {
			m = v[i].key;
			*any = true;
		}
	return m;
}

static void test_random(void)
{
	enum { N = 200, STEPS = 20000 };
	static struct item v[N];
	struct heap h;
	unsigned int seed = 1;
	size_t i;
	int s;

	heap_init(&h, item_less);
	for (i = 0; i < N; i++)
		v[i].hn.idx = HEAP_NONE;
	for (s = 0; s < STEPS; s++) {
		struct item *x = &v[rand_r(&seed) % N];
		struct heap_node *top;
		bool any;
		unsigned int m;

		switch (rand_r(&seed) % 3) {
		case 0:
			if (!x->in) {
				x->key = (unsigned int)rand_r(&seed) % 1000;
				CHECK_EQ(heap_insert(&h, &x->hn), 0);
				x->in = true;
			}
			break;
		case 1:
			heap_remove(&h, &x->hn);
			x->in = false;
			CHECK(!heap_contains(&x->hn));
			break;
		default:
			x->key = (unsigned int)rand_r(&seed) % 1000;
			heap_update(&h, &x->hn);
			break;
		}
		m = min_key(v, N, &any);
		top = heap_top(&h);
		CHECK(any == (top != NULL));
		if (top && any && ((struct item *)top)->key != m) {
			CHECK_EQ(((struct item *)top)->key, m);
			break;
		}
	}
	heap_release(&h);
	for (i = 0; i < N; i++)
		CHECK(!heap_contains(&v[i].hn));
}

TEST_LIST(T(test_random))
