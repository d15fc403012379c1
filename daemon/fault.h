/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Crash points for tests (configure --enable-fault-injection): SHMD_FAULT=POINT[:N]. */
#pragma once

#include <stdbool.h>

#ifdef SHMD_FAULT_INJECTION
/* Abort the daemon the Nth time (default the 1st) it passes POINT, if SHMD_FAULT names it. */
void fault_point(const char *point);
/* Whether SHMD_FAULT names POINT (for points that first do harm on purpose). */
bool fault_named(const char *point);
#else
static inline void fault_point(const char *point)
{
	(void)point;
}
static inline bool fault_named(const char *point)
{
	(void)point;
	return false;
}
#endif
