/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One client connection: its reader, output queue, streamed reply and timers. */

#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "call.h"
#include "connection.h"
#include "log.h"
#include "methods.h"
#include "server.h"

/*
 * A stream (List) is coalesced: its replies are gathered into one buffer and written
 * with one sendmsg() per ~64 KiB, one such write per loop iteration before other
 * connections get a turn. STREAM_FILL stays below the smallest --max-output-bytes
 * (64 KiB) by more than one reply, so a stream never trips the output bound by itself:
 * it is paced by the reader instead (and dropped after --message-timeout without
 * progress, like any other unread output).
 */
#define STREAM_CHUNK (64 * 1024)
#define STREAM_FILL (STREAM_CHUNK - 4096)
/* Ready connections taken per epoll_wait() (more stay ready for the next turn). */
#define CONNECTIONS_BATCH 64

struct out_chunk {
	struct out_chunk *next;
	size_t len, off, cap;
	int fd; /* travels with the first byte of this chunk */
	char data[];
};

static uint64_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void chunk_free(struct out_chunk *ch)
{
	safe_close(ch->fd);
	free(ch);
}

static void kill_connection(struct connection *c, const char *why)
{
	if (!c->dead)
		log_debug("closing connection of pid %d: %s", c->peer.cred.pid, why);
	c->dead = true;
}

size_t connection_pending_fds(const struct connection *c)
{
	return vl_reader_held_fds(&c->reader) + c->out_fds;
}

/* This uid's connections, or all of them, hold more fds in flight than their share. */
static bool pending_fds_over(const struct connection *c)
{
	uint64_t excess, max;
	return limits_check_pending_fds(c->server, c->peer.cred.uid, 0, &excess, &max) != NULL;
}

static int queue_append(struct connection *c, const char *data, size_t len, int fd)
{
	struct out_chunk *t = c->out_tail;

	if (!c->out_head)
		c->output_since = now_mono(); /* output pending from now on */
	if (fd < 0 && t && t->cap - t->len >= len) {
		/* No fd: the bytes may join the tail chunk (its fd stays with its first byte). */
		memcpy(t->data + t->len, data, len);
		t->len += len;
	} else {
		size_t cap = MAX(len, c->corked ? (size_t)STREAM_CHUNK : len);
		struct out_chunk *ch = malloc(sizeof(*ch) + cap);
		if (!ch) {
			safe_close(fd);
			kill_connection(c, "out of memory");
			return -ENOMEM;
		}
		*ch = (struct out_chunk){ .len = len, .cap = cap, .fd = fd };
		memcpy(ch->data, data, len);
		if (t)
			t->next = ch;
		else
			c->out_head = ch;
		c->out_tail = ch;
	}
	c->out_bytes += len;
	c->out_fds += fd >= 0;

	if (c->out_bytes > c->server->limits.max_output_bytes ||
	    c->out_fds > c->server->limits.max_queued_fds || (fd >= 0 && pending_fds_over(c))) {
		log_notice("disconnecting pid %d: %zu bytes and %zu fds of replies unread",
			   c->peer.cred.pid, c->out_bytes, c->out_fds);
		c->dead = true;
		return -ENOBUFS;
	}
	return 0;
}

static void flush(struct connection *c)
{
	while (c->out_head && !c->dead) {
		struct out_chunk *ch = c->out_head;
		bool with_fd = ch->fd >= 0;
		ssize_t n = vl_sendmsg(c->fd, ch->data + ch->off, ch->len - ch->off,
				       with_fd ? &ch->fd : NULL, with_fd, true);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n < 0) {
			kill_connection(c, "send failed");
			return;
		}
		if (with_fd) {
			ch->fd = safe_close(ch->fd);
			c->out_fds--;
		}
		if (n > 0)
			c->output_since = now_mono(); /* the reader made progress */
		ch->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (ch->off < ch->len)
			return;
		c->out_head = ch->next;
		if (!c->out_head)
			c->out_tail = NULL;
		chunk_free(ch);
	}
}

int connection_send(struct connection *c, json_object *msg, int fd)
{
	_cleanup_json_ json_object *m = msg;
	_cleanup_close_ int owned = fd;
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (c->dead)
		return -ECONNRESET;
	if (!m || !(data = vl_serialize(m, &len))) {
		kill_connection(c, "out of memory");
		return -ENOMEM;
	}
	return connection_send_text(c, data, len, TAKE_FD(owned));
}

