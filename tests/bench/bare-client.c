/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client side of the bare baseline server: connect, one blocking call, start and stop the server. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "bare.h"
#include "macro.h"

int bare_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

/* Take the fd out of an SCM_RIGHTS message, closing any surplus. */
static void take_fds(struct msghdr *mh, int *ret_fd)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int *fds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			if (*ret_fd < 0)
				*ret_fd = fds[i];
			else
				close(fds[i]);
		}
	}
}

/* Read until the reply's NUL; the fd arrives with its first byte. */
static int read_reply(int fd, char *buf, size_t cap, int *ret_fd)
{
	size_t len = 0;

	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 4)];
		} control;
		struct iovec iov = { .iov_base = buf + len, .iov_len = cap - len };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = &control,
			.msg_controllen = sizeof(control),
		};
		/* Sleep in poll(), as libshmd does: recvmsg() would also wake for EPOLLOUT. */
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		(void)poll(&pfd, 1, -1);
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -ECONNRESET;
		take_fds(&mh, ret_fd);
		len += (size_t)n;
		if (memchr(buf, 0, len))
			return 0;
		if (len == cap)
			return -EMSGSIZE;
	}
}

int bare_call(int fd, enum bare_op op, uint64_t size, const char *name, int *ret_fd)
{
	char req[BARE_MAX_REQUEST], rep[64];
	int got = -1, r, len, err;

	len = snprintf(req, sizeof(req), "%c %llu %s", (char)op, (unsigned long long)size, name);
	if (len < 0 || (size_t)len >= sizeof(req))
		return -ENAMETOOLONG;
	if (send(fd, req, (size_t)len + 1, MSG_NOSIGNAL) != len + 1)
		return negative_errno();
	r = read_reply(fd, rep, sizeof(rep), &got);
	if (r == 0 && sscanf(rep, "error %d", &err) == 1)
		r = -err;
	else if (r == 0 && strcmp(rep, "ok") != 0)
		r = -EPROTO;
	if (r < 0 || !ret_fd)
		safe_close(got);
	else
		*ret_fd = got;
	return r;
}

pid_t bare_server_start(const char *bin, const char *path)
{
	pid_t pid = fork();

	if (pid < 0)
		return negative_errno();
	if (pid == 0) {
		execl(bin, bin, path, (char *)NULL);
		fprintf(stderr, "bench: cannot run %s: %m\n", bin);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
		int fd = bare_connect(path);

		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ESRCH;
		nanosleep(&ts, NULL);
	}
	bare_server_stop(pid);
	return -ETIMEDOUT;
}

void bare_server_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}
