/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What surviving restarts costs: Create p50 with persistence (the fd store and the state
 * journal, under shmd --supervise) against the same daemon without, interleaved in one run;
 * and the restart time with 18,000 regions, from the SIGKILL of the serving process to the
 * first answer of the new one (the supervisor notices, forks and execs it, it takes 18,000
 * fds, loads the state and serves).
 */

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bench-shmd.h"
#include "bench.h"
#include "shmd.h"
#include "testlib.h"

#define RESTART_REGIONS 18000

static int creates(struct shmd_ctx *ctx, const char *prefix, int run, double *us, int n)
{
	char name[96];

	for (int i = 0; i < n; i++) {
		int fd = -1;
		snprintf(name, sizeof(name), "%s/%d/%d", prefix, run, i);
		uint64_t t0 = bench_now_ns();
		int r = shmd_create(ctx, name, MIB, 0600, 0, 0, &fd, NULL, NULL);
		us[i] = (double)(bench_now_ns() - t0) / 1e3;
		safe_close(fd);
		if (r < 0)
			return r;
	}
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s/%d/%d", prefix, run, i);
		(void)shmd_delete(ctx, name);
	}
	return 0;
}

static int create_latency(struct shmd_ctx *plain, struct shmd_ctx *kept)
{
	int n = bench_cfg.lat_ops;
	_cleanup_free_ double *us = calloc((size_t)n, sizeof(double));
	int r = us ? 0 : -ENOMEM;

	for (int run = -1; run < bench_cfg.runs && r >= 0; run++) {
		if ((r = creates(plain, "bench/plain", run + 1, us, n)) < 0)
			break;
		if (run >= 0)
			bench_add(bench_figure("create 1MiB+fd p50, shmd without persistence",
					       "us"),
				  bench_percentile(us, (size_t)n, 50));
		if ((r = creates(kept, "bench/kept", run + 1, us, n)) < 0)
			break;
		if (run >= 0)
			bench_add(bench_figure("create 1MiB+fd p50, shmd with persistence", "us"),
				  bench_percentile(us, (size_t)n, 50));
	}
	return r;
}

static pid_t worker_of(pid_t supervisor)
{
	char path[64];
	long pid = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", supervisor, supervisor);
	FILE *f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	if (f)
		fclose(f);
	return (pid_t)pid;
}

/* SIGKILL the worker, then time until a Status on a new connection is answered. */
static int restart_once(const struct test_daemon *d, struct shmd_ctx *ctx)
{
	struct shmd_status *st = NULL;
	pid_t w = worker_of(d->pid);

	if (w <= 0)
		return -ESRCH;
	uint64_t t0 = bench_now_ns();
	kill(w, SIGKILL);
	/* Wait for the old worker to be gone, or the Status might still reach it. */
	while (worker_of(d->pid) == w)
		usleep(100);
	struct shmd_ctx *fresh = shmd_ctx_new(d->socket);
	int r = shmd_status(fresh, &st);
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	if (r >= 0 && shmd_status_get_regions(st) != RESTART_REGIONS)
		r = -EIO;
	shmd_status_unref(st);
	shmd_ctx_unref(fresh);
	if (r >= 0)
		bench_add(bench_figure("restart with 18,000 regions (kill -9 to answer)", "ms"),
			  ms);
	return r;
}

static int restart_time(const struct test_daemon *d, struct shmd_ctx *ctx)
{
	char name[64];
	int r = 0;

	for (int i = 0; i < RESTART_REGIONS && r >= 0; i++) {
		snprintf(name, sizeof(name), "bench/restart/%d", i);
		r = shmd_create(ctx, name, 4096, 0600, 0, 0, NULL, NULL, NULL);
	}
	for (int run = 0; run < bench_cfg.runs && r >= 0; run++)
		r = restart_once(d, ctx);
	return r;
}

void bench_restart(const struct bench_env *e)
{
	static const char *const args[] = { "--supervise", NULL };
	struct test_daemon d;
	int r = bench_daemon_start(&d, args);

	if (r < 0)
		return bench_fail("starting shmd --supervise", r);
	struct shmd_ctx *plain = shmd_ctx_new(e->shmd_socket), *kept = shmd_ctx_new(d.socket);
	bench_note("persistence: %d creates per run on shmd and on shmd --supervise (fd store "
		   "and state journal), interleaved",
		   bench_cfg.lat_ops);
	r = plain && kept ? create_latency(plain, kept) : -ENOMEM;
	if (r >= 0)
		r = restart_time(&d, kept);
	shmd_ctx_unref(plain);
	shmd_ctx_unref(kept);
	test_daemon_stop(&d);
	if (r < 0)
		return bench_fail("restart", r);
	bench_print(bench_figure("create 1MiB+fd p50, shmd without persistence", "us"));
	bench_print(bench_figure("create 1MiB+fd p50, shmd with persistence", "us"));
	bench_pair("create 1MiB+fd p50, with persistence / without",
		   bench_figure("create 1MiB+fd p50, shmd with persistence", "us"),
		   bench_figure("create 1MiB+fd p50, shmd without persistence", "us"), 1.10, false);
	bench_print(bench_figure("restart with 18,000 regions (kill -9 to answer)", "ms"));
	bench_limit("restart with 18,000 regions (kill -9 to answer), ms",
		    bench_figure("restart with 18,000 regions (kill -9 to answer)", "ms"), 1000,
		    false);
}
