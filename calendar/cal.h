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

#include "heap.h"
#include "proto.h"

#define CAL_TIME_NONE UINT64_MAX
#define CAL_NAME_MAX 31 /* a client's label, in bytes */

struct cal;
struct cal_client;

enum cal_client_state {
	CAL_CLIENT_NEW,     /* connected, no START yet */
	CAL_CLIENT_HELD,    /* START received, its ACK held */
	CAL_CLIENT_RUNNING, /* from RUN (or START's ACK) until WAIT */
	CAL_CLIENT_WAITING, /* sent WAIT, waits for RUN */
};

/* One message in or out, for traces and timelines. */
struct cal_event {
	struct cal_client *client;
	const struct um_timetravel_msg *msg; /* NULL: the client leaves */
	bool out;       /* calendar -> client */
	bool start_ack; /* out: the ACK that lets a held START run */
	bool shm;       /* in: read from the client's slot, not a message */
};

/*
 * A reader of until/T: wants the clock at t.  The calendar takes control
 * back there (FREE_UNTIL stops at t) so the reader hears of it promptly.
 * Owned by the caller; the core only links it.
 */
struct cal_waiter {
	struct heap_node hn;
	uint64_t t;
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
	/* Optional: every message in and out. */
	void (*event)(void *data, const struct cal_event *ev);
	/* Optional: cut the client off (it leaves through cal_client_free
	 * later, from the adapter's loop). */
	void (*kick)(void *client_data);
	/* Wall clock, ns (monotonic), for pacing; NULL: no pacing. */
	uint64_t (*now)(void *data);
	/* Call cal_tick() at wall time `when` (CAL_TIME_NONE: never). */
	void (*wake)(void *data, uint64_t when);
};

struct cal_stats {
	uint64_t grants; /* RUNs, and START ACKs that let a client run */
	uint64_t received[TT_OP_COUNT];
	uint64_t sent[TT_OP_COUNT];
	uint64_t clients_ever;
	unsigned int clients_now;
	uint64_t shm_requests; /* requests read from slots */
	unsigned int shm_clients; /* clients in shared-memory mode now */
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

/*
 * Shared-memory scheduling (Linux >= 6.11): mem is the page the adapter
 * mapped (len bytes, zero-filled), borrowed until cal_shm_detach().  From
 * then on START's ACK offers a slot.  -EINVAL for a page too small,
 * -ENOMEM.
 */
int cal_shm_attach(struct cal *cal, void *mem, size_t len);
/* Stop touching the page (clients keep the mode they have). */
void cal_shm_detach(struct cal *cal);

/* The clock; while a shared-memory client runs, read live off the page. */
uint64_t cal_clock(struct cal *cal);
uint64_t cal_tod(const struct cal *cal);
void cal_set_tod(struct cal *cal, uint64_t tod);
/* true: `running` (simulation may advance), false: `paused`. */
bool cal_is_running(const struct cal *cal);
/* The client running now, or NULL. */
struct cal_client *cal_runner(const struct cal *cal);
/* The pending stop point of an advance, or CAL_TIME_NONE. */
uint64_t cal_stop_at(const struct cal *cal);
unsigned int cal_client_count(const struct cal *cal);
void cal_stats(const struct cal *cal, struct cal_stats *st);

/*
 * Pace: 0, as fast as possible; 1, simulated time follows the wall clock;
 * any other ratio of simulated to wall time.  -EINVAL when negative, not
 * finite, or pacing is not wired (no now/wake ops).  Rebased at every
 * change, so the clock never jumps.
 */
int cal_set_pace(struct cal *cal, double pace);
double cal_pace(const struct cal *cal);
/* The wake time asked for through ops->wake has come. */
void cal_tick(struct cal *cal);

void cal_waiter_add(struct cal *cal, struct cal_waiter *w, uint64_t t);
void cal_waiter_remove(struct cal *cal, struct cal_waiter *w);

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

/* Frozen: never given runtime, and holds nobody back; thawed, it runs
 * at its own requested time, its offset grown by the time it lost.  A
 * shared-memory client took its offset once, from the page: thawed, it
 * keeps it, and runs at its request even though the clock has passed it. */
void cal_client_set_frozen(struct cal *cal, struct cal_client *c, bool on);
bool cal_client_frozen(const struct cal_client *c);
/* Ask the adapter to cut the client off; -ENOTSUP without a kick op. */
int cal_client_kick(struct cal *cal, struct cal_client *c);
/* A label for traces: 1 to CAL_NAME_MAX printable bytes, no '/' or
 * spaces; -EINVAL otherwise.  Default "id-ID" (before START, "client-N"). */
int cal_client_set_name(struct cal_client *c, const char *name, size_t len);
const char *cal_client_name(const struct cal_client *c);
/* Its slot on the shared page (0: none), and whether it uses it. */
uint16_t cal_client_slot(const struct cal_client *c);
bool cal_client_shm(const struct cal_client *c);
/* Requests it wrote into its slot (and the calendar took). */
uint64_t cal_client_shm_requests(const struct cal_client *c);
/* Its time 0 on the calendar's clock. */
uint64_t cal_client_offset(const struct cal_client *c);

uint64_t cal_client_number(const struct cal_client *c);
/* The ID from START; false if START has not come yet. */
bool cal_client_id(const struct cal_client *c, uint64_t *id);
enum cal_client_state cal_client_state(const struct cal_client *c);
const char *cal_client_state_name(enum cal_client_state s);
/* The pending request on the calendar's clock, or CAL_TIME_NONE; a
 * waiting shared-memory client's is read from its slot. */
uint64_t cal_client_request(const struct cal_client *c);
pid_t cal_client_pid(const struct cal_client *c);
void *cal_client_data(const struct cal_client *c);
/* Messages received from / sent to the client, by op (TT_OP_COUNT each). */
const uint64_t *cal_client_received(const struct cal_client *c);
const uint64_t *cal_client_sent(const struct cal_client *c);

#endif
