/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Column tables: selecting columns, aligning cells for humans, --raw escaping and JSON arrays. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "name.h"
#include "table.h"

struct table {
	const struct table_column **columns; /* a copy of the caller's array */
	size_t n_columns;
	struct table_format fmt;
	char **cells; /* n_rows * n_columns, row-major */
	size_t n_rows;
	size_t allocated;
	/*
	 * With fmt.json: the rows already rendered as the elements of the pretty
	 * array json_print() would print, so that no tree of 10,000 objects is
	 * kept (json-c spends more time allocating that tree than printing it).
	 */
	char *json;
	size_t json_len;
	size_t json_allocated;
};

/* The house JSON style (see json_print()). */
#define JSON_FLAGS                                                                                 \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
/* json-c's pretty printer indents by two spaces a level; rows sit at level 2. */
#define ROW_INDENT "    "

static const struct table_column *column_find(const struct table_column *all, size_t n_all,
					      const char *name, size_t len)
{
	for (size_t i = 0; i < n_all; i++)
		if (strlen(all[i].name) == len && strncasecmp(all[i].name, name, len) == 0)
			return &all[i];
	return NULL;
}

/* Append the comma-separated columns of list to cols. */
static int select_list(const struct table_column *all, size_t n_all, const char *list,
		       const struct table_column **cols, size_t *n, size_t max, char **ret_bad)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		const struct table_column *c = column_find(all, n_all, p, len);
		if (!c) {
			*ret_bad = strndup(p, len);
			return *ret_bad ? -EINVAL : -ENOMEM;
		}
		if (*n >= max)
			return -E2BIG;
		cols[(*n)++] = c;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int table_select(const struct table_column *all, size_t n_all, const char *defaults,
		 const char *output, const struct table_column ***ret, size_t *ret_n,
		 char **ret_bad)
{
	/* Room for every column a few times over: repeating one is allowed, like lsipc. */
	size_t max = n_all * 4, n = 0;
	_cleanup_free_ const struct table_column **cols = calloc(max, sizeof(*cols));
	int r;

	*ret_bad = NULL;
	if (!cols)
		return -ENOMEM;
	if (!output || output[0] == '+') {
		r = select_list(all, n_all, defaults, cols, &n, max, ret_bad);
		if (r < 0)
			return r;
	}
	if (output) {
		r = select_list(all, n_all, output[0] == '+' ? output + 1 : output, cols, &n, max,
				ret_bad);
		if (r < 0)
			return r;
	}
	if (n == 0) {
		*ret_bad = strdup("");
		return *ret_bad ? -EINVAL : -ENOMEM;
	}
	*ret = TAKE_PTR(cols);
	*ret_n = n;
	return 0;
}

struct table *table_new(const struct table_column *const *columns, size_t n_columns,
			const struct table_format *fmt)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	/* The table keeps its own copy: callers may free their selection once it is made. */
	t->columns = calloc(MAX(n_columns, 1u), sizeof(*t->columns));
	if (!t->columns) {
		free(t);
		return NULL;
	}
	memcpy(t->columns, columns, n_columns * sizeof(*t->columns));
	t->n_columns = n_columns;
	t->fmt = *fmt;
	return t;
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	/* With fmt.json, rows are counted but have no cells. */
	for (size_t i = 0; t->cells && i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->json);
	free(t->columns);
	free(t);
	return NULL;
}

static json_object *row_to_json(const struct table_column *const *columns, size_t n_columns,
				const void *row)
{
	_cleanup_json_ json_object *obj = json_object_new_object();

	if (!obj)
		return NULL;
	for (size_t i = 0; i < n_columns; i++)
		if (columns[i]->json(row, obj) < 0)
			return NULL;
	return TAKE_PTR(obj);
}

static int json_append(struct table *t, const char *s, size_t len)
{
	if (t->json_allocated - t->json_len < len) {
		size_t n = MAX(t->json_allocated * 2, t->json_len + len + 4096);
		char *p = realloc(t->json, n);
		if (!p)
			return -ENOMEM;
		t->json = p;
		t->json_allocated = n;
	}
	memcpy(t->json + t->json_len, s, len);
	t->json_len += len;
	return 0;
}

