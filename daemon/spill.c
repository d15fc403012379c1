/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill engine's event-loop side: the spill file, the jobs and their thread, and what
 * happens between the steps (see spill.h for the order and why it is crash safe).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "name.h"
#include "region.h"
#include "spill-index.h"
#include "fault.h"
#include "spill-internal.h"
#include "worker.h"

#define PAGE 4096u

/* ---------------------------------------------------------------- worker jobs */

static void job_run(void *userdata)
{
	struct spill_job *j = userdata;
	spill_io_run(j->sp, j);
}

static void job_done(void *userdata, bool cancelled);

static void submit(struct spill *sp, struct spill_job *j)
{
	int err = worker_submit(sp->worker, job_run, job_done, j);
	if (err < 0) {
		/* The thread cannot start: fail the phase as if it had run, on this loop turn. */
		j->error = err;
		j->what = "worker";
		job_done(j, false);
	}
}

static void job_free(struct spill_job *j)
{
	if (!j)
		return;
	safe_close(j->memfd);
	free(j->ext);
	free(j);
}

/* ---------------------------------------------------------------- completion */

static void note_error(struct spill *sp, struct spill_job *j, const char *op)
{
	_cleanup_free_ char *name = j->r ? name_escape(j->r->name) : NULL;

	sp->stats.errors++;
	sp->stats.last_error = j->error;
	snprintf(sp->stats.last_error_what, sizeof(sp->stats.last_error_what), "%s: %s", op,
		 j->what ? j->what : "?");
	log_errno(LOG_ERR, j->error, "%s of region '%s' failed at %s", op, name ? name : "?",
		  j->what ? j->what : "?");
}

/* Detach j from its region and tell the caller. */
static void finish(struct spill *sp, struct spill_job *j, int error)
{
	struct region *r = j->r;

	if (r && r->spill) {
		r->spill->job = NULL;
		r->spill->busy = 0;
	}
	if (r && j->done)
		j->done(sp, r, error, j->userdata);
	job_free(j);
}

/* The copy is durable: record the index, then punch (or give everything back). */
static void copied_out(struct spill *sp, struct spill_job *j)
{
	struct region *r = j->r;

	if (j->error == 0 && (!r || j->cancelled))
		j->error = -ECANCELED;
	if (j->error < 0) {
		spill_io_free_extents(sp, j->ext, j->n_ext);
		if (j->error != -ECANCELED)
			note_error(sp, j, "spill");
		return finish(sp, j, j->error);
	}
	fault_point("spill-copied");
	struct spill_index *ix = r->spill;
	free(ix->extents);
	ix->extents = TAKE_PTR(j->ext);
	ix->n_extents = j->n_ext;
	ix->size = j->size;
	ix->spilled_bytes = 0;
	for (size_t i = 0; i < ix->n_extents; i++)
		ix->spilled_bytes += ix->extents[i].length;
	ix->spilled_usec = now_usec();
	r->state = REGION_SPILLED;
	int err = sp->record(r, sp->record_userdata);
	if (err < 0) {
		r->state = REGION_RESIDENT;
		spill_io_free_extents(sp, ix->extents, ix->n_extents);
		ix->n_extents = ix->spilled_bytes = 0;
		j->error = err;
		j->what = "record";
		note_error(sp, j, "spill");
		return finish(sp, j, err);
	}
	fault_point("spill-recorded");
	j->phase = SPILL_PHASE_PUNCH;
	submit(sp, j);
}

/* Recorded SPILLED, then cancelled before the punch: resident again, recorded first. */
static void unspill(struct spill *sp, struct region *r)
{
	struct spill_index *ix = r->spill;

	r->state = REGION_RESIDENT;
	if (sp->record(r, sp->record_userdata) < 0) {
		r->state = REGION_SPILLED; /* the extents must stay claimed: the state says so */
		return;
	}
	spill_io_free_extents(sp, ix->extents, ix->n_extents);
	ix->n_extents = ix->spilled_bytes = 0;
}

static void punched(struct spill *sp, struct spill_job *j)
{
	if (!j->r)
		return finish(sp, j, -ECANCELED); /* forgotten: its extents went with it */
	if (j->error == -ECANCELED) {
		unspill(sp, j->r);
		return finish(sp, j, j->r->state == REGION_RESIDENT ? -ECANCELED : 0);
	}
	if (j->error < 0) /* spilled and recorded all the same: the data is safe in the file */
		note_error(sp, j, "spill");
	fault_point("spill-punched");
	sp->stats.spills++;
	finish(sp, j, 0);
}

