/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands that make or change one region: create, open, resize, mv, rm, seal, chmod, chown. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "name.h"
#include "output.h"
#include "shmctl.h"
#include "size.h"

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

/* Like ipcmk(1): say what was made (or found, with --open-existing), one line. */
static int print_created(const struct shmctl *s, const struct shmd_region *region, bool created)
{
	_cleanup_free_ char *escaped = name_escape(shmd_region_get_name(region));
	uint64_t size = shmd_region_get_size(region);
	char buf[SIZE_FORMAT_MAX];

	if (!escaped)
		return shmctl_fail_errno(-ENOMEM, "cannot print");
	if (s->bytes)
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)size);
	else
		size_format(size, buf, sizeof(buf));
	printf("%s region '%s': id %llu, size %s, mode %04o\n", created ? "created" : "existing",
	       escaped, (unsigned long long)shmd_region_get_id(region), buf,
	       (unsigned)shmd_region_get_mode(region));
	return 0;
}

/*
 * create --from FILE: the region gets the file's size and content. Seals come after the load
 * (a write seal would forbid it); if the load fails, the region just made is removed again.
 * 0 and *ret_region, or the exit status.
 */
static int create_from(struct shmctl *s, const char *name, const char *path, mode_t mode,
		       unsigned flags, unsigned seals, struct shmd_region **ret_region)
{
	_cleanup_close_ int file = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), fd = -1;
	struct stat st;
	int r;

	if (file < 0 || fstat(file, &st) < 0)
		return shmctl_fail_errno(-errno, "cannot open '%s'", path);
	if (!S_ISREG(st.st_mode))
		return shmctl_usage_error("create: '%s' is not a regular file", path);
	r = shmd_create(s->ctx, name, (uint64_t)st.st_size, mode, flags, 0, &fd, NULL, NULL);
	if (r < 0)
		return shmctl_fail(s, r, "create", name);
	r = copy_range(file, 0, fd, 0, (uint64_t)st.st_size);
	if (r < 0) {
		int status = shmctl_fail_errno(r == -ENODATA ? -EIO : r, "cannot load '%s'", path);
		(void)shmd_delete(s->ctx, name);
		return status;
	}
	if (seals && (r = shmd_seal(s->ctx, name, seals)) < 0)
		return shmctl_fail(s, r, "seal", name);
	r = shmd_stat(s->ctx, name, ret_region);
	return r < 0 ? shmctl_fail(s, r, "stat", name) : 0;
}

int cmd_create(struct shmctl *s, int argc, char *argv[])
{
	enum {
		OPT_FROM = OPT_CMD_FIRST,
		OPT_NOSPILL,
	};
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "fixed", no_argument, NULL, 'f' },
		{ "seal", required_argument, NULL, 's' },
		{ "open-existing", no_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "prealloc", no_argument, NULL, 'P' },
		{ "nospill", no_argument, NULL, OPT_NOSPILL },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	static const char shortopts[] = SHMCTL_GLOBAL_SHORTOPTS "m:fs:eqP";
	_cleanup_region_ struct shmd_region *region = NULL;
	_cleanup_json_ json_object *extra = NULL;
	_cleanup_free_ char **args = NULL;
	unsigned flags = 0, seals = 0;
	const char *from = NULL;
	mode_t mode = 0600;
	uint64_t size = 0;
	bool created = true, quiet = false;
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
		case 'q':
			quiet = true;
			continue;
		case 'P':
			flags |= SHMD_CREATE_PREALLOC;
			continue;
		case OPT_FROM:
			from = optarg;
			continue;
		case OPT_NOSPILL:
			flags |= SHMD_CREATE_NOSPILL;
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
	if (from && (flags & SHMD_CREATE_OPEN_EXISTING))
		return shmctl_usage_error("create: --from makes a new region; it cannot be "
					  "combined with --open-existing");
	if (from && argc == 2)
		return shmctl_usage_error(
			"create: --from takes the size from the file; give no SIZE");
	r = expect_name_args(s, argc, argv, from ? 1 : 2);
	if (r)
		return r;
	if (!from && (r = parse_size_arg(argv[1], "size", &size)))
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	if (from)
		r = create_from(s, argv[0], from, mode, flags, seals, &region);
	else if ((r = shmd_create(s->ctx, argv[0], size, mode, flags, seals, NULL, &region,
				  &created)) < 0)
		r = shmctl_fail(s, r, "create", argv[0]);
	if (r)
		return r;
	if (!s->json)
		return quiet ? 0 : print_created(s, region, created);
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

