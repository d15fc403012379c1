/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry: region names (and ids) to regions, in byte order of the names. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hashindex.h"
#include "region.h"

struct registry {
	void *by_name;		/* tsearch tree of struct region *, ordered by name bytes */
	struct hashindex names; /* the same regions by name hash: exact lookups in O(1) */
	void *by_id;		/* tsearch tree of struct region *, ordered by id */
	size_t n_regions;
	uint64_t next_id;  /* ids are never reused */
	uint64_t removals; /* bumped by registry_remove(): a region pointer kept since may dangle */
};

void registry_init(struct registry *reg);
/* Frees every region (closing its memfd). */
void registry_done(struct registry *reg);

struct region *registry_find(const struct registry *reg, const char *name);
struct region *registry_find_id(const struct registry *reg, uint64_t id);

/* Insert r (its name must be free) and give it the next id. 0, -EEXIST or -ENOMEM. */
int registry_add(struct registry *reg, struct region *r);
/* Take r out of the registry; the caller frees it. */
void registry_remove(struct registry *reg, struct region *r);
/* Give r a new name (which must be free). 0, -EEXIST or -ENOMEM; r is unchanged on error. */
int registry_rename(struct registry *reg, struct region *r, const char *new_name);

/*
 * The regions whose name starts with prefix, in name order. Caller frees *ret. The pointers
 * stay valid while reg->removals is unchanged; after that, look them up by id.
 */
int registry_collect(const struct registry *reg, const char *prefix, struct region ***ret,
		     size_t *n);

/* Call fn for every region in name order. */
void registry_foreach(const struct registry *reg, void (*fn)(struct region *r, void *userdata),
		      void *userdata);
