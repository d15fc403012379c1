/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open-addressing hash index of pointers (hashindex.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hashindex.h"

#define MIN_SLOTS 64

uint64_t hashindex_hash_string(const char *s)
{
	return XXH3_64bits(s, strlen(s));
}

/* A 64-bit mix (splitmix64's finaliser): small consecutive numbers spread over the table. */
uint64_t hashindex_hash_u64(uint64_t v)
{
	v ^= v >> 30;
	v *= 0xbf58476d1ce4e5b9ULL;
	v ^= v >> 27;
	v *= 0x94d049bb133111ebULL;
	return v ^ (v >> 31);
}

static void place(struct hashindex_slot *slots, size_t mask, void *entry, uint64_t hash)
{
	size_t i = hash & mask;

	while (slots[i].entry)
		i = (i + 1) & mask;
	slots[i] = (struct hashindex_slot){ .hash = hash, .entry = entry };
}

static int resize(struct hashindex *h, size_t n_slots)
{
	struct hashindex_slot *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; h->slots && i <= h->mask; i++)
		if (h->slots[i].entry)
			place(slots, n_slots - 1, h->slots[i].entry, h->slots[i].hash);
	free(h->slots);
	h->slots = slots;
	h->mask = n_slots - 1;
	return 0;
}

int hashindex_add(struct hashindex *h, void *entry, uint64_t hash)
{
	size_t n_slots = h->slots ? h->mask + 1 : 0;

	if (!entry)
		return -EINVAL;
	if ((h->n + 1) * 2 > n_slots) {
		int r = resize(h, n_slots ? n_slots * 2 : MIN_SLOTS);
		if (r < 0)
			return r;
	}
	place(h->slots, h->mask, entry, hash);
	h->n++;
	return 0;
}

void *hashindex_find(const struct hashindex *h, uint64_t hash, hashindex_match_fn match,
		     const void *key)
{
	if (!h->slots)
		return NULL;
	for (size_t i = hash & h->mask; h->slots[i].entry; i = (i + 1) & h->mask)
		if (h->slots[i].hash == hash && match(h->slots[i].entry, key))
			return h->slots[i].entry;
	return NULL;
}

/* Close the gap at hole: pull back every later entry of the run that may sit there. */
static void shift_back(struct hashindex *h, size_t hole)
{
	for (size_t j = (hole + 1) & h->mask; h->slots[j].entry; j = (j + 1) & h->mask) {
		size_t home = h->slots[j].hash & h->mask;

		/* j's entry may move to hole if hole is not before its home (cyclically). */
		if (((j - home) & h->mask) >= ((j - hole) & h->mask)) {
			h->slots[hole] = h->slots[j];
			hole = j;
		}
	}
	h->slots[hole] = (struct hashindex_slot){ 0 };
}

bool hashindex_remove(struct hashindex *h, const void *entry, uint64_t hash)
{
	if (!h->slots || !entry)
		return false;
	for (size_t i = hash & h->mask; h->slots[i].entry; i = (i + 1) & h->mask) {
		if (h->slots[i].entry != entry || h->slots[i].hash != hash)
			continue;
		shift_back(h, i);
		h->n--;
		/* Shrink below an eighth full; a failed shrink only keeps the larger table. */
		if (h->mask + 1 > MIN_SLOTS && h->n * 8 < h->mask + 1)
			(void)resize(h, (h->mask + 1) / 2);
		return true;
	}
	return false;
}

void hashindex_foreach(const struct hashindex *h, void (*fn)(void *entry, void *userdata),
		       void *userdata)
{
	for (size_t i = 0; h->slots && i <= h->mask; i++)
		if (h->slots[i].entry)
			fn(h->slots[i].entry, userdata);
}

void hashindex_done(struct hashindex *h)
{
	free(h->slots);
	*h = (struct hashindex){ 0 };
}
