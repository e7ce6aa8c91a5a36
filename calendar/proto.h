/* SPDX-License-Identifier: MIT */
/*
 * proto.h: the wire protocol of UML's external time-travel mode.
 *
 * The message and the basic ops come from the system's
 * <linux/um_timetravel.h>.  Debian 12's copy predates Linux 6.11, so what
 * 6.11 added (BROADCAST, the descriptors on START's ACK, the shared-memory
 * header) is defined here from the facts in the newer kernel's header.
 */
#ifndef TTFS_PROTO_H
#define TTFS_PROTO_H

#include <stdint.h>
#include <linux/um_timetravel.h>

#define TT_MSG_SIZE 16u
_Static_assert(sizeof(struct um_timetravel_msg) == TT_MSG_SIZE,
	       "um_timetravel_msg must be 16 bytes");

/* Linux >= 6.11: forward the 64-bit payload to every other client. */
#define TT_OP_BROADCAST 9u
/* One past the highest op we know, for per-op counters. */
#define TT_OP_COUNT 10u

/* Linux >= 6.11: START's ACK carries these descriptors (SCM_RIGHTS). */
#define TT_SHARED_MEMFD 0
#define TT_SHARED_LOGFD 1
#define TT_SHARED_MAX_FDS 2
/* ...and the client's slot number in the low bits of its time field. */
#define TT_START_ACK_ID 0xffffu

/*
 * The shared-memory header's first field.  A client maps the memfd
 * read-write (USFSTL's library asserts that works, then grows the mapping
 * to len) and falls back to messages unless version is 2: a writable page
 * of TT_SHM_HDR_SIZE bytes with version 0 and len filled in declines.
 */
#define TT_SHM_VERSION 2u
#define TT_SHM_HDR_SIZE 4096u

/*
 * The shared-memory scheduling page (Linux >= 6.11, version 2): a 4096-byte
 * header, then one 128-byte slot per client.  Times on the page are the
 * calendar's; every client may write all of it, so all that is read back
 * is validated.
 */
#define TT_SHM_CAP_TIME_SHARE 0x1u
#define TT_SHM_FLAGS_REQ_RUN 0x1u
#define TT_SHM_SLOT_SIZE 128u

struct tt_shm_hdr {
	uint32_t version;
	uint32_t len;
	uint64_t free_until;
	uint64_t current_time;
	uint16_t running_id;
	uint16_t max_clients;
};

struct tt_shm_slot {
	uint32_t capa;
	uint32_t flags;
	uint64_t req_time;
	uint64_t name;
};

_Static_assert(sizeof(struct tt_shm_hdr) <= TT_SHM_HDR_SIZE, "header fits");
_Static_assert(sizeof(struct tt_shm_slot) <= TT_SHM_SLOT_SIZE, "slot fits");

/* Times sent to a kernel stay below S64_MAX, where it panics. */
#define TT_TIME_MAX ((uint64_t)INT64_MAX - 1)

const char *tt_op_name(uint32_t op);

#endif
