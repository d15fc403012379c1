/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The spill policy: eligibility, water marks, the pressure trigger, calls waiting for a restore. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "call.h"
#include "conf.h"
#include "holdtrack.h"
#include "log.h"
#include "macro.h"
#include "methods.h"
#include "name.h"
#include "region.h"
#include "server.h"
#include "spill.h"
#include "spillpol-select.h"
#include "spillpol.h"
#include "state.h"

#define EVAL_INTERVAL_USEC UINT64_C(1000000)

/* A call deferred until the job of region id ends; its handler then runs again. */
struct spillpol_waiter {
	struct spillpol_waiter *next;
	uint64_t id;
	struct call *call;
};

/* One spill_out()/spill_in() the policy started. */
struct job {
	struct spillpol *sp;
	uint64_t id;
	char *name;	     /* for the log: the region may be gone when done runs */
	bool automatic;	     /* the water marks' or pressure's, counted in sp->running */
	struct batch *batch; /* SpillEvaluate's, or NULL */
};

/* The spills one SpillEvaluate started: it answers when the last one ends. */
struct batch {
	struct call *call;
	uint64_t usage, target;
	unsigned started, pending, done, failed;
};

static const struct conf_spill *live_conf(const struct server *s)
{
	return &s->quota.conf.spill;
}

/* "region 'NAME': what: detail" */
static void log_region(int prio, const char *name, const char *what, const char *detail)
{
	_cleanup_free_ char *esc = name_escape(name);
	log_msg(prio, "region '%s': %s: %s", esc ? esc : "?", what, detail);
}

/* ---------------------------------------------------------------- eligibility */

const char *spillpol_refusal(struct server *s, struct region *r, bool automatic, const char **error)
{
	struct spillpol *sp = &s->spillpol;
	unsigned seals;

	*error = "RegionNotSpillable";
	if (!sp->spill)
		return sp->open_error ? "the spill file could not be opened (see the log)" :
					"spilling is off ([Spill] Enable=no in shmd.conf)";
	if (r->nospill)
		return "created nospill";
	seals = region_seals(r);
	/* F_SEAL_WRITE/F_SEAL_FUTURE_WRITE: its content may not be punched, nor rewritten. */
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return "write-sealed";
	if (spill_region_state(r) == SPILL_DAMAGED)
		return "damaged: a restore found a bad checksum";
	if (r->watch <= 0)
		return "its holders cannot be counted (no inotify watch, see "
		       "fs.inotify.max_user_watches)";
	*error = "Busy";
	if (!automatic) /* evaluate() reads the events once for all regions */
		holdtrack_sync(s);
	if (!holdtrack_none(r)) {
		if (!r->holders_known)
			return "its holders are not known yet (a recount is pending)";
		return "a process holds it by a file descriptor or a mapping";
	}
	if (automatic) {
		uint64_t last = MAX(MAX(r->last_open_usec, r->last_close_usec), r->created_usec);
		if (now_usec() - MIN(last, now_usec()) < live_conf(s)->min_idle_usec)
			return "used less than MinIdleSec= ago";
	}
	return NULL;
}

/*
 * A count of 0 is a hint (holdtrack.h: inotify merges equal events): before anything
 * irrevocable, confirm it with a /proc scan. The regions are marked unknown and recounted
 * together (one scan); true when r has no holder for sure.
 */
static void mark_unknown(struct region *r)
{
	if (r->watch > 0)
		r->holders_known = false;
}

static bool confirmed_idle(struct region *r)
{
	return holdtrack_none(r);
}

/* ---------------------------------------------------------------- waiters */

static int wait_for(struct spillpol *sp, struct call *call, uint64_t id)
{
	struct spillpol_waiter *w = calloc(1, sizeof(*w));
	struct call *d = call;

	if (!w)
		return call_system_error(call, "malloc", ENOMEM);
	/* A call the policy already deferred (its handler runs again) keeps its pointer. */
	if (!call->deferred && !(d = call_defer(call))) {
		free(w);
		return call_system_error(call, "malloc", ENOMEM);
	}
	*w = (struct spillpol_waiter){ sp->waiters, id, d };
	sp->waiters = w;
	return 1;
}

