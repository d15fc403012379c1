/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Footprints of large regions measured on the worker with the reply deferred: other clients
 * are answered meanwhile, a connection's later requests wait their turn, and a Delete, a
 * client hanging up, the idle timeout and the shutdown while a call is pending lose nothing.
 * The slow job is held by fault injection (SHMD_FAULT_HOLD), never by timing.
 */

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "footprint-defer.h"
#include "proto-util.h"

/* Deferred: more allocated than the daemon measures on its loop. */
#define BIG (2 * FOOTPRINT_INLINE_MAX)
#define MIB (1024 * 1024)

static bool held_build; /* configure --enable-fault-injection: jobs can be held */

/*
 * A region with every page written (not preallocated: without cachestat(2), as under
 * valgrind, the daemon counts data extents, and fallocate()d pages are holes to SEEK_DATA).
 */
static bool create_big(int conn, const char *name)
{
	static char chunk[MIB];
	int fd = -1;
	_cleanup_json_ json_object *r =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"%s\",\"size\":%llu,\"access\":\"read_write\"}", name,
				(unsigned long long)BIG),
			&fd);
	bool good = test_reply_error(r) == NULL && fd >= 0;

	memset(chunk, 'x', sizeof(chunk));
	for (uint64_t off = 0; good && off < BIG; off += MIB)
		good = pwrite(fd, chunk, MIB, (off_t)off) == MIB;
	safe_close(fd);
	return good;
}

static void send_list(int conn)
{
	static const char msg[] = "{\"method\":\"" IFACE
				  "List\",\"parameters\":{\"footprint\":true},\"more\":true}";
	if (send_raw(conn, msg, sizeof(msg), NULL, 0) < 0)
		bail_out("send List: %m");
}

static void check_big_stat(json_object *r, const char *name, const char *what)
{
	is_success(r, "%s: Stat with footprint of %s", what, name);
	is_str(jstr(r, "parameters.region.name"), name, "  the reply is %s's", name);
	is_int(jint(r, "parameters.region.footprint.allocated"), (long long)BIG,
	       "  allocated: every written byte");
	is_int(jint(r, "parameters.region.footprint.resident"), (long long)BIG,
	       "  resident: every written byte");
}

/*
 * The replies of a List with footprint until the last: names joined by ",", and big's
 * allocated bytes in *ret_big (-1 if not listed).
 */
static bool read_list(int conn, char *names, size_t size, long long *ret_big)
{
	*names = '\0';
	*ret_big = -1;
	for (int i = 0; i < 100; i++) {
		_cleanup_json_ json_object *r = recv_reply(conn, NULL);
		const char *name = jstr(r, "parameters.region.name");
		if (!name)
			return false;
		if (*names)
			strncat(names, ",", size - strlen(names) - 1);
		strncat(names, name, size - strlen(names) - 1);
		if (strcmp(name, "big") == 0)
			*ret_big = jint(r, "parameters.region.footprint.allocated");
		if (jbool(r, "continues") != 1)
			return true;
	}
	return false;
}

/* A List with footprint waits for a large region's job in its place, and others are served. */
static void test_list(int a, int b, bool held)
{
	char names[256];
	long long big;

	send_list(a);
	if (held) {
		ok(hold_wait(), "List: big's footprint job is held");
		ok(sync_daemon(b), "List: b is answered while the stream waits");
		/* "big" sorts first: nothing of the listing may come before it. */
		ok(nothing_to_read(a), "List: no reply before big's");
		hold_release();
	}
	ok(read_list(a, names, sizeof(names), &big), "List: the stream ends");
	/* "new" exists when test_no_stall() ran (fault-injection builds). */
	is_str(names, held_build ? "big,new,small" : "big,small",
	       "List: every region, in name order");
	is_int(big, (long long)BIG, "List: big's footprint measured on the worker");
	ok(sync_daemon(a), "List: the connection serves its next request");
}

