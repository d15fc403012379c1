/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing one region the way the global options ask (stat, open, and --json after changes). */

#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "columns.h"
#include "macro.h"
#include "output.h"

/* The terminal's width: $COLUMNS, else TIOCGWINSZ; 0 (no limit) when stdout is no terminal. */
static size_t terminal_width(void)
{
	struct winsize ws = {};
	const char *env = getenv("COLUMNS");
	char *end = NULL;
	unsigned long v;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (env && (v = strtoul(env, &end, 10)) > 0 && *end == '\0' && v < 100000)
		return v;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

struct table_format shmctl_table_format(const struct shmctl *s)
{
	return (struct table_format){
		.json = s->json,
		.raw = s->raw,
		.noheadings = s->noheadings,
		.bytes = s->bytes,
		.width = s->notruncate ? 0 : terminal_width(),
	};
}

int print_region(const struct shmctl *s, const struct shmd_region *region, json_object *extra)
{
	return print_region_with(s, region, extra, REGION_COLUMNS_STAT);
}

int print_region_with(const struct shmctl *s, const struct shmd_region *region, json_object *extra,
		      const char *defaults)
{
	_cleanup_free_ const struct table_column **cols = NULL;
	struct table_format fmt = shmctl_table_format(s);
	size_t n = 0;
	int r;

	r = region_columns_select(defaults, s->output, &cols, &n);
	if (r)
		return r;
	r = table_print_record(cols, n, &fmt, region, extra, stdout);
	if (r < 0)
		return shmctl_fail_errno(r, "write error");
	return 0;
}
