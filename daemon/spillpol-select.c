/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which idle regions to spill: least recently used first, until usage is under a target. */

#include <stdlib.h>

#include "spillpol-select.h"

static int by_last_use(const void *a, const void *b)
{
	const struct spillpol_candidate *x = a, *y = b;

	if (x->last_use_usec != y->last_use_usec)
		return x->last_use_usec < y->last_use_usec ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

size_t spillpol_select(struct spillpol_candidate *c, size_t n, uint64_t usage, uint64_t target)
{
	size_t kept = 0, take = 0;

	/* Empty regions first out of the way: spilling them frees nothing. */
	for (size_t i = 0; i < n; i++)
		if (c[i].bytes > 0)
			c[kept++] = c[i];
	qsort(c, kept, sizeof(*c), by_last_use);
	while (take < kept && usage > target) {
		usage -= c[take].bytes < usage ? c[take].bytes : usage;
		take++;
	}
	return take;
}

uint64_t spillpol_target(uint64_t usage, uint64_t high, uint64_t low, int pressure)
{
	if (pressure) {
		uint64_t cut = usage / 8 > 4096 ? usage / 8 : 4096;
		uint64_t t = usage > cut ? usage - cut : 0;
		return low < t ? low : t;
	}
	if (high != UINT64_MAX && usage > high)
		return low;
	return usage;
}
