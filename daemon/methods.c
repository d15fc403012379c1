/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The method table: name -> handler, who may call, fds taken, whether "more" is required. */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "connection.h"
#include "anon.h"
#include "holdtrack.h"
#include "footprint-defer.h"
#include "footprint-status.h"
#include "introspect.h"
#include "log.h"
#include "methods-quota.h"
#include "methods.h"
#include "methods-ranges.h"
#include "name.h"
#include "options.h"
#include "seals.h"
#include "server.h"
#include "varlink.h"

#define ERR(e) "io.shmd.Manager." e
#define MODE_MAX 0666
#define ID_MAX (UINT32_MAX - 1) /* (uid_t)-1 means "no change" to the kernel */

/* The region named by the request, after the method's access check. NULL: replied. */
static struct region *lookup(struct call *call, char **ret_name)
{
	return call_lookup(call, call->method->need, ret_name);
}

/* A fresh open file description for a handout; 0 or replied error. */
static int handout(struct call *call, struct region *r, bool writable, int *ret)
{
	uint64_t excess, max;
	/* Replies already wait: this fd would wait too, and count as one in flight. */
	const char *limit = call->conn && call->conn->out_head ?
				    limits_check_pending_fds(call->server,
							     call->conn->peer.cred.uid, 1, &excess,
							     &max) :
				    NULL;
	if (limit)
		return call_limit(call, limit, max);
	int fd = region_open(r, writable);
	if (fd == -EMFILE || fd == -ENFILE)
		return call_limit(call, "fileDescriptors", call->server->limits.max_fds);
	if (fd < 0)
		return call_system_error(call, "open", fd);
	/* Read its IN_OPEN now: two equal events left unread are merged by inotify. */
	holdtrack_sync(call->server);
	if (writable)
		quota_writable(&call->server->quota, r);
	*ret = fd;
	return 0;
}

/*
 * {"parameters": {"region": {...}}}, with "created" when created >= 0 and
 * "fileDescriptor": 0 when fd >= 0 (taken). Without the region when the caller said
 * "withRegion": false: then neither size nor seals are read for it.
 */
static void reply_text(struct text *t, struct region *r, bool with_fd, int created,
		       bool with_region)
{
	bool more = false; /* a member precedes: the next one needs a comma */

	text_lit(t, "{\"parameters\":{");
	if (with_region) {
		text_lit(t, "\"region\":");
		text_region(t, r, created > 0);
		more = true;
	}
	if (created >= 0) {
		if (more)
			text_lit(t, ",");
		if (created)
			text_lit(t, "\"created\":true");
		else
			text_lit(t, "\"created\":false");
		more = true;
	}
	if (with_fd) {
		if (more)
			text_lit(t, ",");
		text_lit(t, "\"fileDescriptor\":0");
	}
	text_lit(t, "}}");
}

static int reply_with_fd(struct call *call, struct region *r, int fd, int created, bool with_region)
{
	struct text t;

	text_init(&t);
	reply_text(&t, r, fd >= 0, created, with_region);
	int ret = call_reply_text(call, &t, fd);
	text_done(&t);
	return ret;
}

static int reply_region(struct call *call, struct region *r)
{
	return reply_with_fd(call, r, -1, -1, true);
}

static int open_existing(struct call *call, struct region *r, int access, bool with_region)
{
	static const enum access_need need[] = { NEED_NOTHING, NEED_READ, NEED_READ_WRITE };
	const char *reason = access_check(&call->caller, r, need[access]);
	int fd = -1;

	if (reason)
		return call_denied(call, r->name, reason);
	int k = access ? spillpol_need_resident(call, r) : 0;
	if (k != 0)
		return k < 0 ? -EINVAL : 0;
	if (access && handout(call, r, access == 2, &fd) < 0)
		return -EINVAL;
	return reply_with_fd(call, r, fd, false, with_region);
}

