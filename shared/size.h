/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Byte sizes: parsing "4096", "64K", "1.5G" and printing them for humans. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a size: a decimal number with an optional fraction and an optional
 * binary suffix K, M, G, T, P, E (KiB, MiB ... also accepted, case-insensitive,
 * optional trailing "B"), or a hexadecimal number "0x200000" (no fraction, no
 * suffix). The result must be a whole number of bytes: "1.5K" is 1536, "1.5"
 * and "1.3K" are refused.
 * Returns 0, -EINVAL (malformed), -EDOM (a fraction of a byte) or -ERANGE
 * (over INT64_MAX, the largest size a memfd can have: off_t is signed).
 */
int size_parse(const char *s, uint64_t *ret);

/* "0", "4.0K", "1.5G": one decimal, binary units, like util-linux size_to_human_string. */
char *size_format(uint64_t bytes, char *buf, size_t size);
#define SIZE_FORMAT_MAX 16