/* A large region's footprint and ranges are right when measured on the worker. */
static void test_figures(int a)
{
	_cleanup_json_ json_object *l = call(
		a, IFACE "Label",
		jparams("{\"name\":\"big\",\"offset\":0,\"length\":%d,\"label\":\"head\"}", MIB));
	is_success(l, "Label big's first MiB");
	_cleanup_json_ json_object *s =
		call(a, IFACE "Stat", jparams("{\"name\":\"big\",\"footprint\":true}"));
	check_big_stat(s, "big", "on the worker");
	_cleanup_json_ json_object *g =
		call(a, IFACE "Ranges", jparams("{\"name\":\"big\",\"footprint\":true}"));
	is_success(g, "Ranges with footprint of big");
	is_int((long long)json_object_array_length(jget(g, "parameters.ranges")), 2,
	       "  two parts: head and the rest");
	json_object *head = json_object_array_get_idx(jget(g, "parameters.ranges"), 0);
	is_str(jstr(head, "label"), "head", "  the first part is head");
	is_int(jint(head, "footprint.allocated"), MIB, "  head: 1 MiB allocated");
	is_int(jint(g, "parameters.footprint.allocated"), (long long)BIG,
	       "  the total is the region's");
}

/* While a's footprint job is held, b's Create and Open are answered; then a's comes. */
static void test_no_stall(int a, int b)
{
	send_call(a, "Stat", "{\"name\":\"big\",\"footprint\":true}");
	ok(hold_wait(), "a's footprint job runs on the worker");
	int fd = -1;
	_cleanup_json_ json_object *c =
		call_fd(b, IFACE "Create",
			jparams("{\"name\":\"new\",\"size\":4096,\"access\":\"read_write\"}"), &fd);
	ok(test_reply_error(c) == NULL && fd >= 0, "b's Create is answered meanwhile");
	safe_close(fd);
	fd = open_region(b, "small", "read_only", NULL);
	ok(fd >= 0, "b's Open is answered meanwhile");
	safe_close(fd);
	ok(nothing_to_read(a), "a has no reply yet");
	hold_release();
	_cleanup_json_ json_object *r = recv_reply(a, NULL);
	check_big_stat(r, "big", "after the release");
	hold_rearm();
}

/* Requests behind a pending call wait, then are answered in order. */
static void test_pipelined(int a, int b)
{
	send_call(a, "Stat", "{\"name\":\"big\",\"footprint\":true}");
	send_call(a, "Stat", "{\"name\":\"small\"}");
	send_call(a, "Open", "{\"name\":\"small\",\"access\":\"read_only\"}");
	send_call(a, "Ranges", "{\"name\":\"big\",\"footprint\":true}");
	ok(hold_wait(), "pipelined: the first call's job is held");
	ok(sync_daemon(b), "pipelined: the daemon answers b");
	ok(nothing_to_read(a), "pipelined: no reply overtakes the pending one");
	hold_release();
	_cleanup_json_ json_object *r1 = recv_reply(a, NULL);
	_cleanup_json_ json_object *r2 = recv_reply(a, NULL);
	int fd = -1;
	_cleanup_json_ json_object *r3 = recv_reply(a, &fd);
	_cleanup_json_ json_object *r4 = recv_reply(a, NULL);
	is_int(jint(r1, "parameters.region.footprint.allocated"), (long long)BIG,
	       "pipelined: 1st reply is big's footprint");
	ok(jget(r2, "parameters.region") && !jget(r2, "parameters.region.footprint"),
	   "pipelined: 2nd reply is small's plain Stat");
	is_str(jstr(r2, "parameters.region.name"), "small", "  of small");
	ok(fd >= 0 && accmode(fd) == O_RDONLY, "pipelined: 3rd reply carries the Open's fd");
	safe_close(fd);
	is_int(jint(r4, "parameters.footprint.allocated"), (long long)BIG,
	       "pipelined: 4th reply is big's Ranges");
	hold_rearm();
}

/* A Delete while the footprint is measured: the reply comes, then the memfd is gone. */
static void test_delete_meanwhile(const struct test_daemon *d, int a, int b)
{
	send_call(a, "Stat", "{\"name\":\"big\",\"footprint\":true}");
	ok(hold_wait(), "delete: the job is held");
	_cleanup_json_ json_object *del = call(b, IFACE "Delete", jname("big"));
	is_success(del, "delete: b deletes big meanwhile");
	_cleanup_json_ json_object *st = call(b, IFACE "Stat", jname("big"));
	is_error(st, "NoSuchRegion", "delete: big is gone for b");
	ok(daemon_memfd_fds(d->pid, "big") == 1, "delete: only the job's duplicate holds it");
	hold_release();
	_cleanup_json_ json_object *r = recv_reply(a, NULL);
	check_big_stat(r, "big", "delete: a's call, made before the Delete,");
	ok(sync_daemon(a), "delete: the daemon answers a again");
	is_int(daemon_memfd_fds(d->pid, "big"), 0, "delete: the memfd is closed after the job");
	hold_rearm();
}

