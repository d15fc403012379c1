/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory footprint of a span of a memfd: cachestat(2) or mincore(), and SEEK_DATA extents. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "footprint.h"
#include "macro.h"
#include "text.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct cachestat_range {
	uint64_t off;
	uint64_t len;
};

struct cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

/* mincore() maps at most this much at a time: its vector is one byte per page. */
#define MINCORE_CHUNK (256ull << 20)

static struct {
	bool probed;
	bool cachestat;
	bool huge_off; /* shmem THP is "never" or "deny": no huge pages can back a memfd */
	uint64_t page;
} probe;

static void footprint_probe(void)
{
	char buf[256] = "";
	FILE *f;

	if (probe.probed)
		return;
	probe.probed = true;
	probe.page = (uint64_t)sysconf(_SC_PAGESIZE);
	/* ENOSYS before Linux 6.5; EBADF for fd -1 means the call exists. */
	probe.cachestat = syscall(__NR_cachestat, -1, NULL, NULL, 0) < 0 && errno != ENOSYS;
	/* For tests of the fallback on kernels that have cachestat. */
	if (getenv("SHMD_TEST_NO_CACHESTAT"))
		probe.cachestat = false;
	f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			probe.huge_off = strstr(buf, "[never]") || strstr(buf, "[deny]");
		fclose(f);
	} else
		probe.huge_off = true; /* no THP support at all */
}

bool footprint_has_cachestat(void)
{
	footprint_probe();
	return probe.cachestat;
}

static int measure_cachestat(int fd, uint64_t offset, uint64_t length, struct footprint *f)
{
	struct cachestat_range range = { offset, length };
	struct cachestat cs;

	if (syscall(__NR_cachestat, fd, &range, &cs, 0) < 0)
		return negative_errno();
	f->resident += cs.nr_cache * probe.page;
	f->dirty += cs.nr_dirty * probe.page;
	f->writeback += cs.nr_writeback * probe.page;
	/* For shmem, evicted entries are swap entries (mm/filemap.c filemap_cachestat()). */
	f->swapped += cs.nr_evicted * probe.page;
	return 0;
}

/*
 * mincore() on a read-only shared mapping, chunk by chunk: it reads the page cache without
 * faulting anything in, and a PROT_READ mapping does not stand in F_SEAL_WRITE's way.
 * Swapped is then what is allocated but not resident (shmem pages are one or the other).
 */
static int measure_mincore(int fd, uint64_t offset, uint64_t length, struct footprint *f)
{
	_cleanup_free_ unsigned char *vec = malloc(MINCORE_CHUNK / probe.page);

	if (!vec)
		return -ENOMEM;
	for (uint64_t pos = offset; pos < offset + length; pos += MINCORE_CHUNK) {
		size_t n = (size_t)MIN(MINCORE_CHUNK, offset + length - pos);
		void *p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, (off_t)pos);
		if (p == MAP_FAILED)
			return negative_errno();
		int r = mincore(p, n, vec);
		int err = negative_errno();
		munmap(p, n);
		if (r < 0)
			return err;
		for (size_t i = 0; i < (n + probe.page - 1) / probe.page; i++)
			f->resident += (vec[i] & 1) * probe.page;
	}
	return 0;
}

/*
 * Without cachestat(2): the data extents of [offset, end) by SEEK_DATA/SEEK_HOLE, each
 * measured with mincore(). Holes hold no page, so the cost follows the data, not the
 * apparent size (a sparse 8 EiB region is one lseek()). SEEK_HOLE has no end: in a written
 * region it walks the page cache to the region's first hole, past end. *ret: bytes of data.
 */
static int measure_extents(int fd, uint64_t offset, uint64_t end, struct footprint *f,
			   uint64_t *ret)
{
	uint64_t total = 0, pos = offset;

	while (pos < end) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* no data past pos */
		if (data < 0)
			return negative_errno();
		if ((uint64_t)data >= end)
			break;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return negative_errno();
		uint64_t stop = MIN((uint64_t)hole, end);
		int r = measure_mincore(fd, (uint64_t)data, stop - (uint64_t)data, f);
		if (r < 0)
			return r;
		total += stop - (uint64_t)data;
		pos = (uint64_t)hole;
	}
	*ret = total;
	return 0;
}

/*
 * With cachestat(2), one syscall: allocated is then what is in memory or in swap (for shmem
 * that is every allocated page, as st_blocks counts them), not a SEEK_DATA walk: SEEK_HOLE
 * cannot be bounded, so in a fully written 1 GiB region each range's walk ran to the end of
 * the region (15 s for 1024 ranges here), and a region written every other page needs two
 * lseek() calls per page (0.9 s per GiB). The only difference is pages fallocate()d and never
 * written: SEEK_DATA calls them holes, cachestat counts them.
 */
int footprint_measure(int fd, uint64_t offset, uint64_t length, struct footprint *f)
{
	uint64_t allocated = 0, resident_before = f->resident, swapped_before = f->swapped;
	int r;

	footprint_probe();
	f->size += length;
	f->huge_known = probe.huge_off;
	if (length == 0)
		return 0;
	if (probe.cachestat) {
		r = measure_cachestat(fd, offset, length, f);
		if (r >= 0)
			f->allocated +=
				(f->resident - resident_before) + (f->swapped - swapped_before);
		return r;
	}
	r = measure_extents(fd, offset, offset + length, f, &allocated);
	if (r < 0)
		return r;
	f->allocated += allocated;
	uint64_t resident = f->resident - resident_before;
	f->swapped += allocated > resident ? allocated - resident : 0;
	return 0;
}

void footprint_none(uint64_t size, struct footprint *f)
{
	footprint_probe();
	f->size += size;
	f->huge_known = probe.huge_off;
}

static void add_sat(uint64_t *a, uint64_t b)
{
	*a = b > (uint64_t)INT64_MAX - MIN(*a, (uint64_t)INT64_MAX) ? (uint64_t)INT64_MAX : *a + b;
}

void footprint_add(struct footprint *sum, const struct footprint *part)
{
	add_sat(&sum->size, part->size);
	add_sat(&sum->resident, part->resident);
	add_sat(&sum->dirty, part->dirty);
	add_sat(&sum->writeback, part->writeback);
	add_sat(&sum->swapped, part->swapped);
	add_sat(&sum->allocated, part->allocated);
	add_sat(&sum->spilled, part->spilled);
	add_sat(&sum->huge, part->huge);
	sum->huge_known = part->huge_known;
}

void text_footprint(struct text *t, const struct footprint *f)
{
	text_lit(t, "{\"size\":");
	text_uint(t, f->size);
	text_lit(t, ",\"resident\":");
	text_uint(t, f->resident);
	text_lit(t, ",\"dirty\":");
	text_uint(t, f->dirty);
	text_lit(t, ",\"writeback\":");
	text_uint(t, f->writeback);
	text_lit(t, ",\"swapped\":");
	text_uint(t, f->swapped);
	text_lit(t, ",\"allocated\":");
	text_uint(t, f->allocated);
	text_lit(t, ",\"spilled\":");
	text_uint(t, f->spilled);
	if (f->huge_known) {
		text_lit(t, ",\"huge\":");
		text_uint(t, f->huge);
	}
	text_lit(t, "}");
}
