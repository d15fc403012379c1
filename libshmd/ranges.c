/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Named ranges, footprint and holders: Label, Unlabel, RenameLabel, Ranges, Holders, Stat with footprint. */

#include <string.h>

#include "libshmd-private.h"
#include "name.h"

#define WIRE_INT_MAX ((uint64_t)INT64_MAX)

/* A reply kept as sent: its parameters object answers the getters. */
struct shmd_ranges {
	json_object *params;
};

struct shmd_holders {
	json_object *params;
};

int range_from_json(json_object *obj, uint64_t *ret_offset, uint64_t *ret_length,
		    const char **ret_label)
{
	uint64_t offset, length;

	if (json_get_u64(obj, "offset", &offset) < 0 || json_get_u64(obj, "length", &length) < 0)
		return -EPROTO;
	if (ret_offset)
		*ret_offset = offset;
	if (ret_length)
		*ret_length = length;
	if (ret_label)
		*ret_label = json_get_str(obj, "label");
	return 0;
}

int64_t footprint_field(json_object *footprint, enum shmd_footprint_field field)
{
	static const char *const keys[] = {
		[SHMD_FOOTPRINT_SIZE] = "size",	      [SHMD_FOOTPRINT_RESIDENT] = "resident",
		[SHMD_FOOTPRINT_DIRTY] = "dirty",     [SHMD_FOOTPRINT_WRITEBACK] = "writeback",
		[SHMD_FOOTPRINT_SWAPPED] = "swapped", [SHMD_FOOTPRINT_ALLOCATED] = "allocated",
		[SHMD_FOOTPRINT_SPILLED] = "spilled", [SHMD_FOOTPRINT_HUGE] = "huge",
	};
	uint64_t v;

	if ((unsigned)field >= ELEMENTSOF(keys))
		return -EINVAL;
	if (!footprint || json_get_u64(footprint, keys[field], &v) < 0)
		return -ENODATA;
	return (int64_t)MIN(v, WIRE_INT_MAX);
}

/* Call method on region name with params p (taken; the name is added). The reply's parameters. */
static int named_call(struct shmd_ctx *ctx, const char *method, const char *name, json_object *p,
		      json_object **ret_params)
{
	_cleanup_json_ json_object *reply = NULL;

	if (!p)
		return -ENOMEM;
	if (!name) {
		json_object_put(p);
		return ctx_fail(ctx, -EINVAL, "no region name given");
	}
	if (json_add_name(p, "name", name) < 0) {
		json_object_put(p);
		return -ENOMEM;
	}
	int r = call_method(ctx, method, p, &reply, NULL, NULL);
	if (r < 0)
		return r;
	if (ret_params)
		*ret_params = json_object_get(vl_message_parameters(reply));
	return 0;
}

static json_object *span_params(uint64_t offset, uint64_t length)
{
	json_object *p = json_object_new_object();
	if (p) {
		json_object_object_add(p, "offset", json_object_new_int64((int64_t)offset));
		json_object_object_add(p, "length", json_object_new_int64((int64_t)length));
	}
	return p;
}

static int check_span(struct shmd_ctx *ctx, uint64_t offset, uint64_t length)
{
	if (offset > WIRE_INT_MAX || length > WIRE_INT_MAX)
		return ctx_fail(ctx, -EINVAL, "offset or length too large");
	return 0;
}

_export_ int shmd_label(struct shmd_ctx *ctx, const char *name, uint64_t offset, uint64_t length,
			const char *label)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	int r = check_span(ctx, offset, length);
	if (r >= 0 && !label)
		r = ctx_fail(ctx, -EINVAL, "no label given");
	if (r < 0)
		return ctx_finish(ctx, r);
	json_object *p = span_params(offset, length);
	if (p)
		json_object_object_add(p, "label", json_object_new_string(label));
	return ctx_finish(ctx, named_call(ctx, "io.shmd.Manager.Label", name, p, NULL));
}

