/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Footprints that could hold the event loop (regions with many pages) measured on the worker,
 * the reply deferred (call.h): the job owns a duplicate of the memfd and the reply begun on
 * the loop, so a Delete meanwhile changes nothing for it (the reply reflects the call's time).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct call;
struct region;
struct text;
struct worker;

/*
 * Measured on the loop up to this many allocated bytes (st_blocks): cachestat(2) walks the
 * populated page cache, ~2 us per MiB here, so 16 MiB is ~30 us, about what a trip through
 * the worker costs. Beyond it, on the worker (see docs/PERFORMANCE.md).
 */
#define FOOTPRINT_INLINE_MAX (16ull << 20)

/* A part of a Ranges reply: a named range, or a gap between them (label NULL). */
struct fp_part {
	uint64_t offset, length;
	const char *label;
	uint64_t spilled; /* bytes of the part in the spill file, from the spill index */
};

/* More than FOOTPRINT_INLINE_MAX allocated (one fstat()). */
bool footprint_large(struct region *r);

/*
 * Write the parts (t is just after "ranges":): [{offset, length, label?, footprint}...],
 * then ,"footprint":{the total}. Any thread: calls only the kernel on fd. 0 or -errno.
 */
int footprint_text_parts(struct text *t, int fd, const struct fp_part *parts, size_t n);

/*
 * Finish on the worker the reply begun in t and send it from the loop. Stat: t ends with a
 * Region object, which gets the footprint of [0, size) (left out if it cannot be measured).
 * Ranges: t ends after "ranges":, the job writes the parts (copied) and the total. Both close
 * the reply with "}}". 0: deferred (call answered later, t left to the caller to free), or
 * -errno: nothing done, measure inline.
 */
int footprint_defer_stat(struct call *call, struct region *r, const struct text *t);
int footprint_defer_parts(struct call *call, struct region *r, const struct text *t,
			  const struct fp_part *parts, size_t n);
