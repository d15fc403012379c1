/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The range tables shmctl prints: ls --ranges (every region's ranges) and stat (one region's parts). */
#pragma once

#include <json-c/json.h>

#include "shmctl.h"
#include "table.h"

/* A table of ranges with the columns --output picks (default NAME,OFFSET,LENGTH,LABEL). */
int ranges_table_new(const struct shmctl *s, struct table **ret);
/* Add region's named ranges as rows. 0 or -ENOMEM. */
int ranges_add_region(struct table *t, const struct shmd_region *region);
/*
 * stat: when region has ranges, print its parts with their footprint after the record, or
 * (with --json) return them as a JSON array for the record's "ranges". 0 or exit status.
 */
int ranges_stat(struct shmctl *s, const char *name, const struct shmd_region *region,
		json_object **ret_json);