static int create_error(struct call *call, const char *op, int err)
{
	if (err == -EMFILE || err == -ENFILE)
		return call_limit(call, "fileDescriptors", call->server->limits.max_fds);
	if (err == -EINVAL && strcmp(op, "F_ADD_SEALS") == 0)
		return call_invalid(call, "seals", "not supported by this kernel");
	if ((err == -EFBIG || err == -EINVAL) && strcmp(op, "ftruncate") == 0)
		return call_invalid(call, "size", "too large");
	return call_system_error(call, op, err);
}

/*
 * The creator gets the access it asked for, whatever the mode (as with O_CREAT), as a fresh
 * open file description like every handout: never the daemon's own (holdtrack.h counts
 * descriptions). 0 or replied error.
 */
static int creator_fd(struct call *call, struct region *r, int access, int *ret)
{
	int fd = region_open_creator(r, access == 2);
	if (fd < 0)
		return create_error(call, "open", fd);
	holdtrack_sync(call->server); /* as in handout() */
	if (access == 2)
		quota_writable(&call->server->quota, r);
	*ret = fd;
	return 0;
}

static int method_create(struct call *call)
{
	struct region_params p = { .mode = 0600 };
	_cleanup_free_ char *name = NULL;
	bool exclusive = true, with_region = true, prealloc = false;
	int access = 0, fd = -1;
	uint64_t v, max;

	if (param_name(call, "name", false, true, &name) < 0 ||
	    param_uint(call, "size", INT64_MAX, &p.size) < 0 ||
	    param_bool(call, "fixed", &p.fixed) < 0 || param_seals(call, "seals", &p.seals) < 0 ||
	    param_bool(call, "exclusive", &exclusive) < 0 ||
	    param_access(call, "access", &access) < 0 ||
	    param_bool(call, "withRegion", &with_region) < 0 ||
	    param_bool(call, "prealloc", &prealloc) < 0 ||
	    param_bool(call, "nospill", &p.nospill) < 0)
		return -EINVAL;
	if (!json_object_object_get(call->params, "size")) /* absent or null */
		return call_invalid(call, "size", "missing");
	int r = param_uint(call, "mode", UINT32_MAX, &v);
	if (r < 0)
		return r;
	if (r > 0 && (v & ~(uint64_t)MODE_MAX))
		return call_invalid(call, "mode", "only permission bits 0..0666 are allowed");
	if (r > 0)
		p.mode = (mode_t)v;

	struct region *existing = registry_find(&call->server->registry, name);
	if (existing && exclusive)
		return call_region_error(call, ERR("RegionExists"), name, NULL);
	if (existing && quota_check_adopt(call, existing) < 0)
		return -EINVAL;
	if (existing)
		return open_existing(call, existing, access, with_region);

	const char *limit = limits_check_create(call->server, &call->caller, p.size, &max);
	if (limit)
		return call_limit(call, limit, max);
	if (quota_check_create(call, name, p.size) < 0)
		return -EINVAL;

	p.name = name;
	p.uid = call->caller.uid;
	p.gid = call->caller.gid;
	p.creator = (struct identity){ call->caller.uid, call->caller.gid, call->caller.pid,
				       call->caller.unit };
	struct region *reg;
	const char *op;
	r = region_new(&p, &reg, &op);
	if (r < 0)
		return create_error(call, op, r);
	if (prealloc && quota_prealloc(call, reg) < 0) {
		region_free(reg);
		return -EINVAL;
	}
	holdtrack_watch(call->server, reg); /* before the creator's open, which it counts */
	if (access && creator_fd(call, reg, access, &fd) < 0) {
		holdtrack_discard(call->server, reg);
		return -EINVAL;
	}
	r = registry_add(&call->server->registry, reg);
	if (r >= 0 && (r = state_region_added(call->server, reg)) < 0)
		registry_remove(&call->server->registry, reg);
	if (r < 0) {
		safe_close(fd);
		holdtrack_discard(call->server, reg);
		/* -ENOSPC: the fd store can take no more names (fdstore.h). */
		if (r == -ENOSPC)
			return call_limit(call, "regions", call->server->registry.n_regions);
		return call_system_error(call, "registry", r);
	}
	quota_charge(&call->server->quota, reg);
	spillpol_poke(call->server);
	return reply_with_fd(call, reg, fd, true, with_region);
}

