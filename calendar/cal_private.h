/* SPDX-License-Identifier: MIT */
/*
 * cal_private.h: what the calendar core's files share, and no one else
 * (adapters use cal.h):
 *   cal.c        the queue, the clock, grants, pacing, clients
 *   cal_input.c  what clients say: messages, the ACKs they owe, held ACKs
 *   cal_shm.c    the shared page's policy, called at the scheduler's hooks:
 *                on grant (cal_shm_hand), before choosing (cal_shm_look),
 *                idle (cal_shm_poll_at), on a WAIT (cal_on_shm_wait)
 */
#ifndef TTFS_CAL_PRIVATE_H
#define TTFS_CAL_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cal.h"
#include "heap.h"
#include "shm.h"

/* Messages that may await one client's ACK at once: a client that reads
 * (kernels ACK as they read) never comes near; one that stopped is
 * dropped by the socket adapter long before (64 KiB unread). */
#define CAL_ACKQ_MAX 65536u
/* Messages kept for a client whose REQUEST's ACK is held: as many as the
 * socket adapter lets pile up unread before it drops a client. */
#define CAL_DEFER_MAX 4096u

struct cal_client {
	struct cal *cal;
	struct cal_client *prev, *next; /* connection order */
	struct cal_client *shm_prev, *shm_next; /* in cal->shm_head */
	struct cal_client *bucket_next; /* in cal->buckets */
	struct heap_node req_node;   /* in cal->queue while req is set */
	struct heap_node start_node; /* in cal->held while its START is */
	void *data;
	uint64_t number;
	uint64_t id;
	bool has_id;
	pid_t pid;
	enum cal_client_state state;
	uint64_t req; /* pending request on the calendar's clock */
	uint64_t offset; /* the clock at START's ACK: the client's time 0 */
	uint64_t given;  /* latest time it was given or reported (calendar) */
	/* The FREE_UNTIL of its last RUN (calendar): after it, its own time
	 * may be anywhere below this without our knowing. */
	uint64_t fu;
	/* The FREE_UNTIL a message-mode runner was last told (0: none, it
	 * asks for every event): a request below it must lower it. */
	uint64_t fu_told;
	/* A lowered FREE_UNTIL is out, and nothing but ACKs came since: if
	 * its ACK comes first, the runner read it while it waited (a kick's
	 * wait) at its reported time, so it reaches no further than that. */
	bool fu_quiet;
	/* Its REQUEST's ACK waits for the runner's ACK of a lowered
	 * FREE_UNTIL (cal->hold_seq); what we send it meanwhile waits in
	 * deferred, in order. */
	bool held;
	struct cal_client *hold_next; /* in cal->holds */
	struct um_timetravel_msg *deferred;
	unsigned int ndeferred, deferred_cap;
	uint32_t start_seq;
	uint32_t tx_seq;   /* seq of the last message we sent it */
	/* Seqs of our messages that await its ACK, oldest first (a ring):
	 * all but ACKs, and but RUN in shm mode.  ACKs come in this order. */
	uint32_t *ackq;
	unsigned int ackq_head, ackq_len, ackq_cap;
	bool ackq_lost; /* one could not be kept: its next ACK is refused */
	uint16_t slot;   /* on the shared page; 0: none */
	bool mode_known; /* its first message after START's ACK came */
	bool shm;        /* it set TIME_SHARE: uses the page */
	uint64_t shm_requests;
	uint64_t rx[TT_OP_COUNT];
	uint64_t tx[TT_OP_COUNT];
	bool frozen;
	bool named;         /* name set by hand, not the default */
	uint64_t frozen_at; /* the clock when frozen */
	char name[CAL_NAME_MAX + 1];
};

