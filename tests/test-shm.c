/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the shared-memory scheduling page (calendar/shm.c): the
 * layout, slot allocation with its quarantine, and the accessors.  The
 * page comes from the heap, zero-filled, as a fresh memfd would be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"
#include "test.h"

/* A zero-filled, page-aligned page with room for nslots slots. */
static void *page(unsigned int nslots)
{
	size_t len = shm_size(nslots);
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	if (p)
		memset(p, 0, len);
	return p;
}

static struct tt_shm_hdr *hdr(void *mem)
{
	return mem;
}

static struct tt_shm_slot *slot(void *mem, unsigned int i)
{
	return (struct tt_shm_slot *)((char *)mem + TT_SHM_HDR_SIZE +
				      (size_t)i * TT_SHM_SLOT_SIZE);
}

static void test_layout(void)
{
	/* The kernel's layout: a 4096-byte header, 128-byte slots. */
	CHECK_EQ(sizeof(struct tt_shm_slot), 24);
	CHECK_EQ(offsetof(struct tt_shm_hdr, version), 0);
	CHECK_EQ(offsetof(struct tt_shm_hdr, len), 4);
	CHECK_EQ(offsetof(struct tt_shm_hdr, free_until), 8);
	CHECK_EQ(offsetof(struct tt_shm_hdr, current_time), 16);
	CHECK_EQ(offsetof(struct tt_shm_hdr, running_id), 24);
	CHECK_EQ(offsetof(struct tt_shm_hdr, max_clients), 26);
	CHECK_EQ(offsetof(struct tt_shm_slot, capa), 0);
	CHECK_EQ(offsetof(struct tt_shm_slot, flags), 4);
	CHECK_EQ(offsetof(struct tt_shm_slot, req_time), 8);
	CHECK_EQ(offsetof(struct tt_shm_slot, name), 16);
}

static void test_size_and_slots_for(void)
{
	CHECK_EQ(shm_size(0), 4096);
	CHECK_EQ(shm_size(1), 4096 + 128);
	CHECK_EQ(shm_size(2), 4096 + 256);
	CHECK_EQ(shm_size(65535), 4096 + 65535ull * 128);
	/* No overflow for big counts (size_t arithmetic). */
	CHECK_EQ(shm_size(0xffffffffu), 4096 + 0xffffffffull * 128);
	CHECK_EQ(shm_slots_for(0), 1);
	CHECK_EQ(shm_slots_for(1), 2);
	CHECK_EQ(shm_slots_for(100), 101);
	CHECK_EQ(shm_slots_for(65533), 65534);
	CHECK_EQ(shm_slots_for(65534), 65535);
	/* The cap: running_id and max_clients are 16-bit. */
	CHECK_EQ(shm_slots_for(65535), 65535);
	CHECK_EQ(shm_slots_for(65536), 65535);
	CHECK_EQ(shm_slots_for(0xffffffffu), 65535);
	CHECK_EQ(SHM_SLOTS_MAX, 65535);
}

static void test_init_header(void)
{
	void *mem = page(5);
	struct shm s;

	CHECK(mem != NULL);
	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(5)), 0);
	CHECK_EQ(hdr(mem)->version, TT_SHM_VERSION);
	CHECK_EQ(hdr(mem)->version, 2);
	CHECK_EQ(hdr(mem)->len, shm_size(5));
	CHECK_EQ(hdr(mem)->max_clients, 5);
	CHECK_EQ(hdr(mem)->running_id, 0);
	CHECK_EQ(hdr(mem)->current_time, 0);
	CHECK_EQ(hdr(mem)->free_until, TT_TIME_MAX);
	CHECK_EQ(shm_running(&s), 0);
	CHECK_EQ(shm_free_until(&s), TT_TIME_MAX);
	CHECK_EQ(s.nslots, 5);
	/* The kernel's check: len covers clients[id] for every id. */
	CHECK(hdr(mem)->len >= shm_size(hdr(mem)->max_clients));
	shm_release(&s);
	free(mem);
}

