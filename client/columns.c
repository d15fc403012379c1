/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The region columns: one entry per column with its header, help, JSON keys and getters. */

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "columns.h"
#include "macro.h"
#include "name.h"
#include "seals.h"
#include "shmctl.h"
#include "size.h"

#define R(row) ((const struct shmd_region *)(row))

static char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strdup_printf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *time_format_human(uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	char buf[64];

	if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return strdup("-");
	return strdup(buf);
}

char *time_format_iso(uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	char buf[64];

	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return NULL;
	return strdup_printf("%s.%06lluZ", buf, (unsigned long long)(usec % 1000000));
}

static int add_int(json_object *obj, const char *key, int64_t v)
{
	json_object *j = json_object_new_int64(v);
	if (!j)
		return -ENOMEM;
	json_object_object_add(obj, key, j);
	return 0;
}

static int add_string(json_object *obj, const char *key, const char *v)
{
	json_object *j = NULL;
	if (v) {
		j = json_object_new_string(v);
		if (!j)
			return -ENOMEM;
	}
	json_object_object_add(obj, key, j); /* NULL adds JSON null */
	return 0;
}

static int add_time(json_object *obj, const char *key, const char *usec_key, uint64_t usec)
{
	_cleanup_free_ char *iso = time_format_iso(usec);
	if (!iso || add_string(obj, key, iso) < 0)
		return -ENOMEM;
	return add_int(obj, usec_key, (int64_t)usec);
}

/* ----------------------------------------------------------------- getters */

static char *name_text(const void *row, const struct table_format *fmt)
{
	/* --raw escapes every cell itself; escaping here too would double the backslashes. */
	return fmt->raw ? strdup(shmd_region_get_name(R(row))) :
			  name_escape(shmd_region_get_name(R(row)));
}
static int name_json(const void *row, json_object *obj)
{
	return json_add_name(obj, "name", shmd_region_get_name(R(row)));
}

static char *size_text(const void *row, const struct table_format *fmt)
{
	char buf[SIZE_FORMAT_MAX];
	uint64_t size = shmd_region_get_size(R(row));

	if (fmt->bytes)
		return strdup_printf("%llu", (unsigned long long)size);
	return strdup(size_format(size, buf, sizeof(buf)));
}
static int size_json(const void *row, json_object *obj)
{
	return add_int(obj, "size", (int64_t)shmd_region_get_size(R(row)));
}

/*
 * uid/gid -> name, remembered: getpwuid()/getgrgid() open and scan /etc/passwd
 * or /etc/group (or ask NSS) on every call, five syscalls a row, while a listing
 * has only a few distinct owners. NULL means "no such id" (remembered too).
 */
struct id_name {
	unsigned id;
	char *name;
};

#define ID_CACHE_SIZE 64

struct id_cache {
	struct id_name entries[ID_CACHE_SIZE];
	size_t n;
	size_t next; /* the entry to replace when full */
};

static struct id_cache user_cache, group_cache;

static const char *id_cache_lookup(struct id_cache *c, unsigned id, bool is_group)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].id == id)
			return c->entries[i].name;

	const char *found;
	if (is_group) {
		struct group *gr = getgrgid((gid_t)id);
		found = gr ? gr->gr_name : NULL;
	} else {
		struct passwd *pw = getpwuid((uid_t)id);
		found = pw ? pw->pw_name : NULL;
	}
	char *name = found ? strdup(found) : NULL;
	if (found && !name)
		return found; /* out of memory: use it once, uncached */

	struct id_name *e;
	if (c->n < ID_CACHE_SIZE) {
		e = &c->entries[c->n++];
	} else {
		e = &c->entries[c->next];
		c->next = (c->next + 1) % ID_CACHE_SIZE;
		free(e->name);
	}
	e->id = id;
	e->name = name;
	return name;
}

static const char *user_lookup(uid_t uid)
{
	return id_cache_lookup(&user_cache, (unsigned)uid, false);
}

static const char *group_lookup(gid_t gid)
{
	return id_cache_lookup(&group_cache, (unsigned)gid, true);
}

