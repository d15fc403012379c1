/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct shmd_status: the daemon's totals, limits and features from the Status method. */

#include <string.h>

#include "libshmd-private.h"

struct shmd_status {
	char *version;
	uint64_t regions;
	uint64_t total_size;
	uint64_t connections;
	uint64_t started_usec;
	uint64_t pid;		/* 0: the daemon did not say */
	json_object *limits;	/* kept as sent: new limits need no new struct field */
	json_object *features;	/* likewise */
	json_object *footprint; /* when asked for, else NULL */
	json_object *params;	/* the whole reply, for shmd_status_get_counter() */
	json_object *spill;	/* a daemon without spilling: NULL */
};

_export_ struct shmd_status *shmd_status_unref(struct shmd_status *status)
{
	if (!status)
		return NULL;
	free(status->version);
	json_object_put(status->limits);
	json_object_put(status->features);
	json_object_put(status->footprint);
	json_object_put(status->params);
	json_object_put(status->spill);
	free(status);
	return NULL;
}

static json_object *get_object(json_object *params, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return json_object_get(v);
}

static int status_from_json(json_object *params, struct shmd_status **ret)
{
	struct shmd_status *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

	const char *version = json_get_str(params, "version");
	int r = -EPROTO;
	if (version && json_get_u64(params, "regions", &s->regions) == 0 &&
	    json_get_u64(params, "totalSize", &s->total_size) == 0 &&
	    json_get_u64(params, "connections", &s->connections) == 0 &&
	    json_get_u64(params, "startedUSec", &s->started_usec) == 0 &&
	    (s->limits = get_object(params, "limits")) &&
	    (s->features = get_object(params, "features")) &&
	    (json_get_u64(params, "pid", &s->pid) == 0 ||
	     !json_object_object_get_ex(params, "pid", NULL)))
		r = (s->version = strdup(version)) ? 0 : -ENOMEM;
	s->footprint = get_object(params, "footprint");
	if (r == 0)
		s->params = json_object_get(params);
	s->spill = get_object(params, "spill");
	if (r < 0) {
		shmd_status_unref(s);
		return r;
	}
	*ret = s;
	return 0;
}

static int do_status(struct shmd_ctx *ctx, bool footprint, struct shmd_status **ret)
{
	_cleanup_json_ json_object *reply = NULL;

	if (!ret)
		return ctx_fail(ctx, -EINVAL, "no place for the status");
	json_object *p = footprint ? json_object_new_object() : NULL;
	if (p)
		json_object_object_add(p, "footprint", json_object_new_boolean(true));
	int r = call_method(ctx, "io.shmd.Manager.Status", p, &reply, NULL, NULL);
	if (r < 0)
		return r;
	r = status_from_json(vl_message_parameters(reply), ret);
	if (r == -EPROTO)
		return ctx_fail(ctx, r, "malformed Status reply");
	return r;
}

_export_ int shmd_status(struct shmd_ctx *ctx, struct shmd_status **ret)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_status(ctx, false, ret));
}

_export_ const char *shmd_status_get_version(const struct shmd_status *status)
{
	return status->version;
}

_export_ uint64_t shmd_status_get_regions(const struct shmd_status *status)
{
	return status->regions;
}

_export_ uint64_t shmd_status_get_total_size(const struct shmd_status *status)
{
	return status->total_size;
}

_export_ uint64_t shmd_status_get_connections(const struct shmd_status *status)
{
	return status->connections;
}

_export_ uint64_t shmd_status_get_started_usec(const struct shmd_status *status)
{
	return status->started_usec;
}

_export_ bool shmd_status_get_limit(const struct shmd_status *status, const char *name,
				    uint64_t *ret)
{
	uint64_t v = 0;
	bool found = name && json_get_u64(status->limits, name, &v) == 0;
	if (ret)
		*ret = found ? v : 0;
	return found;
}

_export_ bool shmd_status_has_feature(const struct shmd_status *status, const char *name)
{
	bool v = false;
	return name && json_get_bool(status->features, name, &v) == 0 && v;
}

_export_ pid_t shmd_status_get_pid(const struct shmd_status *status)
{
	return status ? (pid_t)status->pid : 0;
}

_export_ int shmd_status_footprint(struct shmd_ctx *ctx, struct shmd_status **ret)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_status(ctx, true, ret));
}

_export_ int64_t shmd_status_get_footprint(const struct shmd_status *status,
					   enum shmd_footprint_field field)
{
	return status ? footprint_field(status->footprint, field) : -EINVAL;
}

_export_ bool shmd_status_get_counter(const struct shmd_status *status, const char *name,
				      uint64_t *ret)
{
	uint64_t v = 0;
	bool found = status && name && json_get_u64(status->params, name, &v) == 0;
	if (ret)
		*ret = found ? v : 0;
	return found;
}

_export_ bool shmd_status_get_spill(const struct shmd_status *status, const char *name,
				    uint64_t *ret)
{
	uint64_t v = 0;
	bool b = false;
	bool found = status && name && json_get_u64(status->spill, name, &v) == 0;
	if (!found && status && name && json_get_bool(status->spill, name, &b) == 0)
		found = true, v = b;
	if (ret)
		*ret = found ? v : 0;
	return found;
}

_export_ const char *shmd_status_get_spill_string(const struct shmd_status *status,
						  const char *name)
{
	return status && name ? json_get_str(status->spill, name) : NULL;
}
