/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A client that pipelines calls and never reads is disconnected once its output queue is full. */

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "proto-util.h"

#define REGIONS 100

/*
 * Send count copies of msg without reading anything, nonblocking. Stop early when the
 * daemon closes the connection or stops reading for a second. Returns messages written.
 */
static int flood(int conn, const char *msg, size_t len, int count)
{
	int64_t blocked_since = 0;
	size_t off = 0;
	int sent = 0;

	fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK);
	while (sent < count) {
		ssize_t n = send(conn, msg + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			if (!blocked_since)
				blocked_since = now_ms();
			else if (now_ms() - blocked_since > 1000)
				break;
			struct pollfd p = { .fd = conn, .events = POLLOUT };
			poll(&p, 1, 100);
			continue;
		}
		if (n < 0)
			break; /* EPIPE / ECONNRESET: the daemon hung up */
		blocked_since = 0;
		off += (size_t)n;
		if (off == len) {
			off = 0;
			sent++;
		}
	}
	return sent;
}

static void test_flood(const struct test_daemon *d, int ctl, const char *what, const char *msg,
		       int count)
{
	int conn = itest_connect(d);
	int sent = flood(conn, msg, strlen(msg) + 1, count);
	diag("%s: wrote %d of %d calls before stopping", what, sent, count);

	/* Without reading a byte: the daemon must have dropped us by itself. */
	ok(wait_connections(ctl, 1), "%s: the daemon disconnected the reader that never reads",
	   what);
	is_int(wait_eof(conn, 5000), 1, "%s: the client sees EOF after the queued replies", what);
	close(conn);
	_cleanup_json_ json_object *s = call(ctl, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), REGIONS, "%s: the daemon is healthy", what);
}

int main(void)
{
	struct test_daemon d;
	char name[32];

	plan_no_plan();
	/*
	 * A stream (List) that cannot be written must not pin the connection forever either:
	 * with a short message timeout a stalled writer can be dropped quickly.
	 */
	itest_start(&d, (const char *const[]){ "--max-output-bytes", "65536", "--message-timeout",
					       "2", NULL });
	int ctl = itest_connect(&d);
	ok(wait_connections(ctl, 1), "only our connection");
	for (int i = 0; i < REGIONS; i++) {
		snprintf(name, sizeof(name), "out/%03d", i);
		create_region(ctl, name, 4096, 0600);
	}
	int baseline = test_count_fds(d.pid);
	_cleanup_json_ json_object *s = call(ctl, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.maxOutputBytes"), 65536, "Status: maxOutputBytes");

	test_flood(&d, ctl, "List",
		   "{\"method\":\"" IFACE
		   "List\",\"parameters\":{\"prefix\":\"out/\"},\"more\":true}",
		   5000);
	test_flood(&d, ctl, "Stat",
		   "{\"method\":\"" IFACE "Stat\",\"parameters\":{\"name\":\"out/042\"}}", 200000);

	is_int(test_count_fds(d.pid), baseline, "the daemon's fd count is back to baseline");
	close(ctl);
	itest_stop(&d);
	return done_testing();
}
