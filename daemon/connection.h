/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One client connection: its reader, output queue, streamed reply and timers. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>
#include <json-c/json.h>

#include "peer.h"
#include "varlink.h"

struct server;
struct out_chunk;
struct connection;
struct call;

/*
 * A reply stream (List): next() sends one reply and returns 1 while more follow, 0 after
 * the last one. It is called only while the output queue holds less than ~64 KiB, so a
 * stream of thousands of replies never sits in memory at once; its replies are written
 * ~64 KiB at a time.
 */
struct stream {
	int (*next)(struct connection *c, void *state);
	void (*free)(void *state);
	void *state;
};

struct connection {
	struct connection *prev, *next;
	struct server *server;
	int fd;
	uint32_t events; /* registered in the server's conn_epoll */
	sd_event_source *timer;
	struct vl_reader reader;
	struct peer peer;
	struct out_chunk *out_head, *out_tail;
	size_t out_bytes;
	size_t out_fds;
	struct stream stream;
	struct call *pending;	/* a deferred call (call.h): nothing more is read until it ends */
	bool in_run;		/* run() is on the stack: connection_resume() leaves it to it */
	uint64_t partial_since; /* CLOCK_MONOTONIC; 0: no partial message pending */
	uint64_t last_request;
	uint64_t closing_since;
	uint64_t output_since; /* output pending and no byte of it written since */
	bool message_done;     /* a message completed since the timer was last computed */
	bool eof;
	bool closing; /* flush what is queued, then hang up */
	bool corked;  /* a stream is gathering replies: queue them, do not write yet */
	bool dead;
	/* Fds received past a share of the fd budget were closed: refuse their request. */
	const char *fds_refused_limit;
	uint64_t fds_refused_max;
	bool fds_refused_logged;
};

/* Make the server's connection epoll set and its one sd-event source. 0 or -errno. */
int connections_init(struct server *s);
void connections_done(struct server *s);

/* Take over an accepted socket (cred: its SO_PEERCRED). 0 or -errno (fd closed on error). */
int connection_new(struct server *s, int fd, const struct ucred *cred);
void connection_free(struct connection *c);

/*
 * Send one message (taken) with an optional fd (taken; closed once sent). Written at once
 * when possible, else queued. A full queue or a dead peer marks the connection dead.
 */
int connection_send(struct connection *c, json_object *msg, int fd);

/* The same for a message already serialised (len includes its NUL terminator). */
int connection_send_text(struct connection *c, const char *data, size_t len, int fd);

/* Start streaming replies; the connection reads no further requests until it ends. */
void connection_start_stream(struct connection *c, const struct stream *s);

/* Fds this connection makes the daemon hold besides its socket: in its unfinished
 * request and in its unread replies. */
size_t connection_pending_fds(const struct connection *c);

/*
 * A deferred call (call_defer()) holds the connection: no request is read or dispatched
 * until connection_resume(), which call_finish() calls (and which may free c). Freeing the
 * connection meanwhile detaches the call (conn NULL, oneway).
 */
void connection_defer(struct connection *c, struct call *call);
void connection_resume(struct connection *c);

/* Send what is queued, then close (after a protocol error reply). */
void connection_close_after_flush(struct connection *c);
