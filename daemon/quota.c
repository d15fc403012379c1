/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quotas: what each user, group and unit is charged (derived from the registry) and the checks. */

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "log.h"
#include "macro.h"
#include "name.h"
#include "quota.h"
#include "region.h"
#include "registry.h"
#include "size.h"

static int usage_cmp(const void *a, const void *b)
{
	const struct quota_usage *x = a, *y = b;

	if (x->scope == CONF_UNIT)
		return strcmp(x->unit, y->unit);
	return x->id < y->id ? -1 : x->id > y->id;
}

static void usage_free(void *p)
{
	struct quota_usage *u = p;
	intern_unref(u->unit);
	free(u);
}

void quota_init(struct quota *q)
{
	*q = (struct quota){ .gen = 1, .global = { .scope = CONF_GLOBAL } };
	conf_init(&q->conf);
}

static void trees_free(struct quota *q)
{
	for (int s = 0; s < _CONF_SCOPE_MAX; s++) {
		tdestroy(q->trees[s], usage_free);
		q->trees[s] = NULL;
	}
}

void quota_done(struct quota *q)
{
	trees_free(q);
	conf_done(&q->conf);
	free(q->watch);
	*q = (struct quota){ 0 };
}

void quota_set_conf(struct quota *q, struct shmd_conf *conf)
{
	conf_take_policy(&q->conf, conf);
	q->limited = conf_has_limits(&q->conf);
	q->gen++;
}

/* The entry of a subject; created when create is set. NULL when absent (or OOM). */
static struct quota_usage *usage_get(struct quota *q, enum conf_scope scope, uint32_t id,
				     const char *unit, bool create)
{
	struct quota_usage key = { .scope = scope, .id = id, .unit = unit }, *u;
	void **node;

	if (scope == CONF_GLOBAL)
		return &q->global;
	if (scope == CONF_UNIT && !unit)
		return NULL;
	node = tfind(&key, &q->trees[scope], usage_cmp);
	if (node)
		return *node;
	if (!create || !(u = calloc(1, sizeof(*u))))
		return NULL;
	*u = key;
	if (unit && !(u->unit = intern_ref(unit))) {
		free(u);
		return NULL;
	}
	if (!tsearch(u, &q->trees[scope], usage_cmp)) {
		usage_free(u);
		return NULL;
	}
	return u;
}

const struct quota_usage *quota_lookup(struct quota *q, enum conf_scope scope, uint32_t id,
				       const char *unit)
{
	return usage_get(q, scope, id, unit, false);
}

/* Key by key: the subject's own section, else the default ([AnyUser], [AnyUnit]), else none. */
static void limit_merge(struct conf_limit *l, const struct conf_limit *own,
			const struct conf_limit *dflt)
{
	*l = (struct conf_limit){ CONF_UNLIMITED, CONF_UNLIMITED, 0 };
	if (own && (own->set & CONF_SET_MEMORY))
		l->memory_max = own->memory_max;
	else if (dflt && (dflt->set & CONF_SET_MEMORY))
		l->memory_max = dflt->memory_max;
	if (own && (own->set & CONF_SET_REGIONS))
		l->regions_max = own->regions_max;
	else if (dflt && (dflt->set & CONF_SET_REGIONS))
		l->regions_max = dflt->regions_max;
}

const struct conf_limit *quota_limit(struct quota *q, struct quota_usage *u)
{
	const struct conf_subject *s = NULL;
	const struct conf_limit *dflt = NULL;

	if (u->limit_gen == q->gen)
		return &u->limit;
	switch (u->scope) {
	case CONF_GLOBAL:
		break;
	case CONF_USER:
		s = conf_find_id(&q->conf, CONF_USER, u->id);
		/* root is limited only by a section of its own: [AnyUser] is for the others. */
		dflt = u->id != 0 ? &q->conf.any_user : NULL;
		break;
	case CONF_GROUP:
		s = conf_find_id(&q->conf, CONF_GROUP, u->id);
		break;
	default:
		s = conf_find_unit(&q->conf, u->unit);
		dflt = &q->conf.any_unit;
		break;
	}
	limit_merge(&u->limit,
		    u->scope == CONF_GLOBAL ? &q->conf.global :
		    s			    ? &s->limit :
					      NULL,
		    dflt);
	u->limit_gen = q->gen;
	return &u->limit;
}

/* Saturating: charges stay within [0, UINT64_MAX] whatever a holder did. */
static void usage_add(struct quota_usage *u, int64_t bytes, int64_t regions)
{
	if (!u)
		return;
	if (bytes < 0)
		u->bytes = u->bytes > (uint64_t)-bytes ? u->bytes - (uint64_t)-bytes : 0;
	else
		u->bytes = u->bytes > UINT64_MAX - (uint64_t)bytes ? UINT64_MAX :
								     u->bytes + (uint64_t)bytes;
	u->regions =
		regions < 0 && u->regions < (uint64_t)-regions ? 0 : u->regions + (uint64_t)regions;
}