/* Run the waiting handlers of region id again: it is resident, spilled or gone now. */
static void wake(struct spillpol *sp, uint64_t id)
{
	struct spillpol_waiter *mine = NULL, **p = &sp->waiters;

	while (*p) {
		struct spillpol_waiter *w = *p;
		if (w->id != id) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		w->next = mine;
		mine = w;
	}
	while (mine) {
		struct spillpol_waiter *w = mine;
		struct call *d = w->call;
		mine = w->next;
		free(w);
		if (call_gone(d)) {
			call_finish(d);
			continue;
		}
		d->deferred = true; /* tells spillpol_need_resident() it may queue d again */
		d->error = NULL;
		size_t before = 0;
		for (struct spillpol_waiter *x = sp->waiters; x; x = x->next)
			before += x->call == d;
		(void)d->method->handler(d);
		size_t after = 0;
		for (struct spillpol_waiter *x = sp->waiters; x; x = x->next)
			after += x->call == d;
		if (after == before)
			call_finish(d);
	}
}

/* ---------------------------------------------------------------- jobs */

static void batch_end(struct batch *b)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "usage", json_object_new_int64((int64_t)b->usage));
	json_object_object_add(p, "target", json_object_new_int64((int64_t)b->target));
	json_object_object_add(p, "started", json_object_new_int64(b->started));
	json_object_object_add(p, "spilled", json_object_new_int64(b->done));
	json_object_object_add(p, "failed", json_object_new_int64(b->failed));
	if (b->call) {
		call_reply(b->call, p, -1);
		call_finish(b->call);
	} else {
		json_object_put(p);
	}
	free(b);
}

static void on_job_done(struct spill *spill, struct region *r, int error, void *userdata)
{
	struct job *j = userdata;
	struct spillpol *sp = j->sp;

	if (error < 0 && error != -ECANCELED)
		log_region(LOG_WARNING, j->name, "spill or restore failed", strerror(-error));
	if (j->automatic)
		sp->running--;
	if (j->batch) {
		if (error < 0)
			j->batch->failed++;
		else
			j->batch->done++;
		if (--j->batch->pending == 0)
			batch_end(j->batch);
	}
	uint64_t id = j->id;
	free(j->name);
	free(j);
	/* The handlers that run again learn from this how the job ended. */
	sp->last_job_id = id;
	sp->last_job_error = error;
	wake(sp, id);
	if (sp->running == 0 && error == 0)
		spillpol_poke(sp->server); /* perhaps not under the low-water mark yet */
}

/* Start a spill (out true) or restore of r. 0 or -errno of the engine. */
static int start_job(struct spillpol *sp, struct region *r, bool out, bool automatic,
		     struct batch *batch)
{
	struct job *j = calloc(1, sizeof(*j));
	int err;

	if (!j || !(j->name = strdup(r->name))) {
		free(j);
		return -ENOMEM;
	}
	j->sp = sp;
	j->id = r->id;
	j->automatic = automatic;
	j->batch = batch;
	err = out ? spill_out(sp->spill, r, on_job_done, j) :
		    spill_in(sp->spill, r, on_job_done, j);
	if (err < 0) {
		free(j->name);
		free(j);
		return err;
	}
	if (automatic) {
		sp->running++;
		sp->auto_spills++;
	}
	if (batch)
		batch->started++, batch->pending++;
	return 0;
}

int spillpol_need_resident(struct call *call, struct region *r)
{
	struct spillpol *sp = &call->server->spillpol;
	int err;

	switch (spill_region_state(r)) {
	case SPILL_RESIDENT:
		return 0;
	case SPILL_DAMAGED:
		return call_region_error(call, "io.shmd.Manager.RegionDamaged", r->name, NULL);
	case SPILL_SPILLING:
		/* Take it back before its punch if we can; either way, wait for the job. */
		(void)spill_cancel(sp->spill, r);
		return wait_for(sp, call, r->id);
	case SPILL_RESTORING:
		return wait_for(sp, call, r->id);
	case SPILL_SPILLED:
		if (!sp->spill) /* spilled, then the daemon restarted with Enable=no */
			return call_system_error(call, "restore: the spill file is not open",
						 ENXIO);
		/* Run again after a restore that failed: say so rather than loop. */
		if (call->deferred && sp->last_job_id == r->id && sp->last_job_error < 0)
			return call_system_error(call, "restore", -sp->last_job_error);
		err = start_job(sp, r, false, false, NULL);
		if (err < 0)
			return call_system_error(call, "restore", -err);
		return wait_for(sp, call, r->id);
	}
	return 0;
}

int spillpol_start(struct call *call, struct region *r, bool out)
{
	struct spillpol *sp = &call->server->spillpol;
	int err;

	if (out) {
		mark_unknown(r);
		holdtrack_recount(call->server);
		if (!confirmed_idle(r))
			return -EBUSY;
	}
	err = start_job(sp, r, out, false, NULL);

	if (err < 0)
		return err;
	return wait_for(sp, call, r->id) < 0 ? -ENOMEM : 0;
}

