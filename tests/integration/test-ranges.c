/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Label, Unlabel, RenameLabel, Ranges: the protocol's named ranges, their errors and limits. */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto-util.h"

#define PG 4096

static struct test_daemon d;

static json_object *label(int conn, const char *name, long long off, long long len, const char *lbl)
{
	return call(conn, IFACE "Label",
		    jparams("{\"name\":\"%s\",\"offset\":%lld,\"length\":%lld,\"label\":\"%s\"}",
			    name, off, len, lbl));
}

/* "off+len:label,..." of the ranges array at path, in pages. Static storage. */
static const char *ranges_str(json_object *o, const char *path)
{
	static char buf[4096];
	json_object *a = jget(o, path);
	size_t pos = 0;

	buf[0] = '\0';
	if (!a || !json_object_is_type(a, json_type_array))
		return "(none)";
	for (size_t i = 0; i < json_object_array_length(a) && pos < sizeof(buf) - 128; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%lld+%lld:%s",
					i ? "," : "", (long long)jint(e, "offset") / PG,
					(long long)jint(e, "length") / PG,
					jstr(e, "label") ? jstr(e, "label") : "-");
	}
	return buf;
}

static void test_label(int conn)
{
	ok(create_region(conn, "vm", 16 * PG, 0644), "Create vm, 16 pages, mode 0644");
	_cleanup_json_ json_object *a = label(conn, "vm", 0, 8 * PG, "ram");
	if (is_success(a, "Label [0,8) ram"))
		is_str(ranges_str(a, "parameters.ranges"), "0+8:ram", "  the reply lists it");
	_cleanup_json_ json_object *b = label(conn, "vm", 2 * PG, 2 * PG, "rom");
	is_str(ranges_str(b, "parameters.ranges"), "0+2:ram,2+2:rom,4+4:ram",
	       "Label [2,4) rom splits ram: the newest wins");
	_cleanup_json_ json_object *c = label(conn, "vm", 8 * PG, 8 * PG, "ram");
	is_str(ranges_str(c, "parameters.ranges"), "0+2:ram,2+2:rom,4+12:ram",
	       "Label [8,16) ram merges with its equal neighbour");
	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname("vm"));
	is_str(ranges_str(s, "parameters.region.ranges"), "0+2:ram,2+2:rom,4+12:ram",
	       "Stat's region carries the ranges");
	_cleanup_json_ json_object *rn =
		call(conn, IFACE "RenameLabel",
		     jparams("{\"name\":\"vm\",\"label\":\"ram\",\"newLabel\":\"guest ram\"}"));
	is_str(ranges_str(rn, "parameters.ranges"), "0+2:guest ram,2+2:rom,4+12:guest ram",
	       "RenameLabel renames every range with the label");
	_cleanup_json_ json_object *u =
		call(conn, IFACE "Unlabel",
		     jparams("{\"name\":\"vm\",\"offset\":%d,\"length\":%d}", PG, 2 * PG));
	is_str(ranges_str(u, "parameters.ranges"), "0+1:guest ram,3+1:rom,4+12:guest ram",
	       "Unlabel [1,3) cuts across two ranges");
	_cleanup_json_ json_object *ul =
		call(conn, IFACE "Unlabel", jparams("{\"name\":\"vm\",\"label\":\"rom\"}"));
	is_str(ranges_str(ul, "parameters.ranges"), "0+1:guest ram,4+12:guest ram",
	       "Unlabel by label removes it");
	_cleanup_json_ json_object *l = call(conn, IFACE "Ranges", jparams("{\"name\":\"vm\"}"));
	is_str(ranges_str(l, "parameters.ranges"), "0+1:guest ram,4+12:guest ram",
	       "Ranges lists them");
	is_int(jint(l, "parameters.size"), 16 * PG, "  with the region's size");

	_cleanup_json_ json_object *rs =
		call(conn, IFACE "Resize",
		     jparams("{\"name\":\"vm\",\"size\":%d,\"force\":true}", 6 * PG + 100));
	is_str(ranges_str(rs, "parameters.region.ranges"), "0+1:guest ram,4+3:guest ram",
	       "shrinking to 6 pages + 100 bytes clips the ranges to 7 pages");
	_cleanup_json_ json_object *rs2 = call(
		conn, IFACE "Resize", jparams("{\"name\":\"vm\",\"size\":%d,\"force\":true}", PG));
	is_str(ranges_str(rs2, "parameters.region.ranges"), "0+1:guest ram",
	       "shrinking to one page drops the ranges past it");

	/* A read-write holder shrinks the memfd itself: the next look at the size clips. */
	_cleanup_json_ json_object *g =
		call(conn, IFACE "Resize", jparams("{\"name\":\"vm\",\"size\":%d}", 16 * PG));
	_cleanup_json_ json_object *l2 = label(conn, "vm", 8 * PG, 8 * PG, "tail");
	is_str(ranges_str(l2, "parameters.ranges"), "0+1:guest ram,8+8:tail",
	       "grow back to 16 pages, label [8,16) tail");
	int fd = open_region(conn, "vm", "read_write", NULL);
	ok(fd >= 0 && ftruncate(fd, 10 * PG) == 0, "a holder ftruncate()s the region to 10 pages");
	safe_close(fd);
	_cleanup_json_ json_object *l3 = call(conn, IFACE "Ranges", jname("vm"));
	is_str(ranges_str(l3, "parameters.ranges"), "0+1:guest ram,8+2:tail",
	       "Ranges sees the new size and clips tail to [8,10)");
}

