/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many connections ready at once, more than one batch of them (the daemon serves up to
 * 64 ready connections per wakeup): every pipelined request is answered, in order, with
 * its fd; connections that hang up with requests pending go away without harm to the
 * others; no fd is left behind.
 */

#include <fcntl.h>
#include <string.h>

#include "proto-util.h"

#define N_CONN 200
#define N_GONE 50 /* the first ones hang up before reading their replies */

static const char requests[] = "{\"method\":\"" IFACE "Open\",\"parameters\":{\"name\":\"batch\","
			       "\"access\":\"read_only\",\"withRegion\":false}}\0"
			       "{\"method\":\"" IFACE
			       "Stat\",\"parameters\":{\"name\":\"batch\"}}\0"
			       "{\"method\":\"" IFACE "Open\",\"parameters\":{\"name\":\"batch\"}}";

/* The three replies of one connection, in order. */
static bool replies_ok(int conn, int i)
{
	json_object *r[3] = { 0 };
	int fds[3] = { -1, -1, -1 };
	size_t n_fds = 0;
	bool good = test_read_reply(conn, &r[0], &fds[0], &n_fds) >= 0 && n_fds == 1 &&
		    !test_reply_error(r[0]) && !jget(r[0], "parameters.region") &&
		    accmode(fds[0]) == O_RDONLY;
	n_fds = 0;
	good = good && test_read_reply(conn, &r[1], NULL, NULL) >= 0 &&
	       strcmp(jstr(r[1], "parameters.region.name") ?: "", "batch") == 0;
	good = good && test_read_reply(conn, &r[2], &fds[2], &n_fds) >= 0 && n_fds == 1 &&
	       jint(r[2], "parameters.region.size") == 4096 && accmode(fds[2]) == O_RDWR;
	if (!good)
		diag("connection %d: replies %s / %s / %s", i,
		     r[0] ? json_object_to_json_string(r[0]) : "none",
		     r[1] ? json_object_to_json_string(r[1]) : "none",
		     r[2] ? json_object_to_json_string(r[2]) : "none");
	for (int k = 0; k < 3; k++) {
		json_object_put(r[k]);
		safe_close(fds[k]);
	}
	return good;
}

int main(void)
{
	struct test_daemon d;
	int conns[N_CONN];

	plan_no_plan();
	itest_start(&d, (const char *const[]){ "--max-connections", "300",
					       "--max-connections-per-uid", "300", NULL });
	int a = itest_connect(&d);
	ok(create_region(a, "batch", 4096, 0644), "create the region");
	ok(wait_connections(a, 1), "only our control connection");
	int baseline = test_count_fds(d.pid);

	int sent = 0;
	for (int i = 0; i < N_CONN; i++) {
		conns[i] = itest_connect(&d);
		sent += send_raw(conns[i], requests, sizeof(requests), NULL, 0) == 0;
	}
	is_int(sent, N_CONN, "%d connections each sent three requests at once", N_CONN);
	for (int i = 0; i < N_GONE; i++)
		conns[i] = safe_close(conns[i]);

	int good = 0;
	for (int i = N_GONE; i < N_CONN; i++)
		good += replies_ok(conns[i], i);
	is_int(good, N_CONN - N_GONE,
	       "every connection that stayed got its three replies, in order, with fds");
	ok(wait_connections(a, 1 + N_CONN - N_GONE), "those that hung up are gone (%d left)",
	   1 + N_CONN - N_GONE);

	for (int i = N_GONE; i < N_CONN; i++)
		safe_close(conns[i]);
	ok(wait_connections(a, 1), "all of them are gone");
	is_int(test_count_fds(d.pid), baseline, "and left no fd behind");
	_cleanup_json_ json_object *s = call(a, IFACE "Stat", jname("batch"));
	is_success(s, "the daemon still serves");
	close(a);
	itest_stop(&d);
	return done_testing();
}
