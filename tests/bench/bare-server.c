/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bare baseline server: the physical floor of shmd's request path. Same socket
 * type (AF_UNIX stream), same framing shape (NUL-terminated request, reply with an
 * fd by SCM_RIGHTS), same single-threaded epoll loop, but no registry, no JSON, no
 * credentials, no policy. Usage: bare-server SOCKET-PATH (stop it with SIGTERM).
 */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "bare.h"
#include "macro.h"

/* A region the server keeps: BARE_CREATE_KEEP's own description, BARE_CREATE_HOLD's watch. */
struct kept {
	int fd;
	int wd; /* 0: not watched */
};

struct conn {
	int fd;
	/* What Create keeps until a Delete takes the latest back, as shmd's registry does. */
	struct kept *kept;
	size_t n_kept, cap_kept;
	size_t len;
	char buf[BARE_MAX_REQUEST * 2];
};

static int held_fd = -1;     /* the one memfd that Open re-opens */
static int proc_fd_dir = -1; /* /proc/self/fd, O_PATH: as shmd re-opens */
static char held_name[16];   /* N of /proc/self/fd/N */
static int watched_fd = -1;  /* BARE_OPEN_HOLD's memfd, watched by inotify */
static int *many_fds;	     /* BARE_PREPARE_MANY's memfds, each watched */
static size_t n_many;
static int inotify_fd = -1; /* holder tracking's events (BARE_CREATE_HOLD) */
static char inotify_tag;    /* its epoll tag */

#define HOLD_EVENTS (IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)

/* One read of the queued events, as shmd's holdtrack_sync() (they are not looked at). */
static void read_events(void)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	(void)!read(inotify_fd, buf, sizeof(buf));
}

/* An audit line of shmd's length (~72 bytes) to stderr, one write() as shmd's batch. */
static void audit(const char *what, int conn_fd)
{
	char line[128];
	int len = snprintf(line, sizeof(line),
			   "bare: audit: %s 'bench/lat/1/18' by uid 0 gid 0 pid %d unit -: ok\n",
			   what, conn_fd);
	(void)!write(STDERR_FILENO, line, (size_t)len);
}

