/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the libshmd tests: a private daemon with a context on it, child results. */
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmd.h"
#include "testlib.h"

/* Start a private daemon (extra args may be NULL) and a context on it; bail out on failure. */
static inline struct shmd_ctx *start_daemon_ctx(struct test_daemon *d, const char *const *args)
{
	int r = test_daemon_start(d, args);
	if (r < 0)
		bail_out("cannot start shmd: %s", strerror(-r));
	struct shmd_ctx *ctx = shmd_ctx_new(d->socket);
	if (!ctx)
		bail_out("shmd_ctx_new: out of memory");
	return ctx;
}

/*
 * Run fn in a child and return what it returned (0..255 through the exit
 * status), or -1 if it died. Children report through their exit status only:
 * TAP lines are the parent's.
 */
static inline int run_in_child(int (*fn)(void *), void *userdata)
{
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn(userdata) & 0xff);
	int status;
	if (waitpid(pid, &status, 0) < 0)
		bail_out("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return -WTERMSIG(status) - 1000;
	return WEXITSTATUS(status);
}