static int method_open(struct call *call)
{
	bool with_region = true;
	int access = 2, fd = -1;
	if (param_access(call, "access", &access) < 0 ||
	    param_bool(call, "withRegion", &with_region) < 0)
		return -EINVAL;
	if (access == 0)
		return call_invalid(call, "access", "\"none\" opens nothing");

	/* Open's need depends on the access asked for, not only on the table. */
	_cleanup_free_ char *name = NULL;
	if (param_name(call, "name", false, true, &name) < 0)
		return -EINVAL;
	struct region *r = registry_find(&call->server->registry, name);
	if (!r)
		return call_region_error(call, ERR("NoSuchRegion"), name, NULL);
	const char *reason =
		access_check(&call->caller, r, access == 2 ? NEED_READ_WRITE : NEED_READ);
	if (reason)
		return call_denied(call, name, reason);
	/* Spilled: restored first, this call answered when it is back (spillpol.h). */
	int k = spillpol_need_resident(call, r);
	if (k != 0)
		return k < 0 ? -EINVAL : 0;
	if (handout(call, r, access == 2, &fd) < 0)
		return -EINVAL;
	return reply_with_fd(call, r, fd, -1, with_region);
}

static int method_stat(struct call *call)
{
	bool footprint = false;
	if (param_bool(call, "footprint", &footprint) < 0)
		return -EINVAL;
	struct region *r = lookup(call, NULL);
	if (!r)
		return -EINVAL;
	holdtrack_sync(call->server); /* the counts as of now */
	if (!footprint)
		return reply_region(call, r);
	return reply_stat_footprint(call, r);
}

/*
 * A List stream: the regions matching when the call came, in name order. Between turns other
 * connections may delete some: while the registry has seen no removal the pointers are good,
 * after one each is looked up again by its id (and skipped if gone).
 */
struct list_state {
	struct region **regions;
	uint64_t *ids;
	size_t n, pos;
	uint64_t removals; /* registry->removals when regions[] was taken */
	bool footprint;	   /* each region with its footprint */
	bool deleted;	   /* deleted regions still held (holdtrack.h): frees, not removals */
	bool anonymous;	   /* anonymous regions (anon.h): likewise */
	/* A large region's footprint is measured on the worker, the stream waiting for it. */
	struct connection *conn;
	struct fp_job *job;
	bool ended; /* the last reply went out from a job */
};

static void list_state_free(void *p)
{
	struct list_state *s = p;
	footprint_job_detach(s->job);
	free(s->regions);
	free(s->ids);
	free(s);
}

/* Skip regions deleted since the snapshot. */
static struct region *list_advance(struct server *srv, struct list_state *s)
{
	bool kept = s->deleted || s->anonymous;
	uint64_t now = kept ? srv->holdtrack.frees : srv->registry.removals;
	bool intact = now == s->removals;

	for (; s->pos < s->n; s->pos++) {
		struct region *r =
			intact ? s->regions[s->pos] :
			kept ? holdtrack_find_kept(&srv->holdtrack, s->anonymous, s->ids[s->pos]) :
			       registry_find_id(&srv->registry, s->ids[s->pos]);
		if (r)
			return r;
	}
	return NULL;
}

/* A reply finished on the worker: out it goes, and the stream goes on. */
static void list_job_done(void *userdata, const struct text *reply)
{
	struct list_state *s = userdata;
	struct connection *c = s->conn;

	s->job = NULL;
	if (reply->oom) {
		log_warning("List: out of memory, disconnecting pid %d", c->peer.cred.pid);
		c->dead = true;
	} else
		connection_send_text(c, reply->p, reply->len + 1, -1);
	connection_stream_wake(c);
}

