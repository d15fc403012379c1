/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who is calling: credentials of a connected peer and of each of its messages. */

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "intern.h"
#include "log.h"
#include "peer.h"
#include "varlink.h"

static int read_groups(struct peer *p, int fd)
{
	gid_t few[32];
	socklen_t len = sizeof(few);

	/* Most peers have few groups: one call. More report the size needed (ERANGE). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, few, &len) == 0) {
		if (len == 0)
			return 0;
		p->groups = malloc(len);
		if (!p->groups)
			return -ENOMEM;
		memcpy(p->groups, few, len);
		p->n_groups = len / sizeof(gid_t);
		return 0;
	}
	if (errno != ERANGE || len == 0)
		return 0;
	p->groups = malloc(len);
	if (!p->groups)
		return -ENOMEM;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) < 0) {
		free(p->groups);
		p->groups = NULL;
		return negative_errno();
	}
	p->n_groups = len / sizeof(gid_t);
	return 0;
}

/* The unit of the peer's pid, kept only if the pidfd shows the same process still lives. */
static void read_unit(struct peer *p, int fd)
{
	_cleanup_free_ char *unit = NULL;
	_cleanup_close_ int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0) {
		pidfd = -1;
		if (errno != ENOPROTOOPT)
			log_debug("SO_PEERPIDFD: %m");
	}
	if (p->cred.pid <= 0 || sd_pid_get_unit(p->cred.pid, &unit) < 0)
		return;
	/*
	 * The pid may have been recycled between connect() and the lookup above: ESRCH says the
	 * process is gone. EPERM says it lives: signal 0 to another uid needs CAP_KILL, which
	 * the daemon drops (every client of another user would lose its unit).
	 */
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno != EPERM)
		return;
	p->unit = intern_ref(unit);
}

int peer_init(struct peer *p, int fd, const struct ucred *cred)
{
	/*
	 * The caller read SO_PEERCRED already (for the connection limits); SO_PASSCRED is
	 * inherited from the listener (server_add_listener()).
	 */
	*p = (struct peer){ .cred = *cred };
	int r = read_groups(p, fd);
	if (r < 0)
		return r;
	read_unit(p, fd);
	return 0;
}

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

const char *peer_message_unit(struct peer *p, const struct vl_reader *r, int fd, pid_t pid)
{
	_cleanup_free_ char *unit = NULL;
	_cleanup_close_ int own = -1;
	int pidfd, one = 1;

	if (pid <= 0 || pid == p->cred.pid)
		return p->unit;
	if (!p->pass_pidfd && setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one)) == 0)
		p->pass_pidfd = true;
	/* The message's own pidfd pins its sender; else a pidfd of the pid as it is now. */
	if (r->have_pidfd)
		pidfd = r->pidfd;
	else {
		own = (int)syscall(SYS_pidfd_open, pid, 0);
		pidfd = own;
	}
	if (pidfd < 0 || sd_pid_get_unit(pid, &unit) < 0)
		return NULL;
	/* Exited meanwhile: the pid may name another process by now. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return NULL;
	if (!p->msg_unit || strcmp(p->msg_unit, unit) != 0) {
		intern_unref(p->msg_unit);
		p->msg_unit = intern_ref(unit);
	}
	return p->msg_unit;
}

void peer_done(struct peer *p)
{
	free(p->groups);
	intern_unref(p->unit);
	intern_unref(p->msg_unit);
	*p = (struct peer){};
}

void peer_caller(const struct peer *p, const struct vl_reader *r, long admin_gid,
		 struct caller *ret)
{
	*ret = (struct caller){
		.uid = p->cred.uid,
		.gid = p->cred.gid,
		.pid = p->cred.pid,
		.groups = p->groups,
		.n_groups = p->n_groups,
		.unit = p->unit,
	};
	if (r->have_cred) {
		ret->uid = r->cred.uid;
		ret->gid = r->cred.gid;
		if (r->cred.pid > 0)
			ret->pid = r->cred.pid;
		/* Supplementary groups are from connect time: do not lend them to another uid. */
		if (r->cred.uid != p->cred.uid) {
			ret->groups = NULL;
			ret->n_groups = 0;
		}
	}
	ret->admin = ret->uid == 0 || (admin_gid >= 0 && caller_in_group(ret, (gid_t)admin_gid));
}

bool caller_in_group(const struct caller *c, gid_t gid)
{
	if (c->gid == gid)
		return true;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}