/* Append one row as an element of the "regions" array: indented, after a comma. */
static int table_add_json(struct table *t, const void *row)
{
	_cleanup_json_ json_object *obj = row_to_json(t->columns, t->n_columns, row);
	if (!obj)
		return -ENOMEM;
	const char *s = json_object_to_json_string_ext(obj, JSON_FLAGS);
	if (!s)
		return -ENOMEM;

	size_t old_len = t->json_len;
	int r = t->n_rows > 0 ? json_append(t, ",\n" ROW_INDENT, 2 + strlen(ROW_INDENT)) :
				json_append(t, ROW_INDENT, strlen(ROW_INDENT));
	/* Strings are escaped, so every newline is json-c's: indent the line after it. */
	for (const char *nl; r >= 0 && (nl = strchr(s, '\n')); s = nl + 1) {
		r = json_append(t, s, (size_t)(nl - s));
		if (r >= 0)
			r = json_append(t, "\n" ROW_INDENT, 1 + strlen(ROW_INDENT));
	}
	if (r >= 0)
		r = json_append(t, s, strlen(s));
	if (r < 0) {
		t->json_len = old_len;
		return r;
	}
	t->n_rows++;
	return 0;
}

int table_add(struct table *t, const void *row)
{
	if (t->fmt.json)
		return table_add_json(t, row);

	if (t->n_rows == t->allocated) {
		size_t n = t->allocated ? t->allocated * 2 : 16;
		char **cells = reallocarray(t->cells, n * t->n_columns, sizeof(char *));
		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->allocated = n;
	}
	char **cells = t->cells + t->n_rows * t->n_columns;
	for (size_t i = 0; i < t->n_columns; i++) {
		char *text = t->columns[i]->text(row, &t->fmt);
		if (text && t->fmt.raw) {
			char *escaped = raw_escape(text);
			free(text);
			text = escaped;
		}
		if (!text) {
			while (i > 0)
				free(cells[--i]);
			return -ENOMEM;
		}
		cells[i] = text;
	}
	t->n_rows++;
	return 0;
}

/* Display width: code points, not bytes (cells are UTF-8; escapes are ASCII). */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Print the first width - 1 code points of text and "…": a cell cut to fit. */
static void print_truncated(FILE *f, const char *text, size_t width)
{
	size_t w = 0;
	const char *p = text;

	for (; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && w++ == width - 1)
			break;
	}
	fwrite(text, 1, (size_t)(p - text), f);
	fputs("\u2026", f);
}

static void print_cell(FILE *f, const char *text, size_t width, unsigned flags, bool last)
{
	size_t pad = width - MIN(width, text_width(text));

	if ((flags & TABLE_TRUNC) && width > 0 && text_width(text) > width) {
		print_truncated(f, text, width);
		return;
	}
	if (flags & TABLE_RIGHT)
		fprintf(f, "%*s%s", (int)pad, "", text);
	else if (last)
		fputs(text, f);
	else
		fprintf(f, "%s%*s", text, (int)pad, "");
}

static void print_line(const struct table *t, FILE *f, const char *const *texts,
		       const size_t *widths)
{
	for (size_t i = 0; i < t->n_columns; i++) {
		if (i > 0)
			fputc(' ', f);
		if (t->fmt.raw)
			fputs(texts[i], f);
		else
			print_cell(f, texts[i], widths[i], t->columns[i]->flags,
				   i + 1 == t->n_columns);
	}
	fputc('\n', f);
}

/*
 * Too wide for fmt.width: narrow the TABLE_TRUNC columns (no narrower than their header or
 * minimum width), as util-linux does with a terminal; the other columns keep their width.
 */
