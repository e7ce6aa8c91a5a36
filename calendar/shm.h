/* SPDX-License-Identifier: MIT */
/*
 * shm.h: the shared-memory scheduling page of Linux >= 6.11 clients
 * (protocol version 2), seen from the calendar.  Pure: it works on memory
 * it is handed (the adapter maps the memfd; unit tests use the heap) and
 * does no I/O.
 *
 * Every client maps the whole page read-write, so anything read back may
 * be garbage: readers here return raw values and the core validates them.
 * Slot 0 is the calendar's own and never has TIME_SHARE: running_id names
 * it while a message-mode client runs, or nobody, so that shared-memory
 * clients then send REQUEST messages the calendar can see.
 */
#ifndef TTFS_SHM_H
#define TTFS_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Slots fit a 16-bit running_id and max_clients; slot 0 is the calendar's. */
#define SHM_SLOTS_MAX 65535u

struct shm {
	unsigned char *mem; /* borrowed: header, then the slots */
	uint32_t len;
	uint16_t nslots;    /* including slot 0 */
	uint16_t next_unused; /* never handed out from here up */
	/* Freed slots, oldest first, each with the grant count when it was
	 * freed: a slot comes back only after a later grant (see shm_get). */
	uint16_t *freed;
	uint64_t *freed_at;
	uint32_t head, count;
};

/* Bytes of a page with nslots slots (slot 0 included). */
size_t shm_size(unsigned int nslots);
/* Slots, slot 0 included, for up to max_clients clients at once. */
unsigned int shm_slots_for(unsigned int max_clients);
/*
 * Lay out a fresh page in mem (len bytes, zero-filled, as a new memfd
 * is): version 2, len, max_clients.  -EINVAL if len cannot hold slot 0
 * and one client, -ENOMEM without memory for the free list.
 */
int shm_init(struct shm *s, void *mem, size_t len);
void shm_release(struct shm *s);

/*
 * A slot for a new client, or 0 when none is free.  A freed slot comes
 * back only once a grant numbered above the one it was freed at has named
 * another runner: a departed client that was running can no longer pass
 * the kernel's running_id check with it.  Oldest freed first.
 */
uint16_t shm_get(struct shm *s, uint64_t grants);
void shm_put(struct shm *s, uint16_t slot, uint64_t grants);
/* Clear a slot for its new owner; name: its START ID. */
void shm_slot_reset(struct shm *s, uint16_t slot, uint64_t name);

/* What the client wrote into its slot (raw: validate it). */
uint32_t shm_slot_capa(const struct shm *s, uint16_t slot);
/* REQ_RUN set: *t gets req_time (calendar time, raw). */
bool shm_slot_request(const struct shm *s, uint16_t slot, uint64_t *t);
void shm_slot_clear_request(struct shm *s, uint16_t slot);

void shm_set_running(struct shm *s, uint16_t slot);
uint16_t shm_running(const struct shm *s);
void shm_set_time(struct shm *s, uint64_t t);
uint64_t shm_time(const struct shm *s);
void shm_set_free_until(struct shm *s, uint64_t t);
/* Lower free_until to t if it is above (a request came in). */
void shm_lower_free_until(struct shm *s, uint64_t t);
uint64_t shm_free_until(const struct shm *s);

#endif
