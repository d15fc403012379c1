/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The named-range, footprint and holder methods (see methods-ranges.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "access.h"
#include "call.h"
#include "footprint-defer.h"
#include "footprint.h"
#include "holders.h"
#include "log.h"
#include "methods-ranges.h"
#include "methods.h"
#include "name.h"
#include "ranges.h"
#include "region.h"
#include "registry.h"
#include "server.h"
#include "state.h"
#include "text.h"
#include "worker.h"

#define ERR(e) "io.shmd.Manager." e

/* The region named by the request, after the access check for need. NULL: replied. */
static struct region *lookup_need(struct call *call, enum access_need need, char **ret_name)
{
	return call_lookup(call, need, ret_name);
}

static uint64_t page_round_up(uint64_t v)
{
	return v > UINT64_MAX - (RANGES_ALIGN - 1) ?
		       UINT64_MAX :
		       (v + RANGES_ALIGN - 1) / RANGES_ALIGN * RANGES_ALIGN;
}

static void text_range(struct text *t, uint64_t offset, uint64_t length, const char *label)
{
	text_lit(t, "{\"offset\":");
	text_uint(t, offset);
	text_lit(t, ",\"length\":");
	text_uint(t, length);
	if (label) {
		text_lit(t, ",\"label\":");
		text_string(t, label, strlen(label));
	}
}

static void text_ranges(struct text *t, const struct region *r)
{
	text_lit(t, "[");
	for (size_t i = 0; i < ranges_count(r); i++) {
		const struct range *g = ranges_get(r, i);
		if (i)
			text_lit(t, ",");
		text_range(t, g->offset, g->length, g->label);
		text_lit(t, "}");
	}
	text_lit(t, "]");
}

void text_region_ranges(struct text *t, const struct region *r)
{
	if (ranges_count(r) == 0)
		return;
	text_lit(t, ",\"ranges\":");
	text_ranges(t, r);
}

static int reply_ranges(struct call *call, struct region *r)
{
	struct text t;

	text_init(&t);
	text_lit(&t, "{\"parameters\":{\"ranges\":");
	text_ranges(&t, r);
	text_lit(&t, "}}");
	int ret = call_reply_text(call, &t, -1);
	text_done(&t);
	return ret;
}

/* A required, valid label parameter. 1, or -EINVAL (replied). */
static int param_label(struct call *call, const char *key, bool required, const char **ret)
{
	int r = param_string(call, key, ret);
	if (r < 0)
		return r;
	if (r == 0)
		return required ? call_invalid(call, key, "missing") : 0;
	const char *why = ranges_label_invalid(*ret);
	return why ? call_invalid(call, key, why) : 1;
}

/* offset and length: both present, aligned, non-empty. 1, 0 (both absent) or -EINVAL. */
static int param_span(struct call *call, bool required, uint64_t *offset, uint64_t *length)
{
	int ro = param_uint(call, "offset", INT64_MAX, offset);
	int rl = ro < 0 ? ro : param_uint(call, "length", INT64_MAX, length);

	if (ro < 0 || rl < 0)
		return -EINVAL;
	if (ro == 0 && rl == 0 && !required)
		return 0;
	if (ro == 0 || rl == 0)
		return call_invalid(call, ro == 0 ? "offset" : "length", "missing");
	if (*offset % RANGES_ALIGN)
		return call_invalid(call, "offset", "not a multiple of 4096");
	if (*length % RANGES_ALIGN)
		return call_invalid(call, "length", "not a multiple of 4096");
	if (*length == 0)
		return call_invalid(call, "length", "zero");
	return 1;
}

/* The span must lie within the region (its last partial page included). 0 or replied. */
static int check_inside(struct call *call, struct region *r, const char *name, uint64_t offset,
			uint64_t length)
{
	uint64_t size = region_refresh_size(r);

	if (offset + length <= page_round_up(size))
		return 0;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "offset", json_object_new_int64((int64_t)offset));
	json_object_object_add(p, "length", json_object_new_int64((int64_t)length));
	json_object_object_add(p, "size", json_object_new_int64((int64_t)size));
	return call_region_error(call, ERR("OutOfRange"), name, p);
}

static int ranges_error(struct call *call, int err)
{
	if (err == -E2BIG)
		return call_limit(call, "rangesPerRegion", RANGES_MAX);
	return call_system_error(call, "ranges", err);
}

static int no_such_label(struct call *call, const char *name, const char *label)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "label", json_object_new_string(label));
	return call_region_error(call, ERR("NoSuchLabel"), name, p);
}

int method_label(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	uint64_t offset, length;
	const char *label;

	if (param_span(call, true, &offset, &length) < 0 ||
	    param_label(call, "label", true, &label) < 0)
		return -EINVAL;
	struct region *r = lookup_need(call, NEED_READ_WRITE, &name);
	if (!r || check_inside(call, r, name, offset, length) < 0)
		return -EINVAL;
	int err = ranges_set(r, offset, length, label);
	if (err < 0)
		return ranges_error(call, err);
	r->changed_usec = now_usec();
	state_region_changed(call->server, r); /* before the reply: an answered Label is kept */
	return reply_ranges(call, r);
}

