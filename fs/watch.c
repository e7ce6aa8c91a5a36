/* SPDX-License-Identifier: MIT */
/* watch.c: the trace, the timeline and stats' samples (see watch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "watch.h"

#define SAMPLES 16
#define SAMPLE_EVERY 100000000ull /* ns of wall time */

/* One sample of the clock against the wall, for stats' "last second". */
struct sample {
	uint64_t wall;
	uint64_t clock;
};

struct watch {
	struct trace *trace;
	unsigned int tracers; /* open trace files: record only for them */
	struct timeline *timeline;
	uint64_t last_waiter; /* client whose slice ends at the next grant */
	struct sample samples[SAMPLES];
	unsigned int nsample;
	uint64_t requests; /* FUSE requests taken, for stats */
	uint64_t born_mono, born_clock;
};

static uint64_t watch_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct watch *watch_new(size_t trace_records, size_t timeline_events,
			uint64_t clock)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->trace = trace_new(trace_records);
	w->timeline = timeline_new(timeline_events);
	if (!w->trace || !w->timeline) {
		watch_free(w);
		return NULL;
	}
	w->born_mono = watch_ns(CLOCK_MONOTONIC);
	w->born_clock = clock;
	return w;
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	trace_free(w->trace);
	timeline_free(w->timeline);
	free(w);
}

struct trace *watch_trace(struct watch *w) { return w->trace; }
struct timeline *watch_timeline(struct watch *w) { return w->timeline; }

void watch_tracers(struct watch *w, int delta)
{
	w->tracers += (unsigned int)delta;
}

void watch_count_request(struct watch *w)
{
	w->requests++;
}

void watch_sample(struct watch *w, uint64_t clock)
{
	w->samples[w->nsample % SAMPLES] = (struct sample){
		.wall = watch_ns(CLOCK_MONOTONIC), .clock = clock,
	};
	w->nsample++;
}

void watch_tick(struct watch *w, uint64_t clock)
{
	const struct sample *last = w->nsample ?
		&w->samples[(w->nsample - 1) % SAMPLES] : NULL;

	/* Half: a timer a little early must not skip a sample. */
	if (last && watch_ns(CLOCK_MONOTONIC) - last->wall < SAMPLE_EVERY / 2)
		return;
	watch_sample(w, clock);
}

/* Simulated per wall time, as a ratio. */
static double watch_ratio(uint64_t dclock, uint64_t dwall)
{
	return dwall ? (double)dclock / (double)dwall : 0.0;
}

void watch_ratios(const struct watch *w, uint64_t clock, double *total,
		  double *last_second)
{
	uint64_t now = watch_ns(CLOCK_MONOTONIC);
	const struct sample *old = NULL;

	/* The newest sample at least a second old (watch_tick takes one
	 * every SAMPLE_EVERY, so it is at most that much older). */
	for (unsigned int i = 0; i < w->nsample && i < SAMPLES; i++) {
		const struct sample *s = &w->samples[i];

		if (now - s->wall >= 1000000000ull &&
		    (!old || s->wall > old->wall))
			old = s;
	}
	*total = watch_ratio(clock - w->born_clock, now - w->born_mono);
	if (!old) {
		*last_second = *total;
	} else if (now - old->wall > 1000000000ull + 2 * SAMPLE_EVERY) {
		/* A gap: the daemon was idle, and the clock stood at old's
		 * from then until the next sample (see watch_sample). */
		*last_second = watch_ratio(clock - old->clock, 1000000000ull);
	} else {
		*last_second = watch_ratio(clock - old->clock,
					   now - old->wall);
	}
}

uint64_t watch_requests(const struct watch *w)
{
	return w->requests;
}

void watch_event(struct watch *w, struct cal *cal, const struct cal_event *ev)
{
	const struct um_timetravel_msg *m = ev->msg;
	struct cal_client *c = ev->client;
	uint64_t number = cal_client_number(c);
	uint64_t clock = cal_clock(cal);

	if (!m) {
		timeline_gone(w->timeline, number, clock);
		if (w->last_waiter == number)
			w->last_waiter = 0;
		return;
	}
	if (w->tracers) {
		struct trace_rec r = {
			.wall_ns = watch_ns(CLOCK_REALTIME), .clock = clock,
			.client = number, .out = ev->out,
			.op = m->op, .seq = m->seq, .time = m->time,
			.shm = ev->shm,
		};

		if (!cal_client_id(c, &r.id))
			r.id = TRACE_NO_ID;
		snprintf(r.name, sizeof(r.name), "%s", cal_client_name(c));
		trace_add(w->trace, &r);
	}
	/* The timeline: a client's slice runs from its grant to the next
	 * grant, the stretch of simulated time it went through. */
	if (ev->out && (ev->start_ack || m->op == UM_TIMETRAVEL_RUN)) {
		if (w->last_waiter)
			timeline_wait(w->timeline, w->last_waiter, clock);
		w->last_waiter = 0;
		timeline_run(w->timeline, number, cal_client_name(c), clock);
	} else if (!ev->out && m->op == UM_TIMETRAVEL_WAIT) {
		w->last_waiter = number;
	} else if (!ev->out && m->op == UM_TIMETRAVEL_REQUEST &&
		   m->time < TT_TIME_MAX) {
		timeline_request(w->timeline, number, clock,
				 m->time + cal_client_offset(c));
	}
}
