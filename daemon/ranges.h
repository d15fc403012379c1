/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Named ranges of a region: a sorted set of page-aligned, non-overlapping, labelled spans,
 * kept as plain data (offset, length, label) so the state file can store and rebuild them.
 * Owns struct ranges and the label strings; calls nothing but libc.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct region;

/* Offsets and lengths are multiples of this (the kernel's page size is checked at start). */
#define RANGES_ALIGN 4096u
/*
 * At most this many ranges per region. Label is O(n) (one array rebuilt per call), a reply
 * listing every range with its footprint (about 2n+1 parts of ~300 bytes) stays far below
 * maxOutputBytes, and measuring all parts costs ~2n+1 cachestat calls plus the SEEK_DATA
 * extents: a few milliseconds at 1024, so no client can make a Footprint stall the daemon.
 */
#define RANGES_MAX 1024
/* A label is 1..RANGES_LABEL_MAX bytes (the kernel's anon VMA name allows 79 plus NUL). */
#define RANGES_LABEL_MAX 80

struct range {
	uint64_t offset;
	uint64_t length;
	char *label;
};

/* r->ranges: sorted by offset, disjoint, non-empty, adjacent equal labels merged. */
struct ranges {
	struct range *v;
	size_t n;
};

/*
 * The kernel's rule for anon VMA names (mm/madvise.c is_valid_name_char()): printable ASCII
 * without [ ] \ $ `, extended to 80 bytes (the kernel keeps 79). NULL when valid, else why not.
 */
const char *ranges_label_invalid(const char *label);

/*
 * Give [offset, offset+length) the label (NULL: remove labels there), as the kernel names
 * VMAs: the newest label wins on the overlap, older ranges are split or cut, adjacent equal
 * labels merge. This is both the Label method and the rebuild from a saved list (call it
 * once per saved range, in any order). 0, -EINVAL (unaligned, empty, overflow or invalid
 * label), -E2BIG (more than RANGES_MAX would result; nothing changed) or -ENOMEM.
 * The region's size is not checked here: callers do (ranges_clip() cuts to it).
 */
int ranges_set(struct region *r, uint64_t offset, uint64_t length, const char *label);
/* Every range labelled old gets new (then merged with equal neighbours). Count renamed, or -errno. */
int ranges_rename(struct region *r, const char *old_label, const char *new_label);
/* Remove every range labelled label. Count removed. */
int ranges_remove_label(struct region *r, const char *label);
/* Cut ranges to a new region size (rounded up to a page). */
void ranges_clip(struct region *r, uint64_t size);

/* Enumerate: the count and the i-th range, in offset order (NULL past the end). */
size_t ranges_count(const struct region *r);
const struct range *ranges_get(const struct region *r, size_t i);

void ranges_free(struct ranges *rs);
