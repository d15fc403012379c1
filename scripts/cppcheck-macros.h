/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What cppcheck needs to know of macros from headers it does not read (scripts/static-analysis). */

/* json-c's iteration macro, reduced to its declarations and a loop cppcheck can follow. */
#define json_object_object_foreach(obj, key, val)                                                  \
	char *key = NULL;                                                                          \
	struct json_object *val = NULL;                                                            \
	for (; (obj) && key; key = NULL)
