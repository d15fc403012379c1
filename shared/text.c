/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON written as text: the daemon's replies and libshmd's calls, without json-c objects. */

#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "name.h"
#include "seals.h"
#include "text.h"

void text_init(struct text *t)
{
	/* Field by field: a compound literal would also zero the 2 KiB stack buffer. */
	t->p = t->stack;
	t->len = 0;
	t->cap = sizeof(t->stack);
	t->oom = false;
	t->stack[0] = '\0';
}

void text_done(struct text *t)
{
	if (t->p != t->stack)
		free(t->p);
	text_init(t);
}

static bool text_reserve(struct text *t, size_t n)
{
	if (t->oom)
		return false;
	if (t->cap - t->len > n)
		return true;
	size_t cap = MAX(t->cap * 2, t->len + n + 1);
	char *p = t->p == t->stack ? malloc(cap) : realloc(t->p, cap);
	if (!p) {
		t->oom = true;
		return false;
	}
	if (t->p == t->stack)
		memcpy(p, t->stack, t->len);
	t->p = p;
	t->cap = cap;
	return true;
}

void text_add(struct text *t, const char *s, size_t n)
{
	if (!text_reserve(t, n))
		return;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

void text_truncate(struct text *t, size_t len)
{
	if (len < t->len) {
		t->len = len;
		t->p[len] = '\0';
	}
}

void text_uint(struct text *t, uint64_t v)
{
	char buf[24], *e = buf + sizeof(buf), *p = e;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	text_add(t, p, (size_t)(e - p));
}

void text_string(struct text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	if (!text_reserve(t, n * 6 + 2))
		return;
	char *o = t->p + t->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		}
		if (esc) {
			*o++ = esc[0];
			*o++ = esc[1];
		} else if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	t->len = (size_t)(o - t->p);
	t->p[t->len] = '\0';
}

void text_name(struct text *t, const char *key, const char *name)
{
	size_t len = strlen(name);

	text_lit(t, "\"");
	text_add(t, key, strlen(key));
	if (utf8_is_valid(name, len)) {
		text_lit(t, "\":");
		text_string(t, name, len);
		return;
	}
	_cleanup_free_ char *enc = base64_encode(name, len);
	if (!enc) {
		t->oom = true;
		return;
	}
	text_lit(t, "Base64\":");
	text_string(t, enc, strlen(enc));
}

void text_seals(struct text *t, unsigned seals)
{
	bool first = true;

	text_lit(t, "[");
	for (unsigned bit = 1; bit <= SHMD_SEAL_ALL; bit <<= 1) {
		const char *name = seal_to_string(bit);
		if (!(seals & bit) || !name)
			continue;
		if (!first)
			text_lit(t, ",");
		first = false;
		text_string(t, name, strlen(name));
	}
	text_lit(t, "]");
}
