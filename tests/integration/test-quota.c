/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quotas end to end: per uid, gid and global limits, the ftruncate bypass, chown, Quotas. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto-util.h"

#define QUOTA IFACE "QuotaExceeded"
#define K 1024
#define M (1024 * 1024)

static char dir[] = "/tmp/test-quota.XXXXXX";
static char conf[256];

static void write_conf(const char *text)
{
	FILE *f = fopen(conf, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("cannot write %s", conf);
}

static void start(struct test_daemon *d, const char *text)
{
	write_conf(text);
	itest_start(d, (const char *const[]){ "--config", conf, NULL });
}

/* The reply is QuotaExceeded with these fields. */
static void is_quota(json_object *reply, const char *scope, const char *kind, const char *subject,
		     long long limit, long long used, long long requested, const char *what)
{
	if (!is_error(reply, "QuotaExceeded", "%s: QuotaExceeded", what))
		return;
	ok(strcmp(jstr(reply, "parameters.scope") ?: "", scope) == 0 &&
		   strcmp(jstr(reply, "parameters.kind") ?: "", kind) == 0 &&
		   strcmp(jstr(reply, "parameters.subject") ?: "", subject) == 0 &&
		   jint(reply, "parameters.limit") == limit &&
		   jint(reply, "parameters.used") == used &&
		   jint(reply, "parameters.requested") == requested,
	   "  %s %s %s: %lld used + %lld > %lld (got %s)", scope, kind, subject, used, requested,
	   limit, json_object_to_json_string(jget(reply, "parameters")));
}

static json_object *create(int conn, const char *name, long long size)
{
	return call(conn, IFACE "Create", jparams("{\"name\":\"%s\",\"size\":%lld}", name, size));
}

/* The Quotas entry of scope/id (or unit), or NULL. Borrowed from reply. */
static json_object *quota_entry(json_object *reply, const char *scope, long long id,
				const char *unit)
{
	json_object *a = jget(reply, "parameters.quotas");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (strcmp(jstr(e, "scope") ?: "", scope) != 0)
			continue;
		if (unit ? strcmp(jstr(e, "unit") ?: "", unit) == 0 :
			   strcmp(scope, "global") == 0 || jint(e, "id") == id)
			return e;
	}
	return NULL;
}

static void test_uid_gid_global(void)
{
	struct test_daemon d;
	start(&d, "[User 65534]\nMemoryMax=1M\nRegionsMax=3\n"
		  "[Group 65534]\nRegionsMax=2\n"
		  "[Global]\nMemoryMax=8M\n");
	int conn = itest_connect(&d);

	_cleanup_json_ json_object *r =
		calls_as(&d, NOBODY_UID, NOBODY_GID,
			 (const char *const[]){ "Create", "{\"name\":\"n/a\",\"size\":524288}",
						"Create", "{\"name\":\"n/b\",\"size\":614400}",
						"Create", "{\"name\":\"n/c\",\"size\":4096}",
						"Create", "{\"name\":\"n/d\",\"size\":1}", NULL });
	is_str(reply_at(r, 0), "ok", "nobody creates 512K under its 1M");
	is_quota(json_object_array_get_idx(r, 1), "user", "bytes", "65534", M, 512 * K, 614400,
		 "nobody's 600K more");
	is_str(reply_at(r, 2), "ok", "nobody's second region (4K)");
	is_quota(json_object_array_get_idx(r, 3), "group", "regions", "65534", 2, 2, 1,
		 "a third region for group 65534 (RegionsMax=2)");

	/* Root is under no [User] section: [AnyUser] is not set, only the global limit counts. */
	_cleanup_json_ json_object *a = create(conn, "r/a", 7 * M);
	is_success(a, "root creates 7M (global 8M, 516K used)");
	_cleanup_json_ json_object *b = create(conn, "r/b", M);
	is_quota(b, "global", "bytes", "global", 8 * M, 7 * M + 516 * K, M, "root's 1M more");

	_cleanup_json_ json_object *q = call(conn, IFACE "Quotas", NULL);
	json_object *u = quota_entry(q, "user", NOBODY_UID, NULL);
	ok(u && jint(u, "bytes") == 516 * K && jint(u, "regions") == 2 &&
		   jint(u, "memoryMax") == M && jint(u, "regionsMax") == 3,
	   "Quotas: user 65534 uses 516K in 2 regions of 1M/3");
	json_object *g = quota_entry(q, "global", 0, NULL);
	ok(g && jint(g, "bytes") == 7 * M + 516 * K && jint(g, "regions") == 3 &&
		   jint(g, "memoryMax") == 8 * M && !jget(g, "regionsMax"),
	   "Quotas: global 3 regions, 8M max, no region limit");

	/* Deleting gives the charge back. */
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("r/a"));
	_cleanup_json_ json_object *b2 = create(conn, "r/b", M);
	is_success(b2, "after Delete of 7M, root's 1M fits");
	close(conn);
	itest_stop(&d);
}

