/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A region's spill index as persisted state: the codecs of its state-record fields (tags
 * 20-22) and the helpers that read a region's spill state. Plain data only: no file, no
 * thread, so the state code and its unit tests can link it alone.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "spill.h"
#include "text.h"

struct region;

/* The most extents one region may have: its field must fit STATE_FIELD_MAX. */
#define SPILL_INDEX_MAX_EXTENTS ((16u << 20) / 32 - 1)

/*
 * Tag 20, critical: u64 size, u32 count, then per extent u64 offset, file_offset, length,
 * xxh3. Left out when the region has no extents.
 */
void spill_index_encode(struct text *t, const struct region *r);
/* 0, -ENOMEM or -EBADMSG (malformed, unaligned, overlapping or unsorted extents). */
int spill_index_decode(struct region *r, const uint8_t *v, size_t len);

/* Tags 21 and 22, optional: u64 times of the last spill and restore, left out when 0. */
void spill_index_encode_time(struct text *t, const struct region *r, int which);
int spill_index_decode_time(struct region *r, const uint8_t *v, size_t len, int which);

/* r->spill, made when missing. NULL on OOM. */
struct spill_index *spill_index_get(struct region *r);

/* Stat's members: ,"state":"..." and, for a region ever spilled, spilledBytes/USec, restoredUSec. */
void text_region_spill(struct text *t, const struct region *r);