static char *user_name(uid_t uid)
{
	const char *name = user_lookup(uid);
	return name ? strdup(name) : strdup_printf("%u", (unsigned)uid);
}
static char *group_name(gid_t gid)
{
	const char *name = group_lookup(gid);
	return name ? strdup(name) : strdup_printf("%u", (unsigned)gid);
}

static char *owner_text(const void *row, const struct table_format *fmt)
{
	return user_name(shmd_region_get_uid(R(row)));
}
static int owner_json(const void *row, json_object *obj)
{
	if (add_string(obj, "owner", user_lookup(shmd_region_get_uid(R(row)))) < 0)
		return -ENOMEM;
	return add_int(obj, "uid", shmd_region_get_uid(R(row)));
}

static char *group_text(const void *row, const struct table_format *fmt)
{
	return group_name(shmd_region_get_gid(R(row)));
}
static int group_json(const void *row, json_object *obj)
{
	if (add_string(obj, "group", group_lookup(shmd_region_get_gid(R(row)))) < 0)
		return -ENOMEM;
	return add_int(obj, "gid", shmd_region_get_gid(R(row)));
}

static char *perms_string(mode_t mode)
{
	static const char rwx[] = "rw-rw-rw-"; /* execute is never set on a region */
	char buf[10];

	for (int i = 0; i < 9; i++)
		buf[i] = (mode & (0400 >> i)) ? rwx[i] : '-';
	buf[9] = '\0';
	return strdup(buf);
}
static char *perms_text(const void *row, const struct table_format *fmt)
{
	return perms_string(shmd_region_get_mode(R(row)));
}
static int perms_json(const void *row, json_object *obj)
{
	_cleanup_free_ char *p = perms_string(shmd_region_get_mode(R(row)));
	return p ? add_string(obj, "perms", p) : -ENOMEM;
}

static char *mode_text(const void *row, const struct table_format *fmt)
{
	return strdup_printf("%04o", (unsigned)shmd_region_get_mode(R(row)));
}
static int mode_json(const void *row, json_object *obj)
{
	return add_int(obj, "mode", shmd_region_get_mode(R(row)));
}

static char *seals_text(const void *row, const struct table_format *fmt)
{
	char buf[128];
	return strdup(seals_format(shmd_region_get_seals(R(row)), buf, sizeof(buf)));
}
static int seals_json(const void *row, json_object *obj)
{
	json_object *a = seals_to_json(shmd_region_get_seals(R(row)));
	if (!a)
		return -ENOMEM;
	json_object_object_add(obj, "seals", a);
	return 0;
}

static char *fseals_text(const void *row, const struct table_format *fmt)
{
	char buf[128];
	return strdup(seals_format(shmd_region_get_foreign_seals(R(row)), buf, sizeof(buf)));
}
static int fseals_json(const void *row, json_object *obj)
{
	json_object *a = seals_to_json(shmd_region_get_foreign_seals(R(row)));
	if (!a)
		return -ENOMEM;
	json_object_object_add(obj, "foreignSeals", a);
	return 0;
}

static char *fixed_text(const void *row, const struct table_format *fmt)
{
	return strdup(shmd_region_is_fixed(R(row)) ? "yes" : "no");
}
static int fixed_json(const void *row, json_object *obj)
{
	json_object *b = json_object_new_boolean(shmd_region_is_fixed(R(row)));
	if (!b)
		return -ENOMEM;
	json_object_object_add(obj, "fixed", b);
	return 0;
}

static char *nospill_text(const void *row, const struct table_format *fmt)
{
	return strdup(shmd_region_is_nospill(R(row)) ? "yes" : "no");
}
static int nospill_json(const void *row, json_object *obj)
{
	json_object *b = json_object_new_boolean(shmd_region_is_nospill(R(row)));
	if (!b)
		return -ENOMEM;
	json_object_object_add(obj, "nospill", b);
	return 0;
}

