/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the spill policy's choice: least recently used first, down to the target. */

#include <stdint.h>
#include <string.h>

#include "spillpol-select.h"
#include "testlib.h"

#define MiB (UINT64_C(1) << 20)

static void fill(struct spillpol_candidate *c)
{
	/* id, bytes, last use: given out of order on purpose. */
	static const uint64_t t[][3] = {
		{ 1, 10 * MiB, 500 }, { 2, 20 * MiB, 100 }, { 3, 0, 50 },
		{ 4, 30 * MiB, 300 }, { 5, 40 * MiB, 100 },
	};
	for (size_t i = 0; i < 5; i++)
		c[i] = (struct spillpol_candidate){ .id = t[i][0],
						    .bytes = t[i][1],
						    .last_use_usec = t[i][2] };
}

static void test_select(void)
{
	struct spillpol_candidate c[5];
	size_t n;

	fill(c);
	is_int((long long)spillpol_select(c, 5, 100 * MiB, 100 * MiB), 0,
	       "usage at the target: nothing to spill");
	fill(c);
	n = spillpol_select(c, 5, 100 * MiB, 90 * MiB);
	is_int((long long)n, 1, "10 MiB over: one region");
	is_int((long long)c[0].id, 2, "  the least recently used, the lower id on a tie");
	fill(c);
	n = spillpol_select(c, 5, 100 * MiB, 55 * MiB);
	is_int((long long)n, 2, "45 MiB over: two regions");
	ok(c[0].id == 2 && c[1].id == 5, "  ids 2 then 5 (both used at 100)");
	fill(c);
	n = spillpol_select(c, 5, 100 * MiB, 30 * MiB);
	is_int((long long)n, 3, "70 MiB over: three regions");
	is_int((long long)c[2].id, 4, "  then id 4 (used at 300)");
	fill(c);
	n = spillpol_select(c, 5, 100 * MiB, 0);
	is_int((long long)n, 4, "a target of 0: every region with data, not the empty one");
	for (size_t i = 0; i < n; i++)
		ok(c[i].id != 3, "  an empty region (id 3) is never chosen (slot %zu)", i);
	fill(c);
	n = spillpol_select(c, 5, 500 * MiB, 0);
	is_int((long long)n, 4, "not enough to reach the target: all of them, no more");
	is_int((long long)spillpol_select(c, 0, 100 * MiB, 0), 0, "no candidates: none");
}

static void test_target(void)
{
	is_int((long long)spillpol_target(100 * MiB, UINT64_MAX, UINT64_MAX, 0), 100 * MiB,
	       "no water marks, no pressure: no spilling");
	is_int((long long)spillpol_target(100 * MiB, 200 * MiB, 150 * MiB, 0), 100 * MiB,
	       "under the high-water mark: no spilling");
	is_int((long long)spillpol_target(250 * MiB, 200 * MiB, 150 * MiB, 0), 150 * MiB,
	       "over the high-water mark: down to the low one");
	is_int((long long)spillpol_target(800 * MiB, UINT64_MAX, UINT64_MAX, 1), 700 * MiB,
	       "pressure: an eighth less");
	is_int((long long)spillpol_target(800 * MiB, 900 * MiB, 600 * MiB, 1), 600 * MiB,
	       "pressure with a lower low-water mark: down to it");
	is_int((long long)spillpol_target(4096, UINT64_MAX, UINT64_MAX, 1), 0,
	       "pressure on a tiny usage: at least a page");
}

int main(void)
{
	test_select();
	test_target();
	return done_testing();
}
