/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON written as text: a stack buffer that moves to the heap when it must grow. For the
 * hot messages (the daemon's Region replies, libshmd's Open/Create/Delete calls): building
 * them as json-c objects and serializing cost more than the rest of the message's handling.
 * An allocation failure is sticky (oom) and checked once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct text {
	char *p;
	size_t len, cap;
	bool oom;
	char stack[2048];
};

void text_init(struct text *t);
void text_done(struct text *t);
void text_add(struct text *t, const char *s, size_t n);
/* Drop what was written after the first len bytes (len <= t->len). */
void text_truncate(struct text *t, size_t len);
/* Add a string literal (its length known at compile time). */
#define text_lit(t, s) text_add(t, "" s, sizeof(s) - 1)
void text_uint(struct text *t, uint64_t v);
/* A JSON string, escaped as json-c does with JSON_C_TO_STRING_NOSLASHESCAPE. */
void text_string(struct text *t, const char *s, size_t n);
/* "key":"..." when name is valid UTF-8, else "keyBase64":"..." (as json_add_name()). */
void text_name(struct text *t, const char *key, const char *name);
/* A JSON array of the wire names of SHMD_SEAL_* bits, in bit order. */
void text_seals(struct text *t, unsigned seals);
