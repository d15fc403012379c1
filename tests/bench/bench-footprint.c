/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What footprint costs: Stat with footprint of 1 GiB and 64 GiB sparse regions, a fully
 * written 1 GiB one and a 1 GiB one with every other page written (the SEEK_DATA worst
 * case), against the kernel work alone in this process (one cachestat(2) on the same
 * memfd) and against a plain Stat; Ranges with 1024 named ranges; a Holders scan of /proc;
 * and how long each footprint holds the daemon's event loop (its thread's CPU time: the
 * measurement itself runs on the worker thread since issue 13).
 */

#include <fcntl.h>
#include <math.h>
#include <dirent.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench-shmd.h"
#include "bench.h"
#include "shmd.h"

#define GIB (1024 * MIB)
#define STATS_PER_RUN 20
#define PG 4096

struct cachestat_range {
	uint64_t off, len;
};
struct cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* What the daemon's footprint costs the kernel (one cachestat), done here on the same memfd. */
static int kernel_footprint(int fd, uint64_t size)
{
	struct cachestat_range range = { 0, size };
	struct cachestat cs;

	return syscall(451, fd, &range, &cs, 0) < 0 ? negative_errno() : 0;
}

/* Write every page (step 1) or every other page (step 2) of [0, size). */
static int fill(int fd, uint64_t size, int step)
{
	static char buf[MIB];

	memset(buf, 'x', sizeof(buf));
	for (uint64_t pos = 0; pos < size; pos += step == 1 ? sizeof(buf) : 2 * PG)
		if (pwrite(fd, buf, step == 1 ? sizeof(buf) : PG, (off_t)pos) < 0)
			return negative_errno();
	return 0;
}

struct fp_case {
	const char *name, *what;
	uint64_t size;
	int step; /* 0: sparse, 1: every page, 2: every other page */
};

static const struct fp_case cases[] = {
	{ "bench/fp/1g-sparse", "1 GiB sparse", GIB, 0 },
	{ "bench/fp/64g-sparse", "64 GiB sparse", 64 * GIB, 0 },
	{ "bench/fp/1g-full", "1 GiB written", GIB, 1 },
	{ "bench/fp/1g-checker", "1 GiB, every other page", GIB, 2 },
};

/* Median-of-STATS_PER_RUN microseconds of one way to measure, per run. */
static void time_runs(struct shmd_ctx *ctx, const struct fp_case *c, int fd)
{
	char kname[96], sname[96], pname[96];
	double k[STATS_PER_RUN], s[STATS_PER_RUN], p[STATS_PER_RUN];

	snprintf(kname, sizeof(kname), "footprint %s: kernel work in-process", c->what);
	snprintf(sname, sizeof(sname), "footprint %s: Stat with footprint", c->what);
	snprintf(pname, sizeof(pname), "footprint %s: plain Stat", c->what);
	for (int run = 0; run < bench_cfg.runs + 1; run++) {
		for (int i = 0; i < STATS_PER_RUN; i++) {
			struct shmd_region *r = NULL;
			uint64_t t0 = bench_now_ns();
			if (kernel_footprint(fd, c->size) < 0)
				return bench_fail("cachestat/SEEK_DATA", -errno);
			uint64_t t1 = bench_now_ns();
			int err = shmd_stat_footprint(ctx, c->name, &r);
			uint64_t t2 = bench_now_ns();
			shmd_region_unref(r);
			r = NULL;
			if (err >= 0)
				err = shmd_stat(ctx, c->name, &r);
			uint64_t t3 = bench_now_ns();
			shmd_region_unref(r);
			if (err < 0)
				return bench_fail("Stat", err);
			k[i] = (double)(t1 - t0) / 1e3;
			s[i] = (double)(t2 - t1) / 1e3;
			p[i] = (double)(t3 - t2) / 1e3;
		}
		if (run == 0)
			continue; /* warm-up */
		bench_add(bench_figure(kname, "us"), bench_percentile(k, STATS_PER_RUN, 50));
		bench_add(bench_figure(sname, "us"), bench_percentile(s, STATS_PER_RUN, 50));
		bench_add(bench_figure(pname, "us"), bench_percentile(p, STATS_PER_RUN, 50));
	}
	bench_print(bench_figure(kname, "us"));
	bench_print(bench_figure(sname, "us"));
	bench_print(bench_figure(pname, "us"));
	char label[128];
	snprintf(label, sizeof(label), "Stat+footprint, %s - plain Stat vs kernel work", c->what);
	/* The daemon's extra over a plain Stat, against the syscalls it makes. */
	struct bench_figure *extra = bench_figure(label, "us");
	for (size_t i = 0; i < bench_figure(sname, "us")->n; i++)
		bench_add(extra, bench_figure(sname, "us")->v[i] - bench_figure(pname, "us")->v[i]);
	bench_pair(label, extra, bench_figure(kname, "us"), NAN, false);
}

/* CPU time (ns) a thread of pid has run, from its schedstat; -1 if unreadable. */
static double thread_cpu_ns(pid_t pid, pid_t tid)
{
	char path[64];
	double ns = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	FILE *f = fopen(path, "re");
	if (f && fscanf(f, "%lf", &ns) != 1)
		ns = -1;
	if (f)
		fclose(f);
	return ns;
}