static int reply(int fd, int err, int pass_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	char text[32];
	int len = err ? snprintf(text, sizeof(text), "error %d", err) :
			snprintf(text, sizeof(text), "ok");
	struct iovec iov = { .iov_base = text, .iov_len = (size_t)len + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = &control;
		mh.msg_controllen = sizeof(control);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	/* Clients are synchronous and replies are tiny: the socket buffer always has room. */
	return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

/* Keep fd (and its watch) until a Delete; out of memory, let it go at once. */
static void keep(struct conn *c, int fd, int wd)
{
	if (c->n_kept == c->cap_kept) {
		size_t cap = c->cap_kept ? c->cap_kept * 2 : 16;
		struct kept *k = reallocarray(c->kept, cap, sizeof(*k));
		if (!k) {
			if (wd > 0)
				(void)inotify_rm_watch(inotify_fd, wd);
			safe_close(fd);
			return;
		}
		c->kept = k;
		c->cap_kept = cap;
	}
	c->kept[c->n_kept++] = (struct kept){ fd, wd };
}

static void drop_all(struct conn *c)
{
	while (c->n_kept > 0) {
		struct kept *k = &c->kept[--c->n_kept];
		if (k->wd > 0)
			(void)inotify_rm_watch(inotify_fd, k->wd);
		safe_close(k->fd);
	}
	free(c->kept);
}

/* memfd_create + ftruncate + fchmod + reply; then a description of our own, kept. */
static int create_keep(struct conn *c, unsigned long long size)
{
	_cleanup_close_ int out = memfd_create("bare", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char name[16];

	if (out < 0 || ftruncate(out, (off_t)size) < 0 || fchmod(out, 0600) < 0)
		return reply(c->fd, errno, -1);
	int r = reply(c->fd, 0, out);
	snprintf(name, sizeof(name), "%d", out);
	keep(c, openat(proc_fd_dir, name, O_RDWR | O_CLOEXEC), 0);
	return r;
}

/* BARE_CREATE_KEEP's work with holder tracking's and the audit's, in shmd's order. */
static int create_hold(struct conn *c, unsigned long long size)
{
	_cleanup_close_ int own = memfd_create("bare", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	_cleanup_close_ int out = -1;
	char name[16], path[64];
	struct stat st;
	int wd;

	if (own < 0 || ftruncate(own, (off_t)size) < 0 || fchmod(own, 0600) < 0 ||
	    fstat(own, &st) < 0)
		return reply(c->fd, errno, -1);
	snprintf(name, sizeof(name), "%d", own);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", own);
	wd = inotify_add_watch(inotify_fd, path, HOLD_EVENTS);
	if (wd < 0)
		return reply(c->fd, errno, -1);
	out = openat(proc_fd_dir, name, O_RDWR | O_CLOEXEC);
	if (out < 0) {
		int err = errno;
		(void)inotify_rm_watch(inotify_fd, wd);
		return reply(c->fd, err, -1);
	}
	read_events(); /* the creator's IN_OPEN */
	int r = reply(c->fd, 0, out);
	out = safe_close(out);
	keep(c, TAKE_FD(own), wd);
	audit("Create", c->fd);
	return r;
}

/* The re-open of one watched memfd, its IN_OPEN read at once, the reply. */
static int open_hold(int conn_fd, int memfd, int flags)
{
	_cleanup_close_ int out = -1;
	char name[16];

	snprintf(name, sizeof(name), "%d", memfd);
	out = openat(proc_fd_dir, name, flags | O_CLOEXEC);
	if (out < 0)
		return reply(conn_fd, errno, -1);
	read_events(); /* the handout's IN_OPEN */
	return reply(conn_fd, 0, out);
}

static int watched_memfd(off_t size)
{
	_cleanup_close_ int fd = memfd_create("bare-watched", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char path[64];

	if (fd < 0 || ftruncate(fd, size) < 0)
		return negative_errno();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (inotify_add_watch(inotify_fd, path, HOLD_EVENTS) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

static int prepare_many(int conn_fd, unsigned long long n)
{
	int *fds = n < 1000000 ? calloc(n, sizeof(int)) : NULL;

	if (!fds || n_many)
		return free(fds), reply(conn_fd, fds ? EEXIST : EINVAL, -1);
	for (size_t i = 0; i < n; i++) {
		fds[i] = watched_memfd(4096);
		if (fds[i] < 0) {
			int err = -fds[i];
			while (i--)
				close(fds[i]);
			free(fds);
			return reply(conn_fd, err, -1);
		}
	}
	many_fds = fds;
	n_many = n;
	return reply(conn_fd, 0, -1);
}

/*
 * Delete (of the latest kept): reply, the queued events, unwatch and close our own, audit
 * (shmd's order).
 */
static int delete (struct conn *c)
{
	int r = reply(c->fd, 0, -1);

	if (c->n_kept == 0)
		return r;
	struct kept k = c->kept[--c->n_kept];
	if (k.wd <= 0) {
		safe_close(k.fd);
		return r;
	}
	read_events();
	(void)inotify_rm_watch(inotify_fd, k.wd);
	safe_close(k.fd);
	audit("Delete", c->fd);
	return r;
}

static int handle(struct conn *c, const char *msg)
{
	unsigned long long size = 0;
	_cleanup_close_ int out = -1;
	int fd = c->fd;
	char op = 0;

	if (sscanf(msg, "%c %llu", &op, &size) != 2)
		return reply(fd, EINVAL, -1);
	switch (op) {
	case BARE_CREATE:
		out = memfd_create("bare", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (out < 0 || ftruncate(out, (off_t)size) < 0)
			return reply(fd, errno, -1);
		return reply(fd, 0, out);
	case BARE_CREATE_KEEP:
		return create_keep(c, size);
	case BARE_CREATE_HOLD:
		return create_hold(c, size);
	case BARE_OPEN_RW:
	case BARE_OPEN_RO:
		/* Like shmd: a new open file description per handout, not a dup of ours. */
		out = openat(proc_fd_dir, held_name,
			     (op == BARE_OPEN_RW ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (out < 0)
			return reply(fd, errno, -1);
		return reply(fd, 0, out);
	case BARE_OPEN_SEND:
		return reply(fd, 0, held_fd);
	case BARE_OPEN_HOLD:
	case BARE_OPEN_HOLD_RO:
		return open_hold(fd, watched_fd, op == BARE_OPEN_HOLD ? O_RDWR : O_RDONLY);
	case BARE_OPEN_MANY_HOLD:
		if (size >= n_many)
			return reply(fd, ENOENT, -1);
		return open_hold(fd, many_fds[size], O_RDWR);
	case BARE_PREPARE_MANY:
		return prepare_many(fd, size);
	case BARE_DELETE:
		/* Reply first, as shmd does: the last close of a memfd tears its inode down. */
		return delete (c);
	default:
		return reply(fd, EOPNOTSUPP, -1);
	}
}

/* One recv per wakeup (level-triggered): the fewest syscalls a request can cost. */
static int conn_read(struct conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	size_t start = 0;
	char *nul;

	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN ? 0 : negative_errno();
	c->len += (size_t)n;
	while ((nul = memchr(c->buf + start, 0, c->len - start))) {
		int r = handle(c, c->buf + start);
		if (r < 0)
			return r;
		start = (size_t)(nul - c->buf) + 1;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	return c->len == sizeof(c->buf) ? -EMSGSIZE : 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negative_errno();
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

static void accept_one(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
	}
}

static int serve(int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);

	struct epoll_event iev = { .events = EPOLLIN, .data.ptr = &inotify_tag };

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, inotify_fd, &iev) < 0)
		return negative_errno();
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, ELEMENTSOF(evs), -1);

		if (n < 0 && errno != EINTR)
			return negative_errno();
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c) {
				accept_one(ep, lfd);
				continue;
			}
			if (evs[i].data.ptr == &inotify_tag) {
				read_events(); /* holders' closes, IN_IGNORED */
				continue;
			}
			if (conn_read(c) < 0) {
				close(c->fd); /* also removes it from the epoll set */
				drop_all(c);
				free(c);
			}
		}
	}
}

int main(int argc, char **argv)
{
	_cleanup_close_ int lfd = -1;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET-PATH\n", argv[0]);
		return 2;
	}
	held_fd = memfd_create("bare-held", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (held_fd < 0 || ftruncate(held_fd, 1 << 20) < 0) {
		perror("bare-server: memfd");
		return 1;
	}
	/* The cheapest re-open we know (shmd uses the same): openat() below /proc/self/fd. */
	proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd_dir < 0) {
		perror("bare-server: /proc/self/fd");
		return 1;
	}
	snprintf(held_name, sizeof(held_name), "%d", held_fd);
	inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_fd < 0) {
		perror("bare-server: inotify");
		return 1;
	}
	/* BARE_OPEN_HOLD's memfd, watched as shmd watches every region. */
	watched_fd = watched_memfd(1 << 20);
	if (watched_fd < 0) {
		fprintf(stderr, "bare-server: watched memfd: %s\n", strerror(-watched_fd));
		return 1;
	}
	lfd = listen_on(argv[1]);
	if (lfd < 0) {
		fprintf(stderr, "bare-server: cannot listen on %s: %s\n", argv[1], strerror(-lfd));
		return 1;
	}
	r = serve(lfd);
	fprintf(stderr, "bare-server: %s\n", strerror(-r));
	return 1;
}