int connection_send_text(struct connection *c, const char *data, size_t len, int fd)
{
	_cleanup_close_ int owned = fd;
	ssize_t n = 0;

	if (c->dead)
		return -ECONNRESET;
	if (c->out_head || c->corked)
		return queue_append(c, data, len, TAKE_FD(owned));

	/* Fast path: one sendmsg() per reply. */
	n = vl_sendmsg(c->fd, data, len, owned >= 0 ? &owned : NULL, owned >= 0, true);
	if (n == -EAGAIN || n == -EINTR)
		n = 0;
	else if (n < 0) {
		kill_connection(c, "send failed");
		return (int)n;
	}
	if ((size_t)n == len)
		return 0;
	/* The fd went with the first byte if any byte went. */
	return queue_append(c, data + n, len - (size_t)n, n > 0 ? -1 : TAKE_FD(owned));
}

void connection_start_stream(struct connection *c, const struct stream *s)
{
	c->stream = *s;
}

static void stream_end(struct connection *c)
{
	if (c->stream.free)
		c->stream.free(c->stream.state);
	c->stream = (struct stream){};
}

/* Gather stream replies up to STREAM_FILL queued bytes, then write them at once. */
static void pump(struct connection *c)
{
	c->corked = true;
	while (c->stream.next && c->out_bytes < STREAM_FILL && !c->dead)
		if (c->stream.next(c, c->stream.state) <= 0)
			stream_end(c);
	c->corked = false;
	flush(c);
}

void connection_close_after_flush(struct connection *c)
{
	c->closing = true;
	c->closing_since = now_mono();
}

static void too_large(struct connection *c)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "max", json_object_new_int64((int64_t)c->reader.max_message));
	log_notice("pid %d sent a message over %zu bytes, disconnecting", c->peer.cred.pid,
		   c->reader.max_message);
	connection_send(c, vl_error_new("io.shmd.Manager.MessageTooLarge", p), -1);
	connection_close_after_flush(c);
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		safe_close(fds[i]);
}

/* The request whose fds were refused (see refuse_excess_fds()): LimitReached, naming the share. */
static void refuse_request(struct connection *c, json_object *msg, int *fds, size_t n_fds)
{
	json_object *p;

	close_fds(fds, n_fds);
	if (vl_message_flag(msg, "oneway"))
		return;
	p = json_object_new_object();
	json_object_object_add(p, "limit", json_object_new_string(c->fds_refused_limit));
	json_object_object_add(p, "max", json_object_new_int64((int64_t)c->fds_refused_max));
	connection_send(c, vl_error_new("io.shmd.Manager.LimitReached", p), -1);
}

/* Handle buffered requests in order; a stream or a deferred call holds back the next ones. */
static void run_requests(struct connection *c)
{
	while (!c->dead) {
		if (c->pending)
			return; /* its reply comes first; and a half-closed peer still gets it */
		if (c->stream.next) {
			/* The rest waits for EPOLLOUT: one chunk per turn. */
			if (c->out_bytes < STREAM_FILL)
				pump(c);
			if (c->stream.next || c->dead)
				return;
			continue;
		}
		if (c->closing)
			break;

		json_object *msg = NULL;
		int fds[VL_MAX_FDS];
		size_t n_fds = 0;
		int r = vl_reader_next(&c->reader, &msg, fds, &n_fds);
		if (r == 0)
			break;
		if (r < 0)
			close_fds(fds, n_fds);
		if (r == -EMSGSIZE) {
			too_large(c);
			break;
		}
		if (r < 0) {
			log_notice("pid %d sent a message that is not a JSON object, disconnecting",
				   c->peer.cred.pid);
			c->dead = true;
			return;
		}
		c->last_request = now_mono();
		c->message_done = true;
		size_t dropped = c->reader.n_fds_dropped;
		c->reader.n_fds_dropped = 0;
		if (c->fds_refused_limit && dropped > 0)
			refuse_request(c, msg, fds, n_fds);
		else
			methods_dispatch(c, msg, fds, n_fds, dropped);
		c->fds_refused_limit = NULL;
		json_object_put(msg);
	}
	if ((c->closing || c->eof) && !c->out_head && !c->stream.next)
		c->dead = true;
}