static char *state_text(const void *row, const struct table_format *fmt)
{
	const char *state = shmd_region_get_state(R(row));
	return strdup(state ? state : "-");
}
static int state_json(const void *row, json_object *obj)
{
	return add_string(obj, "state", shmd_region_get_state(R(row)));
}

static char *id_text(const void *row, const struct table_format *fmt)
{
	return strdup_printf("%llu", (unsigned long long)shmd_region_get_id(R(row)));
}
static int id_json(const void *row, json_object *obj)
{
	return add_int(obj, "id", (int64_t)shmd_region_get_id(R(row)));
}

static char *created_text(const void *row, const struct table_format *fmt)
{
	return time_format_human(shmd_region_get_created_usec(R(row)));
}
static int created_json(const void *row, json_object *obj)
{
	return add_time(obj, "created", "createdUSec", shmd_region_get_created_usec(R(row)));
}

static char *changed_text(const void *row, const struct table_format *fmt)
{
	return time_format_human(shmd_region_get_changed_usec(R(row)));
}
static int changed_json(const void *row, json_object *obj)
{
	return add_time(obj, "changed", "changedUSec", shmd_region_get_changed_usec(R(row)));
}

static char *cpid_text(const void *row, const struct table_format *fmt)
{
	return strdup_printf("%d", (int)shmd_region_get_creator_pid(R(row)));
}
static int cpid_json(const void *row, json_object *obj)
{
	return add_int(obj, "creatorPid", shmd_region_get_creator_pid(R(row)));
}

static char *cuid_text(const void *row, const struct table_format *fmt)
{
	return strdup_printf("%u", (unsigned)shmd_region_get_creator_uid(R(row)));
}
static int cuid_json(const void *row, json_object *obj)
{
	return add_int(obj, "creatorUid", shmd_region_get_creator_uid(R(row)));
}

static char *unit_text(const void *row, const struct table_format *fmt)
{
	const char *unit = shmd_region_get_creator_unit(R(row));
	return unit ? name_escape(unit) : strdup("-");
}
static int unit_json(const void *row, json_object *obj)
{
	return add_string(obj, "creatorUnit", shmd_region_get_creator_unit(R(row)));
}

/* Footprint figures: "-" (JSON null) when the region carries none (not asked, or refused). */
static char *fp_text(const void *row, const struct table_format *fmt,
		     enum shmd_footprint_field field)
{
	char buf[SIZE_FORMAT_MAX];
	int64_t v = shmd_region_get_footprint(R(row), field);

	if (v < 0)
		return strdup("-");
	if (fmt->bytes)
		return strdup_printf("%lld", (long long)v);
	return strdup(size_format((uint64_t)v, buf, sizeof(buf)));
}
static int fp_json(const void *row, json_object *obj, const char *key,
		   enum shmd_footprint_field field)
{
	int64_t v = shmd_region_get_footprint(R(row), field);
	if (v < 0) {
		json_object_object_add(obj, key, NULL);
		return 0;
	}
	return add_int(obj, key, v);
}
#define FOOTPRINT_COLUMN(fn, key, field)                                                           \
	static char *fn##_text(const void *row, const struct table_format *fmt)                    \
	{                                                                                          \
		return fp_text(row, fmt, field);                                                   \
	}                                                                                          \
	static int fn##_json(const void *row, json_object *obj)                                    \
	{                                                                                          \
		return fp_json(row, obj, key, field);                                              \
	}
FOOTPRINT_COLUMN(rss, "resident", SHMD_FOOTPRINT_RESIDENT)
FOOTPRINT_COLUMN(swap, "swapped", SHMD_FOOTPRINT_SWAPPED)
FOOTPRINT_COLUMN(alloc, "allocated", SHMD_FOOTPRINT_ALLOCATED)
FOOTPRINT_COLUMN(dirty, "dirty", SHMD_FOOTPRINT_DIRTY)
FOOTPRINT_COLUMN(spilled, "spilled", SHMD_FOOTPRINT_SPILLED)

