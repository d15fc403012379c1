/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every malformed parameter gets InvalidParameter {parameter, reason}, and no region is half made. */

#include <stdio.h>
#include <string.h>

#include "proto-util.h"

struct bad_call {
	const char *method;
	const char *params;    /* JSON text */
	const char *parameter; /* the expected "parameter" (NULL: name or nameBase64) */
	const char *what;
};

static const struct bad_call bad_calls[] = {
	{ "Create", "{\"size\":1}", NULL, "missing name" },
	{ "Create", "{\"name\":\"a\",\"nameBase64\":\"YQ==\",\"size\":1}", NULL,
	  "both name and nameBase64" },
	{ "Create", "{\"nameBase64\":\"@@@@\",\"size\":1}", "nameBase64", "bad base64" },
	{ "Create", "{\"nameBase64\":\"YQ\",\"size\":1}", "nameBase64", "base64 without padding" },
	{ "Create", "{\"name\":\"\",\"size\":1}", "name", "empty name" },
	{ "Create", "{\"nameBase64\":\"\",\"size\":1}", "nameBase64", "empty nameBase64" },
	{ "Create", "{\"name\":\".\",\"size\":1}", "name", "name \".\"" },
	{ "Create", "{\"name\":\"..\",\"size\":1}", "name", "name \"..\"" },
	{ "Create", "{\"name\":\"a//b\",\"size\":1}", "name", "empty component" },
	{ "Create", "{\"name\":\"/a\",\"size\":1}", "name", "leading slash" },
	{ "Create", "{\"name\":\"a/\",\"size\":1}", "name", "trailing slash" },
	{ "Create", "{\"name\":\"a/./b\",\"size\":1}", "name", "\".\" component" },
	{ "Create", "{\"name\":\"a/../b\",\"size\":1}", "name", "\"..\" component" },
	{ "Create", "{\"name\":\"a\\u0000b\",\"size\":1}", "name", "embedded NUL via \\u0000" },
	{ "Create", "{\"nameBase64\":\"YQBi\",\"size\":1}", "nameBase64",
	  "embedded NUL via nameBase64" },
	{ "Create", "{\"name\":5,\"size\":1}", "name", "name is a number" },
	{ "Create", "{\"name\":null,\"size\":1}", NULL, "name is null" },
	{ "Create", "{\"name\":\"a\"}", "size", "missing size" },
	{ "Create", "{\"name\":\"a\",\"size\":null}", "size", "size null (a required field)" },
	{ "Create", "{\"name\":\"a\",\"size\":-1}", "size", "negative size" },
	{ "Create", "{\"name\":\"a\",\"size\":\"4096\"}", "size", "size as a string" },
	{ "Create", "{\"name\":\"a\",\"size\":1.5}", "size", "size as a fraction" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"mode\":448}", "mode", "mode 0700 (exec bits)" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"mode\":493}", "mode", "mode 0755" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"mode\":950}", "mode", "mode 01666 (sticky)" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"mode\":2486}", "mode", "mode 04666 (setuid)" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"mode\":-1}", "mode", "negative mode" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"mode\":\"0600\"}", "mode", "mode as a string" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"seals\":[\"frob\"]}", "seals", "unknown seal" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"seals\":\"grow\"}", "seals",
	  "seals not an array" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"seals\":[4]}", "seals", "seal as a number" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"colour\":\"red\"}", "colour",
	  "unknown parameter key" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"fixed\":\"yes\"}", "fixed", "fixed as a string" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"exclusive\":1}", "exclusive",
	  "exclusive as a number" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"access\":5}", "access", "access as a number" },
	{ "Create", "{\"name\":\"a\",\"size\":1,\"access\":\"rw\"}", "access", "unknown access" },
	{ "Stat", "{}", NULL, "Stat without a name" },
	{ "Stat", "{\"name\":\"x\",\"extra\":true}", "extra", "Stat with an unknown key" },
	{ "Open", "{\"name\":\"..\"}", "name", "Open \"..\"" },
	{ "Delete", "{\"name\":\"a//\"}", "name", "Delete with an empty component" },
	{ "Resize", "{\"name\":\"x\"}", "size", "Resize without size" },
	{ "Resize", "{\"name\":\"x\",\"size\":null}", "size", "Resize with size null" },
	{ "Resize", "{\"name\":\"x\",\"size\":-5}", "size", "Resize to a negative size" },
	{ "Resize", "{\"name\":\"x\",\"size\":1,\"force\":\"yes\"}", "force", "force as a string" },
	{ "Rename", "{\"name\":\"x\"}", NULL, "Rename without newName" },
	{ "Rename", "{\"name\":\"x\",\"newName\":\"..\"}", "newName", "Rename to \"..\"" },
	{ "Rename", "{\"name\":\"x\",\"newName\":\"y\",\"newNameBase64\":\"eQ==\"}", NULL,
	  "Rename with newName and newNameBase64" },
	{ "Seal", "{\"name\":\"x\"}", "seals", "Seal without seals" },
	{ "Seal", "{\"name\":\"x\",\"seals\":[\"glue\"]}", "seals", "Seal with an unknown seal" },
	{ "SetAccess", "{\"name\":\"x\",\"mode\":511}", "mode", "SetAccess mode 0777" },
	{ "SetAccess", "{\"name\":\"x\",\"uid\":-2}", "uid", "SetAccess negative uid" },
	{ "SetAccess", "{\"name\":\"x\",\"gid\":\"root\"}", "gid", "SetAccess gid as a string" },
	{ "List", "{\"prefix\":\"a\",\"extra\":1}", "extra", "List with an unknown key" },
	{ "Status", "{\"verbose\":true}", "verbose", "Status with an unknown key" },
};

