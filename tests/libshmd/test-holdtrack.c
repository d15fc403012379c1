/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Holder counts through libshmd: shmd_region_get_holder_count() and friends, shmd_list_flags(SHMD_LIST_DELETED), Status counters. */

#include <fcntl.h>
#include <unistd.h>

#include "libshmd-test.h"

static int64_t holders_of(struct shmd_ctx *ctx, const char *name)
{
	struct shmd_region *r = NULL;
	if (shmd_stat(ctx, name, &r) < 0)
		return -2;
	int64_t n = shmd_region_get_holder_count(r);
	shmd_region_unref(r);
	return n;
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;
	struct shmd_region *r = NULL;
	struct shmd_list *l = NULL;
	struct shmd_status *st = NULL;
	uint64_t v = 7;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	is_int(shmd_create(ctx, "a", 4096, 0600, 0, 0, NULL, NULL, NULL), 0, "create a");
	is_int(holders_of(ctx, "a"), 0, "no holder");
	int fd = -1;
	is_int(shmd_open(ctx, "a", O_RDWR, &fd, NULL), 0, "open a");
	is_int(holders_of(ctx, "a"), 1, "one holder");
	is_int(shmd_stat(ctx, "a", &r), 0, "stat a");
	ok(shmd_region_get_last_open_usec(r) > 0, "last open time");
	is_int(shmd_region_get_last_close_usec(r), 0, "never closed");
	ok(!shmd_region_is_deleted(r), "not deleted");
	r = shmd_region_unref(r);

	is_int(shmd_delete(ctx, "a"), 0, "delete a while held");
	is_int(shmd_list_flags(ctx, NULL, SHMD_LIST_DELETED, &l), 0,
	       "shmd_list_flags(SHMD_LIST_DELETED)");
	is_int(shmd_list_next(l, &r), 1, "one deleted region");
	if (r) {
		is_str(shmd_region_get_name(r), "a", "a");
		ok(shmd_region_is_deleted(r), "deleted");
		is_int(shmd_region_get_holder_count(r), 1, "held once");
		r = shmd_region_unref(r);
	}
	is_int(shmd_list_next(l, &r), 0, "the end");
	shmd_list_free(l);
	is_int(shmd_list_flags(ctx, "zz", SHMD_LIST_DELETED, &l), 0,
	       "with a prefix that matches none");
	is_int(shmd_list_next(l, &r), 0, "nothing");
	shmd_list_free(l);

	is_int(shmd_status(ctx, &st), 0, "status");
	ok(shmd_status_get_counter(st, "deletedRegions", &v) && v == 1, "deletedRegions 1");
	ok(shmd_status_get_counter(st, "deletedSize", &v) && v == 4096, "deletedSize 4096");
	ok(shmd_status_get_counter(st, "unwatchedRegions", &v) && v == 0, "unwatchedRegions 0");
	ok(!shmd_status_get_counter(st, "noSuchCounter", &v) && v == 0, "unknown: false, 0");
	ok(!shmd_status_get_counter(st, "version", &v), "a string member is no counter");
	st = shmd_status_unref(st);
	close(fd);
	is_int(shmd_status(ctx, &st), 0, "status after the close");
	ok(shmd_status_get_counter(st, "deletedRegions", &v) && v == 0, "deletedRegions 0");
	st = shmd_status_unref(st);

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
