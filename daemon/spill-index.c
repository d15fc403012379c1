/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A region's spill index: state-record codecs (tags 20-22) and its state as Stat shows it. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "region.h"
#include "spill-index.h"

#define PAGE 4096u

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(struct text *t, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	text_add(t, (const char *)b, n);
}

void spill_index_free(struct spill_index *ix)
{
	if (!ix)
		return;
	free(ix->extents);
	free(ix);
}

struct spill_index *spill_index_get(struct region *r)
{
	if (!r->spill)
		r->spill = calloc(1, sizeof(*r->spill));
	return r->spill;
}

void spill_index_encode(struct text *t, const struct region *r)
{
	const struct spill_index *ix = r->spill;

	if (!ix || ix->n_extents == 0)
		return;
	put_le(t, ix->size, 8);
	put_le(t, ix->n_extents, 4);
	for (size_t i = 0; i < ix->n_extents; i++) {
		const struct spill_extent *e = &ix->extents[i];
		put_le(t, e->offset, 8);
		put_le(t, e->file_offset, 8);
		put_le(t, e->length, 8);
		put_le(t, e->xxh3, 8);
	}
}

/* Page aligned, inside the size, sorted by region offset and not overlapping. */
static bool extent_valid(const struct spill_extent *e, const struct spill_extent *prev,
			 uint64_t size)
{
	if (e->length == 0 || e->length > SPILL_CHUNK ||
	    (e->offset | e->file_offset | e->length) % PAGE)
		return false;
	if (e->offset >= size || e->offset + e->length < e->offset ||
	    e->file_offset + e->length < e->file_offset)
		return false;
	return !prev || prev->offset + prev->length <= e->offset;
}

int spill_index_decode(struct region *r, const uint8_t *v, size_t len)
{
	if (len < 12)
		return -EBADMSG;
	uint64_t size = get_le64(v);
	uint64_t n = get_le64(v + 8) & 0xffffffffu;
	if (n == 0 || n > SPILL_INDEX_MAX_EXTENTS || len != 12 + 32 * n)
		return -EBADMSG;
	_cleanup_free_ struct spill_extent *ext = calloc(n, sizeof(*ext));
	if (!ext)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = v + 12 + 32 * i;
		ext[i] = (struct spill_extent){ get_le64(p), get_le64(p + 8), get_le64(p + 16),
						get_le64(p + 24) };
		if (!extent_valid(&ext[i], i ? &ext[i - 1] : NULL, size))
			return -EBADMSG;
	}
	struct spill_index *ix = spill_index_get(r);
	if (!ix)
		return -ENOMEM;
	free(ix->extents);
	ix->extents = TAKE_PTR(ext);
	ix->n_extents = n;
	ix->size = size;
	ix->spilled_bytes = 0;
	for (size_t i = 0; i < n; i++)
		ix->spilled_bytes += ix->extents[i].length;
	return 0;
}

void spill_index_encode_time(struct text *t, const struct region *r, int which)
{
	const struct spill_index *ix = r->spill;
	uint64_t v = !ix ? 0 : which ? ix->restored_usec : ix->spilled_usec;

	if (v)
		put_le(t, v, 8);
}

int spill_index_decode_time(struct region *r, const uint8_t *v, size_t len, int which)
{
	if (len != 8)
		return -EBADMSG;
	struct spill_index *ix = spill_index_get(r);
	if (!ix)
		return -ENOMEM;
	*(which ? &ix->restored_usec : &ix->spilled_usec) = get_le64(v);
	return 0;
}

enum spill_state spill_region_state(const struct region *r)
{
	if (r->spill && r->spill->job)
		return (enum spill_state)r->spill->busy;
	return r->state <= SPILL_DAMAGED ? (enum spill_state)r->state : SPILL_DAMAGED;
}

const char *spill_state_to_string(enum spill_state s)
{
	static const char *const names[] = {
		[SPILL_RESIDENT] = "resident",	 [SPILL_SPILLED] = "spilled",
		[SPILL_DAMAGED] = "damaged",	 [SPILL_SPILLING] = "spilling",
		[SPILL_RESTORING] = "restoring",
	};
	return (size_t)s < ELEMENTSOF(names) ? names[s] : "damaged";
}

uint64_t spill_region_bytes(const struct region *r)
{
	return r->spill && r->state != SPILL_RESIDENT ? r->spill->spilled_bytes : 0;
}

void text_region_spill(struct text *t, const struct region *r)
{
	const char *state = spill_state_to_string(spill_region_state(r));

	text_lit(t, ",\"state\":\"");
	text_add(t, state, strlen(state));
	text_lit(t, "\"");
	if (!r->spill)
		return; /* never spilled: the members below are all 0 */
	text_lit(t, ",\"spilledBytes\":");
	text_uint(t, spill_region_bytes(r));
	text_lit(t, ",\"spilledUSec\":");
	text_uint(t, r->spill->spilled_usec);
	text_lit(t, ",\"restoredUSec\":");
	text_uint(t, r->spill->restored_usec);
}
