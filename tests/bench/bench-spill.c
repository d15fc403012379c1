/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Copying a region's data to the spill file and back: the fd-to-fd candidates of issue 12
 * (sendfile, splice through a pipe, pread + O_DIRECT pwrite from an aligned bounce buffer,
 * each with and without an XXH3 of every chunk, each made durable with fdatasync) against
 * the kernel primitive in the same run: O_DIRECT writes (reads) of the same bytes from
 * (into) a buffer, which is what dd oflag=direct (iflag=direct) does. GiB/s and ratios.
 * Then the engine itself (daemon/spill.c on its worker thread), whole spills and restores
 * with everything they do, against the same dd figures (issue 12's target: >= 0.8x).
 * BENCH_SPILL_MIB sets the region size (default 1024); BENCH_SPILL_DIR the directory of
 * the spill file (default /var/tmp: a disk filesystem, tmpfs has no O_DIRECT before 6.6).
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <xxhash.h>

#include "bench.h"
#include "region.h"
#include "spill.h"
#include "worker.h"

#define MIB (1024 * 1024ull)
#define CHUNK MIB

struct ctx {
	int memfd, file, direct;
	uint64_t size;
	char *buf; /* CHUNK, page aligned */
	int pipe[2];
	uint64_t sum; /* checksums, so the compiler keeps them */
};

static int fail_errno(void)
{
	return errno ? -errno : -EIO;
}

static int fsync_drop(struct ctx *c)
{
	if (fdatasync(c->file) < 0)
		return fail_errno();
	/* Restores must read the disk, not what the spill left in the page cache. */
	(void)posix_fadvise(c->file, 0, 0, POSIX_FADV_DONTNEED);
	return 0;
}

/* The checksum the engine needs when the data never came to user space: read it again. */
static int checksum_memfd(struct ctx *c)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		if (pread(c->memfd, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
		c->sum += XXH3_64bits(c->buf, CHUNK);
	}
	return 0;
}

/* ------------------------------------------------------------- memfd -> file (spill) */

static int out_dd(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK)
		if (pwrite(c->direct, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
	return fsync_drop(c);
}

static int out_sendfile(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		off_t in = (off_t)pos;
		if (lseek(c->file, (off_t)pos, SEEK_SET) < 0 ||
		    sendfile(c->file, c->memfd, &in, CHUNK) != (ssize_t)CHUNK)
			return fail_errno();
	}
	return (sum ? checksum_memfd(c) : 0) ?: fsync_drop(c);
}

static int out_splice(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		loff_t in = (loff_t)pos, out = (loff_t)pos;
		for (size_t left = CHUNK; left > 0;) {
			ssize_t n = splice(c->memfd, &in, c->pipe[1], NULL, left, SPLICE_F_MOVE);
			if (n <= 0)
				return fail_errno();
			for (ssize_t m = n; m > 0;) {
				ssize_t k = splice(c->pipe[0], NULL, c->file, &out, (size_t)m,
						   SPLICE_F_MOVE);
				if (k <= 0)
					return fail_errno();
				m -= k;
			}
			left -= (size_t)n;
		}
	}
	return (sum ? checksum_memfd(c) : 0) ?: fsync_drop(c);
}

