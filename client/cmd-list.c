/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands that show regions: ls (a column table) and stat (one region, every detail). */

#include <stdio.h>

#include "columns.h"
#include "macro.h"
#include "output.h"
#include "shmctl.h"

static void tablep(struct table **t)
{
	table_free(*t);
}

static void listp(struct shmd_list **l)
{
	shmd_list_free(*l);
}

int cmd_ls(struct shmctl *s, int argc, char *argv[])
{
	_cleanup_free_ const struct table_column **cols = NULL;
	_cleanup_(tablep) struct table *t = NULL;
	_cleanup_(listp) struct shmd_list *list = NULL;
	struct table_format fmt;
	char *prefix = NULL;
	size_t n_cols = 0;
	int r;

	r = parse_global_only(s, argc, argv);
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
	r = region_columns_select(REGION_COLUMNS_LS, s->output, &cols, &n_cols);
	if (r)
		return r;
	fmt = shmctl_table_format(s);
	t = table_new(cols, n_cols, &fmt);
	if (!t)
		return shmctl_fail_errno(-ENOMEM, "cannot list");

	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_list(s->ctx, prefix, &list);
	if (r < 0)
		return shmctl_fail(s, r, "list", prefix);
	for (;;) {
		_cleanup_region_ struct shmd_region *region = NULL;
		r = shmd_list_next(list, &region);
		if (r < 0)
			return shmctl_fail(s, r, "list", prefix);
		if (r == 0)
			break;
		r = table_add(t, region);
		if (r < 0)
			return shmctl_fail_errno(r, "cannot list");
	}
	r = table_print(t, stdout, "regions");
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
	r = shmd_stat(s->ctx, argv[0], &region);
	if (r < 0)
		return shmctl_fail(s, r, "stat", argv[0]);
	return print_region(s, region, NULL);
}