int method_unlabel(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	uint64_t offset = 0, length = 0;
	const char *label = NULL;
	int span, by_label, err;

	if ((span = param_span(call, false, &offset, &length)) < 0 ||
	    (by_label = param_label(call, "label", false, &label)) < 0)
		return -EINVAL;
	if (span == by_label)
		return call_invalid(call, "label", "give either offset and length, or label");
	struct region *r = lookup_need(call, NEED_READ_WRITE, &name);
	if (!r)
		return -EINVAL;
	if (span) {
		if (check_inside(call, r, name, offset, length) < 0)
			return -EINVAL;
		err = ranges_set(r, offset, length, NULL);
	} else {
		err = ranges_remove_label(r, label);
		if (err == 0)
			return no_such_label(call, name, label);
	}
	if (err < 0)
		return ranges_error(call, err);
	r->changed_usec = now_usec();
	state_region_changed(call->server, r); /* before the reply: an answered Label is kept */
	return reply_ranges(call, r);
}

int method_rename_label(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	const char *label, *new_label;

	if (param_label(call, "label", true, &label) < 0 ||
	    param_label(call, "newLabel", true, &new_label) < 0)
		return -EINVAL;
	struct region *r = lookup_need(call, NEED_READ_WRITE, &name);
	if (!r)
		return -EINVAL;
	int err = ranges_rename(r, label, new_label);
	if (err == 0)
		return no_such_label(call, name, label);
	if (err < 0)
		return ranges_error(call, err);
	r->changed_usec = now_usec();
	state_region_changed(call->server, r); /* before the reply: an answered Label is kept */
	return reply_ranges(call, r);
}

/* Every named range and every gap between them, up to the region's last page. */
static struct fp_part *collect_parts(struct region *r, uint64_t size, size_t *ret_n)
{
	uint64_t pos = 0, end = page_round_up(size);
	struct fp_part *v = calloc(2 * ranges_count(r) + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < ranges_count(r); i++) {
		const struct range *g = ranges_get(r, i);
		if (g->offset >= end)
			break;
		if (g->offset > pos)
			v[n++] = (struct fp_part){ pos, g->offset - pos, NULL };
		v[n++] = (struct fp_part){ g->offset, MIN(g->length, end - g->offset), g->label };
		pos = g->offset + g->length;
	}
	if (pos < end)
		v[n++] = (struct fp_part){ pos, end - pos, NULL };
	for (size_t i = 0; i < n; i++) /* spilled bytes from the spill index */
		v[i].spilled = spillpol_spilled_in(r, v[i].offset, v[i].length);
	*ret_n = n;
	return v;
}

/* Ranges with footprint: each part measured, on the worker for a large region. */
static int reply_parts(struct call *call, struct region *r, struct text *t, uint64_t size,
		       uint64_t allocated)
{
	size_t n = 0;
	_cleanup_free_ struct fp_part *parts = collect_parts(r, size, &n);

	if (!parts)
		return call_system_error(call, "malloc", ENOMEM);
	if (footprint_deferrable(allocated) && footprint_defer_parts(call, r, t, parts, n) == 0)
		return 0;
	int err = footprint_text_parts(t, r->fd, parts, n);
	if (err < 0)
		return call_system_error(call, "footprint", err);
	text_lit(t, "}}");
	return call_reply_text(call, t, -1);
}

int method_ranges(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	bool footprint = false;
	int ret;

	if (param_bool(call, "footprint", &footprint) < 0)
		return -EINVAL;
	/* Per-range residency is finer than Stat's: only those who could mincore() it see it. */
	struct region *r = lookup_need(call, footprint ? NEED_READ : NEED_NOTHING, &name);
	if (!r)
		return -EINVAL;
	uint64_t allocated, size = region_refresh_stat(r, &allocated);
	struct text t;

	text_init(&t);
	text_lit(&t, "{\"parameters\":{\"size\":");
	text_uint(&t, size);
	text_lit(&t, ",\"ranges\":");
	if (footprint)
		ret = reply_parts(call, r, &t, size, allocated);
	else {
		text_ranges(&t, r);
		text_lit(&t, "}}");
		ret = call_reply_text(call, &t, -1);
	}
	text_done(&t);
	return ret;
}

int reply_stat_footprint(struct call *call, struct region *r)
{
	struct text t;
	int ret = 0;

	text_init(&t);
	text_lit(&t, "{\"parameters\":{\"region\":");
	uint64_t allocated = text_region_stat(&t, r);
	if (!footprint_deferrable(allocated) || footprint_defer_stat(call, r, &t) < 0) {
		text_region_footprint(&t, r, allocated);
		text_lit(&t, "}}");
		ret = call_reply_text(call, &t, -1);
	}
	text_done(&t);
	return ret;
}

