/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The who command: the processes holding a region (the daemon's /proc scan). */

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "name.h"
#include "output.h"
#include "shmctl.h"
#include "size.h"

struct holder_row {
	const struct shmd_holders *h;
	size_t i;
};

#define HR(r) ((const struct holder_row *)(r))

static int64_t field(const void *row, enum shmd_holder_field f)
{
	return shmd_holders_get(HR(row)->h, HR(row)->i, f);
}

static char *number(long long v)
{
	char *s = NULL;
	return asprintf(&s, "%lld", v) < 0 ? NULL : s;
}

static char *bytes(const void *row, enum shmd_holder_field f, const struct table_format *fmt)
{
	char buf[SIZE_FORMAT_MAX];
	int64_t v = field(row, f);

	if (v < 0)
		return strdup("-");
	if (fmt->bytes)
		return number(v);
	return strdup(size_format((uint64_t)v, buf, sizeof(buf)));
}

static int add(json_object *obj, const char *key, int64_t v)
{
	json_object_object_add(obj, key, v < 0 ? NULL : json_object_new_int64(v));
	return 0;
}

static char *pid_text(const void *row, const struct table_format *fmt)
{
	return number(field(row, SHMD_HOLDER_PID));
}
static int pid_json(const void *row, json_object *obj)
{
	return add(obj, "pid", field(row, SHMD_HOLDER_PID));
}
static char *user_text(const void *row, const struct table_format *fmt)
{
	int64_t uid = field(row, SHMD_HOLDER_UID);
	struct passwd *pw = uid >= 0 ? getpwuid((uid_t)uid) : NULL;
	return pw ? strdup(pw->pw_name) : number(uid);
}
static int user_json(const void *row, json_object *obj)
{
	int64_t uid = field(row, SHMD_HOLDER_UID);
	struct passwd *pw = uid >= 0 ? getpwuid((uid_t)uid) : NULL;
	json_object_object_add(obj, "user", pw ? json_object_new_string(pw->pw_name) : NULL);
	return add(obj, "uid", uid);
}
static char *command_text(const void *row, const struct table_format *fmt)
{
	const char *c = shmd_holders_get_command(HR(row)->h, HR(row)->i);
	return c ? name_escape(c) : strdup("-");
}
static int command_json(const void *row, json_object *obj)
{
	const char *c = shmd_holders_get_command(HR(row)->h, HR(row)->i);
	json_object_object_add(obj, "command", c ? json_object_new_string(c) : NULL);
	return 0;
}
static char *unit_text(const void *row, const struct table_format *fmt)
{
	const char *u = shmd_holders_get_unit(HR(row)->h, HR(row)->i);
	return u ? name_escape(u) : strdup("-");
}
static int unit_json(const void *row, json_object *obj)
{
	const char *u = shmd_holders_get_unit(HR(row)->h, HR(row)->i);
	json_object_object_add(obj, "unit", u ? json_object_new_string(u) : NULL);
	return 0;
}
static char *fds_text(const void *row, const struct table_format *fmt)
{
	return number(field(row, SHMD_HOLDER_FDS));
}
static int fds_json(const void *row, json_object *obj)
{
	return add(obj, "fds", field(row, SHMD_HOLDER_FDS));
}
static char *access_text(const void *row, const struct table_format *fmt)
{
	return strdup(field(row, SHMD_HOLDER_WRITABLE) == 1 ? "rw" : "ro");
}
static int access_json(const void *row, json_object *obj)
{
	json_object_object_add(obj, "writable",
			       json_object_new_boolean(field(row, SHMD_HOLDER_WRITABLE) == 1));
	return 0;
}
static char *mapped_text(const void *row, const struct table_format *fmt)
{
	return bytes(row, SHMD_HOLDER_MAPPED, fmt);
}
static int mapped_json(const void *row, json_object *obj)
{
	return add(obj, "mappedBytes", field(row, SHMD_HOLDER_MAPPED));
}
static char *rss_text(const void *row, const struct table_format *fmt)
{
	return bytes(row, SHMD_HOLDER_RSS, fmt);
}
static int rss_json(const void *row, json_object *obj)
{
	return add(obj, "rss", field(row, SHMD_HOLDER_RSS));
}
static char *swap_text(const void *row, const struct table_format *fmt)
{
	return bytes(row, SHMD_HOLDER_SWAP, fmt);
}
static int swap_json(const void *row, json_object *obj)
{
	return add(obj, "swap", field(row, SHMD_HOLDER_SWAP));
}

static const struct table_column holder_columns[] = {
	{ "PID", "PID", "process id", "pid: number", 3, TABLE_RIGHT, pid_text, pid_json },
	{ "USER", "User", "its effective user", "user: string|null, uid: number", 4, 0, user_text,
	  user_json },
	{ "COMMAND", "Command", "its command (comm)", "command: string", 7, 0, command_text,
	  command_json },
	{ "UNIT", "Unit", "its systemd unit", "unit: string|null", 4, 0, unit_text, unit_json },
	{ "FDS", "Fds", "fds open on the region", "fds: number", 3, TABLE_RIGHT, fds_text,
	  fds_json },
	{ "ACCESS", "Access", "rw if an fd or a mapping is writable, else ro", "writable: boolean",
	  6, 0, access_text, access_json },
	{ "MAPPED", "Mapped", "bytes mapped", "mappedBytes: number", 6, TABLE_RIGHT, mapped_text,
	  mapped_json },
	{ "RSS", "Resident", "mapped bytes resident (smaps Rss)", "rss: number", 3, TABLE_RIGHT,
	  rss_text, rss_json },
	{ "SWAP", "Swapped", "mapped bytes swapped (smaps Swap)", "swap: number", 4, TABLE_RIGHT,
	  swap_text, swap_json },
};

static void tablep(struct table **t)
{
	table_free(*t);
}

static void holdersp(struct shmd_holders **h)
{
	shmd_holders_unref(*h);
}

/* {"holders": [...], "scanned": N, "unreadable": N, "truncated": B, "scanUSec": N} */
static int print_holders_json(const struct shmd_holders *h, const struct table_column **cols,
			      size_t n)
{
	_cleanup_json_ json_object *obj = json_object_new_object();
	json_object *arr = json_object_new_array();
	static const char *const keys[] = { "scanned", "unreadable", "truncated", "scanUSec",
					    "complete" };

	if (!obj || !arr) {
		json_object_put(arr);
		return shmctl_fail_errno(-ENOMEM, "cannot print");
	}
	json_object_object_add(obj, "holders", arr);
	for (size_t i = 0; i < shmd_holders_count(h); i++) {
		json_object *o = json_object_new_object();
		for (size_t c = 0; o && c < n; c++)
			cols[c]->json(&(struct holder_row){ h, i }, o);
		json_object_array_add(arr, o);
	}
	for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
		int64_t v = shmd_holders_get_scan(h, (enum shmd_holders_scan_field)k);
		json_object_object_add(obj, keys[k],
				       k == SHMD_HOLDERS_TRUNCATED || k == SHMD_HOLDERS_COMPLETE ?
					       json_object_new_boolean(v == 1) :
					       json_object_new_int64(v));
	}
	return json_print(obj, stdout) < 0 ? shmctl_fail_errno(-EIO, "write error") : 0;
}