_export_ int shmd_unlabel(struct shmd_ctx *ctx, const char *name, uint64_t offset, uint64_t length)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	int r = check_span(ctx, offset, length);
	if (r < 0)
		return ctx_finish(ctx, r);
	return ctx_finish(ctx, named_call(ctx, "io.shmd.Manager.Unlabel", name,
					  span_params(offset, length), NULL));
}

_export_ int shmd_unlabel_label(struct shmd_ctx *ctx, const char *name, const char *label)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (!label)
		return ctx_finish(ctx, ctx_fail(ctx, -EINVAL, "no label given"));
	json_object *p = json_object_new_object();
	if (p)
		json_object_object_add(p, "label", json_object_new_string(label));
	return ctx_finish(ctx, named_call(ctx, "io.shmd.Manager.Unlabel", name, p, NULL));
}

_export_ int shmd_rename_label(struct shmd_ctx *ctx, const char *name, const char *label,
			       const char *new_label)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (!label || !new_label)
		return ctx_finish(ctx, ctx_fail(ctx, -EINVAL, "no label given"));
	json_object *p = json_object_new_object();
	if (p) {
		json_object_object_add(p, "label", json_object_new_string(label));
		json_object_object_add(p, "newLabel", json_object_new_string(new_label));
	}
	return ctx_finish(ctx, named_call(ctx, "io.shmd.Manager.RenameLabel", name, p, NULL));
}

_export_ int shmd_stat_footprint(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret)
{
	_cleanup_json_ json_object *params = NULL;

	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (!ret)
		return ctx_finish(ctx, ctx_fail(ctx, -EINVAL, "no place for the region"));
	json_object *p = json_object_new_object();
	if (p)
		json_object_object_add(p, "footprint", json_object_new_boolean(true));
	int r = named_call(ctx, "io.shmd.Manager.Stat", name, p, &params);
	if (r >= 0) {
		json_object *obj;
		r = json_object_object_get_ex(params, "region", &obj) ? region_from_json(obj, ret) :
									-EPROTO;
		if (r == -EPROTO)
			r = ctx_fail(ctx, r, "malformed region in the daemon's reply");
	}
	return ctx_finish(ctx, r);
}

_export_ int shmd_ranges(struct shmd_ctx *ctx, const char *name, unsigned flags,
			 struct shmd_ranges **ret)
{
	json_object *params = NULL, *arr;

	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (!ret || (flags & ~SHMD_RANGES_FOOTPRINT))
		return ctx_finish(ctx, ctx_fail(ctx, -EINVAL, "invalid flags or no place"));
	json_object *p = json_object_new_object();
	if (p && (flags & SHMD_RANGES_FOOTPRINT))
		json_object_object_add(p, "footprint", json_object_new_boolean(true));
	int r = named_call(ctx, "io.shmd.Manager.Ranges", name, p, &params);
	if (r >= 0 && (!json_object_object_get_ex(params, "ranges", &arr) ||
		       !json_object_is_type(arr, json_type_array)))
		r = ctx_fail(ctx, -EPROTO, "Ranges reply without ranges");
	struct shmd_ranges *rs = r >= 0 ? calloc(1, sizeof(*rs)) : NULL;
	if (r >= 0 && !rs)
		r = -ENOMEM;
	if (r < 0) {
		json_object_put(params);
		return ctx_finish(ctx, r);
	}
	rs->params = params;
	*ret = rs;
	return ctx_finish(ctx, 0);
}

_export_ struct shmd_ranges *shmd_ranges_unref(struct shmd_ranges *ranges)
{
	if (ranges) {
		json_object_put(ranges->params);
		free(ranges);
	}
	return NULL;
}

static json_object *array_at(json_object *params, const char *key, size_t i)
{
	json_object *arr;
	if (!params || !json_object_object_get_ex(params, key, &arr) ||
	    !json_object_is_type(arr, json_type_array) || i >= json_object_array_length(arr))
		return NULL;
	return json_object_array_get_idx(arr, i);
}

