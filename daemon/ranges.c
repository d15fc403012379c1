/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Named ranges of a region: label, split, merge and clip page-aligned spans (see ranges.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ranges.h"
#include "region.h"

/* A set being built: every label is the set's own copy, so a failure frees it all. */
struct build {
	struct range *v;
	size_t n, cap;
	bool oom;
};

static void build_push(struct build *b, uint64_t offset, uint64_t length, const char *label)
{
	if (b->oom || length == 0)
		return;
	/* Equal neighbours merge: the kernel's VMA naming does the same for adjacent names. */
	if (b->n > 0) {
		struct range *last = &b->v[b->n - 1];
		if (last->offset + last->length == offset && strcmp(last->label, label) == 0) {
			last->length += length;
			return;
		}
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct range *v = realloc(b->v, cap * sizeof(*v));
		if (!v) {
			b->oom = true;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	char *copy = strdup(label);
	if (!copy) {
		b->oom = true;
		return;
	}
	b->v[b->n++] = (struct range){ offset, length, copy };
}

static void build_done(struct build *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].label);
	free(b->v);
	*b = (struct build){ 0 };
}

/* Replace r's set by b's (emptied). 0, -ENOMEM or -E2BIG (r unchanged either way). */
static int build_commit(struct region *r, struct build *b)
{
	if (b->oom) {
		build_done(b);
		return -ENOMEM;
	}
	if (b->n > RANGES_MAX) {
		build_done(b);
		return -E2BIG;
	}
	if (b->n == 0) {
		build_done(b);
		ranges_free(r->ranges);
		r->ranges = NULL;
		return 0;
	}
	if (!r->ranges) {
		r->ranges = calloc(1, sizeof(*r->ranges));
		if (!r->ranges) {
			build_done(b);
			return -ENOMEM;
		}
	} else {
		for (size_t i = 0; i < r->ranges->n; i++)
			free(r->ranges->v[i].label);
		free(r->ranges->v);
	}
	r->ranges->v = b->v;
	r->ranges->n = b->n;
	*b = (struct build){ 0 };
	return 0;
}

const char *ranges_label_invalid(const char *label)
{
	size_t len = strlen(label);

	if (len == 0)
		return "empty";
	if (len > RANGES_LABEL_MAX)
		return "longer than 80 bytes";
	for (const char *p = label; *p; p++) {
		/* mm/madvise.c: is_valid_name_char() */
		if (*p < 0x20 || *p > 0x7e)
			return "not printable ASCII";
		if (strchr("[]\\$`", *p))
			return "contains one of [ ] \\ $ `";
	}
	return NULL;
}

int ranges_set(struct region *r, uint64_t offset, uint64_t length, const char *label)
{
	struct build b = { 0 };
	bool inserted = !label; /* removing: nothing to insert */
	uint64_t end = offset + length;

	if (length == 0 || end < offset || offset % RANGES_ALIGN || length % RANGES_ALIGN)
		return -EINVAL;
	if (label && ranges_label_invalid(label))
		return -EINVAL;
	for (size_t i = 0; i < ranges_count(r); i++) {
		const struct range *o = &r->ranges->v[i];
		uint64_t o_end = o->offset + o->length;

		if (o_end <= offset) {
			build_push(&b, o->offset, o->length, o->label);
			continue;
		}
		if (o->offset < offset) /* the part before the new range */
			build_push(&b, o->offset, offset - o->offset, o->label);
		if (!inserted && o_end > offset) {
			build_push(&b, offset, length, label);
			inserted = true;
		}
		if (o_end > end) /* the part after it */
			build_push(&b, MAX(o->offset, end), o_end - MAX(o->offset, end), o->label);
	}
	if (!inserted)
		build_push(&b, offset, length, label);
	return build_commit(r, &b);
}

/* Copy r's set with labels old -> new (new NULL: dropped). Count affected, or -errno. */
static int relabel(struct region *r, const char *old_label, const char *new_label)
{
	struct build b = { 0 };
	int count = 0;

	for (size_t i = 0; i < ranges_count(r); i++) {
		const struct range *o = &r->ranges->v[i];
		bool match = strcmp(o->label, old_label) == 0;

		count += match;
		if (!match)
			build_push(&b, o->offset, o->length, o->label);
		else if (new_label)
			build_push(&b, o->offset, o->length, new_label);
	}
	int err = build_commit(r, &b);
	return err < 0 ? err : count;
}

int ranges_rename(struct region *r, const char *old_label, const char *new_label)
{
	if (ranges_label_invalid(new_label))
		return -EINVAL;
	return relabel(r, old_label, new_label);
}

int ranges_remove_label(struct region *r, const char *label)
{
	return relabel(r, label, NULL);
}

void ranges_clip(struct region *r, uint64_t size)
{
	uint64_t limit = size > UINT64_MAX - (RANGES_ALIGN - 1) ?
				 UINT64_MAX :
				 (size + RANGES_ALIGN - 1) / RANGES_ALIGN * RANGES_ALIGN;
	struct ranges *rs = r->ranges;

	if (!rs)
		return;
	while (rs->n > 0 && rs->v[rs->n - 1].offset >= limit)
		free(rs->v[--rs->n].label);
	if (rs->n > 0) {
		struct range *last = &rs->v[rs->n - 1];
		if (last->offset + last->length > limit)
			last->length = limit - last->offset;
	}
	if (rs->n == 0) {
		ranges_free(rs);
		r->ranges = NULL;
	}
}

size_t ranges_count(const struct region *r)
{
	return r->ranges ? r->ranges->n : 0;
}

const struct range *ranges_get(const struct region *r, size_t i)
{
	return i < ranges_count(r) ? &r->ranges->v[i] : NULL;
}

void ranges_free(struct ranges *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].label);
	free(rs->v);
	free(rs);
}
