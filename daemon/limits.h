/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource limits: the effective values, RLIMIT_NOFILE sizing and the checks that use them. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

struct config;
struct server;
struct caller;

struct limits {
	uint64_t max_regions;
	unsigned max_connections;
	unsigned max_connections_per_uid;
	size_t max_message_bytes;
	size_t max_output_bytes;
	uint64_t message_timeout_usec;
	uint64_t idle_timeout_usec;
	/* The fd budget (see limits_setup()): every fd a client can make the daemon hold. */
	uint64_t max_fds;		  /* RLIMIT_NOFILE in force */
	unsigned max_pending_fds;	  /* in unfinished requests and unread replies, in all */
	unsigned max_pending_fds_per_uid; /* the same, summed over one uid's connections */
	unsigned max_queued_fds;	  /* reply fds one connection may have queued unsent */
};

/* Fds kept for the daemon itself (event loop, epoll sets, listeners, timers, the journal). */
#define LIMITS_FD_RESERVE 32
/*
 * Fds kept for the one request being handled: what one recvmsg() may install (a control
 * buffer of VL_MAX_FDS, plus any fd the kernel attaches by itself) and the handout, the
 * creator's descriptor or a region's re-opened description that it makes. Never lent out:
 * so a region that exists can always be opened.
 */
#define LIMITS_FD_HANDOUT_RESERVE 32
/* Reply fds one connection may have queued unsent; more and it is disconnected. */
#define LIMITS_QUEUED_FDS 64
/* Without --max-connections-per-uid, one uid holds at most this fraction of the connections. */
#define LIMITS_CONNECTION_UIDS 4
/* Share of RLIMIT_NOFILE set aside for fds in flight (unfinished requests, unread replies). */
#define LIMITS_PENDING_SHARE 16
/* No uid holds more than this fraction of the fds in flight. */
#define LIMITS_PENDING_UIDS 4

/*
 * Raise the RLIMIT_NOFILE soft limit to the hard limit (the daemon keeps one fd per
 * region) and derive the effective limits from the configuration.
 */
void limits_setup(struct limits *l, const struct config *c);

/* Would one more connection of uid exceed a limit? NULL, or the limit's wire name and *max. */
const char *limits_check_connection(const struct server *s, uid_t uid, uint64_t *max);

/*
 * Every connection slot is taken and uid wants one: the connection to close to make room,
 * or NULL. It is the least recently used one (oldest last request) of the uid holding the
 * most connections, and only if that uid holds at least two more than uid does: so no set
 * of uids can keep others out for longer than one connect, unless every slot is held by a
 * different uid.
 */
struct connection *limits_connection_to_evict(const struct server *s, uid_t uid);

/*
 * Fds in flight (held in an unfinished request or queued in unread replies) of uid's
 * connections and of all connections.
 */
void limits_pending_fds(const struct server *s, uid_t uid, uint64_t *ret_uid, uint64_t *ret_all);

/*
 * May uid's connections hold add more fds in flight (add 0: are they within bounds now)?
 * NULL, or the wire name of the limit passed ("pendingFileDescriptorsPerUid",
 * "pendingFileDescriptors"), its *max, and in *excess by how many fds.
 */
const char *limits_check_pending_fds(const struct server *s, uid_t uid, uint64_t add,
				     uint64_t *excess, uint64_t *max);

/* May caller create a region of size bytes? NULL, or the limit's wire name and *max.
 * The quotas of shmd.conf are checked next, by quota_check_create() (methods-quota.c). */
const char *limits_check_create(const struct server *s, const struct caller *caller, uint64_t size,
				uint64_t *max);
