/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource limits: the effective values, RLIMIT_NOFILE sizing and the checks that use them. */

#include <sys/resource.h>

#include "connection.h"
#include "limits.h"
#include "log.h"
#include "options.h"
#include "server.h"

/* Regions the fd limit leaves room for once connections and the reserve are set aside. */
static uint64_t regions_by_nofile(const struct config *c)
{
	struct rlimit rl;
	uint64_t reserve = (uint64_t)c->max_connections + LIMITS_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warning("cannot raise RLIMIT_NOFILE to %llu: %m",
				    (unsigned long long)rl.rlim_max);
			rl.rlim_cur = old;
		}
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
}

void limits_setup(struct limits *l, const struct config *c)
{
	uint64_t by_nofile = regions_by_nofile(c);

	*l = (struct limits){
		.max_regions = by_nofile,
		.max_connections = c->max_connections,
		.max_connections_per_uid = c->max_connections_per_uid,
		.max_message_bytes = c->max_message_bytes,
		.max_output_bytes = c->max_output_bytes,
		.message_timeout_usec = c->message_timeout_usec,
		.idle_timeout_usec = c->idle_timeout_usec,
	};
	if (c->max_regions > 0) {
		if (c->max_regions > by_nofile)
			log_notice(
				"--max-regions=%llu exceeds what RLIMIT_NOFILE allows, using %llu",
				(unsigned long long)c->max_regions, (unsigned long long)by_nofile);
		else
			l->max_regions = c->max_regions;
	}
	if (l->max_regions == 0)
		log_warning("RLIMIT_NOFILE leaves no room for regions: raise LimitNOFILE=");
}

const char *limits_check_connection(const struct server *s, uid_t uid, uint64_t *max)
{
	unsigned same_uid = 0;

	if (s->n_connections >= s->limits.max_connections) {
		*max = s->limits.max_connections;
		return "connections";
	}
	for (const struct connection *c = s->connections; c; c = c->next)
		if (c->peer.cred.uid == uid)
			same_uid++;
	if (same_uid >= s->limits.max_connections_per_uid) {
		*max = s->limits.max_connections_per_uid;
		return "connectionsPerUid";
	}
	return NULL;
}

const char *limits_check_create(const struct server *s, const struct caller *caller, uint64_t size,
				uint64_t *max)
{
	if (s->registry.n_regions >= s->limits.max_regions) {
		*max = s->limits.max_regions;
		return "regions";
	}
	return NULL;
}
