/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The spill file's free-space allocator: sorted free extents, first fit, coalescing. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "spill-alloc.h"

void spill_alloc_init(struct spill_alloc *a)
{
	*a = (struct spill_alloc){ 0 };
}

void spill_alloc_done(struct spill_alloc *a)
{
	free(a->free);
	spill_alloc_init(a);
}

static int reserve_slots(struct spill_alloc *a, size_t more)
{
	if (a->n + more <= a->cap)
		return 0;
	size_t cap = MAX(a->cap * 2, a->n + more + 16);
	struct spill_free_extent *p = reallocarray(a->free, cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->free = p;
	a->cap = cap;
	return 0;
}

static void remove_at(struct spill_alloc *a, size_t i)
{
	memmove(a->free + i, a->free + i + 1, (a->n - i - 1) * sizeof(*a->free));
	a->n--;
}

/* Index of the first free extent whose end is past offset (a->n if none). */
static size_t find_after(const struct spill_alloc *a, uint64_t offset)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a->free[mid].end <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int spill_alloc_grow(struct spill_alloc *a, uint64_t size)
{
	if (size <= a->size)
		return 0;
	uint64_t old = a->size;
	a->size = size;
	int r = spill_alloc_put(a, old, size - old);
	if (r < 0)
		a->size = old;
	return r;
}

int spill_alloc_get(struct spill_alloc *a, uint64_t len, uint64_t *ret_offset, uint64_t *ret_len)
{
	size_t best = a->n;

	if (len == 0 || a->n == 0)
		return -ENOSPC;
	for (size_t i = 0; i < a->n; i++) {
		uint64_t have = a->free[i].end - a->free[i].offset;
		if (have >= len) {
			best = i;
			break;
		}
		if (best == a->n || have > a->free[best].end - a->free[best].offset)
			best = i;
	}
	struct spill_free_extent *e = &a->free[best];
	uint64_t take = MIN(len, e->end - e->offset);
	*ret_offset = e->offset;
	*ret_len = take;
	e->offset += take;
	if (e->offset == e->end)
		remove_at(a, best);
	a->free_bytes -= take;
	return 0;
}

int spill_alloc_put(struct spill_alloc *a, uint64_t offset, uint64_t len)
{
	uint64_t end = offset + len;

	if (len == 0 || end < offset || end > a->size)
		return -EINVAL;
	size_t i = find_after(a, offset); /* first extent ending after offset */
	if (i < a->n && a->free[i].offset < end)
		return -EINVAL; /* overlaps free space */
	bool join_prev = i > 0 && a->free[i - 1].end == offset;
	bool join_next = i < a->n && a->free[i].offset == end;
	if (join_prev && join_next) {
		a->free[i - 1].end = a->free[i].end;
		remove_at(a, i);
	} else if (join_prev)
		a->free[i - 1].end = end;
	else if (join_next)
		a->free[i].offset = offset;
	else {
		if (reserve_slots(a, 1) < 0)
			return -ENOMEM;
		memmove(a->free + i + 1, a->free + i, (a->n - i) * sizeof(*a->free));
		a->free[i] = (struct spill_free_extent){ offset, end };
		a->n++;
	}
	a->free_bytes += len;
	return 0;
}

int spill_alloc_reserve(struct spill_alloc *a, uint64_t offset, uint64_t len)
{
	uint64_t end = offset + len;

	if (len == 0 || end < offset)
		return -EBADMSG;
	size_t i = find_after(a, offset);
	if (i == a->n || a->free[i].offset > offset || a->free[i].end < end)
		return -EBADMSG;
	struct spill_free_extent *e = &a->free[i];
	if (e->offset < offset && e->end > end) { /* a hole in the middle: split */
		if (reserve_slots(a, 1) < 0)
			return -ENOMEM;
		memmove(a->free + i + 1, a->free + i, (a->n - i) * sizeof(*a->free));
		a->free[i].end = offset;
		a->free[i + 1].offset = end;
		a->n++;
	} else if (e->offset == offset && e->end == end)
		remove_at(a, i);
	else if (e->offset == offset)
		e->offset = end;
	else
		e->end = offset;
	a->free_bytes -= len;
	return 0;
}
