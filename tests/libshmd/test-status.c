/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_status() and its accessors, and the region limit (-ENOSPC). */

#include <stdio.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "libshmd-test.h"

int main(void)
{
	static const char *const args[] = { "--max-regions", "3", NULL };
	struct test_daemon d;
	struct shmd_ctx *ctx;
	struct shmd_status *st = NULL;
	struct timeval tv;
	uint64_t v = 1;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, args);

	is_int(shmd_status(ctx, &st), 0, "status");
	is_str(shmd_status_get_version(st), SHMD_VERSION, "version");
	is_int(shmd_status_get_pid(st), d.pid, "the daemon's pid");
	is_int(shmd_status_get_pid(NULL), 0, "pid of NULL: 0");
	is_int((long long)shmd_status_get_regions(st), 0, "no regions");
	is_int((long long)shmd_status_get_total_size(st), 0, "total size 0");
	is_int((long long)shmd_status_get_connections(st), 1, "one connection (ours)");
	gettimeofday(&tv, NULL);
	ok(shmd_status_get_started_usec(st) > 0 &&
		   shmd_status_get_started_usec(st) <=
			   (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec,
	   "started in the past");
	ok(shmd_status_get_limit(st, "maxRegions", &v) && v == 3, "limit maxRegions = 3");
	ok(shmd_status_get_limit(st, "maxConnections", &v) && v > 0, "limit maxConnections");
	ok(!shmd_status_get_limit(st, "noSuchLimit", &v) && v == 0, "an unknown limit: false, 0");
	ok(!shmd_status_has_feature(st, "noSuchFeature"), "an unknown feature: false");
	/* Kernels since 6.3 take MFD_NOEXEC_SEAL (0x8); the daemon's probe must agree with ours. */
	int probe = memfd_create("probe", MFD_CLOEXEC | 0x0008U);
	is_int(shmd_status_has_feature(st, "noexecSeal"), probe >= 0, "feature noexecSeal");
	if (probe >= 0)
		close(probe);
	st = shmd_status_unref(st);

	is_int(shmd_create(ctx, "a", 4096, 0, 0, 0, NULL, NULL, NULL), 0, "region 1");
	is_int(shmd_create(ctx, "b", 8192, 0, 0, 0, NULL, NULL, NULL), 0, "region 2");
	is_int(shmd_create(ctx, "c", 1, 0, 0, 0, NULL, NULL, NULL), 0, "region 3");
	is_int(shmd_create(ctx, "d", 1, 0, 0, 0, NULL, NULL, NULL), -ENOSPC, "region 4: -ENOSPC");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.LimitReached", "LimitReached");
	is_str(shmd_ctx_get_error_message(ctx), "limit reached: regions (max 3)", "its message");

	is_int(shmd_status(ctx, &st), 0, "status again");
	is_int((long long)shmd_status_get_regions(st), 3, "three regions");
	is_int((long long)shmd_status_get_total_size(st), 4096 + 8192 + 1, "their total size");
	st = shmd_status_unref(st);

	is_int(shmd_delete(ctx, "c"), 0, "delete one");
	is_int(shmd_create(ctx, "d", 1, 0, 0, 0, NULL, NULL, NULL), 0, "then there is room");
	is_int(shmd_status(ctx, NULL), -EINVAL, "NULL result pointer: -EINVAL");

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
