/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The standalone supervisor (shmd --supervise without systemd): a small parent process
 * that owns the listening socket and an fd store, starts the serving daemon (the same
 * binary, re-executed) as its worker, and restarts it when it dies of a signal or fails,
 * handing back the socket and every stored fd the way systemd does (LISTEN_FDS,
 * LISTEN_FDNAMES). The worker stores and removes fds with systemd's notify messages
 * (FDSTORE=1 / FDSTOREREMOVE=1, FDNAME=) over a socketpair ($SHMD_SUPERVISOR_FD), so
 * the daemon has one persistence path for both (fdstore.h). Owns its fds and the worker;
 * calls only sd-event and log.
 */
#pragma once

#include <stdbool.h>

struct config;

/* True when this process is a worker started by a supervisor. */
bool supervisor_is_worker(void);

/*
 * Run the supervisor until it is told to stop (SIGTERM, SIGINT) or the worker exits
 * cleanly or fails too often. listen_fd is taken. Returns the exit status for main().
 */
int supervisor_run(const struct config *config, char **argv, int listen_fd);
