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
};

/* Fds kept free for connections, handouts and the daemon itself, besides one per connection. */
#define LIMITS_FD_RESERVE 32
/* Reply fds one connection may have queued unsent; more and it is disconnected. */
#define LIMITS_QUEUED_FDS 64

/*
 * Raise the RLIMIT_NOFILE soft limit to the hard limit (the daemon keeps one fd per
 * region) and derive the effective limits from the configuration.
 */
void limits_setup(struct limits *l, const struct config *c);

/* Would one more connection of uid exceed a limit? NULL, or the limit's wire name and *max. */
const char *limits_check_connection(const struct server *s, uid_t uid, uint64_t *max);

/* May caller create a region of size bytes? NULL, or the limit's wire name and *max.
 * The quotas of shmd.conf are checked next, by quota_check_create() (methods-quota.c). */
const char *limits_check_create(const struct server *s, const struct caller *caller, uint64_t size,
				uint64_t *max);