static void damaged(struct spill *sp, struct spill_job *j)
{
	struct region *r = j->r;
	_cleanup_free_ char *name = name_escape(r->name);

	sp->stats.damaged++;
	note_error(sp, j, "restore");
	log_err("region '%s' is damaged: spill extent %zu (offset %llu, %llu bytes) does not "
		"match its checksum; it keeps its extents and refuses Open",
		name ? name : "?", j->bad, (unsigned long long)j->ext[j->bad].offset,
		(unsigned long long)j->ext[j->bad].length);
	r->state = REGION_DAMAGED;
	(void)sp->record(r, sp->record_userdata);
	finish(sp, j, -EBADMSG);
}

static void copied_in(struct spill *sp, struct spill_job *j)
{
	struct region *r = j->r;

	if (!r)
		return finish(sp, j, -ECANCELED);
	if (j->error == -EBADMSG)
		return damaged(sp, j);
	if (j->error < 0) {
		note_error(sp, j, "restore");
		return finish(sp, j, j->error);
	}
	fault_point("restore-copied");
	struct spill_index *ix = r->spill;
	r->state = REGION_RESIDENT;
	ix->restored_usec = now_usec();
	size_t n = ix->n_extents;
	ix->n_extents = 0; /* recorded without extents */
	int err = sp->record(r, sp->record_userdata);
	if (err < 0) {
		/* Not durable: a restart finds it spilled, so its extents stay claimed. */
		log_errno(LOG_WARNING, err, "cannot record a restore; its spill space stays used");
		free(ix->extents);
	} else {
		fault_point("restore-recorded");
		spill_io_free_extents(sp, ix->extents, n);
		free(ix->extents);
	}
	ix->extents = NULL;
	ix->spilled_bytes = 0;
	sp->stats.restores++;
	finish(sp, j, 0);
}

/* On the event loop, once per submitted phase. */
static void job_done(void *userdata, bool cancelled)
{
	struct spill_job *j = userdata;
	struct spill *sp = j->sp;

	if (cancelled && j->error == 0) { /* the worker stopped before the phase ran */
		j->error = -ECANCELED;
		j->what = "stop";
		if (j->phase == SPILL_PHASE_PUNCH)
			return finish(sp, j, 0); /* recorded spilled, not punched: consistent */
	}
	if (j->phase == SPILL_PHASE_COPY_OUT)
		copied_out(sp, j);
	else if (j->phase == SPILL_PHASE_PUNCH)
		punched(sp, j);
	else
		copied_in(sp, j);
}

/* ---------------------------------------------------------------- the file */

