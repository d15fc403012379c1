/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Status's footprint totals with large regions measured on the worker in batches of at most
 * STATUS_FOOTPRINT_BATCH fds: exact totals (anonymous regions included), other clients
 * answered while the batch is held (SHMD_FAULT_HOLD, never timing), the fds bounded, and a
 * client hanging up or the shutdown while Status is pending lose nothing.
 */

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "footprint-defer.h"
#include "footprint-status.h"
#include "proto-util.h"

#define MIB (1024 * 1024)
/* Deferred: more allocated than the daemon measures on its loop. */
#define BIG (FOOTPRINT_INLINE_MAX + MIB)
/* With a-mid1: one more than a batch, two batches. */
#define N_BIG STATUS_FOOTPRINT_BATCH
/* Medium: a-mid0 on the loop, a-mid1 too much with it: on the worker, in the first batch. */
#define MID (9 * MIB)
#define SMALL_WRITTEN (3 * 4096)
#define ANON_WRITTEN (5 * 4096)
/* And a large region deleted while held: still memory, so still in the totals. */
#define TOTAL_ALLOCATED ((long long)N_BIG * BIG + 2 * MID + SMALL_WRITTEN + ANON_WRITTEN + BIG)

static bool write_fd(int fd, uint64_t len)
{
	static char chunk[MIB];

	memset(chunk, 'x', sizeof(chunk));
	for (uint64_t off = 0; off < len; off += MIB) {
		size_t n = (size_t)MIN((uint64_t)MIB, len - off);
		if (pwrite(fd, chunk, n, (off_t)off) != (ssize_t)n)
			return false;
	}
	return true;
}

/* A named region of size with its first written bytes written (not preallocated); its fd. */
static int create_written_fd(int conn, const char *name, uint64_t size, uint64_t written)
{
	int fd = -1;
	_cleanup_json_ json_object *r =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"%s\",\"size\":%llu,\"access\":\"read_write\"}", name,
				(unsigned long long)size),
			&fd);
	if (test_reply_error(r) || fd < 0 || !write_fd(fd, written))
		return safe_close(fd), -1;
	return fd;
}

static bool create_written(int conn, const char *name, uint64_t size, uint64_t written)
{
	int fd = create_written_fd(conn, name, size, written);
	safe_close(fd);
	return fd >= 0;
}

/* An anonymous region, written; its fd (the client must hold it to keep it). */
static int create_anon(int conn)
{
	int fd = -1;
	_cleanup_json_ json_object *r =
		call_fd(conn, IFACE "CreateAnonymous", jparams("{\"name\":\"anon\"}"), &fd);
	if (test_reply_error(r) || fd < 0 || ftruncate(fd, MIB) < 0 || !write_fd(fd, ANON_WRITTEN))
		return safe_close(fd), -1;
	return fd;
}

static bool wait_fds(pid_t pid, int n)
{
	for (int i = 0; i < 30000; i++) {
		if (test_count_fds(pid) == n)
			return true;
		sleep_ms(1);
	}
	return false;
}

static void check_totals(json_object *r, const char *what)
{
	is_success(r, "%s: Status with footprint", what);
	is_int(jint(r, "parameters.footprint.allocated"), TOTAL_ALLOCATED,
	       "  allocated: every written byte of %d large, 2 medium, 1 small, 1 anonymous and "
	       "1 large region deleted while held",
	       N_BIG);
	is_int(jint(r, "parameters.footprint.resident"), TOTAL_ALLOCATED,
	       "  resident: the same (no swap)");
	is_int(jint(r, "parameters.footprint.size"),
	       (long long)N_BIG * BIG + 2 * MID + MIB + MIB + BIG,
	       "  size: the regions' sizes, the anonymous and the deleted one's too");
	is_int(jint(r, "parameters.regions"), N_BIG + 3, "  regions: the named ones");
}

