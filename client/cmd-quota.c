/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The quota command: usage and limits per user, group and unit, as lsipc -g shows its limits. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "output.h"
#include "shmctl.h"
#include "size.h"
#include "table.h"

struct quota_row {
	const struct shmd_quotas *q;
	size_t i;
};

#define Q(row) ((const struct quota_row *)(row))
#define UNLIMITED SHMD_QUOTA_UNLIMITED

static const char *const scope_names[] = { "global", "user", "group", "unit" };

static const char *scope_of(const void *row)
{
	int s = shmd_quotas_get_scope(Q(row)->q, Q(row)->i);
	return s >= 0 && s < 4 ? scope_names[s] : "?";
}

/* The subject as a person names it: a user or group name (else the id), a unit, "-". */
static char *subject_of(const void *row)
{
	const struct shmd_quotas *q = Q(row)->q;
	size_t i = Q(row)->i;
	uint32_t id = shmd_quotas_get_id(q, i);
	char *s = NULL;

	switch (shmd_quotas_get_scope(q, i)) {
	case SHMD_QUOTA_USER: {
		struct passwd *pw = getpwuid(id);
		return pw ? strdup(pw->pw_name) : asprintf(&s, "%u", id) < 0 ? NULL : s;
	}
	case SHMD_QUOTA_GROUP: {
		struct group *gr = getgrgid(id);
		return gr ? strdup(gr->gr_name) : asprintf(&s, "%u", id) < 0 ? NULL : s;
	}
	case SHMD_QUOTA_UNIT:
		return strdup(shmd_quotas_get_unit(q, i) ?: "?");
	default:
		return strdup("-");
	}
}

static char *size_cell(uint64_t v, const struct table_format *fmt)
{
	char buf[SIZE_FORMAT_MAX], *s = NULL;

	if (v == UNLIMITED)
		return strdup("-");
	if (fmt->bytes)
		return asprintf(&s, "%llu", (unsigned long long)v) < 0 ? NULL : s;
	return strdup(size_format(v, buf, sizeof(buf)));
}

static char *count_cell(uint64_t v)
{
	char *s = NULL;
	if (v == UNLIMITED)
		return strdup("-");
	return asprintf(&s, "%llu", (unsigned long long)v) < 0 ? NULL : s;
}

/* USE%: whole percent, as lsipc -g prints it; "-" without a limit. */
static char *percent_cell(uint64_t used, uint64_t limit)
{
	char *s = NULL;
	if (limit == UNLIMITED)
		return strdup("-");
	if (limit == 0)
		return strdup(used ? "100%" : "0%");
	return asprintf(&s, "%.0f%%", (double)used * 100.0 / (double)limit) < 0 ? NULL : s;
}

static int add_u64_or_null(json_object *obj, const char *key, uint64_t v)
{
	json_object *j = NULL;
	if (v != UNLIMITED && !(j = json_object_new_int64((int64_t)MIN(v, (uint64_t)INT64_MAX))))
		return -ENOMEM;
	json_object_object_add(obj, key, j);
	return 0;
}

static int add_percent(json_object *obj, const char *key, uint64_t used, uint64_t limit)
{
	json_object *j = NULL;
	if (limit != UNLIMITED &&
	    !(j = json_object_new_double(limit ? (double)used * 100.0 / (double)limit : 100.0)))
		return -ENOMEM;
	json_object_object_add(obj, key, j);
	return 0;
}

#define BYTES(row) shmd_quotas_get_bytes(Q(row)->q, Q(row)->i)
#define MEMMAX(row) shmd_quotas_get_memory_max(Q(row)->q, Q(row)->i)
#define REGIONS(row) shmd_quotas_get_regions(Q(row)->q, Q(row)->i)
#define REGMAX(row) shmd_quotas_get_regions_max(Q(row)->q, Q(row)->i)

static char *scope_text(const void *row, const struct table_format *fmt)
{
	return strdup(scope_of(row));
}
static int scope_json(const void *row, json_object *obj)
{
	json_object_object_add(obj, "scope", json_object_new_string(scope_of(row)));
	return 0;
}

static char *subject_text(const void *row, const struct table_format *fmt)
{
	return subject_of(row);
}
static int subject_json(const void *row, json_object *obj)
{
	_cleanup_free_ char *s = subject_of(row);
	int scope = shmd_quotas_get_scope(Q(row)->q, Q(row)->i);

	if (!s)
		return -ENOMEM;
	json_object_object_add(obj, "subject", json_object_new_string(s));
	if (scope == SHMD_QUOTA_USER || scope == SHMD_QUOTA_GROUP)
		json_object_object_add(
			obj, "id", json_object_new_int64(shmd_quotas_get_id(Q(row)->q, Q(row)->i)));
	return 0;
}

