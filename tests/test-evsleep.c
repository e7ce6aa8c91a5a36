/* SPDX-License-Identifier: MIT */
/*
 * fs/evsleep.c: libev's cap becomes "forever" only while no evsleep_timer
 * is active, and (with an argument) a timer due past the cap, 61 s away,
 * still fires on time in a real loop that sleeps through evsleep's
 * epoll_wait, as the daemon's does.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evsleep.h"
#include "test.h"

static int fired;

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	fired++;
	ev_break(loop, EVBREAK_ALL);
}

static void test_timeout_follows_the_timers(void)
{
	struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);
	struct evsleep_timer a, b;

	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS), -1);
	CHECK_EQ(evsleep_timeout(5), 5);
	evsleep_timer_init(&a, timer_cb, 100.0, 0.0);
	evsleep_timer_init(&b, timer_cb, 100.0, 0.0);
	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS), -1); /* none started */
	ev_timer_start(loop, &b.w);
	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS), EVSLEEP_CAP_MS);
	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS + 1), EVSLEEP_CAP_MS + 1);
	ev_timer_stop(loop, &b.w);
	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS), -1);
	ev_timer_start(loop, &a.w);
	evsleep_timer_forget(&b);
	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS), EVSLEEP_CAP_MS);
	ev_timer_stop(loop, &a.w);
	evsleep_timer_forget(&a);
	CHECK_EQ(evsleep_timeout(EVSLEEP_CAP_MS), -1);
	ev_loop_destroy(loop);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 61 s of wall time: run only when asked (meson's evsleep-long). */
static void test_timer_past_the_cap_fires(void)
{
	struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);
	struct evsleep_timer t;
	double t0 = mono(), took;

	evsleep_timer_init(&t, timer_cb, 61.0, 0.0);
	ev_timer_start(loop, &t.w);
	fired = 0;
	ev_run(loop, 0);
	took = mono() - t0;
	CHECK_EQ(fired, 1);
	CHECK(took >= 60.9 && took < 70.0);
	evsleep_timer_forget(&t);
	ev_loop_destroy(loop);
}

int main(int argc, char **argv)
{
	const struct test_case quick[] = {
		{ "test_timeout_follows_the_timers",
		  test_timeout_follows_the_timers },
	};
	const struct test_case slow[] = {
		{ "test_timer_past_the_cap_fires",
		  test_timer_past_the_cap_fires },
	};

	if (argc > 1 && !strcmp(argv[1], "--long"))
		return test_run_all(slow, 1);
	return test_run_all(quick, 1);
}