struct cal {
	const struct cal_ops *ops;
	void *data;
	struct cal_config cfg;
	uint64_t clock;
	uint64_t tod;
	uint64_t stop_at;
	bool run;
	bool expect_met;
	bool steered; /* run or pause was set by hand: --expect keeps off */
	unsigned int started; /* clients that ever sent START */
	unsigned int nclients;
	uint64_t next_number;
	struct cal_client *runner;
	/* Clients whose REQUEST's ACK waits for the runner (see
	 * cal_runner_bound), and that runner. */
	struct cal_client *holds;
	struct cal_client *hold_runner;
	uint32_t hold_seq; /* the FREE_UNTIL whose ACK releases them */
	struct cal_client *head, *tail;
	/* Clients by number, for the tree's every lookup: chains, and a
	 * power-of-2 count kept at least nclients (or NULL: walk the list,
	 * when there was no memory for it). */
	struct cal_client **buckets;
	size_t nbuckets;
	struct heap queue; /* clients with a request, earliest first */
	/* Held STARTs, lowest ID first.  Each counts as a request at the
	 * current clock, whenever that is, so they are kept apart from
	 * the queue, whose keys do not move. */
	struct heap held;
	struct heap waiters; /* until/ readers, earliest first */
	struct cal_stats stats;
	/* Pacing: simulated time may reach pace_sim0 + (wall - pace_wall0)
	 * * pace, rebased at every change so the clock never jumps. */
	double pace;
	uint64_t pace_wall0, pace_sim0;
	uint64_t wake_at; /* what we last asked ops->wake for */
	/* The shared-memory page, when the adapter gave one. */
	struct shm shm;
	bool has_shm;
	struct cal_client *shm_head; /* clients in shm mode */
	bool shm_scanned; /* the slots were just read: cal_schedule need not */
	/* Every slot request written since the last full look is at or above
	 * this: one written below free_until lowers it, and we note
	 * free_until at each WAIT and before each rewrite.  So while the next
	 * request we know of is below it, there is nothing to look for. */
	uint64_t shm_floor;
	uint64_t shm_fu_written; /* free_until as we last wrote it */
	unsigned int shm_skipped; /* looks skipped since the last full one */
	/* Wall ns between looks at the slots while idle (see cal_schedule). */
	uint64_t shm_poll;
};

#define CAL_SHM_POLL_MIN 1000000ull     /* 1 ms */
#define CAL_SHM_POLL_MAX 1000000000ull  /* 1 s */

/* How far ahead of the pace limit a runner may go unasked (wall ns). */
#define CAL_PACE_STEP 10000000ull

/* cal.c: the queue and the clock; the scheduler and its hooks */
void cal_changed(struct cal *cal);
void cal_send(struct cal *cal, struct cal_client *c,
	struct um_timetravel_msg *msgs, unsigned int n, bool start_ack);
void cal_ack(struct cal *cal, struct cal_client *c, uint32_t seq,
	uint64_t time);
uint64_t cal_to_client(const struct cal_client *c, uint64_t t);
int cal_queue_set(struct cal *cal, struct cal_client *c, uint64_t t);
void cal_queue_clear(struct cal *cal, struct cal_client *c);
struct cal_client *cal_queue_top(const struct cal *cal);
uint64_t cal_client_due(const struct cal *cal, const struct cal_client *c);
void cal_clock_to(struct cal *cal, uint64_t t);
uint64_t cal_waiters_bound(struct cal *cal, uint64_t fu);
void cal_pace_rebase(struct cal *cal);
void cal_schedule(struct cal *cal);

/* cal_input.c: the ACKs owed and held */
void cal_ackq_push(struct cal_client *c, uint32_t seq);
void cal_defer(struct cal *cal, struct cal_client *c,
	const struct um_timetravel_msg *msgs, unsigned int n);
void cal_holds_release(struct cal *cal);
void cal_hold_forget(struct cal *cal, struct cal_client *c);

/* cal_shm.c: the hooks, and what the others ask of the page */
bool cal_page_runner(const struct cal *cal);
void cal_shm_publish(struct cal *cal);
void cal_shm_hand(struct cal *cal, struct cal_client *c, uint64_t t,
	uint64_t fu);
bool cal_shm_read(const struct cal *cal, const struct cal_client *c,
	uint64_t *t);
void cal_shm_release(struct cal *cal, struct cal_client *c);
bool cal_shm_take(struct cal *cal, struct cal_client *c);
void cal_shm_look(struct cal *cal);
struct cal_client *cal_shm_choose(struct cal *cal);
uint64_t cal_shm_poll_at(struct cal *cal);
void cal_shm_decide(struct cal *cal, struct cal_client *c);
int cal_on_shm_wait(struct cal *cal, struct cal_client *c);

#endif
