/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The server: listening sockets, accepted connections and the state every method sees. */
#pragma once

#include <stdbool.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include "holdtrack.h"
#include "limits.h"
#include "quota.h"
#include "registry.h"
#include "spillpol.h"
#include "state.h"

struct config;
struct connection;
struct worker;

#define SERVER_MAX_LISTENERS 8

struct server {
	sd_event *event;
	const struct config *config;
	struct limits limits;
	struct registry registry;
	sd_event_source *listeners[SERVER_MAX_LISTENERS];
	size_t n_listeners;
	sd_event_source *accept_pause; /* listeners off for a moment after EMFILE */
	struct connection *connections;
	unsigned n_connections;
	/*
	 * Connections live in an epoll set of their own, one sd-event source for all: each
	 * wakeup serves every ready connection after one epoll_wait(), where a source per
	 * connection costs an epoll_wait() (re-polling every ready socket) per request.
	 */
	int conn_epoll;
	sd_event_source *conn_source;
	struct epoll_event *batch; /* the connections being served; freed ones are NULLed */
	int batch_n;
	uint64_t started_usec;
	bool noexec_seal;
	bool anon_vma_name;
	struct quota quota; /* limits and charges per user, group and unit; name prefixes */
	struct state state; /* persistence through the fd store (state.h) */
	/* Slow jobs off the event loop (worker.h). */
	struct worker *worker;
	struct holdtrack holdtrack; /* holder counts, deleted regions still held (holdtrack.h) */
	struct spillpol spillpol;   /* the spill file and when to use it (spillpol.h) */
};

int server_init(struct server *s, sd_event *event, const struct config *config);
/* Serve on a listening socket (taken; made nonblocking if it is not). 0 or -errno. */
int server_add_listener(struct server *s, int fd);
/* Closes every connection and listener and frees every region. */
void server_done(struct server *s);

/* Admin group for peer_caller(), or -1. */
long server_admin_gid(const struct server *s);
