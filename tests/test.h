/* SPDX-License-Identifier: MIT */
/*
 * test.h: the smallest test harness.  Each TEST is a function; CHECK
 * records a failure and goes on.  main() ends with the plain
 * "N passed, N failed" line.
 */
#ifndef TTFS_TEST_H
#define TTFS_TEST_H

#include <stdio.h>

static int test_failed_checks;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",       \
				__FILE__, __LINE__, #cond);                \
			test_failed_checks++;                              \
		}                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		unsigned long long a_ = (unsigned long long)(a);           \
		unsigned long long b_ = (unsigned long long)(b);           \
		if (a_ != b_) {                                            \
			fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", \
				__FILE__, __LINE__, #a, a_, #b, b_);       \
			test_failed_checks++;                              \
		}                                                          \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

static inline int test_run_all(const struct test_case *t, size_t n)
{
	int passed = 0, failed = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int before = test_failed_checks;

		t[i].fn();
		if (test_failed_checks == before) {
			passed++;
			printf("ok %zu - %s\n", i + 1, t[i].name);
		} else {
			failed++;
			printf("not ok %zu - %s\n", i + 1, t[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TEST_LIST(...)                                                     \
	int main(void)                                                     \
	{                                                                  \
		static const struct test_case tests_[] = { __VA_ARGS__ };  \
		return test_run_all(tests_,                                \
				    sizeof(tests_) / sizeof(tests_[0]));   \
	}
#define T(fn) { #fn, fn }

#endif
