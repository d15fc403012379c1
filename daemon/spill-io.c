/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill engine's I/O, on its thread: memfd -> spill file through an aligned bounce
 * buffer written with O_DIRECT (bench-spill measured the candidates: the bounce buffer also
 * gives the XXH3 for free and leaves no page cache behind, which matters when spilling to
 * relieve memory pressure), and back with the checksums verified.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "fileio.h"
#include "macro.h"
#include "spill-index.h"
#include "spill-internal.h"
#include "worker.h"

#define PAGE 4096u
/* The file grows by at least this much at a time (fallocate is slow per call). */
#define GROW_MIN (64ull << 20)

static int fail(struct spill_job *j, int err, const char *what)
{
	j->error = err;
	j->what = what;
	return err;
}

/* Cancelled by spill_cancel()/spill_forget(), or the daemon is stopping. */
static bool cancelled(struct spill_job *j)
{
	return __atomic_load_n(&j->cancelled, __ATOMIC_RELAXED) || worker_stopping(j->sp->worker);
}

/* Grow the file for at least need more bytes, under the lock. -ENOSPC when at max_size. */
static int grow(struct spill *sp, uint64_t need)
{
	uint64_t want = MAX(need, GROW_MIN), room = sp->max_size - sp->file_size;

	if (sp->file_size >= sp->max_size)
		return -ENOSPC; /* the spill file is full */
	want = MIN((want + SPILL_CHUNK - 1) / SPILL_CHUNK * SPILL_CHUNK, room);
	/* Preallocated: O_DIRECT writes into blocks not yet allocated are much slower. */
	while (fallocate(sp->fd, 0, (off_t)sp->file_size, (off_t)want) < 0) {
		if (errno != ENOSPC || want <= need)
			return negative_errno(); /* the filesystem is full, or I/O error */
		want = MIN((need + PAGE - 1) / PAGE * PAGE, room);
	}
	int r = spill_alloc_grow(&sp->alloc, sp->file_size + want);
	if (r >= 0)
		sp->file_size += want;
	return r;
}

static int get_space(struct spill *sp, uint64_t len, uint64_t *off, uint64_t *got)
{
	pthread_mutex_lock(&sp->lock);
	int r = spill_alloc_get(&sp->alloc, len, off, got);
	if (r == -ENOSPC && (r = grow(sp, len)) >= 0)
		r = spill_alloc_get(&sp->alloc, len, off, got);
	pthread_mutex_unlock(&sp->lock);
	return r;
}

void spill_io_free_extents(struct spill *sp, const struct spill_extent *e, size_t n)
{
	pthread_mutex_lock(&sp->lock);
	for (size_t i = 0; i < n; i++)
		(void)spill_alloc_put(&sp->alloc, e[i].file_offset, e[i].length);
	pthread_mutex_unlock(&sp->lock);
}

