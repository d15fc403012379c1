/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Started as root, the serving daemon keeps only CAP_CHOWN, CAP_DAC_OVERRIDE and CAP_FOWNER. */

#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto-util.h"

#define KEPT ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER))

/* A "Key:\tvalue" line of /proc/PID/status as a number (hex for Cap*), or -1. */
static int64_t status_field(pid_t pid, const char *key, int base)
{
	char path[64], line[256];
	size_t n = strlen(key);
	int64_t v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = (int64_t)strtoull(line + n + 1, NULL, base);
			break;
		}
	fclose(f);
	return v;
}

int main(void)
{
	struct test_daemon d;

	if (geteuid() != 0) {
		printf("1..0 # SKIP the daemon drops privileges only when started as root\n");
		return 0;
	}
	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	/* Serving: the drop happened before READY, after the socket was bound. */
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_success(s, "the daemon serves");

	is_int(status_field(d.pid, "CapEff", 16), (int64_t)KEPT,
	       "effective capabilities: CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER only");
	is_int(status_field(d.pid, "CapPrm", 16), (int64_t)KEPT, "permitted: the same");
	is_int(status_field(d.pid, "CapInh", 16), 0, "inheritable: none");
	is_int(status_field(d.pid, "CapAmb", 16), 0, "ambient: none");
	int64_t bnd = status_field(d.pid, "CapBnd", 16);
	if (status_field(getpid(), "CapEff", 16) & (1LL << CAP_SETPCAP))
		is_int(bnd, (int64_t)KEPT, "bounding set: the same three");
	else
		skip(1, "no CAP_SETPCAP here: the bounding set cannot shrink");
	is_int(status_field(d.pid, "NoNewPrivs", 10), 1, "no_new_privs is set");

	/* What the three are for: a region for another uid, made by the daemon. */
	_cleanup_json_ json_object *r =
		call(conn, IFACE "Create", jparams("{\"name\":\"p\",\"size\":4096,\"mode\":416}"));
	is_success(r, "Create still works (fchmod of the memfd inode)");
	_cleanup_json_ json_object *a =
		call(conn, IFACE "SetAccess",
		     jparams("{\"name\":\"p\",\"uid\":%d,\"gid\":%d}", NOBODY_UID, NOBODY_GID));
	is_success(a, "SetAccess to another uid still works (CAP_CHOWN)");

	close(conn);
	itest_stop(&d);
	return done_testing();
}
