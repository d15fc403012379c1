/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The status command: the daemon's version, totals, limits and kernel features. */

#include <stdio.h>
#include <string.h>

#include "columns.h"
#include "macro.h"
#include "output.h"
#include "shmctl.h"
#include "size.h"

static void statusp(struct shmd_status **st)
{
	shmd_status_unref(*st);
}

/* Wire names of the limits and features (the IDL's Limits and Features types). */
static const char *const limit_names[] = {
	"maxRegions",	  "maxConnections",	"maxConnectionsPerUid", "maxMessageBytes",
	"maxOutputBytes", "messageTimeoutUSec", "idleTimeoutUSec",
};
static const char *const feature_names[] = { "noexecSeal", "anonVmaName" };
/* Holder tracking's counters (shmd_status_get_counter()); sizes end in "Size". */
static const char *const holder_counters[] = { "deletedRegions",   "deletedSize",
					       "anonymousRegions", "anonymousSize",
					       "unwatchedRegions", "holderOverflows" };
static const char *const holder_labels[] = { "Deleted, still held:", "Deleted size:",
					     "Anonymous regions:",   "Anonymous size:",
					     "Unwatched regions:",   "Holder overflows:" };

/* Resident vs apparent vs swapped, as ipcs -u shows for SysV segments. */
static const struct {
	enum shmd_footprint_field field;
	const char *key, *label;
} footprint_lines[] = {
	{ SHMD_FOOTPRINT_RESIDENT, "resident", "Resident:" },
	{ SHMD_FOOTPRINT_SWAPPED, "swapped", "Swapped:" },
	{ SHMD_FOOTPRINT_ALLOCATED, "allocated", "Allocated:" },
	{ SHMD_FOOTPRINT_DIRTY, "dirty", "Dirty:" },
};

/* The spill object (absent from a daemon without spilling): wire name, label, and whether it is a size. */
static const struct {
	const char *key, *label;
	bool size;
} spill_lines[] = {
	{ "fileSize", "Spill file size:", true },
	{ "used", "Spill file used:", true },
	{ "free", "Spill file free:", true },
	{ "spilledRegions", "Spilled regions:", false },
	{ "spilledBytes", "Spilled bytes:", true },
	{ "damagedRegions", "Damaged regions:", false },
	{ "spills", "Spills:", false },
	{ "restores", "Restores:", false },
	{ "errors", "Spill errors:", false },
	{ "regionMemory", "Region memory:", true },
	{ "automaticSpills", "Automatic spills:", false },
	{ "pressureEvents", "Pressure events:", false },
};
static const char *const spill_strings[] = { "path", "lastError", "pressureTrigger" };

static void status_spill_json(const struct shmd_status *st, json_object *obj)
{
	json_object *o;
	uint64_t v;

	if (!shmd_status_get_spill(st, "enabled", &v) || !(o = json_object_new_object()))
		return;
	json_object_object_add(o, "enabled", json_object_new_boolean(v != 0));
	for (size_t i = 0; i < ELEMENTSOF(spill_lines); i++)
		if (shmd_status_get_spill(st, spill_lines[i].key, &v))
			json_object_object_add(o, spill_lines[i].key,
					       json_object_new_int64((int64_t)v));
	for (size_t i = 0; i < ELEMENTSOF(spill_strings); i++) {
		const char *str = shmd_status_get_spill_string(st, spill_strings[i]);
		json_object_object_add(o, spill_strings[i],
				       str ? json_object_new_string(str) : NULL);
	}
	json_object_object_add(obj, "spill", o);
}

static void status_footprint_json(const struct shmd_status *st, json_object *obj)
{
	for (size_t i = 0; i < ELEMENTSOF(footprint_lines); i++) {
		int64_t v = shmd_status_get_footprint(st, footprint_lines[i].field);
		json_object_object_add(obj, footprint_lines[i].key,
				       v < 0 ? NULL : json_object_new_int64(v));
	}
}

