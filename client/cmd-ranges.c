/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Named ranges and holders: label, unlabel, relabel, who, and the range tables of stat and ls --ranges. */

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "macro.h"
#include "name.h"
#include "output.h"
#include "ranges-cli.h"
#include "shmctl.h"
#include "size.h"

/* ----------------------------------------------------------------- range rows */

struct range_row {
	const char *region; /* borrowed from the region or ranges object */
	uint64_t offset, length;
	const char *label; /* NULL: an unnamed gap */
	int64_t fp[4];	   /* resident, swapped, allocated, dirty; < 0: not measured */
};

#define ROW(r) ((const struct range_row *)(r))
static const enum shmd_footprint_field fp_fields[4] = { SHMD_FOOTPRINT_RESIDENT,
							SHMD_FOOTPRINT_SWAPPED,
							SHMD_FOOTPRINT_ALLOCATED,
							SHMD_FOOTPRINT_DIRTY };
static const char *const fp_keys[4] = { "resident", "swapped", "allocated", "dirty" };

static char *bytes_text(int64_t v, const struct table_format *fmt)
{
	char buf[SIZE_FORMAT_MAX];
	char *s = NULL;

	if (v < 0)
		return strdup("-");
	if (fmt->bytes)
		return asprintf(&s, "%lld", (long long)v) < 0 ? NULL : s;
	return strdup(size_format((uint64_t)v, buf, sizeof(buf)));
}

static int add_int(json_object *obj, const char *key, int64_t v)
{
	json_object *j = v < 0 ? NULL : json_object_new_int64(v);
	if (v >= 0 && !j)
		return -ENOMEM;
	json_object_object_add(obj, key, j); /* null when not measured */
	return 0;
}

static char *rname_text(const void *row, const struct table_format *fmt)
{
	return fmt->raw ? strdup(ROW(row)->region) : name_escape(ROW(row)->region);
}
static int rname_json(const void *row, json_object *obj)
{
	return json_add_name(obj, "name", ROW(row)->region);
}
static char *offset_text(const void *row, const struct table_format *fmt)
{
	return bytes_text((int64_t)ROW(row)->offset, fmt);
}
static int offset_json(const void *row, json_object *obj)
{
	return add_int(obj, "offset", (int64_t)ROW(row)->offset);
}
static char *length_text(const void *row, const struct table_format *fmt)
{
	return bytes_text((int64_t)ROW(row)->length, fmt);
}
static int length_json(const void *row, json_object *obj)
{
	return add_int(obj, "length", (int64_t)ROW(row)->length);
}
static char *label_text(const void *row, const struct table_format *fmt)
{
	return strdup(ROW(row)->label ? ROW(row)->label : "-");
}
static int label_json(const void *row, json_object *obj)
{
	json_object *j = ROW(row)->label ? json_object_new_string(ROW(row)->label) : NULL;
	json_object_object_add(obj, "label", j);
	return 0;
}
#define RANGE_FP_COLUMN(fn, i)                                                                     \
	static char *fn##_text(const void *row, const struct table_format *fmt)                    \
	{                                                                                          \
		return bytes_text(ROW(row)->fp[i], fmt);                                           \
	}                                                                                          \
	static int fn##_json(const void *row, json_object *obj)                                    \
	{                                                                                          \
		return add_int(obj, fp_keys[i], ROW(row)->fp[i]);                                  \
	}
RANGE_FP_COLUMN(rrss, 0)
RANGE_FP_COLUMN(rswap, 1)
RANGE_FP_COLUMN(ralloc, 2)
RANGE_FP_COLUMN(rdirty, 3)

static const struct table_column range_columns[] = {
	{ "NAME", "Region", "region name", "name: string", 4, 0, rname_text, rname_json },
	{ "OFFSET", "Offset", "start of the range", "offset: number", 6, TABLE_RIGHT, offset_text,
	  offset_json },
	{ "LENGTH", "Length", "length of the range", "length: number", 6, TABLE_RIGHT, length_text,
	  length_json },
	{ "LABEL", "Label", "its label (- for an unnamed gap)", "label: string|null", 5, 0,
	  label_text, label_json },
	{ "RSS", "Resident", "bytes in memory", "resident: number|null", 4, TABLE_RIGHT, rrss_text,
	  rrss_json },
	{ "SWAP", "Swapped", "bytes in swap", "swapped: number|null", 4, TABLE_RIGHT, rswap_text,
	  rswap_json },
	{ "ALLOC", "Allocated", "bytes holding data", "allocated: number|null", 5, TABLE_RIGHT,
	  ralloc_text, ralloc_json },
	{ "DIRTY", "Dirty", "dirty bytes", "dirty: number|null", 5, TABLE_RIGHT, rdirty_text,
	  rdirty_json },
};

static void tablep(struct table **t)
{
	table_free(*t);
}

static int range_table(const struct shmctl *s, const char *defaults, const char *output,
		       struct table **ret)
{
	_cleanup_free_ const struct table_column **cols = NULL;
	_cleanup_free_ char *bad = NULL;
	struct table_format fmt = shmctl_table_format(s);
	size_t n = 0;
	int r = table_select(range_columns, ELEMENTSOF(range_columns), defaults, output, &cols, &n,
			     &bad);

	if (r == -EINVAL)
		return shmctl_usage_error("unknown column '%s'", bad);
	if (r < 0)
		return shmctl_fail_errno(r, "cannot select columns");
	*ret = table_new(cols, n, &fmt);
	return *ret ? 0 : shmctl_fail_errno(-ENOMEM, "cannot list");
}

