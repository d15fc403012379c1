/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's settings, from the command line (later also from /etc/shmd/shmd.conf). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config {
	const char *socket_path;
	uint64_t max_regions; /* 0: derived from RLIMIT_NOFILE */
	unsigned max_connections;
	unsigned max_connections_per_uid; /* 0: a quarter of max_connections */
	size_t max_message_bytes;
	size_t max_output_bytes;
	uint64_t message_timeout_usec;
	uint64_t idle_timeout_usec; /* 0: off; default 300 s */
	const char *admin_group;
	bool have_admin_gid;
	gid_t admin_gid;
	int log_target;
	int log_level;
	const char *config_path; /* --config, or NULL: the default file */
	bool supervise;		 /* --supervise: standalone, under a supervisor (supervisor.h) */
};

void config_init(struct config *c);

/*
 * Parse the command line into c. Returns 0 to run, 1 when the program should exit
 * successfully (--help, --version), -EINVAL on bad usage (already reported).
 */
int config_parse_args(struct config *c, int argc, char **argv);

/*
 * Apply one [Daemon] key of shmd.conf (e.g. "MaxRegions", "10"), validated as its
 * command-line option is. value must outlive c. 0, -ENOENT (no such key) or -EINVAL
 * with the reason in reason.
 */
int config_set_key(struct config *c, const char *key, const char *value, char *reason, size_t size);