static json_object *status_json(const struct shmctl *s, const struct shmd_status *st)
{
	_cleanup_json_ json_object *obj = json_object_new_object();
	json_object *limits = json_object_new_object(), *features = json_object_new_object();
	_cleanup_free_ char *started = time_format_iso(shmd_status_get_started_usec(st));

	if (!obj || !limits || !features || !started) {
		json_object_put(limits);
		json_object_put(features);
		return NULL;
	}
	json_object_object_add(obj, "version", json_object_new_string(shmd_status_get_version(st)));
	/* 0 from a daemon too old to say: JSON null, not a pid. */
	json_object_object_add(obj, "pid",
			       shmd_status_get_pid(st) > 0 ?
				       json_object_new_int64(shmd_status_get_pid(st)) :
				       NULL);
	json_object_object_add(obj, "socket", json_object_new_string(shmd_ctx_get_socket(s->ctx)));
	json_object_object_add(obj, "regions",
			       json_object_new_int64((int64_t)shmd_status_get_regions(st)));
	json_object_object_add(obj, "totalSize",
			       json_object_new_int64((int64_t)shmd_status_get_total_size(st)));
	/* The daemon's sum stops at INT64_MAX. */
	json_object_object_add(obj, "totalSizeCapped",
			       json_object_new_boolean(shmd_status_get_total_size(st) >=
						       (uint64_t)INT64_MAX));
	json_object_object_add(obj, "connections",
			       json_object_new_int64((int64_t)shmd_status_get_connections(st)));
	json_object_object_add(obj, "started", json_object_new_string(started));
	json_object_object_add(obj, "startedUSec",
			       json_object_new_int64((int64_t)shmd_status_get_started_usec(st)));
	for (size_t i = 0; i < ELEMENTSOF(limit_names); i++) {
		uint64_t v;
		if (shmd_status_get_limit(st, limit_names[i], &v))
			json_object_object_add(limits, limit_names[i],
					       json_object_new_int64((int64_t)v));
	}
	for (size_t i = 0; i < ELEMENTSOF(holder_counters); i++) {
		uint64_t v;
		if (shmd_status_get_counter(st, holder_counters[i], &v))
			json_object_object_add(obj, holder_counters[i],
					       json_object_new_int64((int64_t)v));
	}
	json_object_object_add(obj, "limits", limits);
	for (size_t i = 0; i < ELEMENTSOF(feature_names); i++)
		json_object_object_add(
			features, feature_names[i],
			json_object_new_boolean(shmd_status_has_feature(st, feature_names[i])));
	json_object_object_add(obj, "features", features);
	status_footprint_json(st, obj);
	status_spill_json(st, obj);
	return TAKE_PTR(obj);
}

#define LABEL_WIDTH 24

static void print_size_line(const struct shmctl *s, const char *label, uint64_t v)
{
	char buf[SIZE_FORMAT_MAX];

	if (s->bytes)
		printf("%-*s %llu\n", LABEL_WIDTH, label, (unsigned long long)v);
	else
		printf("%-*s %s\n", LABEL_WIDTH, label, size_format(v, buf, sizeof(buf)));
}

/* The daemon adds sizes up to INT64_MAX and stops there: say so rather than print a false sum. */
static void print_total_size(const struct shmctl *s, uint64_t total)
{
	if (total < (uint64_t)INT64_MAX) {
		print_size_line(s, "Total size:", total);
		return;
	}
	printf("%-*s %s%s (capped: the daemon counts at most 8E minus one byte)\n", LABEL_WIDTH,
	       "Total size:", s->bytes ? "" : "at least ",
	       s->bytes ? "9223372036854775807" : "8.0E");
}

/* "3 / 19712 (1%)", like lsipc -g's USED / LIMIT / USE%; the percentage rounds up from 0. */
static void print_used_line(const struct shmd_status *st, const char *label, uint64_t used,
			    const char *limit_name)
{
	uint64_t max;

	if (!shmd_status_get_limit(st, limit_name, &max) || max == 0) {
		printf("%-*s %llu\n", LABEL_WIDTH, label, (unsigned long long)used);
		return;
	}
	printf("%-*s %llu / %llu (%llu%%)\n", LABEL_WIDTH, label, (unsigned long long)used,
	       (unsigned long long)max,
	       (unsigned long long)((unsigned __int128)used * 100 / max +
				    ((unsigned __int128)used * 100 % max != 0)));
}

static void print_usec_line(const char *label, uint64_t usec)
{
	if (usec == 0)
		printf("%-*s off\n", LABEL_WIDTH, label);
	else
		printf("%-*s %llu.%03llus\n", LABEL_WIDTH, label,
		       (unsigned long long)(usec / 1000000),
		       (unsigned long long)(usec % 1000000 / 1000));
}

/* Human labels of limit_names[] and feature_names[], in the same order. */
static const char *const limit_labels[] = {
	"Max regions:",	      "Max connections:", "Max connections/uid:", "Max message size:",
	"Max unread output:", "Message timeout:", "Idle timeout:",
};
static const char *const feature_labels[] = { "Noexec seal:", "Anon VMA names:" };

/* The PSI trigger as configured ("some 150000 2000000"), and what it means in words. */
static void print_trigger(const char *trigger)
{
	unsigned long long stall, window;
	char kind[8];

	if (!trigger) {
		printf("%-*s off\n", LABEL_WIDTH, "Pressure trigger:");
		return;
	}
	if (sscanf(trigger, "%7s %llu %llu", kind, &stall, &window) == 3 && window > 0)
		printf("%-*s %s (%s: %g ms of stall in any %g s)\n", LABEL_WIDTH,
		       "Pressure trigger:", trigger, kind, (double)stall / 1e3,
		       (double)window / 1e6);
	else
		printf("%-*s %s\n", LABEL_WIDTH, "Pressure trigger:", trigger);
}

