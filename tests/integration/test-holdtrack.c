/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exact holder counts: fresh descriptions, fds passed on, mappings, kill -9, deleted regions still held, watch limits. */

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto-util.h"

static int64_t holders(int conn, const char *name)
{
	_cleanup_json_ json_object *st = call(conn, IFACE "Stat", jname(name));
	json_object *region = jget(st, "parameters.region"), *v;
	if (!region || !json_object_object_get_ex(region, "holders", &v))
		return -2; /* absent */
	if (json_object_is_type(v, json_type_null))
		return -1;
	return json_object_get_int64(v);
}

static int64_t status_int(int conn, const char *key)
{
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	char path[64];
	snprintf(path, sizeof(path), "parameters.%s", key);
	return jint(s, path);
}

static int create_fd(int conn, const char *name, const char *access)
{
	int fd = -1;
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"%s\",\"size\":65536,\"access\":\"%s\"}", name, access), &fd);
	is_success(c, "Create %s with a %s fd", name, access);
	return fd;
}

static void test_create_open_close(int conn, pid_t daemon)
{
	int fd = create_fd(conn, "h", "read_write");
	long long pos = -1;
	unsigned flags = 0;

	is_int(holders(conn, "h"), 1, "the creator holds one description");
	ok(lseek(fd, 4096, SEEK_SET) == 4096, "the creator moves its file offset");
	is_int(daemon_region_fdinfo(daemon, "h", &pos, &flags), 0, "the daemon's memfd");
	is_int(pos, 0, "the creator's description is not the daemon's (offset 0 there)");
	_cleanup_json_ json_object *st = call(conn, IFACE "Stat", jname("h"));
	ok(jint(st, "parameters.region.lastOpenUSec") > 0, "lastOpenUSec is set");
	safe_close(fd);
	is_int(holders(conn, "h"), 0, "closed: no holder");
	_cleanup_json_ json_object *st2 = call(conn, IFACE "Stat", jname("h"));
	ok(jint(st2, "parameters.region.lastCloseUSec") >=
		   jint(st2, "parameters.region.lastOpenUSec"),
	   "lastCloseUSec is set, not before the open");

	int a = open_region(conn, "h", "read_only", NULL),
	    b = open_region(conn, "h", "read_write", NULL);
	int c = dup(a);
	is_int(holders(conn, "h"), 2, "two Opens: two descriptions (a dup() is the same one)");
	safe_close(a);
	is_int(holders(conn, "h"), 2, "closing one of the dup()ed fds changes nothing");
	safe_close(c);
	is_int(holders(conn, "h"), 1, "closing the other lets one description go");
	safe_close(b);
	is_int(holders(conn, "h"), 0, "all closed");
	int d = create_fd(conn, "h-ro", "read_only");
	is_int(holders(conn, "h-ro"), 1, "a read-only creator holds one description too");
	safe_close(d);
	is_int(holders(conn, "h-ro"), 0, "and lets it go");
}

static void test_mapping(int conn)
{
	int fd = open_region(conn, "h", "read_write", NULL);
	char *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED, "mapped");
	safe_close(fd);
	is_int(holders(conn, "h"), 1, "a mapping whose fd was closed still holds the region");
	munmap(m, 65536);
	is_int(holders(conn, "h"), 0, "unmapped: no holder");
}

/* A third process gets the fd over a socket, then the opener closes its own and the child is killed. */
static void test_passed_fd(int conn)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair: %m");
	pid_t pid = fork();
	if (pid == 0) {
		int fd = test_recv_fd(sv[1]);
		char c = fd >= 0 ? 'y' : 'n';
		(void)!write(sv[1], &c, 1);
		for (;;)
			pause();
	}
	int fd = open_region(conn, "h", "read_write", NULL);
	ok(test_send_fd(sv[0], fd) == 0, "the fd is passed to a third process");
	char c = 0;
	ok(read(sv[0], &c, 1) == 1 && c == 'y', "which received it");
	safe_close(fd);
	is_int(holders(conn, "h"), 1, "the opener closed its fd: the third process still holds it");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	is_int(holders(conn, "h"), 0, "kill -9 of the third process: no holder");
	safe_close(sv[0]);
	safe_close(sv[1]);

	/* An fd in flight (sent, never received) is held by the socket. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair: %m");
	fd = open_region(conn, "h", "read_only", NULL);
	test_send_fd(sv[0], fd);
	safe_close(fd);
	is_int(holders(conn, "h"), 1, "an fd queued in a socket still holds the region");
	safe_close(sv[0]);
	safe_close(sv[1]);
	is_int(holders(conn, "h"), 0, "the socket closed with it: no holder");
}

/* A holder mapping the region and killed with SIGKILL. */
static void test_killed_mapper(int conn)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		bail_out("pipe: %m");
	int fd = open_region(conn, "h", "read_write", NULL);
	pid_t pid = fork();
	if (pid == 0) {
		void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		(void)!write(pfd[1], m != MAP_FAILED ? "y" : "n", 1);
		for (;;)
			pause();
	}
	char c = 0;
	ok(read(pfd[0], &c, 1) == 1 && c == 'y', "a child maps the region and closes its fd");
	safe_close(fd);
	is_int(holders(conn, "h"), 1, "the child's mapping holds it");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	is_int(holders(conn, "h"), 0, "kill -9 of the mapper: no holder");
	safe_close(pfd[0]);
	safe_close(pfd[1]);
}