static void test_init_rounds_down(void)
{
	void *mem = page(4);
	struct shm s;

	if (!mem)
		return;
	/* A partial slot at the end is not counted. */
	CHECK_EQ(shm_init(&s, mem, shm_size(3) + 100), 0);
	CHECK_EQ(hdr(mem)->max_clients, 3);
	CHECK_EQ(hdr(mem)->len, shm_size(3));
	shm_release(&s);
	free(mem);
}

static void test_init_caps_slots(void)
{
	unsigned int n = 65600;
	void *mem = page(n);
	struct shm s;

	CHECK(mem != NULL);
	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(n)), 0);
	CHECK_EQ(hdr(mem)->max_clients, 65535);
	CHECK_EQ(hdr(mem)->len, shm_size(65535));
	CHECK_EQ(s.nslots, 65535);
	/* All 65534 client slots are handed out, then none. */
	for (unsigned int i = 1; i < 65535; i++) {
		uint16_t got = shm_get(&s, 0);

		if (got != i) {
			CHECK_EQ(got, i);
			break;
		}
	}
	CHECK_EQ(shm_get(&s, 0), 0);
	shm_release(&s);
	free(mem);
}

static void test_init_too_small(void)
{
	void *mem = page(2);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, 0), -EINVAL);
	CHECK_EQ(shm_init(&s, mem, TT_SHM_HDR_SIZE), -EINVAL);
	/* Slot 0 alone is not enough: one client needs slot 1. */
	CHECK_EQ(shm_init(&s, mem, shm_size(1)), -EINVAL);
	CHECK_EQ(shm_init(&s, mem, shm_size(2) - 1), -EINVAL);
	/* Nothing was written. */
	CHECK_EQ(hdr(mem)->version, 0);
	CHECK_EQ(hdr(mem)->len, 0);
	/* len is 32 bits on the page. */
	CHECK_EQ(shm_init(&s, mem, (size_t)UINT32_MAX + 1), -EINVAL);
	CHECK_EQ(hdr(mem)->version, 0);
	/* Just enough: slot 0 and one client. */
	CHECK_EQ(shm_init(&s, mem, shm_size(2)), 0);
	CHECK_EQ(hdr(mem)->max_clients, 2);
	CHECK_EQ(shm_get(&s, 0), 1);
	CHECK_EQ(shm_get(&s, 0), 0);
	shm_release(&s);
	shm_release(&s); /* twice is harmless */
	free(mem);
}

static void test_get_in_order(void)
{
	void *mem = page(5);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(5)), 0);
	/* Never slot 0: it is the calendar's. */
	CHECK_EQ(shm_get(&s, 0), 1);
	CHECK_EQ(shm_get(&s, 0), 2);
	CHECK_EQ(shm_get(&s, 7), 3);
	CHECK_EQ(shm_get(&s, 7), 4);
	CHECK_EQ(shm_get(&s, 7), 0); /* full */
	CHECK_EQ(shm_get(&s, 100), 0);
	shm_release(&s);
	free(mem);
}

static void test_quarantine(void)
{
	void *mem = page(5);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(5)), 0);
	CHECK_EQ(shm_get(&s, 0), 1);
	CHECK_EQ(shm_get(&s, 0), 2);
	shm_put(&s, 1, 10); /* freed at grant 10 */
	/* Not before a grant numbered above 10: never-used slots instead. */
	CHECK_EQ(shm_get(&s, 10), 3);
	CHECK_EQ(shm_get(&s, 10), 4);
	CHECK_EQ(shm_get(&s, 10), 0); /* none free, 1 still quarantined */
	CHECK_EQ(shm_get(&s, 9), 0);
	/* After a later grant it comes back, once. */
	CHECK_EQ(shm_get(&s, 11), 1);
	CHECK_EQ(shm_get(&s, 11), 0);
	shm_release(&s);
	free(mem);
}

