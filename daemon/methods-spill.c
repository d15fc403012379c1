/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Spill, Restore and SpillEvaluate, and the spill members of Status. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "call.h"
#include "holdtrack.h"
#include "macro.h"
#include "methods.h"
#include "region.h"
#include "registry.h"
#include "server.h"
#include "spill.h"
#include "spillpol.h"
#include "text.h"

#define ERR(e) "io.shmd.Manager." e

static struct region *lookup(struct call *call)
{
	return call_lookup(call, call->method->need, NULL);
}

static int reply_region(struct call *call, struct region *r)
{
	struct text t;
	text_init(&t);
	text_lit(&t, "{\"parameters\":{\"region\":");
	text_region(&t, r, false);
	text_lit(&t, "}}");
	int ret = call_reply_text(call, &t, -1);
	text_done(&t);
	return ret;
}

/* The last job of r failed (its outcome is in the engine's counters): say so. */
int method_spill(struct call *call)
{
	const char *error, *why;
	struct region *r = lookup(call);

	if (!r)
		return -EINVAL;
	switch (spill_region_state(r)) {
	case SPILL_SPILLED:
		return reply_region(call, r);
	case SPILL_RESIDENT:
		break;
	default:
		/* A job runs: wait for it, then decide again. */
		return spillpol_need_resident(call, r) < 0 ? -EINVAL : 0;
	}
	/* Run again after its job: still resident means it failed or was cancelled. */
	int err = call->deferred ? spillpol_job_error(call->server, r) : 0;
	if (err == -ECANCELED) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "reason",
				       json_object_new_string("an Open took it back before the "
							      "spill completed"));
		return call_region_error(call, ERR("Busy"), r->name, p);
	}
	if (err == -ENOSPC)
		return call_system_error(call, "spill: the spill file or its filesystem is full",
					 ENOSPC);
	if (err < 0)
		return call_system_error(call, "spill", -err);
	why = spillpol_refusal(call->server, r, false, &error);
	if (why) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "reason", json_object_new_string(why));
		return strcmp(error, "Busy") == 0 ?
			       call_region_error(call, ERR("Busy"), r->name, p) :
			       call_region_error(call, ERR("RegionNotSpillable"), r->name, p);
	}
	err = spillpol_start(call, r, true);
	if (err == -EBUSY) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "reason",
				       json_object_new_string("held: a process has a file "
							      "descriptor or a mapping of it"));
		return call_region_error(call, ERR("Busy"), r->name, p);
	}
	return err < 0 ? call_system_error(call, "spill", -err) : 0;
}

int method_restore(struct call *call)
{
	struct region *r = lookup(call);

	if (!r)
		return -EINVAL;
	int k = spillpol_need_resident(call, r);
	if (k != 0)
		return k < 0 ? -EINVAL : 0;
	return reply_region(call, r);
}

int method_spill_evaluate(struct call *call)
{
	bool pressure = false;

	if (param_bool(call, "pressure", &pressure) < 0)
		return -EINVAL;
	if (!call->caller.admin) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "operation", json_object_new_string("SpillEvaluate"));
		json_object_object_add(
			p, "reason",
			json_object_new_string("only an administrator may run the spill policy"));
		return call_error(call, ERR("PermissionDenied"), p);
	}
	return spillpol_evaluate_call(call, pressure);
}

static void add_int(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)MIN(v, (uint64_t)INT64_MAX)));
}

struct count {
	uint64_t spilled, spilled_bytes, damaged;
};

static void count_one(struct region *r, void *userdata)
{
	struct count *c = userdata;
	enum spill_state st = spill_region_state(r);

	if (st == SPILL_SPILLED) {
		c->spilled++;
		c->spilled_bytes += spill_region_bytes(r);
	} else if (st == SPILL_DAMAGED) {
		c->damaged++;
	}
}

void spillpol_status(struct server *s, json_object *p)
{
	struct spillpol *sp = &s->spillpol;
	json_object *o = json_object_new_object();
	struct count c = { 0 };
	struct spill_stats st = { 0 };

	registry_foreach(&s->registry, count_one, &c);
	json_object_object_add(o, "enabled", json_object_new_boolean(sp->spill != NULL));
	if (sp->path[0])
		json_object_object_add(o, "path", json_object_new_string(sp->path));
	if (sp->spill)
		spill_get_stats(sp->spill, &st);
	add_int(o, "fileSize", st.file_size);
	add_int(o, "maxSize", st.max_size);
	add_int(o, "used", st.used);
	add_int(o, "free", st.free);
	add_int(o, "spilledRegions", c.spilled);
	add_int(o, "spilledBytes", c.spilled_bytes);
	add_int(o, "damagedRegions", c.damaged);
	add_int(o, "spills", st.spills);
	add_int(o, "restores", st.restores);
	add_int(o, "errors", st.errors);
	if (st.last_error) {
		char buf[160];
		snprintf(buf, sizeof(buf), "%s: %s", st.last_error_what, strerror(-st.last_error));
		json_object_object_add(o, "lastError", json_object_new_string(buf));
	}
	add_int(o, "unwatchedRegions", s->holdtrack.n_unwatched);
	if (sp->last_eval_usec) /* the policy has looked: with no HighWater=, at pressure only */
		add_int(o, "regionMemory", sp->usage);
	add_int(o, "automaticSpills", sp->auto_spills);
	add_int(o, "pressureEvents", sp->pressure_events);
	if (psi_armed(&sp->psi))
		json_object_object_add(o, "pressureTrigger",
				       json_object_new_string(sp->psi.trigger));
	json_object_object_add(p, "spill", o);
}
