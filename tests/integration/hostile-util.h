/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the hostile-client tests: clients that hold on as another uid, fd and memory counts. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "proto-util.h"

/*
 * A child process, running as uid/gid, that does setup(arg) (which returns a number, e.g.
 * how many connections it holds), then holds whatever it opened until told to finish,
 * when it runs finish(arg) (may be NULL) and exits.
 */
struct holder {
	pid_t pid;
	int ctl; /* socket to the child */
};

/* Fork the child; the result of its setup, or -1 if it failed. Bails out on fork errors. */
long holder_start(struct holder *h, uid_t uid, gid_t gid, long (*setup)(void *arg),
		  long (*finish)(void *arg), void *arg);
/* Tell it to finish: the result of finish (0 without one), or -1 if it failed. */
long holder_finish(struct holder *h);
/* Kill it (SIGKILL) and reap it. */
void holder_kill(struct holder *h);

/* Every fd of pid (whatever it is), or -errno. */
int count_all_fds(pid_t pid);
/* The resident set of pid, in KiB, or -1. */
long rss_kib(pid_t pid);
/* Whether pid's fds (test_count_fds()) return to want within a few seconds, after a round trip. */
bool fds_back_to(int conn, pid_t pid, int want);
/* Root, or skip every test with a reason; false when skipped. */
bool need_root(void);