static void test_errors(int conn)
{
	ok(create_region(conn, "e", 16 * PG, 0644), "Create e");
	_cleanup_json_ json_object *a = label(conn, "e", 1, PG, "x");
	if (is_error(a, "InvalidParameter", "unaligned offset: InvalidParameter"))
		is_str(jstr(a, "parameters.parameter"), "offset", "  {parameter} offset");
	_cleanup_json_ json_object *b = label(conn, "e", 0, 100, "x");
	if (is_error(b, "InvalidParameter", "unaligned length: InvalidParameter"))
		is_str(jstr(b, "parameters.parameter"), "length", "  {parameter} length");
	_cleanup_json_ json_object *z = label(conn, "e", 0, 0, "x");
	is_error(z, "InvalidParameter", "zero length: InvalidParameter");
	_cleanup_json_ json_object *c = label(conn, "e", 8 * PG, 9 * PG, "x");
	if (is_error(c, "OutOfRange", "past the end: OutOfRange")) {
		is_int(jint(c, "parameters.size"), 16 * PG, "  {size}");
		is_int(jint(c, "parameters.offset"), 8 * PG, "  {offset}");
		is_str(jstr(c, "parameters.name"), "e", "  {name}");
	}
	static const char *const bad[] = { "a[1]", "$x", "back\\\\slash", "tick`", "tab\\t", "" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_json_ json_object *r = label(conn, "e", 0, PG, bad[i]);
		if (is_error(r, "InvalidParameter", "label \"%s\": InvalidParameter", bad[i]))
			is_str(jstr(r, "parameters.parameter"), "label", "  {parameter} label");
	}
	_cleanup_json_ json_object *m =
		call(conn, IFACE "Label", jparams("{\"name\":\"e\",\"offset\":0,\"length\":4096}"));
	is_error(m, "InvalidParameter", "no label: InvalidParameter");
	_cleanup_json_ json_object *u = call(conn, IFACE "Unlabel", jparams("{\"name\":\"e\"}"));
	is_error(u, "InvalidParameter", "Unlabel with neither span nor label: InvalidParameter");
	_cleanup_json_ json_object *u2 =
		call(conn, IFACE "Unlabel",
		     jparams("{\"name\":\"e\",\"offset\":0,\"length\":4096,\"label\":\"x\"}"));
	is_error(u2, "InvalidParameter", "Unlabel with both: InvalidParameter");
	_cleanup_json_ json_object *n =
		call(conn, IFACE "Unlabel", jparams("{\"name\":\"e\",\"label\":\"nope\"}"));
	if (is_error(n, "NoSuchLabel", "Unlabel of an absent label: NoSuchLabel"))
		is_str(jstr(n, "parameters.label"), "nope", "  {label}");
	_cleanup_json_ json_object *n2 =
		call(conn, IFACE "RenameLabel",
		     jparams("{\"name\":\"e\",\"label\":\"nope\",\"newLabel\":\"x\"}"));
	is_error(n2, "NoSuchLabel", "RenameLabel of an absent label: NoSuchLabel");
	_cleanup_json_ json_object *ns = label(conn, "missing", 0, PG, "x");
	is_error(ns, "NoSuchRegion", "Label of a missing region: NoSuchRegion");
	_cleanup_json_ json_object *k = call(
		conn, IFACE "Label",
		jparams("{\"name\":\"e\",\"offset\":0,\"length\":4096,\"label\":\"x\",\"y\":1}"));
	is_error(k, "InvalidParameter", "an unknown parameter: InvalidParameter");
}

