/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers of the preload tests: run this very program again under LD_PRELOAD against a private shmd. */
#pragma once

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* The built preload library, from $SHMD_BUILDDIR (set by make check). */
static inline const char *preload_library(void)
{
	static char path[PATH_MAX];
	const char *b = getenv("SHMD_BUILDDIR");

	snprintf(path, sizeof(path), "%s/libshmd/.libs/libshmd-preload.so", b ? b : ".");
	return path;
}

/* Run argv[0] again with "child" as argv[1], LD_PRELOAD set and SHMD_SOCKET=socket. Exit status. */
static inline int preload_rerun(const char *self, const char *mode, const char *socket)
{
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid == 0) {
		setenv("LD_PRELOAD", preload_library(), 1);
		setenv("SHMD_SOCKET", socket, 1);
		/* Under ASan the runtime must come first; the preload only adds to an ASan'd program.
		 * Appended: CI sets ASAN_OPTIONS of its own, and the last setting of a key wins. */
		char opts[1024];
		const char *old = getenv("ASAN_OPTIONS");
		snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0:detect_leaks=0",
			 old ? old : "", old && *old ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		execl("/proc/self/exe", self, mode, (char *)NULL);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		bail_out("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
