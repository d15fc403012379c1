/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands that make or change one region: create, open, resize, mv, rm, seal, chmod, chown. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "name.h"
#include "output.h"
#include "shmctl.h"

/* Exactly n arguments after the options, else a usage error. */
int expect_args(const struct shmctl *s, int argc, int n)
{
	if (argc < n)
		return shmctl_usage_error("%s: missing argument (%s)", s->cmd->name, s->cmd->args);
	if (argc > n)
		return shmctl_usage_error("%s: too many arguments", s->cmd->name);
	return 0;
}

/* Exactly n arguments after the options, the first a valid region name. */
static int expect_name_args(const struct shmctl *s, int argc, char **argv, int n)
{
	int r = expect_args(s, argc, n);
	return r ? r : parse_name(argv[0], false);
}

/* After a change: print the region with --json, stay silent otherwise (like chmod(1)). */
static int changed(const struct shmctl *s, const struct shmd_region *region)
{
	return s->json ? print_region(s, region, NULL) : 0;
}

static const struct option global_only_options[] = { SHMCTL_GLOBAL_LONGOPTS, {} };

/* Parse only the global options; for commands without options of their own. */
int parse_global_only(struct shmctl *s, int argc, char *argv[])
{
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS, global_only_options, NULL)) !=
	       -1) {
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	return SHMCTL_OPT_CONTINUE;
}

int cmd_create(struct shmctl *s, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "fixed", no_argument, NULL, 'f' },
		{ "seal", required_argument, NULL, 's' },
		{ "open-existing", no_argument, NULL, 'e' },
		{ "prealloc", no_argument, NULL, 'P' },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	static const char shortopts[] = SHMCTL_GLOBAL_SHORTOPTS "m:fs:eP";
	_cleanup_region_ struct shmd_region *region = NULL;
	_cleanup_json_ json_object *extra = NULL;
	_cleanup_free_ char **args = NULL;
	unsigned flags = 0, seals = 0;
	mode_t mode = 0600;
	uint64_t size;
	bool created;
	int c, r;

	/* "create NAME -1" reaches parse_size_arg(), not getopt's "invalid option -- '1'". */
	r = negative_operands_last(&argc, &argv, shortopts, options, &args);
	if (r)
		return r;
	while ((c = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		switch (c) {
		case 'm':
			r = parse_mode_arg(optarg, &mode);
			break;
		case 'f':
			flags |= SHMD_CREATE_FIXED;
			continue;
		case 's':
			r = parse_seals_arg(optarg, &seals);
			break;
		case 'e':
			flags |= SHMD_CREATE_OPEN_EXISTING;
			continue;
		case 'P':
			flags |= SHMD_CREATE_PREALLOC;
			continue;
		default:
			r = shmctl_global_option(s, c, optarg);
			if (r == SHMCTL_OPT_CONTINUE)
				continue;
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
		}
		if (r)
			return r;
	}
	argc -= optind;
	argv += optind;
	r = expect_name_args(s, argc, argv, 2);
	if (r)
		return r;
	r = parse_size_arg(argv[1], "size", &size);
	if (r)
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_create(s->ctx, argv[0], size, mode, flags, seals, NULL, &region, &created);
	if (r < 0)
		return shmctl_fail(s, r, "create", argv[0]);
	if (!s->json)
		return 0;
	extra = json_object_new_object();
	if (!extra)
		return shmctl_fail_errno(-ENOMEM, "cannot print");
	/* Not "created": that key is the creation time (a string) in every region object. */
	json_object_object_add(extra, "createdNow", json_object_new_boolean(created));
	return print_region(s, region, extra);
}