static void charge_owner(struct quota *q, uid_t uid, gid_t gid, const char *unit, int64_t bytes,
			 int64_t regions)
{
	usage_add(&q->global, bytes, regions);
	usage_add(usage_get(q, CONF_USER, uid, NULL, true), bytes, regions);
	usage_add(usage_get(q, CONF_GROUP, gid, NULL, true), bytes, regions);
	usage_add(usage_get(q, CONF_UNIT, 0, unit, true), bytes, regions);
}

static void watch_remove(struct quota *q, struct region *r)
{
	if (!r->quota_watch)
		return;
	size_t i = r->quota_watch - 1;
	q->watch[i] = q->watch[--q->n_watch];
	q->watch[i]->quota_watch = i + 1;
	r->quota_watch = 0;
}

void quota_charge(struct quota *q, struct region *r)
{
	r->charged = r->size;
	charge_owner(q, r->uid, r->gid, r->creator.unit, (int64_t)r->charged, 1);
}

void quota_uncharge(struct quota *q, struct region *r)
{
	charge_owner(q, r->uid, r->gid, r->creator.unit, -(int64_t)r->charged, -1);
	r->charged = 0;
	watch_remove(q, r);
}

void quota_sync(struct quota *q, struct region *r)
{
	if (r->size == r->charged)
		return;
	charge_owner(q, r->uid, r->gid, r->creator.unit, (int64_t)(r->size - r->charged), 0);
	r->charged = r->size;
}

void quota_chown(struct quota *q, struct region *r, uid_t old_uid, gid_t old_gid)
{
	int64_t bytes = (int64_t)r->charged;

	if (r->uid != old_uid) {
		usage_add(usage_get(q, CONF_USER, old_uid, NULL, true), -bytes, -1);
		usage_add(usage_get(q, CONF_USER, r->uid, NULL, true), bytes, 1);
	}
	if (r->gid != old_gid) {
		usage_add(usage_get(q, CONF_GROUP, old_gid, NULL, true), -bytes, -1);
		usage_add(usage_get(q, CONF_GROUP, r->gid, NULL, true), bytes, 1);
	}
}

void quota_writable(struct quota *q, struct region *r)
{
	if (r->quota_watch || r->fixed)
		return;
	if (q->n_watch == q->cap_watch) {
		size_t cap = q->cap_watch ? q->cap_watch * 2 : 64;
		struct region **n = reallocarray(q->watch, cap, sizeof(*n));
		if (!n) {
			log_warning("out of memory: region sizes changed by holders may be "
				    "charged late");
			return;
		}
		q->watch = n;
		q->cap_watch = cap;
	}
	q->watch[q->n_watch++] = r;
	r->quota_watch = q->n_watch;
}

/* Re-read r's size; a change made by a holder is charged, with an audit line. */
static void refresh(struct quota *q, struct region *r)
{
	uint64_t before = r->charged;

	region_refresh_size(r);
	if (r->size == before)
		return;
	quota_sync(q, r);
	_cleanup_free_ char *name = name_escape(r->name);
	char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];
	log_notice("region '%s' (owner uid %u) was resized by a holder from %s to %s; charged",
		   name ? name : "?", r->uid, size_format(before, a, sizeof(a)),
		   size_format(r->size, b, sizeof(b)));
}

static bool bytes_limited(struct quota *q, struct quota_usage *u)
{
	return u && quota_limit(q, u)->memory_max != CONF_UNLIMITED;
}

/*
 * Re-read the sizes of watched regions whose charge counts in a byte limit about to be
 * checked: all of them when there are at most QUOTA_REFRESH_BUDGET, else that many in turn
 * (one fstat() each: re-reading a thousand would cost a Create 100 times its own time).
 */
static void refresh_watched(struct quota *q, const struct quota_owner *o, unsigned mask)
{
	bool all = (mask & QUOTA_CHECK_GLOBAL) && bytes_limited(q, &q->global);
	bool user = (mask & QUOTA_CHECK_USER) &&
		    bytes_limited(q, usage_get(q, CONF_USER, o->uid, NULL, false));
	bool group = (mask & QUOTA_CHECK_GROUP) &&
		     bytes_limited(q, usage_get(q, CONF_GROUP, o->gid, NULL, false));
	bool unit = (mask & QUOTA_CHECK_UNIT) &&
		    bytes_limited(q, usage_get(q, CONF_UNIT, 0, o->unit, false));

	size_t n = q->n_watch, budget = QUOTA_REFRESH_BUDGET;

	if ((!all && !user && !group && !unit) || n == 0)
		return;
	/* In turns, from where the last check stopped, so every region is re-read in time. */
	for (size_t k = 0, i = q->watch_cursor % n; k < n && budget > 0; k++, i = (i + 1) % n) {
		struct region *r = q->watch[i];
		if (all || (user && r->uid == o->uid) || (group && r->gid == o->gid) ||
		    (unit && r->creator.unit && strcmp(r->creator.unit, o->unit) == 0)) {
			refresh(q, r);
			budget--;
		}
		q->watch_cursor = i + 1;
	}
}