/* The job's completion after its connection closed: no crash, every fd released. */
static void test_hangup(const struct test_daemon *d, int b)
{
	ok(create_big(b, "big2"), "hangup: create big2");
	ok(sync_daemon(b), "hangup: settled");
	int baseline = test_count_fds(d->pid);
	int c = itest_connect(d);
	send_call(c, "Stat", "{\"name\":\"big2\",\"footprint\":true}");
	ok(hold_wait(), "hangup: the job is held");
	close(c);
	ok(wait_connections(b, 1), "hangup: the connection is closed while its call is pending");
	hold_release();
	bool closed = false;
	for (int i = 0; i < 30000 && !closed; i++) {
		closed = daemon_memfd_fds(d->pid, "big2") == 1;
		if (!closed)
			sleep_ms(1);
	}
	ok(closed, "hangup: the job's duplicate is closed after it completes");
	ok(sync_daemon(b), "hangup: the daemon still answers");
	is_int(test_count_fds(d->pid), baseline,
	       "hangup: the daemon holds no more fds than before");
	hold_rearm();

	c = itest_connect(d);
	send_list(c);
	ok(hold_wait(), "hangup: a List waits for big2's job");
	close(c);
	ok(wait_connections(b, 1), "hangup: the List's connection is closed while it waits");
	hold_release();
	closed = false;
	for (int i = 0; i < 30000 && !closed; i++) {
		closed = daemon_memfd_fds(d->pid, "big2") == 1;
		if (!closed)
			sleep_ms(1);
	}
	ok(closed, "hangup: the List job's duplicate is closed after it completes");
	ok(sync_daemon(b), "hangup: the daemon still answers after the List job");
	is_int(test_count_fds(d->pid), baseline, "hangup: no fd left behind by the List");
	hold_rearm();
}

/* A pending call is not idleness; after its reply the idle clock runs again. */
static void test_idle_and_shutdown(void)
{
	static const char *const args[] = { "--idle-timeout", "1", NULL };
	struct test_daemon d;

	itest_start(&d, args);
	int a = itest_connect(&d);
	ok(create_big(a, "big"), "idle: create big");
	send_call(a, "Stat", "{\"name\":\"big\",\"footprint\":true}");
	ok(hold_wait(), "idle: the job is held");
	ok(wait_eof(a, 2500) == 0, "idle: not disconnected past the idle timeout while pending");
	hold_release();
	_cleanup_json_ json_object *r = recv_reply(a, NULL);
	check_big_stat(r, "big", "idle: the reply");
	ok(wait_eof(a, 10000) == 1, "idle: disconnected once idle after its reply");
	close(a);
	hold_rearm();

	a = itest_connect(&d);
	send_call(a, "Stat", "{\"name\":\"big\",\"footprint\":true}");
	ok(hold_wait(), "shutdown: a job is held");
	itest_stop(&d); /* the worker's stop ends the hold; the detached call is freed */
	ok(wait_eof(a, 10000) == 1, "shutdown: the client sees its connection closed");
	close(a);
	hold_rearm();
}

int main(void)
{
	struct test_daemon d;
	bool hold = false;

	plan_no_plan();
#ifdef SHMD_FAULT_INJECTION
	hold = true;
#endif
	held_build = hold;
	hold_setup("footprint");

	itest_start(&d, NULL);
	int a = itest_connect(&d), b = itest_connect(&d);
	ok(create_big(b, "big"), "create big (%llu MiB, written)", (unsigned long long)(BIG / MIB));
	ok(create_region(b, "small", MIB, 0644), "create small");
	if (hold) {
		test_no_stall(a, b);
		test_pipelined(a, b);
		test_list(a, b, true);
		hold_rearm();
	} else
		skip(1, "needs configure --enable-fault-injection: hold a footprint job");
	hold_release(); /* unheld from here on */
	test_figures(a);
	test_list(a, b, false);
	hold_rearm();
	if (hold) {
		test_delete_meanwhile(&d, a, b);
		close(a);
		test_hangup(&d, b);
	}
	close(b);
	itest_stop(&d);
	if (hold)
		test_idle_and_shutdown();
	hold_cleanup();
	return done_testing();
}
