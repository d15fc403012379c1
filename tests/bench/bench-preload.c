/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd-preload against glibc's shm_open in the same run: create+ftruncate+close+unlink loops. */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "shmd.h"
#include "testlib.h"

typedef int (*open_fn)(const char *, int, mode_t);
typedef int (*unlink_fn)(const char *);

/* One cycle as a POSIX program does it: shm_open(O_CREAT|O_EXCL), ftruncate, close, shm_unlink. */
static int cycle_posix(open_fn o, unlink_fn u, const char *name)
{
	int fd = o(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		return -errno;
	int r = ftruncate(fd, 65536) < 0 ? -errno : 0;
	close(fd);
	if (u(name) < 0 && r == 0)
		r = -errno;
	return r;
}

/* The same through libshmd directly: what the preload adds on top of the library. */
static int cycle_libshmd(struct shmd_ctx *ctx, const char *name)
{
	int fd;
	int r = shmd_create(ctx, name, 0, 0600, 0, 0, &fd, NULL, NULL);
	if (r < 0)
		return r;
	r = ftruncate(fd, 65536) < 0 ? -errno : 0;
	close(fd);
	int d = shmd_delete(ctx, name);
	return r < 0 ? r : d;
}

/* µs per cycle over bench_cfg.lat_ops cycles; NAN on failure. */
static double run(int kind, open_fn o, unlink_fn u, struct shmd_ctx *ctx)
{
	int ops = bench_cfg.lat_ops;
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < ops; i++) {
		int r = kind == 2 ? cycle_libshmd(ctx, "posix/bench-preload") :
				    cycle_posix(o, u, "/bench-preload");
		if (r < 0) {
			bench_fail(kind == 0 ? "glibc" : kind == 1 ? "preload" : "libshmd", r);
			return NAN;
		}
	}
	return (double)(bench_now_ns() - t0) / 1e3 / ops;
}

static int measure(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	open_fn libc_open = libc ? (open_fn)dlsym(libc, "shm_open") : NULL;
	unlink_fn libc_unlink = libc ? (unlink_fn)dlsym(libc, "shm_unlink") : NULL;
	if (!libc_open || !libc_unlink || libc_open == shm_open) {
		fprintf(stderr, "bench-preload: the preload is not loaded, or no libc shm_open\n");
		return 2;
	}
	struct shmd_ctx *ctx = shmd_ctx_new(NULL);

	bench_begin("libshmd-preload: shm_open(O_CREAT|O_EXCL) + ftruncate(64K) + close + "
		    "shm_unlink");
	struct bench_figure *g = bench_figure("cycle, glibc (/dev/shm)", "us");
	struct bench_figure *p = bench_figure("cycle, preload (shmd)", "us");
	struct bench_figure *l = bench_figure("cycle, libshmd create+delete", "us");
	for (int i = -1; i < bench_cfg.runs; i++) { /* run -1: warm-up */
		double vg = run(0, libc_open, libc_unlink, NULL);
		double vp = run(1, shm_open, shm_unlink, NULL);
		double vl = run(2, NULL, NULL, ctx);
		if (i >= 0)
			bench_add(g, vg), bench_add(p, vp), bench_add(l, vl);
	}
	bench_print(g);
	bench_print(p);
	bench_print(l);
	/* No verdicts: the figures are for docs/PERFORMANCE.md, the targets are the words. */
	bench_pair("preload / glibc, us per cycle", p, g, NAN, false);
	bench_pair("preload / libshmd, us per cycle", p, l, NAN, false);
	shmd_ctx_unref(ctx);
	return bench_end() == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "measure") == 0)
		return measure();

	char lib[PATH_MAX];
	const char *b = getenv("SHMD_BUILDDIR");
	snprintf(lib, sizeof(lib), "%s/libshmd/.libs/libshmd-preload.so", b ? b : ".");
	if (access(lib, R_OK) < 0) {
		fprintf(stderr, "bench-preload: %s: %s\n", lib, strerror(errno));
		return 2;
	}
	struct test_daemon d;
	int saved_stderr = bench_servers_log_begin();
	int r = test_daemon_start(&d, NULL);
	bench_servers_log_end(saved_stderr);
	if (r < 0) {
		fprintf(stderr, "bench-preload: cannot start shmd: %s\n", strerror(-r));
		return 2;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("LD_PRELOAD", lib, 1);
		setenv("SHMD_SOCKET", d.socket, 1);
		setenv("SHMD_PRELOAD_FALLBACK", "0", 1);
		execl("/proc/self/exe", argv[0], "measure", (char *)NULL);
		_exit(127);
	}
	int status = 1;
	waitpid(pid, &status, 0);
	test_daemon_stop(&d);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
