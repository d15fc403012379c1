/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the daemon's hash index (daemon/hashindex.c), against a plain array as reference. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashindex.h"
#include "testlib.h"

#define N_KEYS 2000

struct item {
	int key;
	bool in; /* the reference: is it in the index? */
};

static struct item items[N_KEYS];
static unsigned bucket_bits; /* hash_of() keeps this many bits: few bits make long runs */

static uint64_t hash_of(int key)
{
	uint64_t h = hashindex_hash_u64((uint64_t)key);
	return bucket_bits < 64 ? h & ((1ULL << bucket_bits) - 1) : h;
}

static bool match(const void *entry, const void *key)
{
	return ((const struct item *)entry)->key == *(const int *)key;
}

static void count_one(void *entry, void *userdata)
{
	struct item *it = entry;
	size_t *n = userdata;
	*n += it->in ? 1 : 1000000; /* an entry the reference says is out counts as an error */
}

/* Every key is found exactly when the reference has it, and foreach sees each one once. */
static bool agrees(const struct hashindex *h, size_t n_in)
{
	size_t seen = 0;

	for (int k = 0; k < N_KEYS; k++) {
		struct item *found = hashindex_find(h, hash_of(k), match, &k);
		if (found != (items[k].in ? &items[k] : NULL))
			return false;
	}
	hashindex_foreach(h, count_one, &seen);
	return seen == n_in && h->n == n_in;
}

static void basics(void)
{
	struct hashindex h = { 0 };
	struct item a = { .key = 1 }, b = { .key = 2 };
	int k = 1;

	ok(!hashindex_find(&h, 1, match, &k), "an empty index finds nothing");
	ok(!hashindex_remove(&h, &a, 1), "an empty index removes nothing");
	is_int(hashindex_add(&h, NULL, 1), -EINVAL, "NULL is not an entry");
	is_int(hashindex_add(&h, &a, 7), 0, "add");
	is_int(hashindex_add(&h, &b, 7), 0, "add another under the same hash");
	ok(hashindex_find(&h, 7, match, &k) == &a, "found by key among equal hashes");
	k = 2;
	ok(hashindex_find(&h, 7, match, &k) == &b, "and the other");
	ok(!hashindex_remove(&h, &a, 8), "remove under the wrong hash fails");
	is_int(hashindex_add(&h, &a, 9), 0, "the same entry under a second hash (a rename)");
	ok(hashindex_remove(&h, &a, 7), "remove its first");
	k = 1;
	ok(hashindex_find(&h, 9, match, &k) == &a && !hashindex_find(&h, 7, match, &k),
	   "only the second is left");
	hashindex_done(&h);
	ok(h.n == 0 && !h.slots, "done empties it");
}

/* Random adds and removes checked against the reference, with full and truncated hashes. */
static void random_ops(unsigned bits, const char *what)
{
	struct hashindex h = { 0 };
	size_t n_in = 0, max_slots = 0, drained_slots = 0, drained_n = 0;
	bool good = true;

	bucket_bits = bits;
	for (int k = 0; k < N_KEYS; k++)
		items[k] = (struct item){ .key = k };
	srandom(bits + 1);
	for (int op = 0; op < 20000 && good; op++) {
		int k = (int)(random() % N_KEYS);
		/* Phases: grow to most keys, then empty down (so it shrinks), then mix. */
		bool add = op < 8000  ? random() % 4 != 0 :
			   op < 14000 ? random() % 16 == 0 :
					random() % 2 == 0;

		if (add && !items[k].in) {
			good = hashindex_add(&h, &items[k], hash_of(k)) == 0;
			items[k].in = true;
			n_in++;
		} else if (!add) {
			good = hashindex_remove(&h, &items[k], hash_of(k)) == items[k].in;
			n_in -= items[k].in;
			items[k].in = false;
		}
		if (h.slots && h.mask + 1 > max_slots)
			max_slots = h.mask + 1;
		if (op == 13999) {
			drained_slots = h.mask + 1;
			drained_n = h.n;
		}
		if (op % 500 == 0)
			good = good && agrees(&h, n_in) && h.n * 2 <= h.mask + 1;
	}
	ok(good && agrees(&h, n_in), "%s: 20,000 random operations agree with the reference", what);
	ok(max_slots >= N_KEYS && drained_slots < max_slots,
	   "%s: it grew (%zu slots at most) and shrank when drained (%zu slots, %zu entries)", what,
	   max_slots, drained_slots, drained_n);
	hashindex_done(&h);
}

int main(void)
{
	basics();
	random_ops(64, "full hashes");
	random_ops(3, "8 hash values (long runs, wrap-around)");
	random_ops(0, "one hash value");
	is_int(hashindex_hash_string("a") == hashindex_hash_string("a"), 1,
	       "string hash is stable");
	ok(hashindex_hash_string("a") != hashindex_hash_string("b"), "and tells a from b");
	return done_testing();
}
