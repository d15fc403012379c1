/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-shmd: what the daemon costs against the kernel's own primitives, measured in
 * one run. Usage: bench-shmd [create|open|openmany|churn|json|scale|quota|restart|footprint]...
 * (default: all).
 * Needs $SHMD_BIN; $SHMCTL_BIN for the List figure; $BENCH_BARE_SERVER or a
 * bare-server binary next to this one. Knobs: BENCH_RUNS, BENCH_SECONDS, BENCH_LAT_OPS.
 */

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bare.h"
#include "bench-shmd.h"
#include "bench.h"
#include "testlib.h"

struct part {
	const char *name;
	void (*fn)(const struct bench_env *e);
	bool bare; /* needs the bare baseline server */
};

static const struct part parts[] = {
	{ "create", bench_create_latency, true },
	{ "open", bench_open_throughput, true },
	{ "openmany", bench_open_many, true },
	{ "churn", bench_churn, true },
	{ "json", bench_json, false },
	{ "scale", bench_scale, false },
	{ "quota", bench_quota, false },
	{ "restart", bench_restart, false },
	{ "footprint", bench_footprint, false },
};

static bool selected(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

/* The daemon raises its soft RLIMIT_NOFILE to the hard limit itself; do it here too so it inherits it. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static char *bare_server_path(const char *argv0)
{
	const char *env = getenv("BENCH_BARE_SERVER");
	_cleanup_free_ char *copy = strdup(argv0);
	char *path = NULL;

	if (env && *env)
		return strdup(env);
	if (!copy || asprintf(&path, "%s/bare-server", dirname(copy)) < 0)
		return NULL;
	return path;
}

int bench_daemon_start(struct test_daemon *d, const char *const *extra_args)
{
	int saved_stderr = bench_servers_log_begin();
	int r = test_daemon_start(d, extra_args);

	bench_servers_log_end(saved_stderr);
	return r;
}

static int run_part(const struct part *p, struct bench_env *e, const char *bare_bin)
{
	struct test_daemon d;
	_cleanup_free_ char *bare_sock = NULL;
	pid_t bare = -1;
	int saved_stderr = -1;
	int r = bench_daemon_start(&d, NULL);

	if (r < 0) {
		bench_fail("starting shmd ($SHMD_BIN)", r);
		return r;
	}
	e->shmd_socket = d.socket;
	e->shmd_pid = d.pid;
	bench_note_cpus(p->name, "shmd", d.pid);
	if (p->bare) {
		saved_stderr = bench_servers_log_begin();
		if (asprintf(&bare_sock, "%s/bare.sock", d.dir) < 0)
			bare_sock = NULL;
		bare = bare_sock ? bare_server_start(bare_bin, bare_sock) : -ENOMEM;
		e->bare_socket = bare_sock;
		e->bare_pid = bare;
		if (bare > 0)
			bench_note_cpus(p->name, "bare server", bare);
	}
	bench_servers_log_end(saved_stderr);
	if (bare < 0 && p->bare)
		bench_fail("starting the bare server", bare);
	else
		p->fn(e);
	if (bare > 0)
		bare_server_stop(bare);
	r = test_daemon_stop(&d);
	if (r != 0)
		bench_note("shmd exited with status %d", r);
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *bare_bin = bare_server_path(argv[0]);
	struct bench_env e = { .shmctl_bin = getenv("SHMCTL_BIN") };
	uint64_t t0 = bench_now_ns();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!getenv("SHMD_BIN")) {
		fprintf(stderr, "bench-shmd: set SHMD_BIN to the shmd binary (make bench does)\n");
		return 2;
	}
	raise_nofile();
	bench_begin("shmd benchmarks: each shmd figure with its baseline, interleaved in this run");
	/* Each part gets a fresh daemon: a part's leftovers (heap, registry) must not colour the next. */
	for (size_t i = 0; i < ELEMENTSOF(parts); i++)
		if (selected(argc, argv, parts[i].name))
			run_part(&parts[i], &e, bare_bin);
	bench_note("total time %.1f s", (double)(bench_now_ns() - t0) / 1e9);
	return bench_end() ? 1 : 0;
}
