/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Quotas: what each user, group and unit is charged (derived from the registry) and the checks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

struct region;
struct registry;

/* What one subject is charged, and the limit that applies to it (resolved lazily). */
struct quota_usage {
	enum conf_scope scope;
	uint32_t id;	  /* uid or gid */
	const char *unit; /* interned (CONF_UNIT) */
	uint64_t bytes;
	uint64_t regions;
	struct conf_limit limit; /* valid while limit_gen == quota.gen */
	uint64_t limit_gen;
};

/*
 * The charges are derived data: every region is charged its size to its owner uid, its owner
 * gid and its creator's unit, incrementally as regions come and go, and quota_rebuild()
 * recomputes them all from the registry (after a restart restores regions, or a reload).
 */
struct quota {
	struct shmd_conf conf; /* limits and prefixes in force (no [Daemon] options) */
	uint64_t gen;	       /* bumped by quota_set_conf(): cached limits are stale */
	bool limited;	       /* any limit set at all */
	struct quota_usage global;
	void *trees[_CONF_SCOPE_MAX]; /* tsearch trees of struct quota_usage, by id or unit */
	/*
	 * Regions a read-write holder could have resized behind the daemon's back (a
	 * writable description went out and grow/shrink are not both sealed): their sizes
	 * are re-read before a check that their charge takes part in.
	 */
	struct region **watch;
	size_t n_watch, cap_watch;
	size_t watch_cursor; /* where the next check starts re-reading */
};

/* Watched regions re-read per check at most. */
#define QUOTA_REFRESH_BUDGET 8

/* The subjects a region is (or would be) charged to. */
struct quota_owner {
	uid_t uid;
	gid_t gid;
	const char *unit; /* NULL: not charged to any unit */
};

/* Which limit a request would exceed. */
struct quota_refusal {
	enum conf_scope scope;
	bool regions; /* the region count, else bytes */
	char subject[256];
	uint64_t limit, used, requested;
};

enum {
	QUOTA_CHECK_GLOBAL = 1 << CONF_GLOBAL,
	QUOTA_CHECK_USER = 1 << CONF_USER,
	QUOTA_CHECK_GROUP = 1 << CONF_GROUP,
	QUOTA_CHECK_UNIT = 1 << CONF_UNIT,
	QUOTA_CHECK_ALL = 0xf,
};

void quota_init(struct quota *q);
void quota_done(struct quota *q);
/* Put the limits and prefixes of conf in force (taken from conf; its options stay there). */
void quota_set_conf(struct quota *q, struct shmd_conf *conf);

/* r entered the registry / leaves it (before it is freed). */
void quota_charge(struct quota *q, struct region *r);
void quota_uncharge(struct quota *q, struct region *r);
/* r->size may differ from what r is charged: charge the difference. */
void quota_sync(struct quota *q, struct region *r);
/* r's owner changed from old_uid/old_gid: move the charge. */
void quota_chown(struct quota *q, struct region *r, uid_t old_uid, gid_t old_gid);
/* A read-write description of r went out: its size may change behind the daemon's back. */
void quota_writable(struct quota *q, struct region *r);
/* Recompute every charge from the regions of reg (re-reading sizes). 0 or -ENOMEM. */
int quota_rebuild(struct quota *q, const struct registry *reg);

/*
 * Would charging bytes and regions more to o exceed a limit of the scopes in mask? Sizes of
 * watched regions of these subjects are re-read first. False, or true with *ret filled.
 */
bool quota_check(struct quota *q, const struct quota_owner *o, unsigned mask, uint64_t bytes,
		 uint64_t regions, struct quota_refusal *ret);

/* The usage entry of a subject, or NULL if it has none (global: always). */
const struct quota_usage *quota_lookup(struct quota *q, enum conf_scope scope, uint32_t id,
				       const char *unit);
/* The limit in force for u (resolved from the configuration). */
const struct conf_limit *quota_limit(struct quota *q, struct quota_usage *u);
/* Make an entry for every user, group and exact unit the configuration names (for listing). */
void quota_add_configured(struct quota *q);
/* Call fn for every usage entry of scope (global: the one entry). */
void quota_foreach(struct quota *q, enum conf_scope scope,
		   void (*fn)(struct quota *q, struct quota_usage *u, void *userdata),
		   void *userdata);