static int list_next(struct connection *c, void *userdata)
{
	struct list_state *s = userdata;
	struct region *r = s->ended ? NULL : list_advance(c->server, s);
	uint64_t allocated = 0;

	if (!r) {
		if (!s->ended)
			connection_send(c, vl_reply_new(NULL, false), -1);
		return 0;
	}
	struct text t;

	text_init(&t);
	text_lit(&t, "{\"parameters\":{\"region\":");
	if (s->footprint)
		allocated = text_region_stat(&t, r);
	else
		text_region(&t, r, false);
	s->pos++;
	bool last = !list_advance(c->server, s);
	const char *tail = last ? "}}" : "},\"continues\":true}";
	if (s->footprint && footprint_deferrable(allocated) &&
	    (s->job = footprint_defer_list(c->server, r, &t, tail, list_job_done, s))) {
		s->ended = last;
		connection_stream_wait(c);
		text_done(&t);
		return 1;
	}
	if (s->footprint)
		text_region_footprint(&t, r, allocated);
	text_add(&t, tail, strlen(tail));
	if (t.oom) {
		log_warning("List: out of memory, disconnecting pid %d", c->peer.cred.pid);
		c->dead = true;
	} else
		connection_send_text(c, t.p, t.len + 1, -1);
	text_done(&t);
	return !last;
}

static int method_list(struct call *call)
{
	_cleanup_free_ char *prefix = NULL;
	struct list_state *s;
	bool footprint = false, deleted = false, anonymous = false;

	if (param_name(call, "prefix", true, false, &prefix) < 0 ||
	    param_bool(call, "footprint", &footprint) < 0 ||
	    param_bool(call, "deleted", &deleted) < 0 ||
	    param_bool(call, "anonymous", &anonymous) < 0)
		return -EINVAL;
	if (deleted && anonymous)
		return call_invalid(call, "anonymous", "not with deleted");
	if (call->oneway)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return call_system_error(call, "malloc", ENOMEM);
	holdtrack_sync(call->server);
	s->deleted = deleted;
	s->anonymous = anonymous;
	int r = anonymous ? holdtrack_collect_anonymous(&call->server->holdtrack, prefix,
							&s->regions, &s->n) :
		deleted	  ? holdtrack_collect_deleted(&call->server->holdtrack, prefix, &s->regions,
						      &s->n) :
			    registry_collect(&call->server->registry, prefix, &s->regions, &s->n);
	if (r >= 0 && !(s->ids = malloc(MAX(s->n, 1u) * sizeof(*s->ids))))
		r = -ENOMEM;
	if (r < 0) {
		list_state_free(s);
		return call_system_error(call, "malloc", r);
	}
	for (size_t i = 0; i < s->n; i++)
		s->ids[i] = s->regions[i]->id;
	s->removals = deleted || anonymous ? call->server->holdtrack.frees :
					     call->server->registry.removals;
	s->footprint = footprint;
	s->conn = call->conn;
	connection_start_stream(call->conn, &(struct stream){ .next = list_next,
							      .free = list_state_free,
							      .state = s });
	return 0;
}

