/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_quotas() and its accessors, shmd_reload(), and a quota refusal as -EDQUOT / -ENOSPC. */

#include <stdio.h>
#include <unistd.h>

#include "libshmd-test.h"

static char dir[] = "/tmp/test-libshmd-quota.XXXXXX";
static char conf[128];

static void write_conf(const char *text)
{
	FILE *f = fopen(conf, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("cannot write %s", conf);
}

/* Index of the entry of scope (and id), or -1. */
static long find(const struct shmd_quotas *q, int scope, uint32_t id)
{
	for (size_t i = 0; i < shmd_quotas_get_count(q); i++)
		if (shmd_quotas_get_scope(q, i) == scope &&
		    (scope == SHMD_QUOTA_GLOBAL || shmd_quotas_get_id(q, i) == id))
			return (long)i;
	return -1;
}

int main(void)
{
	struct test_daemon d;
	struct shmd_quotas *q = NULL;
	uid_t uid = geteuid();
	char text[256];

	plan_no_plan();
	if (!mkdtemp(dir))
		bail_out("mkdtemp: %m");
	snprintf(conf, sizeof(conf), "%s/shmd.conf", dir);
	snprintf(text, sizeof(text),
		 "[User %u]\nMemoryMax=1M\nRegionsMax=5\n[Global]\nMemoryMax=4M\n", (unsigned)uid);
	write_conf(text);
	struct shmd_ctx *ctx =
		start_daemon_ctx(&d, (const char *const[]){ "--config", conf, NULL });

	is_int(shmd_create(ctx, "q/a", 65536, 0600, 0, 0, NULL, NULL, NULL), 0, "create 64K");
	is_int(shmd_quotas(ctx, &q), 0, "shmd_quotas");
	long g = find(q, SHMD_QUOTA_GLOBAL, 0), u = find(q, SHMD_QUOTA_USER, uid);
	ok(g == 0, "the global entry comes first");
	ok(g >= 0 && shmd_quotas_get_bytes(q, (size_t)g) == 65536 &&
		   shmd_quotas_get_regions(q, (size_t)g) == 1 &&
		   shmd_quotas_get_memory_max(q, (size_t)g) == 4u << 20 &&
		   shmd_quotas_get_regions_max(q, (size_t)g) == SHMD_QUOTA_UNLIMITED,
	   "global: 64K in 1 region of 4M, no region limit");
	ok(u >= 0 && shmd_quotas_get_bytes(q, (size_t)u) == 65536 &&
		   shmd_quotas_get_memory_max(q, (size_t)u) == 1u << 20 &&
		   shmd_quotas_get_regions_max(q, (size_t)u) == 5 &&
		   shmd_quotas_get_unit(q, (size_t)u) == NULL,
	   "user %u: 64K of 1M, 5 regions at most", (unsigned)uid);
	is_int(shmd_quotas_get_scope(q, shmd_quotas_get_count(q)), -EINVAL,
	       "an entry past the end: -EINVAL");
	q = shmd_quotas_unref(q);
	ok(shmd_quotas_unref(NULL) == NULL, "unref accepts NULL");
	is_int(shmd_quotas(ctx, NULL), -EINVAL, "no place for the result: -EINVAL");

	is_int(shmd_create(ctx, "q/b", 2 << 20, 0600, 0, 0, NULL, NULL, NULL), -EDQUOT,
	       "2M more: -EDQUOT (the user's limit)");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.QuotaExceeded", "  QuotaExceeded");

	/* Reload: administrators only. */
	snprintf(text, sizeof(text), "[User %u]\nMemoryMax=8M\n[Global]\nMemoryMax=4M\n",
		 (unsigned)uid);
	write_conf(text);
	int r = shmd_reload(ctx);
	if (uid != 0) {
		is_int(r, -EACCES, "shmd_reload as a non-administrator: -EACCES");
	} else {
		is_int(r, 0, "shmd_reload");
		is_int(shmd_create(ctx, "q/b", 5 << 20, 0600, 0, 0, NULL, NULL, NULL), -ENOSPC,
		       "5M: -ENOSPC (the global limit, the user's is now 8M)");
		write_conf("[Global]\nMemoryMax=what\n");
		is_int(shmd_reload(ctx), -EINVAL, "a bad file: -EINVAL");
		char want[256];
		snprintf(want, sizeof(want),
			 "configuration not reloaded: %s:2: MemoryMax=what: expected a size "
			 "(e.g. 512M, 8G), N%% or infinity",
			 conf);
		is_str(shmd_ctx_get_error_message(ctx), want, "  the message names FILE:LINE");
	}
	shmd_ctx_unref(ctx);
	ok(test_daemon_stop(&d) == 0, "daemon exits cleanly");
	unlink(conf);
	rmdir(dir);
	return done_testing();
}
