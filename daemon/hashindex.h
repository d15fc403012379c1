/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A hash index of pointers for exact lookups, beside an ordered tree (registry.h) or
 * alone (holdtrack.h): open addressing, linear probing, removal by backward shift (no
 * tombstones), at most half full. Each slot keeps the entry's hash, so a probe compares
 * a number before it touches the entry, and a resize never calls back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashindex_slot {
	uint64_t hash;
	void *entry; /* NULL: empty */
};

struct hashindex {
	struct hashindex_slot *slots;
	size_t mask; /* slots - 1; slots is 0 or a power of two */
	size_t n;
};

/* Does entry have this key? */
typedef bool (*hashindex_match_fn)(const void *entry, const void *key);

uint64_t hashindex_hash_string(const char *s);
uint64_t hashindex_hash_u64(uint64_t v);

/* Add entry (not NULL) under hash. 0 or -ENOMEM; equal keys are the caller's to refuse. */
int hashindex_add(struct hashindex *h, void *entry, uint64_t hash);
/* The entry under hash that match() accepts for key, or NULL. */
void *hashindex_find(const struct hashindex *h, uint64_t hash, hashindex_match_fn match,
		     const void *key);
/* Remove this entry (by identity) added under hash (an entry may be in twice, under two
 * hashes, as a rename does for a moment). false if it is not there. */
bool hashindex_remove(struct hashindex *h, const void *entry, uint64_t hash);
/* fn for every entry, in no order; fn must not add or remove. */
void hashindex_foreach(const struct hashindex *h, void (*fn)(void *entry, void *userdata),
		       void *userdata);
/* Free the slots (not the entries). */
void hashindex_done(struct hashindex *h);
