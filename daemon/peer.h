/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is calling: credentials of a connected peer and of each of its messages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct vl_reader;

/* What the kernel told us at accept time. */
struct peer {
	struct ucred cred; /* SO_PEERCRED */
	gid_t *groups;	   /* SO_PEERGROUPS: supplementary groups at connect time */
	size_t n_groups;
	const char *unit; /* interned systemd unit of the peer's pid, or NULL */
};

/* The identity one request is judged by. */
struct caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const gid_t *groups;
	size_t n_groups;
	const char *unit;
	bool admin;
};

/* Take cred (SO_PEERCRED, read by the caller), read SO_PEERGROUPS and the unit (verified
 * against SO_PEERPIDFD). The listener has SO_PASSCRED, so every message carries
 * SCM_CREDENTIALS. 0 or -errno. */
int peer_init(struct peer *p, int fd, const struct ucred *cred);
void peer_done(struct peer *p);

/*
 * The caller of the message just read: the kernel-verified SCM_CREDENTIALS of that
 * message when present (a process that changed its euid is judged by its current one),
 * else SO_PEERCRED. admin_gid < 0: no admin group.
 */
void peer_caller(const struct peer *p, const struct vl_reader *r, long admin_gid,
		 struct caller *ret);
bool caller_in_group(const struct caller *c, gid_t gid);