/* While the first batch is held: others are served, the job holds one batch of fds. */
static void test_no_stall(const struct test_daemon *d, int a, int b, int baseline)
{
	send_call(a, "Status", "{\"footprint\":true}");
	ok(hold_wait(), "the first batch runs on the worker");
	ok(sync_daemon(b), "b is answered meanwhile");
	int fd = open_region(b, "small", "read_only", NULL);
	ok(fd >= 0, "b's Open is answered meanwhile");
	safe_close(fd);
	ok(nothing_to_read(a), "a has no reply yet");
	is_int(test_count_fds(d->pid), baseline + STATUS_FOOTPRINT_BATCH,
	       "the job holds one batch of fds (%d), not one per region to measure (%d)",
	       STATUS_FOOTPRINT_BATCH, N_BIG + 2);
	is_int(daemon_memfd_fds(d->pid, "a-mid0"), 1, "a-mid0 was measured on the loop");
	is_int(daemon_memfd_fds(d->pid, "a-mid1"), 2,
	       "a-mid1 (a-mid0's 9 MiB and its own pass 16 MiB) is in the batch");
	hold_release();
	_cleanup_json_ json_object *r = recv_reply(a, NULL);
	check_totals(r, "after the release (both batches)");
	ok(wait_fds(d->pid, baseline), "the batches' fds are closed");
	ok(sync_daemon(a), "a's connection serves its next request");
	hold_rearm();
}

/* The client hangs up while its Status is pending: no crash, no fd left behind. */
static void test_hangup(const struct test_daemon *d, int b)
{
	ok(wait_connections(b, 1), "hangup: only b is connected");
	int baseline = test_count_fds(d->pid);
	int c = itest_connect(d);
	send_call(c, "Status", "{\"footprint\":true}");
	ok(hold_wait(), "hangup: the batch is held");
	close(c);
	ok(wait_connections(b, 1), "hangup: the connection is closed while Status is pending");
	hold_release();
	ok(wait_fds(d->pid, baseline), "hangup: every fd of the job is closed");
	ok(sync_daemon(b), "hangup: the daemon still answers");
	_cleanup_json_ json_object *r = call(b, IFACE "Status", jparams("{\"footprint\":true}"));
	check_totals(r, "hangup: then");
	hold_rearm();
}

static void setup_regions(int b, int *anon, int *gone)
{
	char name[32];
	bool good = true;

	for (int i = 0; i < N_BIG && good; i++) {
		snprintf(name, sizeof(name), "big%02d", i);
		good = create_written(b, name, BIG, BIG);
	}
	ok(good, "create %d regions of %llu MiB, written", N_BIG, (unsigned long long)(BIG / MIB));
	ok(create_written(b, "a-mid0", MID, MID) && create_written(b, "a-mid1", MID, MID),
	   "create two regions of 9 MiB, written");
	ok(create_written(b, "small", MIB, SMALL_WRITTEN), "create small");
	*anon = create_anon(b);
	ok(*anon >= 0, "create an anonymous region, written");
	*gone = create_written_fd(b, "gone", BIG, BIG);
	_cleanup_json_ json_object *del = call(b, IFACE "Delete", jname("gone"));
	ok(*gone >= 0 && test_reply_error(del) == NULL,
	   "create a large region, written, and delete it while holding its fd");
}

int main(void)
{
	struct test_daemon d;
	bool hold = false;
	int anon, gone;

	plan_no_plan();
#ifdef SHMD_FAULT_INJECTION
	hold = true;
#endif
	hold_setup("footprint");

	itest_start(&d, NULL);
	int a = itest_connect(&d), b = itest_connect(&d);
	setup_regions(b, &anon, &gone);
	ok(sync_daemon(b), "settled");
	int baseline = test_count_fds(d.pid);
	if (hold) {
		test_no_stall(&d, a, b, baseline);
		close(a);
		test_hangup(&d, b);
		send_call(b, "Status", "{\"footprint\":true}");
		ok(hold_wait(), "shutdown: a batch is held");
		itest_stop(&d); /* the worker's stop ends the hold; the detached call is freed */
		ok(wait_eof(b, 10000) == 1, "shutdown: the client sees its connection closed");
	} else {
		skip(1, "needs configure --enable-fault-injection: hold a batch");
		hold_release();
		_cleanup_json_ json_object *r =
			call(a, IFACE "Status", jparams("{\"footprint\":true}"));
		check_totals(r, "unheld");
		close(a);
		itest_stop(&d);
	}
	close(b);
	safe_close(anon);
	safe_close(gone);
	hold_cleanup();
	return done_testing();
}