int ranges_add_region(struct table *t, const struct shmd_region *region)
{
	for (size_t i = 0; i < shmd_region_get_n_ranges(region); i++) {
		struct range_row row = { .region = shmd_region_get_name(region),
					 .fp = { -1, -1, -1, -1 } };
		if (shmd_region_get_range(region, i, &row.offset, &row.length, &row.label) < 0)
			continue;
		int r = table_add(t, &row); /* rendered at once: row may go */
		if (r < 0)
			return r;
	}
	return 0;
}

int ranges_table_new(const struct shmctl *s, struct table **ret)
{
	return range_table(s, "NAME,OFFSET,LENGTH,LABEL", s->output, ret);
}

/* stat: the parts of the region with their footprint, as a table or a JSON array. */
static int stat_parts(struct shmctl *s, const char *name, struct shmd_ranges *rs,
		      json_object **ret_json)
{
	_cleanup_(tablep) struct table *t = NULL;
	_cleanup_json_ json_object *arr = s->json ? json_object_new_array() : NULL;
	int r = s->json ? 0 : range_table(s, "OFFSET,LENGTH,LABEL,RSS,SWAP,ALLOC", NULL, &t);

	if (r)
		return r;
	for (size_t i = 0; i < shmd_ranges_count(rs); i++) {
		struct range_row row = { .region = name };
		shmd_ranges_get(rs, i, &row.offset, &row.length, &row.label);
		for (int k = 0; k < 4; k++)
			row.fp[k] = shmd_ranges_get_footprint(rs, i, fp_fields[k]);
		if (arr) {
			json_object *o = json_object_new_object();
			for (size_t c = 1; o && c < ELEMENTSOF(range_columns); c++)
				range_columns[c].json(&row, o);
			json_object_array_add(arr, o);
		} else if (table_add(t, &row) < 0)
			return shmctl_fail_errno(-ENOMEM, "cannot print");
	}
	if (arr) {
		*ret_json = TAKE_PTR(arr);
		return 0;
	}
	printf("\nRanges:\n");
	r = table_print(t, stdout, "ranges");
	return r < 0 ? shmctl_fail_errno(r, "write error") : 0;
}

static void rangesp(struct shmd_ranges **r)
{
	shmd_ranges_unref(*r);
}

int ranges_stat(struct shmctl *s, const char *name, const struct shmd_region *region,
		json_object **ret_json)
{
	_cleanup_(rangesp) struct shmd_ranges *rs = NULL;

	if (shmd_region_get_n_ranges(region) == 0)
		return 0;
	/* Per-range footprint needs read permission; without it, the ranges alone. */
	int r = shmd_ranges(s->ctx, name, SHMD_RANGES_FOOTPRINT, &rs);
	if (r == -EACCES)
		r = shmd_ranges(s->ctx, name, 0, &rs);
	if (r < 0)
		return shmctl_fail(s, r, "list the ranges of", name);
	return stat_parts(s, name, rs, ret_json);
}

/* ----------------------------------------------------------------- label, unlabel, relabel */

static int parse_span(const char *off, const char *len, uint64_t *ret_off, uint64_t *ret_len)
{
	int r = parse_size_arg(off, "offset", ret_off);
	return r ? r : parse_size_arg(len, "length", ret_len);
}

/* After a change: with --json, the region's ranges; silent otherwise. */
static int changed(struct shmctl *s, const char *name)
{
	_cleanup_(tablep) struct table *t = NULL;
	_cleanup_region_ struct shmd_region *region = NULL;

	if (!s->json)
		return 0;
	int r = shmd_stat(s->ctx, name, &region);
	if (r < 0)
		return shmctl_fail(s, r, "stat", name);
	r = ranges_table_new(s, &t);
	if (!r && ranges_add_region(t, region) < 0)
		r = shmctl_fail_errno(-ENOMEM, "cannot print");
	if (!r && table_print(t, stdout, "ranges") < 0)
		r = shmctl_fail_errno(-EIO, "write error");
	return r;
}

int cmd_label(struct shmctl *s, int argc, char *argv[])
{
	uint64_t off, len;
	int r = shmctl_name_args(s, &argc, &argv, 4);

	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = parse_span(argv[1], argv[2], &off, &len);
	if (r)
		return r;
	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_label(s->ctx, argv[0], off, len, argv[3]);
	if (r < 0)
		return shmctl_fail(s, r, "label", argv[0]);
	return changed(s, argv[0]);
}

int cmd_unlabel(struct shmctl *s, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "label", required_argument, NULL, 'l' },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	const char *label = NULL;
	uint64_t off = 0, len = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS "l:", options, NULL)) != -1) {
		if (c == 'l') {
			label = optarg;
			continue;
		}
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	argc -= optind;
	argv += optind;
	r = expect_args(s, argc, label ? 1 : 3);
	if (!r)
		r = parse_name(argv[0], false);
	if (!r && !label)
		r = parse_span(argv[1], argv[2], &off, &len);
	if (r)
		return r;
	r = shmctl_connect(s);
	if (r)
		return r;
	r = label ? shmd_unlabel_label(s->ctx, argv[0], label) :
		    shmd_unlabel(s->ctx, argv[0], off, len);
	if (r < 0)
		return shmctl_fail(s, r, "unlabel", argv[0]);
	return changed(s, argv[0]);
}

int cmd_relabel(struct shmctl *s, int argc, char *argv[])
{
	int r = shmctl_begin(s, &argc, &argv, 3);

	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = shmd_rename_label(s->ctx, argv[0], argv[1], argv[2]);
	if (r < 0)
		return shmctl_fail(s, r, "relabel", argv[0]);
	return changed(s, argv[0]);
}
