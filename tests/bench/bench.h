/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark harness: repeated timed runs, figures, paired ratios against a baseline, machine line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define BENCH_MAX_RUNS 64

/* Knobs, from the environment (BENCH_RUNS, BENCH_SECONDS, BENCH_LAT_OPS), set by bench_begin(). */
struct bench_config {
	int runs;	/* measured runs per figure, after one warm-up run */
	double seconds; /* length of one throughput run */
	int lat_ops;	/* operations timed per latency run */
};
extern struct bench_config bench_cfg;

/* One measured quantity: the value of each run. */
struct bench_figure {
	char name[96];
	char unit[16];
	double v[BENCH_MAX_RUNS];
	size_t n;
};

uint64_t bench_now_ns(void);

/* Print the machine (cores, kernel, CPU) and the load; read the knobs. */
void bench_begin(const char *title);
/* Print the end load and the ratio table. Returns the number of failed figures (0 = all ran). */
int bench_end(void);

void bench_note(const char *fmt, ...) _printf_(1, 2);
/* A figure could not be measured: printed, counted, and bench_end() returns non-zero. */
void bench_fail(const char *what, int r);

/* Find or add the figure called name. Never NULL (aborts on OOM). */
struct bench_figure *bench_figure(const char *name, const char *unit);
void bench_add(struct bench_figure *f, double v);
/* "name median min max unit runs". */
void bench_print(const struct bench_figure *f);
double bench_median(const struct bench_figure *f);

/* Nearest-rank percentile (0 < p <= 100) of v; sorts v in place. */
double bench_percentile(double *v, size_t n, double p);

/*
 * Register a row of the ratio table: shmd / base, computed as the median of the
 * per-run ratios when both figures have the same number of runs (runs were
 * interleaved, so each pair saw the same machine state), else the ratio of medians.
 * at_least: the target is a floor (throughput), else a ceiling (latency).
 * target NAN: reported without a verdict.
 */
void bench_pair(const char *label, const struct bench_figure *shmd, const struct bench_figure *base,
		double target, bool at_least);
/* A row with an absolute target on the figure's median (unit as the figure's). */
void bench_limit(const char *label, const struct bench_figure *f, double target, bool at_least);
/* Note where process pid may run (Cpus_allowed_list), for the placement of the figures. */
void bench_note_cpus(const char *part, const char *who, pid_t pid);
/*
 * Servers started between these two write their stderr (shmd's audit lines, the bare
 * server's) to $BENCH_SERVER_LOG, appended, instead of the benchmark's output: both pay
 * the same write() to a regular file. Begin returns the saved stderr (or -1), end takes it.
 */
int bench_servers_log_begin(void);
void bench_servers_log_end(int saved_stderr);
/* A row whose ratio was computed by the caller (e.g. one figure against itself at another size). */
void bench_ratio(const char *label, double ratio, double target, bool at_least);

/* Forked client processes, each running op() in a loop for bench_cfg.seconds. */
struct bench_worker {
	/* In the child, before the common start: connect, prepare. 0 or -errno. */
	int (*setup)(void *arg, int idx, void **state);
	/* One operation. 0 or -errno (stops that child). */
	int (*op)(void *state, uint64_t iteration);
	void (*teardown)(void *state);
	void *arg;
};

/*
 * Run w in n child processes started together; returns the sum of each child's
 * ops/s, or a negative errno when a child failed.
 */
double bench_parallel(const struct bench_worker *w, int n, double seconds);

/* CPU time (user + system) of pid so far, in microseconds, or -errno. */
long long bench_cpu_usec(pid_t pid);
/* CPU time of this process's reaped children so far, in microseconds. */
long long bench_children_cpu_usec(void);

/* VmRSS of pid in bytes, or -errno. */
long long bench_rss_bytes(pid_t pid);
/* A /proc/meminfo field in bytes, or -errno. */
long long bench_meminfo_bytes(const char *field);
