/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry: region names (and ids) to regions, in byte order of the names. */

#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* strcmp() compares as unsigned char, which is the byte order List promises. */
static int compare_name(const void *a, const void *b)
{
	return strcmp(((const struct region *)a)->name, ((const struct region *)b)->name);
}

static int compare_id(const void *a, const void *b)
{
	uint64_t x = ((const struct region *)a)->id, y = ((const struct region *)b)->id;
	return x < y ? -1 : x > y;
}

static bool match_name(const void *entry, const void *key)
{
	return strcmp(((const struct region *)entry)->name, key) == 0;
}

void registry_init(struct registry *reg)
{
	*reg = (struct registry){ .next_id = 1 };
}

static void free_region(void *p)
{
	region_free(p);
}

static void no_free(void *p)
{
}

void registry_done(struct registry *reg)
{
	tdestroy(reg->by_id, no_free);
	hashindex_done(&reg->names);
	tdestroy(reg->by_name, free_region);
	registry_init(reg);
}

static struct region *find_hashed(const struct registry *reg, const char *name, uint64_t hash)
{
	return hashindex_find(&reg->names, hash, match_name, name);
}

struct region *registry_find(const struct registry *reg, const char *name)
{
	return find_hashed(reg, name, hashindex_hash_string(name));
}

struct region *registry_find_id(const struct registry *reg, uint64_t id)
{
	struct region key = { .id = id };
	struct region **found = tfind(&key, &reg->by_id, compare_id);
	return found ? *found : NULL;
}

int registry_add(struct registry *reg, struct region *r)
{
	uint64_t hash = hashindex_hash_string(r->name);

	if (find_hashed(reg, r->name, hash))
		return -EEXIST;
	r->id = reg->next_id;
	if (hashindex_add(&reg->names, r, hash) < 0)
		return -ENOMEM;
	if (!tsearch(r, &reg->by_name, compare_name)) {
		hashindex_remove(&reg->names, r, hash);
		return -ENOMEM;
	}
	if (!tsearch(r, &reg->by_id, compare_id)) {
		tdelete(r, &reg->by_name, compare_name);
		hashindex_remove(&reg->names, r, hash);
		return -ENOMEM;
	}
	reg->next_id++;
	reg->n_regions++;
	return 0;
}

void registry_remove(struct registry *reg, struct region *r)
{
	hashindex_remove(&reg->names, r, hashindex_hash_string(r->name));
	tdelete(r, &reg->by_name, compare_name);
	tdelete(r, &reg->by_id, compare_id);
	reg->n_regions--;
	reg->removals++;
}

int registry_rename(struct registry *reg, struct region *r, const char *new_name)
{
	uint64_t new_hash = hashindex_hash_string(new_name), old_hash;

	if (find_hashed(reg, new_name, new_hash))
		return -EEXIST;
	char *copy = strdup(new_name);
	if (!copy)
		return -ENOMEM;
	/* The index has room (at most half full), but adding may still grow it: add first. */
	if (hashindex_add(&reg->names, r, new_hash) < 0) {
		free(copy);
		return -ENOMEM;
	}
	old_hash = hashindex_hash_string(r->name);
	hashindex_remove(&reg->names, r, old_hash);

	tdelete(r, &reg->by_name, compare_name);
	char *old = r->name;
	r->name = copy;
	if (!tsearch(r, &reg->by_name, compare_name)) {
		/* Put it back under the old name; that node was just freed, so this fits. */
		hashindex_remove(&reg->names, r, new_hash);
		r->name = old;
		free(copy);
		tsearch(r, &reg->by_name, compare_name);
		/* No allocation: one entry just left, and a shrink leaves it a quarter full. */
		(void)hashindex_add(&reg->names, r, old_hash);
		return -ENOMEM;
	}
	free(old);
	return 0;
}

struct collect {
	const char *prefix;
	size_t prefix_len;
	struct region **regions;
	size_t n, cap;
	int err;
};

static void collect_one(const void *node, VISIT which, void *userdata)
{
	struct collect *c = userdata;
	struct region *r = *(struct region *const *)node;

	if ((which != postorder && which != leaf) || c->err)
		return;
	if (strncmp(r->name, c->prefix, c->prefix_len) != 0)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct region **regions = reallocarray(c->regions, cap, sizeof(*regions));
		if (!regions) {
			c->err = -ENOMEM;
			return;
		}
		c->regions = regions;
		c->cap = cap;
	}
	c->regions[c->n++] = r;
}

int registry_collect(const struct registry *reg, const char *prefix, struct region ***ret,
		     size_t *n)
{
	struct collect c = { .prefix = prefix ? prefix : "",
			     .prefix_len = prefix ? strlen(prefix) : 0 };

	twalk_r(reg->by_name, collect_one, &c);
	if (c.err) {
		free(c.regions);
		return c.err;
	}
	*ret = c.regions;
	*n = c.n;
	return 0;
}

struct foreach {
	void (*fn)(struct region *r, void *userdata);
	void *userdata;
};

static void foreach_one(const void *node, VISIT which, void *userdata)
{
	struct foreach *f = userdata;
	if (which == postorder || which == leaf)
		f->fn(*(struct region *const *)node, f->userdata);
}

void registry_foreach(const struct registry *reg, void (*fn)(struct region *r, void *userdata),
		      void *userdata)
{
	struct foreach f = { fn, userdata };
	twalk_r(reg->by_name, foreach_one, &f);
}
