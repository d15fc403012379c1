/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the state's records: every field round-trips, torn writes and newer tags. */

#include <stdlib.h>
#include <string.h>

#include "fdstore.h"
#include "intern.h"
#include "ranges.h"
#include "region.h"
#include "spill-index.h"
#include "state-record.h"
#include "testlib.h"

static struct region *sample(void)
{
	struct region *r = calloc(1, sizeof(*r));
	r->fd = -1;
	r->id = 123456789012ull;
	r->name = strdup("vm1/ram");
	r->size = 1ull << 40;
	r->uid = 1000;
	r->gid = 65534;
	r->mode = 0640;
	r->creator = (struct identity){ 1001, 1002, 4242, intern_ref("qemu@vm1.service") };
	r->created_usec = 1764900000000001ull;
	r->changed_usec = 1764900000000002ull;
	r->applied_seals = 0x1f;
	r->seals = 0x3f;
	r->fixed = true;
	r->state = REGION_SPILLED;
	struct spill_index *ix = spill_index_get(r);
	ix->size = 3 * 4096;
	ix->n_extents = 2;
	ix->extents = calloc(2, sizeof(*ix->extents));
	ix->extents[0] = (struct spill_extent){ 0, 1ull << 30, 4096, 0x0123456789abcdefull };
	ix->extents[1] = (struct spill_extent){ 2 * 4096, 8192, 4096, 42 };
	ix->spilled_bytes = 2 * 4096;
	ix->spilled_usec = 1764900000000003ull;
	ix->restored_usec = 1764900000000004ull;
	if (ranges_set(r, 0, 4 * 4096, "boot rom") < 0 ||
	    ranges_set(r, 1 << 20, 2 * 4096, "ram") < 0)
		bail_out("cannot label the sample region");
	return r;
}

static void check_same(const struct region *a, const struct region *b)
{
	ok(a->id == b->id && strcmp(a->name, b->name) == 0 && a->size == b->size, "id, name, size");
	ok(a->uid == b->uid && a->gid == b->gid && a->mode == b->mode, "owner, group, mode");
	ok(a->creator.uid == b->creator.uid && a->creator.gid == b->creator.gid &&
		   a->creator.pid == b->creator.pid && a->creator.unit == b->creator.unit,
	   "creator (unit interned to the same copy)");
	ok(a->created_usec == b->created_usec && a->changed_usec == b->changed_usec, "times");
	ok(a->applied_seals == b->applied_seals && a->seals == b->seals && a->fixed == b->fixed,
	   "seals, fixed");
	bool same = ranges_count(a) == ranges_count(b);
	for (size_t i = 0; same && i < ranges_count(a); i++) {
		const struct range *x = ranges_get(a, i), *y = ranges_get(b, i);
		same = x->offset == y->offset && x->length == y->length &&
		       strcmp(x->label, y->label) == 0;
	}
	ok(same && ranges_count(b) == 2, "named ranges (offset, length, label)");
	const struct spill_index *x = a->spill, *y = b->spill;
	ok(b->state == a->state && y && y->size == x->size && y->n_extents == x->n_extents &&
		   y->spilled_bytes == x->spilled_bytes &&
		   memcmp(x->extents, y->extents, x->n_extents * sizeof(*x->extents)) == 0,
	   "spill state, index extents and checksums");
	ok(y && y->spilled_usec == x->spilled_usec && y->restored_usec == x->restored_usec,
	   "last spill and restore times");
	is_int(b->fd, -1, "decoded region has no fd yet");
}

/* One framed record read back from t. */
static int read_one(struct text *t, struct region **ret, const char **why, unsigned *tag)
{
	struct state_reader rd = { (const uint8_t *)t->p, t->len }, pl;
	uint8_t type;
	int r = state_next_record(&rd, &type, &pl);
	if (r <= 0)
		return r == 0 ? -ENODATA : r;
	if (type != STATE_REC_REGION)
		return -EINVAL;
	return state_decode_region(&pl, ret, why, tag);
}

static void test_roundtrip(void)
{
	struct region *a = sample(), *b = NULL;
	const char *why;
	unsigned tag = 0;
	struct text t;

	text_init(&t);
	state_write_region(&t, a);
	is_int(read_one(&t, &b, &why, &tag), 0, "region record decodes");
	if (b)
		check_same(a, b);
	region_free(b);
	b = NULL;

	/* No unit: the field is left out and comes back NULL. */
	intern_unref(a->creator.unit);
	a->creator.unit = NULL;
	text_truncate(&t, 0);
	state_write_region(&t, a);
	is_int(read_one(&t, &b, &why, &tag), 0, "record without a unit decodes");
	ok(b && !b->creator.unit, "no unit restored as none");
	region_free(b);
	region_free(a);
	text_done(&t);
}