/* A read-write holder grows a region with ftruncate: the owner is charged and refused. */
static void test_bypass(void)
{
	struct test_daemon d;
	start(&d, "[User 0]\nMemoryMax=1M\n");
	int conn = itest_connect(&d), fd = -1, fixed = -1;

	_cleanup_json_ json_object *c =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"b/x\",\"size\":4096,\"access\":\"read_write\"}"), &fd);
	is_success(c, "root creates b/x (4K), read-write");
	ok(fd >= 0 && ftruncate(fd, 2 * M) == 0, "the holder grows it to 2M with ftruncate");
	_cleanup_json_ json_object *y = create(conn, "b/y", 1);
	is_quota(y, "user", "bytes", "0", M, 2 * M, 1, "the owner's next Create (1 byte)");
	_cleanup_json_ json_object *g =
		call(conn, IFACE "Resize", jparams("{\"name\":\"b/x\",\"size\":3145728}"));
	is_quota(g, "user", "bytes", "0", M, 2 * M, M, "growing it to 3M");
	_cleanup_json_ json_object *s = call(
		conn, IFACE "Resize", jparams("{\"name\":\"b/x\",\"size\":65536,\"force\":true}"));
	is_success(s, "shrinking it to 64K is allowed while over");
	_cleanup_json_ json_object *y2 = create(conn, "b/y", 1);
	is_success(y2, "then a Create fits again");

	/* Fixed-size regions are charged exactly: no holder can change their size. */
	_cleanup_json_ json_object *f = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"b/fixed\",\"size\":4096,\"fixed\":true,\"access\":\"read_write\"}"),
		&fixed);
	is_success(f, "root creates b/fixed, read-write");
	ok(fixed >= 0 && ftruncate(fixed, 2 * M) < 0 && errno == EPERM,
	   "ftruncate of a fixed region fails with EPERM");
	_cleanup_json_ json_object *fr =
		call(conn, IFACE "Resize", jparams("{\"name\":\"b/fixed\",\"size\":8192}"));
	ok(test_reply_error(fr) && strcmp(test_reply_error(fr), IFACE "Sealed") == 0,
	   "Resize of a fixed region: Sealed");
	_cleanup_json_ json_object *q = call(conn, IFACE "Quotas", NULL);
	json_object *u = quota_entry(q, "user", 0, NULL);
	is_int(u ? jint(u, "bytes") : -1, 65536 + 1 + 4096, "root is charged 64K + 1 + 4K");
	if (fd >= 0)
		close(fd);
	if (fixed >= 0)
		close(fixed);
	close(conn);
	itest_stop(&d);
}

static void test_chown(void)
{
	struct test_daemon d;
	start(&d, "[User 65534]\nMemoryMax=1M\n");
	int conn = itest_connect(&d);

	_cleanup_json_ json_object *a = create(conn, "c/big", 800 * K);
	_cleanup_json_ json_object *b = create(conn, "c/small", 100 * K);
	_cleanup_json_ json_object *r = calls_as(
		&d, NOBODY_UID, NOBODY_GID,
		(const char *const[]){ "Create", "{\"name\":\"c/n\",\"size\":524288}", NULL });
	is_str(reply_at(r, 0), "ok", "nobody creates 512K");
	_cleanup_json_ json_object *big =
		call(conn, IFACE "SetAccess", jparams("{\"name\":\"c/big\",\"uid\":65534}"));
	is_quota(big, "user", "bytes", "65534", M, 512 * K, 800 * K,
		 "root gives nobody an 800K region");
	_cleanup_json_ json_object *st = call(conn, IFACE "Stat", jname("c/big"));
	is_int(jint(st, "parameters.region.uid"), 0, "  and it stays root's");
	_cleanup_json_ json_object *small =
		call(conn, IFACE "SetAccess", jparams("{\"name\":\"c/small\",\"uid\":65534}"));
	is_success(small, "root gives nobody a 100K region");
	_cleanup_json_ json_object *q = call(conn, IFACE "Quotas", NULL);
	json_object *n = quota_entry(q, "user", NOBODY_UID, NULL);
	json_object *z = quota_entry(q, "user", 0, NULL);
	ok(n && jint(n, "bytes") == 612 * K && jint(n, "regions") == 2 && z &&
		   jint(z, "bytes") == 800 * K && jint(z, "regions") == 1,
	   "the charge moved: nobody 612K in 2, root 800K in 1");
	close(conn);
	itest_stop(&d);
}

