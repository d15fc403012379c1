/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill engine without the daemon: a region's memfd spilled to a spill file in a
 * temporary directory and restored, on a real sd-event loop with the daemon's worker thread. Data
 * compared byte for byte, memory freed (st_blocks), zero pages skipped, the index recorded
 * before the punch, a full spill file and a corrupt extent handled without losing data.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region.h"
#include "spill-index.h"
#include "spill.h"
#include "testlib.h"
#include "worker.h"

#define PAGE 4096u
#define MIB (1u << 20)

static char dir[] = "/var/tmp/test-spill.XXXXXX";
static char path[sizeof(dir) + 16];

struct result {
	bool called;
	int error;
};

static int records;
static enum region_state recorded_state; /* what the "state" held at the last record */
static bool punched_before_record;	 /* the memfd was empty when SPILLED was recorded */

static struct spill *cancel_in_record; /* set: the record hook cancels the spill */

static int record(struct region *r, void *userdata)
{
	struct stat st;

	if (cancel_in_record && r->state == REGION_SPILLED)
		spill_cancel(cancel_in_record, r);
	records++;
	recorded_state = r->state;
	if (r->state == REGION_SPILLED && fstat(r->fd, &st) == 0 && st.st_blocks == 0 &&
	    r->spill->n_extents > 0)
		punched_before_record = true;
	return *(int *)userdata;
}

static void done(struct spill *sp, struct region *r, int error, void *userdata)
{
	struct result *res = userdata;
	res->called = true;
	res->error = error;
}

static int wait_done(sd_event *e, struct result *res)
{
	for (int i = 0; i < 10000 && !res->called; i++)
		if (sd_event_run(e, 100 * 1000) < 0)
			return -EIO;
	return res->called ? res->error : -ETIMEDOUT;
}

/* Pattern byte of offset off in region seed. */
static uint8_t pat(uint64_t off, unsigned seed)
{
	return (uint8_t)((off / PAGE) * 31 + off + seed) | 1;
}

/* size bytes; pages listed as zero by hole() stay holes, the rest gets the pattern. */
static struct region *make(uint64_t size, unsigned seed, bool (*hole)(uint64_t page))
{
	struct region *r = calloc(1, sizeof(*r));
	_cleanup_free_ uint8_t *buf = malloc(PAGE);

	r->fd = memfd_create("test-spill", MFD_CLOEXEC);
	r->name = strdup("test/spill");
	if (r->fd < 0 || ftruncate(r->fd, (off_t)size) < 0)
		bail_out("memfd");
	for (uint64_t off = 0; off < size; off += PAGE) {
		if (hole && hole(off / PAGE))
			continue;
		for (unsigned i = 0; i < PAGE; i++)
			buf[i] = pat(off + i, seed);
		if (pwrite(r->fd, buf, MIN(PAGE, size - off), (off_t)off) < 0)
			bail_out("pwrite");
	}
	return r;
}

/* 0 when r's memfd holds the pattern (and zeros where hole() says). */
static long long compare(struct region *r, uint64_t size, unsigned seed,
			 bool (*hole)(uint64_t page))
{
	_cleanup_free_ uint8_t *buf = malloc(PAGE);

	for (uint64_t off = 0; off < size; off += PAGE) {
		size_t n = MIN(PAGE, size - off);
		if (pread(r->fd, buf, n, (off_t)off) != (ssize_t)n)
			return (long long)off + 1;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != (hole && hole(off / PAGE) ? 0 : pat(off + i, seed)))
				return (long long)(off + i) + 1;
	}
	return 0;
}

static long long blocks(int fd)
{
	struct stat st;
	return fstat(fd, &st) < 0 ? -1 : (long long)st.st_blocks;
}

static bool sparse(uint64_t page)
{
	return page % 64 >= 8 || page == 3; /* 7 of every 64 pages written, one gap inside */
}

