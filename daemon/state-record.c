/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state's binary records: region_fields[] (what a region persists), tags and framing. */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "macro.h"
#include "name.h"
#include "ranges.h"
#include "region.h"
#include "spill-index.h"
#include "state-record.h"

uint32_t state_crc32(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = data;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le(struct text *t, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	text_add(t, (const char *)b, n);
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void state_put_u16(struct text *t, uint16_t v)
{
	put_le(t, v, 2);
}

void state_put_u32(struct text *t, uint32_t v)
{
	put_le(t, v, 4);
}

void state_put_u64(struct text *t, uint64_t v)
{
	put_le(t, v, 8);
}

int state_get_u64(struct state_reader *rd, uint64_t *ret)
{
	if (rd->len < 8)
		return -EBADMSG;
	*ret = get_le(rd->p, 8);
	rd->p += 8;
	rd->len -= 8;
	return 0;
}

/* ---------------------------------------------------------------- generic field codecs */

#define MEMBER(r, f) ((char *)(r) + (f)->offset)

/* Integers of any width are stored as 8 bytes: a field may widen without a new tag. */
static void enc_uint(struct text *t, const struct region *r, const struct state_field *f)
{
	uint64_t v = 0;
	memcpy(&v, MEMBER(r, f), f->width); /* little-endian host: Linux on x86/arm64 */
	state_put_u64(t, v);
}

static int dec_uint(struct region *r, const uint8_t *v, size_t len, const struct state_field *f)
{
	if (len != 8)
		return -EBADMSG;
	uint64_t x = get_le(v, 8);
	if (f->width < 8 && x >> (8 * f->width))
		return -EBADMSG;
	memcpy(MEMBER(r, f), &x, f->width);
	return 0;
}

static void enc_string(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void enc_name(struct text *t, const struct region *r, const struct state_field *f)
{
	enc_string(t, r->name);
}

static int dec_name(struct region *r, const uint8_t *v, size_t len, const struct state_field *f)
{
	if (name_check((const char *)v, len, false))
		return -EBADMSG;
	free(r->name);
	r->name = strndup((const char *)v, len);
	return r->name ? 0 : -ENOMEM;
}

/* The creator's unit: left out when there is none. */
static void enc_unit(struct text *t, const struct region *r, const struct state_field *f)
{
	if (r->creator.unit)
		enc_string(t, r->creator.unit);
}

static int dec_unit(struct region *r, const uint8_t *v, size_t len, const struct state_field *f)
{
	if (len == 0 || len > 1024 || memchr(v, '\0', len))
		return -EBADMSG;
	_cleanup_free_ char *s = strndup((const char *)v, len);
	if (!s)
		return -ENOMEM;
	intern_unref(r->creator.unit);
	r->creator.unit = intern_ref(s);
	return r->creator.unit ? 0 : -ENOMEM;
}

/*
 * Named ranges (ranges.h): u32 count, then per range u64 offset, u64 length, u16 label
 * length and the label. Left out when the region has none.
 */
static void enc_ranges(struct text *t, const struct region *r, const struct state_field *f)
{
	size_t n = ranges_count(r);

	if (n == 0)
		return;
	state_put_u32(t, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct range *g = ranges_get(r, i);
		size_t len = strlen(g->label);
		state_put_u64(t, g->offset);
		state_put_u64(t, g->length);
		state_put_u16(t, (uint16_t)len);
		text_add(t, g->label, len);
	}
}

/* Each range goes through ranges_set(), the check Label makes: a bad one refuses the record. */
static int dec_ranges(struct region *r, const uint8_t *v, size_t len, const struct state_field *f)
{
	char label[RANGES_LABEL_MAX + 1];
	size_t pos = 4;

	if (len < 4)
		return -EBADMSG;
	uint64_t n = get_le(v, 4);
	if (n == 0 || n > RANGES_MAX)
		return -EBADMSG;
	for (uint64_t i = 0; i < n; i++) {
		if (len - pos < 18)
			return -EBADMSG;
		uint64_t offset = get_le(v + pos, 8), length = get_le(v + pos + 8, 8);
		size_t l = (size_t)get_le(v + pos + 16, 2);
		pos += 18;
		if (l == 0 || l > RANGES_LABEL_MAX || len - pos < l)
			return -EBADMSG;
		memcpy(label, v + pos, l);
		label[l] = '\0';
		pos += l;
		int err = ranges_set(r, offset, length, label);
		if (err < 0)
			return err == -ENOMEM ? err : -EBADMSG;
	}
	return pos == len ? 0 : -EBADMSG;
}

/* The spill index (spill-index.c): extents and checksums, and the last spill/restore times. */
static void enc_spill(struct text *t, const struct region *r, const struct state_field *f)
{
	spill_index_encode(t, r);
}

static int dec_spill(struct region *r, const uint8_t *v, size_t len, const struct state_field *f)
{
	return spill_index_decode(r, v, len);
}

static void enc_spill_time(struct text *t, const struct region *r, const struct state_field *f)
{
	spill_index_encode_time(t, r, (int)f->offset);
}

static int dec_spill_time(struct region *r, const uint8_t *v, size_t len,
			  const struct state_field *f)
{
	return spill_index_decode_time(r, v, len, (int)f->offset);
}

#define UINT_FIELD(t, n, m)                                                                        \
	{                                                                                          \
		.tag = (t), .name = (n), .encode = enc_uint, .decode = dec_uint,                   \
		.offset = offsetof(struct region, m), .width = sizeof(((struct region *)0)->m)     \
	}

/*
 * What a region persists: THE definition. A new member of struct region that must survive
 * a restart gets one row here with a new tag (never reuse or renumber a tag); a list
 * (e.g. named ranges) gets a row with its own encode/decode functions. The size and the
 * seals in force are kept too but the memfd is the authority for them on restore.
 * tests/integration/test-state-fields holds Stat's Region against this table both ways:
 * a row must name a member of Stat's reply (or say not_in_stat), and every member of the
 * reply must be a row here or derived from one (see that test).
 */
static const struct state_field region_fields[] = {
	UINT_FIELD(1, "id", id),
	{ .tag = 2, .name = "name", .encode = enc_name, .decode = dec_name },
	UINT_FIELD(3, "size", size),
	UINT_FIELD(4, "uid", uid),
	UINT_FIELD(5, "gid", gid),
	UINT_FIELD(6, "mode", mode),
	UINT_FIELD(7, "creator.uid", creator.uid),
	UINT_FIELD(8, "creator.gid", creator.gid),
	UINT_FIELD(9, "creator.pid", creator.pid),
	{ .tag = 10, .name = "creator.unit", .encode = enc_unit, .decode = dec_unit },
	UINT_FIELD(11, "createdUSec", created_usec),
	UINT_FIELD(12, "changedUSec", changed_usec),
	{ .tag = 13,
	  .name = "appliedSeals",
	  .not_in_stat = true,
	  .encode = enc_uint,
	  .decode = dec_uint,
	  .offset = offsetof(struct region, applied_seals),
	  .width = sizeof(unsigned) },
	UINT_FIELD(14, "seals", seals),
	UINT_FIELD(15, "fixed", fixed),
	UINT_FIELD(16, "state", state),
	{ .tag = 17, .name = "ranges", .encode = enc_ranges, .decode = dec_ranges },
	/* Critical: a shmd that cannot read a region's spilled extents must not start. */
	{ .tag = 20,
	  .name = "spill.extents",
	  .not_in_stat = true,
	  .encode = enc_spill,
	  .decode = dec_spill },
	{ .tag = STATE_TAG_OPTIONAL | 21,
	  .name = "spilledUSec",
	  .encode = enc_spill_time,
	  .decode = dec_spill_time,
	  .offset = 0 },
	{ .tag = STATE_TAG_OPTIONAL | 22,
	  .name = "restoredUSec",
	  .encode = enc_spill_time,
	  .decode = dec_spill_time,
	  .offset = 1 },
	/* Tags 34-39: spill policy. */
	UINT_FIELD(34, "nospill", nospill),
};

const struct state_field *state_region_fields(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(region_fields);
	return region_fields;
}

static const struct state_field *field_find(unsigned tag)
{
	for (size_t i = 0; i < ELEMENTSOF(region_fields); i++)
		if (region_fields[i].tag == tag)
			return &region_fields[i];
	return NULL;
}

/* ---------------------------------------------------------------- framing */

void state_write_header(struct text *t, uint64_t generation)
{
	text_add(t, STATE_MAGIC, 8);
	state_put_u32(t, STATE_FORMAT);
	state_put_u32(t, 0);
	state_put_u64(t, generation);
}

int state_read_header(const uint8_t *p, size_t len, uint32_t *ret_format, uint64_t *ret_generation)
{
	if (len < STATE_HEADER_SIZE || memcmp(p, STATE_MAGIC, 8) != 0)
		return -EBADMSG;
	*ret_format = (uint32_t)get_le(p + 8, 4);
	*ret_generation = get_le(p + 16, 8);
	return *ret_format > STATE_FORMAT ? -EPROTONOSUPPORT : 0;
}

/* Frame what was appended to t since start (a length placeholder and the type byte). */
static void frame_end(struct text *t, size_t start)
{
	if (t->oom)
		return;
	uint32_t len = (uint32_t)(t->len - start - 5);
	for (int i = 0; i < 4; i++)
		t->p[start + i] = (char)(len >> (8 * i));
	state_put_u32(t, state_crc32(0, t->p + start, t->len - start));
}

static size_t frame_begin(struct text *t, enum state_record_type type)
{
	size_t start = t->len;
	uint8_t b = (uint8_t)type;
	state_put_u32(t, 0);
	text_add(t, (const char *)&b, 1);
	return start;
}

void state_write_region(struct text *t, const struct region *r)
{
	size_t start = frame_begin(t, STATE_REC_REGION);

	for (size_t i = 0; i < ELEMENTSOF(region_fields); i++) {
		const struct state_field *f = &region_fields[i];
		size_t at = t->len;
		state_put_u16(t, f->tag);
		state_put_u32(t, 0);
		f->encode(t, r, f);
		if (t->oom)
			return;
		size_t vlen = t->len - at - 6;
		if (vlen == 0 && f->encode != enc_name) {
			text_truncate(t, at); /* absent */
			continue;
		}
		for (int k = 0; k < 4; k++)
			t->p[at + 2 + k] = (char)(vlen >> (8 * k));
	}
	frame_end(t, start);
}

void state_write_u64_record(struct text *t, enum state_record_type type, uint64_t value)
{
	size_t start = frame_begin(t, type);
	state_put_u64(t, value);
	frame_end(t, start);
}

int state_next_record(struct state_reader *rd, uint8_t *ret_type, struct state_reader *ret_payload)
{
	if (rd->len == 0)
		return 0;
	if (rd->len < 9)
		return -EBADMSG;
	uint64_t len = get_le(rd->p, 4);
	if (len > rd->len - 9)
		return -EBADMSG;
	uint32_t crc = (uint32_t)get_le(rd->p + 5 + len, 4);
	if (state_crc32(0, rd->p, 5 + len) != crc)
		return -EBADMSG;
	*ret_type = rd->p[4];
	*ret_payload = (struct state_reader){ rd->p + 5, len };
	rd->p += 9 + len;
	rd->len -= 9 + len;
	return 1;
}

/* ---------------------------------------------------------------- decoding */

static int decode_fields(struct state_reader *pl, struct region *r, const char **why,
			 unsigned *ret_tag)
{
	bool have_id = false;

	while (pl->len > 0) {
		if (pl->len < 6)
			return *why = "truncated field", -EBADMSG;
		unsigned tag = (unsigned)get_le(pl->p, 2);
		uint64_t len = get_le(pl->p + 2, 4);
		if (len > pl->len - 6 || len > STATE_FIELD_MAX)
			return *why = "field longer than its record", -EBADMSG;
		const uint8_t *v = pl->p + 6;
		pl->p += 6 + len;
		pl->len -= 6 + len;

		const struct state_field *f = field_find(tag);
		if (!f) {
			if (tag & STATE_TAG_OPTIONAL)
				continue; /* a newer shmd's optional field: skipped by rule */
			*ret_tag = tag;
			return *why = "unknown critical field", -EPROTONOSUPPORT;
		}
		int err = f->decode(r, v, len, f);
		if (err == -ENOMEM)
			return err;
		if (err < 0)
			return *why = f->name, -EBADMSG;
		have_id |= tag == 1;
	}
	if (!have_id || !r->name || r->id == 0)
		return *why = "no id or no name", -EBADMSG;
	return 0;
}

int state_decode_region(struct state_reader *payload, struct region **ret, const char **ret_why,
			unsigned *ret_tag)
{
	struct region *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	*ret_why = NULL;
	int err = decode_fields(payload, r, ret_why, ret_tag);
	if (err < 0) {
		region_free(r);
		return err;
	}
	*ret = r;
	return 0;
}
