/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seal bits (fcntl F_SEAL_*) and their wire names. */
#pragma once

#include <stddef.h>
#include <json-c/json.h>

#include "shmd.h" /* SHMD_SEAL_* are the kernel's F_SEAL_* values */

#define SHMD_SEAL_ALL 0x003f

/* Wire name of one bit ("seal", "shrink", ...), or NULL. */
const char *seal_to_string(unsigned bit);
/* One wire name to its bit, or 0 if unknown. */
unsigned seal_from_string(const char *s);
/* JSON array of names for a bitmask; NULL on OOM. */
json_object *seals_to_json(unsigned seals);
/* Parse a JSON array of names. 0, or -EINVAL (not an array, unknown or non-string entry). */
int seals_from_json(json_object *arr, unsigned *ret);
/* Comma-separated names ("grow,shrink") to bits, for the CLI. 0 or -EINVAL. */
int seals_from_list(const char *list, unsigned *ret);
/* Comma-separated names for humans into buf; "-" when none. */
char *seals_format(unsigned seals, char *buf, size_t size);