static void roundtrip(sd_event *e, struct spill *sp, uint64_t size, bool (*hole)(uint64_t),
		      const char *what)
{
	struct region *r = make(size, (unsigned)size, hole);
	struct result res = { 0 };
	struct spill_stats st;

	records = 0;
	punched_before_record = false;
	is_int(spill_out(sp, r, done, &res), 0, "%s: spill started", what);
	is_str(spill_state_to_string(spill_region_state(r)), "spilling", "%s: state spilling",
	       what);
	is_int(spill_out(sp, r, done, &res), -EBUSY, "%s: a second spill is refused", what);
	is_int(wait_done(e, &res), 0, "%s: spilled", what);
	is_int(r->state, REGION_SPILLED, "%s: state spilled", what);
	ok(records == 1 && recorded_state == REGION_SPILLED && !punched_before_record,
	   "%s: index recorded once, before the punch", what);
	is_int(blocks(r->fd), 0, "%s: the memory is freed (st_blocks 0)", what);
	spill_get_stats(sp, &st);
	ok(st.used >= spill_region_bytes(r) && spill_region_bytes(r) > 0,
	   "%s: %llu bytes spilled, %llu used in the file", what,
	   (unsigned long long)spill_region_bytes(r), (unsigned long long)st.used);
	if (hole)
		ok(spill_region_bytes(r) < size / 4, "%s: zero pages were not written", what);
	res = (struct result){ 0 };
	is_int(spill_in(sp, r, done, &res), 0, "%s: restore started", what);
	is_int(wait_done(e, &res), 0, "%s: restored", what);
	is_int(r->state, REGION_RESIDENT, "%s: resident", what);
	is_int(compare(r, size, (unsigned)size, hole), 0, "%s: every byte back", what);
	spill_get_stats(sp, &st);
	is_int((long long)st.used, 0, "%s: spill space freed", what);
	spill_forget(sp, r);
	region_free(r);
}

/* A flipped byte in the file: damaged, -EBADMSG, never zero-filled, extents kept. */
static void corrupt(sd_event *e, struct spill *sp)
{
	struct region *r = make(4 * MIB, 7, NULL);
	struct result res = { 0 };

	spill_out(sp, r, done, &res);
	is_int(wait_done(e, &res), 0, "corrupt: spilled");
	int fd = open(path, O_RDWR);
	uint8_t b;
	uint64_t at = r->spill->extents[1].file_offset + 100;
	if (fd < 0 || pread(fd, &b, 1, (off_t)at) != 1)
		bail_out("spill file");
	b ^= 0x40;
	if (pwrite(fd, &b, 1, (off_t)at) != 1 || fdatasync(fd) < 0)
		bail_out("spill file");
	close(fd);
	res = (struct result){ 0 };
	spill_in(sp, r, done, &res);
	is_int(wait_done(e, &res), -EBADMSG, "corrupt: the restore reports -EBADMSG");
	is_int(r->state, REGION_DAMAGED, "corrupt: the region is damaged (and recorded so)");
	is_int(recorded_state, REGION_DAMAGED, "corrupt: damaged is recorded");
	is_int(blocks(r->fd), 0, "corrupt: nothing half-restored stays in memory");
	ok(r->spill->n_extents > 0, "corrupt: the extents are kept");
	is_int(spill_in(sp, r, done, &res), -EINVAL, "corrupt: a damaged region is not restored");
	spill_forget(sp, r);
	region_free(r);
}

/* Larger than the file may grow: -ENOSPC, resident, every byte still there. */
static void full(sd_event *e, struct spill *sp, uint64_t max)
{
	struct region *r = make(max + 2 * MIB, 9, NULL);
	struct result res = { 0 };
	struct spill_stats st;

	spill_get_stats(sp, &st);
	uint64_t errors = st.errors;
	spill_out(sp, r, done, &res);
	is_int(wait_done(e, &res), -ENOSPC,
	       "full: a spill larger than the file fails with -ENOSPC");
	is_int(r->state, REGION_RESIDENT, "full: resident");
	is_int(compare(r, max + 2 * MIB, 9, NULL), 0, "full: no byte lost");
	spill_get_stats(sp, &st);
	ok(st.errors == errors + 1 && st.last_error == -ENOSPC && st.used == 0,
	   "full: counted, last error ENOSPC (%s), no space kept", st.last_error_what);
	spill_forget(sp, r);
	region_free(r);
}

/* The record hook fails: no punch, resident, the space given back. */
static void record_fails(sd_event *e, struct spill *sp, int *record_error)
{
	struct region *r = make(2 * MIB, 5, NULL);
	struct result res = { 0 };
	struct spill_stats st;

	*record_error = -EIO;
	spill_out(sp, r, done, &res);
	is_int(wait_done(e, &res), -EIO, "record fails: the spill fails");
	*record_error = 0;
	is_int(r->state, REGION_RESIDENT, "record fails: resident");
	ok(blocks(r->fd) > 0 && compare(r, 2 * MIB, 5, NULL) == 0, "record fails: not punched");
	spill_get_stats(sp, &st);
	is_int((long long)st.used, 0, "record fails: no space kept");
	spill_forget(sp, r);
	region_free(r);
}

