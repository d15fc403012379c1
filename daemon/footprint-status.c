/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Status's footprint totals, the large regions measured on the worker in bounded batches. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "footprint-defer.h"
#include "footprint-status.h"
#include "footprint.h"
#include "holdtrack.h"
#include "log.h"
#include "macro.h"
#include "region.h"
#include "registry.h"
#include "server.h"
#include "spillpol.h"
#include "text.h"
#include "worker.h"

/* A large region to measure on the worker, looked up again by id when its batch is made. */
struct sfp_todo {
	uint64_t id;
	enum {
		SFP_LIVE,
		SFP_ANONYMOUS,
		SFP_DELETED
	} kind; /* where to look it up */
};

struct status_fp {
	struct server *server;
	struct worker *worker;
	struct call *call;	 /* deferred */
	json_object *params;	 /* the reply but its footprint */
	struct footprint total;	 /* loop: the small regions and the finished batches */
	struct sfp_todo *todo;	 /* the large regions, in order */
	size_t n_todo, pos, cap; /* pos: the next to put in a batch */
	uint64_t inline_bytes;	 /* allocated bytes of the regions measured on the loop */
	/* The batch on the worker (its own fds): the only members the thread touches. */
	int fds[STATUS_FOOTPRINT_BATCH];
	uint64_t sizes[STATUS_FOOTPRINT_BATCH];
	size_t n_fds;
	struct footprint batch;
	uint64_t batch_spilled; /* read on the loop when the batch was made */
	unsigned batch_n;	/* regions in the batch */
	unsigned failed;	/* regions of the batch that could not be measured (left out) */
};

/* On the loop: one region's footprint added to total (left out if it cannot be measured). */
static void measure_inline(struct region *r, uint64_t allocated, struct footprint *total)
{
	struct footprint f = { 0 };

	if (allocated == 0)
		footprint_none(r->size, &f); /* nothing allocated: no syscall */
	else if (footprint_measure(r->fd, 0, r->size, &f) < 0)
		return;
	f.spilled = spillpol_spilled_in(r, 0, UINT64_MAX);
	footprint_add(total, &f);
}

static void visit(struct region *r, void *userdata)
{
	struct status_fp *sf = userdata;
	uint64_t allocated = UINT64_MAX;

	region_refresh_stat(r, &allocated);
	/*
	 * On the loop: the empty and the small (their cachestat(2) costs about what the dup()
	 * and close() of a batch would), and the others until they add up to one large region.
	 */
	bool inline_ok = allocated <= STATUS_FOOTPRINT_SMALL ||
			 (!footprint_deferrable(allocated) &&
			  sf->inline_bytes + allocated <= FOOTPRINT_INLINE_MAX);
	if (inline_ok && allocated > STATUS_FOOTPRINT_SMALL)
		sf->inline_bytes += allocated;
	if (!inline_ok) {
		if (sf->n_todo == sf->cap) {
			size_t cap = MAX(sf->cap * 2, 16u);
			struct sfp_todo *p = realloc(sf->todo, cap * sizeof(*p));
			if (p) {
				sf->todo = p;
				sf->cap = cap;
			}
		}
		if (sf->n_todo < sf->cap) {
			sf->todo[sf->n_todo++] =
				(struct sfp_todo){ r->id, r->anonymous ? SFP_ANONYMOUS :
							  r->deleted   ? SFP_DELETED :
									 SFP_LIVE };
			return;
		}
		/* Out of memory for the list: measured here, as before. */
	}
	measure_inline(r, allocated, &sf->total);
}

/* The regions holder tracking keeps (anonymous, or deleted while held): visited too. */
static void collect_kept(struct status_fp *sf, bool anonymous)
{
	struct region **v = NULL;
	size_t n = 0;
	int r = anonymous ? holdtrack_collect_anonymous(&sf->server->holdtrack, NULL, &v, &n) :
			    holdtrack_collect_deleted(&sf->server->holdtrack, NULL, &v, &n);

	if (r < 0)
		log_warning("Status: out of memory, %s regions left out of the footprint",
			    anonymous ? "anonymous" : "deleted");
	for (size_t i = 0; i < n; i++)
		visit(v[i], sf);
	free(v);
}

static void collect(struct status_fp *sf)
{
	registry_foreach(&sf->server->registry, visit, sf);
	collect_kept(sf, true);
	collect_kept(sf, false);
}

static struct region *todo_find(struct status_fp *sf, const struct sfp_todo *t)
{
	if (t->kind == SFP_LIVE)
		return registry_find_id(&sf->server->registry, t->id);
	return holdtrack_find_kept(&sf->server->holdtrack, t->kind == SFP_ANONYMOUS, t->id);
}

