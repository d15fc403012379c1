/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill policy: which regions may be spilled, when (water marks, memory pressure,
 * shmctl spill) and what waits for a restore (Open of a spilled region). The spill engine
 * (spill.h) does the I/O; holder counts come from holdtrack.h. Owns the spill engine
 * handle, the PSI trigger and the calls waiting for a region's job to end.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "psi.h"

struct call;
struct region;
struct server;
struct spill;
struct spillpol_waiter;
struct json_object;

struct spillpol {
	struct server *server;
	struct spill *spill; /* NULL: spilling off (Enable=no, or the file would not open) */
	int open_error;	     /* -errno of spill_open() when Enable=yes and it failed */
	char path[4096];     /* the spill file in use */
	struct psi psi;
	sd_event_source *eval; /* an evaluation soon (coalesced, at most once a second) */
	uint64_t last_eval_usec;
	bool pressure; /* the next evaluation answers a pressure event */
	struct spillpol_waiter *waiters;
	uint64_t last_job_id; /* the job that ended last, and how (for handlers run again) */
	int last_job_error;
	size_t running; /* automatic spills in flight: no new evaluation until they end */
	/* For Status. */
	uint64_t usage;	      /* region memory at the last evaluation */
	uint64_t auto_spills; /* started by the water marks or pressure */
	uint64_t pressure_events;
	uint64_t refused_unwatched; /* regions left out for want of an inotify watch */
};

/* Open the spill file per [Spill] (after the state and the holder counts are restored). */
int spillpol_init(struct server *s);
/* Ends waiting calls (their clients get an error) and closes the spill file. */
void spillpol_done(struct server *s);
/* After a reload: the water marks and the trigger in force now. */
void spillpol_reload(struct server *s);

/*
 * Why r may not be spilled now, or NULL: *error is the Varlink error to answer
 * ("RegionNotSpillable" or "Busy"). automatic: the policy's own choice (MinIdleSec too).
 */
const char *spillpol_refusal(struct server *s, struct region *r, bool automatic,
			     const char **error);

/*
 * Region memory may have changed (Create, Resize, a last holder gone): evaluate the water
 * marks soon, at most once a second.
 */
void spillpol_poke(struct server *s);

/*
 * For a handler about to hand out or change r: 0 when r is resident (go on); 1 when the
 * call was deferred until r's spill or restore ends (the handler runs again then: return
 * 0); -EINVAL when an error was replied (damaged, spilling off, ...).
 */
int spillpol_need_resident(struct call *call, struct region *r);

/* Start spilling (out) or restoring r for call, which waits for the end. 0 or -errno. */
int spillpol_start(struct call *call, struct region *r, bool out);
/* How the last job of r ended, for a handler run again after it: 0 or -errno. */
int spillpol_job_error(struct server *s, const struct region *r);
/* Evaluate the policy now for SpillEvaluate: answers when the spills it starts end. */
int spillpol_evaluate_call(struct call *call, bool pressure);

/* r leaves the registry (Delete, Rename over it): its job is cancelled, its extents freed. */
void spillpol_forget(struct server *s, struct region *r);

/* Bytes of [offset, offset+length) of r in the spill file, from its spill index. */
uint64_t spillpol_spilled_in(const struct region *r, uint64_t offset, uint64_t length);

/* Method handlers (methods-spill.c). */
int method_spill(struct call *call);
int method_restore(struct call *call);
int method_spill_evaluate(struct call *call);
/* Status members: the spill object. */
void spillpol_status(struct server *s, struct json_object *p);
