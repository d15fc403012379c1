/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill file's free-space allocator: a sorted array of free extents [offset, end) in
 * bytes, first fit, coalescing on free. Owns only its array; no I/O, no locking (spill.c
 * holds its mutex around every call).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct spill_free_extent {
	uint64_t offset, end;
};

struct spill_alloc {
	struct spill_free_extent *free; /* sorted by offset, never adjacent, never empty */
	size_t n, cap;
	uint64_t size;	     /* bytes the allocator manages: [0, size) */
	uint64_t free_bytes; /* sum of the free extents */
};

void spill_alloc_init(struct spill_alloc *a);
void spill_alloc_done(struct spill_alloc *a);

/* The file grew to size (> a->size): [a->size, size) becomes free. 0 or -ENOMEM. */
int spill_alloc_grow(struct spill_alloc *a, uint64_t size);

/*
 * Up to len bytes: the first free extent that holds all of len, else (fragmented) the
 * largest one, of which *ret_len <= len bytes are taken. 0, or -ENOSPC when nothing is free.
 */
int spill_alloc_get(struct spill_alloc *a, uint64_t len, uint64_t *ret_offset, uint64_t *ret_len);

/*
 * Give [offset, offset+len) back, merged with free neighbours. -EINVAL when it is out of
 * bounds or overlaps free space (a double free: nothing changed), -ENOMEM, else 0.
 */
int spill_alloc_put(struct spill_alloc *a, uint64_t offset, uint64_t len);

/*
 * Mark [offset, offset+len) used (an extent found in the state at start). -EBADMSG when
 * any of it is not free (out of bounds, or claimed twice): nothing changed. 0 or -ENOMEM.
 */
int spill_alloc_reserve(struct spill_alloc *a, uint64_t offset, uint64_t len);
