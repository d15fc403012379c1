/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the spill file's free-space allocator, against a byte map as reference. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spill-alloc.h"
#include "testlib.h"

#define PAGE 4096u

/* The allocator's invariants: sorted, non-empty, non-adjacent, inside size, sum right. */
static bool consistent(const struct spill_alloc *a)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct spill_free_extent *e = &a->free[i];
		if (e->offset >= e->end || e->end > a->size)
			return false;
		if (i > 0 && a->free[i - 1].end >= e->offset)
			return false;
		sum += e->end - e->offset;
	}
	return sum == a->free_bytes;
}

static void basics(void)
{
	struct spill_alloc a;
	uint64_t off, len;

	spill_alloc_init(&a);
	is_int(spill_alloc_get(&a, PAGE, &off, &len), -ENOSPC, "an empty file has no space");
	is_int(spill_alloc_grow(&a, 16 * PAGE), 0, "grow to 16 pages");
	ok(a.n == 1 && a.free_bytes == 16 * PAGE, "one free extent of 16 pages");
	is_int(spill_alloc_get(&a, 4 * PAGE, &off, &len), 0, "get 4 pages");
	ok(off == 0 && len == 4 * PAGE, "first fit at 0 (got %llu+%llu)", (unsigned long long)off,
	   (unsigned long long)len);
	is_int(spill_alloc_put(&a, 0, 4 * PAGE), 0, "put them back");
	ok(a.n == 1 && a.free[0].offset == 0 && a.free[0].end == 16 * PAGE,
	   "coalesced into one extent");
	is_int(spill_alloc_put(&a, 0, PAGE), -EINVAL, "a double free is refused");
	is_int(spill_alloc_put(&a, 16 * PAGE, PAGE), -EINVAL, "a free past the end is refused");
	is_int(spill_alloc_put(&a, UINT64_MAX - 1, 4), -EINVAL, "a wrapping free is refused");
	is_int(spill_alloc_get(&a, 0, &off, &len), -ENOSPC, "a zero-length get is refused");
	ok(consistent(&a), "consistent");
	spill_alloc_done(&a);
}

/* Full file, then fragmentation: every other page used, and a get across the holes. */
static void full_and_fragmented(void)
{
	struct spill_alloc a;
	uint64_t off, len;

	spill_alloc_init(&a);
	spill_alloc_grow(&a, 8 * PAGE);
	is_int(spill_alloc_get(&a, 8 * PAGE, &off, &len), 0, "take the whole file");
	ok(len == 8 * PAGE && a.free_bytes == 0 && a.n == 0, "nothing left");
	is_int(spill_alloc_get(&a, PAGE, &off, &len), -ENOSPC, "full file: -ENOSPC");
	for (uint64_t p = 0; p < 8; p += 2)
		spill_alloc_put(&a, p * PAGE, PAGE);
	ok(a.n == 4 && a.free_bytes == 4 * PAGE, "every other page free: 4 extents");
	is_int(spill_alloc_get(&a, 2 * PAGE, &off, &len), 0, "a 2-page get in a fragmented file");
	ok(len == PAGE, "gets the largest piece, one page (got %llu)", (unsigned long long)len);
	spill_alloc_put(&a, off, len);
	for (uint64_t p = 1; p < 8; p += 2)
		spill_alloc_put(&a, p * PAGE, PAGE);
	ok(a.n == 1 && a.free_bytes == 8 * PAGE, "all back: coalesced into one extent");
	is_int(spill_alloc_reserve(&a, 2 * PAGE, 2 * PAGE), 0, "reserve a hole in the middle");
	ok(a.n == 2 && a.free_bytes == 6 * PAGE, "split in two");
	is_int(spill_alloc_reserve(&a, 3 * PAGE, 2 * PAGE), -EBADMSG,
	       "an overlapping claim refused");
	is_int(spill_alloc_reserve(&a, 7 * PAGE, 2 * PAGE), -EBADMSG,
	       "a claim past the end refused");
	ok(a.free_bytes == 6 * PAGE && consistent(&a), "refused claims changed nothing");
	is_int(spill_alloc_grow(&a, 12 * PAGE), 0, "grow");
	ok(a.n == 2 && a.free[1].end == 12 * PAGE, "growth merges with the free tail");
	spill_alloc_done(&a);
}

/* Random gets and puts against a byte map of the pages (1 = used). */
static void random_model(void)
{
	enum {
		PAGES = 512,
		OPS = 20000
	};
	struct spill_alloc a;
	uint8_t used[PAGES] = { 0 };
	struct {
		uint64_t off, len;
	} held[PAGES];
	size_t n_held = 0;
	bool good = true;

	srand(12);
	spill_alloc_init(&a);
	spill_alloc_grow(&a, PAGES * PAGE);
	for (int op = 0; op < OPS && good; op++) {
		if (n_held > 0 && (rand() % 2 || n_held == PAGES)) {
			size_t k = (size_t)rand() % n_held;
			good &= spill_alloc_put(&a, held[k].off, held[k].len) == 0;
			memset(used + held[k].off / PAGE, 0, held[k].len / PAGE);
			held[k] = held[--n_held];
		} else {
			uint64_t want = (uint64_t)(1 + rand() % 8) * PAGE, off, len;
			int r = spill_alloc_get(&a, want, &off, &len);
			if (r == -ENOSPC) {
				good &= a.free_bytes == 0;
				continue;
			}
			good &= r == 0 && len > 0 && len <= want && len % PAGE == 0;
			for (uint64_t p = off / PAGE; p < (off + len) / PAGE; p++) {
				good &= !used[p];
				used[p] = 1;
			}
			held[n_held].off = off;
			held[n_held++].len = len;
		}
		good &= consistent(&a);
	}
	uint64_t free_pages = 0;
	for (size_t p = 0; p < PAGES; p++)
		free_pages += !used[p];
	ok(good && free_pages * PAGE == a.free_bytes,
	   "%d random gets and puts agree with the byte map", OPS);
	while (n_held > 0) {
		n_held--;
		spill_alloc_put(&a, held[n_held].off, held[n_held].len);
	}
	ok(a.n == 1 && a.free_bytes == PAGES * PAGE, "everything freed: one extent again");
	spill_alloc_done(&a);
}

int main(void)
{
	basics();
	full_and_fragmented();
	random_model();
	return done_testing();
}
