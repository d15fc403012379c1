/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of name validation, base64 and the name/nameBase64 JSON pair. */

#include <string.h>

#include "name.h"
#include "testlib.h"

static void valid(const char *n, bool prefix)
{
	ok(name_check(n, strlen(n), prefix) == NULL, "'%s' is a valid %s", n,
	   prefix ? "prefix" : "name");
}

static void invalid(const char *n, size_t len, bool prefix, const char *what)
{
	ok(name_check(n, len, prefix) != NULL, "%s is refused as a %s", what,
	   prefix ? "prefix" : "name");
}

static void test_name_check(void)
{
	char long_name[300];

	valid("a", false);
	valid("vm1/ram0", false);
	valid("a b/\xff\xfe", false);
	valid("...", false);
	valid(".hidden/x", false);
	invalid("", 0, false, "empty");
	invalid("/a", 2, false, "leading slash");
	invalid("a/", 2, false, "trailing slash");
	invalid("a//b", 4, false, "empty component");
	invalid(".", 1, false, "'.'");
	invalid("a/../b", 6, false, "'..' component");
	invalid("a/.", 3, false, "trailing '.'");
	invalid("a\0b", 3, false, "embedded NUL");
	memset(long_name, 'x', sizeof(long_name));
	ok(name_check(long_name, 255, false) == NULL, "255 bytes is allowed");
	invalid(long_name, 256, false, "256 bytes");
	valid("", true);
	valid("vm1/", true);
	valid("vm1/r", true);
	valid(".", true);
	invalid("a//", 3, true, "empty component");
	/* The POSIX shm_open() habit gets its own reason. */
	ok(strstr(name_check("/myshm", 6, false) ?: "", "starts with '/'") != NULL,
	   "a leading '/' is named as such");
	ok(strstr(name_check("/vm1/", 5, true) ?: "", "starts with '/'") != NULL,
	   "  in a prefix too");
}

static void test_utf8(void)
{
	ok(utf8_is_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15), "valid UTF-8");
	ok(!utf8_is_valid("\xc0\xaf", 2), "overlong refused");
	ok(!utf8_is_valid("\xed\xa0\x80", 3), "surrogate refused");
	ok(!utf8_is_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF refused");
	ok(!utf8_is_valid("\xe2\x82", 2), "truncated sequence refused");
	ok(!utf8_is_valid("\xff", 1), "stray byte refused");
}

static void test_base64(void)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
	};

	for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
		_cleanup_free_ char *e = base64_encode(plain[i], strlen(plain[i]));
		_cleanup_free_ char *d = NULL;
		size_t len = 0;
		is_str(e, enc[i], "base64(\"%s\")", plain[i]);
		ok(base64_decode(enc[i], strlen(enc[i]), &d, &len) == 0 &&
			   len == strlen(plain[i]) && memcmp(d, plain[i], len) == 0,
		   "decode \"%s\"", enc[i]);
	}
	char *d = NULL;
	size_t len;
	is_int(base64_decode("Zg=", 3, &d, &len), -EINVAL, "bad length refused");
	is_int(base64_decode("Z===", 4, &d, &len), -EINVAL, "too much padding refused");
	is_int(base64_decode("Zh==", 4, &d, &len), -EINVAL, "non-canonical padding bits refused");
	is_int(base64_decode("Zm9v!A==", 8, &d, &len), -EINVAL, "bad character refused");
	is_int(base64_decode("Zg==Zg==", 8, &d, &len), -EINVAL, "padding in the middle refused");
}

static int get_name(const char *json, char **name, const char **reason)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);
	const char *bad_key = NULL;
	return json_get_name(o, "name", false, name, &bad_key, reason);
}

static void test_json_pair(void)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	char *x = NULL;
	const char *reason = NULL;

	ok(get_name("{\"name\":\"vm1/ram\"}", &a, &reason) == 1 && strcmp(a, "vm1/ram") == 0,
	   "plain name read");
	ok(get_name("{\"nameBase64\":\"/w==\"}", &b, &reason) == 1 && strcmp(b, "\xff") == 0,
	   "base64 name read");
	is_int(get_name("{}", &x, &reason), 0, "absent name is 0");
	is_int(get_name("{\"name\":\"a\",\"nameBase64\":\"YQ==\"}", &x, &reason), -EINVAL,
	       "both refused");
	is_int(get_name("{\"name\":\"a\\u0000b\"}", &x, &reason), -EINVAL, "embedded NUL refused");
	is_int(get_name("{\"name\":7}", &x, &reason), -EINVAL, "number refused");
	is_int(get_name("{\"nameBase64\":\"YQA=\"}", &x, &reason), -EINVAL,
	       "NUL via base64 refused");
	is_int(get_name("{\"name\":\"a//b\"}", &x, &reason), -EINVAL, "bad name refused");
	ok(reason && strstr(reason, "empty"), "reason says why (%s)", reason);

	/* The offending key outlives the call (it was once a stack buffer). */
	const char *bad_key = NULL;
	_cleanup_json_ json_object *p = json_tokener_parse("{\"newNameBase64\":\"!!\"}");
	is_int(json_get_name(p, "newName", false, &x, &bad_key, &reason), -EINVAL,
	       "bad base64 refused");
	is_str(bad_key, "newNameBase64", "bad key names the base64 parameter");
	is_int(json_get_name(p, "bogus", false, &x, &bad_key, &reason), -EINVAL,
	       "unknown key refused");

	_cleanup_json_ json_object *o = json_object_new_object();
	json_add_name(o, "name", "caf\xc3\xa9");
	json_add_name(o, "newName", "raw\xff");
	is_str(json_object_get_string(json_object_object_get(o, "name")), "caf\xc3\xa9",
	       "UTF-8 as string");
	is_str(json_object_get_string(json_object_object_get(o, "newNameBase64")),
	       "cmF3/w==", "other bytes as base64");

	_cleanup_free_ char *e = name_escape("a\tb\xff\xc3\xa9\\");
	is_str(e, "a\\x09b\\xff\xc3\xa9\\x5c", "name_escape");
}

int main(void)
{
	test_name_check();
	test_utf8();
	test_base64();
	test_json_pair();
	return done_testing();
}