static void test_limit(int conn)
{
	int bad = 0;
	ok(create_region(conn, "many", 2048 * PG, 0600), "Create many, 2048 pages");
	for (int i = 0; i < 1024 && !bad; i++) {
		_cleanup_json_ json_object *r = label(conn, "many", 2LL * i * PG, PG, "x");
		bad = test_reply_error(r) != NULL;
	}
	ok(!bad, "1024 ranges are accepted");
	_cleanup_json_ json_object *r = label(conn, "many", 2048LL * PG - PG, PG, "y");
	if (is_error(r, "LimitReached", "the 1025th: LimitReached")) {
		is_str(jstr(r, "parameters.limit"), "rangesPerRegion", "  {limit} rangesPerRegion");
		is_int(jint(r, "parameters.max"), 1024, "  {max} 1024");
	}
	_cleanup_json_ json_object *l = call(conn, IFACE "Ranges", jname("many"));
	is_int((long long)json_object_array_length(jget(l, "parameters.ranges")), 1024,
	       "still 1024 ranges");
	_cleanup_json_ json_object *m = label(conn, "many", 0, 2048LL * PG, "all");
	is_str(ranges_str(m, "parameters.ranges"), "0+2048:all", "one Label over all merges them");
}

static void test_access(void)
{
	if (geteuid() != 0) {
		skip(6, "running as nobody needs root");
		return;
	}
	_cleanup_json_ json_object *res = calls_as(
		&d, NOBODY_UID, NOBODY_GID,
		(const char *const[]){
			"Label", "{\"name\":\"vm\",\"offset\":0,\"length\":4096,\"label\":\"x\"}",
			"Unlabel", "{\"name\":\"vm\",\"label\":\"guest ram\"}", "Ranges",
			"{\"name\":\"vm\"}", "Ranges", "{\"name\":\"vm\",\"footprint\":true}",
			"Ranges", "{\"name\":\"many\",\"footprint\":true}", "Ranges",
			"{\"name\":\"many\"}", NULL });
	is_str(reply_at(res, 0), IFACE "PermissionDenied", "nobody (read-only) cannot Label");
	is_str(reply_at(res, 1), IFACE "PermissionDenied", "nor Unlabel");
	is_str(reply_at(res, 2), "ok", "but may list the ranges");
	is_str(reply_at(res, 3), "ok", "and their footprint on a region it may read (0644)");
	is_str(reply_at(res, 4), IFACE "PermissionDenied",
	       "per-range footprint of a region it may not read (0600): PermissionDenied");
	is_str(reply_at(res, 5), "ok", "its ranges alone: fine");
}

int main(void)
{
	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_label(conn);
	test_errors(conn);
	test_limit(conn);
	test_access();
	close(conn);
	itest_stop(&d);
	return done_testing();
}