int spillpol_job_error(struct server *s, const struct region *r)
{
	const struct spillpol *sp = &s->spillpol;
	return sp->last_job_id == r->id ? sp->last_job_error : 0;
}

/* ---------------------------------------------------------------- evaluation */

struct gather {
	struct server *server;
	struct spillpol_candidate *c;
	size_t n, cap;
	uint64_t usage;
	bool oom;
};

/* Region memory (st_blocks: resident and swapped pages) and the regions that may go. */
static void gather_one(struct region *r, void *userdata)
{
	struct gather *g = userdata;
	const char *error;
	struct stat st;

	if (fstat(r->fd, &st) < 0)
		return;
	uint64_t bytes = (uint64_t)st.st_blocks * 512;
	g->usage += bytes;
	if (bytes == 0 || spill_region_state(r) != SPILL_RESIDENT ||
	    spillpol_refusal(g->server, r, true, &error))
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct spillpol_candidate *c = reallocarray(g->c, cap, sizeof(*c));
		if (!c) {
			g->oom = true;
			return;
		}
		g->c = c;
		g->cap = cap;
	}
	g->c[g->n++] = (struct spillpol_candidate){
		.region = r,
		.id = r->id,
		.bytes = bytes,
		.last_use_usec = MAX(MAX(r->last_open_usec, r->last_close_usec), r->created_usec),
	};
}

/* Evaluate now: start the spills the water marks or pressure call for. How many started. */
static unsigned evaluate(struct spillpol *sp, bool pressure, struct batch *batch)
{
	struct server *s = sp->server;
	const struct conf_spill *conf = live_conf(s);
	struct gather g = { .server = s };
	unsigned started = 0;

	sp->last_eval_usec = now_usec();
	if (!sp->spill)
		return 0;
	holdtrack_sync(s);
	registry_foreach(&s->registry, gather_one, &g);
	sp->usage = g.usage;
	uint64_t target =
		spillpol_target(g.usage, conf->high_water, conf_spill_low_water(conf), pressure);
	if (batch) {
		batch->usage = g.usage;
		batch->target = target;
	}
	size_t n = target < g.usage ? spillpol_select(g.c, g.n, g.usage, target) : 0;
	for (size_t i = 0; i < n; i++)
		mark_unknown(g.c[i].region);
	if (n > 0)
		holdtrack_recount(s);
	for (size_t i = 0; i < n; i++) {
		if (!confirmed_idle(g.c[i].region))
			continue; /* a holder the counts had missed: left alone */
		int err = start_job(sp, g.c[i].region, true, true, batch);
		if (err < 0)
			log_region(LOG_WARNING, g.c[i].region->name, "cannot start its spill",
				   strerror(-err));
		else
			started++;
	}
	if (started)
		log_info("spill policy: region memory %llu bytes, target %llu (%s): spilling %u "
			 "idle regions",
			 (unsigned long long)g.usage, (unsigned long long)target,
			 pressure ? "memory pressure" : "over HighWater=", started);
	free(g.c);
	return started;
}

static int on_eval(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct spillpol *sp = userdata;
	bool pressure = sp->pressure;

	/* While automatic spills run, their end pokes again. */
	if (sp->running > 0)
		return 0;
	sp->pressure = false;
	evaluate(sp, pressure, NULL);
	return 0;
}

void spillpol_poke(struct server *s)
{
	struct spillpol *sp = &s->spillpol;
	const struct conf_spill *conf = live_conf(s);

	if (!sp->spill || (conf->high_water == CONF_UNLIMITED && !sp->pressure))
		return;
	uint64_t when = sp->last_eval_usec + EVAL_INTERVAL_USEC;
	uint64_t now = now_usec();
	/* A realtime clock that went back must not postpone it for long. */
	uint64_t delay = when > now ? MIN(when - now, EVAL_INTERVAL_USEC) : 0;
	if (!sp->eval) {
		if (sd_event_add_time_relative(s->event, &sp->eval, CLOCK_MONOTONIC, delay, 0,
					       on_eval, sp) < 0)
			sp->eval = NULL;
		else
			sd_event_source_set_enabled(sp->eval, SD_EVENT_ONESHOT);
		return;
	}
	int enabled = SD_EVENT_OFF;
	if (sd_event_source_get_enabled(sp->eval, &enabled) >= 0 && enabled != SD_EVENT_OFF)
		return; /* already due */
	sd_event_source_set_time_relative(sp->eval, delay);
	sd_event_source_set_enabled(sp->eval, SD_EVENT_ONESHOT);
}

