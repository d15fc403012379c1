/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One request being handled: typed parameters in, one reply or one named error out. */

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "call.h"
#include "connection.h"
#include "holdtrack.h"
#include "log.h"
#include "methods.h"
#include "methods-ranges.h"
#include "name.h"
#include "region.h"
#include "registry.h"
#include "seals.h"
#include "server.h"
#include "spill-index.h"
#include "varlink.h"

#define IFACE_SERVICE "org.varlink.service."

struct call *call_defer(struct call *call)
{
	struct call *d = malloc(sizeof(*d));

	if (!d)
		return NULL;
	*d = *call;
	/* The request's message and the connection's groups go away before the reply. */
	d->params = json_object_get(call->params);
	if (call->caller.n_groups > 0) {
		size_t size = call->caller.n_groups * sizeof(gid_t);
		d->own_groups = malloc(size);
		if (!d->own_groups) {
			json_object_put(d->params);
			free(d);
			return NULL;
		}
		memcpy(d->own_groups, call->caller.groups, size);
		d->caller.groups = d->own_groups;
	}
	call->deferred = true;
	connection_defer(call->conn, d);
	return d;
}

bool call_gone(const struct call *call)
{
	return !call->conn;
}

void call_finish(struct call *call)
{
	struct connection *c = call->conn;

	call_audit(call);
	json_object_put(call->params);
	free(call->own_groups);
	free(call);
	if (c)
		connection_resume(c);
}

void call_undefer(struct call *call, struct call *d)
{
	call->deferred = false;
	connection_defer(call->conn, NULL);
	json_object_put(d->params);
	free(d->own_groups);
	free(d);
}

int call_reply(struct call *call, json_object *params, int fd)
{
	static const char empty[] = "{\"parameters\":{}}";

	if (call->oneway) {
		json_object_put(params);
		safe_close(fd);
		return 0;
	}
	/* An empty reply (Delete's) is sent as it is: no json-c object to build and serialize. */
	if (!params)
		connection_send_text(call->conn, empty, sizeof(empty), fd);
	else
		connection_send(call->conn, vl_reply_new(params, false), fd);
	return 0;
}

int call_error(struct call *call, const char *error, json_object *params)
{
	if (!call->error)
		call->error = error;
	if (call->oneway) {
		json_object_put(params);
		return -EINVAL;
	}
	connection_send(call->conn, vl_error_new(error, params), -1);
	return -EINVAL;
}

int call_invalid(struct call *call, const char *parameter, const char *reason)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "parameter", json_object_new_string(parameter));
	/* The generic service interface has its own error, with only the parameter name. */
	if (strncmp(call->method->name, IFACE_SERVICE, strlen(IFACE_SERVICE)) == 0)
		return call_error(call, IFACE_SERVICE "InvalidParameter", p);
	json_object_object_add(p, "reason", json_object_new_string(reason));
	return call_error(call, "io.shmd.Manager.InvalidParameter", p);
}

int call_system_error(struct call *call, const char *operation, int err)
{
	json_object *p = json_object_new_object();
	err = abs(err);
	log_warning("%s: %s failed: %s", call->method->name, operation, strerror(err));
	json_object_object_add(p, "operation", json_object_new_string(operation));
	json_object_object_add(p, "errno", json_object_new_int(err));
	json_object_object_add(p, "message", json_object_new_string(strerror(err)));
	return call_error(call, "io.shmd.Manager.SystemError", p);
}

int call_region_error(struct call *call, const char *error, const char *name, json_object *extra)
{
	json_object *p = extra ? extra : json_object_new_object();
	json_add_name(p, "name", name);
	return call_error(call, error, p);
}

int call_denied(struct call *call, const char *name, const char *reason)
{
	json_object *p = json_object_new_object();
	const char *op = strrchr(call->method->name, '.') + 1;
	json_object_object_add(p, "operation", json_object_new_string(op));
	json_object_object_add(p, "reason", json_object_new_string(reason));
	return call_region_error(call, "io.shmd.Manager.PermissionDenied", name, p);
}

