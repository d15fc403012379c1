/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The range set (daemon/ranges.c) against a per-page reference model, and its limits. */

#include <stdio.h>
#include <string.h>

#include "ranges.h"
#include "region.h"
#include "testlib.h"

#define PAGES 64
#define PG RANGES_ALIGN

static const char *const labels[] = { "a", "b", "c" };

/* model[i]: index into labels, or -1 for an unlabelled page. */
static int model[PAGES];

/* The set is sorted, disjoint, merged, and says what the model says, page by page. */
static bool matches(const struct region *r, char *why, size_t size)
{
	int got[PAGES];
	uint64_t prev_end = 0;
	const char *prev_label = NULL;

	for (int i = 0; i < PAGES; i++)
		got[i] = -1;
	for (size_t i = 0; i < ranges_count(r); i++) {
		const struct range *g = ranges_get(r, i);
		if (g->length == 0 || g->offset % PG || g->length % PG || g->offset < prev_end) {
			snprintf(why, size, "range %zu malformed or out of order", i);
			return false;
		}
		if (prev_label && g->offset == prev_end && strcmp(prev_label, g->label) == 0) {
			snprintf(why, size, "range %zu not merged with its equal neighbour", i);
			return false;
		}
		for (uint64_t p = g->offset / PG; p < (g->offset + g->length) / PG && p < PAGES;
		     p++)
			for (int l = 0; l < 3; l++)
				if (strcmp(g->label, labels[l]) == 0)
					got[p] = l;
		prev_end = g->offset + g->length;
		prev_label = g->label;
	}
	for (int i = 0; i < PAGES; i++)
		if (got[i] != model[i]) {
			snprintf(why, size, "page %d: got %d, model %d", i, got[i], model[i]);
			return false;
		}
	return true;
}

static void model_rename(int from, int to)
{
	for (int i = 0; i < PAGES; i++)
		if (model[i] == from)
			model[i] = to;
}

/* One random operation on both the set and the model; false if the set refused it. */
static bool random_op(struct region *r, unsigned *seed, char *what, size_t size)
{
	int op = rand_r(seed) % 10, l = rand_r(seed) % 3, l2 = rand_r(seed) % 3;
	int first = rand_r(seed) % PAGES, n = 1 + rand_r(seed) % (PAGES - first);

	if (op < 6) {
		snprintf(what, size, "label [%d,+%d) %s", first, n, labels[l]);
		for (int i = first; i < first + n; i++)
			model[i] = l;
		return ranges_set(r, (uint64_t)first * PG, (uint64_t)n * PG, labels[l]) == 0;
	}
	if (op < 8) {
		snprintf(what, size, "unlabel [%d,+%d)", first, n);
		for (int i = first; i < first + n; i++)
			model[i] = -1;
		return ranges_set(r, (uint64_t)first * PG, (uint64_t)n * PG, NULL) == 0;
	}
	if (op < 9) {
		snprintf(what, size, "rename %s -> %s", labels[l], labels[l2]);
		model_rename(l, l2);
		return ranges_rename(r, labels[l], labels[l2]) >= 0;
	}
	snprintf(what, size, "remove label %s", labels[l]);
	model_rename(l, -1);
	return ranges_remove_label(r, labels[l]) >= 0;
}

static void test_random(void)
{
	struct region r = { .size = PAGES * PG };
	unsigned seed = 13;
	char what[128] = "", why[128] = "";
	int bad = 0, step;

	for (int i = 0; i < PAGES; i++)
		model[i] = -1;
	for (step = 0; step < 20000 && !bad; step++) {
		if (!random_op(&r, &seed, what, sizeof(what)) || !matches(&r, why, sizeof(why)))
			bad = 1;
	}
	if (!ok(!bad, "20000 random label/unlabel/rename/remove operations match the page model"))
		diag("step %d, %s: %s", step, what, why);
	ranges_free(r.ranges);
}

