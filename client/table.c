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
	const struct table_column *const *columns;
	size_t n_columns;
	struct table_format fmt;
	char **cells; /* n_rows * n_columns, row-major */
	size_t n_rows;
	size_t allocated;
	json_object *rows; /* with fmt.json */
};

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
	t->columns = columns;
	t->n_columns = n_columns;
	t->fmt = *fmt;
	if (fmt->json) {
		t->rows = json_object_new_array();
		if (!t->rows)
			return table_free(t);
	}
	return t;
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	json_object_put(t->rows);
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

int table_add(struct table *t, const void *row)
{
	if (t->fmt.json) {
		json_object *obj = row_to_json(t->columns, t->n_columns, row);
		if (!obj)
			return -ENOMEM;
		return json_object_array_add(t->rows, obj) < 0 ? -ENOMEM : 0;
	}

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

static void print_cell(FILE *f, const char *text, size_t width, unsigned flags, bool last)
{
	size_t pad = width - MIN(width, text_width(text));

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

int table_print(struct table *t, FILE *f, const char *json_key)
{
	if (t->fmt.json) {
		_cleanup_json_ json_object *top = json_object_new_object();
		if (!top)
			return -ENOMEM;
		json_object_object_add(top, json_key, json_object_get(t->rows));
		return json_print(top, f);
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
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE);

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