static char *used_text(const void *row, const struct table_format *fmt)
{
	return size_cell(BYTES(row), fmt);
}
static int used_json(const void *row, json_object *obj)
{
	return add_u64_or_null(obj, "bytes", BYTES(row));
}
static char *limit_text(const void *row, const struct table_format *fmt)
{
	return size_cell(MEMMAX(row), fmt);
}
static int limit_json(const void *row, json_object *obj)
{
	return add_u64_or_null(obj, "memoryMax", MEMMAX(row));
}
static char *use_text(const void *row, const struct table_format *fmt)
{
	return percent_cell(BYTES(row), MEMMAX(row));
}
static int use_json(const void *row, json_object *obj)
{
	return add_percent(obj, "usePercent", BYTES(row), MEMMAX(row));
}
static char *regions_text(const void *row, const struct table_format *fmt)
{
	return count_cell(REGIONS(row));
}
static int regions_json(const void *row, json_object *obj)
{
	return add_u64_or_null(obj, "regions", REGIONS(row));
}
static char *regmax_text(const void *row, const struct table_format *fmt)
{
	return count_cell(REGMAX(row));
}
static int regmax_json(const void *row, json_object *obj)
{
	return add_u64_or_null(obj, "regionsMax", REGMAX(row));
}
static char *reguse_text(const void *row, const struct table_format *fmt)
{
	return percent_cell(REGIONS(row), REGMAX(row));
}
static int reguse_json(const void *row, json_object *obj)
{
	return add_percent(obj, "regionsUsePercent", REGIONS(row), REGMAX(row));
}

static const struct table_column quota_columns[] = {
	{ "TYPE", "Type", "global, user, group or unit", "scope: string", 4, 0, scope_text,
	  scope_json },
	{ "SUBJECT", "Subject", "user or group name (else id), unit name",
	  "subject: string, id: number (user, group)", 7, 0, subject_text, subject_json },
	{ "USED", "Used", "bytes charged (sizes of the regions)", "bytes: number", 4, TABLE_RIGHT,
	  used_text, used_json },
	{ "LIMIT", "Limit", "MemoryMax= in force, - for none", "memoryMax: number|null", 5,
	  TABLE_RIGHT, limit_text, limit_json },
	{ "USE%", "Use%", "USED of LIMIT", "usePercent: number|null", 4, TABLE_RIGHT, use_text,
	  use_json },
	{ "REGIONS", "Regions", "regions charged", "regions: number", 7, TABLE_RIGHT, regions_text,
	  regions_json },
	{ "RLIMIT", "Region limit", "RegionsMax= in force, - for none", "regionsMax: number|null",
	  6, TABLE_RIGHT, regmax_text, regmax_json },
	{ "RUSE%", "Regions use%", "REGIONS of RLIMIT", "regionsUsePercent: number|null", 5,
	  TABLE_RIGHT, reguse_text, reguse_json },
};

#define QUOTA_COLUMNS_DEFAULT "TYPE,SUBJECT,USED,LIMIT,USE%,REGIONS,RLIMIT,RUSE%"

static void tablep(struct table **t)
{
	table_free(*t);
}

static void quotasp(struct shmd_quotas **q)
{
	shmd_quotas_unref(*q);
}

static int select_columns(const struct shmctl *s, const struct table_column ***cols, size_t *n)
{
	_cleanup_free_ char *bad = NULL;
	int r = table_select(quota_columns, ELEMENTSOF(quota_columns), QUOTA_COLUMNS_DEFAULT,
			     s->output, cols, n, &bad);

	if (r == -EINVAL)
		return shmctl_usage_error("unknown column '%s'", bad);
	if (r < 0)
		return shmctl_fail_errno(r, "cannot select columns");
	return 0;
}

int cmd_quota(struct shmctl *s, int argc, char *argv[])
{
	_cleanup_free_ const struct table_column **cols = NULL;
	_cleanup_(tablep) struct table *t = NULL;
	_cleanup_(quotasp) struct shmd_quotas *q = NULL;
	struct table_format fmt;
	size_t n_cols = 0;
	int r;

	r = parse_global_only(s, argc, argv);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	if ((r = expect_args(s, argc - optind, 0)) || (r = select_columns(s, &cols, &n_cols)))
		return r;
	fmt = shmctl_table_format(s);
	if (!(t = table_new(cols, n_cols, &fmt)))
		return shmctl_fail_errno(-ENOMEM, "cannot show quotas");
	if ((r = shmctl_connect(s)))
		return r;
	r = shmd_quotas(s->ctx, &q);
	if (r < 0)
		return shmctl_fail(s, r, "get quotas", NULL);
	for (size_t i = 0; i < shmd_quotas_get_count(q); i++) {
		struct quota_row row = { q, i };
		if ((r = table_add(t, &row)) < 0)
			return shmctl_fail_errno(r, "cannot show quotas");
	}
	r = table_print(t, stdout, "quotas");
	return r < 0 ? shmctl_fail_errno(r, "write error") : 0;
}