static void subject_name(const struct quota_usage *u, char *buf, size_t size)
{
	if (u->scope == CONF_UNIT)
		snprintf(buf, size, "%s", u->unit);
	else if (u->scope == CONF_GLOBAL)
		snprintf(buf, size, "global");
	else
		snprintf(buf, size, "%u", u->id);
}

static bool over(struct quota *q, struct quota_usage *u, uint64_t bytes, uint64_t regions,
		 struct quota_refusal *ret)
{
	const struct conf_limit *l = quota_limit(q, u);
	bool by_regions;

	if (l->memory_max != CONF_UNLIMITED &&
	    (u->bytes > l->memory_max || bytes > l->memory_max - u->bytes))
		by_regions = false;
	else if (l->regions_max != CONF_UNLIMITED &&
		 (u->regions > l->regions_max || regions > l->regions_max - u->regions))
		by_regions = true;
	else
		return false;
	*ret = (struct quota_refusal){
		.scope = u->scope,
		.regions = by_regions,
		.limit = by_regions ? l->regions_max : l->memory_max,
		.used = by_regions ? u->regions : u->bytes,
		.requested = by_regions ? regions : bytes,
	};
	subject_name(u, ret->subject, sizeof(ret->subject));
	return true;
}

bool quota_check(struct quota *q, const struct quota_owner *o, unsigned mask, uint64_t bytes,
		 uint64_t regions, struct quota_refusal *ret)
{
	struct quota_usage *u[_CONF_SCOPE_MAX];

	if (!q->limited)
		return false;
	refresh_watched(q, o, mask);
	u[CONF_GLOBAL] = &q->global;
	/* A subject with no entry yet is charged nothing: a blank one shows its limit. */
	u[CONF_USER] = usage_get(q, CONF_USER, o->uid, NULL, true);
	u[CONF_GROUP] = usage_get(q, CONF_GROUP, o->gid, NULL, true);
	u[CONF_UNIT] = usage_get(q, CONF_UNIT, 0, o->unit, true);
	/* The most specific limit is reported: the one its subject can act on. */
	static const enum conf_scope order[] = { CONF_UNIT, CONF_USER, CONF_GROUP, CONF_GLOBAL };
	for (size_t i = 0; i < ELEMENTSOF(order); i++) {
		enum conf_scope s = order[i];
		if ((mask & (1u << s)) && u[s] && over(q, u[s], bytes, regions, ret))
			return true;
	}
	return false;
}

static void rebuild_one(struct region *r, void *userdata)
{
	struct quota *q = userdata;

	region_refresh_size(r);
	quota_charge(q, r);
}

static void zero_one(const void *node, VISIT which, void *closure)
{
	struct quota_usage *u = *(struct quota_usage *const *)node;

	if (which == postorder || which == leaf)
		u->bytes = u->regions = 0;
}

int quota_rebuild(struct quota *q, const struct registry *reg)
{
	q->global.bytes = q->global.regions = 0;
	for (int s = 0; s < _CONF_SCOPE_MAX; s++)
		twalk_r(q->trees[s], zero_one, NULL);
	registry_foreach(reg, rebuild_one, q);
	return 0;
}

void quota_add_configured(struct quota *q)
{
	for (size_t i = 0; i < q->conf.n_subjects; i++) {
		const struct conf_subject *s = &q->conf.subjects[i];
		if (s->scope != CONF_UNIT || !s->glob)
			(void)usage_get(q, s->scope, s->id, s->unit, true);
	}
}

struct walk {
	struct quota *q;
	void (*fn)(struct quota *q, struct quota_usage *u, void *userdata);
	void *userdata;
};

static void walk_one(const void *node, VISIT which, void *closure)
{
	struct walk *w = closure;

	if (which == postorder || which == leaf)
		w->fn(w->q, *(struct quota_usage *const *)node, w->userdata);
}

void quota_foreach(struct quota *q, enum conf_scope scope,
		   void (*fn)(struct quota *q, struct quota_usage *u, void *userdata),
		   void *userdata)
{
	struct walk w = { q, fn, userdata };

	if (scope == CONF_GLOBAL) {
		fn(q, &q->global, userdata);
		return;
	}
	twalk_r(q->trees[scope], walk_one, &w);
}