static void test_reload(void)
{
	struct test_daemon d;
	start(&d, "[User 65534]\nMemoryMax=1M\n");
	int conn = itest_connect(&d);
	const char *const two_megs[] = { "Create", "{\"name\":\"l/a\",\"size\":2097152}", NULL };

	_cleanup_json_ json_object *r1 = calls_as(&d, NOBODY_UID, NOBODY_GID, two_megs);
	is_str(reply_at(r1, 0), QUOTA, "nobody's 2M over its 1M");

	write_conf("[User 65534]\nMemoryMax=4M\n");
	_cleanup_json_ json_object *re = call(conn, IFACE "Reload", NULL);
	is_success(re, "Reload with MemoryMax=4M");
	_cleanup_json_ json_object *r2 = calls_as(&d, NOBODY_UID, NOBODY_GID, two_megs);
	is_str(reply_at(r2, 0), "ok", "now nobody's 2M fits");

	write_conf("[User 65534]\nMemoryMax=1M\n\n[Bogus]\nx=1\n");
	_cleanup_json_ json_object *bad = call(conn, IFACE "Reload", NULL);
	if (is_error(bad, "ConfigError", "Reload of a bad file: ConfigError"))
		ok(strcmp(jstr(bad, "parameters.file") ?: "", conf) == 0 &&
			   jint(bad, "parameters.line") == 5 &&
			   strstr(jstr(bad, "parameters.reason") ?: "", "Bogus"),
		   "  names the file, line 5 and the reason: %s", jstr(bad, "parameters.reason"));
	_cleanup_json_ json_object *q = call(conn, IFACE "Quotas", NULL);
	json_object *u = quota_entry(q, "user", NOBODY_UID, NULL);
	is_int(u ? jint(u, "memoryMax") : -1, 4 * M, "the old limit (4M) is kept");

	_cleanup_json_ json_object *r3 =
		calls_as(&d, NOBODY_UID, NOBODY_GID, (const char *const[]){ "Reload", "{}", NULL });
	is_str(reply_at(r3, 0), IFACE "PermissionDenied", "nobody may not Reload");

	/* SIGHUP reloads too. */
	write_conf("[User 65534]\nMemoryMax=3M\n");
	kill(d.pid, SIGHUP);
	bool seen = false;
	for (int i = 0; i < 200 && !seen; i++) {
		_cleanup_json_ json_object *s = call(conn, IFACE "Quotas", NULL);
		json_object *e = quota_entry(s, "user", NOBODY_UID, NULL);
		seen = e && jint(e, "memoryMax") == 3 * M;
		if (!seen)
			sleep_ms(10);
	}
	ok(seen, "SIGHUP reloads: the limit is 3M");
	close(conn);
	itest_stop(&d);
}

/* prealloc: the pages exist before anyone touches them (st_blocks), and only then. */
static void test_prealloc(void)
{
	struct test_daemon d;
	start(&d, "[User 0]\nMemoryMax=64M\n");
	int conn = itest_connect(&d), fd = -1, lazy = -1;
	struct stat st;

	_cleanup_json_ json_object *c =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"p/pre\",\"size\":4194304,\"prealloc\":true,"
				"\"access\":\"read_only\"}"),
			&fd);
	is_success(c, "Create 4M with prealloc");
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_blocks * 512 == 4 * M,
	   "  its 4M are allocated (st_blocks)");
	_cleanup_json_ json_object *l = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"p/lazy\",\"size\":4194304,\"access\":\"read_only\"}"), &lazy);
	ok(lazy >= 0 && fstat(lazy, &st) == 0 && st.st_blocks == 0,
	   "without prealloc nothing is allocated");
	_cleanup_json_ json_object *big =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"p/big\",\"size\":1073741824,\"prealloc\":true}"));
	is_quota(big, "user", "bytes", "0", 64 * M, 8 * M, 1024 * M,
		 "a 1G prealloc over the quota is refused before any allocation");
	_cleanup_json_ json_object *bad =
		call(conn, IFACE "Create", jparams("{\"name\":\"p/x\",\"size\":1,\"prealloc\":1}"));
	is_error(bad, "InvalidParameter", "prealloc must be a boolean");
	if (fd >= 0)
		close(fd);
	if (lazy >= 0)
		close(lazy);
	close(conn);
	itest_stop(&d);
}

/* A bad file at start: the daemon refuses to start and says FILE:LINE: reason. */
static void test_bad_start(void)
{
	char cmd[1024], out[512] = "";
	const char *bin = getenv("SHMD_BIN");

	write_conf("[Global]\nMemoryMax=lots\n");
	snprintf(cmd, sizeof(cmd), "%s --config %s --socket %s/never.sock 2>&1",
		 bin ? bin : "./shmd", conf, dir);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	int status = p ? pclose(p) : -1;
	out[n] = '\0';
	char want[512];
	snprintf(want, sizeof(want), "shmd: %s:2: MemoryMax=lots:", conf);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 && strstr(out, want),
	   "a bad file at start: exit 1 and '%s...' (got: %s)", want, out);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP quotas per uid need root (to act as uid %d)\n", NOBODY_UID);
		return 0;
	}
	if (!mkdtemp(dir))
		bail_out("mkdtemp: %m");
	snprintf(conf, sizeof(conf), "%s/shmd.conf", dir);
	test_uid_gid_global();
	test_bypass();
	test_chown();
	test_reload();
	test_prealloc();
	test_bad_start();
	unlink(conf);
	rmdir(dir);
	return done_testing();
}