static int method_resize(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	uint64_t size;
	bool force = false;

	if (param_uint(call, "size", INT64_MAX, &size) < 0 || param_bool(call, "force", &force) < 0)
		return -EINVAL;
	if (!json_object_object_get(call->params, "size")) /* absent or null */
		return call_invalid(call, "size", "missing");
	struct region *r = lookup(call, &name);
	if (!r)
		return -EINVAL;
	/* Spilled: restored first (the spill index holds the size it had). */
	int k = spillpol_need_resident(call, r);
	if (k != 0)
		return k < 0 ? -EINVAL : 0;

	uint64_t cur = region_refresh_size(r);
	if (size < cur && !force) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "size", json_object_new_int64((int64_t)cur));
		json_object_object_add(p, "newSize", json_object_new_int64((int64_t)size));
		return call_region_error(call, ERR("WouldTruncate"), name, p);
	}
	if (quota_check_resize(call, r, size) < 0)
		return -EINVAL;
	int err = region_resize(r, size);
	quota_sync(&call->server->quota, r);
	if (err == -EPERM) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "seals", seals_to_json(region_seals(r)));
		return call_region_error(call, ERR("Sealed"), name, p);
	}
	if (err == -EFBIG || err == -EINVAL)
		return call_invalid(call, "size", "too large");
	if (err < 0)
		return call_system_error(call, "ftruncate", err);
	state_region_changed(call->server, r);
	spillpol_poke(call->server);
	return reply_region(call, r);
}

static int method_rename(struct call *call)
{
	_cleanup_free_ char *name = NULL, *new_name = NULL;
	bool replace = false;

	if (param_name(call, "newName", false, true, &new_name) < 0 ||
	    param_bool(call, "replace", &replace) < 0)
		return -EINVAL;
	struct region *r = lookup(call, &name);
	if (!r)
		return -EINVAL;
	if (strcmp(name, new_name) == 0)
		return reply_region(call, r);
	if (quota_check_name(call, new_name) < 0)
		return -EINVAL;

	struct registry *reg = &call->server->registry;
	struct region *target = registry_find(reg, new_name);
	if (target && !replace)
		return call_region_error(call, ERR("RegionExists"), new_name, NULL);
	if (target) {
		const char *reason = access_check(&call->caller, target, NEED_OWNER);
		if (reason)
			return call_denied(call, new_name, reason);
		registry_remove(reg, target);
		spillpol_forget(call->server, target);
		state_region_removed(call->server, target);
		holdtrack_release(call->server, target);
	}
	int err = registry_rename(reg, r, new_name);
	if (err < 0)
		return call_system_error(call, "rename", err);
	r->changed_usec = now_usec();
	state_region_changed(call->server, r);
	return reply_region(call, r);
}

static int method_delete(struct call *call)
{
	struct region *r = lookup(call, NULL);
	if (!r)
		return -EINVAL;
	registry_remove(&call->server->registry, r);
	spillpol_forget(call->server, r);
	state_region_removed(call->server, r);
	/* Reply first: the last close of a memfd (inode teardown) need not delay the caller. */
	int ret = call_reply(call, NULL, -1);
	holdtrack_release(call->server, r); /* kept, and listed, while held */
	return ret;
}

static int method_seal(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	unsigned seals = 0;
	int r = param_seals(call, "seals", &seals);

	if (r < 0)
		return r;
	if (r == 0)
		return call_invalid(call, "seals", "missing");
	struct region *reg = lookup(call, &name);
	if (!reg)
		return -EINVAL;
	if (seals == 0)
		return reply_region(call, reg);

	int err = region_add_seals(reg, seals);
	if (err == -EBUSY) {
		json_object *p = json_object_new_object();
		json_object_object_add(
			p, "reason",
			json_object_new_string("a holder has a writable shared mapping"));
		return call_region_error(call, ERR("Busy"), name, p);
	}
	if (err == -EPERM) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "seals", seals_to_json(region_seals(reg)));
		return call_region_error(call, ERR("Sealed"), name, p);
	}
	if (err == -EINVAL)
		return call_invalid(call, "seals", "not supported by this kernel");
	if (err < 0)
		return call_system_error(call, "F_ADD_SEALS", err);
	state_region_changed(call->server, reg);
	return reply_region(call, reg);
}

