/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing one region the way the global options ask (stat, open, and --json after changes). */
#pragma once

#include <json-c/json.h>

#include "shmctl.h"
#include "table.h"

struct table_format shmctl_table_format(const struct shmctl *s);

/*
 * Print region as a record (--output picks the columns, default all); extra is
 * merged into the JSON object. 0 or an exit status.
 */
int print_region(const struct shmctl *s, const struct shmd_region *region, json_object *extra);
/* The same with other default columns. */
int print_region_with(const struct shmctl *s, const struct shmd_region *region, json_object *extra,
		      const char *defaults);
