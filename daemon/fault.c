/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Crash points for tests: one reading of SHMD_FAULT for the state journal and the spill engine. */

#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"

#ifdef SHMD_FAULT_INJECTION
bool fault_named(const char *point)
{
	const char *spec = getenv("SHMD_FAULT");
	size_t len = strlen(point);

	return spec && strncmp(spec, point, len) == 0 && (!spec[len] || spec[len] == ':');
}

void fault_point(const char *point)
{
	static unsigned passed;
	const char *spec = getenv("SHMD_FAULT");

	if (!fault_named(point))
		return;
	const char *n = spec + strlen(point);
	if (++passed >= (*n ? strtoul(n + 1, NULL, 10) : 1)) {
		log_err("fault injection: aborting at %s", point);
		abort();
	}
}
#endif