static int method_set_access(struct call *call)
{
	_cleanup_free_ char *name = NULL;
	uint64_t mode, uid, gid;
	int rm, ru, rg;

	if ((rm = param_uint(call, "mode", UINT32_MAX, &mode)) < 0 ||
	    (ru = param_uint(call, "uid", ID_MAX, &uid)) < 0 ||
	    (rg = param_uint(call, "gid", ID_MAX, &gid)) < 0)
		return -EINVAL;
	if (rm > 0 && (mode & ~(uint64_t)MODE_MAX))
		return call_invalid(call, "mode", "only permission bits 0..0666 are allowed");
	struct region *r = lookup(call, &name);
	if (!r)
		return -EINVAL;

	uid_t new_uid = ru > 0 ? (uid_t)uid : r->uid;
	gid_t new_gid = rg > 0 ? (gid_t)gid : r->gid;
	const char *reason = access_check_chown(&call->caller, r, new_uid, new_gid);
	if (reason)
		return call_denied(call, name, reason);
	if (quota_check_chown(call, r, new_uid, new_gid) < 0)
		return -EINVAL;
	uid_t old_uid = r->uid;
	gid_t old_gid = r->gid;
	int err = region_set_access(r, new_uid, new_gid, rm > 0 ? (mode_t)mode : r->mode);
	if (err < 0)
		return call_system_error(call, "fchown", err);
	quota_chown(&call->server->quota, r, old_uid, old_gid);
	state_region_changed(call->server, r);
	return reply_region(call, r);
}

/* Sizes are at most INT64_MAX each; the total saturates there rather than wrap. */
static void add_size(struct region *r, void *userdata)
{
	uint64_t *total = userdata, size = region_refresh_size(r);

	*total = size > (uint64_t)INT64_MAX - *total ? (uint64_t)INT64_MAX : *total + size;
}

static json_object *limits_to_json(const struct limits *l)
{
	json_object *o = json_object_new_object();
	json_object_object_add(
		o, "maxRegions",
		json_object_new_int64((int64_t)MIN(l->max_regions, (uint64_t)INT64_MAX)));
	json_object_object_add(o, "maxConnections", json_object_new_int64(l->max_connections));
	json_object_object_add(o, "maxConnectionsPerUid",
			       json_object_new_int64(l->max_connections_per_uid));
	json_object_object_add(o, "maxMessageBytes",
			       json_object_new_int64((int64_t)l->max_message_bytes));
	json_object_object_add(o, "maxOutputBytes",
			       json_object_new_int64((int64_t)l->max_output_bytes));
	json_object_object_add(o, "messageTimeoutUSec",
			       json_object_new_int64((int64_t)l->message_timeout_usec));
	json_object_object_add(o, "idleTimeoutUSec",
			       json_object_new_int64((int64_t)l->idle_timeout_usec));
	return o;
}

static int method_status(struct call *call)
{
	struct server *s = call->server;
	json_object *p, *f;
	uint64_t total = 0;
	bool footprint = false;

	if (param_bool(call, "footprint", &footprint) < 0)
		return -EINVAL;
	p = json_object_new_object();
	f = json_object_new_object();

	registry_foreach(&s->registry, add_size, &total);
	holdtrack_status(s, p);
	json_object_object_add(p, "version", json_object_new_string(SHMD_VERSION));
	json_object_object_add(p, "regions", json_object_new_int64((int64_t)s->registry.n_regions));
	json_object_object_add(p, "totalSize", json_object_new_int64((int64_t)total));
	json_object_object_add(p, "connections", json_object_new_int64(s->n_connections));
	json_object_object_add(p, "startedUSec", json_object_new_int64((int64_t)s->started_usec));
	json_object_object_add(p, "limits", limits_to_json(&s->limits));
	json_object_object_add(f, "noexecSeal", json_object_new_boolean(s->noexec_seal));
	json_object_object_add(f, "anonVmaName", json_object_new_boolean(s->anon_vma_name));
	json_object_object_add(p, "features", f);
	/* Which process this is (the polish issue, 15), for status and kill(1). */
	json_object_object_add(p, "pid", json_object_new_int64((int64_t)getpid()));
	spillpol_status(s, p);
	if (footprint)
		return status_footprint_reply(call, p); /* the large regions on the worker */
	return call_reply(call, p, -1);
}

