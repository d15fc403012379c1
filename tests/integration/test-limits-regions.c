/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The region limit, from --max-regions and from RLIMIT_NOFILE: LimitReached, never a half-made region. */

#include <stdio.h>
#include <stdlib.h>

#include "proto-util.h"

#define NOFILE 300

/* Create "lim/%04d" from 0 until the first failure; the count made, the failing reply in *err. */
static int fill(int conn, int max_tries, json_object **err)
{
	char name[32];

	for (int i = 0; i < max_tries; i++) {
		snprintf(name, sizeof(name), "lim/%04d", i);
		json_object *p = jname(name);
		json_object_object_add(p, "size", json_object_new_int(4096));
		json_object *r = call(conn, IFACE "Create", p);
		if (!r || test_reply_error(r)) {
			*err = r;
			return i;
		}
		json_object_put(r);
	}
	*err = NULL;
	return max_tries;
}

/* At the limit: the failed name does not exist, and deleting one region makes room. */
static void check_at_limit(int conn, int made, int max, const char *what)
{
	char name[32];

	snprintf(name, sizeof(name), "lim/%04d", made);
	_cleanup_json_ json_object *st = call(conn, IFACE "Stat", jname(name));
	is_error(st, "NoSuchRegion", "%s: the refused region does not exist", what);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), max, "%s: Status counts %d regions", what, max);
	is_int(list_count(conn, "lim/"), max, "%s: List shows %d", what, max);

	_cleanup_json_ json_object *ne =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"lim/0000\",\"size\":1,\"exclusive\":false}"));
	is_success(ne, "%s: non-exclusive Create of an existing name still opens it", what);
	int fd = open_region(conn, "lim/0000", "read_write", NULL);
	ok(fd >= 0, "%s: Open still hands out fds", what);
	safe_close(fd);

	_cleanup_json_ json_object *d =
		call(conn, IFACE "Delete", jparams("{\"name\":\"lim/0000\"}"));
	is_success(d, "%s: Delete one", what);
	ok(create_region(conn, name, 4096, 0600), "%s: then there is room for one more", what);
	_cleanup_json_ json_object *again =
		call(conn, IFACE "Create", jparams("{\"name\":\"lim/x\",\"size\":1}"));
	is_error(again, "LimitReached", "%s: and then none again", what);
}

static void test_max_regions(void)
{
	struct test_daemon d;
	json_object *err;

	itest_start(&d, (const char *const[]){ "--max-regions", "50", NULL });
	int conn = itest_connect(&d);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.maxRegions"), 50, "--max-regions 50: Status says 50");
	is_int(fill(conn, 60, &err), 50, "50 regions are created");
	if (is_error(err, "LimitReached", "the 51st: LimitReached")) {
		is_str(jstr(err, "parameters.limit"), "regions", "  {limit}");
		is_int(jint(err, "parameters.max"), 50, "  {max}");
	}
	json_object_put(err);
	check_at_limit(conn, 50, 50, "--max-regions");
	close(conn);
	itest_stop(&d);
}

static void test_nofile(void)
{
	struct test_daemon d;
	const char *wrapper = getenv("SHMD_TEST_WRAPPER");
	char limited[1024];
	json_object *err;

	/*
	 * Only the daemon gets the low limit: prlimit(1) goes first in its command line. (The
	 * test itself may run under valgrind, which refuses setrlimit(RLIMIT_NOFILE), and
	 * lowering our own hard limit would be irreversible without CAP_SYS_RESOURCE.)
	 */
	snprintf(limited, sizeof(limited), "prlimit --nofile=%d:%d %s", NOFILE, NOFILE,
		 wrapper ? wrapper : "");
	setenv("SHMD_TEST_WRAPPER", limited, 1);
	/* The daemon reserves fds for its connections: keep that reserve small here (all ours). */
	itest_start(&d, (const char *const[]){ "--max-connections", "16",
					       "--max-connections-per-uid", "16", NULL });
	int conn = itest_connect(&d);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	int64_t max = jint(s, "parameters.limits.maxRegions");
	ok(max > 0 && max < NOFILE, "RLIMIT_NOFILE %d: maxRegions %lld, below it", NOFILE,
	   (long long)max);
	ok(max >= NOFILE / 2, "  and most of it (16 connections reserved)");

	is_int(fill(conn, NOFILE + 10, &err), max, "exactly maxRegions regions are created");
	if (is_error(err, "LimitReached", "the next: LimitReached (not EMFILE or a crash)")) {
		is_str(jstr(err, "parameters.limit"), "regions", "  {limit}");
		is_int(jint(err, "parameters.max"), max, "  {max}");
	}
	json_object_put(err);

	/* The daemon kept headroom for connections. */
	int extra[8], good = 0;
	for (int i = 0; i < 8; i++) {
		extra[i] = itest_connect(&d);
		_cleanup_json_ json_object *r = call(extra[i], IFACE "Status", NULL);
		good += r && !test_reply_error(r);
	}
	is_int(good, 8, "8 more connections are still served");
	for (int i = 0; i < 8; i++)
		close(extra[i]);
	check_at_limit(conn, (int)max, (int)max, "RLIMIT_NOFILE");
	close(conn);
	itest_stop(&d);
}

int main(void)
{
	plan_no_plan();
	test_max_regions();
	test_nofile();
	return done_testing();
}
