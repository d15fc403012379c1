/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Figures that depend on the registry's size: memory per region, List of 10,000, Create at 15,000. */

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench-shmd.h"
#include "bench.h"
#include "shmd.h"

#define SCALE_LOW 1000
#define SCALE_HIGH 15000
#define LIST_REGIONS 10000
#define PROBE_NAME "bench/probe"

struct scale {
	const struct bench_env *env;
	struct shmd_ctx *ctx;
	int count; /* regions bench/scale/000000 .. count-1 exist */
	int high;  /* the count the daemon's limits allow, at most SCALE_HIGH */
	double *us;
	int n_us;
};

static void scale_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "bench/scale/%06d", i);
}

static int fill(struct scale *s, int to)
{
	for (; s->count < to; s->count++) {
		char name[64];
		int r;

		scale_name(name, sizeof(name), s->count);
		r = shmd_create(s->ctx, name, 4096, 0600, 0, 0, NULL, NULL, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int unfill(struct scale *s, int to)
{
	while (s->count > to) {
		char name[64];
		int r;

		scale_name(name, sizeof(name), s->count - 1);
		r = shmd_delete(s->ctx, name);
		if (r < 0)
			return r;
		s->count--;
	}
	return 0;
}

/* p50 of Create 1 MiB + fd with the registry at s->count; the probe is deleted untimed. */
static int probe(struct scale *s, const char *figure)
{
	for (int i = 0; i < s->n_us; i++) {
		uint64_t t0 = bench_now_ns();
		int fd = -1, r = shmd_create(s->ctx, PROBE_NAME, MIB, 0600, 0, 0, &fd, NULL, NULL);

		s->us[i] = (double)(bench_now_ns() - t0) / 1e3;
		safe_close(fd);
		if (r < 0 || (r = shmd_delete(s->ctx, PROBE_NAME)) < 0)
			return r;
	}
	bench_add(bench_figure(figure, "us"), bench_percentile(s->us, (size_t)s->n_us, 50));
	return 0;
}

/* The daemon's open-file soft limit, from /proc/PID/limits. */
static long daemon_nofile(pid_t pid)
{
	char path[64], line[256];
	long soft = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Max open files %ld", &soft) == 1)
			break;
	fclose(f);
	return soft;
}

/* How many regions this daemon can hold: maxRegions and RLIMIT_NOFILE (one fd per region). */
static int pick_high(struct scale *s)
{
	struct shmd_status *st = NULL;
	uint64_t max_regions = 0;
	long nofile = daemon_nofile(s->env->shmd_pid);
	int high = SCALE_HIGH;
	int r = shmd_status(s->ctx, &st);

	if (r < 0)
		return r;
	if (shmd_status_get_limit(st, "maxRegions", &max_regions) && max_regions > 0 &&
	    max_regions - 1 < (uint64_t)high)
		high = (int)max_regions - 1;
	shmd_status_unref(st);
	/* Leave room for the listening socket, connections, the probe and the daemon's own fds. */
	if (nofile > 0 && nofile - 64 < high)
		high = (int)nofile - 64;
	bench_note(
		"scale: daemon pid %d, RLIMIT_NOFILE soft %ld, maxRegions %llu: going to %d regions",
		(int)s->env->shmd_pid, nofile, (unsigned long long)max_regions, high);
	s->high = high;
	return high > SCALE_LOW ? 0 : -ENOSPC;
}

static void report(struct scale *s, const char *low_fig, const char *high_fig)
{
	char label[96];

	bench_print(bench_figure(low_fig, "us"));
	bench_print(bench_figure(high_fig, "us"));
	snprintf(label, sizeof(label), "create p50 at %d / at %d regions", s->high, SCALE_LOW);
	bench_pair(label, bench_figure(high_fig, "us"), bench_figure(low_fig, "us"), 1.2, false);
}

static void memory_figures(struct scale *s, long long rss0, long long slab0)
{
	long long rss1 = bench_rss_bytes(s->env->shmd_pid), slab1 = bench_meminfo_bytes("Slab");
	struct bench_figure *f;
	char label[96];

	if (rss0 < 0 || rss1 < 0)
		return bench_fail("daemon VmRSS", rss0 < 0 ? (int)rss0 : (int)rss1);
	bench_note("memory: daemon VmRSS %lld KiB before the first region, %lld KiB at %d regions",
		   rss0 / 1024, rss1 / 1024, s->count);
	f = bench_figure("daemon RSS growth per region", "B");
	bench_add(f, (double)(rss1 - rss0) / s->count);
	bench_print(f);
	snprintf(label, sizeof(label), "daemon RSS per region (%d regions)", s->count);
	bench_limit(label, f, 1024, false);
	if (slab0 < 0 || slab1 < 0)
		return;
	/*
	 * The memfds' inode, dentry and file (and the daemon's own description's file) live in
	 * kernel slabs, which the daemon's RSS does not count: machine-wide, so other processes'
	 * work shows in it too; a region costs its total.
	 */
	f = bench_figure("kernel slab growth per region (machine-wide)", "B");
	bench_add(f, (double)(slab1 - slab0) / s->count);
	bench_print(f);
	f = bench_figure("memory per region, daemon RSS + kernel slab", "B");
	bench_add(f, (double)(rss1 - rss0 + slab1 - slab0) / s->count);
	bench_print(f);
}

/* Elements of the listing: a top-level array, or the first array member of an object. */
static int count_entries(json_object *o)
{
	if (json_object_is_type(o, json_type_array))
		return (int)json_object_array_length(o);
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (json_object_is_type(val, json_type_array))
				return (int)json_object_array_length(val);
		}
	}
	return -1;
}

/* shmctl ls --json > out_fd, timed from fork to exit. Seconds, or -errno / -EPROTO on failure. */
static double run_shmctl(const struct scale *s, int out_fd, int *ret_status)
{
	uint64_t t0 = bench_now_ns();
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return negative_errno();
	if (pid == 0) {
		if (dup2(out_fd, STDOUT_FILENO) < 0)
			_exit(127);
		setenv("SHMD_SOCKET", s->env->shmd_socket, 1);
		execl(s->env->shmctl_bin, "shmctl", "ls", "--json", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return negative_errno();
	*ret_status = status;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EPROTO;
	return (double)(bench_now_ns() - t0) / 1e9;
}

/* One run into a memfd: does shmctl have ls --json, and did it list every region? */
static bool shmctl_usable(const struct scale *s)
{
	_cleanup_close_ int out = memfd_create("shmctl-out", MFD_CLOEXEC);
	_cleanup_json_ json_object *o = NULL;
	int status = 0, n;
	double t;

	if (!s->env->shmctl_bin || access(s->env->shmctl_bin, X_OK) < 0) {
		bench_note("list: SKIPPED: no shmctl binary ($SHMCTL_BIN)");
		return false;
	}
	t = out < 0 ? -EBADF : run_shmctl(s, out, &status);
	if (t < 0) {
		bench_note("list: SKIPPED: '%s ls --json' failed (wait status 0x%x); "
			   "this shmctl lacks ls --json or could not reach the daemon",
			   s->env->shmctl_bin, (unsigned)status);
		return false;
	}
	lseek(out, 0, SEEK_SET);
	o = json_object_from_fd(out);
	n = o ? count_entries(o) : -1;
	bench_note("list: shmctl ls --json printed %d entries for %d regions", n, s->count);
	return true;
}

static void list_figures(struct scale *s)
{
	_cleanup_close_ int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct bench_figure *f;
	char name[96];

	snprintf(name, sizeof(name), "list %d regions, shmctl ls --json >/dev/null", s->count);
	f = bench_figure(name, "ms");
	if (!shmctl_usable(s))
		return;
	for (int i = 0; i < bench_cfg.runs; i++) {
		int status;
		double t = run_shmctl(s, devnull, &status);

		if (t < 0)
			return bench_fail("shmctl ls --json", (int)t);
		bench_add(f, t * 1e3);
	}
	bench_print(f);
	bench_limit(name, f, 250, false);
}

/* The same listing through libshmd in-process: the daemon's share of the end-to-end time. */
static void list_library(struct scale *s)
{
	struct bench_figure *f;
	char name[96];

	snprintf(name, sizeof(name), "list %d regions, libshmd shmd_list in-process", s->count);
	f = bench_figure(name, "ms");
	for (int i = 0; i < bench_cfg.runs; i++) {
		struct shmd_list *l = NULL;
		struct shmd_region *reg;
		uint64_t t0 = bench_now_ns();
		int r = shmd_list(s->ctx, NULL, &l), n = 0;

		while (r >= 0 && (r = shmd_list_next(l, &reg)) > 0) {
			shmd_region_unref(reg);
			n++;
		}
		shmd_list_free(l);
		if (r == -EOPNOTSUPP) {
			bench_note("list: SKIPPED: this daemon has no List method yet");
			return;
		}
		if (r < 0)
			return bench_fail("shmd_list", r);
		if (n != s->count)
			bench_note("list: libshmd listed %d regions, expected %d", n, s->count);
		bench_add(f, (double)(bench_now_ns() - t0) / 1e6);
	}
	bench_print(f);
}

static int list_and_memory(struct scale *s, long long rss0, long long slab0)
{
	int r = fill(s, MIN(LIST_REGIONS, s->high));

	if (r < 0)
		return r;
	memory_figures(s, rss0, slab0);
	list_library(s);
	list_figures(s);
	return 0;
}

static int rounds(struct scale *s, long long rss0, long long slab0)
{
	char low_fig[96], high_fig[96];
	int r;

	snprintf(low_fig, sizeof(low_fig), "create 1MiB+fd p50 at %d regions", SCALE_LOW);
	snprintf(high_fig, sizeof(high_fig), "create 1MiB+fd p50 at %d regions", s->high);
	for (int round = 0; round < bench_cfg.runs; round++) {
		if ((r = fill(s, SCALE_LOW)) < 0 || (r = probe(s, low_fig)) < 0)
			return r;
		if (round == 0 && (r = list_and_memory(s, rss0, slab0)) < 0)
			return r;
		if ((r = fill(s, s->high)) < 0 || (r = probe(s, high_fig)) < 0)
			return r;
		if ((r = unfill(s, SCALE_LOW)) < 0)
			return r;
	}
	report(s, low_fig, high_fig);
	return 0;
}

void bench_scale(const struct bench_env *e)
{
	struct scale s = { .env = e, .n_us = MAX(bench_cfg.lat_ops / 2, 10) };
	_cleanup_free_ double *us = calloc((size_t)s.n_us, sizeof(double));
	long long rss0, slab0;
	int r;

	s.us = us;
	s.ctx = shmd_ctx_new(e->shmd_socket);
	if (!us || !s.ctx) {
		shmd_ctx_unref(s.ctx);
		return bench_fail("scale", -ENOMEM);
	}
	r = pick_high(&s);
	rss0 = bench_rss_bytes(e->shmd_pid);
	slab0 = bench_meminfo_bytes("Slab");
	if (r >= 0)
		r = rounds(&s, rss0, slab0);
	if (r < 0) {
		bench_note("scale: stopped with %d regions", s.count);
		bench_fail("scale", r);
	}
	r = unfill(&s, 0);
	if (r < 0)
		bench_fail("scale: deleting the regions", r);
	shmd_ctx_unref(s.ctx);
}
