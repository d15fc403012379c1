/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory footprint of a span of a region's memfd: resident, dirty, writeback, swapped and
 * allocated bytes from one cachestat(2), or where the kernel lacks it (before 6.5) resident
 * from mincore() on a short-lived read-only mapping and allocated from SEEK_DATA/SEEK_HOLE.
 * Owns no state but a one-time probe; calls only the kernel.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct text;

struct footprint {
	uint64_t size;	    /* apparent bytes of the span (inside the region's size) */
	uint64_t resident;  /* in memory (page cache of the memfd) */
	uint64_t dirty;	    /* cachestat nr_dirty: shmem pages are not tagged dirty, so 0 today */
	uint64_t writeback; /* being written to swap */
	uint64_t swapped;   /* in swap */
	uint64_t allocated; /* in memory or in swap (cachestat), else SEEK_DATA extents */
	uint64_t spilled;   /* in shmd's spill file, from the spill index (spillpol.h) */
	uint64_t huge;	    /* backed by huge pages: 0 when shmem THP is off, see huge_known */
	bool huge_known;    /* false: not measurable without mapping the region */
};

/*
 * Measure [offset, offset+length) of fd (the region's size is the caller's business: past
 * EOF nothing is resident or allocated). Adds to *f (so parts can be summed), 0 or -errno.
 */
int footprint_measure(int fd, uint64_t offset, uint64_t length, struct footprint *f);

/* *sum += part, saturating at INT64_MAX (the wire's integers are signed). */
void footprint_add(struct footprint *sum, const struct footprint *part);

/* True when cachestat(2) is used (else the mincore() fallback). */
bool footprint_has_cachestat(void);

/* The IDL's Footprint object. */
void text_footprint(struct text *t, const struct footprint *f);