/* Remove one region; with force a missing region is no error (rm -f). 0 or the exit status. */
static int rm_delete(struct shmctl *s, const char *name, bool force)
{
	int r = shmd_delete(s->ctx, name);
	if (r == -ENOENT && force && shmd_ctx_get_error_name(s->ctx))
		return 0;
	return r < 0 ? shmctl_fail(s, r, "remove", name) : 0;
}

/* rm_delete() of a name argument, escapes and all. */
static int rm_one(struct shmctl *s, char *name, bool force)
{
	int r = parse_name(name, false);
	return r ? r : rm_delete(s, name, force);
}

/* The names under prefix, in the daemon's order. 0 and *ret_names (n), or the exit status. */
static int rm_collect(struct shmctl *s, const char *prefix, char ***ret_names, size_t *ret_n)
{
	_cleanup_(shmd_list_freep) struct shmd_list *list = NULL;
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	int r;

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
		char **grown = realloc(names, (n + 2) * sizeof(char *));
		if (!grown)
			return shmctl_fail_errno(-ENOMEM, "cannot list");
		names = grown;
		names[n] = strdup(shmd_region_get_name(region));
		names[n + 1] = NULL;
		if (!names[n])
			return shmctl_fail_errno(-ENOMEM, "cannot list");
		n++;
	}
	*ret_names = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

/*
 * The confirmation rule of "rm --prefix": --yes skips it; on a terminal we ask; a script
 * (stdin not a terminal) must say --yes, so that a bad prefix in a script removes nothing.
 * 0 to go on, else the exit status.
 */
static int rm_confirm(const char *prefix, size_t n)
{
	_cleanup_free_ char *escaped = name_escape(prefix);
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return shmctl_usage_error("rm: refusing to remove %zu region%s under '%s' without "
					  "--yes (standard input is not a terminal)",
					  n, n == 1 ? "" : "s", escaped ? escaped : "");
	fprintf(stderr, "shmctl: remove %zu region%s under '%s'? [y/N] ", n, n == 1 ? "" : "s",
		escaped ? escaped : "");
	if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
		fputs("shmctl: nothing removed\n", stderr);
		return SHMCTL_EXIT_FAILURE;
	}
	return 0;
}

static int rm_prefix(struct shmctl *s, const char *prefix, bool yes)
{
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	int status = 0, r;

	r = rm_collect(s, prefix, &names, &n);
	if (r)
		return r;
	if (n == 0)
		return 0;
	if (!yes) {
		r = rm_confirm(prefix, n);
		if (r)
			return r;
	}
	/* Removed meanwhile by someone else: not our failure (as with -f). */
	for (size_t i = 0; i < n; i++) {
		r = rm_delete(s, names[i], true);
		if (r && !status)
			status = r;
	}
	return status;
}

int cmd_rm(struct shmctl *s, int argc, char *argv[])
{
	enum {
		OPT_PREFIX = OPT_CMD_FIRST,
	};
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "all", no_argument, NULL, 'a' },
		{ "yes", no_argument, NULL, 'y' },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	static char all[] = "";
	char *prefix = NULL;
	bool force = false, yes = false;
	int status = 0, c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS "fay", options, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'y')
			yes = true;
		else if (c == OPT_PREFIX || c == 'a')
			prefix = c == 'a' ? all : optarg;
		else if ((r = shmctl_global_option(s, c, optarg)) != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	argc -= optind;
	argv += optind;
	if (prefix && argc > 0)
		return shmctl_usage_error("rm: give names or --prefix/--all, not both");
	if (!prefix && argc < 1)
		return shmctl_usage_error("rm: missing argument (NAME...)");
	if (prefix && (r = parse_name(prefix, true)))
		return r;

	r = shmctl_connect(s);
	if (r)
		return r;
	if (prefix)
		return rm_prefix(s, prefix, yes);
	/* Like rm(1) and ipcrm(1): go on past a failure, and report the first one's status. */
	for (int i = 0; i < argc; i++) {
		r = rm_one(s, argv[i], force);
		if (r && !status)
			status = r;
	}
	return status;
}

/*
 * The shape of seal, chmod and chown: parse globals, two arguments, one call, print with --json.
 * SHMCTL_OPT_CONTINUE to go on, else the exit status.
 */
static int set_common(struct shmctl *s, int argc, char *argv[], char **ret_arg, char **ret_name)
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
	char *name = NULL, *list = NULL;
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
	char *arg = NULL, *name = NULL;
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
	char *arg = NULL, *name = NULL;
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
