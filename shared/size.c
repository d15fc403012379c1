/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Byte sizes: parsing "4096", "64K", "1.5G" and printing them for humans. */

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "size.h"

static const char units[] = "KMGTPE";

/* Parse the suffix after the number: "", "K", "KB", "KiB" ... Returns the power of 1024 or -1. */
static int suffix_power(const char *s)
{
	if (*s == '\0')
		return 0;
	if (strcasecmp(s, "B") == 0)
		return 0;

	const char *u = strchr(units, toupper((unsigned char)*s));
	if (!u)
		return -1;
	s++;
	if (*s == '\0' || strcasecmp(s, "B") == 0 || strcasecmp(s, "iB") == 0)
		return (int)(u - units) + 1;
	return -1;
}

/* "0x200000": hexadecimal, no fraction and no suffix (B and E are hex digits). */
static int hex_parse(const char *p, uint64_t *ret)
{
	uint64_t v = 0;

	if (!isxdigit((unsigned char)*p))
		return -EINVAL;
	for (; isxdigit((unsigned char)*p); p++) {
		unsigned d = isdigit((unsigned char)*p) ?
				     (unsigned)(*p - '0') :
				     (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		if (v > ((uint64_t)INT64_MAX - d) / 16)
			return -ERANGE;
		v = v * 16 + d;
	}
	if (*p != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int size_parse(const char *s, uint64_t *ret)
{
	uint64_t whole = 0, frac_num = 0, frac_den = 1;
	bool frac_dropped = false;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return hex_parse(p + 2, ret);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		/* 18 fractional digits are exact for every unit up to E; more must be zeros. */
		for (int n = 0; isdigit((unsigned char)*p); p++, n++) {
			if (n < 18) {
				frac_num = frac_num * 10 + (uint64_t)(*p - '0');
				frac_den *= 10;
			} else if (*p != '0') {
				frac_dropped = true;
			}
		}
	}

	int power = suffix_power(p);
	if (power < 0)
		return -EINVAL;

	uint64_t mult = 1;
	for (int i = 0; i < power; i++)
		mult *= 1024;
	if (whole > INT64_MAX / mult)
		return -ERANGE;

	/* frac_num < frac_den <= 1e18 and mult <= 2^60: the product needs 128 bits. */
	unsigned __int128 frac_bytes = (unsigned __int128)mult * frac_num;
	/* "1.5" or "1.3K" would name a fraction of a byte: refuse rather than round. */
	if (frac_bytes % frac_den != 0 || frac_dropped)
		return -EDOM;
	uint64_t frac = (uint64_t)(frac_bytes / frac_den);
	uint64_t total = whole * mult;
	if (frac > (uint64_t)INT64_MAX - total)
		return -ERANGE;
	*ret = total + frac;
	return 0;
}

char *size_format(uint64_t bytes, char *buf, size_t size)
{
	if (bytes < 1024) {
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
		return buf;
	}

	int power = 0;
	uint64_t div = 1;
	while (power < 6 && bytes / div >= 1024) {
		div *= 1024;
		power++;
	}

	/* One decimal, rounded half up; 1023.96K prints as 1.0M. */
	uint64_t tenths = (bytes / div) * 10 + ((bytes % div) * 10 + div / 2) / div;
	if (tenths >= 10240 && power < 6) {
		power++;
		div *= 1024;
		tenths = (bytes / div) * 10 + ((bytes % div) * 10 + div / 2) / div;
	}
	snprintf(buf, size, "%llu.%llu%c", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10), units[power - 1]);
	return buf;
}
