/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Between spill.c (the event-loop side: jobs, completion, the index) and spill-io.c (the
 * worker-thread side: the copies, the punch, the file's growth). Not for other callers.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "spill-aio.h"
#include "spill-alloc.h"
#include "spill.h"

enum spill_phase {
	SPILL_PHASE_COPY_OUT, /* memfd -> file, fdatasync */
	SPILL_PHASE_PUNCH,    /* the index is recorded: free the memory */
	SPILL_PHASE_COPY_IN,  /* file -> memfd, checksums verified */
};

struct spill_job {
	struct spill *sp;
	struct region *r; /* NULL once spill_forget() orphaned the job */
	int memfd;	  /* the job's own duplicate of r->fd */
	enum spill_phase phase;
	bool cancelled; /* read by the thread with __atomic */
	spill_done_fn done;
	void *userdata;
	/* COPY_OUT: the extents written (the job owns them until recorded). COPY_IN: a copy. */
	struct spill_extent *ext;
	size_t n_ext, cap_ext;
	uint64_t size; /* of the memfd when the job ran */
	int error;
	const char *what; /* the step that failed */
	size_t bad;	  /* COPY_IN with -EBADMSG: the extent whose checksum failed */
	bool held;	  /* passed its fault-injection hold point */
};

struct spill {
	struct worker *worker; /* runs the phases, one at a time (so one bounce buffer) */
	int fd, dfd; /* the file, buffered and O_DIRECT (dfd == fd where O_DIRECT is refused) */
	char *path;
	uint64_t max_size;
	spill_record_fn record;
	void *record_userdata;
	/* The worker thread's: two SPILL_IO bounce buffers, page aligned; buf is bufs[cur]. */
	char *bufs[2], *buf;
	unsigned cur;
	struct spill_aio aio; /* writes of the spill in flight from bufs[] */
	/* Under lock (the loop frees and claims, the thread allocates): */
	pthread_mutex_t lock;
	struct spill_alloc alloc;
	uint64_t file_size;
	struct spill_stats stats; /* loop side only */
};

/* Worker-thread side (spill-io.c): run j's phase, setting j->error and j->what. */
void spill_io_run(struct spill *sp, struct spill_job *j);
/* Give extents back to the allocator (takes the lock). */
void spill_io_free_extents(struct spill *sp, const struct spill_extent *e, size_t n);