/* List with deleted=true, more: the names (comma separated) and holders of each. */
static char *list_deleted(const struct test_daemon *d)
{
	int conn = itest_connect(d);
	char *out = strdup("");
	int fds[8];
	size_t n_fds;
	_cleanup_json_ json_object *first = NULL;
	json_object *msg = json_tokener_parse(
		"{\"method\":\"io.shmd.Manager.List\",\"parameters\":{\"deleted\":true},\"more\":true}");
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	send_raw(conn, s, strlen(s) + 1, NULL, 0);
	json_object_put(msg);
	for (;;) {
		_cleanup_json_ json_object *r = NULL;
		if (test_read_reply(conn, &r, fds, &n_fds) < 0 || test_reply_error(r))
			break;
		const char *name = jstr(r, "parameters.region.name");
		if (name) {
			char *o = NULL;
			if (asprintf(&o, "%s%s%s:%lld:%d", out, *out ? "," : "", name,
				     (long long)jint(r, "parameters.region.holders"),
				     jbool(r, "parameters.region.deleted")) < 0)
				bail_out("asprintf");
			free(out);
			out = o;
		}
		json_object *cont = jget(r, "continues");
		if (!cont || !json_object_get_boolean(cont))
			break;
	}
	safe_close(conn);
	return out;
}

static void test_deleted(int conn, const struct test_daemon *d)
{
	ok(create_region(conn, "gone", 8192, 0600), "Create gone");
	int fd = open_region(conn, "gone", "read_write", NULL);
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("gone"));
	is_success(del, "Delete gone while it is held");
	_cleanup_free_ char *l1 = list_deleted(d);
	is_str(l1, "gone:1:1", "List deleted=true shows it, held once, deleted=true");
	is_int(status_int(conn, "deletedRegions"), 1, "Status counts it");
	is_int(status_int(conn, "deletedSize"), 8192, "and its size");
	ok(create_region(conn, "gone", 4096, 0600), "the name can be used again at once");
	int fd2 = open_region(conn, "gone", "read_only", NULL);
	_cleanup_json_ json_object *del2 = call(conn, IFACE "Delete", jname("gone"));
	_cleanup_free_ char *l2 = list_deleted(d);
	is_str(l2, "gone:1:1,gone:1:1", "two deleted regions of one name, both listed");
	is_int(status_int(conn, "deletedSize"), 8192 + 4096, "both counted");
	safe_close(fd);
	_cleanup_free_ char *l3 = list_deleted(d);
	is_str(l3, "gone:1:1", "the first one goes with its last holder");
	safe_close(fd2);
	_cleanup_free_ char *l4 = list_deleted(d);
	is_str(l4, "", "and the second");
	is_int(status_int(conn, "deletedRegions"), 0, "Status: no deleted region left");
	is_int(daemon_memfd_fds(d->pid, "gone"), 0, "the daemon closed both memfds");
	is_int(daemon_memfd_fds(d->pid, "h"), 1, "and keeps one of each live region");

	ok(create_region(conn, "unheld", 4096, 0600), "Create unheld");
	_cleanup_json_ json_object *del3 = call(conn, IFACE "Delete", jname("unheld"));
	ok(sync_daemon(conn), "(the daemon is done with the Delete)");
	is_int(daemon_memfd_fds(d->pid, "unheld"), 0, "an unheld region goes at Delete");
	const char *bad = "{\"method\":\"io.shmd.Manager.List\",\"parameters\":{\"deleted\":1},"
			  "\"more\":true}";
	_cleanup_json_ json_object *r = NULL;
	int fds[8];
	size_t n_fds;
	send_raw(conn, bad, strlen(bad) + 1, NULL, 0);
	ok(test_read_reply(conn, &r, fds, &n_fds) == 0, "List deleted=1: a reply");
	is_error(r, "InvalidParameter", "List deleted must be a boolean");
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int r = fputs(text, f) >= 0 ? 0 : -1;
	return fclose(f) == 0 ? r : -1;
}