static bool name_pair(const char *p)
{
	return p && (strcmp(p, "name") == 0 || strcmp(p, "nameBase64") == 0 ||
		     strcmp(p, "newName") == 0 || strcmp(p, "newNameBase64") == 0);
}

static void test_bad_call(int conn, const struct bad_call *b)
{
	char method[64];
	bool more = strcmp(b->method, "List") == 0;

	snprintf(method, sizeof(method), IFACE "%s", b->method);
	json_object *params = jparams("%s", b->params);
	_cleanup_json_ json_object *r = NULL;
	if (more) {
		/* List needs "more"; its error is still a single reply. */
		_cleanup_json_ json_object *msg = json_object_new_object();
		json_object_object_add(msg, "method", json_object_new_string(method));
		json_object_object_add(msg, "parameters", params);
		json_object_object_add(msg, "more", json_object_new_boolean(1));
		const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
		if (send_raw(conn, text, strlen(text) + 1, NULL, 0) < 0 ||
		    test_read_reply(conn, &r, NULL, NULL) < 0)
			r = NULL;
	} else {
		r = call(conn, method, params);
	}
	if (!is_error(r, "InvalidParameter", "%s: %s -> InvalidParameter", b->method, b->what))
		return;
	const char *p = jstr(r, "parameters.parameter");
	if (b->parameter)
		is_str(p, b->parameter, "  names parameter %s", b->parameter);
	else
		ok(name_pair(p), "  names the name pair (%s)", p ?: "null");
	const char *reason = jstr(r, "parameters.reason");
	ok(reason && *reason, "  with a reason (%s)", reason ?: "none");
}

static void test_long_names(int conn)
{
	char name[300];

	memset(name, 'n', 256);
	name[256] = '\0';
	_cleanup_json_ json_object *r = call(conn, IFACE "Create", jname(name));
	if (is_error(r, "InvalidParameter", "a 256-byte name: InvalidParameter"))
		is_str(jstr(r, "parameters.parameter"), "name", "  names the name");
	name[255] = '\0';
	ok(create_region(conn, name, 1, 0600), "a 255-byte name is fine");
	_cleanup_json_ json_object *d = call(conn, IFACE "Delete", jname(name));
	is_success(d, "and can be deleted");
}

