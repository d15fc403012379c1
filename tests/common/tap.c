/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal TAP producer for the C tests (ell's test.c idea: plain printf, no framework). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static int test_count;
static int test_failed;
static bool planned;

void plan(int n)
{
	printf("1..%d\n", n);
	planned = true;
	fflush(stdout);
}

void plan_no_plan(void)
{
	planned = false;
}

int done_testing(void)
{
	if (!planned)
		printf("1..%d\n", test_count);
	fflush(stdout);
	return test_failed ? 1 : 0;
}

static bool vreport(bool cond, const char *fmt, va_list ap)
{
	test_count++;
	if (!cond)
		test_failed++;
	printf("%sok %d - ", cond ? "" : "not ", test_count);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cond, fmt, ap);
	va_end(ap);
	return cond;
}

bool is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool r = vreport(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got: %lld, expected: %lld", got, want);
	return r;
}

bool is_str(const char *got, const char *want, const char *fmt, ...)
{
	bool same = (got && want) ? strcmp(got, want) == 0 : got == want;
	va_list ap;
	va_start(ap, fmt);
	vreport(same, fmt, ap);
	va_end(ap);
	if (!same)
		diag("  got: '%s', expected: '%s'", got ? got : "(null)", want ? want : "(null)");
	return same;
}

void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void skip(int n, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	for (int i = 0; i < n; i++)
		printf("ok %d # SKIP %s\n", ++test_count, reason);
	fflush(stdout);
}

void bail_out(const char *fmt, ...)
{
	va_list ap;
	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

bool test_slow_mode(void)
{
	const char *w = getenv("SHMD_TEST_WRAPPER");
	return w && *w;
}

bool test_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");
	return p && strstr(p, "/vgpreload");
}