/* A user namespace where this uid is root: 0 or -1. */
/* The global Quotas entry's bytes and regions, as "BYTES/REGIONS". */
static char *global_usage(int conn)
{
	_cleanup_json_ json_object *q = call(conn, IFACE "Quotas", NULL);
	json_object *a = jget(q, "parameters.quotas");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		char *t = NULL;
		if (strcmp(jstr(e, "scope") ?: "", "global") == 0)
			return asprintf(&t, "%lld/%lld", (long long)jint(e, "bytes"),
					(long long)jint(e, "regions")) < 0 ?
				       NULL :
				       t;
	}
	return strdup("none");
}

/* A region deleted while held stays charged to its owner (and globally) until it goes. */
static void test_deleted_quota(void)
{
	char dir[] = "/tmp/test-holdtrack.XXXXXX", conf[64];
	struct test_daemon d;

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(conf, sizeof(conf), "%s/shmd.conf", dir);
	if (write_file(conf, "[Global]\nMemoryMax=1M\n") < 0)
		bail_out("cannot write %s", conf);
	itest_start(&d, (const char *const[]){ "--config", conf, NULL });
	int conn = itest_connect(&d);
	int fd = create_fd(conn, "q1", "read_write");
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("q1"));
	is_success(del, "Delete q1 (64 KiB) while it is held");
	_cleanup_free_ char *u1 = global_usage(conn);
	is_str(u1, "65536/1", "still charged while held");
	_cleanup_json_ json_object *big =
		call(conn, IFACE "Create", jparams("{\"name\":\"q2\",\"size\":%d}", 1024 * 1024));
	is_error(big, "QuotaExceeded", "a region that fits only without it is refused");
	if (geteuid() == 0) {
		_cleanup_json_ json_object *rl = call(conn, IFACE "Reload", NULL);
		is_success(rl, "Reload (charges rebuilt from the regions)");
		_cleanup_free_ char *u2 = global_usage(conn);
		is_str(u2, "65536/1", "still charged after the rebuild");
	} else
		skip(2, "Reload is for administrators: uid 0 or the admin group");
	safe_close(fd);
	_cleanup_free_ char *l = list_deleted(&d);
	is_str(l, "", "its last holder went: freed");
	_cleanup_free_ char *u3 = global_usage(conn);
	is_str(u3, "0/0", "and uncharged");
	_cleanup_json_ json_object *big2 =
		call(conn, IFACE "Create", jparams("{\"name\":\"q2\",\"size\":%d}", 1024 * 1024));
	is_success(big2, "the region that did not fit fits now");
	safe_close(conn);
	itest_stop(&d);
	unlink(conf);
	rmdir(dir);
}

static int enter_userns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_file("/proc/self/uid_map", map) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", gid);
	return write_file("/proc/self/gid_map", map);
}

/*
 * In a user namespace whose inotify watch limit is 2, a daemon watches two regions: a third
 * cannot be watched, is counted as held (holders null) and in Status, logged once.
 */
static void test_watch_limit(void)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		bail_out("pipe: %m");
	pid_t pid = fork();
	if (pid == 0) {
		char buf[256] = "";
		if (enter_userns() == 0) {
			FILE *f = fopen("/proc/sys/user/max_inotify_watches", "w");
			if (f && fputs("2", f) >= 0 && fclose(f) == 0) {
				struct test_daemon d;
				itest_start(&d, NULL);
				int conn = itest_connect(&d);
				create_region(conn, "w1", 4096, 0600);
				create_region(conn, "w2", 4096, 0600);
				create_region(conn, "w3", 4096, 0600);
				create_region(conn, "w4", 4096, 0600);
				long long h2 = holders(conn, "w2"), h3 = holders(conn, "w3");
				long long unwatched = status_int(conn, "unwatchedRegions");
				json_object *deleted = call(conn, IFACE "Delete", jname("w1"));
				snprintf(buf, sizeof(buf), "%lld %lld %lld %d", h2, h3, unwatched,
					 deleted != NULL);
				json_object_put(deleted);
				create_region(conn, "w5", 4096, 0600);
				snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %lld %lld",
					 (long long)holders(conn, "w5"),
					 (long long)status_int(conn, "unwatchedRegions"));
				safe_close(conn);
				test_daemon_stop(&d);
			}
		}
		(void)!write(pfd[1], buf, strlen(buf));
		_exit(0);
	}
	close(pfd[1]);
	char buf[256] = "";
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	if (!*buf) {
		skip(1, "no user namespace with its own inotify limit here");
		return;
	}
	is_str(buf, "0 -1 2 1 0 2",
	       "watch limit 2: w3 and w4 unwatched (holders null, 2 in Status); a freed watch "
	       "serves the next region");
}

