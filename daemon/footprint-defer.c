/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Footprints of regions with many pages measured on the worker, their replies deferred. */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "footprint-defer.h"
#include "footprint.h"
#include "log.h"
#include "methods.h"
#include "region.h"
#include "server.h"
#include "text.h"
#include "worker.h"

struct fp_job {
	struct worker *worker;
	int fd; /* a duplicate of the region's memfd, the job's own */
	uint64_t size;
	uint64_t spilled; /* Stat and List: the region's bytes in the spill file (read on the loop) */
	struct fp_part *parts; /* Ranges: copied, labels too; NULL for Stat and List */
	size_t n_parts;
	const char *tail; /* Stat and List: after the Region object */
	int err;
	struct text t; /* the reply, begun on the loop */
	/* Who gets the reply: a deferred call, or a List stream (NULL once detached). */
	struct call *call;
	void (*owner_done)(void *owner, const struct text *reply);
	void *owner;
	const char *what; /* for the log */
};

bool footprint_deferrable(uint64_t allocated)
{
	return allocated != UINT64_MAX && allocated > FOOTPRINT_INLINE_MAX;
}

static void text_part(struct text *t, const struct fp_part *p, const struct footprint *f)
{
	text_lit(t, "{\"offset\":");
	text_uint(t, p->offset);
	text_lit(t, ",\"length\":");
	text_uint(t, p->length);
	if (p->label) {
		text_lit(t, ",\"label\":");
		text_string(t, p->label, strlen(p->label));
	}
	text_lit(t, ",\"footprint\":");
	text_footprint(t, f);
	text_lit(t, "}");
}

int footprint_text_parts(struct text *t, int fd, const struct fp_part *parts, size_t n)
{
	struct footprint total = { 0 };

	text_lit(t, "[");
	for (size_t i = 0; i < n; i++) {
		struct footprint f = { 0 };
		int err = footprint_measure(fd, parts[i].offset, parts[i].length, &f);
		if (err < 0)
			return err;
		f.spilled = parts[i].spilled;
		if (i)
			text_lit(t, ",");
		text_part(t, &parts[i], &f);
		footprint_add(&total, &f);
	}
	text_lit(t, "],\"footprint\":");
	text_footprint(t, &total);
	return 0;
}

static void job_free(struct fp_job *j)
{
	for (size_t i = 0; j->parts && i < j->n_parts; i++)
		free((char *)j->parts[i].label);
	free(j->parts);
	safe_close(j->fd);
	text_done(&j->t);
	free(j);
}

/* On the worker thread: touches only the job. */
static void job_run(void *p)
{
	struct fp_job *j = p;

	worker_fault_hold(j->worker, "footprint");
	if (j->parts) {
		j->err = footprint_text_parts(&j->t, j->fd, j->parts, j->n_parts);
		text_lit(&j->t, "}}");
		return;
	}
	struct footprint f = { 0 };
	j->err = footprint_measure(j->fd, 0, j->size, &f);
	f.spilled = j->spilled;
	if (j->err >= 0) {
		text_truncate(&j->t, j->t.len - 1); /* the Region's closing brace */
		text_lit(&j->t, ",\"footprint\":");
		text_footprint(&j->t, &f);
		text_lit(&j->t, "}");
	}
	text_add(&j->t, j->tail, strlen(j->tail));
}

static void job_done(void *p, bool cancelled)
{
	struct fp_job *j = p;

	if (j->err < 0 && !j->parts)
		log_warning("%s: cannot measure a footprint: %s", j->what, strerror(-j->err));
	if (j->owner_done) {
		if (j->owner && !cancelled)
			j->owner_done(j->owner, &j->t);
	} else {
		if (cancelled)
			call_system_error(j->call, "footprint", ECANCELED);
		else if (j->err < 0 && j->parts)
			call_system_error(j->call, "footprint", j->err);
		else
			call_reply_text(j->call, &j->t, -1);
		call_finish(j->call);
	}
	job_free(j);
}

static struct fp_job *job_new(struct server *s, struct region *r, const struct text *t)
{
	struct fp_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	(void)footprint_has_cachestat(); /* probed on the loop, never first on the worker */
	text_init(&j->t);
	j->fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
	text_add(&j->t, t->p, t->len);
	if (j->fd < 0 || j->t.oom || t->oom) {
		job_free(j);
		return NULL;
	}
	j->worker = s->worker;
	j->size = r->size;
	j->tail = "}}";
	j->spilled = spillpol_spilled_in(r, 0, UINT64_MAX);
	return j;
}

static int submit(struct call *call, struct fp_job *j)
{
	struct call *d = call_defer(call);

	if (!d) {
		job_free(j);
		return -ENOMEM;
	}
	j->call = d;
	j->what = call->method->name;
	int r = worker_submit(j->worker, job_run, job_done, j);
	if (r < 0) {
		/* Not deferred after all: the handler measures inline and replies at once. */
		call_undefer(call, d);
		job_free(j);
	}
	return r;
}

int footprint_defer_stat(struct call *call, struct region *r, const struct text *t)
{
	struct fp_job *j = job_new(call->server, r, t);

	return j ? submit(call, j) : -ENOMEM;
}

int footprint_defer_parts(struct call *call, struct region *r, const struct text *t,
			  const struct fp_part *parts, size_t n)
{
	struct fp_job *j = job_new(call->server, r, t);

	if (!j)
		return -ENOMEM;
	j->parts = calloc(MAX(n, 1u), sizeof(*parts));
	if (!j->parts) {
		job_free(j);
		return -ENOMEM;
	}
	j->n_parts = n;
	for (size_t i = 0; i < n; i++) {
		j->parts[i].offset = parts[i].offset;
		j->parts[i].length = parts[i].length;
		j->parts[i].spilled = parts[i].spilled;
		if (parts[i].label && !(j->parts[i].label = strdup(parts[i].label))) {
			job_free(j);
			return -ENOMEM;
		}
	}
	return submit(call, j);
}

struct fp_job *footprint_defer_list(struct server *s, struct region *r, const struct text *t,
				    const char *tail,
				    void (*done)(void *owner, const struct text *reply),
				    void *owner)
{
	struct fp_job *j = job_new(s, r, t);

	if (!j)
		return NULL;
	j->tail = tail;
	j->owner_done = done;
	j->owner = owner;
	j->what = "List";
	if (worker_submit(j->worker, job_run, job_done, j) < 0) {
		job_free(j);
		return NULL;
	}
	return j;
}

void footprint_job_detach(struct fp_job *j)
{
	if (j)
		j->owner = NULL;
}