/* Open of a region mid-spill cancels it: before the copy ends, and between record and punch. */
static void cancels(sd_event *e, struct spill *sp, struct worker *w)
{
	struct region *r = make(3 * MIB, 13, NULL);
	struct result res = { 0 };
	struct spill_stats st;

	is_int(spill_out(sp, r, done, &res), 0, "cancel: spill started");
	is_int(spill_cancel(sp, r), 0, "cancel: cancelled during the copy");
	is_int(wait_done(e, &res), -ECANCELED, "cancel: done says -ECANCELED");
	ok(r->state == REGION_RESIDENT && compare(r, 3 * MIB, 13, NULL) == 0,
	   "cancel: resident, every byte there");

	cancel_in_record = sp;
	res = (struct result){ 0 };
	records = 0;
	spill_out(sp, r, done, &res);
	is_int(wait_done(e, &res), -ECANCELED, "cancel after the record: -ECANCELED");
	cancel_in_record = NULL;
	ok(r->state == REGION_RESIDENT && recorded_state == REGION_RESIDENT && records == 2,
	   "cancel after the record: resident again, and recorded so");
	ok(blocks(r->fd) > 0 && compare(r, 3 * MIB, 13, NULL) == 0,
	   "cancel after the record: not punched");

	res = (struct result){ 0 };
	spill_out(sp, r, done, &res);
	spill_forget(sp, r);
	ok(res.called && res.error == -ECANCELED,
	   "forget during a spill: done at once, -ECANCELED");
	region_free(r);
	while (worker_pending(w) > 0)
		sd_event_run(e, 100 * 1000);
	spill_get_stats(sp, &st);
	is_int((long long)st.used, 0, "cancel: no spill space kept by any of them");
}

/*
 * The filesystem under the spill file is full (a 4 MiB tmpfs in a mount namespace of this
 * test's own): the spill fails with -ENOSPC, the region stays resident with every byte.
 */
static void filesystem_full(sd_event *e, struct worker *w)
{
	char small[sizeof(dir) + 16], file[sizeof(dir) + 32];
	struct spill *sp = NULL;
	int record_error = 0;

	if (geteuid() != 0) {
		skip(4, "a size-limited tmpfs needs root");
		return;
	}
	snprintf(small, sizeof(small), "%s/small", dir);
	snprintf(file, sizeof(file), "%s/spill", small);
	if (mkdir(small, 0700) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", small, "tmpfs", 0, "size=4m") < 0) {
		skip(4, "cannot mount a tmpfs here: %m");
		rmdir(small);
		return;
	}
	is_int(spill_open(&sp, w, file, 64 * MIB, record, &record_error), 0,
	       "tiny filesystem: spill file opened (may grow to 64 MiB)");
	struct region *r = make(8 * MIB, 11, NULL);
	struct result res = { 0 };
	if (sp)
		spill_out(sp, r, done, &res);
	is_int(sp ? wait_done(e, &res) : -EBADF, -ENOSPC,
	       "tiny filesystem: the spill fails with -ENOSPC");
	ok(r->state == REGION_RESIDENT && blocks(r->fd) > 0, "tiny filesystem: resident");
	is_int(compare(r, 8 * MIB, 11, NULL), 0, "tiny filesystem: no byte lost");
	spill_forget(sp, r);
	region_free(r);
	spill_free(sp);
	unlink(file);
	umount2(small, MNT_DETACH);
	rmdir(small);
}

int main(void)
{
	sd_event *e = NULL;
	struct spill *sp = NULL;
	int record_error = 0;
	const uint64_t max = 16 * MIB;

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(path, sizeof(path), "%s/spill", dir);
	struct worker *w = NULL;
	if (sd_event_new(&e) < 0 || worker_new(e, &w) < 0)
		bail_out("sd_event_new");
	is_int(spill_open(&sp, w, path, max, record, &record_error), 0, "spill file opened");
	if (!sp)
		bail_out("no spill file");
	roundtrip(e, sp, 5 * MIB + 123, NULL, "dense 5 MiB + 123");
	roundtrip(e, sp, 4 * MIB, sparse, "sparse 4 MiB");
	corrupt(e, sp);
	full(e, sp, max);
	record_fails(e, sp, &record_error);
	cancels(e, sp, w);

	struct region *r = make(0, 0, NULL);
	struct result res = { 0 };
	spill_out(sp, r, done, &res);
	is_int(wait_done(e, &res), 0, "an empty region spills");
	ok(r->state == REGION_SPILLED && spill_region_bytes(r) == 0, "with no extents");
	spill_forget(sp, r);
	region_free(r);

	worker_free(w);
	spill_free(sp);
	if ((w = NULL, worker_new(e, &w)) < 0)
		bail_out("worker_new");
	filesystem_full(e, w);
	worker_free(w);
	sd_event_unref(e);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
