/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd.conf(5) [Spill]: the spill file, the water marks and the memory-pressure trigger. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "conf.h"
#include "macro.h"
#include "size.h"

#define USEC_PER_SEC UINT64_C(1000000)
/* The kernel's bounds for a PSI trigger window (kernel/sched/psi.c, psi_trigger_create()). */
#define PSI_WINDOW_MIN_US UINT64_C(500000)
#define PSI_WINDOW_MAX_US UINT64_C(10000000)

void conf_spill_init(struct conf_spill *sp)
{
	*sp = (struct conf_spill){
		.max_size = UINT64_C(1) << 30,
		.high_water = CONF_UNLIMITED,
		.low_water = CONF_UNLIMITED,
		.min_idle_usec = 60 * USEC_PER_SEC,
		.pressure = "some 150000 2000000",
	};
}

void conf_spill_done(struct conf_spill *sp)
{
	free(sp->path);
	free(sp->water_file);
	conf_spill_init(sp);
}

_printf_(3, 4) static int bad(char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_bool(const char *v, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no",
										       "false",
										       "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0)
			return *ret = true, 0;
		if (strcmp(v, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

/* A size (K/M/G/T...), N% of RAM, or "infinity" when allowed. */
static int parse_amount(const char *v, bool infinity, uint64_t *ret)
{
	size_t len = strlen(v);
	uint64_t n;

	if (infinity && strcmp(v, "infinity") == 0)
		return *ret = CONF_UNLIMITED, 0;
	if (len > 1 && len < 8 && v[len - 1] == '%') {
		char num[8], *end;
		struct sysinfo si;
		memcpy(num, v, len - 1);
		num[len - 1] = '\0';
		if (num[0] < '0' || num[0] > '9')
			return -EINVAL;
		n = strtoull(num, &end, 10);
		if (*end || n > 100 || sysinfo(&si) < 0)
			return -EINVAL;
		return *ret = (uint64_t)si.totalram * si.mem_unit / 100 * n, 0;
	}
	return size_parse(v, ret) < 0 ? -EINVAL : 0;
}

/* "some|full STALL_US WINDOW_US" as /proc/pressure/memory takes it, or "no". */
static int parse_pressure(struct conf_spill *sp, const char *v, char *reason, size_t size)
{
	char kind[8], rest;
	unsigned long long stall, window;
	bool on;

	if (parse_bool(v, &on) == 0 && !on) {
		sp->pressure[0] = '\0';
		return 0;
	}
	if (strlen(v) >= sizeof(sp->pressure) ||
	    sscanf(v, "%7s %llu %llu %c", kind, &stall, &window, &rest) != 3 ||
	    (strcmp(kind, "some") != 0 && strcmp(kind, "full") != 0) || strchr(v, '-'))
		return bad(reason, size,
			   "'%s': expected 'some|full STALL_USEC WINDOW_USEC' "
			   "(e.g. some 150000 2000000) or no",
			   v);
	if (window < PSI_WINDOW_MIN_US || window > PSI_WINDOW_MAX_US)
		return bad(reason, size, "'%s': the window must be 500000 to 10000000 us", v);
	if (stall == 0 || stall > window)
		return bad(reason, size, "'%s': the stall must be 1 us to the window", v);
	snprintf(sp->pressure, sizeof(sp->pressure), "%s %llu %llu", kind, stall, window);
	return 0;
}

static int parse_water(uint64_t *ret, const char *v, char *reason, size_t size)
{
	if (parse_amount(v, true, ret) < 0)
		return bad(reason, size,
			   "'%s': expected a size (e.g. 512M, 8G), N%% of RAM or infinity", v);
	return 0;
}

int conf_spill_key(struct conf_spill *sp, const char *key, const char *value, char *reason,
		   size_t size)
{
	uint64_t v;

	if (strcmp(key, "Enable") == 0) {
		if (parse_bool(value, &sp->enable) < 0)
			return bad(reason, size, "'%s': expected yes or no", value);
		return 0;
	}
	if (strcmp(key, "Path") == 0) {
		if (value[0] != '/' || strlen(value) >= 4096)
			return bad(reason, size, "'%s': expected an absolute path", value);
		free(sp->path);
		return (sp->path = strdup(value)) ? 0 : bad(reason, size, "%sout of memory", "");
	}
	if (strcmp(key, "MaxSize") == 0) {
		if (parse_amount(value, false, &v) < 0 || v < (UINT64_C(1) << 20))
			return bad(reason, size,
				   "'%s': expected a size of at least 1M (e.g. 64G) or N%% of RAM",
				   value);
		sp->max_size = v;
		return 0;
	}
	if (strcmp(key, "HighWater") == 0)
		return parse_water(&sp->high_water, value, reason, size);
	if (strcmp(key, "LowWater") == 0)
		return parse_water(&sp->low_water, value, reason, size);
	if (strcmp(key, "MinIdleSec") == 0) {
		char *end;
		if (value[0] < '0' || value[0] > '9' || (v = strtoull(value, &end, 10), *end) ||
		    v > 86400 * 365)
			return bad(reason, size, "'%s': expected seconds, 0 to 31536000", value);
		sp->min_idle_usec = v * USEC_PER_SEC;
		return 0;
	}
	if (strcmp(key, "PressureTrigger") == 0)
		return parse_pressure(sp, value, reason, size);
	return -ENOENT;
}

const char *conf_spill_check(const struct conf_spill *sp)
{
	if (sp->low_water != CONF_UNLIMITED && sp->high_water == CONF_UNLIMITED)
		return "LowWater= needs HighWater=";
	if (sp->low_water != CONF_UNLIMITED && sp->low_water > sp->high_water)
		return "LowWater= is above HighWater=";
	return NULL;
}

uint64_t conf_spill_low_water(const struct conf_spill *sp)
{
	if (sp->high_water == CONF_UNLIMITED)
		return CONF_UNLIMITED;
	if (sp->low_water != CONF_UNLIMITED)
		return sp->low_water;
	return sp->high_water / 10 * 9;
}

const char *conf_spill_path(const struct conf_spill *sp, char *buf, size_t size)
{
	const char *dir = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */

	if (sp->path)
		return sp->path;
	if (dir && dir[0] == '/') {
		/* StateDirectory= may list several, separated by ':': the first is ours. */
		size_t len = strcspn(dir, ":");
		snprintf(buf, size, "%.*s/spill", (int)len, dir);
	} else {
		snprintf(buf, size, "%s/spill", SHMD_STATE_DIR);
	}
	return buf;
}