static void run(struct connection *c)
{
	c->in_run = true;
	run_requests(c);
	c->in_run = false;
}

static bool reading(const struct connection *c)
{
	return !c->dead && !c->eof && !c->closing && !c->stream.next && !c->pending;
}

/*
 * Fds just received beyond this uid's or the daemon's share of fds in flight are closed at
 * once (the kernel installed them already: LIMITS_FD_HANDOUT_RESERVE leaves room for one
 * read's worth), and the request they came with is refused, naming the share.
 */
static void refuse_excess_fds(struct connection *c, size_t n_new)
{
	uint64_t excess, max;
	const char *limit = limits_check_pending_fds(c->server, c->peer.cred.uid, 0, &excess, &max);

	if (!limit)
		return;
	vl_reader_drop_fds(&c->reader, MIN(excess, (uint64_t)n_new));
	c->fds_refused_limit = limit;
	c->fds_refused_max = max;
	if (c->fds_refused_logged)
		return;
	c->fds_refused_logged = true; /* once per connection: a flood must not flood the log */
	log_notice("pid %d uid %u: closed %llu fds sent past the %s limit (%llu)", c->peer.cred.pid,
		   c->peer.cred.uid, (unsigned long long)MIN(excess, (uint64_t)n_new), limit,
		   (unsigned long long)max);
}

