/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-buffer positioned I/O (see fileio.h). */

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

static int io_full(int fd, char *p, size_t len, uint64_t offset, bool write)
{
	while (len > 0) {
		ssize_t n = write ? pwrite(fd, p, len, (off_t)offset) :
				    pread(fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? negative_errno() : -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

int pwrite_full(int fd, const void *p, size_t len, uint64_t offset)
{
	return io_full(fd, (char *)p, len, offset, true);
}

int pread_full(int fd, void *p, size_t len, uint64_t offset)
{
	return io_full(fd, p, len, offset, false);
}
