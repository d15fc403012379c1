/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quotas and name ownership in the methods: the checks Create, Resize, Rename and SetAccess make,
 * and the Quotas and Reload methods. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "call.h"
#include "connection.h"
#include "log.h"
#include "methods-quota.h"
#include "methods.h"
#include "name.h"
#include "prefix.h"
#include "quota.h"
#include "reload.h"
#include "server.h"

#define ERR(e) "io.shmd.Manager." e

static json_object *jint(uint64_t v)
{
	return json_object_new_int64((int64_t)MIN(v, (uint64_t)INT64_MAX));
}

/* QuotaExceeded, and an audit line: who was refused what, and why. */
static int quota_exceeded(struct call *call, const char *name, const struct quota_refusal *q)
{
	json_object *p = json_object_new_object();
	_cleanup_free_ char *escaped = name_escape(name);
	const char *op = strrchr(call->method->name, '.') + 1;
	const char *kind = q->regions ? "regions" : "bytes";

	/* "global bytes", "user nobody regions": the global quota has no subject to name. */
	bool global = q->scope == CONF_GLOBAL;
	log_notice("quota: %s of '%s' by uid %u pid %d refused: %s%s%s %s: %llu used + %llu "
		   "requested > %llu",
		   op, escaped ? escaped : "?", call->caller.uid, call->caller.pid,
		   conf_scope_to_string(q->scope), global ? "" : " ", global ? "" : q->subject,
		   kind, (unsigned long long)q->used, (unsigned long long)q->requested,
		   (unsigned long long)q->limit);
	json_object_object_add(p, "scope", json_object_new_string(conf_scope_to_string(q->scope)));
	json_object_object_add(p, "kind", json_object_new_string(kind));
	json_object_object_add(p, "subject", json_object_new_string(q->subject));
	json_object_object_add(p, "limit", jint(q->limit));
	json_object_object_add(p, "used", jint(q->used));
	json_object_object_add(p, "requested", jint(q->requested));
	return call_region_error(call, ERR("QuotaExceeded"), name, p);
}

/*
 * The unit a request is charged to and judged by is that of the process that sent it: a
 * connection inherited across fork() into another unit must not charge the first one.
 * Only the methods that charge or create names pay for looking it up.
 */
static void resolve_unit(struct call *call)
{
	struct connection *c = call->conn;
	call->caller.unit = peer_message_unit(&c->peer, &c->reader, c->fd, call->caller.pid);
}

int quota_check_name(struct call *call, const char *name)
{
	char buf[256];

	resolve_unit(call);
	const char *reason =
		prefix_check(&call->server->quota.conf, &call->caller, name, buf, sizeof(buf));
	return reason ? call_denied(call, name, reason) : 0;
}

int quota_check_create(struct call *call, const char *name, uint64_t size)
{
	struct quota_refusal q;

	if (quota_check_name(call, name) < 0)
		return -EINVAL;
	struct quota_owner o = { call->caller.uid, call->caller.gid, call->caller.unit };
	if (quota_check(&call->server->quota, &o, QUOTA_CHECK_ALL, size, 1, &q))
		return quota_exceeded(call, name, &q);
	return 0;
}

int quota_check_anonymous(struct call *call, const char *name)
{
	struct quota_refusal q;

	resolve_unit(call);
	struct quota_owner o = { call->caller.uid, call->caller.gid, call->caller.unit };
	if (quota_check(&call->server->quota, &o, QUOTA_CHECK_ALL, 0, 1, &q))
		return quota_exceeded(call, name, &q);
	return 0;
}

/*
 * As fs.protected_regular does for O_CREAT in /dev/shm: opening an existing region this way
 * succeeds only if the caller or root owns it, so nobody adopts a region someone else made
 * under the name it expected to create (whatever the mode lets it open).
 */
int quota_check_adopt(struct call *call, struct region *r)
{
	if (r->uid == call->caller.uid || r->uid == 0)
		return 0;
	json_object *p = json_object_new_object();
	json_object_object_add(p, "uid", json_object_new_int64(r->uid));
	json_object_object_add(p, "gid", json_object_new_int64(r->gid));
	return call_region_error(call, ERR("RegionOwned"), r->name, p);
}

/*
 * fallocate(2) of the whole memfd: every page exists before any holder touches it, and is
 * charged to the memory cgroup of the daemon (shmd.service), the task that allocates it.
 * It runs on the event loop (about 0.3 s per GiB here); quotas bound how much anyone can ask.
 */
