/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Background work: one thread runs slow jobs, their completions run on the event loop. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

/*
 * Usage. A job is a heap object of the caller's that owns everything the thread touches (a
 * dup'd fd, a buffer), never the registry, a region or a connection:
 *
 *	struct my_job { int fd; uint64_t region_id; struct call *call; int result; };
 *	static void my_run(void *p)              // on the worker thread
 *	{ struct my_job *j = p; j->result = slow_syscalls(j->fd); }
 *	static void my_done(void *p, bool cancelled)   // on the event loop, always exactly once
 *	{ struct my_job *j = p; look the region up again by j->region_id (it may be gone);
 *	  reply on j->call unless cancelled; call_finish(j->call); close(j->fd); free(j); }
 *
 *	r = worker_submit(server->worker, my_run, my_done, job);   // < 0: do it inline instead
 *
 * Jobs run one at a time, in submission order; completions come back in the same order.
 * Deferred replies (a method answering from my_done) are in call.h.
 */
struct worker;

/* Runs on the worker thread: may block, must touch only what the job owns. */
typedef void (*worker_run_fn)(void *job);
/*
 * Runs on the event loop once per submitted job, after run (cancelled: false), or without
 * it when the worker was freed before the job started (cancelled: true). It frees the job.
 */
typedef void (*worker_done_fn)(void *job, bool cancelled);

/*
 * An eventfd watched by event for completions. The thread starts at the first submit: after
 * privileges_drop(), since capabilities are per thread. 0 or -errno.
 */
int worker_new(sd_event *event, struct worker **ret);
/*
 * Stop: wait for the job running (worker_stopping() turns true for it), then run the
 * completions of finished jobs and cancel the queued ones. NULL is fine.
 */
void worker_free(struct worker *w);

/* Queue a job (job not taken on error). 0, or -errno (the thread cannot start). */
int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done, void *job);

/* True once worker_free() has begun: a long job (a spill) should give up early. */
bool worker_stopping(struct worker *w);

/* Jobs submitted whose completion has not run yet. */
unsigned worker_pending(const struct worker *w);

/*
 * Test builds (--enable-fault-injection): with SHMD_FAULT_HOLD=POINT:PATH in the daemon's
 * environment, a job passing POINT creates PATH.held, then waits until PATH exists (or the
 * worker stops): a test knows the job is running and holds it as long as it needs, without
 * any timing. Otherwise a no-op.
 */
void worker_fault_hold(struct worker *w, const char *point);
