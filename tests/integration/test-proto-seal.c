/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seal, Busy while a writable shared mapping exists, and seals added by holders behind shmd's back. */

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "proto-util.h"

static json_object *seal(int conn, const char *name, const char *seals_json)
{
	json_object *p = jname(name);
	json_object_object_add(p, "seals", json_tokener_parse(seals_json));
	return call(conn, IFACE "Seal", p);
}

static void test_seal(int conn)
{
	ok(create_region(conn, "s", 4096, 0600), "Create s");
	_cleanup_json_ json_object *a = seal(conn, "s", "[\"shrink\"]");
	if (is_success(a, "Seal shrink"))
		is_str(jseals(a, "parameters.region.seals"), "shrink", "the reply shows it");
	_cleanup_json_ json_object *b = seal(conn, "s", "[\"grow\",\"shrink\"]");
	if (is_success(b, "Seal grow (shrink again is harmless)"))
		is_str(jseals(b, "parameters.region.seals"), "shrink,grow", "seals accumulate");
	is_str(jseals(b, "parameters.region.foreignSeals"), "", "none of them foreign");
	_cleanup_json_ json_object *e = seal(conn, "s", "[]");
	is_success(e, "Seal with no seals is a no-op");
	_cleanup_json_ json_object *c = seal(conn, "s", "[\"seal\"]");
	is_success(c, "Seal seal");
	_cleanup_json_ json_object *d = seal(conn, "s", "[\"write\"]");
	if (is_error(d, "Sealed", "Seal after seal: Sealed")) {
		is_str(jstr(d, "parameters.name"), "s", "  {name}");
		ok(jarray_has(d, "parameters.seals", "seal"), "  {seals} has seal");
	}
	_cleanup_json_ json_object *n = seal(conn, "missing", "[\"grow\"]");
	is_error(n, "NoSuchRegion", "Seal of a missing region: NoSuchRegion");
}

static void test_busy(int conn, pid_t daemon)
{
	int fd = -1;
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"busy\",\"size\":4096,\"access\":\"read_write\"}"), &fd);
	is_success(c, "Create busy");
	is_int(daemon_writable_maps(daemon), 0, "the daemon holds no writable shared mapping");
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED, "a holder maps it writable and shared");

	_cleanup_json_ json_object *b = seal(conn, "busy", "[\"write\"]");
	if (is_error(b, "Busy", "Seal write while mapped writable: Busy (kernel EBUSY)")) {
		is_str(jstr(b, "parameters.name"), "busy", "  {name}");
		ok(jstr(b, "parameters.reason") != NULL, "  {reason}");
	}
	_cleanup_json_ json_object *st = call(conn, IFACE "Stat", jname("busy"));
	ok(!jarray_has(st, "parameters.region.seals", "write"), "no write seal was applied");

	_cleanup_json_ json_object *fw = seal(conn, "busy", "[\"future_write\"]");
	is_success(fw, "Seal future_write is allowed while mapped");
	if (m != MAP_FAILED) {
		m[0] = 'x';
		ok(m[0] == 'x', "the existing writable mapping still writes");
		munmap(m, 4096);
	}
	ok(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
		   errno == EPERM,
	   "a new writable shared mapping is refused (EPERM)");
	ok(pwrite(fd, "y", 1, 0) < 0 && errno == EPERM, "write() is refused (EPERM)");

	_cleanup_json_ json_object *w = seal(conn, "busy", "[\"write\"]");
	if (is_success(w, "Seal write once unmapped"))
		is_str(jseals(w, "parameters.region.seals"), "write,future_write", "both in force");
	safe_close(fd);
}

static void test_foreign(int conn)
{
	int fd = -1;
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"foreign\",\"size\":4096,\"access\":\"read_write\"}"), &fd);
	is_success(c, "Create foreign");
	ok(fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_WRITE) == 0,
	   "a read-write holder seals grow+write itself");

	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname("foreign"));
	is_str(jseals(s, "parameters.region.seals"), "grow,write", "Stat reports them in seals");
	is_str(jseals(s, "parameters.region.foreignSeals"), "grow,write", "and in foreignSeals");

	_cleanup_json_ json_object *l =
		call(conn, IFACE "Resize", jparams("{\"name\":\"foreign\",\"size\":8192}"));
	if (is_error(l, "Sealed", "Resize of a holder-sealed region: Sealed"))
		ok(jarray_has(l, "parameters.seals", "grow"), "  {seals} has grow");

	_cleanup_json_ json_object *a = seal(conn, "foreign", "[\"shrink\"]");
	if (is_success(a, "Seal shrink through the daemon")) {
		is_str(jseals(a, "parameters.region.seals"), "shrink,grow,write", "all three");
		is_str(jseals(a, "parameters.region.foreignSeals"), "grow,write",
		       "shrink is not foreign");
	}
	_cleanup_json_ json_object *o = call(conn, IFACE "Open", jname("foreign"));
	is_str(jseals(o, "parameters.region.foreignSeals"), "grow,write",
	       "Open replies report foreign seals too");
	safe_close(fd);
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_seal(conn);
	test_busy(conn, d.pid);
	test_foreign(conn);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