static char *nranges_text(const void *row, const struct table_format *fmt)
{
	return strdup_printf("%zu", shmd_region_get_n_ranges(R(row)));
}
static int nranges_json(const void *row, json_object *obj)
{
	return add_int(obj, "nRanges", (int64_t)shmd_region_get_n_ranges(R(row)));
}

static char *holders_text(const void *row, const struct table_format *fmt)
{
	int64_t n = shmd_region_get_holder_count(R(row));
	/* Not known (not watchable, events lost): the daemon counts it as held. */
	return n < 0 ? strdup("?") : strdup_printf("%lld", (long long)n);
}
static int holders_json(const void *row, json_object *obj)
{
	int64_t n = shmd_region_get_holder_count(R(row));
	if (n < 0) {
		json_object_object_add(obj, "holders", NULL);
		return 0;
	}
	return add_int(obj, "holders", n);
}

static char *usec_text(uint64_t usec)
{
	return usec ? time_format_human(usec) : strdup("-");
}
static int usec_json(json_object *obj, const char *key, const char *usec_key, uint64_t usec)
{
	if (usec)
		return add_time(obj, key, usec_key, usec);
	json_object_object_add(obj, key, NULL);
	return 0;
}

#define TIME_COLUMN(fn, key, usec_key, getter)                                                     \
	static char *fn##_text(const void *row, const struct table_format *fmt)                    \
	{                                                                                          \
		return usec_text(getter(R(row)));                                                  \
	}                                                                                          \
	static int fn##_json(const void *row, json_object *obj)                                    \
	{                                                                                          \
		return usec_json(obj, key, usec_key, getter(R(row)));                              \
	}
TIME_COLUMN(lastopen, "lastOpen", "lastOpenUSec", shmd_region_get_last_open_usec)
TIME_COLUMN(lastclose, "lastClose", "lastCloseUSec", shmd_region_get_last_close_usec)
TIME_COLUMN(lastspill, "lastSpill", "lastSpillUSec", shmd_region_get_last_spill_usec)
TIME_COLUMN(lastrestore, "lastRestore", "lastRestoreUSec", shmd_region_get_last_restore_usec)

static char *deleted_text(const void *row, const struct table_format *fmt)
{
	return strdup(shmd_region_is_deleted(R(row)) ? "yes" : "no");
}
static int deleted_json(const void *row, json_object *obj)
{
	json_object_object_add(obj, "deleted",
			       json_object_new_boolean(shmd_region_is_deleted(R(row))));
	return 0;
}

/* ----------------------------------------------------------------- the table */