int call_limit(struct call *call, const char *limit, uint64_t max)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "limit", json_object_new_string(limit));
	json_object_object_add(p, "max",
			       json_object_new_int64((int64_t)MIN(max, (uint64_t)INT64_MAX)));
	return call_error(call, "io.shmd.Manager.LimitReached", p);
}

/* The escaped name of key ("name", "newName") when the call carries a valid one. */
static char *audit_name(struct call *call, const char *key)
{
	_cleanup_free_ char *name = NULL;
	const char *bad_key, *reason;

	if (json_get_name(call->params, key, false, &name, &bad_key, &reason) <= 0)
		return NULL;
	return name_escape(name);
}

void call_audit(struct call *call)
{
	const char *result = call->error ? strrchr(call->error, '.') + 1 : "ok";

	if (!(call->method->flags & METHOD_AUDIT) &&
	    (!call->error || strcmp(result, "NoSuchRegion") == 0))
		return;
	_cleanup_free_ char *region = audit_name(call, "name");
	_cleanup_free_ char *new_region = audit_name(call, "newName");
	struct audit_event e = {
		.operation = strrchr(call->method->name, '.') + 1,
		.region = region,
		.new_region = new_region,
		.uid = call->caller.uid,
		.gid = call->caller.gid,
		.pid = call->caller.pid,
		.unit = call->caller.unit,
		.result = result,
	};
	audit_log(&e);
}

int params_check_keys(struct call *call)
{
	json_object_object_foreach(call->params, key, value) {
		bool known = false;
		(void)value;
		for (const char *const *k = call->method->parameters; k && *k && !known; k++)
			known = strcmp(*k, key) == 0;
		if (!known)
			return call_invalid(call, key, "unknown parameter");
	}
	return 0;
}

/* The value of key, or NULL when absent. JSON null counts as absent (optional fields). */
static json_object *param_get(struct call *call, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(call->params, key, &v))
		return NULL;
	return v;
}