static size_t array_len(json_object *params, const char *key)
{
	json_object *arr;
	if (!params || !json_object_object_get_ex(params, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return 0;
	return json_object_array_length(arr);
}

_export_ size_t shmd_ranges_count(const struct shmd_ranges *ranges)
{
	return ranges ? array_len(ranges->params, "ranges") : 0;
}

_export_ int shmd_ranges_get(const struct shmd_ranges *ranges, size_t i, uint64_t *ret_offset,
			     uint64_t *ret_length, const char **ret_label)
{
	json_object *e = ranges ? array_at(ranges->params, "ranges", i) : NULL;
	return e ? range_from_json(e, ret_offset, ret_length, ret_label) : -ERANGE;
}

_export_ int64_t shmd_ranges_get_footprint(const struct shmd_ranges *ranges, size_t i,
					   enum shmd_footprint_field field)
{
	json_object *e, *fp = NULL;

	if (!ranges)
		return -EINVAL;
	e = i == SHMD_RANGES_TOTAL ? ranges->params : array_at(ranges->params, "ranges", i);
	if (!e)
		return -ERANGE;
	json_object_object_get_ex(e, "footprint", &fp);
	return footprint_field(fp, field);
}

_export_ int shmd_holders(struct shmd_ctx *ctx, const char *name, struct shmd_holders **ret)
{
	json_object *params = NULL;

	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	if (!ret)
		return ctx_finish(ctx, ctx_fail(ctx, -EINVAL, "no place for the holders"));
	int r = named_call(ctx, "io.shmd.Manager.Holders", name, json_object_new_object(), &params);
	struct shmd_holders *h = r >= 0 ? calloc(1, sizeof(*h)) : NULL;
	if (r >= 0 && !h)
		r = -ENOMEM;
	if (r < 0) {
		json_object_put(params);
		return ctx_finish(ctx, r);
	}
	h->params = params;
	*ret = h;
	return ctx_finish(ctx, 0);
}

_export_ struct shmd_holders *shmd_holders_unref(struct shmd_holders *holders)
{
	if (holders) {
		json_object_put(holders->params);
		free(holders);
	}
	return NULL;
}

_export_ size_t shmd_holders_count(const struct shmd_holders *holders)
{
	return holders ? array_len(holders->params, "holders") : 0;
}

/* An integer or boolean member as int64: -ENODATA when absent. */
static int64_t member(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return -ENODATA;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -ENODATA;
	return json_object_get_int64(v);
}

_export_ int64_t shmd_holders_get(const struct shmd_holders *holders, size_t i,
				  enum shmd_holder_field field)
{
	static const char *const keys[] = {
		[SHMD_HOLDER_PID] = "pid",
		[SHMD_HOLDER_UID] = "uid",
		[SHMD_HOLDER_FDS] = "fds",
		[SHMD_HOLDER_WRITABLE] = "writable",
		[SHMD_HOLDER_MAPPED] = "mappedBytes",
		[SHMD_HOLDER_RSS] = "rss",
		[SHMD_HOLDER_SWAP] = "swap",
	};
	if (!holders || (unsigned)field >= ELEMENTSOF(keys))
		return -EINVAL;
	json_object *e = array_at(holders->params, "holders", i);
	return e ? member(e, keys[field]) : -ERANGE;
}

_export_ const char *shmd_holders_get_command(const struct shmd_holders *holders, size_t i)
{
	return holders ? json_get_str(array_at(holders->params, "holders", i), "command") : NULL;
}

_export_ const char *shmd_holders_get_unit(const struct shmd_holders *holders, size_t i)
{
	return holders ? json_get_str(array_at(holders->params, "holders", i), "unit") : NULL;
}

_export_ int64_t shmd_holders_get_scan(const struct shmd_holders *holders,
				       enum shmd_holders_scan_field field)
{
	static const char *const keys[] = {
		[SHMD_HOLDERS_SCANNED] = "scanned",	[SHMD_HOLDERS_UNREADABLE] = "unreadable",
		[SHMD_HOLDERS_TRUNCATED] = "truncated", [SHMD_HOLDERS_SCAN_USEC] = "scanUSec",
		[SHMD_HOLDERS_COMPLETE] = "complete",
	};
	if (!holders || (unsigned)field >= ELEMENTSOF(keys))
		return -EINVAL;
	return member(holders->params, keys[field]);
}
