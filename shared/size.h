/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Byte sizes: parsing "4096", "64K", "1.5G" and printing them for humans. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a size: a decimal number with an optional fraction and an optional
 * binary suffix K, M, G, T, P, E (KiB, MiB ... also accepted, case-insensitive,
 * optional trailing "B"). The result is rounded down to a whole byte.
 * Returns 0, -EINVAL (malformed) or -ERANGE (over INT64_MAX).
 */
int size_parse(const char *s, uint64_t *ret);

/* "0", "4.0K", "1.5G": one decimal, binary units, like util-linux size_to_human_string. */
char *size_format(uint64_t bytes, char *buf, size_t size);
#define SIZE_FORMAT_MAX 16
