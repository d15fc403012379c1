/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interned, reference-counted strings, so many regions of one unit share one copy of its name. */

#include <search.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"

struct interned {
	unsigned long refs;
	char s[];
};

static void *pool;

static int compare(const void *a, const void *b)
{
	return strcmp(((const struct interned *)a)->s, ((const struct interned *)b)->s);
}

static struct interned *from_string(const char *s)
{
	return (struct interned *)(s - offsetof(struct interned, s));
}

const char *intern_ref(const char *s)
{
	if (!s)
		return NULL;

	size_t len = strlen(s);
	struct interned *n = malloc(sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	n->refs = 0;
	memcpy(n->s, s, len + 1);

	struct interned **found = tsearch(n, &pool, compare);
	if (!found) {
		free(n);
		return NULL;
	}
	if (*found != n)
		free(n);
	(*found)->refs++;
	return (*found)->s;
}

void intern_unref(const char *s)
{
	if (!s)
		return;
	struct interned *n = from_string(s);
	if (--n->refs > 0)
		return;
	tdelete(n, &pool, compare);
	free(n);
}