#define PARAMS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NAME "name", "nameBase64"

/* Who may call what, in one place. METHOD_AUDIT: the methods that change state. */
static const struct method methods[] = {
	{ "io.shmd.Manager.Create", method_create,
	  PARAMS(NAME, "size", "mode", "fixed", "seals", "exclusive", "access", "withRegion",
		 "prealloc", "nospill"),
	  NEED_NOTHING, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.Open", method_open, PARAMS(NAME, "access", "withRegion"), NEED_READ },
	{ "io.shmd.Manager.List", method_list,
	  PARAMS("prefix", "prefixBase64", "footprint", "deleted", "anonymous"), NEED_NOTHING, 0,
	  METHOD_NEEDS_MORE },
	{ "io.shmd.Manager.Stat", method_stat, PARAMS(NAME, "footprint"), NEED_NOTHING },
	{ "io.shmd.Manager.Resize", method_resize, PARAMS(NAME, "size", "force"), NEED_OWNER, 0,
	  METHOD_AUDIT },
	{ "io.shmd.Manager.Rename", method_rename,
	  PARAMS(NAME, "newName", "newNameBase64", "replace"), NEED_OWNER, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.Delete", method_delete, PARAMS(NAME), NEED_OWNER, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.Seal", method_seal, PARAMS(NAME, "seals"), NEED_OWNER, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.SetAccess", method_set_access, PARAMS(NAME, "mode", "uid", "gid"),
	  NEED_OWNER, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.Status", method_status, PARAMS("footprint"), NEED_NOTHING },
	{ "io.shmd.Manager.Quotas", method_quotas, NULL, NEED_NOTHING },
	{ "io.shmd.Manager.Reload", method_reload, NULL, NEED_NOTHING, 0,
	  METHOD_AUDIT }, /* admin: checked inside */
	/* Named ranges, footprint, holders (methods-ranges.c). */
	{ "io.shmd.Manager.Label", method_label, PARAMS(NAME, "offset", "length", "label"),
	  NEED_READ_WRITE, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.Unlabel", method_unlabel, PARAMS(NAME, "offset", "length", "label"),
	  NEED_READ_WRITE, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.RenameLabel", method_rename_label, PARAMS(NAME, "label", "newLabel"),
	  NEED_READ_WRITE, 0, METHOD_AUDIT },
	/* Read permission is checked in the handler when footprint is asked for. */
	{ "io.shmd.Manager.Ranges", method_ranges, PARAMS(NAME, "footprint"), NEED_NOTHING },
	{ "io.shmd.Manager.Holders", method_holders, PARAMS(NAME), NEED_OWNER },
	/* Anonymous regions, memfd_create() through shmd (anon.c). */
	{ "io.shmd.Manager.CreateAnonymous", method_create_anonymous,
	  PARAMS("name", "nameBase64", "flags", "withRegion"), NEED_NOTHING, 0, METHOD_AUDIT },
	/* Spilling (methods-spill.c); SpillEvaluate: administrators, checked inside. */
	{ "io.shmd.Manager.Spill", method_spill, PARAMS(NAME), NEED_OWNER, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.Restore", method_restore, PARAMS(NAME), NEED_OWNER, 0, METHOD_AUDIT },
	{ "io.shmd.Manager.SpillEvaluate", method_spill_evaluate, PARAMS("pressure"), NEED_NOTHING,
	  0, METHOD_AUDIT },
	{ "org.varlink.service.GetInfo", introspect_get_info, NULL, NEED_NOTHING },
	{ "org.varlink.service.GetInterfaceDescription", introspect_get_interface_description,
	  PARAMS("interface"), NEED_NOTHING },
};

static const struct method *method_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

/* No such method: say whether the interface or only the method is unknown. */
static void reply_not_found(struct connection *c, const char *method, bool oneway)
{
	const char *dot = strrchr(method, '.');
	size_t len = dot ? (size_t)(dot - method) : 0;
	json_object *p = json_object_new_object();

	if (oneway) {
		json_object_put(p);
		return;
	}
	if (introspect_interface_known(method, len)) {
		json_object_object_add(p, "method", json_object_new_string(method));
		connection_send(c, vl_error_new("org.varlink.service.MethodNotFound", p), -1);
		return;
	}
	json_object_object_add(p, "interface", json_object_new_string_len(method, (int)len));
	connection_send(c, vl_error_new("org.varlink.service.InterfaceNotFound", p), -1);
}

/* The envelope must be {"method": string, "parameters"?: object, "more"?: bool, ...}. */
static bool envelope_valid(json_object *msg)
{
	json_object *v;
	if (!vl_message_method(msg))
		return false;
	if (json_object_object_get_ex(msg, "parameters", &v) &&
	    !json_object_is_type(v, json_type_object))
		return false;
	for (const char *const *k = PARAMS("more", "oneway", "upgrade"); *k; k++)
		if (json_object_object_get_ex(msg, *k, &v) &&
		    !json_object_is_type(v, json_type_boolean))
			return false;
	return true;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		safe_close(fds[i]);
}

/* The checks every call passes, then its handler; every refusal goes through call_error(). */
static void call_run(struct call *call, json_object *msg, int *fds, size_t n_fds, size_t dropped)
{
	if (vl_message_flag(msg, "upgrade")) {
		close_fds(fds, n_fds);
		call_invalid(call, "upgrade",
			     "no method of this interface upgrades the connection");
		return;
	}
	if (n_fds + dropped > call->method->max_fds) {
		json_object *p = json_object_new_object();
		close_fds(fds, n_fds);
		json_object_object_add(p, "max",
				       json_object_new_int64((int64_t)call->method->max_fds));
		json_object_object_add(p, "received",
				       json_object_new_int64((int64_t)(n_fds + dropped)));
		call_error(call, ERR("TooManyFileDescriptors"), p);
		return;
	}
	if ((call->method->flags & METHOD_NEEDS_MORE) && !call->more && !call->oneway) {
		call_error(call, "org.varlink.service.ExpectedMore", NULL);
		return;
	}
	if (params_check_keys(call) < 0)
		return;
	log_debug("%s from pid %d uid %u", call->method->name, call->caller.pid, call->caller.uid);
	call->method->handler(call);
}

void methods_dispatch(struct connection *c, json_object *msg, int *fds, size_t n_fds,
		      size_t dropped)
{
	_cleanup_json_ json_object *empty = NULL;
	struct call call = { .server = c->server, .conn = c };

	if (!envelope_valid(msg)) {
		close_fds(fds, n_fds);
		log_notice("pid %d sent a request that is not a Varlink call, disconnecting",
			   c->peer.cred.pid);
		c->dead = true;
		return;
	}
	const char *name = vl_message_method(msg);
	call.oneway = vl_message_flag(msg, "oneway");
	call.more = vl_message_flag(msg, "more");
	call.params = vl_message_parameters(msg);
	if (!call.params) {
		/* Only when the call has none: an empty object costs a hash table. */
		/* NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): empty's cleanup reads it */
		call.params = empty = json_object_new_object();
		if (!call.params) {
			close_fds(fds, n_fds);
			c->dead = true;
			return;
		}
	}
	call.method = method_find(name);
	if (!call.method) {
		close_fds(fds, n_fds);
		reply_not_found(c, name, call.oneway);
		return;
	}
	peer_caller(&c->peer, &c->reader, server_admin_gid(c->server), &call.caller);
	call_run(&call, msg, fds, n_fds, dropped);
	if (!call.deferred) /* else call_finish() audits it */
		call_audit(&call);
}