static int out_bounce(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		if (pread(c->memfd, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
		if (sum)
			c->sum += XXH3_64bits(c->buf, CHUNK);
		if (pwrite(c->direct, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
	}
	return fsync_drop(c);
}

/* ------------------------------------------------------------- file -> memfd (restore) */

static int punch(struct ctx *c)
{
	return fallocate(c->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)c->size) <
			       0 ?
		       fail_errno() :
		       0;
}

static int in_dd(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK)
		if (pread(c->direct, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
	return 0;
}

static int in_sendfile(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		off_t in = (off_t)pos;
		if (lseek(c->memfd, (off_t)pos, SEEK_SET) < 0 ||
		    sendfile(c->memfd, c->file, &in, CHUNK) != (ssize_t)CHUNK)
			return fail_errno();
	}
	int r = sum ? checksum_memfd(c) : 0;
	(void)posix_fadvise(c->file, 0, 0, POSIX_FADV_DONTNEED);
	return r;
}

static int in_splice(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		loff_t in = (loff_t)pos, out = (loff_t)pos;
		for (size_t left = CHUNK; left > 0;) {
			ssize_t n = splice(c->file, &in, c->pipe[1], NULL, left, SPLICE_F_MOVE);
			if (n <= 0)
				return fail_errno();
			for (ssize_t m = n; m > 0;) {
				ssize_t k = splice(c->pipe[0], NULL, c->memfd, &out, (size_t)m, 0);
				if (k <= 0)
					return fail_errno();
				m -= k;
			}
			left -= (size_t)n;
		}
	}
	int r = sum ? checksum_memfd(c) : 0;
	(void)posix_fadvise(c->file, 0, 0, POSIX_FADV_DONTNEED);
	return r;
}

static int in_bounce(struct ctx *c, bool sum)
{
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		if (pread(c->direct, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
		if (sum)
			c->sum += XXH3_64bits(c->buf, CHUNK);
		if (pwrite(c->memfd, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
	}
	return 0;
}

/* ------------------------------------------------------------- the engine (spill.c) */

static struct {
	sd_event *event;
	struct worker *worker;
	struct spill *spill;
	struct region region;
	bool called;
	int error;
} engine;

static int engine_record(struct region *r, void *userdata)
{
	return 0;
}

static void engine_done(struct spill *sp, struct region *r, int error, void *userdata)
{
	engine.called = true;
	engine.error = error;
}

static int engine_wait(int r)
{
	while (r >= 0 && !engine.called)
		r = sd_event_run(engine.event, UINT64_MAX);
	engine.called = false;
	return r < 0 ? r : engine.error;
}

static int engine_setup(struct ctx *c, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/bench-spill-engine.%d", dir, (int)getpid());
	engine.region = (struct region){ .fd = c->memfd, .name = (char *)"bench/spill" };
	int r = sd_event_new(&engine.event);
	if (r >= 0)
		r = worker_new(engine.event, &engine.worker);
	if (r >= 0)
		r = spill_open(&engine.spill, engine.worker, path, c->size + 64 * MIB,
			       engine_record, NULL);
	unlink(path);
	return r;
}

/* The engine's whole spill: copy, XXH3, fdatasync, record, punch. */
static int out_engine(struct ctx *c, bool sum)
{
	return engine_wait(spill_out(engine.spill, &engine.region, engine_done, NULL));
}

/* The engine's whole restore (of the spill just before): read, verify, write, free. */
static int in_engine(struct ctx *c, bool sum)
{
	return engine_wait(spill_in(engine.spill, &engine.region, engine_done, NULL));
}

struct candidate {
	const char *name;
	int (*fn)(struct ctx *c, bool sum);
	bool sum;
	bool restore;
};

static const struct candidate candidates[] = {
	{ "spill/dd-oflag-direct", out_dd, false, false },
	{ "spill/sendfile", out_sendfile, false, false },
	{ "spill/sendfile+xxh3", out_sendfile, true, false },
	{ "spill/splice", out_splice, false, false },
	{ "spill/splice+xxh3", out_splice, true, false },
	{ "spill/bounce-odirect", out_bounce, false, false },
	{ "spill/bounce-odirect+xxh3", out_bounce, true, false },
	{ "spill/engine", out_engine, true, false },
	{ "restore/dd-iflag-direct", in_dd, false, true },
	{ "restore/sendfile", in_sendfile, false, true },
	{ "restore/sendfile+xxh3", in_sendfile, true, true },
	{ "restore/splice", in_splice, false, true },
	{ "restore/splice+xxh3", in_splice, true, true },
	{ "restore/bounce-odirect", in_bounce, false, true },
	{ "restore/bounce-odirect+xxh3", in_bounce, true, true },
	{ "restore/engine", in_engine, true, true },
};

static int setup(struct ctx *c, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/bench-spill.XXXXXX", dir);
	c->file = mkstemp(path);
	if (c->file < 0)
		return fail_errno();
	unlink(path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->file);
	c->direct = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	c->memfd = memfd_create("bench-spill", MFD_CLOEXEC);
	if (c->direct < 0 || c->memfd < 0 || pipe2(c->pipe, O_CLOEXEC) < 0)
		return fail_errno();
	(void)fcntl(c->pipe[1], F_SETPIPE_SZ, (int)CHUNK);
	if (fallocate(c->file, 0, 0, (off_t)c->size) < 0)
		return fail_errno();
	c->buf = aligned_alloc(4096, CHUNK);
	if (!c->buf)
		return -ENOMEM;
	/* Known, incompressible data, and the file written once (no unwritten extents). */
	for (uint64_t pos = 0; pos < c->size; pos += CHUNK) {
		for (size_t i = 0; i < CHUNK / 8; i++)
			((uint64_t *)c->buf)[i] = XXH64(&pos, 8, i);
		if (pwrite(c->memfd, c->buf, CHUNK, (off_t)pos) != (ssize_t)CHUNK)
			return fail_errno();
	}
	return out_dd(c, false) ?: engine_setup(c, dir);
}

static int run(struct ctx *c, const struct candidate *k)
{
	if (k->restore && k->fn != in_engine) {
		int r = punch(c);
		if (r < 0)
			return r;
	}
	uint64_t t0 = bench_now_ns();
	int r = k->fn(c, k->sum);
	if (r < 0)
		return r;
	double s = (double)(bench_now_ns() - t0) / 1e9;
	bench_add(bench_figure(k->name, "GiB/s"), (double)c->size / (1u << 30) / s);
	return 0;
}

int main(void)
{
	const char *mib = getenv("BENCH_SPILL_MIB"), *dir = getenv("BENCH_SPILL_DIR");
	struct ctx c = { .size = (mib ? strtoull(mib, NULL, 10) : 1024) * MIB };

	bench_begin("spill copy candidates, each against dd-style O_DIRECT I/O in the same run");
	bench_note("region %llu MiB, chunk 1 MiB, spill file in %s",
		   (unsigned long long)(c.size / MIB), dir ? dir : "/var/tmp");
	int r = c.size ? setup(&c, dir ? dir : "/var/tmp") : -EINVAL;
	if (r < 0) {
		bench_fail("setup", r);
		return bench_end() ? 1 : 0;
	}
	/* Interleaved: every run measures each candidate once, so they see the same machine. */
	for (int i = 0; i < bench_cfg.runs && r >= 0; i++)
		for (size_t k = 0; k < ELEMENTSOF(candidates) && r >= 0; k++)
			if ((r = run(&c, &candidates[k])) < 0)
				bench_fail(candidates[k].name, r);
	for (size_t k = 0; k < ELEMENTSOF(candidates); k++) {
		const struct candidate *x = &candidates[k];
		struct bench_figure *f = bench_figure(x->name, "GiB/s");
		bench_print(f);
		if (strstr(x->name, "/dd-"))
			continue;
		struct bench_figure *base = bench_figure(
			x->restore ? "restore/dd-iflag-direct" : "spill/dd-oflag-direct", "GiB/s");
		char label[128];
		snprintf(label, sizeof(label), "%s vs dd", x->name);
		bench_pair(label, f, base, NAN, true);
	}
	bench_note("checksums %llx", (unsigned long long)c.sum);
	bench_note("engine: spill = copy + XXH3 + fdatasync + record + punch; restore = read + "
		   "verify + write + free");
	spill_forget(engine.spill, &engine.region);
	worker_free(engine.worker);
	spill_free(engine.spill);
	sd_event_unref(engine.event);
	return bench_end() ? 1 : 0;
}
