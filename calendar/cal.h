/* SPDX-License-Identifier: MIT */
/*
 * cal.h: the calendar core.  Pure: no descriptors, no event loop, no FUSE.
 *
 * The core decides who runs when.  Adapters feed it what clients say
 * (cal_client_input) and what people ask (cal_advance, cal_set_run); it
 * answers through the injected cal_ops: messages to send, and a note that
 * something visible changed.  All times inside are on the calendar's clock
 * (ns); each client's own time is the calendar's minus its offset.
 */
#ifndef TTFS_CAL_H
#define TTFS_CAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define CAL_TIME_NONE UINT64_MAX

struct cal;
struct cal_client;

enum cal_client_state {
	CAL_CLIENT_NEW,     /* connected, no START yet */
	CAL_CLIENT_HELD,    /* START received, its ACK held */
	CAL_CLIENT_RUNNING, /* from RUN (or START's ACK) until WAIT */
	CAL_CLIENT_WAITING, /* sent WAIT, waits for RUN */
};

struct cal_ops {
	/*
	 * Send msgs to the client, in order and, to save round trips, in one
	 * write.  start_ack: this is START's ACK, which must carry the
	 * shared-memory descriptors.  Sending cannot fail here: an adapter
	 * that cannot deliver drops the client later, from its own loop.
	 */
	void (*send)(void *client_data, const struct um_timetravel_msg *msgs,
		     unsigned int n, bool start_ack);
	/* Something visible changed (clock, state, a client's state). */
	void (*changed)(void *data);
};

struct cal_config {
	uint64_t quantum; /* FREE_UNTIL reaches at most this past the clock */
	uint64_t tod;     /* ns since the epoch at simulated time 0 */
	bool paused;      /* start paused */
	unsigned int expect; /* if > 0: paused until this many STARTs */
};

#define CAL_DEFAULT_QUANTUM 10000000ull /* 10 ms of simulated time */

/* The calendar.  Returns NULL when out of memory. */
struct cal *cal_new(const struct cal_config *cfg, const struct cal_ops *ops,
		    void *data);
/* Frees the calendar and every client still in it. */
void cal_free(struct cal *cal);

uint64_t cal_clock(const struct cal *cal);
uint64_t cal_tod(const struct cal *cal);
void cal_set_tod(struct cal *cal, uint64_t tod);
/* true: `running` (simulation may advance), false: `paused`. */
bool cal_is_running(const struct cal *cal);
/* The client running now, or NULL. */
struct cal_client *cal_runner(const struct cal *cal);
/* The pending stop point of an advance, or CAL_TIME_NONE. */
uint64_t cal_stop_at(const struct cal *cal);
unsigned int cal_client_count(const struct cal *cal);

/* Let the simulation run with no stop point (`run`), or pause it. */
void cal_set_run(struct cal *cal, bool run);
/*
 * Run until the clock reads exactly `t`, then pause there.
 * -EINVAL if t is behind the clock or beyond TT_TIME_MAX.
 */
int cal_advance(struct cal *cal, uint64_t t);

/*
 * A new connection.  pid: the peer's, or 0.  Returns NULL when out of
 * memory.  The client's number is given here and never reused.
 */
struct cal_client *cal_client_new(struct cal *cal, void *client_data,
				  pid_t pid);
/* The client left or was dropped; a runner hands the turn to the next. */
void cal_client_free(struct cal *cal, struct cal_client *c);
/*
 * One message from the client.  0, or a negative errno when the client
 * broke the protocol (then *why says how, and the caller drops it).
 */
int cal_client_input(struct cal *cal, struct cal_client *c,
		     const struct um_timetravel_msg *msg, const char **why);

/* Clients in connection order. */
struct cal_client *cal_client_first(const struct cal *cal);
struct cal_client *cal_client_next(const struct cal *cal,
				   const struct cal_client *c);
struct cal_client *cal_client_find(const struct cal *cal, uint64_t number);

uint64_t cal_client_number(const struct cal_client *c);
/* The ID from START; false if START has not come yet. */
bool cal_client_id(const struct cal_client *c, uint64_t *id);
enum cal_client_state cal_client_state(const struct cal_client *c);
const char *cal_client_state_name(enum cal_client_state s);
/* The pending request on the calendar's clock, or CAL_TIME_NONE. */
uint64_t cal_client_request(const struct cal_client *c);
pid_t cal_client_pid(const struct cal_client *c);
void *cal_client_data(const struct cal_client *c);
/* Messages received from / sent to the client, by op (TT_OP_COUNT each). */
const uint64_t *cal_client_received(const struct cal_client *c);
const uint64_t *cal_client_sent(const struct cal_client *c);

#endif
