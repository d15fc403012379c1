/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fd-exhaustion attack of issue 16, scaled down (RLIMIT_NOFILE 1024): with every region
 * slot taken, four uids park unfinished requests carrying 16 fds each on 40 connections.
 * The daemon keeps their fds within its budget, an existing region still opens, and each
 * refusal names the resource that is really short.
 */

#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <stdlib.h>

#include "hostile-util.h"
#include "varlink.h"

#define NOFILE 1024
#define MAX_CONN 64
#define ATTACKERS 4
#define CONNS_PER 10
/* limits.c: a 16th of the fds for fds in flight (64 here), a quarter of that per uid, but
 * at least one read's worth (16 + 1). */
#define PENDING 64
#define PENDING_PER_UID 17

static struct test_daemon daemon_;
static bool slow; /* test_slow_mode() before our prlimit wrapper made it true */
static int attack_conns[CONNS_PER];

/* As an attacker: CONNS_PER connections, each with "{\"method\":" and 16 fds, unfinished. */
static long attack_setup(void *arg)
{
	int fds[VL_MAX_FDS];
	long held = 0;

	for (int i = 0; i < VL_MAX_FDS; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	for (int i = 0; i < CONNS_PER; i++) {
		attack_conns[i] = test_connect(&daemon_);
		if (attack_conns[i] >= 0 &&
		    send_raw(attack_conns[i], "{\"method\":", 10, fds, VL_MAX_FDS) == 0)
			held++;
	}
	for (int i = 0; i < VL_MAX_FDS; i++)
		close(fds[i]);
	return held;
}

/*
 * Finish every request (a Status): 100 per reply naming a pending-fd share, 1 per
 * TooManyFileDescriptors (fds kept, but Status takes none), nothing for anything else.
 */
static long attack_finish(void *arg)
{
	static const char rest[] = "\"" IFACE "Status\"}";
	long score = 0;

	for (int i = 0; i < CONNS_PER; i++) {
		json_object *r = NULL;
		if (attack_conns[i] < 0 ||
		    send_raw(attack_conns[i], rest, sizeof(rest), NULL, 0) < 0 ||
		    test_read_reply(attack_conns[i], &r, NULL, NULL) < 0)
			continue;
		const char *err = test_reply_error(r), *limit = jstr(r, "parameters.limit");
		if (err && strcmp(err, IFACE "LimitReached") == 0 && limit &&
		    strncmp(limit, "pendingFileDescriptors", 22) == 0)
			score += 100;
		else if (err && strcmp(err, IFACE "TooManyFileDescriptors") == 0)
			score += 1;
		json_object_put(r);
		close(attack_conns[i]);
	}
	return score;
}

/* The daemon has read every parked request: its fd count stops moving. */
static int settled_fds(int conn)
{
	int last = -1, n;

	for (int i = 0; i < 100; i++) {
		sync_daemon(conn);
		n = test_count_fds(daemon_.pid);
		if (n == last)
			return n;
		last = n;
		sleep_ms(50);
	}
	return last;
}

static void fill_regions(int ctl, int64_t max)
{
	char name[32];
	int64_t made = 0;

	for (int64_t i = 0; i < max; i++) {
		snprintf(name, sizeof(name), "fill/%05lld", (long long)i);
		made += create_region(ctl, name, 4096, 0644);
	}
	is_int(made, max, "all %lld region slots filled", (long long)max);
	_cleanup_json_ json_object *r =
		call(ctl, IFACE "Create", jparams("{\"name\":\"fill/over\",\"size\":4096}"));
	if (is_error(r, "LimitReached", "one more Create: LimitReached"))
		is_str(jstr(r, "parameters.limit"), "regions", "  {limit: regions}");
}

static json_object *open_as_other(void *arg)
{
	json_object *res = json_object_new_object();
	int conn = test_connect(&daemon_);
	const char *err = NULL;
	int fd = conn >= 0 ? open_region(conn, "fill/00000", "read_only", &err) : -1;

	json_object_object_add(res, "opened", json_object_new_boolean(fd >= 0));
	json_object_object_add(res, "error", json_object_new_string(err ? err : ""));
	safe_close(fd);
	safe_close(conn);
	return res;
}

static void under_attack(int ctl, int baseline, int64_t max_regions)
{
	struct holder h[ATTACKERS];
	long held = 0, score = 0;

	for (int i = 0; i < ATTACKERS; i++)
		held += holder_start(&h[i], NOBODY_UID - (uid_t)i, NOBODY_GID - (gid_t)i,
				     attack_setup, attack_finish, NULL);
	is_int(held, ATTACKERS * CONNS_PER, "%d attackers park %d unfinished requests", ATTACKERS,
	       ATTACKERS * CONNS_PER);
	ok(wait_connections(ctl, 1 + ATTACKERS * CONNS_PER), "the daemon holds their connections");

	int during = settled_fds(ctl);
	if (!slow)
		is_int(during - baseline, ATTACKERS * CONNS_PER + PENDING,
		       "it holds one fd per connection and %d of their fds, no more", PENDING);
	ok(count_all_fds(daemon_.pid) <= (int)(NOFILE - 32),
	   "its descriptor table keeps the handout reserve free (%d of %d used)",
	   count_all_fds(daemon_.pid), NOFILE);

	int fd = open_region(ctl, "fill/00001", "read_write", NULL);
	ok(fd >= 0, "Open of an existing region still succeeds");
	safe_close(fd);
	_cleanup_json_ json_object *other =
		run_as(NOBODY_UID - 10, NOBODY_GID - 10, open_as_other, NULL);
	is_int(jbool(other, "opened"), 1, "another uid, attacking nothing, opens one too");
	_cleanup_json_ json_object *r =
		call(ctl, IFACE "Create", jparams("{\"name\":\"fill/over\",\"size\":4096}"));
	if (is_error(r, "LimitReached", "Create still says LimitReached"))
		is_str(jstr(r, "parameters.limit"), "regions",
		       "  naming regions, the real shortage");

	for (int i = 0; i < ATTACKERS; i++)
		score += holder_finish(&h[i]);
	diag("attackers: %ld requests refused naming the pending-fd limit, %ld kept their fds",
	     score / 100, score % 100);
	ok(score / 100 >= ATTACKERS * (CONNS_PER - 2),
	   "requests whose fds were refused get LimitReached pendingFileDescriptors[PerUid]");
	is_int(score / 100 + score % 100, ATTACKERS * CONNS_PER,
	       "  every other one got its fds' error");
	ok(wait_connections(ctl, 1), "the attackers are gone");
	ok(fds_back_to(ctl, daemon_.pid, baseline), "the daemon's fds are back to baseline");
	_cleanup_json_ json_object *s = call(ctl, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), max_regions, "no region was lost");
}

