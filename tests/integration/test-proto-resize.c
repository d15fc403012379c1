/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resize: grow, shrink only when forced (WouldTruncate), and Sealed when seals forbid it. */

#include <sys/stat.h>

#include "proto-util.h"

static json_object *resize(int conn, const char *name, long long size, int force)
{
	json_object *p = jname(name);
	json_object_object_add(p, "size", json_object_new_int64(size));
	if (force >= 0)
		json_object_object_add(p, "force", json_object_new_boolean(force));
	return call(conn, IFACE "Resize", p);
}

static long long fd_size(int fd)
{
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
}

static void test_grow_shrink(int conn)
{
	int fd;
	_cleanup_json_ json_object *c =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"r\",\"size\":4096,\"access\":\"read_write\"}"), &fd);
	is_success(c, "Create r, 4096 bytes");
	pwrite(fd, "tail", 4, 4000);

	_cleanup_json_ json_object *g = resize(conn, "r", 1 << 20, -1);
	if (is_success(g, "Resize grows to 1 MiB"))
		is_int(jint(g, "parameters.region.size"), 1 << 20, "reply has the new size");
	is_int(fd_size(fd), 1 << 20, "a holder's fd sees the new size");
	ok(jint(g, "parameters.region.changedUSec") >= jint(c, "parameters.region.changedUSec"),
	   "changedUSec does not go back");
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.totalSize"), 1 << 20, "Status totalSize follows");

	_cleanup_json_ json_object *w = resize(conn, "r", 2048, -1);
	if (is_error(w, "WouldTruncate", "shrinking without force: WouldTruncate")) {
		is_str(jstr(w, "parameters.name"), "r", "  {name}");
		is_int(jint(w, "parameters.size"), 1 << 20, "  {size} is the current size");
		is_int(jint(w, "parameters.newSize"), 2048, "  {newSize} is the asked size");
	}
	_cleanup_json_ json_object *w2 = resize(conn, "r", 2048, 0);
	is_error(w2, "WouldTruncate", "force=false: WouldTruncate");
	is_int(fd_size(fd), 1 << 20, "the size did not change");

	_cleanup_json_ json_object *same = resize(conn, "r", 1 << 20, -1);
	is_success(same, "Resize to the same size is fine");

	_cleanup_json_ json_object *f = resize(conn, "r", 2048, 1);
	if (is_success(f, "shrinking with force succeeds"))
		is_int(jint(f, "parameters.region.size"), 2048, "reply has the new size");
	is_int(fd_size(fd), 2048, "a holder's fd sees it");
	_cleanup_json_ json_object *g2 = resize(conn, "r", 8192, -1);
	is_success(g2, "grow again");
	char buf[4] = "x";
	ok(pread(fd, buf, 4, 4000) == 4 && buf[0] == 0, "data past the cut is gone (zeros)");
	safe_close(fd);

	_cleanup_json_ json_object *n = resize(conn, "missing", 1, -1);
	if (is_error(n, "NoSuchRegion", "Resize of a missing region: NoSuchRegion"))
		is_str(jstr(n, "parameters.name"), "missing", "  {name}");
}

static void test_sealed(int conn)
{
	_cleanup_json_ json_object *c = call(
		conn, IFACE "Create", jparams("{\"name\":\"fixed\",\"size\":4096,\"fixed\":true}"));
	is_success(c, "Create fixed");
	_cleanup_json_ json_object *g = resize(conn, "fixed", 8192, -1);
	if (is_error(g, "Sealed", "growing a fixed region: Sealed")) {
		is_str(jstr(g, "parameters.name"), "fixed", "  {name}");
		ok(jarray_has(g, "parameters.seals", "grow"), "  {seals} has grow");
	}
	_cleanup_json_ json_object *s = resize(conn, "fixed", 1024, 1);
	if (is_error(s, "Sealed", "force-shrinking a fixed region: Sealed"))
		ok(jarray_has(s, "parameters.seals", "shrink"), "  {seals} has shrink");

	_cleanup_json_ json_object *c2 = call(conn, IFACE "Create",
					      jparams("{\"name\":\"nogrow\",\"size\":4096,"
						      "\"seals\":[\"grow\"]}"));
	is_success(c2, "Create with seals [grow]");
	_cleanup_json_ json_object *g2 = resize(conn, "nogrow", 8192, -1);
	is_error(g2, "Sealed", "growing it: Sealed");
	_cleanup_json_ json_object *s2 = resize(conn, "nogrow", 1024, 1);
	if (is_success(s2, "force-shrinking it is allowed"))
		is_int(jint(s2, "parameters.region.size"), 1024, "  to 1024");
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_grow_shrink(conn);
	test_sealed(conn);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