int quota_prealloc(struct call *call, struct region *r)
{
	if (r->size == 0 || fallocate(r->fd, 0, 0, (off_t)r->size) == 0)
		return 0;
	int err = negative_errno();
	return call_system_error(call, "fallocate", err);
}

static struct quota_owner owner_of(const struct region *r)
{
	return (struct quota_owner){ r->uid, r->gid, r->creator.unit };
}

int quota_check_resize(struct call *call, struct region *r, uint64_t size)
{
	struct quota_owner o = owner_of(r);
	struct quota *quota = &call->server->quota;
	struct quota_refusal q;

	quota_sync(quota, r);
	/* Shrinking is always allowed, also when over (that is how one gets under); a fixed
	 * region's growing is refused as Sealed. */
	if (size <= r->size || r->fixed)
		return 0;
	if (quota_check(quota, &o, QUOTA_CHECK_ALL, size - r->size, 0, &q))
		return quota_exceeded(call, r->name, &q);
	return 0;
}

int quota_check_chown(struct call *call, struct region *r, uid_t uid, gid_t gid)
{
	struct quota_owner o = { uid, gid, r->creator.unit };
	unsigned mask = (uid != r->uid ? QUOTA_CHECK_USER : 0) |
			(gid != r->gid ? QUOTA_CHECK_GROUP : 0);
	struct quota *quota = &call->server->quota;
	struct quota_refusal q;

	if (!mask)
		return 0;
	region_refresh_size(r);
	quota_sync(quota, r);
	if (quota_check(quota, &o, mask, r->charged, 1, &q))
		return quota_exceeded(call, r->name, &q);
	return 0;
}

static json_object *limit_json(uint64_t v)
{
	return v == CONF_UNLIMITED ? NULL : jint(v);
}

/* One QuotaEntry: a subject with regions, or with a limit. */
static void add_entry(struct quota *q, struct quota_usage *u, void *userdata)
{
	const struct conf_limit *l = quota_limit(q, u);
	json_object *e;

	if (u->regions == 0 && u->bytes == 0 && l->memory_max == CONF_UNLIMITED &&
	    l->regions_max == CONF_UNLIMITED && u->scope != CONF_GLOBAL)
		return;
	e = json_object_new_object();
	json_object_object_add(e, "scope", json_object_new_string(conf_scope_to_string(u->scope)));
	if (u->scope == CONF_UNIT)
		json_object_object_add(e, "unit", json_object_new_string(u->unit));
	else if (u->scope != CONF_GLOBAL)
		json_object_object_add(e, "id", json_object_new_int64(u->id));
	json_object_object_add(e, "bytes", jint(u->bytes));
	json_object_object_add(e, "regions", jint(u->regions));
	if (l->memory_max != CONF_UNLIMITED)
		json_object_object_add(e, "memoryMax", limit_json(l->memory_max));
	if (l->regions_max != CONF_UNLIMITED)
		json_object_object_add(e, "regionsMax", limit_json(l->regions_max));
	json_object_array_add(userdata, e);
}

int method_quotas(struct call *call)
{
	struct quota *q = &call->server->quota;
	json_object *p = json_object_new_object(), *a = json_object_new_array();

	/* Charges must be current: the regions holders may have resized. */
	for (size_t i = 0; i < q->n_watch; i++) {
		region_refresh_size(q->watch[i]);
		quota_sync(q, q->watch[i]);
	}
	quota_add_configured(q);
	for (int s = 0; s < _CONF_SCOPE_MAX; s++)
		quota_foreach(q, (enum conf_scope)s, add_entry, a);
	json_object_object_add(p, "quotas", a);
	return call_reply(call, p, -1);
}

int method_reload(struct call *call)
{
	struct conf_error err;

	if (!call->caller.admin) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "operation", json_object_new_string("Reload"));
		json_object_object_add(p, "reason",
				       json_object_new_string("only an administrator may reload"));
		return call_error(call, ERR("PermissionDenied"), p);
	}
	if (reload_conf(call->server, &err) < 0) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "file", json_object_new_string(err.file));
		json_object_object_add(p, "line", json_object_new_int64(err.line));
		json_object_object_add(p, "reason", json_object_new_string(err.reason));
		return call_error(call, ERR("ConfigError"), p);
	}
	return call_reply(call, NULL, -1);
}
