/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One request being handled: typed parameters in, one reply or one named error out. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "access.h"
#include "peer.h"
#include "text.h"

struct connection;
struct method;
struct region;
struct server;

struct call {
	struct server *server;
	struct connection *conn;
	const struct method *method;
	json_object *params; /* borrowed, always an object */
	struct caller caller;
	bool more;
	bool oneway;
	const char *error; /* the first error replied (static), NULL while none */
	bool deferred;	   /* call_defer() took it over: the reply comes later */
	gid_t *own_groups; /* a deferred call's copy of caller.groups */
};

/*
 * Deferred replies: a handler that must wait (for the worker, a restore...) answers later.
 *
 *	struct call *d = call_defer(call);   // in the handler; NULL: out of memory, reply now
 *	... worker_submit(call->server->worker, run, done, job) with d in the job; return 0;
 *	// later, on the event loop (the job's completion):
 *	if (!call_gone(d)) ...                // the client is still there (else replies are dropped)
 *	call_reply_text(d, &t, fd);            // any reply or error helper, exactly once
 *	call_finish(d);                        // audits, frees d, serves the connection's next request
 *
 * Replies on a connection stay in request order: while a call is pending its connection
 * reads and dispatches nothing more (requests already sent wait in the socket). A client
 * that hangs up meanwhile is disconnected at once and d is detached: helpers then send
 * nothing and close the fds given to them; d->conn is NULL; call_finish() still must run.
 * The shutdown closes every connection before freeing the worker, whose completions (run or
 * cancelled) then see detached calls. d->caller and d->params stay valid until call_finish().
 */
struct call *call_defer(struct call *call);
/* The client of a deferred call closed its connection: nothing will be sent. */
bool call_gone(const struct call *call);
void call_finish(struct call *call);
/* Take back a call_defer() in the handler that made it (nothing replied yet): d is freed. */
void call_undefer(struct call *call, struct call *d);

/*
 * Every reply helper returns 0 and every error helper returns -EINVAL, so handlers can
 * "return call_error(...)". With oneway nothing is sent (fds are still closed).
 */
int call_reply(struct call *call, json_object *params, int fd);
int call_error(struct call *call, const char *error, json_object *params);
int call_invalid(struct call *call, const char *parameter, const char *reason);
int call_system_error(struct call *call, const char *operation, int err);
/* Errors that name a region: NoSuchRegion, RegionExists, ... with name/nameBase64. */
int call_region_error(struct call *call, const char *error, const char *name, json_object *extra);
int call_denied(struct call *call, const char *name, const char *reason);
int call_limit(struct call *call, const char *limit, uint64_t max);

/*
 * The audit record of a call just handled (daemon/audit.h): every call of a METHOD_AUDIT
 * method, and every error of the others but NoSuchRegion (an answer, not a refusal).
 */
void call_audit(struct call *call);

/* Refuse parameters the method does not know. 0 or -EINVAL (replied). */
int params_check_keys(struct call *call);
/* Each getter: 1 when present and valid, 0 when absent (*ret untouched), -EINVAL (replied). */
int param_uint(struct call *call, const char *key, uint64_t max, uint64_t *ret);
int param_bool(struct call *call, const char *key, bool *ret);
int param_string(struct call *call, const char *key, const char **ret);
int param_seals(struct call *call, const char *key, unsigned *ret);
/* "none", "read_only", "read_write" -> 0, 1, 2. */
int param_access(struct call *call, const char *key, int *ret);
/* The <key>/<key>Base64 pair; required: absence is an error. */
int param_name(struct call *call, const char *key, bool is_prefix, bool required, char **ret);

/*
 * The Region object of the IDL, read fresh from the kernel (size, seals), except
 * just_created: no one else can have changed them yet.
 */
void text_region(struct text *t, struct region *r, bool just_created);
/* The same, read fresh, for a footprint: returns the bytes allocated (UINT64_MAX: unknown). */
uint64_t text_region_stat(struct text *t, struct region *r);
/* Send t (a complete message without its NUL) with an optional fd (taken), like call_reply. */
int call_reply_text(struct call *call, struct text *t, int fd);

/* The region named by the request's "name", after the access check for need. NULL: replied
 * (InvalidParameter, NoSuchRegion or PermissionDenied). *ret_name (optional) gets the name. */
struct region *call_lookup(struct call *call, enum access_need need, char **ret_name);
