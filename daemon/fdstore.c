/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fd store: FDSTORE=1 / FDSTOREREMOVE=1 to systemd or to the standalone supervisor. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdstore.h"
#include "macro.h"

static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const char *fdstore_region_name(uint64_t id, char buf[FDSTORE_NAME_MAX])
{
	char *p = buf + FDSTORE_NAME_MAX;

	*--p = '\0';
	do
		*--p = digits[id % 62];
	while ((id /= 62) && p > buf);
	return p;
}

uint64_t fdstore_parse_region_name(const char *name)
{
	uint64_t id = 0;

	if (!*name || strlen(name) > 11)
		return 0;
	for (const char *s = name; *s; s++) {
		const char *d = strchr(digits, *s);
		uint64_t v = d ? (uint64_t)(d - digits) : 0;
		if (!d || id > (UINT64_MAX - v) / 62)
			return 0;
		id = id * 62 + v;
	}
	return id;
}

/* systemd's $NOTIFY_SOCKET: a path, or "@name" for the abstract namespace. */
static int connect_notify_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len < 2 || len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	/* Blocking: a full queue waits for systemd rather than lose a region's fd. */
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

int fdstore_open(struct fdstore *fs)
{
	const char *sup = getenv("SHMD_SUPERVISOR_FD");
	const char *notify = getenv("NOTIFY_SOCKET");

	*fs = (struct fdstore){ .fd = -1, .names_budget = FDSTORE_NAMES_BUDGET };
#ifdef SHMD_FAULT_INJECTION
	/* Test builds: a budget small enough for a test to reach. */
	const char *budget = getenv("SHMD_TEST_NAMES_BUDGET");
	if (budget)
		fs->names_budget = strtoul(budget, NULL, 10);
#endif
	if (sup) {
		char *end;
		long fd = strtol(sup, &end, 10);
		if (*end || fd < 3 || fd > 1 << 20)
			return -EINVAL;
		fs->fd = (int)fd;
		fs->where = "supervisor";
		unsetenv("SHMD_SUPERVISOR_FD");
		return 0;
	}
	if (!notify)
		return 0;
	int fd = connect_notify_socket(notify);
	if (fd < 0)
		return fd;
	fs->fd = fd;
	fs->where = "systemd";
	return 0;
}

void fdstore_close(struct fdstore *fs)
{
	fs->fd = safe_close(fs->fd);
}

bool fdstore_has_room(const struct fdstore *fs, size_t name_len)
{
	return fs->names_bytes + name_len + 1 <= fs->names_budget;
}

void fdstore_account(struct fdstore *fs, const char *name)
{
	fs->names_bytes += strlen(name) + 1;
}

static int send_notify(struct fdstore *fs, const char *msg, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control = { 0 };
	struct iovec iov = { (void *)msg, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(fs->fd, &mh, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return negative_errno();
	}
}

int fdstore_add(struct fdstore *fs, const char *name, int fd)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s\nFDPOLL=0", name);

	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EINVAL;
	int r = send_notify(fs, msg, (size_t)n, fd);
	if (r >= 0)
		fs->names_bytes += strlen(name) + 1;
	return r;
}

int fdstore_remove(struct fdstore *fs, const char *name)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);

	if (n < 0 || (size_t)n >= sizeof(msg))
		return -EINVAL;
	int r = send_notify(fs, msg, (size_t)n, -1);
	if (r >= 0 && fs->names_bytes >= strlen(name) + 1)
		fs->names_bytes -= strlen(name) + 1;
	return r;
}