int cmd_open(struct shmctl *s, int argc, char *argv[])
{
	enum {
		OPT_RO = OPT_CMD_FIRST
	};
	static const struct option options[] = {
		{ "ro", no_argument, NULL, OPT_RO },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	_cleanup_region_ struct shmd_region *region = NULL;
	_cleanup_close_ int fd = -1;
	int oflags = O_RDWR;
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
		if (c == OPT_RO) {
			oflags = O_RDONLY;
			continue;
		}
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	argc -= optind;
	argv += optind;
	r = expect_name_args(s, argc, argv, 1);
	if (r)
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	/* Opening checks access the way a program using the region would; the fd is then dropped. */
	r = shmd_open(s->ctx, argv[0], oflags, &fd, &region);
	if (r < 0)
		return shmctl_fail(s, r, "open", argv[0]);
	return print_region(s, region, NULL);
}

int cmd_resize(struct shmctl *s, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	static const char shortopts[] = SHMCTL_GLOBAL_SHORTOPTS "f";
	_cleanup_region_ struct shmd_region *region = NULL;
	_cleanup_free_ char **args = NULL;
	unsigned flags = 0;
	uint64_t size;
	int c, r;

	r = negative_operands_last(&argc, &argv, shortopts, options, &args);
	if (r)
		return r;
	while ((c = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		if (c == 'f') {
			flags |= SHMD_RESIZE_FORCE;
			continue;
		}
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	argc -= optind;
	argv += optind;
	r = expect_name_args(s, argc, argv, 2);
	if (r)
		return r;
	r = parse_size_arg(argv[1], "size", &size);
	if (r)
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_resize(s->ctx, argv[0], size, flags);
	if (r == -EFBIG && !(flags & SHMD_RESIZE_FORCE)) {
		/* libshmd's message ends "needs force" (SHMD_RESIZE_FORCE): name our option there. */
		static const char needs[] = " needs force";
		_cleanup_free_ char *escaped = name_escape(argv[0]);
		const char *message = shmd_ctx_get_error_message(s->ctx);
		size_t len = message ? strlen(message) : 0;

		if (len >= strlen(needs) && strcmp(message + len - strlen(needs), needs) == 0)
			fprintf(stderr, "shmctl: cannot resize '%s': %.*s needs --force\n",
				escaped ? escaped : argv[0], (int)(len - strlen(needs)), message);
		else
			fprintf(stderr, "shmctl: cannot resize '%s': %s; use --force\n",
				escaped ? escaped : argv[0], message ? message : strerror(-r));
		return shmctl_exit_status(r);
	}
	if (r < 0)
		return shmctl_fail(s, r, "resize", argv[0]);
	if (!s->json)
		return 0;
	r = shmd_stat(s->ctx, argv[0], &region);
	if (r < 0)
		return shmctl_fail(s, r, "stat", argv[0]);
	return changed(s, region);
}

int cmd_mv(struct shmctl *s, int argc, char *argv[])
{
	enum {
		OPT_REPLACE = OPT_CMD_FIRST
	};
	static const struct option options[] = {
		{ "replace", no_argument, NULL, OPT_REPLACE },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	_cleanup_region_ struct shmd_region *region = NULL;
	unsigned flags = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
		if (c == OPT_REPLACE) {
			flags |= SHMD_RENAME_REPLACE;
			continue;
		}
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	argc -= optind;
	argv += optind;
	r = expect_args(s, argc, 2);
	if (r)
		return r;
	r = parse_name(argv[0], false);
	if (!r)
		r = parse_name(argv[1], false);
	if (r)
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_rename(s->ctx, argv[0], argv[1], flags);
	if (r < 0)
		return shmctl_fail(s, r, "rename", argv[0]);
	if (!s->json)
		return 0;
	r = shmd_stat(s->ctx, argv[1], &region);
	if (r < 0)
		return shmctl_fail(s, r, "stat", argv[1]);
	return changed(s, region);
}

int cmd_rm(struct shmctl *s, int argc, char *argv[])
{
	int status = 0, r;

	r = parse_global_only(s, argc, argv);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return shmctl_usage_error("rm: missing argument (NAME...)");

	r = shmctl_connect(s);
	if (r)
		return r;
	/* Like rm(1) and ipcrm(1): go on past a failure, and report the first one's status. */
	for (int i = 0; i < argc; i++) {
		r = parse_name(argv[i], false);
		if (!r) {
			r = shmd_delete(s->ctx, argv[i]);
			if (r < 0)
				r = shmctl_fail(s, r, "remove", argv[i]);
		}
		if (r && !status)
			status = r;
	}
	return status;
}

/*
 * The shape of seal, chmod and chown: parse globals, two arguments, one call, print with --json.
 * SHMCTL_OPT_CONTINUE to go on, else the exit status.
 */
static int set_common(struct shmctl *s, int argc, char *argv[], const char **ret_arg,
		      const char **ret_name)
{
	/* Only the array is copied: the strings returned stay the caller's. */
	_cleanup_free_ char **args = NULL;
	int r;

	/* "chown -1 NAME" reaches parse_owner_arg(), not getopt's "invalid option -- '1'". */
	r = negative_operands_last(&argc, &argv, SHMCTL_GLOBAL_SHORTOPTS, global_only_options,
				   &args);
	if (r)
		return r;
	r = parse_global_only(s, argc, argv);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	argc -= optind;
	argv += optind;
	r = expect_args(s, argc, 2);
	if (r)
		return r;
	*ret_arg = argv[0];
	*ret_name = argv[1];
	return SHMCTL_OPT_CONTINUE;
}

static int stat_and_print(struct shmctl *s, const char *name)
{
	_cleanup_region_ struct shmd_region *region = NULL;
	int r;

	if (!s->json)
		return 0;
	r = shmd_stat(s->ctx, name, &region);
	if (r < 0)
		return shmctl_fail(s, r, "stat", name);
	return changed(s, region);
}

int cmd_seal(struct shmctl *s, int argc, char *argv[])
{
	const char *name = NULL, *list = NULL;
	unsigned seals;
	int r;

	/* "seal NAME SEALS": the name comes first here, unlike chmod and chown. */
	r = set_common(s, argc, argv, &name, &list);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = parse_name(name, false);
	if (!r)
		r = parse_seals_arg(list, &seals);
	if (r)
		return r;
	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_seal(s->ctx, name, seals);
	if (r < 0)
		return shmctl_fail(s, r, "seal", name);
	return stat_and_print(s, name);
}

int cmd_chmod(struct shmctl *s, int argc, char *argv[])
{
	const char *arg = NULL, *name = NULL;
	mode_t mode;
	int r;

	r = set_common(s, argc, argv, &arg, &name);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = parse_mode_arg(arg, &mode);
	if (!r)
		r = parse_name(name, false);
	if (r)
		return r;
	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_set_access(s->ctx, name, mode, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		return shmctl_fail(s, r, "change mode of", name);
	return stat_and_print(s, name);
}

int cmd_chown(struct shmctl *s, int argc, char *argv[])
{
	const char *arg = NULL, *name = NULL;
	uid_t uid;
	gid_t gid;
	int r;

	r = set_common(s, argc, argv, &arg, &name);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	r = parse_owner_arg(arg, &uid, &gid);
	if (!r)
		r = parse_name(name, false);
	if (r)
		return r;
	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_set_access(s->ctx, name, (mode_t)-1, uid, gid);
	if (r < 0)
		return shmctl_fail(s, r, "change owner of", name);
	return stat_and_print(s, name);
}