static void test_quarantine_oldest_first(void)
{
	void *mem = page(6);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(6)), 0);
	for (unsigned int i = 1; i <= 5; i++)
		CHECK_EQ(shm_get(&s, 0), i);
	shm_put(&s, 4, 3);
	shm_put(&s, 2, 3);
	shm_put(&s, 5, 8);
	CHECK_EQ(shm_get(&s, 3), 0);
	/* Oldest freed first, not the lowest number. */
	CHECK_EQ(shm_get(&s, 4), 4);
	CHECK_EQ(shm_get(&s, 4), 2);
	CHECK_EQ(shm_get(&s, 4), 0); /* 5 was freed at 8 */
	CHECK_EQ(shm_get(&s, 8), 0);
	CHECK_EQ(shm_get(&s, 9), 5);
	CHECK_EQ(shm_get(&s, 9), 0);
	/* The free list wraps around. */
	for (unsigned int round = 0; round < 20; round++) {
		shm_put(&s, (uint16_t)(1 + round % 5), 100 + round);
		CHECK_EQ(shm_get(&s, 100 + round), 0);
		CHECK_EQ(shm_get(&s, 101 + round), 1 + round % 5);
	}
	shm_release(&s);
	free(mem);
}

static void test_quarantine_with_unused_left(void)
{
	void *mem = page(6);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(6)), 0);
	CHECK_EQ(shm_get(&s, 0), 1);
	shm_put(&s, 1, 0);
	/* Quarantined: a never-used slot. */
	CHECK_EQ(shm_get(&s, 0), 2);
	/* Out of quarantine, a freed slot is taken before the never-used
	 * ones (shm.c's order; the page stays dense). */
	CHECK_EQ(shm_get(&s, 1), 1);
	CHECK_EQ(shm_get(&s, 1), 3);
	shm_release(&s);
	free(mem);
}

static void test_put_ignores_bad_slots(void)
{
	void *mem = page(3);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(3)), 0);
	CHECK_EQ(shm_get(&s, 0), 1);
	CHECK_EQ(shm_get(&s, 0), 2);
	shm_put(&s, 0, 0);     /* the calendar's own */
	shm_put(&s, 3, 0);     /* out of range */
	shm_put(&s, 65535, 0);
	CHECK_EQ(shm_get(&s, 5), 0);
	shm_put(&s, 2, 0);
	CHECK_EQ(shm_get(&s, 5), 2);
	shm_release(&s);
	free(mem);
}

static void test_slot_reset_and_capa(void)
{
	void *mem = page(3);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(3)), 0);
	slot(mem, 1)->capa = 0xffffffff;
	slot(mem, 1)->flags = 0xffffffff;
	slot(mem, 1)->req_time = 77;
	slot(mem, 2)->capa = TT_SHM_CAP_TIME_SHARE;
	CHECK_EQ(shm_slot_capa(&s, 1), 0xffffffff);
	shm_slot_reset(&s, 1, 4242);
	CHECK_EQ(slot(mem, 1)->capa, 0);
	CHECK_EQ(slot(mem, 1)->flags, 0);
	CHECK_EQ(slot(mem, 1)->req_time, 0);
	CHECK_EQ(slot(mem, 1)->name, 4242);
	CHECK_EQ(shm_slot_capa(&s, 1), 0);
	/* Only its own slot. */
	CHECK_EQ(shm_slot_capa(&s, 2), TT_SHM_CAP_TIME_SHARE);
	shm_release(&s);
	free(mem);
}

static void test_slot_request(void)
{
	void *mem = page(3);
	struct shm s;
	uint64_t t = 12345;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(3)), 0);
	CHECK(!shm_slot_request(&s, 1, &t));
	CHECK_EQ(t, 12345); /* untouched without REQ_RUN */
	slot(mem, 1)->req_time = 500; /* a time without the flag */
	CHECK(!shm_slot_request(&s, 1, &t));
	slot(mem, 1)->flags = TT_SHM_FLAGS_REQ_RUN;
	CHECK(shm_slot_request(&s, 1, &t));
	CHECK_EQ(t, 500);
	CHECK(!shm_slot_request(&s, 2, &t));
	/* Other flag bits: REQ_RUN alone counts, and clearing keeps them. */
	slot(mem, 1)->flags = 0xf0 | TT_SHM_FLAGS_REQ_RUN;
	slot(mem, 1)->req_time = UINT64_MAX;
	CHECK(shm_slot_request(&s, 1, &t));
	CHECK_EQ(t, UINT64_MAX); /* raw: the core validates */
	shm_slot_clear_request(&s, 1);
	CHECK_EQ(slot(mem, 1)->flags, 0xf0);
	CHECK(!shm_slot_request(&s, 1, &t));
	slot(mem, 1)->flags = 0xfe;
	CHECK(!shm_slot_request(&s, 1, &t));
	shm_slot_clear_request(&s, 1);
	CHECK_EQ(slot(mem, 1)->flags, 0xfe);
	CHECK_EQ(slot(mem, 1)->req_time, UINT64_MAX);
	shm_release(&s);
	free(mem);
}

