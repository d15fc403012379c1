/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of seal names: wire arrays, CLI lists, and agreement with the kernel's bits. */

#include <fcntl.h>
#include <string.h>

#include "seals.h"
#include "testlib.h"

int main(void)
{
	unsigned s = 0;
	char buf[128];

	is_int(SHMD_SEAL_SEAL, F_SEAL_SEAL, "seal bit is F_SEAL_SEAL");
	is_int(SHMD_SEAL_SHRINK, F_SEAL_SHRINK, "shrink bit is F_SEAL_SHRINK");
	is_int(SHMD_SEAL_GROW, F_SEAL_GROW, "grow bit is F_SEAL_GROW");
	is_int(SHMD_SEAL_WRITE, F_SEAL_WRITE, "write bit is F_SEAL_WRITE");

	ok(seals_from_list("grow,shrink", &s) == 0 && s == (SHMD_SEAL_GROW | SHMD_SEAL_SHRINK),
	   "list parsed");
	ok(seals_from_list("future-write", &s) == 0 && s == SHMD_SEAL_FUTURE_WRITE, "CLI spelling");
	is_int(seals_from_list("grow,bogus", &s), -EINVAL, "unknown seal refused");
	is_int(seals_from_list("", &s), -EINVAL, "empty list refused");
	is_str(seals_format(SHMD_SEAL_SEAL | SHMD_SEAL_WRITE, buf, sizeof(buf)), "seal,write",
	       "formatted");
	is_str(seals_format(0, buf, sizeof(buf)), "-", "no seals is '-'");

	_cleanup_json_ json_object *a = seals_to_json(SHMD_SEAL_ALL);
	is_str(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
	       "[\"seal\",\"shrink\",\"grow\",\"write\",\"future_write\",\"exec\"]", "all as JSON");
	ok(seals_from_json(a, &s) == 0 && s == SHMD_SEAL_ALL, "JSON round trip");

	_cleanup_json_ json_object *bad = json_tokener_parse("[\"grow\", 3]");
	is_int(seals_from_json(bad, &s), -EINVAL, "non-string refused");
	_cleanup_json_ json_object *dash = json_tokener_parse("[\"future-write\"]");
	is_int(seals_from_json(dash, &s), -EINVAL, "the wire takes only the IDL spelling");
	_cleanup_json_ json_object *obj = json_tokener_parse("{}");
	is_int(seals_from_json(obj, &s), -EINVAL, "non-array refused");
	return done_testing();
}