static void status_print_spill(const struct shmctl *s, const struct shmd_status *st)
{
	const char *path = shmd_status_get_spill_string(st, "path");
	const char *err = shmd_status_get_spill_string(st, "lastError");
	const char *trigger = shmd_status_get_spill_string(st, "pressureTrigger");
	uint64_t v;

	if (!shmd_status_get_spill(st, "enabled", &v))
		return; /* a daemon without spilling */
	printf("%-*s %s%s%s\n", LABEL_WIDTH, "Spill:", v ? "on" : "off", path ? ", " : "",
	       path ? path : "");
	for (size_t i = 0; i < ELEMENTSOF(spill_lines); i++) {
		if (!shmd_status_get_spill(st, spill_lines[i].key, &v))
			continue;
		if (spill_lines[i].size)
			print_size_line(s, spill_lines[i].label, v);
		else
			printf("%-*s %llu\n", LABEL_WIDTH, spill_lines[i].label,
			       (unsigned long long)v);
	}
	print_trigger(trigger);
	if (err)
		printf("%-*s %s\n", LABEL_WIDTH, "Last spill error:", err);
}

static void status_print_human(const struct shmctl *s, const struct shmd_status *st)
{
	_cleanup_free_ char *started = time_format_human(shmd_status_get_started_usec(st));

	printf("%-*s %s\n", LABEL_WIDTH, "Version:", shmd_status_get_version(st));
	if (shmd_status_get_pid(st) > 0)
		printf("%-*s %d\n", LABEL_WIDTH, "PID:", (int)shmd_status_get_pid(st));
	else
		printf("%-*s -\n", LABEL_WIDTH, "PID:");
	printf("%-*s %s\n", LABEL_WIDTH, "Socket:", shmd_ctx_get_socket(s->ctx));
	printf("%-*s %s\n", LABEL_WIDTH, "Started:", started ? started : "-");
	print_used_line(st, "Regions:", shmd_status_get_regions(st), "maxRegions");
	print_total_size(s, shmd_status_get_total_size(st));
	for (size_t i = 0; i < ELEMENTSOF(footprint_lines); i++) {
		int64_t v = shmd_status_get_footprint(st, footprint_lines[i].field);
		if (v >= 0)
			print_size_line(s, footprint_lines[i].label, (uint64_t)v);
	}
	print_used_line(st, "Connections:", shmd_status_get_connections(st), "maxConnections");
	for (size_t i = 0; i < ELEMENTSOF(holder_counters); i++) {
		uint64_t v;
		if (!shmd_status_get_counter(st, holder_counters[i], &v))
			continue;
		if (strstr(holder_counters[i], "Size"))
			print_size_line(s, holder_labels[i], v);
		else
			printf("%-*s %llu\n", LABEL_WIDTH, holder_labels[i], (unsigned long long)v);
	}
	for (size_t i = 0; i < ELEMENTSOF(limit_names); i++) {
		uint64_t v;
		if (!shmd_status_get_limit(st, limit_names[i], &v))
			continue;
		if (strstr(limit_names[i], "Bytes"))
			print_size_line(s, limit_labels[i], v);
		else if (strstr(limit_names[i], "USec"))
			print_usec_line(limit_labels[i], v);
		else
			printf("%-*s %llu\n", LABEL_WIDTH, limit_labels[i], (unsigned long long)v);
	}
	for (size_t i = 0; i < ELEMENTSOF(feature_names); i++)
		printf("%-*s %s\n", LABEL_WIDTH, feature_labels[i],
		       shmd_status_has_feature(st, feature_names[i]) ? "yes" : "no");
	status_print_spill(s, st);
}

int cmd_status(struct shmctl *s, int argc, char *argv[])
{
	_cleanup_(statusp) struct shmd_status *st = NULL;
	int r;

	r = parse_global_only(s, argc, argv);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = expect_args(s, argc - optind, 0);
	if (r)
		return r;
	/* status is a list of "Label: value" lines, not a table: these would mean nothing. */
	if (s->output || s->noheadings || s->raw)
		return shmctl_usage_error("status: --output, --noheadings and --raw apply to the "
					  "tables of ls, stat and open; status prints none "
					  "(try --json)");
	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_status_footprint(s->ctx, &st);
	if (r < 0)
		return shmctl_fail(s, r, "get status", NULL);

	if (s->json) {
		_cleanup_json_ json_object *obj = status_json(s, st);
		if (!obj)
			return shmctl_fail_errno(-ENOMEM, "cannot print status");
		r = json_print(obj, stdout);
	} else {
		status_print_human(s, st);
		r = 0;
	}
	return r < 0 ? shmctl_fail_errno(r, "write error") : 0;
}
