/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connection hoarding: four uids take every connection slot; a uid holding none still
 * connects and is served (the busiest uid's least recently used connection makes room),
 * one uid cannot take more than its share, and the defaults are the documented ones.
 */

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hostile-util.h"

#define MAX_CONN 18 /* ours, 4 hoarders' 4 each, one free */
#define PER_UID 4   /* the default: a quarter of --max-connections */
#define HOARDERS 4
#define NEWCOMERS 5

static struct test_daemon daemon_;
static int hoard[PER_UID + 1];

static bool served(int conn)
{
	_cleanup_json_ json_object *r = conn >= 0 ? call(conn, IFACE "Status", NULL) : NULL;
	return r && !test_reply_error(r);
}

/* Take PER_UID connections, each served once; then one more, which must be refused. */
static long hoard_setup(void *arg)
{
	long n = 0;

	for (int i = 0; i < PER_UID; i++) {
		hoard[i] = test_connect(&daemon_);
		n += served(hoard[i]);
	}
	/* Refused at once: the request may fail to send (EPIPE), the refusal is there. */
	static const char msg[] = "{\"method\":\"" IFACE "Status\"}";
	json_object *r = NULL;
	hoard[PER_UID] = test_connect(&daemon_);
	if (hoard[PER_UID] >= 0) {
		send_raw(hoard[PER_UID], msg, sizeof(msg), NULL, 0);
		test_read_reply(hoard[PER_UID], &r, NULL, NULL);
	}
	const char *limit = jstr(r, "parameters.limit");
	if (limit && strcmp(limit, "connectionsPerUid") == 0)
		n += 100;
	json_object_put(r);
	safe_close(hoard[PER_UID]);
	return n;
}

/* How many of the hoarded connections the daemon closed (EOF). */
static long hoard_finish(void *arg)
{
	long closed = 0;

	for (int i = 0; i < PER_UID; i++) {
		char c;
		struct pollfd p = { .fd = hoard[i], .events = POLLIN };
		if (poll(&p, 1, 0) == 1 && recv(hoard[i], &c, 1, MSG_DONTWAIT) == 0)
			closed++;
		safe_close(hoard[i]);
	}
	return closed;
}

static int newcomer_conn = -1;

/* A uid holding no connection connects, is served, and keeps its connection. */
static long newcomer_setup(void *arg)
{
	newcomer_conn = test_connect(&daemon_);
	if (newcomer_conn >= 0) {
		struct timeval tv = { .tv_sec = 10 };
		setsockopt(newcomer_conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	return served(newcomer_conn);
}

/* Still served after the others came. */
static long newcomer_finish(void *arg)
{
	long r = served(newcomer_conn);
	safe_close(newcomer_conn);
	return r;
}

int main(void)
{
	struct holder h[HOARDERS];
	long closed = 0;

	if (!need_root())
		return 0;
	plan_no_plan();
	itest_start(&daemon_, (const char *const[]){ "--max-connections", "18", NULL });
	int ctl = itest_connect(&daemon_);
	ok(wait_connections(ctl, 1), "only our connection");
	int baseline = test_count_fds(daemon_.pid);
	_cleanup_json_ json_object *s = call(ctl, IFACE "Status", NULL);
	is_int(jint(s, "parameters.limits.maxConnectionsPerUid"), PER_UID,
	       "default per-uid connections: a quarter of --max-connections");
	is_int(jint(s, "parameters.limits.idleTimeoutUSec"), 300000000,
	       "default idle timeout: 300 s");

	for (int i = 0; i < HOARDERS; i++)
		is_int(holder_start(&h[i], NOBODY_UID - (uid_t)i, NOBODY_GID - (gid_t)i,
				    hoard_setup, hoard_finish, NULL),
		       100 + PER_UID, "hoarder %d holds %d connections, a %dth is refused", i,
		       PER_UID, PER_UID + 1);
	ok(wait_connections(ctl, MAX_CONN - 1), "every connection slot but one is taken");

	struct holder n[NEWCOMERS];
	long still = 0;
	for (int i = 0; i < NEWCOMERS; i++)
		is_int(holder_start(&n[i], NOBODY_UID - 10 - (uid_t)i, NOBODY_GID - 10 - (gid_t)i,
				    newcomer_setup, newcomer_finish, NULL),
		       1, "a uid holding no connection (newcomer %d) connects and is served", i);
	ok(served(ctl), "our own connection (root's one) was left alone");
	for (int i = 0; i < NEWCOMERS; i++)
		still += holder_finish(&n[i]);
	is_int(still, NEWCOMERS, "every newcomer kept its connection");
	for (int i = 0; i < HOARDERS; i++)
		closed += holder_finish(&h[i]);
	is_int(closed, NEWCOMERS - 1,
	       "each newcomer after the free slot cost a hoarder one connection");
	ok(wait_connections(ctl, 1), "the hoarders are gone");
	ok(fds_back_to(ctl, daemon_.pid, baseline), "the daemon's fds are back to baseline");
	close(ctl);
	itest_stop(&daemon_);
	return done_testing();
}