static void test_kernel_examples(void)
{
	struct region r = { .size = 16 * PG };

	ok(ranges_set(&r, 0, 8 * PG, "guest") == 0, "label [0,8)");
	ok(ranges_set(&r, 2 * PG, 2 * PG, "rom") == 0, "label [2,4) inside it");
	is_int((long long)ranges_count(&r), 3, "the newest wins: guest, rom, guest");
	is_str(ranges_get(&r, 2)->label, "guest", "  the right part keeps the old label");
	is_int((long long)ranges_get(&r, 2)->offset, 4 * PG, "  and starts after rom");
	ok(ranges_set(&r, 2 * PG, 2 * PG, "guest") == 0, "relabel the middle as guest");
	is_int((long long)ranges_count(&r), 1, "adjacent equal labels merge into one");
	is_int((long long)ranges_get(&r, 0)->length, 8 * PG, "  of the whole length");
	ok(ranges_set(&r, 8 * PG, 8 * PG, "guest") == 0, "label the adjacent [8,16) guest");
	is_int((long long)ranges_count(&r), 1, "  merged again");
	ranges_clip(&r, 5 * PG + 1);
	is_int((long long)ranges_get(&r, 0)->length, 6 * PG, "clip to 5 pages + 1 byte keeps 6");
	ranges_clip(&r, 0);
	ok(r.ranges == NULL, "clip to 0 frees the set");
	ranges_free(r.ranges);
}

static void test_errors(void)
{
	struct region r = { .size = 1 << 30 };

	is_int(ranges_set(&r, 1, PG, "x"), -EINVAL, "unaligned offset: EINVAL");
	is_int(ranges_set(&r, 0, PG + 1, "x"), -EINVAL, "unaligned length: EINVAL");
	is_int(ranges_set(&r, 0, 0, "x"), -EINVAL, "empty length: EINVAL");
	is_int(ranges_set(&r, UINT64_MAX - PG + 1, 2 * PG, "x"), -EINVAL, "overflow: EINVAL");
	is_int(ranges_set(&r, 0, PG, "a[0]"), -EINVAL, "label with [ ]: EINVAL");
	is_int(ranges_set(&r, 0, PG, "tab\there"), -EINVAL, "control character: EINVAL");
	is_int(ranges_set(&r, 0, PG, ""), -EINVAL, "empty label: EINVAL");
	char long_label[RANGES_LABEL_MAX + 2];
	memset(long_label, 'x', sizeof(long_label) - 1);
	long_label[RANGES_LABEL_MAX + 1] = '\0';
	is_int(ranges_set(&r, 0, PG, long_label), -EINVAL, "81-byte label: EINVAL");
	long_label[RANGES_LABEL_MAX] = '\0';
	is_int(ranges_set(&r, 0, PG, long_label), 0, "80-byte label: fine");
	ok(ranges_label_invalid("guest ram (node 0): 1/2 #x") == NULL, "spaces, ( ) : / # allowed");
	is_int(ranges_rename(&r, long_label, "$x"), -EINVAL, "rename to an invalid label: EINVAL");
	is_int(ranges_rename(&r, "nope", "y"), 0, "rename of an absent label: 0 renamed");
	ranges_free(r.ranges);
}

static void test_limit(void)
{
	struct region r = { .size = 1ull << 40 };
	int bad = 0;

	for (int i = 0; i < RANGES_MAX && !bad; i++)
		bad = ranges_set(&r, (uint64_t)i * PG, PG, i % 2 ? "odd" : "even") != 0;
	ok(!bad && ranges_count(&r) == RANGES_MAX, "%d alternating ranges are accepted",
	   RANGES_MAX);
	is_int(ranges_set(&r, (uint64_t)(RANGES_MAX + 1) * PG, PG, "one more"), -E2BIG,
	       "one more: E2BIG");
	is_int(ranges_set(&r, 10 * PG, PG, "split"), 0,
	       "replacing one in place keeps the count: fine");
	is_int((long long)ranges_count(&r), RANGES_MAX, "count unchanged after the refusal");
	is_int(ranges_set(&r, 0, 2 * PG, "even"), 0, "labelling [0,2) even merges pages 0-2");
	is_int((long long)ranges_count(&r), RANGES_MAX - 2, "  into one range");
	ranges_free(r.ranges);
}

int main(void)
{
	test_kernel_examples();
	test_errors();
	test_limit();
	test_random();
	return done_testing();
}