static void test_free_until_only_lowers(void)
{
	void *mem = page(3);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(3)), 0);
	shm_set_free_until(&s, 1000);
	CHECK_EQ(shm_free_until(&s), 1000);
	shm_lower_free_until(&s, 2000);
	CHECK_EQ(shm_free_until(&s), 1000);
	shm_lower_free_until(&s, 1000);
	CHECK_EQ(shm_free_until(&s), 1000);
	shm_lower_free_until(&s, 999);
	CHECK_EQ(shm_free_until(&s), 999);
	CHECK_EQ(hdr(mem)->free_until, 999);
	shm_lower_free_until(&s, 0);
	CHECK_EQ(shm_free_until(&s), 0);
	shm_lower_free_until(&s, UINT64_MAX);
	CHECK_EQ(shm_free_until(&s), 0);
	/* set writes whatever it is given, up too */
	shm_set_free_until(&s, 5000);
	CHECK_EQ(hdr(mem)->free_until, 5000);
	/* a client lowered it meanwhile: kept */
	hdr(mem)->free_until = 300;
	shm_lower_free_until(&s, 400);
	CHECK_EQ(shm_free_until(&s), 300);
	shm_release(&s);
	free(mem);
}

static void test_running_and_time(void)
{
	void *mem = page(4);
	struct shm s;

	if (!mem)
		return;
	CHECK_EQ(shm_init(&s, mem, shm_size(4)), 0);
	/* A client wrote TIME_SHARE into slot 0: naming anyone wipes it,
	 * so that slot 0 always means "send messages". */
	slot(mem, 0)->capa = TT_SHM_CAP_TIME_SHARE | 0x100;
	slot(mem, 2)->capa = TT_SHM_CAP_TIME_SHARE;
	shm_set_running(&s, 2);
	CHECK_EQ(hdr(mem)->running_id, 2);
	CHECK_EQ(shm_running(&s), 2);
	CHECK_EQ(slot(mem, 0)->capa, 0);
	CHECK_EQ(slot(mem, 2)->capa, TT_SHM_CAP_TIME_SHARE);
	slot(mem, 0)->capa = TT_SHM_CAP_TIME_SHARE;
	shm_set_running(&s, 0);
	CHECK_EQ(shm_running(&s), 0);
	CHECK_EQ(slot(mem, 0)->capa, 0);
	hdr(mem)->running_id = 0xbeef; /* junk is read back raw */
	CHECK_EQ(shm_running(&s), 0xbeef);
	shm_set_time(&s, 123456789);
	CHECK_EQ(hdr(mem)->current_time, 123456789);
	CHECK_EQ(shm_time(&s), 123456789);
	hdr(mem)->current_time = 5;
	CHECK_EQ(shm_time(&s), 5);
	shm_release(&s);
	free(mem);
}

TEST_LIST(T(test_layout),
	  T(test_size_and_slots_for),
	  T(test_init_header),
	  T(test_init_rounds_down),
	  T(test_init_caps_slots),
	  T(test_init_too_small),
	  T(test_get_in_order),
	  T(test_quarantine),
	  T(test_quarantine_oldest_first),
	  T(test_quarantine_with_unused_left),
	  T(test_put_ignores_bad_slots),
	  T(test_slot_reset_and_capa),
	  T(test_slot_request),
	  T(test_free_until_only_lowers),
	  T(test_running_and_time))
