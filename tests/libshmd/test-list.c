/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listing iterator: prefixes, empty results, thousands of regions, early free, -EBUSY. */

#include <stdio.h>

#include "libshmd-test.h"

/* Count the regions under prefix, checking their order; -errno on failure. */
static int count(struct shmd_ctx *ctx, const char *prefix, bool *sorted)
{
	struct shmd_list *l = NULL;
	struct shmd_region *r;
	char last[512] = "";
	int n = 0, ret;

	*sorted = true;
	ret = shmd_list(ctx, prefix, &l);
	if (ret < 0)
		return ret;
	while ((ret = shmd_list_next(l, &r)) > 0) {
		if (strcmp(last, shmd_region_get_name(r)) >= 0)
			*sorted = false;
		snprintf(last, sizeof(last), "%s", shmd_region_get_name(r));
		shmd_region_unref(r);
		n++;
	}
	if (ret == 0 && shmd_list_next(l, &r) != 0)
		ret = -EPROTO; /* the end stays the end */
	shmd_list_free(l);
	return ret < 0 ? ret : n;
}

static void test_small(struct shmd_ctx *ctx)
{
	bool sorted;

	is_int(count(ctx, NULL, &sorted), 0, "empty registry: no regions");
	shmd_create(ctx, "b/2", 1, 0, 0, 0, NULL, NULL, NULL);
	shmd_create(ctx, "a/1", 1, 0, 0, 0, NULL, NULL, NULL);
	shmd_create(ctx, "b/1", 1, 0, 0, 0, NULL, NULL, NULL);
	shmd_create(ctx, "c", 1, 0, 0, 0, NULL, NULL, NULL);
	is_int(count(ctx, NULL, &sorted), 4, "all four");
	ok(sorted, "in name order");
	is_int(count(ctx, "", &sorted), 4, "empty prefix: all four");
	is_int(count(ctx, "b/", &sorted), 2, "prefix b/: two");
	is_int(count(ctx, "zzz", &sorted), 0, "prefix without match: none");

	struct shmd_list *l = NULL;
	struct shmd_region *r = NULL;
	is_int(shmd_list(ctx, "a/", &l), 0, "list a/");
	is_int(shmd_list_next(l, &r), 1, "one region");
	is_str(shmd_region_get_name(r), "a/1", "a/1");
	ok(shmd_region_get_size(r) == 1 && shmd_region_get_uid(r) == geteuid(),
	   "with its metadata");
	r = shmd_region_unref(r);
	is_int(shmd_list_next(l, &r), 0, "then the end");
	shmd_list_free(l);
	is_int(shmd_list(ctx, "a//", &l), -EINVAL, "invalid prefix: -EINVAL");
}

static void test_busy_and_early_free(struct shmd_ctx *ctx)
{
	struct shmd_list *l = NULL;
	struct shmd_region *r = NULL;
	bool sorted;

	is_int(shmd_list(ctx, NULL, &l), 0, "list");
	is_int(shmd_stat(ctx, "c", &r), -EBUSY, "another call while a listing is open: -EBUSY");
	struct shmd_list *l2 = NULL;
	is_int(shmd_list(ctx, NULL, &l2), -EBUSY, "another listing: -EBUSY");
	is_int(shmd_list_next(l, &r), 1, "the listing still reads");
	r = shmd_region_unref(r);
	shmd_list_free(l);

	is_int(shmd_stat(ctx, "c", &r), 0, "after freeing it early the ctx works");
	is_str(shmd_region_get_name(r), "c", "and gets the right reply");
	r = shmd_region_unref(r);
	is_int(count(ctx, NULL, &sorted), 4, "a new listing is complete");
}

static void test_many(struct shmd_ctx *ctx)
{
	int n = test_slow_mode() ? 300 : 2000, r = 0;
	bool sorted;
	char name[64];

	for (int i = 0; i < n && r == 0; i++) {
		snprintf(name, sizeof(name), "many/%05d", i);
		r = shmd_create(ctx, name, 4096, 0, 0, 0, NULL, NULL, NULL);
	}
	is_int(r, 0, "created %d regions", n);
	is_int(count(ctx, "many/", &sorted), n, "listed %d regions", n);
	ok(sorted, "in order");
	is_int(count(ctx, NULL, &sorted), n + 4, "and all");

	/* Free a big listing after a few: replies still in flight must not confuse the next call. */
	struct shmd_list *l = NULL;
	struct shmd_region *reg = NULL;
	shmd_list(ctx, "many/", &l);
	for (int i = 0; i < 3; i++) {
		shmd_list_next(l, &reg);
		reg = shmd_region_unref(reg);
	}
	shmd_list_free(l);
	is_int(shmd_stat(ctx, "many/00007", &reg), 0, "stat right after an early free");
	is_str(reg ? shmd_region_get_name(reg) : NULL, "many/00007", "answers that stat");
	shmd_region_unref(reg);
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	test_small(ctx);
	test_busy_and_early_free(ctx);
	test_many(ctx);
	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
