/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The write and read commands: stdin -> region and region -> stdout, for scripts and tests. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "name.h"
#include "shmctl.h"

#define IO_CHUNK (1024 * 1024)

enum {
	OPT_OFFSET = OPT_CMD_FIRST,
	OPT_LENGTH,
	OPT_GROW,
};

enum {
	IO_WRITE,
	IO_READ,
};

/*
 * Options of write and read; length stays UINT64_MAX unless --length is given.
 * SHMCTL_OPT_CONTINUE to go on, else the exit status.
 */
static int io_parse(struct shmctl *s, int argc, char *argv[], int what, uint64_t *offset,
		    uint64_t *length, bool *grow)
{
	static const struct option options[] = {
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "grow", no_argument, NULL, OPT_GROW },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	bool with_length = what == IO_READ;
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
		if (c == OPT_GROW && what == IO_WRITE) {
			*grow = true;
			continue;
		}
		if (c == OPT_GROW)
			return shmctl_usage_error("%s: unrecognized option '--grow'", s->cmd->name);
		if (c == OPT_OFFSET || (c == OPT_LENGTH && with_length)) {
			r = parse_size_arg(optarg, c == OPT_OFFSET ? "offset" : "length",
					   c == OPT_OFFSET ? offset : length);
			if (r)
				return r;
			continue;
		}
		if (c == OPT_LENGTH)
			return shmctl_usage_error("%s: unrecognized option '--length'",
						  s->cmd->name);
		r = shmctl_global_option(s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	r = expect_args(s, argc - optind, 1);
	if (!r)
		r = parse_name(argv[optind], false);
	return r ? r : SHMCTL_OPT_CONTINUE;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Open name and return its fd and current size (fstat: another holder may have resized it). */
static int io_open(struct shmctl *s, const char *name, int oflags, int *ret_fd, uint64_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = shmctl_connect(s);
	if (r)
		return r;
	r = shmd_open(s->ctx, name, oflags, &fd, NULL);
	if (r < 0)
		return shmctl_fail(s, r, "open", name);
	if (fstat(fd, &st) < 0)
		return shmctl_fail_errno(-errno, "cannot stat the fd of '%s'", name);
	*ret_size = (uint64_t)st.st_size;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int copy_range(int src, uint64_t src_off, int dst, uint64_t dst_off, uint64_t len)
{
	_cleanup_free_ char *buf = NULL;

	/* copy_file_range(2) keeps the bytes in the kernel; pread/pwrite where it cannot. */
	while (len > 0) {
		loff_t in = (loff_t)src_off, out = (loff_t)dst_off;
		ssize_t n = copy_file_range(src, &in, dst, &out,
					    (size_t)MIN(len, (uint64_t)1 << 30), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* the source is shorter than it said */
		src_off += (uint64_t)n;
		dst_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	if (len > 0 && !(buf = malloc(IO_CHUNK)))
		return -ENOMEM;
	while (len > 0) {
		ssize_t n = pread(src, buf, (size_t)MIN(len, (uint64_t)IO_CHUNK), (off_t)src_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		int r = pwrite_all(dst, buf, (size_t)n, (off_t)dst_off);
		if (r < 0)
			return r;
		src_off += (uint64_t)n;
		dst_off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/*
 * Make standard input something of known length to copy from: a regular file as it is (from
 * its current offset), anything else read into a private memfd first, at most max + 1 bytes,
 * so that input too long for the region is found before a byte of it is written.
 * 0 and *ret_fd (to close), *ret_off, *ret_len (max + 1 meaning "more than max"); or -errno.
 */
static int stage_stdin(uint64_t max, int *ret_fd, uint64_t *ret_off, uint64_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	uint64_t len = 0;
	struct stat st;
	off_t pos;

	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (pos = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0) {
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
		*ret_off = (uint64_t)pos;
		*ret_len = st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	fd = memfd_create("shmctl-write", MFD_CLOEXEC);
	buf = malloc(IO_CHUNK);
	if (fd < 0 || !buf)
		return fd < 0 ? -errno : -ENOMEM;
	while (len <= max) {
		ssize_t n = read(STDIN_FILENO, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		int r = pwrite_all(fd, buf, (size_t)n, (off_t)len);
		if (r < 0)
			return r;
		len += (uint64_t)n;
	}
	*ret_off = 0;
	*ret_len = MIN(len, max == UINT64_MAX ? max : max + 1);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The write error for r, naming the seal when it is one. Returns the exit status. */
static int write_fail(const char *name, int r)
{
	_cleanup_free_ char *escaped = name_escape(name);

	/* memfd_write checks: F_SEAL_WRITE or F_SEAL_FUTURE_WRITE fail writes with EPERM. */
	if (r == -EPERM) {
		fprintf(stderr, "shmctl: cannot write '%s': the region is sealed against writing\n",
			escaped ? escaped : name);
		return SHMCTL_EXIT_PERMISSION;
	}
	return shmctl_fail_errno(r, "cannot write '%s'", escaped ? escaped : name);
}

int cmd_write(struct shmctl *s, int argc, char *argv[])
{
	uint64_t offset = 0, length = UINT64_MAX, size = 0, src_off = 0, len = 0;
	_cleanup_close_ int fd = -1, src = -1;
	bool grow = false;
	const char *name;
	int r;

	r = io_parse(s, argc, argv, IO_WRITE, &offset, &length, &grow);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	name = argv[optind];
	r = io_open(s, name, O_RDWR, &fd, &size);
	if (r)
		return r;
	/* Everything is read before anything is written: too much input writes nothing. */
	uint64_t room = offset > size ? 0 : size - offset;
	r = stage_stdin(grow ? UINT64_MAX - offset : room, &src, &src_off, &len);
	if (r < 0)
		return shmctl_fail_errno(r, "cannot read standard input");
	if (len == 0)
		return 0;
	if (len > room && !grow) {
		_cleanup_free_ char *escaped = name_escape(name);
		fprintf(stderr,
			"shmctl: cannot write '%s': data passes the end of the region "
			"(%llu bytes); nothing written (use --grow, or resize it first)\n",
			escaped ? escaped : name, (unsigned long long)size);
		return SHMCTL_EXIT_FAILURE;
	}
	if (offset + len > size) {
		/* Through the daemon, which owns the size (and refuses if sealed or too large). */
		r = shmd_resize(s->ctx, name, offset + len, 0);
		if (r < 0)
			return shmctl_fail(s, r, "grow", name);
	}
	r = copy_range(src, src_off, fd, offset, len);
	return r < 0 ? write_fail(name, r) : 0;
}

int cmd_read(struct shmctl *s, int argc, char *argv[])
{
	uint64_t offset = 0, length = UINT64_MAX, size = 0, end;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	const char *name;
	int r;

	r = io_parse(s, argc, argv, IO_READ, &offset, &length, NULL);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	name = argv[optind];
	r = io_open(s, name, O_RDONLY, &fd, &size);
	if (r)
		return r;
	buf = malloc(IO_CHUNK);
	if (!buf)
		return shmctl_fail_errno(-ENOMEM, "cannot read '%s'", name);

	end = offset >= size ? offset : (length > size - offset ? size : offset + length);
	while (offset < end) {
		size_t want = (size_t)MIN((uint64_t)IO_CHUNK, end - offset);
		ssize_t n = pread(fd, buf, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return shmctl_fail_errno(-errno, "cannot read '%s'", name);
		if (n == 0) /* shrunk by another holder meanwhile */
			break;
		r = write_all(STDOUT_FILENO, buf, (size_t)n);
		if (r < 0)
			return shmctl_fail_errno(r, "write error");
		offset += (uint64_t)n;
	}
	return 0;
}
