/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rename (RegionExists unless replace) and Delete (the name goes at once, holders keep the memory). */

#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "proto-util.h"

static json_object *rename_region(int conn, const char *from, const char *to, int replace)
{
	json_object *p = jname(from);
	json_object *t = jname(to);
	json_object_object_add(p, "newName", json_object_get(jget(t, "name")));
	json_object_object_add(p, "newNameBase64", json_object_get(jget(t, "nameBase64")));
	json_object_put(t);
	if (!jget(p, "newName"))
		json_object_object_del(p, "newName");
	if (!jget(p, "newNameBase64"))
		json_object_object_del(p, "newNameBase64");
	if (replace >= 0)
		json_object_object_add(p, "replace", json_object_new_boolean(replace));
	return call(conn, IFACE "Rename", p);
}

static int regions(int conn)
{
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	return (int)jint(s, "parameters.regions");
}

static void test_rename(int conn)
{
	int fd = -1;
	_cleanup_json_ json_object *c =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"a\",\"size\":4096,\"access\":\"read_write\"}"), &fd);
	pwrite(fd, "data-a", 6, 0);
	create_region(conn, "c", 100, 0600);

	_cleanup_json_ json_object *r = rename_region(conn, "a", "b", -1);
	if (is_success(r, "Rename a -> b")) {
		is_str(jstr(r, "parameters.region.name"), "b", "the reply has the new name");
		is_int(jint(r, "parameters.region.id"), jint(c, "parameters.region.id"),
		       "same region id");
	}
	_cleanup_json_ json_object *sa = call(conn, IFACE "Stat", jname("a"));
	is_error(sa, "NoSuchRegion", "the old name is gone");
	int b = open_region(conn, "b", "read_only", NULL);
	char buf[7] = "";
	ok(b >= 0 && pread(b, buf, 6, 0) == 6 && strcmp(buf, "data-a") == 0,
	   "the new name has the data");
	safe_close(b);
	ok(pwrite(fd, "after", 5, 0) == 5, "an fd from before the rename still works");

	_cleanup_json_ json_object *e = rename_region(conn, "b", "c", -1);
	if (is_error(e, "RegionExists", "Rename onto an existing name: RegionExists"))
		is_str(jstr(e, "parameters.name"), "c", "  {name} is the taken name");
	_cleanup_json_ json_object *e2 = rename_region(conn, "b", "c", 0);
	is_error(e2, "RegionExists", "replace=false: RegionExists");
	is_int(regions(conn), 2, "both regions are still there");

	_cleanup_json_ json_object *x = rename_region(conn, "b", "c", 1);
	if (is_success(x, "Rename b -> c with replace"))
		is_int(jint(x, "parameters.region.id"), jint(c, "parameters.region.id"),
		       "c is now the old a");
	is_int(regions(conn), 1, "the replaced region is gone");
	_cleanup_json_ json_object *sb = call(conn, IFACE "Stat", jname("b"));
	is_error(sb, "NoSuchRegion", "b is gone");
	_cleanup_json_ json_object *sc = call(conn, IFACE "Stat", jname("c"));
	is_int(jint(sc, "parameters.region.size"), 4096, "c has a's size");

	_cleanup_json_ json_object *n = rename_region(conn, "nope", "z", -1);
	if (is_error(n, "NoSuchRegion", "Rename of a missing region: NoSuchRegion"))
		is_str(jstr(n, "parameters.name"), "nope", "  {name}");

	_cleanup_json_ json_object *u = rename_region(conn, "c", "\xfe/odd", -1);
	if (is_success(u, "Rename to a non-UTF-8 name (newNameBase64)"))
		is_str(jstr(u, "parameters.region.nameBase64"), "/i9vZGQ=", "reply has nameBase64");
	_cleanup_json_ json_object *back = rename_region(conn, "\xfe/odd", "c/d/e", -1);
	is_success(back, "Rename from a non-UTF-8 name (nameBase64) into a deeper path");
	safe_close(fd);
}

static void test_delete(int conn, pid_t daemon)
{
	int fd = -1;
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"del\",\"size\":65536,\"access\":\"read_write\"}"), &fd);
	is_success(c, "Create del");
	char *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED, "map it");
	if (m != MAP_FAILED)
		strcpy(m + 60000, "kept");
	ok(sync_daemon(conn), "(the daemon is done with the Create)");
	is_int(daemon_memfd_fds(daemon, "del"), 1, "the daemon holds one fd of the memfd");

	int before = regions(conn);
	_cleanup_json_ json_object *d = call(conn, IFACE "Delete", jname("del"));
	is_success(d, "Delete del");
	is_int(regions(conn), before - 1, "the name is gone at once");
	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname("del"));
	is_error(s, "NoSuchRegion", "Stat: NoSuchRegion");
	is_int(daemon_memfd_fds(daemon, "del"), 1,
	       "held: the daemon keeps its reference (a deleted region, listed until its last holder goes)");

	char buf[5] = "";
	ok(pread(fd, buf, 4, 60000) == 4 && strcmp(buf, "kept") == 0,
	   "the fd still reads the data (memory lives until the last close)");
	ok(pwrite(fd, "more", 4, 0) == 4, "and still writes");
	ok(m != MAP_FAILED && memcmp(m, "more", 4) == 0, "the mapping still works");
	struct stat st;
	ok(fstat(fd, &st) == 0 && st.st_size == 65536, "and keeps its size");

	_cleanup_json_ json_object *c2 =
		call(conn, IFACE "Create", jparams("{\"name\":\"del\",\"size\":65536}"));
	is_success(c2, "the name can be reused at once");
	int fresh = open_region(conn, "del", "read_only", NULL);
	struct stat st2;
	ok(fresh >= 0 && fstat(fresh, &st2) == 0 && st2.st_ino != st.st_ino, "by a new memfd");
	ok(pread(fresh, buf, 4, 60000) == 4 && buf[0] == 0, "which starts zeroed");
	safe_close(fresh);
	if (m != MAP_FAILED)
		munmap(m, 65536);
	safe_close(fd);
	_cleanup_json_ json_object *d2 = call(conn, IFACE "Delete", jname("del"));
	ok(sync_daemon(conn), "(the daemon has read the last close)");
	is_int(daemon_memfd_fds(daemon, "del"), 0, "the last holder went: the daemon dropped both");
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_rename(conn);
	test_delete(conn, d.pid);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
