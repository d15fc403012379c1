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
	/* The unit of the last message sent by another pid (peer_message_unit()), interned. */
	const char *msg_unit;
	bool pass_pidfd; /* SO_PASSPIDFD turned on: messages carry SCM_PIDFD */
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

/*
 * The unit of the process that sent the message just read (pid, from its SCM_CREDENTIALS):
 * the unit resolved at connect when pid is the peer's, else resolved now (sd_pid_get_unit(),
 * ~30 system calls) and kept only if that process still lives afterwards. The first message
 * from another pid turns on SO_PASSPIDFD (fd is the connection), so that later ones carry
 * a pidfd of their sender; the first is checked through pidfd_open(pid). NULL: no unit.
 */
const char *peer_message_unit(struct peer *p, const struct vl_reader *r, int fd, pid_t pid);