/* The daemon's other thread (its worker), or -1. */
static pid_t worker_tid(pid_t pid)
{
	char path[64];
	pid_t tid = -1;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	for (struct dirent *de; d && (de = readdir(d));)
		if (de->d_name[0] != '.' && atoi(de->d_name) != pid)
			tid = atoi(de->d_name);
	if (d)
		closedir(d);
	return tid;
}

/*
 * How long each Stat+footprint of 1 GiB written holds the event loop: the CPU time of the
 * daemon's loop thread (schedstat, ns) per call, beside its worker thread's: all of the
 * kernel's ~2-4 ms would be the loop's if it measured there.
 */
static void loop_cpu_figures(const struct bench_env *e, struct shmd_ctx *ctx)
{
	struct bench_figure *loop = bench_figure(
		"loop blocked: event-loop thread CPU per Stat+footprint of 1 GiB written", "us");
	struct bench_figure *work = bench_figure(
		"footprint on the worker: worker thread CPU per Stat+footprint of 1 GiB written",
		"us");
	pid_t pid = e->shmd_pid;

	for (int run = 0; run < bench_cfg.runs; run++) {
		double l0 = thread_cpu_ns(pid, pid), w0 = -1, l1, w1;
		pid_t tid = worker_tid(pid); /* it exists after the first deferred footprint */
		w0 = tid > 0 ? thread_cpu_ns(pid, tid) : -1;
		for (int i = 0; i < STATS_PER_RUN; i++) {
			struct shmd_region *r = NULL;
			int err = shmd_stat_footprint(ctx, "bench/fp/1g-full", &r);
			shmd_region_unref(r);
			if (err < 0)
				return bench_fail("Stat", err);
		}
		l1 = thread_cpu_ns(pid, pid);
		w1 = tid > 0 ? thread_cpu_ns(pid, tid) : -1;
		if (l0 < 0 || l1 < 0)
			return bench_note("loop blocked: SKIPPED: no schedstat for the daemon");
		bench_add(loop, (l1 - l0) / 1e3 / STATS_PER_RUN);
		if (w0 >= 0 && w1 >= 0)
			bench_add(work, (w1 - w0) / 1e3 / STATS_PER_RUN);
	}
	bench_print(loop);
	bench_print(work);
}

static void ranges_figure(struct shmd_ctx *ctx)
{
	struct bench_figure *f =
		bench_figure("Ranges with footprint, 1 GiB written, 1024 ranges", "us");

	for (int i = 0; i < 1024; i++)
		if (shmd_label(ctx, "bench/fp/1g-full", (uint64_t)i * 256 * PG, 128 * PG,
			       i % 2 ? "odd" : "even") < 0)
			return bench_fail("Label", -EIO);
	for (int run = 0; run < bench_cfg.runs; run++) {
		struct shmd_ranges *rs = NULL;
		uint64_t t0 = bench_now_ns();
		int r = shmd_ranges(ctx, "bench/fp/1g-full", SHMD_RANGES_FOOTPRINT, &rs);
		bench_add(f, (double)(bench_now_ns() - t0) / 1e3);
		if (r < 0 || shmd_ranges_count(rs) != 2048) {
			shmd_ranges_unref(rs);
			return bench_fail("Ranges", r < 0 ? r : -EPROTO);
		}
		shmd_ranges_unref(rs);
	}
	bench_print(f);
}

static void holders_figure(struct shmd_ctx *ctx)
{
	struct bench_figure *f = bench_figure("Holders: /proc scan in the daemon", "us");
	struct bench_figure *n = bench_figure("Holders: processes scanned", "");

	for (int run = 0; run < bench_cfg.runs; run++) {
		struct shmd_holders *h = NULL;
		int r = shmd_holders(ctx, "bench/fp/1g-sparse", &h);
		if (r < 0)
			return bench_fail("Holders", r);
		bench_add(f, (double)shmd_holders_get_scan(h, SHMD_HOLDERS_SCAN_USEC));
		bench_add(n, (double)shmd_holders_get_scan(h, SHMD_HOLDERS_SCANNED));
		shmd_holders_unref(h);
	}
	bench_print(f);
	bench_print(n);
}

void bench_footprint(const struct bench_env *e)
{
	struct shmd_ctx *ctx = shmd_ctx_new(e->shmd_socket);
	int fds[ELEMENTSOF(cases)];

	if (!ctx)
		return bench_fail("shmd_ctx_new", -ENOMEM);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct fp_case *c = &cases[i];
		int r = shmd_create(ctx, c->name, c->size, 0600, 0, 0, &fds[i], NULL, NULL);
		if (r >= 0 && c->step)
			r = fill(fds[i], c->size, c->step);
		if (r < 0) {
			bench_fail("creating the footprint regions", r);
			goto out;
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		time_runs(ctx, &cases[i], fds[i]);
	loop_cpu_figures(e, ctx);
	ranges_figure(ctx);
	holders_figure(ctx);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		close(fds[i]);
		shmd_delete(ctx, cases[i].name);
	}
out:
	shmd_ctx_unref(ctx);
}