const struct table_column region_columns[] = {
	{ "NAME", "Name", "region name", "name: string (nameBase64 if not UTF-8)", 4, TABLE_TRUNC,
	  name_text, name_json },
	{ "SIZE", "Size", "size (human, or bytes with --bytes)", "size: number (bytes)", 5,
	  TABLE_RIGHT, size_text, size_json },
	{ "OWNER", "Owner", "owner's user name", "owner: string|null, uid: number", 5, 0,
	  owner_text, owner_json },
	{ "GROUP", "Group", "group name", "group: string|null, gid: number", 5, 0, group_text,
	  group_json },
	{ "PERMS", "Permissions", "permissions as rw-r-----", "perms: string", 9, 0, perms_text,
	  perms_json },
	{ "MODE", "Mode", "permissions in octal", "mode: number", 4, TABLE_RIGHT, mode_text,
	  mode_json },
	{ "SEALS", "Seals", "seals in force", "seals: array of strings", 5, 0, seals_text,
	  seals_json },
	{ "FSEALS", "Foreign seals", "seals added by a holder, not through shmd",
	  "foreignSeals: array of strings", 6, 0, fseals_text, fseals_json },
	{ "FIXED", "Fixed", "created fixed-size", "fixed: boolean", 5, 0, fixed_text, fixed_json },
	{ "NOSPILL", "No spill", "created nospill: never spilled", "nospill: boolean", 7, 0,
	  nospill_text, nospill_json },
	{ "STATE", "State", "where the memory is: resident, spilled or damaged", "state: string", 5,
	  0, state_text, state_json },
	{ "ID", "ID", "stable region id", "id: number", 2, TABLE_RIGHT, id_text, id_json },
	{ "CREATED", "Created", "creation time", "created: string (ISO 8601), createdUSec: number",
	  19, 0, created_text, created_json },
	{ "CHANGED", "Changed", "last change of size, name, seals or access",
	  "changed: string (ISO 8601), changedUSec: number", 19, 0, changed_text, changed_json },
	{ "CPID", "Creator PID", "creator's process id", "creatorPid: number", 4, TABLE_RIGHT,
	  cpid_text, cpid_json },
	{ "CUID", "Creator UID", "creator's user id", "creatorUid: number", 4, TABLE_RIGHT,
	  cuid_text, cuid_json },
	{ "UNIT", "Creator unit", "creator's systemd unit", "creatorUnit: string|null", 4,
	  TABLE_TRUNC, unit_text, unit_json },
	/* Footprint columns: the daemon measures them only when one is selected. */
	{ "RSS", "Resident", "bytes in memory (cachestat)", "resident: number|null", 4, TABLE_RIGHT,
	  rss_text, rss_json },
	{ "SWAP", "Swapped", "bytes in swap", "swapped: number|null", 4, TABLE_RIGHT, swap_text,
	  swap_json },
	{ "ALLOC", "Allocated", "bytes holding data (resident + swapped)", "allocated: number|null",
	  5, TABLE_RIGHT, alloc_text, alloc_json },
	{ "DIRTY", "Dirty", "dirty bytes (0 for shmem in practice)", "dirty: number|null", 5,
	  TABLE_RIGHT, dirty_text, dirty_json },
	{ "SPILLED", "Spilled", "bytes in the spill file", "spilled: number|null", 7, TABLE_RIGHT,
	  spilled_text, spilled_json },
	{ "RANGES", "Named ranges", "number of named ranges", "nRanges: number", 6, TABLE_RIGHT,
	  nranges_text, nranges_json },
	{ "HOLDERS", "Holders",
	  "open file descriptions held outside the daemon (fds, mappings); ? if not known",
	  "holders: number|null", 7, TABLE_RIGHT, holders_text, holders_json },
	{ "LASTOPEN", "Last open", "when a holder last opened it",
	  "lastOpen: string|null (ISO 8601), lastOpenUSec: number", 19, 0, lastopen_text,
	  lastopen_json },
	{ "LASTCLOSE", "Last close", "when a holder last let go of it",
	  "lastClose: string|null (ISO 8601), lastCloseUSec: number", 19, 0, lastclose_text,
	  lastclose_json },
	{ "LASTSPILL", "Last spill", "when it was last spilled",
	  "lastSpill: string|null (ISO 8601), lastSpillUSec: number", 19, 0, lastspill_text,
	  lastspill_json },
	{ "LASTRESTORE", "Last restore", "when it was last restored from the spill file",
	  "lastRestore: string|null (ISO 8601), lastRestoreUSec: number", 19, 0, lastrestore_text,
	  lastrestore_json },
	{ "DELETED", "Deleted", "deleted while held (ls --deleted)", "deleted: boolean", 7, 0,
	  deleted_text, deleted_json },
};
const size_t n_region_columns = ELEMENTSOF(region_columns);

int region_columns_select(const char *defaults, const char *output,
			  const struct table_column ***ret, size_t *ret_n)
{
	_cleanup_free_ char *bad = NULL;
	int r = table_select(region_columns, n_region_columns, defaults, output, ret, ret_n, &bad);

	if (r == -EINVAL)
		return shmctl_usage_error("unknown column '%s'", bad);
	if (r == -E2BIG)
		return shmctl_usage_error("too many columns in '%s'", output);
	if (r < 0)
		return shmctl_fail_errno(r, "cannot select columns");
	return 0;
}

bool region_columns_need_footprint(const struct table_column *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cols[i]->text == rss_text || cols[i]->text == swap_text ||
		    cols[i]->text == alloc_text || cols[i]->text == dirty_text)
			return true;
	return false;
}
