/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Asynchronous O_DIRECT I/O of the spill file (Linux native AIO, io_submit(2)) with two
 * bounce buffers: the disk writes (reads) one while the thread reads and checksums (checks
 * and writes back) the other, so the copy's CPU work overlaps the device's. Owns the AIO context; used by the worker
 * thread only. Where io_setup() fails, writes are synchronous.
 */
#pragma once

#include <linux/aio_abi.h>
#include <stddef.h>
#include <stdint.h>

#define SPILL_AIO_MAX 256 /* writes in flight per buffer */

struct spill_aio {
	aio_context_t ctx; /* 0: none, write synchronously */
	int fd;
	unsigned pending[2], used[2];
	int error; /* the first failed write's -errno, until drained */
	struct iocb cb[2][SPILL_AIO_MAX];
};

/* 0; without AIO (no context), writes are synchronous: still 0. */
void spill_aio_init(struct spill_aio *a, int fd);
void spill_aio_done(struct spill_aio *a);

/* Write len bytes of buffer buf (0 or 1) at p to off. 0 or -errno (of this or an earlier write). */
int spill_aio_write(struct spill_aio *a, unsigned buf, const void *p, size_t len, uint64_t off);

/* Read len bytes at off into buffer buf's p: complete (all of it) once drained. */
int spill_aio_read(struct spill_aio *a, unsigned buf, void *p, size_t len, uint64_t off);

/* Wait for every write from buffer buf (-1: both). 0 or the first failed write's -errno. */
int spill_aio_drain(struct spill_aio *a, int buf);
