/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Timeouts: a stalled or trickled partial message, and idle connections, are closed in time. */

#include <poll.h>
#include <string.h>

#include "proto-util.h"

static int limit_ms(void)
{
	/* One second configured; allow scheduling slack, more under valgrind. */
	return test_slow_mode() ? 15000 : 4000;
}

/* Whether the daemon still answers on conn. */
static bool alive(int conn)
{
	_cleanup_json_ json_object *r = call(conn, IFACE "Status", NULL);
	return r && !test_reply_error(r);
}

static void test_message_timeout(void)
{
	struct test_daemon d;
	static const char half[] = "{\"method\":\"" IFACE "Sta";

	itest_start(&d, (const char *const[]){ "--message-timeout", "1", NULL });
	int idle = itest_connect(&d);
	int conn = itest_connect(&d);
	_cleanup_json_ json_object *s = call(idle, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.messageTimeoutUSec"), 1000000,
	       "Status reports messageTimeoutUSec");

	int64_t t0 = now_ms();
	send_raw(conn, half, sizeof(half) - 1, NULL, 0);
	is_int(wait_eof(conn, limit_ms()), 1, "half a message, then silence: connection closed");
	int64_t elapsed = now_ms() - t0;
	ok(elapsed >= 800, "not before the timeout (%lld ms)", (long long)elapsed);
	close(conn);

	/* Trickling bytes must not keep a message open forever (slowloris). */
	conn = itest_connect(&d);
	t0 = now_ms();
	bool closed = false;
	for (int i = 0; i < 40 && !closed; i++) {
		send_raw(conn, i == 0 ? "{" : " ", 1, NULL, 0);
		struct pollfd p = { .fd = conn, .events = POLLIN };
		closed = poll(&p, 1, 200) > 0 && wait_eof(conn, 100) == 1;
	}
	elapsed = now_ms() - t0;
	ok(closed && elapsed < limit_ms(),
	   "a message trickled a byte every 200 ms is cut off too (%lld ms)", (long long)elapsed);
	close(conn);

	ok(alive(idle), "a connection with no partial message is left alone");
	close(idle);
	itest_stop(&d);
}

static void test_idle_timeout(void)
{
	struct test_daemon d;

	itest_start(&d, (const char *const[]){ "--idle-timeout", "1", NULL });
	int busy = itest_connect(&d);
	int idle = itest_connect(&d);
	int64_t t0 = now_ms();
	bool busy_ok = true;

	while (now_ms() - t0 < 2000)
		busy_ok = busy_ok && alive(busy) && (sleep_ms(250), true);
	ok(busy_ok, "a connection that calls every 250 ms stays open for 2 s");
	is_int(wait_eof(idle, limit_ms()), 1, "an idle connection is closed");
	_cleanup_json_ json_object *s = call(busy, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.idleTimeoutUSec"), 1000000,
	       "Status reports idleTimeoutUSec");
	close(busy);
	close(idle);
	itest_stop(&d);
}

int main(void)
{
	plan_no_plan();
	test_message_timeout();
	test_idle_timeout();
	return done_testing();
}
