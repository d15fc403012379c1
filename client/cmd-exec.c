/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exec command: open regions, place their fds at known numbers, export SHMD_FDS/SHMD_NAMES, exec. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "name.h"
#include "shmctl.h"

struct exec_args {
	int oflags;
	unsigned first_fd;
	char **names;
	int n_names;
	char **command;
};

/*
 * Split at the first "--" ourselves: getopt would lose where the names end and COMMAND starts.
 * SHMCTL_OPT_CONTINUE to go on, else the exit status.
 */
static int exec_parse(struct shmctl *s, int argc, char *argv[], struct exec_args *a)
{
	enum {
		OPT_RO = OPT_CMD_FIRST,
		OPT_FD
	};
	static const struct option options[] = {
		{ "ro", no_argument, NULL, OPT_RO },
		{ "fd", required_argument, NULL, OPT_FD },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	int dash, c, r;

	for (dash = 1; dash < argc && strcmp(argv[dash], "--") != 0; dash++)
		;
	/* Without "--", parse anyway: "exec --help" must work. */
	if (dash < argc) {
		a->command = argv + dash + 1;
		argv[dash] = NULL;
	}

	while ((c = getopt_long(dash, argv, SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
		if (c == OPT_RO) {
			a->oflags = O_RDONLY;
			continue;
		}
		if (c == OPT_FD) {
			r = parse_uint_arg(optarg, "fd number", INT_MAX / 2, &a->first_fd);
			if (r)
				return r;
			/* 0, 1 and 2 are the command's stdio; taking them would be a surprise. */
			if (a->first_fd < 3)
				return shmctl_usage_error(
					"invalid fd number '%s': must be 3 or more", optarg);
			continue;
		}
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	if (dash >= argc)
		return shmctl_usage_error("exec: missing '--' before COMMAND");
	if (!a->command[0])
		return shmctl_usage_error("exec: missing COMMAND after '--'");
	a->names = argv + optind;
	a->n_names = dash - optind;
	if (a->n_names < 1)
		return shmctl_usage_error("exec: missing argument (NAME... -- COMMAND)");
	for (int i = 0; i < a->n_names; i++) {
		r = parse_name(a->names[i], false);
		if (r)
			return r;
	}
	return SHMCTL_OPT_CONTINUE;
}

/* SHMD_FDS="3 4 5" and SHMD_NAMES with one name per line, escaped like shmctl prints them. */
static int exec_setenv(const struct exec_args *a)
{
	_cleanup_free_ char *fds = NULL, *names = NULL;
	size_t fds_len = 0, names_len = 0;
	FILE *f;

	f = open_memstream(&fds, &fds_len);
	if (!f)
		return -errno;
	for (int i = 0; i < a->n_names; i++)
		fprintf(f, "%s%u", i ? " " : "", a->first_fd + (unsigned)i);
	if (fclose(f) != 0)
		return -ENOMEM;

	f = open_memstream(&names, &names_len);
	if (!f)
		return -errno;
	for (int i = 0; i < a->n_names; i++) {
		_cleanup_free_ char *e = name_escape(a->names[i]);
		if (!e) {
			fclose(f);
			return -ENOMEM;
		}
		fprintf(f, "%s%s", i ? "\n" : "", e);
	}
	if (fclose(f) != 0)
		return -ENOMEM;

	if (setenv("SHMD_FDS", fds, 1) < 0 || setenv("SHMD_NAMES", names, 1) < 0)
		return -errno;
	return 0;
}

int cmd_exec(struct shmctl *s, int argc, char *argv[])
{
	struct exec_args a = { .oflags = O_RDWR, .first_fd = 3 };
	_cleanup_free_ int *fds = NULL;
	int r;

	r = exec_parse(s, argc, argv, &a);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	fds = calloc((size_t)a.n_names, sizeof(int));
	if (!fds)
		return shmctl_fail_errno(-ENOMEM, "cannot exec");
	r = shmctl_connect(s);
	if (r)
		return r;

	for (int i = 0; i < a.n_names; i++) {
		_cleanup_close_ int fd = -1;
		r = shmd_open(s->ctx, a.names[i], a.oflags, &fd, NULL);
		if (r < 0)
			return shmctl_fail(s, r, "open", a.names[i]);
		/* Park it above the target range, so placing one never overwrites another. */
		fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, (int)a.first_fd + a.n_names);
		if (fds[i] < 0)
			return shmctl_fail_errno(-errno, "cannot place the fd of '%s'", a.names[i]);
	}
	/* The connection is O_CLOEXEC anyway; close it now so its fd number is free too. */
	s->ctx = shmd_ctx_unref(s->ctx);

	for (int i = 0; i < a.n_names; i++) {
		int target = (int)a.first_fd + i;
		/* dup2() gives the new fd without FD_CLOEXEC: it survives execvp(). */
		if (dup2(fds[i], target) < 0)
			return shmctl_fail_errno(-errno, "cannot place the fd of '%s' at %d",
						 a.names[i], target);
		close(fds[i]);
	}
	r = exec_setenv(&a);
	if (r < 0)
		return shmctl_fail_errno(r, "cannot set the environment");

	fflush(stdout);
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): exec_parse() set it, or we returned */
	execvp(a.command[0], a.command);
	r = -errno;
	fprintf(stderr, "shmctl: cannot execute '%s': %s\n", a.command[0], strerror(-r));
	/* As env(1) and the shell: 127 if not found, 126 if found but not executable. */
	return r == -ENOENT ? 127 : 126;
}
