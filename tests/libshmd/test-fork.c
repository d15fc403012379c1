/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork(): parent and child use one context at once and each gets its own, correct replies. */

#include <stdio.h>

#include "libshmd-test.h"

#define ROUNDS 300

/* Alternate stats of two regions and check every reply is about the region asked for. */
static int hammer(struct shmd_ctx *ctx, const char *mine, const char *other)
{
	for (int i = 0; i < ROUNDS; i++) {
		const char *name = i % 2 ? mine : other;
		struct shmd_region *r = NULL;
		if (shmd_stat(ctx, name, &r) < 0)
			return 1;
		bool right = strcmp(shmd_region_get_name(r), name) == 0;
		shmd_region_unref(r);
		if (!right)
			return 2;
	}
	return 0;
}

static struct shmd_ctx *shared_ctx;

static int child_main(void *userdata)
{
	struct shmd_region *region = NULL;

	/* The child's first call must not go out on the parent's connection. */
	if (shmd_create(shared_ctx, "child", 4096, 0, 0, 0, NULL, &region, NULL) < 0)
		return 10;
	/* libshmd caches its pid; the child must send its own (root may send any). */
	bool own_pid = shmd_region_get_creator_pid(region) == getpid();
	shmd_region_unref(region);
	if (!own_pid)
		return 30;
	int r = hammer(shared_ctx, "child", "parent");
	if (r)
		return 10 + r;
	struct shmd_status *st = NULL;
	if (shmd_status(shared_ctx, &st) < 0)
		return 20;
	/* Parent's connection and ours: two, not one shared. */
	r = shmd_status_get_connections(st) >= 2 ? 0 : 21;
	shmd_status_unref(st);
	shmd_ctx_unref(shared_ctx);
	return r;
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	shared_ctx = start_daemon_ctx(&d, NULL);
	is_int(shmd_create(shared_ctx, "parent", 4096, 0, 0, 0, NULL, NULL, NULL), 0,
	       "parent connected and created a region");

	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_main(NULL));

	/* Meanwhile the parent keeps talking on its connection. */
	int mine = 0;
	for (int i = 0; i < 50 && mine == 0; i++) {
		struct shmd_region *r = NULL;
		mine = shmd_stat(shared_ctx, "child", &r);
		shmd_region_unref(r);
		if (mine == -ENOENT)
			mine = 0, usleep(2000);
	}
	int parent = hammer(shared_ctx, "parent", "child");
	int status;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status), "child exited");
	is_int(WEXITSTATUS(status), 0, "child got correct replies on its own connection");
	is_int(parent, 0, "parent got correct replies meanwhile");

	struct shmd_region *r = NULL;
	is_int(shmd_stat(shared_ctx, "child", &r), 0,
	       "the parent's connection survives the child's exit");
	shmd_region_unref(r);

	/* A listing open across fork(): the child may not read the parent's stream. */
	struct shmd_list *l = NULL;
	shmd_list(shared_ctx, NULL, &l);
	pid = fork();
	if (pid == 0) {
		struct shmd_region *cr = NULL;
		int ret = shmd_list_next(l, &cr) == -ECONNRESET ? 0 : 1;
		shmd_list_free(l);
		if (shmd_stat(shared_ctx, "parent", &cr) < 0)
			ret |= 2;
		_exit(ret);
	}
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "a child cannot read the parent's listing, and its ctx works");
	int n = 0;
	while (shmd_list_next(l, &r) > 0) {
		shmd_region_unref(r);
		n++;
	}
	is_int(n, 2, "the parent's listing is intact");
	shmd_list_free(l);

	shmd_ctx_unref(shared_ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
