/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names with odd bytes travel byte for byte: UTF-8, control characters, non-UTF-8 via base64. */

#include <stdio.h>
#include <string.h>

#include "name.h"
#include "proto-util.h"

/* The name a reply's region carries, decoded; checks it used the form the IDL asks for. */
static char *region_name(json_object *r, const char *base, bool *form_ok)
{
	char path[128];
	snprintf(path, sizeof(path), "%s.name", base);
	const char *s = jstr(r, path);
	snprintf(path, sizeof(path), "%s.nameBase64", base);
	const char *b = jstr(r, path);
	char *ret = NULL;
	size_t len = 0;

	if (s && !b) {
		*form_ok = utf8_is_valid(s, strlen(s));
		return strdup(s);
	}
	*form_ok = false;
	if (b && !s && base64_decode(b, strlen(b), &ret, &len) == 0) {
		*form_ok = !utf8_is_valid(ret, len) && strlen(ret) == len;
		return ret;
	}
	return NULL;
}

/* Create, Stat, List by prefix, Open, Delete a name; each must give the same bytes back. */
static void round_trip(int conn, const char *name, const char *label)
{
	_cleanup_free_ char *esc = name_escape(name);
	bool form_ok = false;
	int fd;

	diag("name %s: %s", label, esc);
	json_object *p = jname(name);
	json_object_object_add(p, "size", json_object_new_int(4096));
	_cleanup_json_ json_object *c = call(conn, IFACE "Create", p);
	if (!is_success(c, "%s: Create", label))
		return;
	_cleanup_free_ char *n1 = region_name(c, "parameters.region", &form_ok);
	is_str(n1, name, "%s: Create returns the same bytes", label);
	ok(form_ok, "%s: as name when UTF-8, else nameBase64", label);

	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname(name));
	_cleanup_free_ char *n2 = region_name(s, "parameters.region", &form_ok);
	is_str(n2, name, "%s: Stat finds it and returns the same bytes", label);

	is_int(list_count(conn, name), 1, "%s: List with the name as prefix finds exactly it",
	       label);

	_cleanup_json_ json_object *o = call_fd(conn, IFACE "Open", jname(name), &fd);
	is_success(o, "%s: Open", label);
	char link[512] = "", path[64], want[300];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	/* The kernel keeps 249 bytes of a memfd name (MFD_NAME_MAX_LEN); compare what fits. */
	snprintf(want, sizeof(want), "/memfd:shmd:%.100s", name);
	ok(strncmp(link, want, strlen(want)) == 0, "%s: memfd debug name starts shmd:<name>",
	   label);
	safe_close(fd);

	_cleanup_json_ json_object *d = call(conn, IFACE "Delete", jname(name));
	is_success(d, "%s: Delete", label);
}

static void test_base64_forms(int conn)
{
	/* A UTF-8 name given as base64 is the same name, and replies spell it as "name". */
	_cleanup_json_ json_object *c =
		call(conn, IFACE "Create",
		     jparams("{\"nameBase64\":\"cGxhaW4=\",\"size\":1}")); /* plain */
	is_success(c, "Create by nameBase64 of a UTF-8 name");
	is_str(jstr(c, "parameters.region.name"), "plain", "the reply spells it as name");
	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jparams("{\"name\":\"plain\"}"));
	is_success(s, "Stat by name finds the region created by base64");
	_cleanup_json_ json_object *e =
		call(conn, IFACE "Create", jparams("{\"name\":\"plain\",\"size\":1}"));
	is_error(e, "RegionExists", "the two spellings are one name");

	/* Bytes 0x80 0x81 '/' 0xfe: not UTF-8. */
	_cleanup_json_ json_object *b =
		call(conn, IFACE "Create", jparams("{\"nameBase64\":\"gIEv/g==\",\"size\":1}"));
	is_success(b, "Create by nameBase64 of non-UTF-8 bytes");
	is_str(jstr(b, "parameters.region.nameBase64"), "gIEv/g==", "the reply gives nameBase64");
	_cleanup_json_ json_object *st =
		call(conn, IFACE "Stat", jparams("{\"nameBase64\":\"gIEv/g==\"}"));
	is_str(jstr(st, "parameters.region.nameBase64"), "gIEv/g==", "Stat by nameBase64");
	_cleanup_json_ json_object *l = call(conn, IFACE "Stat", jparams("{\"name\":\"\\u0080\"}"));
	is_error(l, "NoSuchRegion", "U+0080 as UTF-8 is another name than byte 0x80");
}

int main(void)
{
	char n255[256], n255u[256], n255c[256];
	struct test_daemon d;

	memset(n255, 'z', 255);
	n255[255] = '\0';
	n255u[0] = '\0';
	for (int i = 0; i < 85; i++) /* 85 x 3 bytes = 255 */
		strcat(n255u, "\xe6\x97\xa5");
	for (int i = 0; i < 255; i++) /* "a/a/a/.../a" */
		n255c[i] = i % 2 ? '/' : 'a';
	n255c[255] = '\0';

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);

	round_trip(conn, "plain/name", "ascii");
	round_trip(conn, "\xe6\x97\xa5\xe6\x9c\xac/\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf", "CJK");
	round_trip(conn, "caf\xc3\xa9 \xf0\x9f\x98\x80", "emoji and accents");
	round_trip(conn, "with space", "space");
	round_trip(conn, " lead and trail ", "outer spaces");
	round_trip(conn, "new\nline", "newline");
	round_trip(conn, "quote\"s and 'single'", "quotes");
	round_trip(conn, "back\\slash", "backslash");
	round_trip(conn, "tab\there\x01\x1f\x7f", "control characters");
	round_trip(conn, "...", "three dots (not a special component)");
	round_trip(conn, ".hidden/..x/x..", "dots inside components");
	round_trip(conn, "\xff", "single 0xff byte");
	round_trip(conn, "\x80\x81/\xfe\xfd", "non-UTF-8 with a slash");
	round_trip(conn, "ok\xc3", "truncated UTF-8 sequence");
	round_trip(conn, "\xed\xa0\x80", "UTF-16 surrogate as UTF-8 (invalid)");
	round_trip(conn, "\xc0\xaf", "overlong '/' (invalid UTF-8, not a separator)");
	round_trip(conn, n255, "255 bytes");
	round_trip(conn, n255u, "255 bytes of 3-byte UTF-8");
	round_trip(conn, n255c, "255 bytes, 128 components");
	test_base64_forms(conn);

	close(conn);
	itest_stop(&d);
	return done_testing();
}
