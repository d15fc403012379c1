/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Holders: a mapping whose fd was closed, an fd passed to a third process, never the daemon;
 * the scan on the worker, other clients answered meanwhile.
 */

#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto-util.h"

#define PG 4096

/* Drop every capability, staying uid 0: then the daemon (uid 0, three capabilities) may read it. */
static int drop_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * A process that receives one fd over sock; with map, maps 16 pages read-write, writes 4 and
 * closes the fd (holding the mapping alone). Then it becomes uid (or drops its capabilities
 * for uid 0), says so, and waits to be killed.
 */
static pid_t holder_child(int sock, bool map, uid_t uid)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Only what it is passed: none of the parent's region fds, inherited by fork(). */
	for (int i = 3; i < 1024; i++)
		if (i != sock)
			close(i);
	int fd = test_recv_fd(sock);
	if (fd < 0)
		_exit(1);
	if (map) {
		char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(1);
		for (int i = 0; i < 4; i++)
			p[i * PG] = 1;
		close(fd);
	}
	if (uid != 0 && (setgid(uid) < 0 || setuid(uid) < 0))
		_exit(1);
	if (uid == 0 && geteuid() == 0 && drop_caps() < 0)
		_exit(1);
	if (write(sock, "k", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static json_object *holder_of(json_object *reply, pid_t pid)
{
	json_object *a = jget(reply, "parameters.holders");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *h = json_object_array_get_idx(a, i);
		if (jint(h, "pid") == pid)
			return h;
	}
	return NULL;
}

static pid_t pass_to_child(int sv[2], int fd, bool map, uid_t uid)
{
	pid_t child = holder_child(sv[1], map, uid);
	char c = 0;
	ok(test_send_fd(sv[0], fd) == 0 && read(sv[0], &c, 1) == 1 && c == 'k',
	   "a process (uid %u) %s", uid,
	   map ? "maps the region and closes its fd" : "holds an fd passed to it");
	return child;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The /proc scan runs on the worker: while it is held, another client is answered. */
static void test_held(int conn, int other, pid_t mapper)
{
	json_object *r = NULL;
	int fds[4];
	size_t n_fds = 0;

	send_call(conn, "Holders", "{\"name\":\"h\"}");
	ok(hold_wait(), "Holders: the /proc scan runs on the worker");
	_cleanup_json_ json_object *s = call(other, IFACE "Stat", jname("h"));
	is_success(s, "  another client's Stat is answered meanwhile");
	ok(nothing_to_read(conn), "  Holders has no reply yet");
	hold_release();
	ok(test_read_reply(conn, &r, fds, &n_fds) == 0 && n_fds == 0, "  then it replies");
	is_success(r, "  Holders");
	ok(holder_of(r, mapper) != NULL, "  listing the mapper");
	json_object_put(r);
}

int main(void)
{
	struct test_daemon d;
	int fd, sv[2];

	plan_no_plan();
	if (hold_possible())
		hold_setup("holders");
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"h\",\"size\":%d,\"access\":\"read_write\"}", 256 * PG), &fd);
	is_success(c, "Create h, 1 MiB, read-write fd");
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	pid_t mapper = pass_to_child(sv, fd, true, 0);
	safe_close(fd);
	if (hold_possible()) {
		int other = itest_connect(&d);
		test_held(conn, other, mapper);
		close(other);
	} else
		skip(1, "needs configure --enable-fault-injection: hold the /proc scan");

	_cleanup_json_ json_object *h = call(conn, IFACE "Holders", jname("h"));
	is_success(h, "Holders");
	json_object *m = holder_of(h, mapper);
	ok(m != NULL, "the mapper is a holder through its mapping alone (fd closed)");
	is_int(jint(m, "fds"), 0, "  no fd");
	is_int(jint(m, "mappedBytes"), 16 * PG, "  16 pages mapped");
	is_int(jint(m, "rss"), 4 * PG, "  4 pages resident (smaps Rss)");
	is_int(jint(m, "swap"), 0, "  none swapped");
	is_int(jbool(m, "writable"), 1, "  writable (a read-write shared mapping)");
	is_int(jint(m, "uid"), (long long)geteuid(), "  its uid");
	/* Under valgrind the process is valgrind's tool, "memcheck-amd64-" in comm. */
	ok(jstr(m, "command") &&
		   strstr(test_under_valgrind() ? "memcheck-amd64-linux" : "test-holders",
			  jstr(m, "command")),
	   "  its command (%s)", jstr(m, "command") ? jstr(m, "command") : "?");
	ok(holder_of(h, d.pid) == NULL, "the daemon itself is not listed");
	ok(jint(h, "parameters.scanned") > 2, "  scanned counts processes (%lld)",
	   (long long)jint(h, "parameters.scanned"));
	is_int(jbool(h, "parameters.truncated"), 0, "  not truncated");
	diag("scan of %lld processes took %lld us", (long long)jint(h, "parameters.scanned"),
	     (long long)jint(h, "parameters.scanUSec"));

	int ro = open_region(conn, "h", "read_only", NULL);
	pid_t third = pass_to_child(sv, ro, false, 0);
	safe_close(ro);
	_cleanup_json_ json_object *h2 = call(conn, IFACE "Holders", jname("h"));
	json_object *t = holder_of(h2, third);
	ok(t != NULL, "the third process is listed");
	is_int(jint(t, "fds"), 1, "  with one fd");
	is_int(jint(t, "mappedBytes"), 0, "  and no mapping");
	is_int(jbool(t, "writable"), 0, "  read-only");
	ok(holder_of(h2, mapper) != NULL, "the mapper is still listed");
	is_int((long long)json_object_array_length(jget(h2, "parameters.holders")), 2,
	       "exactly two holders");
	reap(third);
	reap(mapper);
	_cleanup_json_ json_object *h3 = call(conn, IFACE "Holders", jname("h"));
	is_int((long long)json_object_array_length(jget(h3, "parameters.holders")), 0,
	       "after both exit: no holder");

	if (geteuid() == 0) {
		_cleanup_json_ json_object *res =
			calls_as(&d, NOBODY_UID, NOBODY_GID,
				 (const char *const[]){ "Holders", "{\"name\":\"h\"}", NULL });
		is_str(reply_at(res, 0), IFACE "PermissionDenied",
		       "nobody may not ask (not owner)");
		ro = open_region(conn, "h", "read_only", NULL);
		pid_t other = pass_to_child(sv, ro, false, NOBODY_UID);
		safe_close(ro);
		_cleanup_json_ json_object *h4 = call(conn, IFACE "Holders", jname("h"));
		/* The daemon keeps no CAP_SYS_PTRACE: another uid's /proc/PID/fd is closed to it. */
		ok(holder_of(h4, other) == NULL,
		   "a holder of another uid is not seen (the daemon has no CAP_SYS_PTRACE)");
		ok(jint(h4, "parameters.unreadable") >= 1, "  unreadable processes are counted");
		reap(other);
	} else
		skip(3, "another uid needs root");
	close(sv[0]);
	close(sv[1]);
	close(conn);
	itest_stop(&d);
	if (hold_possible())
		hold_cleanup();
	return done_testing();
}