static void on_pressure(void *userdata)
{
	struct spillpol *sp = userdata;

	sp->pressure_events++;
	sp->pressure = true;
	spillpol_poke(sp->server);
}

/* ---------------------------------------------------------------- setup */

static int record(struct region *r, void *userdata)
{
	return state_region_record(userdata, r);
}

/* A restored region's extents are in use again; bad ones make it damaged (logged). */
static void claim(struct region *r, void *userdata)
{
	struct spillpol *sp = userdata;
	if (r->spill && spill_claim(sp->spill, r) < 0)
		log_region(LOG_ERR, r->name, "its spill index is damaged",
			   "an extent overlaps another or passes the end of the spill file");
}

int spillpol_init(struct server *s)
{
	struct spillpol *sp = &s->spillpol;
	const struct conf_spill *conf = live_conf(s);
	char buf[sizeof(sp->path)];

	sp->server = s;
	psi_init(&sp->psi);
	if (!conf->enable)
		return 0;
	snprintf(sp->path, sizeof(sp->path), "%s", conf_spill_path(conf, buf, sizeof(buf)));
	int r = spill_open(&sp->spill, s->worker, sp->path, conf->max_size, record, s);
	if (r < 0) {
		sp->open_error = r;
		sp->spill = NULL;
		log_errno(LOG_ERR, r, "spill file %s: cannot open it; nothing will be spilled",
			  sp->path);
		return 0;
	}
	registry_foreach(&s->registry, claim, sp);
	log_info("spill file %s, up to %llu bytes", sp->path, (unsigned long long)conf->max_size);
	spillpol_reload(s);
	return 0;
}

void spillpol_reload(struct server *s)
{
	struct spillpol *sp = &s->spillpol;
	const struct conf_spill *conf = live_conf(s);

	if (!sp->spill)
		return;
	if (strcmp(conf->pressure, sp->psi.trigger) != 0 || !psi_armed(&sp->psi))
		(void)psi_arm(&sp->psi, s->event, conf->pressure, on_pressure, sp);
	spillpol_poke(s);
}

void spillpol_done(struct server *s)
{
	struct spillpol *sp = &s->spillpol;

	if (!sp->server)
		return; /* spillpol_init() never ran (a start that failed, the fuzz harness) */
	psi_done(&sp->psi);
	sp->eval = sd_event_source_disable_unref(sp->eval);
	/* spill_free() waits for the running job; its completion never comes: end the waiters. */
	sp->spill = spill_free(sp->spill);
	while (sp->waiters) {
		struct spillpol_waiter *w = sp->waiters;
		sp->waiters = w->next;
		call_system_error(w->call, "restore", ESHUTDOWN);
		call_finish(w->call);
		free(w);
	}
}

int spillpol_evaluate_call(struct call *call, bool pressure)
{
	struct spillpol *sp = &call->server->spillpol;
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return call_system_error(call, "malloc", ENOMEM);
	evaluate(sp, pressure, b);
	/* Completions come later from the event loop, never from inside spill_out(). */
	if (b->pending > 0 && (b->call = call_defer(call)))
		return 0;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "usage", json_object_new_int64((int64_t)b->usage));
	json_object_object_add(p, "target", json_object_new_int64((int64_t)b->target));
	json_object_object_add(p, "started", json_object_new_int64(b->started));
	json_object_object_add(p, "spilled", json_object_new_int64(0));
	json_object_object_add(p, "failed", json_object_new_int64(0));
	if (b->pending > 0) /* call_defer() ran out of memory: the spills go on, unreported */
		b = NULL;
	free(b);
	return call_reply(call, p, -1);
}

void spillpol_forget(struct server *s, struct region *r)
{
	if (s->spillpol.spill)
		spill_forget(s->spillpol.spill, r);
}

uint64_t spillpol_spilled_in(const struct region *r, uint64_t offset, uint64_t length)
{
	uint64_t end = length > UINT64_MAX - offset ? UINT64_MAX : offset + length, sum = 0;

	/* Resident (or restoring): the index still lists the extents, the data is back. */
	if (!r->spill || spill_region_bytes(r) == 0)
		return 0;
	for (size_t i = 0; i < r->spill->n_extents; i++) {
		const struct spill_extent *e = &r->spill->extents[i];
		uint64_t lo = MAX(e->offset, offset), hi = MIN(e->offset + e->length, end);
		if (hi > lo)
			sum += hi - lo;
	}
	return sum;
}