/* On the loop, when the worker cannot be used: what is left measured here. */
static void measure_rest_inline(struct status_fp *sf)
{
	for (; sf->pos < sf->n_todo; sf->pos++) {
		struct region *r = todo_find(sf, &sf->todo[sf->pos]);
		if (r)
			measure_inline(r, UINT64_MAX, &sf->total);
	}
}

static void close_batch(struct status_fp *sf)
{
	for (size_t i = 0; i < sf->n_fds; i++)
		safe_close(sf->fds[i]);
	sf->n_fds = 0;
}

static void sf_free(struct status_fp *sf)
{
	close_batch(sf);
	if (sf->params)
		json_object_put(sf->params);
	free(sf->todo);
	free(sf);
}

/* The total into params, and the reply. Returns what call_reply() does. */
static int sf_reply(struct status_fp *sf, struct call *call)
{
	struct text t;

	text_init(&t);
	text_footprint(&t, &sf->total);
	json_object *o = t.oom ? NULL : json_tokener_parse(t.p);
	if (o)
		json_object_object_add(sf->params, "footprint", o);
	text_done(&t);
	int ret = call_reply(call, sf->params, -1);
	sf->params = NULL;
	return ret;
}

/* On the worker thread: touches only the batch. */
static void batch_run(void *p)
{
	struct status_fp *sf = p;

	worker_fault_hold(sf->worker, "footprint");
	for (size_t i = 0; i < sf->n_fds; i++) {
		struct footprint f = { 0 };
		if (footprint_measure(sf->fds[i], 0, sf->sizes[i], &f) < 0)
			sf->failed++;
		else
			footprint_add(&sf->batch, &f);
	}
}

static void batch_done(void *p, bool cancelled);

/*
 * The next regions of todo (those still there) in a batch, their fds duplicated, onto the
 * worker. 0: submitted; 1: nothing left; -errno: nothing submitted, the rest to measure inline.
 */
static int batch_submit(struct status_fp *sf)
{
	uint64_t spilled = 0;
	size_t start = sf->pos;

	while (sf->pos < sf->n_todo && sf->n_fds < STATUS_FOOTPRINT_BATCH) {
		struct region *r = todo_find(sf, &sf->todo[sf->pos]);
		if (!r) {
			sf->pos++; /* deleted or freed since: not counted */
			continue;
		}
		int fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			break; /* the fds held so far go; the rest is measured inline */
		sf->pos++;
		sf->fds[sf->n_fds] = fd;
		sf->sizes[sf->n_fds++] = region_refresh_size(r);
		spilled += spillpol_spilled_in(r, 0, UINT64_MAX);
	}
	if (sf->n_fds == 0)
		return sf->pos < sf->n_todo ? -EMFILE : 1;
	memset(&sf->batch, 0, sizeof(sf->batch));
	sf->batch_spilled = spilled;
	sf->batch_n = (unsigned)sf->n_fds;
	sf->failed = 0;
	int r = worker_submit(sf->worker, batch_run, batch_done, sf);
	if (r < 0) {
		sf->pos = start; /* measured inline instead */
		close_batch(sf);
	}
	return r;
}

/* On the loop, once per batch. */
static void batch_done(void *p, bool cancelled)
{
	struct status_fp *sf = p;
	struct call *call = sf->call;

	close_batch(sf);
	if (cancelled) {
		call_system_error(call, "footprint", ECANCELED);
		goto finish;
	}
	sf->batch.spilled = sf->batch_spilled;
	if (sf->failed < sf->batch_n) /* else nothing measured: huge_known says nothing */
		footprint_add(&sf->total, &sf->batch);
	else
		sf->total.spilled += sf->batch_spilled;
	if (sf->failed)
		log_warning("Status: %u regions could not be measured, left out of the footprint",
			    sf->failed);
	if (call_gone(call))
		goto finish; /* nobody to answer: no more batches */
	int r = batch_submit(sf);
	if (r == 0)
		return;
	if (r < 0)
		measure_rest_inline(sf);
	sf_reply(sf, call);
finish:
	call_finish(call);
	sf_free(sf);
}

int status_footprint_reply(struct call *call, json_object *params)
{
	if (call->oneway)
		return call_reply(call, params, -1); /* nothing is sent: nothing to measure */
	struct status_fp *sf = calloc(1, sizeof(*sf));
	if (!sf) {
		json_object_put(params);
		return call_system_error(call, "malloc", ENOMEM);
	}
	sf->server = call->server;
	sf->worker = call->server->worker;
	sf->params = params;
	(void)footprint_has_cachestat(); /* probed on the loop, never first on the worker */
	collect(sf);
	if (sf->n_todo > 0 && (sf->call = call_defer(call))) {
		int r = batch_submit(sf);
		if (r == 0)
			return 0; /* batch_done() replies */
		call_undefer(call, sf->call);
		sf->call = NULL;
	}
	measure_rest_inline(sf);
	int ret = sf_reply(sf, call);
	sf_free(sf);
	return ret;
}
