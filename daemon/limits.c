/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource limits: the effective values, RLIMIT_NOFILE sizing and the checks that use them. */

#include <sys/resource.h>

#include "connection.h"
#include "limits.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "varlink.h"

/* Raise the RLIMIT_NOFILE soft limit to the hard limit; the limit in force (UINT64_MAX: none). */
static uint64_t raise_nofile(void)
{
	struct rlimit rl;

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
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}

/*
 * Split the fd budget: the daemon's own fds, the handout reserve, one per connection, a
 * pool for fds in flight (a 16th of the limit, at most what every connection could hold,
 * each uid at most a quarter of it) and what is left for regions. An fd a client makes us
 * hold counts against exactly one of these, so none of them can starve another.
 */
static uint64_t split_fd_budget(struct limits *l, const struct config *c)
{
	uint64_t per_conn = LIMITS_QUEUED_FDS + VL_MAX_FDS + 1;
	uint64_t pending = MAX(l->max_fds / LIMITS_PENDING_SHARE, 2 * (VL_MAX_FDS + 1));
	uint64_t reserve;

	pending = MIN(pending, (uint64_t)c->max_connections * per_conn);
	l->max_pending_fds = (unsigned)pending;
	l->max_pending_fds_per_uid =
		(unsigned)MIN(pending, MAX(pending / LIMITS_PENDING_UIDS, VL_MAX_FDS + 1));
	l->max_queued_fds = MIN(LIMITS_QUEUED_FDS, l->max_pending_fds_per_uid);

	reserve = (uint64_t)c->max_connections + LIMITS_FD_RESERVE + LIMITS_FD_HANDOUT_RESERVE +
		  pending;
	if (l->max_fds == UINT64_MAX)
		return UINT64_MAX;
	return l->max_fds > reserve ? l->max_fds - reserve : 0;
}

void limits_setup(struct limits *l, const struct config *c)
{
	*l = (struct limits){
		.max_connections = c->max_connections,
		.max_connections_per_uid =
			c->max_connections_per_uid ?:
				MAX(c->max_connections / LIMITS_CONNECTION_UIDS, 1u),
		.max_message_bytes = c->max_message_bytes,
		.max_output_bytes = c->max_output_bytes,
		.message_timeout_usec = c->message_timeout_usec,
		.idle_timeout_usec = c->idle_timeout_usec,
		.max_fds = raise_nofile(),
	};
	uint64_t by_nofile = split_fd_budget(l, c);

	l->max_regions = by_nofile;
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

void limits_pending_fds(const struct server *s, uid_t uid, uint64_t *ret_uid, uint64_t *ret_all)
{
	uint64_t mine = 0, all = 0;

	/* Only when fds arrive or queue up: a walk over at most --max-connections. */
	for (const struct connection *c = s->connections; c; c = c->next) {
		uint64_t n = connection_pending_fds(c);
		all += n;
		if (c->peer.cred.uid == uid)
			mine += n;
	}
	*ret_uid = mine;
	*ret_all = all;
}

const char *limits_check_pending_fds(const struct server *s, uid_t uid, uint64_t add,
				     uint64_t *excess, uint64_t *max)
{
	const struct limits *l = &s->limits;
	uint64_t mine, all, over_uid, over_all;

	limits_pending_fds(s, uid, &mine, &all);
	over_uid = mine + add > l->max_pending_fds_per_uid ?
			   mine + add - l->max_pending_fds_per_uid :
			   0;
	over_all = all + add > l->max_pending_fds ? all + add - l->max_pending_fds : 0;
	*excess = MAX(over_uid, over_all);
	if (over_uid == 0 && over_all == 0)
		return NULL;
	if (over_uid >= over_all) {
		*max = l->max_pending_fds_per_uid;
		return "pendingFileDescriptorsPerUid";
	}
	*max = l->max_pending_fds;
	return "pendingFileDescriptors";
}

static int uid_cmp(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;
	return x < y ? -1 : x > y;
}

/* The uid with the most connections (*ret_most of them), and how many uid holds. */
static int busiest_uid(const struct server *s, uid_t uid, uid_t *ret_uid, size_t *ret_most,
		       size_t *ret_mine)
{
	_cleanup_free_ uid_t *uids = malloc(MAX(s->n_connections, 1u) * sizeof(uid_t));
	size_t n = 0, most = 0, mine = 0;

	if (!uids)
		return -ENOMEM;
	for (const struct connection *c = s->connections; c; c = c->next)
		uids[n++] = c->peer.cred.uid;
	qsort(uids, n, sizeof(uid_t), uid_cmp);
	for (size_t i = 0, run; i < n; i += run) {
		for (run = 1; i + run < n && uids[i + run] == uids[i]; run++)
			;
		if (run > most) {
			most = run;
			*ret_uid = uids[i];
		}
		if (uids[i] == uid)
			mine = run;
	}
	*ret_most = most;
	*ret_mine = mine;
	return 0;
}

struct connection *limits_connection_to_evict(const struct server *s, uid_t uid)
{
	struct connection *victim = NULL;
	size_t most, mine;
	uid_t busiest;

	if (busiest_uid(s, uid, &busiest, &most, &mine) < 0 || most < mine + 2)
		return NULL;
	for (struct connection *c = s->connections; c; c = c->next)
		if (c->peer.cred.uid == busiest &&
		    (!victim || c->last_request < victim->last_request))
			victim = c;
	return victim;
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
