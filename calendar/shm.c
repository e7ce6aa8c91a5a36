/* SPDX-License-Identifier: MIT */
/*
 * shm.c: the shared-memory scheduling page (see shm.h).
 *
 * Other processes write the page while we read it, so every access is an
 * atomic load or store: the compiler may neither tear nor cache them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm.h"

static struct tt_shm_hdr *shm_hdr(const struct shm *s)
{
	return (struct tt_shm_hdr *)s->mem;
}

static struct tt_shm_slot *shm_slot(const struct shm *s, uint16_t slot)
{
	return (struct tt_shm_slot *)(s->mem + TT_SHM_HDR_SIZE +
				      (size_t)slot * TT_SHM_SLOT_SIZE);
}

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

size_t shm_size(unsigned int nslots)
{
	return TT_SHM_HDR_SIZE + (size_t)nslots * TT_SHM_SLOT_SIZE;
}

unsigned int shm_slots_for(unsigned int max_clients)
{
	if (max_clients >= SHM_SLOTS_MAX)
		return SHM_SLOTS_MAX;
	return max_clients + 1;
}

int shm_init(struct shm *s, void *mem, size_t len)
{
	size_t n;

	memset(s, 0, sizeof(*s));
	if (len < shm_size(2) || len > UINT32_MAX)
		return -EINVAL;
	n = (len - TT_SHM_HDR_SIZE) / TT_SHM_SLOT_SIZE;
	if (n > SHM_SLOTS_MAX)
		n = SHM_SLOTS_MAX;
	s->freed = calloc(n, sizeof(*s->freed));
	s->freed_at = calloc(n, sizeof(*s->freed_at));
	if (!s->freed || !s->freed_at) {
		shm_release(s);
		return -ENOMEM;
	}
	s->mem = mem;
	s->len = (uint32_t)shm_size((unsigned int)n);
	s->nslots = (uint16_t)n;
	s->next_unused = 1;
	STORE(&shm_hdr(s)->len, s->len);
	STORE(&shm_hdr(s)->max_clients, s->nslots);
	STORE(&shm_hdr(s)->free_until, (uint64_t)TT_TIME_MAX);
	STORE(&shm_hdr(s)->running_id, (uint16_t)0);
	/* Last: a client that sees version 2 sees the rest. */
	STORE(&shm_hdr(s)->version, TT_SHM_VERSION);
	return 0;
}

void shm_release(struct shm *s)
{
	free(s->freed);
	free(s->freed_at);
	s->freed = NULL;
	s->freed_at = NULL;
	s->mem = NULL;
	s->nslots = 0;
}

uint16_t shm_get(struct shm *s, uint64_t grants)
{
	uint16_t slot;

	if (s->count && s->freed_at[s->head] < grants) {
		slot = s->freed[s->head];
		s->head = (s->head + 1) % s->nslots;
		s->count--;
		return slot;
	}
	if (s->next_unused < s->nslots)
		return s->next_unused++;
	return 0;
}

void shm_put(struct shm *s, uint16_t slot, uint64_t grants)
{
	uint32_t at;

	if (slot == 0 || slot >= s->nslots || s->count >= s->nslots)
		return;
	at = (s->head + s->count) % s->nslots;
	s->freed[at] = slot;
	s->freed_at[at] = grants;
	s->count++;
}

void shm_slot_reset(struct shm *s, uint16_t slot, uint64_t name)
{
	struct tt_shm_slot *p = shm_slot(s, slot);

	STORE(&p->capa, 0u);
	STORE(&p->flags, 0u);
	STORE(&p->req_time, (uint64_t)0);
	STORE(&p->name, name);
}

uint32_t shm_slot_capa(const struct shm *s, uint16_t slot)
{
	return LOAD(&shm_slot(s, slot)->capa);
}

bool shm_slot_request(const struct shm *s, uint16_t slot, uint64_t *t)
{
	struct tt_shm_slot *p = shm_slot(s, slot);

	if (!(LOAD(&p->flags) & TT_SHM_FLAGS_REQ_RUN))
		return false;
	*t = LOAD(&p->req_time);
	return true;
}

void shm_slot_clear_request(struct shm *s, uint16_t slot)
{
	__atomic_and_fetch(&shm_slot(s, slot)->flags, ~TT_SHM_FLAGS_REQ_RUN,
			   __ATOMIC_ACQ_REL);
}

void shm_set_running(struct shm *s, uint16_t slot)
{
	/* Slot 0 must stay message mode whatever a client wrote there. */
	STORE(&shm_slot(s, 0)->capa, 0u);
	STORE(&shm_hdr(s)->running_id, slot);
}

uint16_t shm_running(const struct shm *s)
{
	return LOAD(&shm_hdr(s)->running_id);
}

void shm_set_time(struct shm *s, uint64_t t)
{
	STORE(&shm_hdr(s)->current_time, t);
}

uint64_t shm_time(const struct shm *s)
{
	return LOAD(&shm_hdr(s)->current_time);
}

void shm_set_free_until(struct shm *s, uint64_t t)
{
	STORE(&shm_hdr(s)->free_until, t);
}

void shm_lower_free_until(struct shm *s, uint64_t t)
{
	uint64_t cur = LOAD(&shm_hdr(s)->free_until);

	/* A client may lower it at the same moment: keep the lower. */
	while (t < cur && !__atomic_compare_exchange_n(
			&shm_hdr(s)->free_until, &cur, t, false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

uint64_t shm_free_until(const struct shm *s)
{
	return LOAD(&shm_hdr(s)->free_until);
}
