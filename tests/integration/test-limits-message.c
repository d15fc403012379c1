/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Request limits: MessageTooLarge then disconnect; fds on a request are refused and closed. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "proto-util.h"

#define MAX_MESSAGE 4096

/* A Status call padded with an unknown key to exactly len bytes (NUL included). */
static char *padded_call(size_t len, bool terminate)
{
	static const char head[] = "{\"method\":\"" IFACE "Status\",\"parameters\":{\"pad\":\"";
	static const char tail[] = "\"}}";
	char *buf = malloc(len);

	if (!buf || len < sizeof(head) + sizeof(tail))
		bail_out("test bug: padded_call(%zu)", len);
	memset(buf, 'p', len);
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + len - sizeof(tail), tail, sizeof(tail) - 1);
	buf[len - 1] = terminate ? '\0' : 'p';
	return buf;
}

static void test_size_limit(const struct test_daemon *d)
{
	int conn = itest_connect(d);
	_cleanup_free_ char *fits = padded_call(MAX_MESSAGE, true);
	send_raw(conn, fits, MAX_MESSAGE, NULL, 0);
	_cleanup_json_ json_object *r = NULL;
	test_read_reply(conn, &r, NULL, NULL);
	is_error(r, "InvalidParameter",
		 "a request of %d bytes with its NUL is read (and its bad key refused)",
		 MAX_MESSAGE);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_success(s, "the connection stays usable");

	/* Over the limit whether or not the NUL counts. */
	_cleanup_free_ char *big = padded_call(MAX_MESSAGE + 2, true);
	send_raw(conn, big, MAX_MESSAGE + 2, NULL, 0);
	_cleanup_json_ json_object *t = NULL;
	test_read_reply(conn, &t, NULL, NULL);
	if (is_error(t, "MessageTooLarge", "a %d-byte request: MessageTooLarge", MAX_MESSAGE + 2))
		is_int(jint(t, "parameters.max"), MAX_MESSAGE, "  {max}");
	is_int(wait_eof(conn, 5000), 1, "then the daemon closes the connection");
	close(conn);

	/* Never terminated: the limit must hit before the NUL ever comes. */
	conn = itest_connect(d);
	_cleanup_free_ char *endless = padded_call(3 * MAX_MESSAGE, false);
	send_raw(conn, endless, 3 * MAX_MESSAGE, NULL, 0);
	_cleanup_json_ json_object *u = NULL;
	test_read_reply(conn, &u, NULL, NULL);
	is_error(u, "MessageTooLarge", "an unterminated oversized message: MessageTooLarge");
	is_int(wait_eof(conn, 5000), 1, "then the connection is closed");
	close(conn);
}

/* Attach the read ends of n pipes to a Status call; afterwards, writes must see EPIPE. */
static void test_fds(const struct test_daemon *d, int n)
{
	int conn = itest_connect(d);
	int rd[32], wr[32];

	for (int i = 0; i < n; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			bail_out("pipe: %m");
		rd[i] = p[0];
		wr[i] = p[1];
	}
	static const char msg[] = "{\"method\":\"" IFACE "Status\"}";
	ok(send_raw(conn, msg, sizeof(msg), rd, n) == 0, "send Status with %d fds attached", n);
	for (int i = 0; i < n; i++)
		close(rd[i]);
	_cleanup_json_ json_object *r = NULL;
	test_read_reply(conn, &r, NULL, NULL);
	if (is_error(r, "TooManyFileDescriptors", "%d fds: TooManyFileDescriptors", n)) {
		is_int(jint(r, "parameters.max"), 0, "  {max} 0 for Status");
		ok(jint(r, "parameters.received") >= MIN(n, 16), "  {received} %lld",
		   (long long)jint(r, "parameters.received"));
	}
	/* The daemon held the only other read ends: once closed, writes fail with EPIPE. */
	int closed = 0;
	for (int i = 0; i < n; i++) {
		for (int tries = 0; tries < 100; tries++) {
			if (write(wr[i], "x", 1) < 0 && errno == EPIPE) {
				closed++;
				break;
			}
			sleep_ms(10);
		}
		close(wr[i]);
	}
	is_int(closed, n, "the daemon closed all %d fds (writers get EPIPE)", n);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_success(s, "the connection stays usable");
	close(conn);
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, (const char *const[]){ "--max-message-bytes", "4096", NULL });
	int conn = itest_connect(&d);
	ok(wait_connections(conn, 1), "only our connection");
	int baseline = test_count_fds(d.pid);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.maxMessageBytes"), MAX_MESSAGE,
	       "Status reports maxMessageBytes");

	test_size_limit(&d);
	test_fds(&d, 1);
	test_fds(&d, 3);
	test_fds(&d, 20); /* more than one message may carry: the kernel drops the rest */

	ok(wait_connections(conn, 1), "the test connections are gone");
	is_int(test_count_fds(d.pid), baseline, "the daemon's fd count is back to baseline");
	close(conn);
	itest_stop(&d);
	return done_testing();
}