/* A crash mid-append leaves a prefix of the last record: every prefix is refused. */
static void test_torn(void)
{
	struct region *a = sample();
	struct text t;
	int bad = 0;

	text_init(&t);
	state_write_u64_record(&t, STATE_REC_NEXT_ID, 99);
	size_t first = t.len;
	state_write_region(&t, a);
	for (size_t cut = first; cut < t.len; cut++) {
		struct state_reader rd = { (const uint8_t *)t.p, cut }, pl;
		uint8_t type;
		uint64_t v = 0;
		int r1 = state_next_record(&rd, &type, &pl);
		bool first_ok = r1 == 1 && type == STATE_REC_NEXT_ID &&
				state_get_u64(&pl, &v) == 0 && v == 99;
		int r2 = state_next_record(&rd, &type, &pl);
		if (!first_ok || (cut > first ? r2 != -EBADMSG : r2 != 0))
			bad++;
	}
	is_int(bad, 0, "every torn prefix keeps the records before it and is refused itself");

	/* One flipped bit anywhere in the record: the CRC refuses it. */
	bad = 0;
	for (size_t i = first; i < t.len; i++) {
		t.p[i] ^= 0x10;
		struct state_reader rd = { (const uint8_t *)t.p + first, t.len - first }, pl;
		uint8_t type;
		if (state_next_record(&rd, &type, &pl) != -EBADMSG)
			bad++;
		t.p[i] ^= 0x10;
	}
	is_int(bad, 0, "a flipped bit anywhere is caught");
	region_free(a);
	text_done(&t);
}

/* A region record with one extra field appended (as a newer shmd would write it). */
static void write_with_extra(struct text *t, const struct region *r, uint16_t tag)
{
	struct text inner;
	struct state_reader rd, pl;
	uint8_t type;

	text_init(&inner);
	state_write_region(&inner, r);
	rd = (struct state_reader){ (const uint8_t *)inner.p, inner.len };
	state_next_record(&rd, &type, &pl);
	/* Re-frame by hand: length, type, payload + the extra field, CRC. */
	size_t start = t->len;
	state_put_u32(t, (uint32_t)(pl.len + 6 + 3));
	text_add(t, "\x01", 1);
	text_add(t, (const char *)pl.p, pl.len);
	state_put_u16(t, tag);
	state_put_u32(t, 3);
	text_add(t, "abc", 3);
	state_put_u32(t, state_crc32(0, t->p + start, t->len - start));
	text_done(&inner);
}

static void test_newer_fields(void)
{
	struct region *a = sample(), *b = NULL;
	const char *why;
	unsigned tag = 0;
	struct text t;

	text_init(&t);
	write_with_extra(&t, a, STATE_TAG_OPTIONAL | 77);
	is_int(read_one(&t, &b, &why, &tag), 0, "an unknown optional tag is skipped");
	if (b)
		check_same(a, b);
	region_free(b);
	b = NULL;

	text_truncate(&t, 0);
	write_with_extra(&t, a, 77);
	is_int(read_one(&t, &b, &why, &tag), -EPROTONOSUPPORT,
	       "an unknown critical tag is refused");
	is_int(tag, 77, "the refused tag is named");
	region_free(a);
	text_done(&t);
}

/* A spill index that would make restore read the wrong bytes is refused, not trusted. */
static void test_spill_malformed(void)
{
	struct region *a = sample(), *b = NULL;
	const char *why;
	unsigned tag = 0;
	struct text t;

	text_init(&t);
	a->spill->extents[1].offset = 0; /* overlaps the first */
	state_write_region(&t, a);
	is_int(read_one(&t, &b, &why, &tag), -EBADMSG, "overlapping spill extents are refused");
	a->spill->extents[1].offset = 2 * 4096 + 512;
	text_truncate(&t, 0);
	state_write_region(&t, a);
	is_int(read_one(&t, &b, &why, &tag), -EBADMSG, "an unaligned spill extent is refused");
	a->spill->extents[1].offset = 3 * 4096;
	text_truncate(&t, 0);
	state_write_region(&t, a);
	is_int(read_one(&t, &b, &why, &tag), -EBADMSG, "a spill extent past the size is refused");
	region_free(a);
	text_done(&t);
}

static void test_header(void)
{
	struct text t;
	uint32_t format;
	uint64_t gen;

	text_init(&t);
	state_write_header(&t, 42);
	is_int(t.len, STATE_HEADER_SIZE, "header size");
	is_int(state_read_header((const uint8_t *)t.p, t.len, &format, &gen), 0, "header reads");
	ok(gen == 42 && format == STATE_FORMAT, "generation and format");
	t.p[8] = STATE_FORMAT + 1;
	is_int(state_read_header((const uint8_t *)t.p, t.len, &format, &gen), -EPROTONOSUPPORT,
	       "a newer format is refused");
	t.p[0] = 'X';
	is_int(state_read_header((const uint8_t *)t.p, t.len, &format, &gen), -EBADMSG,
	       "not a state");
	text_done(&t);
}

static void test_store_names(void)
{
	char buf[FDSTORE_NAME_MAX];
	int bad = 0;
	uint64_t ids[] = { 1, 61, 62, 3843, 19000, 1ull << 40, UINT64_MAX };

	for (size_t i = 0; i < ELEMENTSOF(ids); i++)
		if (fdstore_parse_region_name(fdstore_region_name(ids[i], buf)) != ids[i])
			bad++;
	is_int(bad, 0, "store names round-trip");
	is_str(fdstore_region_name(19000, buf), "4Ws", "19000 is 3 characters");
	is_int((long long)fdstore_parse_region_name("state-a"), 0, "state-a is not a region");
	is_int((long long)fdstore_parse_region_name("shmd.socket"), 0, "a socket is not a region");
	is_int((long long)fdstore_parse_region_name(""), 0, "empty is not a region");
}

int main(void)
{
	test_roundtrip();
	test_torn();
	test_newer_fields();
	test_spill_malformed();
	test_header();
	test_store_names();
	return done_testing();
}
