/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct shmd_quotas: usage and limits per user, group and unit (Quotas), and Reload. */

#include <string.h>

#include "libshmd-private.h"

struct shmd_quotas {
	json_object *entries; /* the reply's array, validated */
};

_export_ struct shmd_quotas *shmd_quotas_unref(struct shmd_quotas *quotas)
{
	if (!quotas)
		return NULL;
	json_object_put(quotas->entries);
	free(quotas);
	return NULL;
}

static int scope_from_string(const char *s)
{
	static const char *const names[] = { "global", "user", "group", "unit" };
	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static bool entry_valid(json_object *e)
{
	uint64_t v;
	int scope = scope_from_string(json_get_str(e, "scope"));

	if (scope < 0 || json_get_u64(e, "bytes", &v) < 0 || json_get_u64(e, "regions", &v) < 0)
		return false;
	if (scope == SHMD_QUOTA_UNIT)
		return json_get_str(e, "unit") != NULL;
	return scope == SHMD_QUOTA_GLOBAL || json_get_u64(e, "id", &v) == 0;
}

static int do_quotas(struct shmd_ctx *ctx, struct shmd_quotas **ret)
{
	_cleanup_json_ json_object *reply = NULL;
	json_object *a;

	if (!ret)
		return ctx_fail(ctx, -EINVAL, "no place for the quotas");
	int r = call_method(ctx, "io.shmd.Manager.Quotas", NULL, &reply, NULL, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(vl_message_parameters(reply), "quotas", &a) ||
	    !json_object_is_type(a, json_type_array))
		return ctx_fail(ctx, -EPROTO, "malformed Quotas reply");
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!entry_valid(json_object_array_get_idx(a, i)))
			return ctx_fail(ctx, -EPROTO, "malformed Quotas entry %zu", i);
	struct shmd_quotas *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->entries = json_object_get(a);
	*ret = q;
	return 0;
}

_export_ int shmd_quotas(struct shmd_ctx *ctx, struct shmd_quotas **ret)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_quotas(ctx, ret));
}

_export_ size_t shmd_quotas_get_count(const struct shmd_quotas *quotas)
{
	return json_object_array_length(quotas->entries);
}

static json_object *entry(const struct shmd_quotas *quotas, size_t i)
{
	return json_object_array_get_idx(quotas->entries, i);
}

static uint64_t u64_or(json_object *e, const char *key, uint64_t fallback)
{
	uint64_t v;
	return e && json_get_u64(e, key, &v) == 0 ? v : fallback;
}

_export_ int shmd_quotas_get_scope(const struct shmd_quotas *quotas, size_t i)
{
	json_object *e = entry(quotas, i);
	return e ? scope_from_string(json_get_str(e, "scope")) : -EINVAL;
}

_export_ uint32_t shmd_quotas_get_id(const struct shmd_quotas *quotas, size_t i)
{
	return (uint32_t)u64_or(entry(quotas, i), "id", 0);
}

_export_ const char *shmd_quotas_get_unit(const struct shmd_quotas *quotas, size_t i)
{
	json_object *e = entry(quotas, i);
	return e ? json_get_str(e, "unit") : NULL;
}

_export_ uint64_t shmd_quotas_get_bytes(const struct shmd_quotas *quotas, size_t i)
{
	return u64_or(entry(quotas, i), "bytes", 0);
}

_export_ uint64_t shmd_quotas_get_regions(const struct shmd_quotas *quotas, size_t i)
{
	return u64_or(entry(quotas, i), "regions", 0);
}

_export_ uint64_t shmd_quotas_get_memory_max(const struct shmd_quotas *quotas, size_t i)
{
	return u64_or(entry(quotas, i), "memoryMax", SHMD_QUOTA_UNLIMITED);
}

_export_ uint64_t shmd_quotas_get_regions_max(const struct shmd_quotas *quotas, size_t i)
{
	return u64_or(entry(quotas, i), "regionsMax", SHMD_QUOTA_UNLIMITED);
}

static int do_reload(struct shmd_ctx *ctx)
{
	_cleanup_json_ json_object *reply = NULL;
	return call_method(ctx, "io.shmd.Manager.Reload", NULL, &reply, NULL, NULL);
}

_export_ int shmd_reload(struct shmd_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	ctx_clear_error(ctx);
	return ctx_finish(ctx, do_reload(ctx));
}
