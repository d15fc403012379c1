/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A region's metadata is defined once: what the state persists (region_fields[] in
 * daemon/state-record.c) and what Stat replies must name the same members, so that a new
 * field cannot be persisted and not shown, or shown and lost over a restart.
 */

#include <stdio.h>
#include <string.h>

#include "proto-util.h"
#include "state-record.h"

/* Members of Stat's Region that are computed from persisted ones, not stored themselves. */
static const char *const derived[] = {
	"foreignSeals", /* seals & ~appliedSeals */
	"nameBase64",	/* the name when it is not UTF-8 */
	"spilledBytes", /* the sum of the spill extents' lengths */
};

/* Members counted live by holder tracking (holdtrack.h): a restarted daemon recounts them. */
static const char *const runtime[] = { "holders", "lastOpenUSec", "lastCloseUSec", "deleted" };

static bool is_derived(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(derived); i++)
		if (strcmp(key, derived[i]) == 0)
			return true;
	for (size_t i = 0; i < ELEMENTSOF(runtime); i++)
		if (strcmp(key, runtime[i]) == 0)
			return true;
	return false;
}

static bool persisted(const struct state_field *f, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!f[i].not_in_stat && strcmp(f[i].name, path) == 0)
			return true;
	return false;
}

/* Every leaf of Stat's Region ("creator.uid" for nested ones) is persisted or derived. */
static void check_reply_members(json_object *region, const char *prefix,
				const struct state_field *f, size_t n)
{
	json_object_object_foreach(region, key, val) {
		char path[128];
		snprintf(path, sizeof(path), "%s%s", prefix, key);
		if (json_object_is_type(val, json_type_object)) {
			char sub[130];
			snprintf(sub, sizeof(sub), "%s.", path);
			check_reply_members(val, sub, f, n);
			continue;
		}
		ok(persisted(f, n, path) || is_derived(path),
		   "Stat's %s is persisted by the state (or derived from what is)", path);
	}
}

int main(void)
{
	struct test_daemon d;
	size_t n;
	const struct state_field *f = state_region_fields(&n);

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	create_region(conn, "fields/one", 4096, 0640);
	/* Named ranges are in the reply only when the region has some (persisted either way). */
	json_object *lp = jname("fields/one");
	json_object_object_add(lp, "offset", json_object_new_int64(0));
	json_object_object_add(lp, "length", json_object_new_int64(4096));
	json_object_object_add(lp, "label", json_object_new_string("boot"));
	json_object_put(call(conn, IFACE "Label", lp));
	/* creator.unit is in the reply only when the creator has a unit (persisted either way). */
	_cleanup_json_ json_object *r = call(conn, IFACE "Stat", jname("fields/one"));
	json_object *region = jget(r, "parameters.region");
	if (!ok(region != NULL, "Stat replies a region"))
		bail_out("no region");

	for (size_t i = 0; i < n; i++) {
		char path[160] = "parameters.region.";
		if (f[i].not_in_stat || strcmp(f[i].name, "creator.unit") == 0)
			continue;
		/* The spill times are in the reply only for a region ever spilled (spill.h). */
		if (strcmp(f[i].name, "spilledUSec") == 0 || strcmp(f[i].name, "restoredUSec") == 0)
			continue;
		strncat(path, f[i].name, sizeof(path) - strlen(path) - 1);
		ok(jget(r, path) != NULL, "persisted field %s (tag %u) is in Stat's reply",
		   f[i].name, f[i].tag);
	}
	check_reply_members(region, "", f, n);
	itest_stop(&d);
	return done_testing();
}
