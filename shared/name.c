/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Region names: validation, and their lossless JSON form (UTF-8 string or base64). */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "name.h"

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
bool utf8_is_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static bool component_is_bad(const char *c, size_t len)
{
	return len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.');
}

const char *name_check(const char *name, size_t len, bool is_prefix)
{
	if (len > SHMD_NAME_MAX)
		return "longer than 255 bytes";
	if (memchr(name, 0, len))
		return "contains a NUL byte";
	if (len == 0)
		return is_prefix ? NULL : "empty";

	/* shm_open(3) names start with "/" (POSIX); shmd's do not: say so, not "empty component". */
	if (name[0] == '/')
		return "starts with '/' (shmd names are not paths: drop the leading '/' that "
		       "shm_open(3) names have)";

	/* A prefix may end anywhere: only its complete components are checked. */
	const char *p = name, *end = name + len;
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		if (!slash) {
			if (!is_prefix && component_is_bad(p, (size_t)(end - p)))
				return (end == p) ? "ends with '/'" : "has a '.' or '..' component";
			return NULL;
		}
		if (component_is_bad(p, (size_t)(slash - p)))
			return slash == p ? "has an empty component" :
					    "has a '.' or '..' component";
		p = slash + 1;
	}
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64_alphabet[(v >> 18) & 63];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int base64_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
	if (len % 4 != 0)
		return -EINVAL;

	_cleanup_free_ char *out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;

	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int v[4];
		for (int j = 0; j < 4; j++) {
			v[j] = b64_value(s[i + j]);
			/* '=' only as the last one or two characters. */
			if (v[j] < 0 && !(last && s[i + j] == '=' && j >= 2))
				return -EINVAL;
		}
		if (v[2] < 0 && v[3] >= 0)
			return -EINVAL;
		uint32_t x = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
			     ((uint32_t)(v[2] < 0 ? 0 : v[2]) << 6) |
			     (uint32_t)(v[3] < 0 ? 0 : v[3]);
		out[n++] = (char)(x >> 16);
		if (v[2] >= 0)
			out[n++] = (char)(x >> 8);
		if (v[3] >= 0)
			out[n++] = (char)x;
		/* Reject non-canonical padding bits, so one name has one encoding. */
		if ((v[2] < 0 && (x & 0xffff)) || (v[2] >= 0 && v[3] < 0 && (x & 0xff)))
			return -EINVAL;
	}
	out[n] = '\0';
	*ret_len = n;
	*ret = TAKE_PTR(out);
	return 0;
}

/* The base64 twin of a name key; static, because it is handed back as *bad_key. */
static const char *base64_key(const char *key)
{
	static const char *const pairs[][2] = {
		{ "name", "nameBase64" },
		{ "newName", "newNameBase64" },
		{ "prefix", "prefixBase64" },
	};
	for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
		if (strcmp(pairs[i][0], key) == 0)
			return pairs[i][1];
	return NULL;
}

int json_get_name(json_object *params, const char *key, bool is_prefix, char **ret,
		  const char **bad_key, const char **reason)
{
	const char *b64_key = base64_key(key);
	json_object *plain = NULL, *b64 = NULL;

	if (!b64_key) {
		*bad_key = key;
		*reason = "not a name parameter";
		return -EINVAL;
	}
	json_object_object_get_ex(params, key, &plain);
	json_object_object_get_ex(params, b64_key, &b64);

	*bad_key = key;
	if (plain && b64) {
		*reason = "give either the name or its base64 form, not both";
		return -EINVAL;
	}
	if (!plain && !b64)
		return 0;

	json_object *v = plain ? plain : b64;
	*bad_key = plain ? key : b64_key;
	if (!json_object_is_type(v, json_type_string)) {
		*reason = "not a string";
		return -EINVAL;
	}

	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	_cleanup_free_ char *bytes = NULL;
	if (b64) {
		if (base64_decode(s, len, &bytes, &len) < 0) {
			*reason = "not valid base64";
			return -EINVAL;
		}
	} else {
		bytes = strndup(s, len);
		if (!bytes)
			return -ENOMEM;
		/* json-c keeps "\u0000" as an embedded NUL; strndup would hide it. */
		if (memchr(s, 0, len))
			len = SIZE_MAX;
	}

	*reason = len == SIZE_MAX ? "contains a NUL byte" : name_check(bytes, len, is_prefix);
	if (*reason)
		return -EINVAL;
	*ret = TAKE_PTR(bytes);
	return 1;
}

int json_add_name(json_object *obj, const char *key, const char *name)
{
	size_t len = strlen(name);
	json_object *v;

	if (utf8_is_valid(name, len)) {
		v = json_object_new_string_len(name, (int)len);
		if (!v)
			return -ENOMEM;
		json_object_object_add(obj, key, v);
		return 0;
	}

	const char *b64_key = base64_key(key);
	_cleanup_free_ char *enc = base64_encode(name, len);
	if (!b64_key)
		return -EINVAL;
	if (!enc)
		return -ENOMEM;
	v = json_object_new_string(enc);
	if (!v)
		return -ENOMEM;
	json_object_object_add(obj, b64_key, v);
	return 0;
}

char *name_escape(const char *name)
{
	size_t len = strlen(name);
	char *out = malloc(len * 4 + 1), *o = out;
	if (!out)
		return NULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* Printable ASCII and UTF-8 sequences pass; control and stray bytes are escaped. */
		if (*p == '\\' || *p < 0x20 || *p == 0x7f) {
			o += sprintf(o, "\\x%02x", *p);
		} else if (*p >= 0x80) {
			size_t n = (*p >= 0xf0) ? 4 : (*p >= 0xe0) ? 3 : 2;
			if (*p >= 0xc2 && strnlen((const char *)p, n) == n &&
			    utf8_is_valid((const char *)p, n)) {
				memcpy(o, p, n);
				o += n;
				p += n - 1;
			} else {
				o += sprintf(o, "\\x%02x", *p);
			}
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}
