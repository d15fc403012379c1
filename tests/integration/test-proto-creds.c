/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-message credentials: each request is judged by the identity its sender had when sending. */

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto-util.h"

static struct test_daemon d;

/* The owner uid of a region as root sees it, or -1. */
static int64_t owner_of(int conn, const char *name)
{
	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname(name));
	return test_reply_error(s) ? -1 : jint(s, "parameters.region.uid");
}

static json_object *result_object(int err, json_object *reply)
{
	json_object *out = json_object_new_object();
	json_object_object_add(out, "errno", json_object_new_int(err));
	json_object_object_add(out, "reply", reply);
	return out;
}

/*
 * Connected as root, then dropped every uid and gid to nobody (no way back): the next request,
 * sent without explicit SCM_CREDENTIALS, is stamped by the kernel with the new ids.
 */
static json_object *drop_after_connect(void *arg)
{
	const char *name = arg;
	int conn = test_connect(&d);
	if (conn < 0)
		return result_object(-conn, NULL);
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY_GID, NOBODY_GID, NOBODY_GID) < 0 ||
	    setresuid(NOBODY_UID, NOBODY_UID, NOBODY_UID) < 0)
		return result_object(errno, NULL);
	json_object *r = call(conn, IFACE "Create",
			      jparams("{\"name\":\"%s\",\"size\":4096,\"mode\":384}", name));
	close(conn);
	return result_object(0, r);
}

/* As nobody: claim uid 0 in SCM_CREDENTIALS. The kernel refuses to send it. */
static json_object *forge_root(void *arg)
{
	(void)arg;
	int conn = test_connect(&d);
	struct ucred cred = { .pid = getpid(), .uid = 0, .gid = 0 };
	int r = conn < 0 ? conn : send_call_creds(conn, IFACE "Status", NULL, &cred);
	close(conn);
	return result_object(-r, NULL);
}

static void test_explicit_credentials(int conn)
{
	/* Root may speak for any uid (CAP_SETUID): the daemon must use the message's ids. */
	struct ucred nobody = { .pid = getpid(), .uid = NOBODY_UID, .gid = NOBODY_GID };
	json_object *reply = NULL;

	ok(create_region(conn, "creds/root-only", 4096, 0600), "root creates creds/root-only 0600");
	is_int(send_call_creds(conn, IFACE "Open", jname("creds/root-only"), &nobody), 0,
	       "root sends Open with SCM_CREDENTIALS uid %d", NOBODY_UID);
	is_int(test_read_reply(conn, &reply, NULL, NULL), 0, "  a reply comes");
	is_error(reply, "PermissionDenied", "  judged as uid %d: PermissionDenied", NOBODY_UID);
	json_object_put(reply);

	is_int(send_call_creds(conn, IFACE "Create",
			       jparams("{\"name\":\"creds/as-nobody\",\"size\":4096}"), &nobody),
	       0, "root sends Create with SCM_CREDENTIALS uid %d", NOBODY_UID);
	is_int(test_read_reply(conn, &reply, NULL, NULL), 0, "  a reply comes");
	is_success(reply, "  created");
	is_int(jint(reply, "parameters.region.uid"), NOBODY_UID, "  owned by uid %d", NOBODY_UID);
	is_int(jint(reply, "parameters.region.creator.uid"), NOBODY_UID, "  creator.uid %d",
	       NOBODY_UID);
	json_object_put(reply);

	/* The next message without explicit credentials is root's again. */
	_cleanup_json_ json_object *o = call(conn, IFACE "Open", jname("creds/root-only"));
	is_success(o, "the next plain message on the same connection is root's again");
}

static void test_drop_privileges(int conn)
{
	_cleanup_json_ json_object *r = run_as(0, 0, drop_after_connect, (void *)"creds/dropped");
	ok(r && jint(r, "errno") == 0, "a child connects as root, then drops to nobody for good");
	is_success(jget(r, "reply"), "  its Create succeeds");
	is_int(owner_of(conn, "creds/dropped"), NOBODY_UID,
	       "  and the region is nobody's, not root's (the connect-time identity)");

	/*
	 * The same with the daemon stopped, so the request is queued before the daemon accepts the
	 * connection: the kernel must still stamp it (SO_PASSCRED is set on the listening socket).
	 */
	kill(d.pid, SIGSTOP);
	_cleanup_json_ json_object *q = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		/* Resume the daemon once our request is queued: run_as() waits for the reply. */
		usleep(200 * 1000);
		kill(d.pid, SIGCONT);
		_exit(0);
	}
	q = run_as(0, 0, drop_after_connect, (void *)"creds/before-accept");
	kill(d.pid, SIGCONT);
	waitpid(pid, NULL, 0);
	is_success(jget(q, "reply"), "a request sent before the daemon accepted: success");
	is_int(owner_of(conn, "creds/before-accept"), NOBODY_UID, "  and judged as nobody");
}

int main(void)
{
	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);

	if (geteuid() == 0) {
		test_explicit_credentials(conn);
		test_drop_privileges(conn);
	} else {
		skip(10,
		     "needs root: speaking for another uid in SCM_CREDENTIALS takes CAP_SETUID");
		skip(5, "needs root: the children connect as root, then drop to uid 65534");
	}

	/* Not root: the test's own uid tries the same (run_as() keeps it). */
	_cleanup_json_ json_object *f = run_as(geteuid() == 0 ? NOBODY_UID : geteuid(),
					       geteuid() == 0 ? NOBODY_GID : getegid(), forge_root,
					       NULL);
	is_int(jint(f, "errno"), EPERM,
	       "a non-root uid cannot claim uid 0 in SCM_CREDENTIALS: the kernel refuses (EPERM)");
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_success(s, "the daemon is healthy");

	close(conn);
	itest_stop(&d);
	return done_testing();
}
