/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asynchronous O_DIRECT I/O of the spill file into and from two bounce buffers (io_submit(2)). */

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "spill-aio.h"

static long sys_io_setup(unsigned nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

void spill_aio_init(struct spill_aio *a, int fd)
{
	*a = (struct spill_aio){ .fd = fd };
	if (sys_io_setup(2 * SPILL_AIO_MAX, &a->ctx) < 0)
		a->ctx = 0; /* EAGAIN (fs.aio-max-nr), ENOSYS: synchronous */
}

void spill_aio_done(struct spill_aio *a)
{
	if (a->ctx) {
		(void)spill_aio_drain(a, -1);
		(void)syscall(SYS_io_destroy, a->ctx);
	}
	a->ctx = 0;
}

static int io_sync(int fd, bool write, char *p, size_t len, uint64_t off)
{
	return write ? pwrite_full(fd, p, len, off) : pread_full(fd, p, len, off);
}

/* Reap at least one completion. */
static int reap(struct spill_aio *a)
{
	struct io_event ev[64];
	long n = syscall(SYS_io_getevents, a->ctx, 1, 64, ev, NULL);

	if (n < 0)
		return errno == EINTR ? 0 : negative_errno();
	for (long i = 0; i < n; i++) {
		/* NOLINTNEXTLINE(performance-no-int-to-ptr): the kernel returns our iocb as a u64 */
		struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj;
		a->pending[ev[i].data]--;
		if (a->error == 0 && (int64_t)ev[i].res < 0)
			a->error = (int)ev[i].res;
		else if (a->error == 0 && (uint64_t)ev[i].res != cb->aio_nbytes)
			a->error = -EIO; /* short: the device is full or failing, or the file cut */
	}
	return 0;
}

int spill_aio_drain(struct spill_aio *a, int buf)
{
	while ((buf < 0 ? a->pending[0] + a->pending[1] : a->pending[buf]) > 0) {
		int r = reap(a);
		if (r < 0)
			return r; /* cannot wait: io_getevents() itself failed */
	}
	if (buf >= 0) {
		a->used[buf] = 0; /* its iocbs are free again */
		return a->error;
	}
	int err = a->error;
	a->used[0] = a->used[1] = 0;
	a->error = 0;
	return err;
}

static int submit(struct spill_aio *a, bool write, unsigned buf, void *p, size_t len, uint64_t off)
{
	if (!a->ctx)
		return io_sync(a->fd, write, p, len, off);
	if (a->error)
		return a->error;
	if (a->used[buf] == SPILL_AIO_MAX) { /* a very fragmented chunk */
		int r = spill_aio_drain(a, (int)buf);
		if (r < 0)
			return r;
	}
	struct iocb *cb = &a->cb[buf][a->used[buf]++];
	*cb = (struct iocb){ .aio_data = buf,
			     .aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD,
			     .aio_fildes = (uint32_t)a->fd,
			     .aio_buf = (uint64_t)(uintptr_t)p,
			     .aio_nbytes = len,
			     .aio_offset = (int64_t)off };
	for (;;) {
		long n = syscall(SYS_io_submit, a->ctx, 1, &cb);
		if (n == 1)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return negative_errno();
		int r = reap(a); /* the queue is full: make room */
		if (r < 0)
			return r;
	}
	a->pending[buf]++;
	return 0;
}

int spill_aio_write(struct spill_aio *a, unsigned buf, const void *p, size_t len, uint64_t off)
{
	return submit(a, true, buf, (void *)p, len, off);
}

int spill_aio_read(struct spill_aio *a, unsigned buf, void *p, size_t len, uint64_t off)
{
	return submit(a, false, buf, p, len, off);
}
