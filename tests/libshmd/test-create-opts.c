/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_create_opts and shmd_create_with(): every default, every setter, against a real daemon. */

#include <fcntl.h>
#include <stdio.h>

#include "libshmd-test.h"

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;
	struct shmd_create_opts *opts;
	struct shmd_region *r = NULL;
	struct shmd_status *st = NULL;
	bool created = false, noexec;
	int fd = -1;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	if (shmd_status(ctx, &st) < 0)
		bail_out("status");
	noexec = shmd_status_has_feature(st, "noexecSeal");
	shmd_status_unref(st);

	/* NULL options: the documented defaults. */
	is_int(shmd_create_with(ctx, "plain", 4096, NULL, &fd, &r, &created), 0,
	       "create with NULL options");
	ok(created && fd >= 0, "  made, with a read-write fd");
	is_int(shmd_region_get_mode(r), 0600, "  default mode 0600");
	is_int(shmd_region_get_seals(r), noexec ? SHMD_SEAL_EXEC : 0,
	       "  no seals but the exec seal the kernel gives (noexecSeal: %d)", noexec);
	ok(!shmd_region_is_fixed(r), "  not fixed");
	ok(!shmd_region_is_nospill(r), "  not nospill");
	r = shmd_region_unref(r);
	close(fd);
	is_int(shmd_create_with(ctx, "plain", 4096, NULL, NULL, NULL, NULL), -EEXIST,
	       "  an existing name: -EEXIST by default");

	opts = shmd_create_opts_new();
	ok(opts != NULL, "shmd_create_opts_new");
	is_int(shmd_create_with(ctx, "fresh", 4096, opts, NULL, &r, NULL), 0,
	       "a fresh options object is the defaults");
	is_int(shmd_region_get_mode(r), 0600, "  mode 0600");
	r = shmd_region_unref(r);

	is_int(shmd_create_opts_set_mode(opts, 0), 0, "set_mode(0)");
	is_int(shmd_create_with(ctx, "zero", 1, opts, NULL, &r, NULL), 0, "  create");
	is_int(shmd_region_get_mode(r), 0, "  is a real 0000 (not shmd_create()'s 0600)");
	r = shmd_region_unref(r);

	is_int(shmd_create_opts_set_mode(opts, 0640), 0, "set_mode(0640)");
	is_int(shmd_create_opts_set_seals(opts, SHMD_SEAL_WRITE), 0, "set_seals(WRITE)");
	is_int(shmd_create_opts_set_fixed(opts, true), 0, "set_fixed(true)");
	is_int(shmd_create_with(ctx, "all", 8192, opts, NULL, &r, &created), 0, "  create");
	is_int(shmd_region_get_mode(r), 0640, "  mode 0640");
	is_int(shmd_region_get_seals(r) & ~SHMD_SEAL_EXEC,
	       SHMD_SEAL_WRITE | SHMD_SEAL_GROW | SHMD_SEAL_SHRINK, "  write, grow and shrink");
	ok(shmd_region_is_fixed(r), "  fixed");
	r = shmd_region_unref(r);

	is_int(shmd_create_opts_set_nospill(opts, true), 0, "set_nospill(true)");
	is_int(shmd_create_with(ctx, "nospill", 4096, opts, NULL, &r, NULL), 0, "  create");
	ok(shmd_region_is_nospill(r), "  nospill");
	r = shmd_region_unref(r);
	is_int(shmd_stat(ctx, "nospill", &r), 0, "  stat");
	ok(shmd_region_is_nospill(r), "  Stat says nospill too");
	r = shmd_region_unref(r);
	is_int(shmd_create_opts_set_nospill(NULL, true), -EINVAL, "  set_nospill(NULL): -EINVAL");
	is_int(shmd_create_opts_set_nospill(opts, false), 0, "set_nospill(false)");

	is_int(shmd_create_opts_set_open_existing(opts, true), 0, "set_open_existing(true)");
	created = true;
	is_int(shmd_create_with(ctx, "all", 1, opts, NULL, &r, &created), 0,
	       "  an existing region opens");
	ok(!created && shmd_region_get_size(r) == 8192, "  not made, size kept");
	r = shmd_region_unref(r);

	is_int(shmd_create_opts_set_mode(opts, 0755), -EINVAL, "set_mode(0755): -EINVAL");
	is_int(shmd_create_opts_set_seals(opts, 0x1000), -EINVAL, "unknown seal bits: -EINVAL");
	is_int(shmd_create_opts_set_mode(NULL, 0600), -EINVAL, "NULL options: -EINVAL");
	is_int(shmd_create_opts_set_fixed(NULL, true), -EINVAL, "  for every setter");
	is_int(shmd_create_with(NULL, "x", 1, opts, NULL, NULL, NULL), -EINVAL,
	       "a NULL context: -EINVAL");
	is_int(shmd_create_with(ctx, "a//b", 1, opts, NULL, NULL, NULL), -EINVAL,
	       "a bad name: -EINVAL");
	ok(shmd_create_opts_free(opts) == NULL && shmd_create_opts_free(NULL) == NULL,
	   "free returns NULL and accepts NULL");

	/* shmd_create() unchanged: mode 0 is 0600. */
	is_int(shmd_create(ctx, "old", 1, 0, 0, 0, NULL, &r, NULL), 0, "shmd_create, mode 0");
	is_int(shmd_region_get_mode(r), 0600, "  still means 0600");
	r = shmd_region_unref(r);

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
