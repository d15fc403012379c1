/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connection limits, total and per uid: LimitReached, then the connection is closed. */

#include <string.h>
#include <unistd.h>

#include "proto-util.h"

#define MAX_CONN 3
#define MAX_PER_UID 2

static struct test_daemon daemon_;

/* The first reply on a fresh connection after sending Status: success or the refusal. */
static json_object *first_reply(int conn)
{
	static const char msg[] = "{\"method\":\"" IFACE "Status\"}";
	json_object *r = NULL;

	/* A refused connection may already be closed for writing: the reply is still there. */
	send_raw(conn, msg, sizeof(msg), NULL, 0);
	if (test_read_reply(conn, &r, NULL, NULL) < 0)
		return NULL;
	return r;
}

/* As another uid: one connection fits, the next hits the total limit. */
static json_object *other_uid(void *arg)
{
	json_object *res = json_object_new_object();
	int a = test_connect(&daemon_);
	_cleanup_json_ json_object *ra = a >= 0 ? first_reply(a) : NULL;
	json_object_object_add(res, "first",
			       json_object_new_string(!ra		   ? "no reply" :
						      test_reply_error(ra) ?:
									     "ok"));

	int b = test_connect(&daemon_);
	_cleanup_json_ json_object *rb = b >= 0 ? first_reply(b) : NULL;
	json_object_object_add(res, "second", json_object_get(rb));
	json_object_object_add(res, "eof",
			       json_object_new_boolean(b >= 0 && wait_eof(b, 5000) == 1));
	safe_close(a);
	safe_close(b);
	return res;
}

/* Another uid (not limited per uid by our connections) reaches the total limit. */
static void test_other_uid(void)
{
	_cleanup_json_ json_object *res = run_as(NOBODY_UID, NOBODY_GID, other_uid, NULL);
	is_str(jstr(res, "first"), "ok", "another uid gets a connection (3 in all)");
	json_object *second = jget(res, "second");
	if (is_error(second, "LimitReached", "its next one: LimitReached (total)")) {
		is_str(jstr(second, "parameters.limit"), "connections", "  {limit}");
		is_int(jint(second, "parameters.max"), MAX_CONN, "  {max}");
	}
	is_int(jbool(res, "eof"), 1, "  and it is closed");
}

int main(void)
{
	plan_no_plan();
	itest_start(&daemon_, (const char *const[]){ "--max-connections", "3",
						     "--max-connections-per-uid", "2", NULL });
	int a = itest_connect(&daemon_);
	ok(wait_connections(a, 1), "the readiness probe is gone");
	int baseline = test_count_fds(daemon_.pid);
	_cleanup_json_ json_object *s = call(a, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.maxConnections"), MAX_CONN, "Status: maxConnections");
	is_int(jint(s, "parameters.limits.maxConnectionsPerUid"), MAX_PER_UID,
	       "Status: maxConnectionsPerUid");

	int b = itest_connect(&daemon_);
	_cleanup_json_ json_object *rb = first_reply(b);
	is_success(rb, "a second connection of our uid is served");

	int c = itest_connect(&daemon_);
	_cleanup_json_ json_object *rc = first_reply(c);
	if (is_error(rc, "LimitReached", "a third one of our uid: LimitReached")) {
		is_str(jstr(rc, "parameters.limit"), "connectionsPerUid", "  {limit}");
		is_int(jint(rc, "parameters.max"), MAX_PER_UID, "  {max}");
	}
	is_int(wait_eof(c, 5000), 1, "  and it is closed");
	close(c);

	if (geteuid() == 0)
		test_other_uid();
	else
		skip(3, "needs root: the total limit is reached by a child as uid 65534");

	close(b);
	ok(wait_connections(a, 1), "closed connections are counted out");
	c = itest_connect(&daemon_);
	_cleanup_json_ json_object *rc2 = first_reply(c);
	is_success(rc2, "so our uid may connect again");
	close(c);
	ok(wait_connections(a, 1), "back to one connection");
	is_int(test_count_fds(daemon_.pid), baseline, "refused connections left no fd behind");
	close(a);
	itest_stop(&daemon_);
	return done_testing();
}
