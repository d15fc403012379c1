/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fd store: where region memfds and the state memfd are kept while no daemon runs.
 * Speaks systemd's notify protocol (FDSTORE=1 / FDSTOREREMOVE=1 with FDNAME=) to
 * $NOTIFY_SOCKET, or the same messages to the standalone supervisor's socket
 * ($SHMD_SUPERVISOR_FD, see supervisor.h). Owns one datagram socket; calls nothing else.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * systemd hands stored fds back with their names in ONE environment variable,
 * LISTEN_FDNAMES, and execve() refuses a string over MAX_ARG_STRLEN (128 KiB, E2BIG):
 * the names of everything stored must fit, or the next start cannot even exec. Kept
 * below with room for "LISTEN_FDNAMES=" and the listening sockets' names.
 */
#define FDSTORE_NAMES_BUDGET (128u * 1024 - 4096)
#define FDSTORE_NAME_MAX 16

struct fdstore {
	int fd;		   /* connected datagram socket, -1: no fd store (state off) */
	const char *where; /* "systemd" or "supervisor", for messages */
	size_t names_bytes;
	size_t names_budget; /* FDSTORE_NAMES_BUDGET; smaller in tests */
};

/* Connect to the supervisor or to systemd's notify socket. 0 (enabled or not) or -errno. */
int fdstore_open(struct fdstore *fs);
void fdstore_close(struct fdstore *fs);
static inline bool fdstore_enabled(const struct fdstore *fs)
{
	return fs->fd >= 0;
}

/* Would one more name of this length fit in LISTEN_FDNAMES? */
bool fdstore_has_room(const struct fdstore *fs, size_t name_len);
/* Store fd (a duplicate is kept there; ours stays open) under name. 0 or -errno. */
int fdstore_add(struct fdstore *fs, const char *name, int fd);
/* Remove (and close there) whatever is stored under name. 0 or -errno. */
int fdstore_remove(struct fdstore *fs, const char *name);
/* Count a name stored by the previous daemon, which we keep (restore). */
void fdstore_account(struct fdstore *fs, const char *name);

/* A region's name in the store: its id in base 62 ("0-9a-zA-Z"), the shortest that is safe. */
const char *fdstore_region_name(uint64_t id, char buf[FDSTORE_NAME_MAX]);
/* The id a region's store name stands for; 0 when name is not one. */
uint64_t fdstore_parse_region_name(const char *name);
