/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct shmd_region: a snapshot of one region parsed from the daemon's Region object. */

#include <string.h>

#include "libshmd-private.h"
#include "name.h"
#include "seals.h"

struct shmd_region {
	int n_ref;
	char *name;
	uint64_t id;
	uint64_t size;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	unsigned seals;
	unsigned foreign_seals;
	bool fixed;
	bool nospill;
	char *state;
	uint64_t created_usec;
	uint64_t changed_usec;
	uid_t creator_uid;
	gid_t creator_gid;
	pid_t creator_pid;
	char *creator_unit;
	json_object *ranges;	/* kept as sent, or NULL (none) */
	json_object *footprint; /* kept as sent, or NULL (not asked for) */
	int64_t holders;	/* -1: not known (or an older daemon) */
	uint64_t last_open_usec;
	uint64_t last_spill_usec, last_restore_usec; /* 0: never */
	uint64_t last_close_usec;
	bool deleted;
	bool anonymous;
};

/* ------------------------------------------------------------------ json helpers */

int json_get_u64(json_object *obj, const char *key, uint64_t *ret)
{
	json_object *v;
	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -EPROTO;
	/* json-c keeps integers as int64 (or uint64 past INT64_MAX); refuse negatives. */
	if (json_object_get_int64(v) < 0)
		return -EPROTO;
	*ret = json_object_get_uint64(v);
	return 0;
}

int json_get_bool(json_object *obj, const char *key, bool *ret)
{
	json_object *v;
	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return -EPROTO;
	*ret = json_object_get_boolean(v);
	return 0;
}