static void read_some(struct connection *c)
{
	size_t held = vl_reader_held_fds(&c->reader);
	ssize_t n = vl_reader_fill(&c->reader, c->fd, true);

	if (vl_reader_held_fds(&c->reader) > held)
		refuse_excess_fds(c, vl_reader_held_fds(&c->reader) - held);

	if (n == 0)
		c->eof = true;
	else if (n == -EMFILE)
		log_notice("pid %d: file descriptors sent with a request were lost (MSG_CTRUNC)",
			   c->peer.cred.pid);
	else if (n < 0 && n != -EAGAIN && n != -EINTR)
		kill_connection(c, "receive failed");
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void update_timer(struct connection *c)
{
	const struct limits *l = &c->server->limits;
	uint64_t deadline = UINT64_MAX;

	if (reading(c) && vl_reader_has_partial(&c->reader)) {
		if (c->partial_since == 0 || c->message_done)
			c->partial_since = now_mono();
		deadline = c->partial_since + l->message_timeout_usec;
	} else {
		c->partial_since = 0;
	}
	c->message_done = false;
	if (c->closing)
		deadline = MIN(deadline, c->closing_since + l->message_timeout_usec);
	/* Replies (or a stream) the peer does not read: no progress for as long, and it goes. */
	if (c->out_head)
		deadline = MIN(deadline, c->output_since + l->message_timeout_usec);
	if (l->idle_timeout_usec && reading(c) && !c->out_head)
		deadline = MIN(deadline, c->last_request + l->idle_timeout_usec);

	if (deadline == UINT64_MAX) {
		if (c->timer)
			sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
		return;
	}
	if (!c->timer) {
		if (sd_event_add_time(c->server->event, &c->timer, CLOCK_MONOTONIC, deadline, 0,
				      on_timer, c) < 0)
			kill_connection(c, "cannot arm timer");
		return;
	}
	sd_event_source_set_time(c->timer, deadline);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void update_events(struct connection *c)
{
	uint32_t ev = 0;

	if (reading(c))
		ev |= EPOLLIN;
	if (c->out_head || c->stream.next)
		ev |= EPOLLOUT;
	if (ev == c->events)
		return;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	if (epoll_ctl(c->server->conn_epoll, EPOLL_CTL_MOD, c->fd, &e) < 0)
		kill_connection(c, "cannot update events");
	else
		c->events = ev;
}

/* After any activity: free a dead connection, else re-arm its events and timer. */
static void settle(struct connection *c)
{
	if (!c->dead) {
		update_timer(c);
		update_events(c);
	}
	if (c->dead)
		connection_free(c);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct connection *c = userdata;

	if (c->closing)
		log_notice("pid %d did not read its error reply, disconnecting", c->peer.cred.pid);
	else if (c->partial_since)
		log_notice("pid %d stalled in the middle of a message, disconnecting",
			   c->peer.cred.pid);
	else if (c->out_head)
		log_notice("pid %d read none of its replies (%zu bytes pending) for %llu s, "
			   "disconnecting",
			   c->peer.cred.pid, c->out_bytes,
			   (unsigned long long)(c->server->limits.message_timeout_usec / 1000000u));
	else
		log_info("pid %d idle, disconnecting", c->peer.cred.pid);
	connection_free(c);
	return 0;
}

static void on_io(struct connection *c, uint32_t revents)
{
	/*
	 * A deferred call leaves no event but these (always reported, level-triggered): the
	 * peer is gone and its reply undeliverable; requests it sent after are dropped with it.
	 */
	if (c->pending && (revents & (EPOLLHUP | EPOLLERR)))
		kill_connection(c, "hung up with a call pending");
	if (revents & EPOLLOUT)
		flush(c);
	if (reading(c) && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_some(c);
	else if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLOUT))
		flush(c); /* find out whether the peer is gone */
	run(c);
	settle(c);
}

/* Serve every ready connection once; those still ready keep conn_epoll readable. */
static int on_connections(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct server *s = userdata;
	struct epoll_event ev[CONNECTIONS_BATCH];

	int n = epoll_wait(s->conn_epoll, ev, ELEMENTSOF(ev), 0);
	if (n < 0) {
		if (errno != EINTR)
			log_err("epoll_wait on the connections: %m");
		return 0;
	}
	s->batch = ev;
	s->batch_n = n;
	for (int i = 0; i < n; i++)
		if (ev[i].data.ptr) /* NULL: freed while an earlier one was served */
			on_io(ev[i].data.ptr, ev[i].events);
	s->batch = NULL;
	s->batch_n = 0;
	return 0;
}

int connections_init(struct server *s)
{
	s->conn_epoll = epoll_create1(EPOLL_CLOEXEC);
	if (s->conn_epoll < 0)
		return negative_errno();
	return sd_event_add_io(s->event, &s->conn_source, s->conn_epoll, EPOLLIN, on_connections,
			       s);
}

void connections_done(struct server *s)
{
	while (s->connections)
		connection_free(s->connections);
	s->conn_source = sd_event_source_disable_unref(s->conn_source);
	s->conn_epoll = safe_close(s->conn_epoll);
}

int connection_new(struct server *s, int fd, const struct ucred *cred)
{
	struct connection *c = calloc(1, sizeof(*c));
	if (!c) {
		safe_close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->server = s;
	vl_reader_init(&c->reader, s->limits.max_message_bytes);
	c->last_request = now_mono();
	c->next = s->connections;
	if (s->connections)
		s->connections->prev = c;
	s->connections = c;
	s->n_connections++;

	int r = peer_init(&c->peer, fd, cred);
	if (r >= 0) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		r = epoll_ctl(s->conn_epoll, EPOLL_CTL_ADD, fd, &e) < 0 ? negative_errno() : 0;
		c->events = r >= 0 ? EPOLLIN : 0;
	}
	if (r < 0) {
		connection_free(c);
		return r;
	}
	log_debug("connection from pid %d uid %u", c->peer.cred.pid, c->peer.cred.uid);
	settle(c);
	return 0;
}

void connection_defer(struct connection *c, struct call *call)
{
	c->pending = call;
}

void connection_resume(struct connection *c)
{
	c->pending = NULL;
	c->last_request = now_mono(); /* the idle clock starts at the reply */
	if (c->in_run)
		return; /* finished from inside its own handler: run() goes on */
	run(c);
	settle(c);
}

void connection_free(struct connection *c)
{
	struct server *s = c->server;

	if (c->pending) {
		c->pending->conn = NULL;
		c->pending->oneway = true; /* every reply helper now drops its reply */
	}

	if (c->prev)
		c->prev->next = c->next;
	else
		s->connections = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_connections--;

	stream_end(c);
	while (c->out_head) {
		struct out_chunk *ch = c->out_head;
		c->out_head = ch->next;
		chunk_free(ch);
	}
	/* Out of the set (ENOENT if epoll_ctl(ADD) failed) and out of the batch being served. */
	(void)epoll_ctl(s->conn_epoll, EPOLL_CTL_DEL, c->fd, NULL);
	for (int i = 0; i < s->batch_n; i++)
		if (s->batch[i].data.ptr == c)
			s->batch[i].data.ptr = NULL;
	sd_event_source_disable_unref(c->timer);
	safe_close(c->fd);
	vl_reader_done(&c->reader);
	peer_done(&c->peer);
	free(c);
}