void text_region_footprint(struct text *t, struct region *r, uint64_t allocated)
{
	struct footprint f = { 0 };
	int err = 0;

	/* text_region_stat() has just read the size and what is allocated from the kernel. */
	if (allocated == 0)
		footprint_none(r->size, &f); /* nothing to measure: no syscall */
	else
		err = footprint_measure(r->fd, 0, r->size, &f);

	f.spilled = spillpol_spilled_in(r, 0, UINT64_MAX);
	if (err < 0) {
		_cleanup_free_ char *name = name_escape(r->name);
		log_warning("region '%s': cannot measure its footprint: %s", name ? name : "?",
			    strerror(-err));
		return;
	}
	text_truncate(t, t->len - 1); /* the Region's closing brace */
	text_lit(t, ",\"footprint\":");
	text_footprint(t, &f);
	text_lit(t, "}");
}

static void text_holder(struct text *t, const struct holder *h)
{
	text_lit(t, "{\"pid\":");
	text_uint(t, (uint64_t)h->pid);
	text_lit(t, ",\"command\":");
	text_string(t, h->command, strlen(h->command));
	text_lit(t, ",\"uid\":");
	text_uint(t, h->uid);
	if (h->unit) {
		text_lit(t, ",\"unit\":");
		text_string(t, h->unit, strlen(h->unit));
	}
	text_lit(t, ",\"fds\":");
	text_uint(t, h->fds);
	if (h->writable)
		text_lit(t, ",\"writable\":true");
	else
		text_lit(t, ",\"writable\":false");
	text_lit(t, ",\"mappedBytes\":");
	text_uint(t, h->mapped);
	text_lit(t, ",\"rss\":");
	text_uint(t, h->rss);
	text_lit(t, ",\"swap\":");
	text_uint(t, h->swap);
	text_lit(t, "}");
}

static int reply_holders(struct call *call, const struct holders *hs)
{
	struct text t;

	text_init(&t);
	text_lit(&t, "{\"parameters\":{\"holders\":[");
	for (size_t i = 0; i < hs->n; i++) {
		if (i)
			text_lit(&t, ",");
		text_holder(&t, &hs->v[i]);
	}
	text_lit(&t, "],\"scanned\":");
	text_uint(&t, hs->scanned);
	text_lit(&t, ",\"unreadable\":");
	text_uint(&t, hs->unreadable);
	if (hs->truncated)
		text_lit(&t, ",\"truncated\":true");
	else
		text_lit(&t, ",\"truncated\":false");
	if (hs->incomplete)
		text_lit(&t, ",\"complete\":false");
	else
		text_lit(&t, ",\"complete\":true");
	text_lit(&t, ",\"scanUSec\":");
	text_uint(&t, hs->usec);
	text_lit(&t, "}}");
	int ret = call_reply_text(call, &t, -1);
	text_done(&t);
	return ret;
}

/* A /proc scan of up to HOLDERS_SCAN_BUDGET_USEC, on the worker: the loop serves meanwhile. */
struct holders_job {
	struct worker *worker;
	struct call *call; /* deferred */
	dev_t dev;
	ino_t ino;
	int err;
	struct holders hs;
};

static void holders_run(void *p)
{
	struct holders_job *j = p;

	worker_fault_hold(j->worker, "holders");
	j->err = holders_scan(j->dev, j->ino, &j->hs);
}

static void holders_job_done(void *p, bool cancelled)
{
	struct holders_job *j = p;

	if (cancelled || j->err < 0)
		call_system_error(j->call, "scan /proc", cancelled ? ECANCELED : j->err);
	else
		reply_holders(j->call, &j->hs);
	call_finish(j->call);
	holders_done(&j->hs);
	free(j);
}

int method_holders(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	struct holders_job *j;
	struct holders hs;
	struct stat st;

	/* It reveals other processes: the owner (and administrators) only, as the table says. */
	struct region *r = lookup_need(call, call->method->need, &name);
	if (!r)
		return -EINVAL;
	if (fstat(r->fd, &st) < 0)
		return call_system_error(call, "fstat", errno);
	j = calloc(1, sizeof(*j));
	if (j) {
		*j = (struct holders_job){ call->server->worker, call_defer(call), st.st_dev,
					   st.st_ino };
		if (j->call && worker_submit(j->worker, holders_run, holders_job_done, j) == 0)
			return 0;
		if (j->call)
			call_undefer(call, j->call);
		free(j);
	}
	/* No worker (or no memory for the job): scan here, on the loop. */
	int err = holders_scan(st.st_dev, st.st_ino, &hs);
	if (err < 0)
		return call_system_error(call, "scan /proc", err);
	err = reply_holders(call, &hs);
	holders_done(&hs);
	return err;
}
