/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Column tables: columns are data (name, header, width, JSON type, getters); rows print as an aligned table, raw, or JSON. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

/* How to print: from the global options. */
struct table_format {
	bool json;
	bool raw;
	bool noheadings;
	bool bytes;
	/* Fit the human table in this many columns by truncating TABLE_TRUNC cells; 0: never. */
	size_t width;
};

enum {
	/* Right-align in the human table (numbers, sizes). */
	TABLE_RIGHT = 1 << 0,
	/* May be cut to fit the terminal, ending in "…" (util-linux's SCOLS_FL_TRUNC). */
	TABLE_TRUNC = 1 << 1,
};

struct table_column {
	const char *name;      /* "SIZE": the header and the --output key */
	const char *label;     /* "Size": the key in key/value listings */
	const char *help;      /* one line for --help */
	const char *json_keys; /* the JSON keys and types it adds, for --help */
	unsigned width;	       /* minimum width in the human table */
	unsigned flags;	       /* TABLE_* */
	/* The cell for humans, malloc'd (NULL only on OOM). */
	char *(*text)(const void *row, const struct table_format *fmt);
	/* Add this column's key(s) to a JSON object. 0 or -ENOMEM. */
	int (*json)(const void *row, json_object *obj);
};

/*
 * Pick columns: output is NULL (the defaults), "A,B" (exactly those) or "+A,B"
 * (the defaults and those). Returns 0 and a malloc'd array of pointers into all,
 * or -EINVAL with *ret_bad set to the unknown name (malloc'd), or -ENOMEM.
 */
int table_select(const struct table_column *all, size_t n_all, const char *defaults,
		 const char *output, const struct table_column ***ret, size_t *ret_n,
		 char **ret_bad);

struct table;
struct table *table_new(const struct table_column *const *columns, size_t n_columns,
			const struct table_format *fmt);
struct table *table_free(struct table *t);
/* Render row (text or JSON, as the format says) and keep it. 0 or -ENOMEM. */
int table_add(struct table *t, const void *row);
/* Print everything; JSON is { "<json_key>": [ rows ] }. 0 or -errno (write error). */
int table_print(struct table *t, FILE *f, const char *json_key);

/*
 * One row as a record: "Label:  value" lines for humans ("NAME value" with --raw),
 * or one JSON object. extra (may be NULL) is merged into the JSON object.
 */
int table_print_record(const struct table_column *const *columns, size_t n_columns,
		       const struct table_format *fmt, const void *row, json_object *extra,
		       FILE *f);

/* Print a JSON value the house way (pretty, two spaces, "/" unescaped) and a newline. */
int json_print(json_object *obj, FILE *f);

/* Escape a cell for --raw: spaces, control bytes, backslashes and invalid UTF-8 as \xNN, so fields split on spaces. */
char *raw_escape(const char *s);

/* Print the columns and their help, for --help. */
void table_columns_help(const struct table_column *all, size_t n_all, FILE *f);
