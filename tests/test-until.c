/* SPDX-License-Identifier: MIT */
/* fs/until.c: until/'s entries by number and by name. */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "until.h"

#define BASE 1000u

static void test_numbers_names_and_forgetting(void)
{
	struct until_map *m = until_map_new(BASE);
	const struct until_ent *a, *b, *u;
	char name[32];
	uint64_t ino[300];

	CHECK(m != NULL);
	a = until_lookup(m, "5s", 2);
	CHECK(a && a->ino == BASE && a->nlookup == 1 && !strcmp(a->name, "5s"));
	b = until_lookup(m, "+1ms", 4);
	CHECK(b && b->ino == BASE + 1);
	CHECK(until_lookup(m, "5s", 2) == a && a->nlookup == 2);
	CHECK(until_find(m, BASE) == a && until_find(m, BASE + 1) == b);
	CHECK(until_find(m, BASE + 2) == NULL);
	/* names compare whole: a prefix is another name */
	u = until_lookup(m, "5", 1);
	CHECK(u && u != a && u->ino == BASE + 2);
	/* many, through the growth of the table */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "%dms", i);
		u = until_lookup(m, name, strlen(name));
		CHECK(u != NULL);
		ino[i] = u ? u->ino : 0;
	}
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "%dms", i);
		u = until_find(m, ino[i]);
		CHECK(u && !strcmp(u->name, name));
		CHECK(until_lookup(m, name, strlen(name)) == u);
	}
	CHECK(until_find(m, BASE) == a); /* moved, still found */
	/* forgetting counts down; at 0 the entry goes, its number is not
	 * given again */
	until_forget(m, BASE, 1);
	CHECK(until_find(m, BASE) == a);
	until_forget(m, BASE, 5); /* more than held: gone, no underflow */
	CHECK(until_find(m, BASE) == NULL);
	u = until_lookup(m, "5s", 2);
	CHECK(u && u->ino > ino[299]);
	until_forget(m, 12345, 1); /* unknown: nothing */
	for (int i = 0; i < 300; i += 2)
		until_forget(m, ino[i], 2);
	for (int i = 0; i < 300; i++)
		CHECK((until_find(m, ino[i]) == NULL) == (i % 2 == 0));
	CHECK(until_lookup(m, "x", UNTIL_NAME_MAX + 1) == NULL);
	until_map_free(m);
}

TEST_LIST(T(test_numbers_names_and_forgetting))