static int add_extent(struct spill_job *j, const struct spill_extent *e)
{
	if (j->n_ext == SPILL_INDEX_MAX_EXTENTS)
		return -E2BIG;
	if (j->n_ext == j->cap_ext) {
		size_t cap = j->cap_ext ? 2 * j->cap_ext : 64;
		struct spill_extent *p = reallocarray(j->ext, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		j->ext = p;
		j->cap_ext = cap;
	}
	j->ext[j->n_ext++] = *e;
	return 0;
}

/* Bytes read (short only at EOF) or -errno. */
static ssize_t read_full(int fd, char *p, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static bool zero_page(const char *p)
{
	return p[0] == 0 && memcmp(p, p + 1, PAGE - 1) == 0;
}

/*
 * [a, b) of buf (region offset pos + a) to free space, in as many pieces as the file has,
 * each written with one pwrite (up to SPILL_IO bytes: fewer, larger O_DIRECT writes) and
 * recorded as extents of at most SPILL_CHUNK, each with its own XXH3.
 */
static int write_run(struct spill *sp, struct spill_job *j, uint64_t pos, size_t a, size_t b)
{
	while (a < b) {
		uint64_t off, got;
		int r = get_space(sp, b - a, &off, &got);
		if (r < 0)
			return fail(j, r, "allocate");
		for (uint64_t k = 0; k < got; k += SPILL_CHUNK) {
			uint64_t n = MIN(SPILL_CHUNK, got - k);
			struct spill_extent e = { pos + a + k, off + k, n,
						  XXH3_64bits(sp->buf + a + k, n) };
			if ((r = add_extent(j, &e)) < 0) { /* the rest of the piece goes back */
				struct spill_extent rest = { 0, off + k, got - k, 0 };
				spill_io_free_extents(sp, &rest, 1);
				return fail(j, r, "index");
			}
		}
		if ((r = spill_aio_write(&sp->aio, sp->cur, sp->buf + a, got, off)) < 0)
			return fail(j, r, "write");
		a += got;
	}
	return 0;
}

/* The non-zero pages of buf[0, len) (zero gaps shorter than SPILL_ZERO_SKIP_MIN kept). */
static int write_chunk(struct spill *sp, struct spill_job *j, uint64_t pos, size_t len)
{
	size_t a = 0;

	while (a < len) {
		while (a < len && zero_page(sp->buf + a))
			a += PAGE;
		if (a == len)
			break;
		size_t b = a + PAGE, zeros = 0;
		for (size_t p = b; p < len && zeros < SPILL_ZERO_SKIP_MIN; p += PAGE) {
			zeros = zero_page(sp->buf + p) ? zeros + PAGE : 0;
			if (!zeros)
				b = p + PAGE;
		}
		int r = write_run(sp, j, pos, a, b);
		if (r < 0)
			return r;
		a = b;
	}
	return 0;
}

/* The next buffer, once the disk is done with what it held. */
static int next_buffer(struct spill *sp, struct spill_job *j)
{
	sp->cur ^= 1;
	sp->buf = sp->bufs[sp->cur];
	int r = spill_aio_drain(&sp->aio, (int)sp->cur);
	return r < 0 ? fail(j, r, "write") : 0;
}

/*
 * Every data extent (SEEK_DATA/SEEK_HOLE) in chunks aligned to SPILL_IO of the region,
 * read into one buffer while the other's writes are in flight.
 */
static int copy_data(struct spill *sp, struct spill_job *j)
{
	for (uint64_t pos = 0; pos < j->size;) {
		off_t data = lseek(j->memfd, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		off_t hole = data < 0 ? -1 : lseek(j->memfd, data, SEEK_HOLE);
		if (hole < 0)
			return fail(j, negative_errno(), "seek");
		for (pos = (uint64_t)data & ~(uint64_t)(PAGE - 1); pos < (uint64_t)hole;) {
			uint64_t next = MIN((uint64_t)hole, (pos / SPILL_IO + 1) * SPILL_IO);
			ssize_t n = read_full(j->memfd, sp->buf, next - pos, pos);
			if (n < 0)
				return fail(j, (int)n, "read");
			size_t len = ((size_t)n + PAGE - 1) / PAGE * PAGE;
			memset(sp->buf + n, 0, len - (size_t)n); /* the tail past EOF */
			int r = write_chunk(sp, j, pos, len);
			if (r < 0 || (r = next_buffer(sp, j)) < 0)
				return r;
			if (j->n_ext > 0 && !j->held) { /* tests: hold the job mid-spill */
				j->held = true;
				worker_fault_hold(sp->worker, "spill-write");
			}
			if (cancelled(j))
				return fail(j, -ECANCELED, "cancel");
			pos = n > 0 ? next : (uint64_t)hole;
		}
	}
	return 0;
}

static int copy_out(struct spill *sp, struct spill_job *j)
{
	int r = copy_data(sp, j);
	/* Every write done (failed or not) before the buffers are reused or the space freed. */
	int w = spill_aio_drain(&sp->aio, -1);
	if (r < 0)
		return r;
	if (w < 0)
		return fail(j, w, "write");
	/* Durable before the index is recorded and the memfd punched. */
	if (fdatasync(sp->fd) < 0)
		return fail(j, negative_errno(), "fdatasync");
	return 0;
}

static int punch(struct spill_job *j)
{
	/* Whole pages: a partial last page would only be zeroed, not freed. */
	uint64_t len = (j->size + PAGE - 1) / PAGE * PAGE;

	if (len > 0 &&
	    fallocate(j->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)len) < 0)
		return fail(j, negative_errno(), "punch");
	return 0;
}

/* Extents [i, end) that follow each other in the region and in the file, up to SPILL_IO. */
static size_t batch_end(const struct spill_job *j, size_t i)
{
	uint64_t len = j->ext[i].length;
	size_t k = i + 1;

	for (; k < j->n_ext; k++) {
		const struct spill_extent *p = &j->ext[k - 1], *e = &j->ext[k];
		if (e->offset != p->offset + p->length ||
		    e->file_offset != p->file_offset + p->length || len + e->length > SPILL_IO)
			break;
		len += e->length;
	}
	return k;
}

/* Start reading batch [i, batch_end) into buffer buf. */
static int read_batch(struct spill *sp, struct spill_job *j, unsigned buf, size_t i)
{
	size_t end = batch_end(j, i);
	uint64_t len = j->ext[end - 1].offset + j->ext[end - 1].length - j->ext[i].offset;
	int r = spill_aio_read(&sp->aio, buf, sp->bufs[buf], len, j->ext[i].file_offset);
	return r < 0 ? (j->bad = i, fail(j, r, "read")) : 0;
}

/* The batch at i, read into sp->buf: every checksum, then one write into the memfd. */
static int restore_batch(struct spill *sp, struct spill_job *j, size_t i, size_t end)
{
	const struct spill_extent *e = &j->ext[i];
	uint64_t len = j->ext[end - 1].offset + j->ext[end - 1].length - e->offset;

	for (size_t k = i; k < end; k++) {
		const struct spill_extent *x = &j->ext[k];
		if (XXH3_64bits(sp->buf + (x->offset - e->offset), x->length) != x->xxh3) {
			j->bad = k;
			return fail(j, -EBADMSG, "checksum");
		}
	}
	if (i == 0) /* tests: hold the job mid-restore */
		worker_fault_hold(sp->worker, "restore-read");
	if (e->offset >= j->size)
		return 0;
	int r = pwrite_full(j->memfd, sp->buf, MIN(len, j->size - e->offset), e->offset);
	return r < 0 ? fail(j, r, "write") : 0;
}

/* Every extent read back and checked before it is written; the next batch read meanwhile. */
static int copy_batches(struct spill *sp, struct spill_job *j)
{
	unsigned cur = 0;
	int r = j->n_ext ? read_batch(sp, j, cur, 0) : 0;

	for (size_t i = 0, end; r >= 0 && i < j->n_ext; i = end, cur ^= 1) {
		end = batch_end(j, i);
		if (end < j->n_ext && (r = read_batch(sp, j, !cur, end)) < 0)
			break;
		if ((r = spill_aio_drain(&sp->aio, (int)cur)) < 0) {
			j->bad = i;
			r = fail(j, r, "read");
			break;
		}
		sp->buf = sp->bufs[cur];
		r = restore_batch(sp, j, i, end);
	}
	return r;
}

static int copy_in(struct spill *sp, struct spill_job *j)
{
	int r = copy_batches(sp, j);
	(void)spill_aio_drain(&sp->aio, -1); /* nothing in flight once the job is done */
	sp->cur = 0;
	sp->buf = sp->bufs[0];
	return r;
}

void spill_io_run(struct spill *sp, struct spill_job *j)
{
	struct stat st;

	switch (j->phase) {
	case SPILL_PHASE_COPY_OUT:
		if (fstat(j->memfd, &st) < 0)
			(void)fail(j, negative_errno(), "stat");
		else {
			j->size = (uint64_t)st.st_size;
			(void)copy_out(sp, j);
		}
		break;
	case SPILL_PHASE_PUNCH:
		/* A cancel that arrives before this point keeps the region resident. */
		if (cancelled(j))
			(void)fail(j, -ECANCELED, "cancel");
		else
			(void)punch(j);
		break;
	case SPILL_PHASE_COPY_IN:
		/* Whatever failed, no half-restored data stays in memory. */
		if (copy_in(sp, j) < 0) {
			int err = j->error;
			const char *what = j->what;
			(void)punch(j);
			j->error = err;
			j->what = what;
		}
		break;
	}
}
