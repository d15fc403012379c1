/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A storm of bad requests and rude disconnects leaves the daemon's fd count at its baseline. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "proto-util.h"

#define REGIONS 300

static const char *const garbage[] = {
	"this is not json",
	"{\"method\":",
	"[1,2,3]",
	"{\"method\":42}",
	"{\"method\":\"" IFACE "Status\",\"parameters\":[]}",
	"{\"method\":\"" IFACE "Status\",\"more\":\"yes\"}",
	"\xff\xfe\xfd",
	"{\"method\":\"" IFACE "Stat\",\"parameters\":{\"name\":\"\xff\"}}",
	"",
};

/* Send one raw message (NUL appended) and read until the daemon answers or hangs up. */
static void send_garbage(const struct test_daemon *d, const char *text)
{
	int conn = itest_connect(d);
	send_raw(conn, text, strlen(text) + 1, NULL, 0);
	/* Whatever it answers, it must either answer or close; then we hang up. */
	json_object *r = NULL;
	if (test_read_reply(conn, &r, NULL, NULL) == 0)
		json_object_put(r);
	close(conn);
}

static void send_with_fds(const struct test_daemon *d, const char *method, int n)
{
	int conn = itest_connect(d), fds[8];
	char msg[256];

	for (int i = 0; i < n; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(msg, sizeof(msg), "{\"method\":\"" IFACE "%s\",\"parameters\":{\"name\":\"x/1\"}}",
		 method);
	send_raw(conn, msg, strlen(msg) + 1, fds, n);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	json_object *r = NULL;
	if (test_read_reply(conn, &r, NULL, NULL) == 0)
		json_object_put(r);
	close(conn);
}

static void storm(const struct test_daemon *d)
{
	/* Garbage of every kind. */
	for (size_t i = 0; i < ELEMENTSOF(garbage); i++)
		send_garbage(d, garbage[i]);

	/* Oversized: 100 KiB of JSON string. */
	size_t big_len = 100 * 1024;
	_cleanup_free_ char *big = malloc(big_len + 1);
	memset(big, 'a', big_len);
	memcpy(big, "{\"method\":\"x\",\"p\":\"", 19);
	big[big_len] = '\0';
	send_garbage(d, big);

	/* Requests with fds attached, to methods that take none. */
	send_with_fds(d, "Stat", 1);
	send_with_fds(d, "Open", 3);
	send_with_fds(d, "Delete", 8);

	/* Half messages, then hang up. */
	for (int i = 0; i < 10; i++) {
		int conn = itest_connect(d);
		send_raw(conn, "{\"method\":\"" IFACE "Stat\",\"param", 33, NULL, 0);
		close(conn);
	}
	/* Hang up in the middle of a List stream, after one or no reply. */
	for (int i = 0; i < 10; i++) {
		int conn = itest_connect(d);
		static const char list[] = "{\"method\":\"" IFACE "List\",\"more\":true}";
		send_raw(conn, list, sizeof(list), NULL, 0);
		json_object *r = NULL;
		if (i % 2 && test_read_reply(conn, &r, NULL, NULL) == 0)
			json_object_put(r);
		close(conn);
	}
	/* Open calls whose fds are never read, then hang up. */
	for (int i = 0; i < 10; i++) {
		int conn = itest_connect(d);
		static const char open_[] = "{\"method\":\"" IFACE
					    "Open\",\"parameters\":{\"name\":\"x/1\"}}";
		for (int k = 0; k < 5; k++)
			send_raw(conn, open_, sizeof(open_), NULL, 0);
		close(conn);
	}
	/* Connect and close at once, many times. */
	for (int i = 0; i < 50; i++)
		close(itest_connect(d));
}

int main(void)
{
	struct test_daemon d;
	char name[32];

	plan_no_plan();
	itest_start(&d, NULL);
	int ctl = itest_connect(&d);
	for (int i = 0; i < REGIONS; i++) {
		snprintf(name, sizeof(name), "x/%d", i);
		create_region(ctl, name, 4096, 0600);
	}
	/*
	 * One storm first: sd-event creates some fds lazily and keeps them for the life of the
	 * loop (the timerfd of CLOCK_MONOTONIC, on the first timer). Those are not leaks.
	 */
	storm(&d);
	ok(wait_connections(ctl, 1), "only our connection");
	int baseline = test_count_fds(d.pid);
	ok(baseline > REGIONS, "baseline: %d fds", baseline);

	int rounds = test_slow_mode() ? 1 : 3;
	for (int i = 0; i < rounds; i++)
		storm(&d);

	ok(wait_connections(ctl, 1), "every storm connection is gone");
	int after = test_count_fds(d.pid);
	for (int i = 0; i < 100 && after != baseline; i++, sleep_ms(20))
		after = test_count_fds(d.pid);
	is_int(after, baseline, "the daemon's fd count is back to baseline");
	is_int(list_count(ctl, NULL), REGIONS, "no region was lost");
	_cleanup_json_ json_object *s = call(ctl, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), REGIONS, "Status agrees");
	close(ctl);
	itest_stop(&d);
	return done_testing();
}
