/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Create 1 MiB + receive fd, one client: the kernel call alone, the bare server and shmd, interleaved. */

#include <math.h>
#include <stdio.h>
#include <sys/mman.h>

#include "bare.h"
#include "bench-shmd.h"
#include "bench.h"
#include "shmd.h"

/* The bare server doing the fchmod and the re-open that shmd's design requires. */
#define BARE_KEEP "bare, shmd's kernel work"
/* That plus holder tracking's inotify watch, fstat, fresh description, event read, audit line. */
#define BARE_HOLD "bare, kernel work + holder tracking + audit"

/* Latency samples of one run, in microseconds. */
struct samples {
	double *us;
	int n;
};

static int run_kernel(struct samples *s)
{
	for (int i = 0; i < s->n; i++) {
		uint64_t t0 = bench_now_ns();
		int fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);

		if (fd < 0 || ftruncate(fd, (off_t)MIB) < 0) {
			safe_close(fd);
			return negative_errno();
		}
		close(fd);
		s->us[i] = (double)(bench_now_ns() - t0) / 1e3;
	}
	return 0;
}

/*
 * BARE_CREATE_KEEP/HOLD keep every region of the run, as shmd's registry does, and delete
 * them after it, untimed, as shmd's are (a Delete between Creates put its inode teardown
 * into the next Create's time whenever both ends shared a CPU).
 */
static int run_bare(int sock, enum bare_op op, struct samples *s)
{
	bool kept = op == BARE_CREATE_KEEP || op == BARE_CREATE_HOLD;
	int r = 0, made = 0;

	for (int i = 0; i < s->n && r >= 0; i++) {
		uint64_t t0 = bench_now_ns();
		int fd = -1;

		r = bare_call(sock, op, MIB, "bench/lat", &fd);
		s->us[i] = (double)(bench_now_ns() - t0) / 1e3;
		safe_close(fd);
		made += r >= 0;
	}
	for (int i = 0; kept && i < made; i++) {
		int d = bare_call(sock, BARE_DELETE, 0, "bench/lat", NULL);
		r = r < 0 ? r : d;
	}
	return r;
}

static int delete_all(struct shmd_ctx *ctx, int run, int n)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		int r;

		snprintf(name, sizeof(name), "bench/lat/%d/%d", run, i);
		r = shmd_delete(ctx, name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Names are unique within a run, so the registry grows by lat_ops; they are deleted after it. */
static int run_shmd(struct shmd_ctx *ctx, int run, struct samples *s)
{
	for (int i = 0; i < s->n; i++) {
		char name[64];
		uint64_t t0;
		int fd = -1, r;

		snprintf(name, sizeof(name), "bench/lat/%d/%d", run, i);
		t0 = bench_now_ns();
		r = shmd_create(ctx, name, MIB, 0600, 0, 0, &fd, NULL, NULL);
		s->us[i] = (double)(bench_now_ns() - t0) / 1e3;
		safe_close(fd);
		if (r < 0)
			return delete_all(ctx, run, i), r;
	}
	return delete_all(ctx, run, s->n);
}

static void record(const char *who, struct samples *s, bool measured)
{
	char name[96];
	double p50, p99;

	if (!measured)
		return;
	p50 = bench_percentile(s->us, (size_t)s->n, 50);
	p99 = bench_percentile(s->us, (size_t)s->n, 99);
	snprintf(name, sizeof(name), "create 1MiB+fd p50, %s", who);
	bench_add(bench_figure(name, "us"), p50);
	snprintf(name, sizeof(name), "create 1MiB+fd p99, %s", who);
	bench_add(bench_figure(name, "us"), p99);
}

static int measure(const struct bench_env *e, struct samples *s)
{
	struct shmd_ctx *ctx = shmd_ctx_new(e->shmd_socket);
	_cleanup_close_ int sock = bare_connect(e->bare_socket);
	int r = 0;

	if (!ctx || sock < 0) {
		shmd_ctx_unref(ctx);
		return sock < 0 ? sock : -ENOMEM;
	}
	/* Run -1 is the warm-up: page cache, allocator and branch predictors, not recorded. */
	for (int run = -1; run < bench_cfg.runs && r >= 0; run++) {
		if ((r = run_kernel(s)) < 0)
			break;
		record("kernel memfd_create+ftruncate+close", s, run >= 0);
		if ((r = run_bare(sock, BARE_CREATE, s)) < 0)
			break;
		record("bare server", s, run >= 0);
		if ((r = run_bare(sock, BARE_CREATE_KEEP, s)) < 0)
			break;
		record(BARE_KEEP, s, run >= 0);
		if ((r = run_bare(sock, BARE_CREATE_HOLD, s)) < 0)
			break;
		record(BARE_HOLD, s, run >= 0);
		if ((r = run_shmd(ctx, run + 1, s)) < 0)
			break;
		record("shmd", s, run >= 0);
	}
	shmd_ctx_unref(ctx);
	return r;
}

void bench_create_latency(const struct bench_env *e)
{
	static const char *const whos[] = { "kernel memfd_create+ftruncate+close", "bare server",
					    BARE_KEEP, BARE_HOLD, "shmd" };
	struct samples s = { .n = bench_cfg.lat_ops };
	_cleanup_free_ double *us = calloc((size_t)s.n, sizeof(double));
	int r;

	s.us = us;
	if (!us)
		return bench_fail("create latency", -ENOMEM);
	bench_note("create latency: %d creates per run, 1 client, names unique per run", s.n);
	r = measure(e, &s);
	if (r < 0)
		return bench_fail("create latency", r);
	for (size_t i = 0; i < ELEMENTSOF(whos); i++) {
		char name[96];

		snprintf(name, sizeof(name), "create 1MiB+fd p50, %s", whos[i]);
		bench_print(bench_figure(name, "us"));
		snprintf(name, sizeof(name), "create 1MiB+fd p99, %s", whos[i]);
		bench_print(bench_figure(name, "us"));
	}
	/* The target is against the floor the design requires; the plain bare server is a report. */
	bench_pair("create 1MiB+fd p50, shmd / bare",
		   bench_figure("create 1MiB+fd p50, shmd", "us"),
		   bench_figure("create 1MiB+fd p50, bare server", "us"), NAN, false);
	bench_pair("create 1MiB+fd p99, shmd / bare",
		   bench_figure("create 1MiB+fd p99, shmd", "us"),
		   bench_figure("create 1MiB+fd p99, bare server", "us"), NAN, false);
	bench_pair("create 1MiB+fd p50, shmd / " BARE_KEEP,
		   bench_figure("create 1MiB+fd p50, shmd", "us"),
		   bench_figure("create 1MiB+fd p50, " BARE_KEEP, "us"), NAN, false);
	/* The target: against the floor the design (holder tracking, the audit) now requires. */
	bench_pair("create 1MiB+fd p50, shmd / " BARE_HOLD,
		   bench_figure("create 1MiB+fd p50, shmd", "us"),
		   bench_figure("create 1MiB+fd p50, " BARE_HOLD, "us"), 1.25, false);
	bench_pair("create 1MiB+fd p50, shmd / kernel call alone",
		   bench_figure("create 1MiB+fd p50, shmd", "us"),
		   bench_figure("create 1MiB+fd p50, kernel memfd_create+ftruncate+close", "us"),
		   NAN, false);
}
