/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The region columns of ls, stat, open and the JSON region object. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

extern const struct table_column region_columns[];
extern const size_t n_region_columns;

#define REGION_COLUMNS_LS "NAME,SIZE,RSS,SWAP,ALLOC,OWNER,GROUP,PERMS,SEALS,HOLDERS,CREATED"
/* ls --anonymous: memfd_create()s made through shmd (libshmd-preload(8)). */
#define REGION_COLUMNS_ANONYMOUS "NAME,SIZE,OWNER,GROUP,CPID,UNIT,HOLDERS,CREATED"
#define REGION_COLUMNS_STAT                                                                          \
	"NAME,ID,SIZE,OWNER,GROUP,PERMS,MODE,SEALS,FSEALS,FIXED,NOSPILL,STATE,CREATED,CHANGED,CPID," \
	"CUID,UNIT,HOLDERS,LASTOPEN,LASTCLOSE,LASTSPILL,LASTRESTORE"
/* stat measures the footprint too. */
#define REGION_COLUMNS_STAT_FOOTPRINT REGION_COLUMNS_STAT ",RSS,SWAP,ALLOC,DIRTY,SPILLED,RANGES"

/* Times: "2026-11-22 08:02:14" (local) for humans, ISO 8601 UTC with microseconds for JSON. */
char *time_format_human(uint64_t usec);
char *time_format_iso(uint64_t usec);

/*
 * Pick region columns from --output (NULL: defaults), reporting an unknown
 * column as a usage error. 0 or an exit status.
 */
int region_columns_select(const char *defaults, const char *output,
			  const struct table_column ***ret, size_t *ret_n);
/* Does one of these columns need the region's footprint (List/Stat with footprint)? */
bool region_columns_need_footprint(const struct table_column *const *cols, size_t n);
