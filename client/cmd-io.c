/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The write and read commands: stdin -> region and region -> stdout, for scripts and tests. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "name.h"
#include "shmctl.h"

#define IO_CHUNK (1024 * 1024)

enum {
	OPT_OFFSET = OPT_CMD_FIRST,
	OPT_LENGTH
};

/*
 * Options of write and read; length stays UINT64_MAX unless --length is given.
 * SHMCTL_OPT_CONTINUE to go on, else the exit status.
 */
static int io_parse(struct shmctl *s, int argc, char *argv[], bool with_length, uint64_t *offset,
		    uint64_t *length)
{
	static const struct option options[] = {
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "length", required_argument, NULL, OPT_LENGTH },
		SHMCTL_GLOBAL_LONGOPTS,
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
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

int cmd_write(struct shmctl *s, int argc, char *argv[])
{
	uint64_t offset = 0, length = UINT64_MAX, size = 0;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	const char *name;
	int r;

	r = io_parse(s, argc, argv, false, &offset, &length);
	if (r != SHMCTL_OPT_CONTINUE)
		return r;
	name = argv[optind];
	r = io_open(s, name, O_RDWR, &fd, &size);
	if (r)
		return r;
	buf = malloc(IO_CHUNK);
	if (!buf)
		return shmctl_fail_errno(-ENOMEM, "cannot write '%s'", name);

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return shmctl_fail_errno(-errno, "cannot read standard input");
		if (n == 0)
			break;
		/* A write past the end would grow the region behind the daemon's back: refuse it. */
		if (offset > size || (uint64_t)n > size - offset) {
			fprintf(stderr,
				"shmctl: cannot write '%s': data passes the end of the region "
				"(%llu bytes); resize it first\n",
				name, (unsigned long long)size);
			return SHMCTL_EXIT_FAILURE;
		}
		r = pwrite_all(fd, buf, (size_t)n, (off_t)offset);
		if (r == -EPERM) {
			/* memfd_write checks: F_SEAL_WRITE or F_SEAL_FUTURE_WRITE fail writes with EPERM. */
			_cleanup_free_ char *escaped = name_escape(name);
			fprintf(stderr,
				"shmctl: cannot write '%s': the region is sealed against writing\n",
				escaped ? escaped : name);
			return SHMCTL_EXIT_PERMISSION;
		}
		if (r < 0)
			return shmctl_fail_errno(r, "cannot write '%s'", name);
		offset += (uint64_t)n;
	}
	return 0;
}

int cmd_read(struct shmctl *s, int argc, char *argv[])
{
	uint64_t offset = 0, length = UINT64_MAX, size = 0, end;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	const char *name;
	int r;

	r = io_parse(s, argc, argv, true, &offset, &length);
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
