/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands that show regions: ls (a column table) and stat (one region, every detail). */

#include <getopt.h>
#include <stdio.h>

#include "columns.h"
#include "macro.h"
#include "output.h"
#include "ranges-cli.h"
#include "shmctl.h"

static void tablep(struct table **t)
{
	table_free(*t);
}

static void listp(struct shmd_list **l)
{
	shmd_list_free(*l);
}

/* ls's options: the global ones, --ranges and --deleted. SHMCTL_OPT_CONTINUE or an exit status. */
static int ls_options(struct shmctl *s, int argc, char *argv[], bool *ranges, bool *deleted)
{
	enum {
		OPT_RANGES = OPT_CMD_FIRST,
		OPT_DELETED,
	};
	static const struct option options[] = {
		{ "ranges", no_argument, NULL, OPT_RANGES },
		{ "deleted", no_argument, NULL, OPT_DELETED },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
		if (c == OPT_RANGES || c == OPT_DELETED) {
			*(c == OPT_RANGES ? ranges : deleted) = true;
			continue;
		}
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	return SHMCTL_OPT_CONTINUE;
}

/* The table: regions (footprint only when a column shows it), or with --ranges their ranges. */
static int ls_table(struct shmctl *s, bool ranges, struct table **ret, unsigned *ret_flags)
{
	_cleanup_free_ const struct table_column **cols = NULL;
	struct table_format fmt;
	size_t n_cols = 0;
	int r;

	if (ranges)
		return ranges_table_new(s, ret);
	r = region_columns_select(REGION_COLUMNS_LS, s->output, &cols, &n_cols);
	if (r)
		return r;
	if (region_columns_need_footprint(cols, n_cols))
		*ret_flags |= SHMD_LIST_FOOTPRINT;
	fmt = shmctl_table_format(s);
	*ret = table_new(cols, n_cols, &fmt);
	return *ret ? 0 : shmctl_fail_errno(-ENOMEM, "cannot list");
}

int cmd_ls(struct shmctl *s, int argc, char *argv[])
{
	_cleanup_(tablep) struct table *t = NULL;
	_cleanup_(listp) struct shmd_list *list = NULL;
	char *prefix = NULL;
	bool ranges = false, deleted = false;
	unsigned flags = 0;
	int r;

	r = ls_options(s, argc, argv, &ranges, &deleted);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return shmctl_usage_error("%s: too many arguments", s->cmd->name);
	if (argc == 1) {
		prefix = argv[0];
		r = parse_name(prefix, true);
		if (r)
			return r;
	}
	r = ls_table(s, ranges, &t, &flags);
	if (r)
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	if (deleted)
		flags |= SHMD_LIST_DELETED;
	r = shmd_list_flags(s->ctx, prefix, flags, &list);
	if (r < 0)
		return shmctl_fail(s, r, "list", prefix);
	for (;;) {
		_cleanup_region_ struct shmd_region *region = NULL;
		r = shmd_list_next(list, &region);
		if (r < 0)
			return shmctl_fail(s, r, "list", prefix);
		if (r == 0)
			break;
		r = ranges ? ranges_add_region(t, region) : table_add(t, region);
		if (r < 0)
			return shmctl_fail_errno(r, "cannot list");
	}
	r = table_print(t, stdout, ranges ? "ranges" : "regions");
	if (r < 0)
		return shmctl_fail_errno(r, "write error");
	return 0;
}

int cmd_stat(struct shmctl *s, int argc, char *argv[])
{
	_cleanup_region_ struct shmd_region *region = NULL;
	int r;

	r = parse_global_only(s, argc, argv);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	argc -= optind;
	argv += optind;
	r = expect_args(s, argc, 1);
	if (!r)
		r = parse_name(argv[0], false);
	if (r)
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_stat_footprint(s->ctx, argv[0], &region);
	if (r < 0)
		return shmctl_fail(s, r, "stat", argv[0]);
	if (s->json) {
		_cleanup_json_ json_object *parts = NULL, *extra = json_object_new_object();
		r = ranges_stat(s, argv[0], region, &parts);
		if (r)
			return r;
		if (!extra)
			return shmctl_fail_errno(-ENOMEM, "cannot print");
		if (parts)
			json_object_object_add(extra, "ranges", TAKE_PTR(parts));
		return print_region_with(s, region, extra, REGION_COLUMNS_STAT_FOOTPRINT);
	}
	r = print_region_with(s, region, NULL, REGION_COLUMNS_STAT_FOOTPRINT);
	return r ? r : ranges_stat(s, argv[0], region, NULL);
}