static pid_t worker_of(pid_t sup)
{
	char path[64];
	long pid = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", sup, sup);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

/* Poll Stat until holders of name is want (the recount runs shortly after a close). */
static int64_t wait_holders(const struct test_daemon *d, const char *name, int64_t want)
{
	int64_t got = -3;
	for (int i = 0; i < 100 && got != want; i++) {
		int conn = test_connect(d);
		if (conn >= 0) {
			got = holders(conn, name);
			safe_close(conn);
		}
		if (got != want)
			sleep_ms(50);
	}
	return got;
}

/*
 * A restarted daemon (shmd --supervise, worker killed) cannot know the counts from events:
 * the /proc recount proves unheld regions unheld, keeps held ones held (null), and recounts
 * when a holder lets go. The fd store's copies are the daemon's own description, not holders.
 */
static void test_restart(void)
{
	struct test_daemon d;
	itest_start(&d, (const char *const[]){ "--supervise", NULL });
	int conn = itest_connect(&d);
	ok(create_region(conn, "free", 4096, 0600), "Create free");
	int fd = create_fd(conn, "held", "read_write");
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ok(create_region(conn, "mapped", 4096, 0600), "Create mapped");
	int fd2 = open_region(conn, "mapped", "read_only", NULL);
	char *m2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0);
	safe_close(fd2);
	safe_close(conn);
	pid_t w = worker_of(d.pid);
	ok(w > 0 && kill(w, SIGKILL) == 0, "kill -9 the serving process");
	is_int(wait_holders(&d, "free", 0), 0, "restarted: an unheld region is proven unheld");
	is_int(wait_holders(&d, "held", -1), -1, "a region held by an fd counts as held (null)");
	is_int(wait_holders(&d, "mapped", -1), -1, "a region held by a mapping too");
	/* The supervisor may list the old worker until it has reaped it. */
	for (int i = 0; i < 100 && worker_of(d.pid) == w; i++)
		sleep_ms(50);
	ok(worker_of(d.pid) != w, "it was a new worker");
	munmap(m, 4096);
	is_int(wait_holders(&d, "held", -1), -1, "still held by the fd after the munmap");
	safe_close(fd);
	is_int(wait_holders(&d, "held", 0), 0, "its last holder went: recounted to 0");
	munmap(m2, 4096);
	is_int(wait_holders(&d, "mapped", 0), 0, "the mapping went: recounted to 0");
	itest_stop(&d);
}

/*
 * Lost events (IN_Q_OVERFLOW, simulated in fault-injection builds by dropping one read's
 * events): every count becomes unknown, the /proc recount proves the unheld ones, a held
 * one stays held (null) until its holder goes.
 */
static void test_overflow(void)
{
#ifdef SHMD_FAULT_INJECTION
	struct test_daemon d;
	setenv("SHMD_FAULT", "holdtrack-overflow:2", 1);
	itest_start(&d, NULL);
	unsetenv("SHMD_FAULT");
	int conn = itest_connect(&d);
	ok(create_region(conn, "o1", 4096, 0600) && create_region(conn, "o2", 4096, 0600),
	   "Create o1, o2");
	int a = open_region(conn, "o1", "read_write", NULL);
	is_int(holders(conn, "o1"), 1, "o1 held once (the first read of events)");
	int b = open_region(conn, "o1", "read_only", NULL);
	safe_close(b);
	is_int(holders(conn, "o1"), -1, "events lost: o1 is held by an unknown count (null)");
	is_int(holders(conn, "o2"), 0, "o2: the recount proves it unheld");
	is_int(status_int(conn, "holderOverflows"), 1, "Status counts the overflow");
	safe_close(a);
	is_int(wait_holders(&d, "o1", 0), 0, "o1's holder went: recounted to 0");
	int c = open_region(conn, "o1", "read_only", NULL);
	is_int(holders(conn, "o1"), 1, "and counted exactly again");
	safe_close(c);
	safe_close(conn);
	itest_stop(&d);
#else
	skip(1, "lost inotify events are simulated in --enable-fault-injection builds only");
#endif
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_create_open_close(conn, d.pid);
	test_mapping(conn);
	test_passed_fd(conn);
	test_killed_mapper(conn);
	test_deleted(conn, &d);
	is_int(status_int(conn, "unwatchedRegions"), 0, "every region is watched");
	safe_close(conn);
	itest_stop(&d);
	test_deleted_quota();
	test_watch_limit();
	test_restart();
	test_overflow();
	return done_testing();
}