static void test_region_errors(int conn)
{
	_cleanup_json_ json_object *a = call(conn, IFACE "Stat", jname("no/such"));
	if (is_error(a, "NoSuchRegion", "Stat of a missing region: NoSuchRegion")) {
		is_str(jstr(a, "parameters.name"), "no/such", "  {name}");
		ok(!jget(a, "parameters.nameBase64"), "  no nameBase64 for a UTF-8 name");
	}
	_cleanup_json_ json_object *b = call(conn, IFACE "Stat", jname("no/\xff"));
	if (is_error(b, "NoSuchRegion", "Stat of a missing non-UTF-8 name: NoSuchRegion")) {
		is_str(jstr(b, "parameters.nameBase64"), "bm8v/w==", "  {nameBase64}");
		ok(!jget(b, "parameters.name"), "  no name");
	}
	/* INT64_MAX, the largest memfd size (off_t), is valid; one more is out of range. */
	_cleanup_json_ json_object *c = call(
		conn, IFACE "Create", jparams("{\"name\":\"huge\",\"size\":9223372036854775807}"));
	if (is_success(c, "Create of 2^63-1 bytes succeeds"))
		is_int(jint(c, "parameters.region.size"), INT64_MAX, "  of that size");
	json_object_put(call(conn, IFACE "Delete", jname("huge")));
	static const char *const over[] = { "9223372036854775808", "18446744073709551615",
					    "18446744073709551616", "99999999999999999999999" };
	for (size_t i = 0; i < ELEMENTSOF(over); i++) {
		_cleanup_json_ json_object *o = call(
			conn, IFACE "Create", jparams("{\"name\":\"over\",\"size\":%s}", over[i]));
		if (is_error(o, "InvalidParameter", "Create of %s bytes: InvalidParameter",
			     over[i]))
			is_str(jstr(o, "parameters.reason"),
			       "out of range (0 to 9223372036854775807)",
			       "  the reason states the range");
		_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname("over"));
		is_error(s, "NoSuchRegion", "  and leaves no region");
	}

	/* Two sparse regions of 2^63-2 bytes: the total saturates instead of wrapping. */
	ok(create_region(conn, "huge1", INT64_MAX - 1, 0600) &&
		   create_region(conn, "huge2", INT64_MAX - 1, 0600),
	   "two sparse regions of 2^63-2 bytes");
	_cleanup_json_ json_object *t = call(conn, IFACE "Status", NULL);
	is_int(jint(t, "parameters.totalSize"), INT64_MAX, "Status totalSize saturates at 2^63-1");
	json_object_put(call(conn, IFACE "Delete", jname("huge1")));
	json_object_put(call(conn, IFACE "Delete", jname("huge2")));
}

/* "upgrade" asks to hand the connection to another protocol: no method here does. */
static void test_upgrade(int conn)
{
	static const char msg[] = "{\"method\":\"" IFACE "Status\",\"upgrade\":true}";
	json_object *reply = NULL;

	is_int(send_raw(conn, msg, sizeof(msg), NULL, 0), 0, "a call with \"upgrade\": true");
	is_int(test_read_reply(conn, &reply, NULL, NULL), 0, "  a reply comes");
	if (is_error(reply, "InvalidParameter", "  InvalidParameter"))
		is_str(jstr(reply, "parameters.parameter"), "upgrade", "  {parameter: upgrade}");
	json_object_put(reply);
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_success(s, "  and the connection still serves plain calls");
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	ok(create_region(conn, "x", 4096, 0600), "Create x for the calls on existing regions");

	for (size_t i = 0; i < ELEMENTSOF(bad_calls); i++)
		test_bad_call(conn, &bad_calls[i]);
	test_long_names(conn);
	test_region_errors(conn);
	test_upgrade(conn);

	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), 1, "no invalid call made a region");
	_cleanup_json_ json_object *x = call(conn, IFACE "Stat", jname("x"));
	is_int(jint(x, "parameters.region.size"), 4096, "and x is untouched");
	is_int(jint(x, "parameters.region.mode"), 0600, "  (mode too)");

	close(conn);
	itest_stop(&d);
	return done_testing();
}
