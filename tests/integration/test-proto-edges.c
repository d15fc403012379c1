/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Edges no other test reached (issue 16, each found by a surviving mutant): fds attached to a
 * malformed message are closed, an administrator's partial SetAccess keeps the owner, and the
 * queued-fd limit of one connection holds at exactly the limit and one past it.
 */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#include "hostile-util.h"
#include "varlink.h"

#define QUEUED_FDS 64 /* limits.h: LIMITS_QUEUED_FDS, with the default RLIMIT_NOFILE */
#define STATUS_FLOOD 3000

static struct test_daemon daemon_;

/* Send text (NUL included) with 3 eventfds on a new connection; wait until it is closed. */
static void malformed_with_fds(const char *what, const char *text, size_t len)
{
	int conn = itest_connect(&daemon_), fds[3];

	for (int i = 0; i < 3; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	is_int(send_raw(conn, text, len, fds, 3), 0, "%s with 3 fds: sent", what);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	is_int(wait_eof(conn, 5000), 1, "  the daemon hangs up");
	close(conn);
}

static void malformed(int ctl)
{
	int baseline = test_count_fds(daemon_.pid);
	static const char bad_json[] = "{\"method\":\"" IFACE "Status\",}";
	size_t big_len = 2048; /* over --max-message-bytes 1K, in one read, NUL-terminated */
	_cleanup_free_ char *big = malloc(big_len);

	memset(big, ' ', big_len);
	memcpy(big, "{\"method\":\"x\"", 13);
	big[big_len - 2] = '}';
	big[big_len - 1] = '\0';
	for (int i = 0; i < 5; i++) {
		malformed_with_fds("invalid JSON", bad_json, sizeof(bad_json));
		malformed_with_fds("an oversized NUL-terminated message", big, big_len);
	}
	ok(fds_back_to(ctl, daemon_.pid, baseline),
	   "the fds attached to malformed messages were all closed");
}

/* An administrator sets only the mode, or only the gid, of another user's region. */
static void partial_set_access(int ctl)
{
	_cleanup_json_ json_object *made =
		calls_as(&daemon_, NOBODY_UID, NOBODY_GID,
			 (const char *const[]){ "Create",
						"{\"name\":\"edge/theirs\",\"size\":4096}", NULL });
	is_str(reply_at(made, 0), "ok", "nobody creates a region");

	_cleanup_json_ json_object *m =
		call(ctl, IFACE "SetAccess", jparams("{\"name\":\"edge/theirs\",\"mode\":416}"));
	if (is_success(m, "root sets only its mode")) {
		is_int(jint(m, "parameters.region.uid"), NOBODY_UID, "  the owner stays nobody");
		is_int(jint(m, "parameters.region.gid"), NOBODY_GID, "  the group stays nobody's");
		is_int(jint(m, "parameters.region.mode"), 0640, "  the mode is 0640");
	}
	_cleanup_json_ json_object *g =
		call(ctl, IFACE "SetAccess", jparams("{\"name\":\"edge/theirs\",\"gid\":100}"));
	if (is_success(g, "root sets only its gid")) {
		is_int(jint(g, "parameters.region.uid"), NOBODY_UID, "  the owner stays nobody");
		is_int(jint(g, "parameters.region.gid"), 100, "  the group is 100");
		is_int(jint(g, "parameters.region.mode"), 0640, "  the mode stays 0640");
	}
	_cleanup_json_ json_object *st = call(ctl, IFACE "Stat", jname("edge/theirs"));
	is_int(jint(st, "parameters.region.uid"), NOBODY_UID, "Stat agrees: owner nobody");
}

/*
 * Fill the socket with Status replies left unread, so that the daemon queues what follows,
 * then n Opens (a descriptor each). Read everything back: the Opens answered with an fd,
 * and whether the connection is still served afterwards.
 */
static int queued_opens(int n, bool *alive)
{
	static const char status[] = "{\"method\":\"" IFACE "Status\"}";
	static const char open[] = "{\"method\":\"" IFACE "Open\",\"parameters\":{\"name\":"
				   "\"edge/q\",\"access\":\"read_only\",\"withRegion\":false}}";
	size_t len = STATUS_FLOOD * sizeof(status) + (size_t)n * sizeof(open), off = 0;
	_cleanup_free_ char *buf = malloc(len);
	int conn = itest_connect(&daemon_), opened = 0;

	for (int i = 0; i < STATUS_FLOOD; i++, off += sizeof(status))
		memcpy(buf + off, status, sizeof(status));
	for (int i = 0; i < n; i++, off += sizeof(open))
		memcpy(buf + off, open, sizeof(open));
	if (send_raw(conn, buf, len, NULL, 0) < 0)
		bail_out("cannot send the pipelined calls: %m");
	sleep_ms(test_slow_mode() ? 3000 : 300); /* all of them read, the replies queued */
	*alive = true;
	for (int i = 0; i < STATUS_FLOOD + n; i++) {
		json_object *r = NULL;
		int fds[VL_MAX_FDS];
		size_t n_fds = 0;
		if (test_read_reply(conn, &r, fds, &n_fds) < 0) {
			*alive = false;
			break;
		}
		if (n_fds == 1 && !test_reply_error(r))
			opened++;
		for (size_t j = 0; j < n_fds; j++)
			close(fds[j]);
		json_object_put(r);
	}
	if (*alive) {
		_cleanup_json_ json_object *r = call(conn, IFACE "Status", NULL);
		*alive = r && !test_reply_error(r);
	}
	close(conn);
	return opened;
}

static void queued_fd_limit(int ctl)
{
	bool alive;
	int baseline;

	ok(create_region(ctl, "edge/q", 4096, 0644), "a region to open");
	baseline = test_count_fds(daemon_.pid);
	is_int(queued_opens(QUEUED_FDS, &alive), QUEUED_FDS,
	       "%d handouts queued behind unread replies: all delivered", QUEUED_FDS);
	ok(alive, "  and the connection is still served");
	int got = queued_opens(QUEUED_FDS + 1, &alive);
	ok(!alive, "%d: the connection is closed", QUEUED_FDS + 1);
	ok(got < QUEUED_FDS + 1, "  with the queued handouts lost (%d delivered)", got);
	ok(fds_back_to(ctl, daemon_.pid, baseline), "no queued handout is left open");
}

int main(void)
{
	plan_no_plan();
	itest_start(&daemon_, (const char *const[]){ "--max-message-bytes", "1024", NULL });
	int ctl = itest_connect(&daemon_);
	ok(wait_connections(ctl, 1), "only our connection");
	malformed(ctl);
	if (geteuid() == 0)
		partial_set_access(ctl);
	else
		skip(1, "SetAccess of another user's region needs root");
	queued_fd_limit(ctl);
	close(ctl);
	itest_stop(&daemon_);
	return done_testing();
}
