/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile clients, round after round: fds on requests that take none, thousands of pipelined
 * requests never read, rapid connect/disconnect, clients killed mid-request and mid-stream.
 * After each round the daemon serves others and holds its baseline fds; over the rounds its
 * memory does not grow. Last, kill -9 of the daemon leaves its socket, and a new daemon
 * starts over it.
 */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hostile-util.h"
#include "varlink.h"

#define REGIONS 50
#define ROUNDS 4
#define PIPELINED 5000
#define CONNECTS 500

static struct test_daemon daemon_;

/* 200 requests, each carrying 1 to 16 eventfds, to methods that take none; replies read. */
static bool fds_on_requests(void)
{
	static const char msg[] = "{\"method\":\"" IFACE
				  "Stat\",\"parameters\":{\"name\":\"h/00\"}}";
	int conn = itest_connect(&daemon_), fds[VL_MAX_FDS], refused = 0;

	for (int i = 0; i < VL_MAX_FDS; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	for (int i = 0; i < 200; i++) {
		json_object *r = NULL;
		if (send_raw(conn, msg, sizeof(msg), fds, 1 + (size_t)i % VL_MAX_FDS) < 0 ||
		    test_read_reply(conn, &r, NULL, NULL) < 0)
			break;
		const char *err = test_reply_error(r);
		refused += err && strcmp(err, IFACE "TooManyFileDescriptors") == 0;
		json_object_put(r);
	}
	for (int i = 0; i < VL_MAX_FDS; i++)
		close(fds[i]);
	close(conn);
	return refused == 200;
}

/* Thousands of requests written at once, not one reply read, then a hang-up. */
static void pipelined_never_read(void)
{
	static const char msg[] = "{\"method\":\"" IFACE "Open\",\"parameters\":{\"name\":"
				  "\"h/01\",\"access\":\"read_only\"}}";
	size_t len = PIPELINED * sizeof(msg);
	_cleanup_free_ char *buf = malloc(len);
	int conn = itest_connect(&daemon_);

	for (size_t off = 0; off < len; off += sizeof(msg))
		memcpy(buf + off, msg, sizeof(msg));
	fcntl(conn, F_SETFL, O_NONBLOCK);
	(void)send(conn, buf, len, MSG_NOSIGNAL); /* as much as fits; the daemon hangs up */
	sleep_ms(100);
	close(conn);
}

static void rapid_connects(void)
{
	for (int i = 0; i < (test_slow_mode() ? CONNECTS / 5 : CONNECTS); i++) {
		int conn = test_connect(&daemon_);
		if (i % 2 && conn >= 0) /* every other one says half a word first */
			send_raw(conn, "{\"me", 4, NULL, 0);
		safe_close(conn);
	}
}

/* A child sends part of a request (with fds) or starts a List stream, then is killed. */
static void killed_mid_request(bool stream)
{
	static const char list[] = "{\"method\":\"" IFACE "List\",\"more\":true}";
	int ready[2];

	if (pipe2(ready, O_CLOEXEC) < 0)
		bail_out("pipe: %m");
	pid_t pid = fork();
	if (pid == 0) {
		int conn = test_connect(&daemon_), fds[4];
		for (int i = 0; i < 4; i++)
			fds[i] = eventfd(0, EFD_CLOEXEC);
		if (stream)
			send_raw(conn, list, sizeof(list), NULL, 0);
		else
			send_raw(conn, "{\"method\":\"" IFACE "Cre", 26, fds, 4);
		(void)!write(ready[1], "r", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	char c;
	(void)!read(ready[0], &c, 1);
	close(ready[0]);
	sleep_ms(20);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool others_served(int ctl)
{
	int fd = open_region(ctl, "h/02", "read_write", NULL);
	bool ok = fd >= 0;
	safe_close(fd);
	return ok && list_count(ctl, "h/") == REGIONS;
}

static void round_of_abuse(int ctl, int round, int baseline)
{
	ok(fds_on_requests(), "round %d: 200 requests with fds: TooManyFileDescriptors each",
	   round);
	pipelined_never_read();
	rapid_connects();
	killed_mid_request(false);
	killed_mid_request(true);
	ok(others_served(ctl), "round %d: the daemon still serves others", round);
	ok(wait_connections(ctl, 1), "round %d: every hostile connection is gone", round);
	ok(fds_back_to(ctl, daemon_.pid, baseline), "round %d: fds back to baseline", round);
}

/* A sanitizer's allocator (quarantine) or valgrind makes RSS say nothing about leaks. */
static bool rss_meaningful(void)
{
	char path[64], line[512];
	bool asan = false;

	if (test_slow_mode())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)daemon_.pid);
	FILE *f = fopen(path, "re");
	while (f && !asan && fgets(line, sizeof(line), f))
		asan = strstr(line, "libasan") != NULL;
	if (f)
		fclose(f);
	return !asan;
}

/* $SHMD_BIN --socket path, until it answers there; its pid, or -1. */
static pid_t start_on(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(getenv("SHMD_BIN"), "shmd", "--socket", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 1000; i++) {
		int conn = test_connect(&daemon_);
		if (conn >= 0) {
			close(conn);
			return pid;
		}
		sleep_ms(10);
	}
	return -1;
}

static void restart_over_socket(void)
{
	struct stat st;
	int status = -1;

	kill(daemon_.pid, SIGKILL);
	waitpid(daemon_.pid, NULL, 0);
	daemon_.pid = -1;
	ok(stat(daemon_.socket, &st) == 0 && S_ISSOCK(st.st_mode),
	   "kill -9 leaves the socket file behind");
	pid_t pid = start_on(daemon_.socket);
	ok(pid > 0, "a new daemon starts over it");
	int conn = pid > 0 ? itest_connect(&daemon_) : -1;
	_cleanup_json_ json_object *s = conn >= 0 ? call(conn, IFACE "Status", NULL) : NULL;
	if (is_success(s, "  and answers on the same path"))
		is_int(jint(s, "parameters.regions"), 0, "  with an empty registry");
	safe_close(conn);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "  and exits cleanly");
	test_daemon_stop(&daemon_); /* removes the first daemon's directory */
}

int main(void)
{
	char name[32];
	long rss_first = 0;

	plan_no_plan();
	itest_start(&daemon_, (const char *const[]){ "--message-timeout", "2", NULL });
	int ctl = itest_connect(&daemon_);
	ok(wait_connections(ctl, 1), "only our connection");
	for (int i = 0; i < REGIONS; i++) {
		snprintf(name, sizeof(name), "h/%02d", i);
		create_region(ctl, name, 4096, 0644);
	}
	int baseline = test_count_fds(daemon_.pid);
	int rounds = test_slow_mode() ? 2 : ROUNDS; /* valgrind: fewer, the same checks */
	for (int round = 1; round <= rounds; round++) {
		round_of_abuse(ctl, round, baseline);
		if (round == 1) /* the first round grows the heap to its working size */
			rss_first = rss_kib(daemon_.pid);
	}
	long rss_last = rss_kib(daemon_.pid);
	diag("daemon RSS after round 1: %ld KiB, after round %d: %ld KiB", rss_first, rounds,
	     rss_last);
	if (rss_meaningful())
		ok(rss_last - rss_first < 1024,
		   "memory: RSS grew by less than 1 MiB over %d rounds", rounds - 1);
	else
		skip(1, "RSS under a sanitizer or valgrind says nothing about leaks");
	close(ctl);
	restart_over_socket();
	return done_testing();
}
