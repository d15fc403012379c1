/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-buffer positioned I/O: the state journal and the spill engine. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Write / read all len bytes at offset, retrying on EINTR and short counts. 0 or -errno
 * (-EIO when the file ends first). */
int pwrite_full(int fd, const void *p, size_t len, uint64_t offset);
int pread_full(int fd, void *p, size_t len, uint64_t offset);