static int print_holders(struct shmctl *s, const struct shmd_holders *h)
{
	_cleanup_free_ const struct table_column **cols = NULL;
	_cleanup_free_ char *bad = NULL;
	_cleanup_(tablep) struct table *t = NULL;
	struct table_format fmt = shmctl_table_format(s);
	size_t n = 0;
	int r = table_select(holder_columns, ELEMENTSOF(holder_columns),
			     "PID,USER,COMMAND,UNIT,FDS,ACCESS,MAPPED,RSS,SWAP", s->output, &cols,
			     &n, &bad);

	if (r == -EINVAL)
		return shmctl_usage_error("unknown column '%s'", bad);
	if (r < 0)
		return shmctl_fail_errno(-ENOMEM, "cannot print");
	if (s->json)
		return print_holders_json(h, cols, n);
	if (!(t = table_new(cols, n, &fmt)))
		return shmctl_fail_errno(-ENOMEM, "cannot print");
	for (size_t i = 0; i < shmd_holders_count(h); i++)
		if (table_add(t, &(struct holder_row){ h, i }) < 0)
			return shmctl_fail_errno(-ENOMEM, "cannot print");
	r = table_print(t, stdout, "holders");
	return r < 0 ? shmctl_fail_errno(r, "write error") : 0;
}

int cmd_who(struct shmctl *s, int argc, char *argv[])
{
	_cleanup_(holdersp) struct shmd_holders *h = NULL;
	int r = shmctl_begin(s, &argc, &argv, 1);

	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = shmd_holders(s->ctx, argv[0], &h);
	if (r < 0)
		return shmctl_fail(s, r, "list the holders of", argv[0]);
	r = print_holders(s, h);
	if (r)
		return r;
	/* What the scan could not see goes to stderr, so the table stays parseable. */
	int64_t unreadable = shmd_holders_get_scan(h, SHMD_HOLDERS_UNREADABLE);
	if (unreadable > 0 && !s->json)
		fprintf(stderr,
			"shmctl: %lld of %lld processes could not be inspected by shmd "
			"(see shmd(8), PRIVILEGES)\n",
			(long long)unreadable,
			(long long)shmd_holders_get_scan(h, SHMD_HOLDERS_SCANNED));
	if (shmd_holders_get_scan(h, SHMD_HOLDERS_TRUNCATED) == 1 && !s->json)
		fprintf(stderr, "shmctl: more holders than the daemon lists (1024)\n");
	if (shmd_holders_get_scan(h, SHMD_HOLDERS_COMPLETE) == 0 && !s->json)
		fprintf(stderr,
			"shmctl: the daemon's scan stopped at its time budget: the list may "
			"be incomplete\n");
	return 0;
}