int main(void)
{
	if (!need_root())
		return 0;
	plan_no_plan();
	/*
	 * Only the daemon gets the low limit: prlimit(1) goes first in its command line (the
	 * test may run under valgrind, which refuses setrlimit(RLIMIT_NOFILE)).
	 */
	const char *wrapper = getenv("SHMD_TEST_WRAPPER");
	char limited[1024];
	slow = test_slow_mode();
	snprintf(limited, sizeof(limited), "prlimit --nofile=%d:%d %s", NOFILE, NOFILE,
		 wrapper ? wrapper : "");
	setenv("SHMD_TEST_WRAPPER", limited, 1);
	itest_start(&daemon_, (const char *const[]){ "--max-connections", "64", NULL });
	int ctl = itest_connect(&daemon_);
	ok(wait_connections(ctl, 1), "only our connection");
	_cleanup_json_ json_object *s = call(ctl, IFACE "Status", NULL);
	int64_t max_regions = jint(s, "parameters.limits.maxRegions");
	if (!slow)
		is_int(max_regions, NOFILE - MAX_CONN - 32 - 32 - PENDING,
		       "maxRegions: the fd limit less connections, the two reserves and the "
		       "pending-fd pool");
	fill_regions(ctl, max_regions);
	int baseline = settled_fds(ctl);
	under_attack(ctl, baseline, max_regions);
	close(ctl);
	itest_stop(&daemon_);
	return done_testing();
}