int param_uint(struct call *call, const char *key, uint64_t max, uint64_t *ret)
{
	json_object *v = param_get(call, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return call_invalid(call, key, "not an integer");
	if (json_object_get_int64(v) < 0)
		return call_invalid(call, key, "negative");
	/*
	 * json-c keeps a number past INT64_MAX as unsigned (and saturates at UINT64_MAX): read it
	 * that way, so INT64_MAX itself is a valid size and anything larger is out of range.
	 */
	uint64_t u = json_object_get_uint64(v);
	if (u > max) {
		char reason[64];
		snprintf(reason, sizeof(reason), "out of range (0 to %llu)",
			 (unsigned long long)max);
		return call_invalid(call, key, reason);
	}
	*ret = u;
	return 1;
}

int param_bool(struct call *call, const char *key, bool *ret)
{
	json_object *v = param_get(call, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return call_invalid(call, key, "not a boolean");
	*ret = json_object_get_boolean(v);
	return 1;
}

int param_string(struct call *call, const char *key, const char **ret)
{
	json_object *v = param_get(call, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return call_invalid(call, key, "not a string");
	*ret = json_object_get_string(v);
	return 1;
}

int param_seals(struct call *call, const char *key, unsigned *ret)
{
	json_object *v = param_get(call, key);
	if (!v)
		return 0;
	if (seals_from_json(v, ret) < 0)
		return call_invalid(call, key, "not an array of seal names");
	return 1;
}

int param_access(struct call *call, const char *key, int *ret)
{
	static const char *const names[] = { "none", "read_only", "read_write" };
	const char *s;
	int r = param_string(call, key, &s);
	if (r <= 0)
		return r;
	for (int i = 0; i < (int)ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = i;
			return 1;
		}
	return call_invalid(call, key, "expected none, read_only or read_write");
}

int param_name(struct call *call, const char *key, bool is_prefix, bool required, char **ret)
{
	const char *bad_key = key, *reason = "invalid";
	int r = json_get_name(call->params, key, is_prefix, ret, &bad_key, &reason);
	if (r < 0)
		return call_invalid(call, bad_key ? bad_key : key, reason ? reason : "invalid");
	if (r == 0 && required)
		return call_invalid(call, key, "missing");
	return r;
}

static void text_region_with(struct text *t, struct region *r, unsigned seals, uint64_t size);

void text_region(struct text *t, struct region *r, bool just_created)
{
	/* Just made, with no fd handed out yet: seals and size are what we set. */
	unsigned seals = just_created ? r->seals : region_seals(r);
	uint64_t size = just_created ? r->size : region_refresh_size(r);

	text_region_with(t, r, seals, size);
}

uint64_t text_region_stat(struct text *t, struct region *r)
{
	unsigned seals = region_seals(r);
	uint64_t allocated, size = region_refresh_stat(r, &allocated);

	text_region_with(t, r, seals, size);
	return allocated;
}

static void text_region_with(struct text *t, struct region *r, unsigned seals, uint64_t size)
{
	unsigned foreign = seals & ~r->applied_seals;

	if (foreign & ~r->foreign_logged) {
		char buf[128];
		_cleanup_free_ char *name = name_escape(r->name);
		log_notice("region '%s': a holder added seals behind the daemon's back: %s",
			   name ? name : "?", seals_format(foreign, buf, sizeof(buf)));
		r->foreign_logged |= foreign;
	}
	/* Written by hand, not with json-c objects: this is every reply's bulk. */
	text_lit(t, "{");
	text_name(t, "name", r->name);
	text_lit(t, ",\"id\":");
	text_uint(t, r->id);
	text_lit(t, ",\"size\":");
	text_uint(t, size);
	text_lit(t, ",\"uid\":");
	text_uint(t, r->uid);
	text_lit(t, ",\"gid\":");
	text_uint(t, r->gid);
	text_lit(t, ",\"mode\":");
	text_uint(t, r->mode);
	text_lit(t, ",\"creator\":{\"uid\":");
	text_uint(t, r->creator.uid);
	text_lit(t, ",\"gid\":");
	text_uint(t, r->creator.gid);
	text_lit(t, ",\"pid\":");
	text_uint(t, (uint64_t)MAX(r->creator.pid, 0));
	if (r->creator.unit) {
		text_lit(t, ",\"unit\":");
		text_string(t, r->creator.unit, strlen(r->creator.unit));
	}
	text_lit(t, "},\"createdUSec\":");
	text_uint(t, r->created_usec);
	text_lit(t, ",\"changedUSec\":");
	text_uint(t, r->changed_usec);
	text_lit(t, ",\"seals\":");
	text_seals(t, seals);
	text_lit(t, ",\"foreignSeals\":");
	text_seals(t, foreign);
	if (r->fixed)
		text_lit(t, ",\"fixed\":true");
	else
		text_lit(t, ",\"fixed\":false");
	if (r->nospill)
		text_lit(t, ",\"nospill\":true");
	else
		text_lit(t, ",\"nospill\":false");
	holdtrack_text_region(t, r);
	text_region_spill(t, r);
	text_region_ranges(t, r);
	text_lit(t, "}");
}

int call_reply_text(struct call *call, struct text *t, int fd)
{
	if (call->oneway) {
		safe_close(fd);
		return 0;
	}
	if (t->oom) {
		safe_close(fd);
		return call_system_error(call, "malloc", ENOMEM);
	}
	/* The NUL terminator is part of the message. */
	connection_send_text(call->conn, t->p, t->len + 1, fd);
	return 0;
}

struct region *call_lookup(struct call *call, enum access_need need, char **ret_name)
{
	_cleanup_free_ char *name = NULL;

	if (param_name(call, "name", false, true, &name) < 0)
		return NULL;
	struct region *r = registry_find(&call->server->registry, name);
	if (!r) {
		call_region_error(call, "io.shmd.Manager.NoSuchRegion", name, NULL);
		return NULL;
	}
	const char *reason = access_check(&call->caller, r, need);
	if (reason) {
		call_denied(call, name, reason);
		return NULL;
	}
	if (ret_name)
		*ret_name = TAKE_PTR(name);
	return r;
}