static int open_file(struct spill *sp, const char *path)
{
	struct stat st;
	char proc[64];

	sp->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sp->fd < 0)
		return negative_errno();
	if (fstat(sp->fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* The second description bypasses the page cache; the first syncs and allocates. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sp->fd);
	sp->dfd = open(proc, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (sp->dfd < 0 && errno == EINVAL) {
		log_notice("spill file %s: no O_DIRECT on this filesystem, using the page cache",
			   path);
		sp->dfd = sp->fd;
	} else if (sp->dfd < 0)
		return negative_errno();
	sp->file_size = (uint64_t)st.st_size / PAGE * PAGE;
	return spill_alloc_grow(&sp->alloc, sp->file_size);
}

int spill_open(struct spill **ret, struct worker *worker, const char *path, uint64_t max_size,
	       spill_record_fn record, void *record_userdata)
{
	struct spill *sp = calloc(1, sizeof(*sp));
	int r;

	if (!sp)
		return -ENOMEM;
	*sp = (struct spill){ .worker = worker,
			      .aio = { .fd = -1 },
			      .fd = -1,
			      .dfd = -1,
			      .max_size = MAX(max_size / SPILL_CHUNK * SPILL_CHUNK, SPILL_CHUNK),
			      .record = record,
			      .record_userdata = record_userdata };
	pthread_mutex_init(&sp->lock, NULL);
	spill_alloc_init(&sp->alloc);
	sp->path = strdup(path);
	sp->bufs[0] = aligned_alloc(PAGE, SPILL_IO);
	sp->bufs[1] = aligned_alloc(PAGE, SPILL_IO);
	sp->buf = sp->bufs[0];
	if (!sp->path || !sp->bufs[0] || !sp->bufs[1])
		r = -ENOMEM;
	else if ((r = open_file(sp, path)) < 0)
		log_errno(LOG_ERR, r, "cannot open the spill file %s", path);
	else
		spill_aio_init(&sp->aio, sp->dfd);
	if (r < 0) {
		spill_free(sp);
		return r;
	}
	*ret = sp;
	return 0;
}

struct spill *spill_free(struct spill *sp)
{
	if (!sp)
		return NULL;
	spill_aio_done(&sp->aio);
	if (sp->dfd != sp->fd)
		safe_close(sp->dfd);
	safe_close(sp->fd);
	spill_alloc_done(&sp->alloc);
	pthread_mutex_destroy(&sp->lock);
	free(sp->bufs[0]);
	free(sp->bufs[1]);
	free(sp->path);
	free(sp);
	return NULL;
}

int spill_claim(struct spill *sp, struct region *r)
{
	struct spill_index *ix = r->spill;
	size_t i = 0;
	int err = 0;

	if (!ix || r->state == REGION_RESIDENT)
		return 0;
	pthread_mutex_lock(&sp->lock);
	for (; i < ix->n_extents && err >= 0; i++)
		err = spill_alloc_reserve(&sp->alloc, ix->extents[i].file_offset,
					  ix->extents[i].length);
	pthread_mutex_unlock(&sp->lock);
	if (err >= 0)
		return 0;
	/* Out of the file or claimed twice: not this region's data for sure. */
	spill_io_free_extents(sp, ix->extents, i - 1);
	_cleanup_free_ char *name = name_escape(r->name);
	log_err("region '%s' is damaged: its spill extents do not fit the spill file %s",
		name ? name : "?", sp->path);
	r->state = REGION_DAMAGED;
	ix->n_extents = ix->spilled_bytes = 0;
	sp->stats.damaged++;
	(void)sp->record(r, sp->record_userdata);
	return -EBADMSG;
}

/* ---------------------------------------------------------------- jobs */

static int start(struct spill *sp, struct region *r, enum spill_phase phase, spill_done_fn done,
		 void *userdata)
{
	struct spill_index *ix = spill_index_get(r);

	if (!ix)
		return -ENOMEM;
	if (ix->job)
		return -EBUSY;
	struct spill_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct spill_job){
		.sp = sp, .r = r, .phase = phase, .done = done, .userdata = userdata
	};
	j->memfd = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
	if (j->memfd < 0) {
		int err = negative_errno();
		free(j);
		return err;
	}
	if (phase == SPILL_PHASE_COPY_IN) {
		j->size = ix->size;
		j->n_ext = ix->n_extents;
		j->ext = j->n_ext ? malloc(j->n_ext * sizeof(*j->ext)) : NULL;
		if (j->n_ext && !j->ext) {
			job_free(j);
			return -ENOMEM;
		}
		if (j->n_ext)
			memcpy(j->ext, ix->extents, j->n_ext * sizeof(*j->ext));
	}
	ix->job = j;
	ix->busy = phase == SPILL_PHASE_COPY_IN ? SPILL_RESTORING : SPILL_SPILLING;
	submit(sp, j);
	return 0;
}

int spill_out(struct spill *sp, struct region *r, spill_done_fn done, void *userdata)
{
	if (r->state != REGION_RESIDENT || r->fd < 0)
		return r->spill && r->spill->job ? -EBUSY : -EINVAL;
	return start(sp, r, SPILL_PHASE_COPY_OUT, done, userdata);
}

int spill_in(struct spill *sp, struct region *r, spill_done_fn done, void *userdata)
{
	if (r->state != REGION_SPILLED || r->fd < 0)
		return r->spill && r->spill->job ? -EBUSY : -EINVAL;
	return start(sp, r, SPILL_PHASE_COPY_IN, done, userdata);
}

int spill_cancel(struct spill *sp, struct region *r)
{
	struct spill_job *j = r->spill ? r->spill->job : NULL;

	if (!j)
		return 0;
	if (j->phase == SPILL_PHASE_COPY_IN)
		return -EBUSY;
	__atomic_store_n(&j->cancelled, true, __ATOMIC_RELAXED);
	return 0;
}

void spill_forget(struct spill *sp, struct region *r)
{
	struct spill_index *ix = r->spill;

	if (!ix)
		return;
	struct spill_job *j = ix->job;
	if (j) {
		/* Orphaned: its completion frees what it holds and calls nobody. */
		__atomic_store_n(&j->cancelled, true, __ATOMIC_RELAXED);
		if (j->done)
			j->done(sp, r, -ECANCELED, j->userdata);
		j->r = NULL;
		j->done = NULL;
	}
	if (r->state != REGION_RESIDENT)
		spill_io_free_extents(sp, ix->extents, ix->n_extents);
	spill_index_free(ix);
	r->spill = NULL;
}

void spill_get_stats(const struct spill *sp, struct spill_stats *ret)
{
	struct spill *m = (struct spill *)sp; /* the lock only */

	*ret = sp->stats;
	pthread_mutex_lock(&m->lock);
	ret->file_size = sp->file_size;
	ret->free = sp->alloc.free_bytes;
	pthread_mutex_unlock(&m->lock);
	ret->max_size = sp->max_size;
	ret->used = ret->file_size - ret->free;
}