static void fit_width(const struct table *t, size_t *widths)
{
	size_t total = t->n_columns > 0 ? t->n_columns - 1 : 0;

	for (size_t i = 0; i < t->n_columns; i++)
		total += widths[i];
	if (t->fmt.width == 0 || t->fmt.raw || total <= t->fmt.width)
		return;
	size_t excess = total - t->fmt.width;
	for (size_t i = 0; i < t->n_columns && excess > 0; i++) {
		size_t floor = MAX(t->columns[i]->width, text_width(t->columns[i]->name));
		if (!(t->columns[i]->flags & TABLE_TRUNC) || widths[i] <= floor)
			continue;
		size_t cut = MIN(excess, widths[i] - floor);
		widths[i] -= cut;
		excess -= cut;
	}
}

int table_print(struct table *t, FILE *f, const char *json_key)
{
	if (t->fmt.json) {
		/* What json_print() prints for { json_key: [ rows ] }. */
		_cleanup_json_ json_object *key = json_object_new_string(json_key);
		if (!key)
			return -ENOMEM;
		fprintf(f, "{\n  %s: [\n", json_object_to_json_string_ext(key, JSON_FLAGS));
		if (t->json_len > 0)
			fwrite(t->json, 1, t->json_len, f);
		fputs(t->n_rows > 0 ? "\n  ]\n}\n" : "  ]\n}\n", f);
		return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
	}

	_cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof(size_t));
	_cleanup_free_ const char **headers = calloc(t->n_columns, sizeof(char *));
	if (!widths || !headers)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_columns; i++) {
		headers[i] = t->columns[i]->name;
		widths[i] = MAX(t->columns[i]->width, text_width(headers[i]));
		for (size_t row = 0; row < t->n_rows; row++)
			widths[i] = MAX(widths[i], text_width(t->cells[row * t->n_columns + i]));
	}
	fit_width(t, widths);
	if (!t->fmt.noheadings)
		print_line(t, f, headers, widths);
	for (size_t row = 0; row < t->n_rows; row++)
		print_line(t, f, (const char *const *)t->cells + row * t->n_columns, widths);
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

int table_print_record(const struct table_column *const *columns, size_t n_columns,
		       const struct table_format *fmt, const void *row, json_object *extra, FILE *f)
{
	if (fmt->json) {
		_cleanup_json_ json_object *obj = row_to_json(columns, n_columns, row);
		if (!obj)
			return -ENOMEM;
		if (extra) {
			json_object_object_foreach(extra, key, value)
				json_object_object_add(obj, key, json_object_get(value));
		}
		return json_print(obj, f);
	}

	size_t width = 0;
	for (size_t i = 0; i < n_columns; i++)
		width = MAX(width, strlen(columns[i]->label) + 1);
	for (size_t i = 0; i < n_columns; i++) {
		_cleanup_free_ char *text = columns[i]->text(row, fmt);
		if (!text)
			return -ENOMEM;
		if (fmt->raw) {
			_cleanup_free_ char *escaped = raw_escape(text);
			if (!escaped)
				return -ENOMEM;
			fprintf(f, "%s %s\n", columns[i]->name, escaped);
		} else if (fmt->noheadings) {
			fprintf(f, "%s\n", text);
		} else {
			fprintf(f, "%s:%*s %s\n", columns[i]->label,
				(int)(width - strlen(columns[i]->label) - 1), "", text);
		}
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

int json_print(json_object *obj, FILE *f)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_FLAGS);

	if (!s)
		return -ENOMEM;
	fprintf(f, "%s\n", s);
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}

char *raw_escape(const char *s)
{
	/* name_escape() handles control bytes, backslash and invalid UTF-8; add the space. */
	_cleanup_free_ char *escaped = name_escape(s);
	char *out, *o;

	if (!escaped)
		return NULL;
	out = o = malloc(strlen(escaped) * 4 + 1);
	if (!out)
		return NULL;
	for (const char *p = escaped; *p; p++) {
		if (*p == ' ')
			/* cppcheck-suppress uninitdata ; sprintf() writes *o, it never reads it */
			o += sprintf(o, "\\x20");
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

void table_columns_help(const struct table_column *all, size_t n_all, FILE *f)
{
	for (size_t i = 0; i < n_all; i++)
		fprintf(f, " %8s  %s\n", all[i].name, all[i].help);
}