const char *json_get_str(json_object *obj, const char *key)
{
	json_object *v;
	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *params_with_name(const char *key, const char *name)
{
	json_object *p = json_object_new_object();
	if (p && json_add_name(p, key, name) < 0) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

/* An id-sized field: uid, gid or pid, each at most 32 bits. */
static int json_get_id(json_object *obj, const char *key, uint32_t *ret)
{
	uint64_t v;
	int r = json_get_u64(obj, key, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -EPROTO;
	*ret = (uint32_t)v;
	return 0;
}

static int json_get_seals(json_object *obj, const char *key, unsigned *ret)
{
	json_object *v;
	if (!json_object_object_get_ex(obj, key, &v))
		return -EPROTO;
	return seals_from_json(v, ret) < 0 ? -EPROTO : 0;
}

/* ------------------------------------------------------------------ parsing */

static void region_free(struct shmd_region *r)
{
	free(r->name);
	free(r->state);
	free(r->creator_unit);
	json_object_put(r->ranges);
	json_object_put(r->footprint);
	free(r);
}

static int parse_creator(json_object *obj, struct shmd_region *r)
{
	json_object *c;
	uint32_t uid, gid, pid;

	if (!json_object_object_get_ex(obj, "creator", &c) ||
	    !json_object_is_type(c, json_type_object))
		return -EPROTO;
	if (json_get_id(c, "uid", &uid) < 0 || json_get_id(c, "gid", &gid) < 0 ||
	    json_get_id(c, "pid", &pid) < 0)
		return -EPROTO;
	r->creator_uid = uid;
	r->creator_gid = gid;
	r->creator_pid = (pid_t)pid;

	const char *unit = json_get_str(c, "unit");
	if (unit && !(r->creator_unit = strdup(unit)))
		return -ENOMEM;
	return 0;
}

/* Optional members (daemons before holder tracking leave them out). */
static void parse_holders(json_object *obj, struct shmd_region *r)
{
	uint64_t v;
	r->holders = json_get_u64(obj, "holders", &v) == 0 && v <= INT64_MAX ? (int64_t)v : -1;
	if (json_get_u64(obj, "lastOpenUSec", &v) == 0)
		r->last_open_usec = v;
	if (json_get_u64(obj, "lastCloseUSec", &v) == 0)
		r->last_close_usec = v;
	if (json_get_u64(obj, "spilledUSec", &v) == 0)
		r->last_spill_usec = v;
	if (json_get_u64(obj, "restoredUSec", &v) == 0)
		r->last_restore_usec = v;
	if (json_get_bool(obj, "deleted", &r->deleted) < 0)
		r->deleted = false;
	if (json_get_bool(obj, "anonymous", &r->anonymous) < 0)
		r->anonymous = false;
}

static int parse_region(json_object *obj, struct shmd_region *r)
{
	const char *bad_key, *reason;
	uint32_t uid, gid;
	uint64_t mode;

	if (json_get_name(obj, "name", false, &r->name, &bad_key, &reason) <= 0)
		return -EPROTO;
	if (json_get_u64(obj, "id", &r->id) < 0 || json_get_u64(obj, "size", &r->size) < 0 ||
	    json_get_id(obj, "uid", &uid) < 0 || json_get_id(obj, "gid", &gid) < 0 ||
	    json_get_u64(obj, "mode", &mode) < 0 || mode > 07777 ||
	    json_get_u64(obj, "createdUSec", &r->created_usec) < 0 ||
	    json_get_u64(obj, "changedUSec", &r->changed_usec) < 0 ||
	    json_get_seals(obj, "seals", &r->seals) < 0 ||
	    json_get_seals(obj, "foreignSeals", &r->foreign_seals) < 0 ||
	    json_get_bool(obj, "fixed", &r->fixed) < 0)
		return -EPROTO;
	r->uid = uid;
	r->gid = gid;
	r->mode = (mode_t)mode;
	/* Absent from a daemon without spilling: false. */
	if (json_get_bool(obj, "nospill", &r->nospill) < 0)
		r->nospill = false;
	parse_holders(obj, r);

	const char *state = json_get_str(obj, "state");
	if (!state)
		return -EPROTO;
	if (!(r->state = strdup(state)))
		return -ENOMEM;
	json_object *v;
	if (json_object_object_get_ex(obj, "ranges", &v) && json_object_is_type(v, json_type_array))
		r->ranges = json_object_get(v);
	if (json_object_object_get_ex(obj, "footprint", &v) &&
	    json_object_is_type(v, json_type_object))
		r->footprint = json_object_get(v);
	return parse_creator(obj, r);
}

int region_from_json(json_object *obj, struct shmd_region **ret)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return -EPROTO;

	struct shmd_region *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n_ref = 1;
	int err = parse_region(obj, r);
	if (err < 0) {
		region_free(r);
		return err;
	}
	*ret = r;
	return 0;
}

int region_from_reply(struct shmd_ctx *ctx, json_object *reply, struct shmd_region **ret)
{
	json_object *obj;

	if (!json_object_object_get_ex(vl_message_parameters(reply), "region", &obj))
		return ctx_fail(ctx, -EPROTO, "reply without a region");
	if (!ret)
		return 0;
	int r = region_from_json(obj, ret);
	if (r == -EPROTO)
		return ctx_fail(ctx, r, "malformed region in the daemon's reply");
	return r;
}

/* ------------------------------------------------------------------ accessors */

_export_ struct shmd_region *shmd_region_ref(struct shmd_region *region)
{
	if (region)
		region->n_ref++;
	return region;
}

_export_ struct shmd_region *shmd_region_unref(struct shmd_region *region)
{
	if (region && --region->n_ref == 0)
		region_free(region);
	return NULL;
}

_export_ const char *shmd_region_get_name(const struct shmd_region *region)
{
	return region->name;
}

_export_ uint64_t shmd_region_get_id(const struct shmd_region *region)
{
	return region->id;
}

_export_ uint64_t shmd_region_get_size(const struct shmd_region *region)
{
	return region->size;
}

_export_ uid_t shmd_region_get_uid(const struct shmd_region *region)
{
	return region->uid;
}

_export_ gid_t shmd_region_get_gid(const struct shmd_region *region)
{
	return region->gid;
}

_export_ mode_t shmd_region_get_mode(const struct shmd_region *region)
{
	return region->mode;
}

_export_ unsigned shmd_region_get_seals(const struct shmd_region *region)
{
	return region->seals;
}

_export_ unsigned shmd_region_get_foreign_seals(const struct shmd_region *region)
{
	return region->foreign_seals;
}

_export_ bool shmd_region_is_nospill(const struct shmd_region *region)
{
	return region && region->nospill;
}

_export_ bool shmd_region_is_fixed(const struct shmd_region *region)
{
	return region->fixed;
}

_export_ const char *shmd_region_get_state(const struct shmd_region *region)
{
	return region->state;
}

_export_ uint64_t shmd_region_get_created_usec(const struct shmd_region *region)
{
	return region->created_usec;
}

_export_ uint64_t shmd_region_get_changed_usec(const struct shmd_region *region)
{
	return region->changed_usec;
}

_export_ uid_t shmd_region_get_creator_uid(const struct shmd_region *region)
{
	return region->creator_uid;
}

_export_ gid_t shmd_region_get_creator_gid(const struct shmd_region *region)
{
	return region->creator_gid;
}

_export_ pid_t shmd_region_get_creator_pid(const struct shmd_region *region)
{
	return region->creator_pid;
}

_export_ const char *shmd_region_get_creator_unit(const struct shmd_region *region)
{
	return region->creator_unit;
}

/* ------------------------------------------------------------------ ranges and footprint */

_export_ size_t shmd_region_get_n_ranges(const struct shmd_region *region)
{
	return region && region->ranges ? json_object_array_length(region->ranges) : 0;
}

_export_ int shmd_region_get_range(const struct shmd_region *region, size_t i, uint64_t *ret_offset,
				   uint64_t *ret_length, const char **ret_label)
{
	if (i >= shmd_region_get_n_ranges(region))
		return -ERANGE;
	return range_from_json(json_object_array_get_idx(region->ranges, i), ret_offset, ret_length,
			       ret_label);
}

_export_ int64_t shmd_region_get_footprint(const struct shmd_region *region,
					   enum shmd_footprint_field field)
{
	return region ? footprint_field(region->footprint, field) : -EINVAL;
}

_export_ int64_t shmd_region_get_holder_count(const struct shmd_region *region)
{
	return region ? region->holders : -1;
}

_export_ uint64_t shmd_region_get_last_open_usec(const struct shmd_region *region)
{
	return region ? region->last_open_usec : 0;
}

_export_ uint64_t shmd_region_get_last_close_usec(const struct shmd_region *region)
{
	return region ? region->last_close_usec : 0;
}

_export_ uint64_t shmd_region_get_last_spill_usec(const struct shmd_region *region)
{
	return region ? region->last_spill_usec : 0;
}

_export_ uint64_t shmd_region_get_last_restore_usec(const struct shmd_region *region)
{
	return region ? region->last_restore_usec : 0;
}

_export_ bool shmd_region_is_deleted(const struct shmd_region *region)
{
	return region && region->deleted;
}

_export_ bool shmd_region_is_anonymous(const struct shmd_region *region)
{
	return region && region->anonymous;
}
