/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What quotas cost a Create: a daemon with 100 configured subjects against one with none, interleaved. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-shmd.h"
#include "bench.h"
#include "shmd.h"
#include "testlib.h"

#define SUBJECTS 100
#define WATCHED 1000

/*
 * 100 subjects, the caller (root, uid 0, gid 0) among them, every kind of section and a glob
 * to match against; limits large enough never to refuse.
 */
static int write_conf(const char *path, bool quotas)
{
	FILE *f = fopen(path, "we");
	int n = 0;

	if (!f)
		return negative_errno();
	if (quotas) {
		fprintf(f, "[Global]\nMemoryMax=1000T\n[AnyUser]\nMemoryMax=1T\n"
			   "[AnyUnit]\nRegionsMax=1000000\n[Unit bench@*.service]\nMemoryMax=1T\n");
		n = 4;
		for (int i = 0; n < SUBJECTS - 2; i++, n += 3)
			fprintf(f,
				"[User %d]\nMemoryMax=1T\nRegionsMax=1000000\n[Group %d]\n"
				"MemoryMax=1T\n[Unit bench@%d.service]\nMemoryMax=1T\n",
				i, i, i);
		fprintf(f, "[Prefix vm/]\nGroup=0\n[Prefix other/]\nUser=1\n");
	}
	return fclose(f) == 0 ? 0 : negative_errno();
}

static int run_creates(struct shmd_ctx *ctx, const char *prefix, double *us, int n)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		uint64_t t0;
		int r;

		snprintf(name, sizeof(name), "%s/%d", prefix, i);
		t0 = bench_now_ns();
		r = shmd_create(ctx, name, MIB, 0600, 0, 0, NULL, NULL, NULL);
		us[i] = (double)(bench_now_ns() - t0) / 1e3;
		if (r < 0)
			return r;
	}
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s/%d", prefix, i);
		int r = shmd_delete(ctx, name);
		if (r < 0)
			return r;
	}
	return 0;
}

static void record(const char *who, double *us, int n, bool measured)
{
	char name[96];

	if (!measured)
		return;
	snprintf(name, sizeof(name), "create 1MiB p50, %s", who);
	bench_add(bench_figure(name, "us"), bench_percentile(us, (size_t)n, 50));
}

/* Regions with a read-write description handed out: the quota re-reads their sizes. */
static int make_watched(struct shmd_ctx *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		int fd = -1;

		snprintf(name, sizeof(name), "watched/%d", i);
		int r = shmd_create(ctx, name, 4096, 0600, 0, 0, &fd, NULL, NULL);
		safe_close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

static int measure(struct shmd_ctx *none, struct shmd_ctx *quotas, double *us, int n)
{
	int r = 0;

	for (int run = -1; run < bench_cfg.runs && r >= 0; run++) {
		if ((r = run_creates(none, "bench/q", us, n)) < 0)
			break;
		record("no quotas", us, n, run >= 0);
		if ((r = run_creates(quotas, "bench/q", us, n)) < 0)
			break;
		record("100 quota subjects", us, n, run >= 0);
	}
	if (r >= 0)
		r = make_watched(quotas, WATCHED);
	for (int run = -1; run < bench_cfg.runs && r >= 0; run++) {
		if ((r = run_creates(none, "bench/q", us, n)) < 0)
			break;
		record("no quotas, again", us, n, run >= 0);
		if ((r = run_creates(quotas, "bench/q", us, n)) < 0)
			break;
		record("100 subjects, 1000 watched regions", us, n, run >= 0);
	}
	return r;
}

static int start(struct test_daemon *d, const char *conf)
{
	return bench_daemon_start(d, (const char *const[]){ "--config", conf, NULL });
}

void bench_quota(const struct bench_env *e)
{
	char dir[] = "/tmp/bench-quota.XXXXXX", none_conf[64], quota_conf[64];
	struct test_daemon a = { 0 }, b = { 0 };
	struct shmd_ctx *ca = NULL, *cb = NULL;
	int n = bench_cfg.lat_ops, r;
	_cleanup_free_ double *us = calloc((size_t)n, sizeof(double));

	if (!us || !mkdtemp(dir))
		return bench_fail("quota", -ENOMEM);
	snprintf(none_conf, sizeof(none_conf), "%s/none.conf", dir);
	snprintf(quota_conf, sizeof(quota_conf), "%s/quota.conf", dir);
	r = write_conf(none_conf, false);
	if (r >= 0)
		r = write_conf(quota_conf, true);
	if (r >= 0 && (r = start(&a, none_conf)) >= 0 && (r = start(&b, quota_conf)) >= 0) {
		ca = shmd_ctx_new(a.socket);
		cb = shmd_ctx_new(b.socket);
		bench_note("quota: %d creates of 1 MiB (no fd) per run, 1 client; two daemons, one "
			   "with %d subjects configured (root among them), runs interleaved",
			   n, SUBJECTS);
		r = ca && cb ? measure(ca, cb, us, n) : -ENOMEM;
	}
	shmd_ctx_unref(ca);
	shmd_ctx_unref(cb);
	if (b.pid > 0)
		test_daemon_stop(&b);
	if (a.pid > 0)
		test_daemon_stop(&a);
	unlink(none_conf);
	unlink(quota_conf);
	rmdir(dir);
	if (r < 0)
		return bench_fail("quota", r);
	bench_print(bench_figure("create 1MiB p50, no quotas", "us"));
	bench_print(bench_figure("create 1MiB p50, 100 quota subjects", "us"));
	bench_print(bench_figure("create 1MiB p50, no quotas, again", "us"));
	bench_print(bench_figure("create 1MiB p50, 100 subjects, 1000 watched regions", "us"));
	bench_pair("create p50, 100 quota subjects / none",
		   bench_figure("create 1MiB p50, 100 quota subjects", "us"),
		   bench_figure("create 1MiB p50, no quotas", "us"), 1.02, false);
	bench_pair("create p50, 100 subjects + 1000 watched regions / none",
		   bench_figure("create 1MiB p50, 100 subjects, 1000 watched regions", "us"),
		   bench_figure("create 1MiB p50, no quotas, again", "us"), NAN, false);
}
