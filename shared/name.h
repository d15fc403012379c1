/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Region names: validation, and their lossless JSON form (UTF-8 string or base64). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#define SHMD_NAME_MAX 255

bool utf8_is_valid(const char *s, size_t len);

/*
 * Check a region name: 1..SHMD_NAME_MAX bytes, no NUL, components separated by
 * '/', none empty, "." or "..". Returns NULL if valid, else a static reason.
 * With is_prefix, the empty string and a trailing '/' or partial component are allowed.
 */
const char *name_check(const char *name, size_t len, bool is_prefix);

/* Base64 (RFC 4648, padded). Encode never fails except OOM (NULL). Decode returns -EINVAL on bad input. */
char *base64_encode(const void *data, size_t len);
int base64_decode(const char *s, size_t len, char **ret, size_t *ret_len);

/*
 * Read the name pair <key> / <key>Base64 from a parameters object.
 * Returns 1 and *ret (NUL-terminated, malloc'd) when exactly one is present and
 * the bytes pass name_check(); 0 when neither is present; -EINVAL otherwise,
 * with *reason set to a static text and *bad_key to the offending key (static too).
 * key is one of "name", "newName", "prefix".
 */
int json_get_name(json_object *params, const char *key, bool is_prefix, char **ret,
		  const char **bad_key, const char **reason);

/* Add <key> (valid UTF-8) or <key>Base64 to obj (key as for json_get_name()). 0, -EINVAL or -ENOMEM. */
int json_add_name(json_object *obj, const char *key, const char *name);

/* Format a name for humans: printable as is, other bytes as \xNN. Caller frees. */
char *name_escape(const char *name);
