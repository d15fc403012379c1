/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of size parsing and human formatting. */

#include <errno.h>
#include <stdint.h>

#include "size.h"
#include "testlib.h"

static void parses(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int r = size_parse(s, &v);
	ok(r == 0 && v == want, "size_parse(\"%s\") = %llu (got %d, %llu)", s,
	   (unsigned long long)want, r, (unsigned long long)v);
}

static void refuses(const char *s, int want)
{
	uint64_t v = 0;
	is_int(size_parse(s, &v), want, "size_parse(\"%s\") refused", s);
}

static void formats(uint64_t n, const char *want)
{
	char buf[SIZE_FORMAT_MAX];
	is_str(size_format(n, buf, sizeof(buf)), want, "size_format(%llu)", (unsigned long long)n);
}

int main(void)
{
	parses("0", 0);
	parses("4096", 4096);
	parses("64K", 65536);
	parses("64k", 65536);
	parses("64KiB", 65536);
	parses("64KB", 65536);
	parses("512M", 512ULL << 20);
	parses("2G", 2ULL << 30);
	parses("1.5G", 3ULL << 29);
	parses("0.5K", 512);
	parses("1.0009765625K", 1025);
	parses("10B", 10);
	parses("7E", 7ULL << 60);
	parses("9223372036854775807", INT64_MAX);
	refuses("", -EINVAL);
	refuses("K", -EINVAL);
	refuses("-1", -EINVAL);
	refuses("1.", -EINVAL);
	refuses("1.5.5", -EINVAL);
	refuses("12Q", -EINVAL);
	refuses("12 K", -EINVAL);
	refuses("8E", -ERANGE);
	refuses("9223372036854775808", -ERANGE);
	refuses("99999999999999999999999", -ERANGE);
	/* 20 digits just past UINT64_MAX: accumulating them would wrap to 3, 0 and 2^63 + ... */
	refuses("18446744073709551619", -ERANGE);
	refuses("18446744073709551616", -ERANGE);
	refuses("100000000000000000000", -ERANGE);
	parses("0x200000", 0x200000);
	parses("0X1e", 0x1e);
	parses("0xABCdef", 0xabcdef);
	parses("0x7fffffffffffffff", INT64_MAX);
	refuses("0x8000000000000000", -ERANGE);
	refuses("0x", -EINVAL);
	refuses("0x1K", -EINVAL);
	refuses("0x1.5", -EINVAL);
	refuses("0xg", -EINVAL);
	refuses("1.5", -EDOM);
	refuses("0.1", -EDOM);
	refuses("1.3K", -EDOM);
	refuses("1.0000000000000000001K", -EDOM);
	parses("1.50K", 1536);
	parses("1.0000000000000000000K", 1024);
	parses("2.0", 2);
	formats(0, "0");
	formats(1023, "1023");
	formats(1024, "1.0K");
	formats(1536, "1.5K");
	formats(1048575, "1.0M");
	formats(3ULL << 29, "1.5G");
	formats(64ULL << 30, "64.0G");
	formats(UINT64_MAX, "16.0E");
	return done_testing();
}
