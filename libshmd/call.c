/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One request and its replies on the context's connection, with credentials and fds. */

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "libshmd-private.h"

void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = safe_close(fds[i]);
}

/*
 * sendmsg() with SCM_CREDENTIALS {pid, euid, egid}. The daemon judges every
 * request by the credentials attached to it (SO_PASSCRED), not by who
 * connected. Without explicit credentials the kernel attaches the *real* uid
 * (scm_send() uses current_uid()); we send the effective ids, which the kernel
 * accepts because they are our own (__scm_send() checks uid/euid/suid).
 * Credentials go with every chunk: a stream read never merges data that
 * carries different credentials.
 */
static int send_with_creds(int fd, const char *data, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	/* The euid and egid now: a process may change them between calls (seteuid()). */
	struct ucred cred = { .pid = ctx_getpid(), .uid = geteuid(), .gid = getegid() };

	while (len > 0) {
		struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = &control,
			.msg_controllen = sizeof(control),
		};
		memset(&control, 0, sizeof(control));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(cred));
		memcpy(CMSG_DATA(c), &cred, sizeof(cred));

		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int call_begin(struct shmd_ctx *ctx)
{
	ctx_clear_error(ctx);
	if (ctx->list && !ctx_forked(ctx))
		return ctx_fail(ctx, -EBUSY, "a listing is still open on this context");
	return ctx_ensure_connected(ctx);
}

/* Send one request already written (len counts its NUL). 0 or -errno. */
static int send_data(struct shmd_ctx *ctx, const char *method, const char *data, size_t len)
{
	for (int attempt = 0;; attempt++) {
		int r = ctx_ensure_connected(ctx);
		if (r < 0)
			return r;
		bool fresh = !ctx->used;
		ctx_dbg(ctx, "-> %s", data);
		r = send_with_creds(ctx->fd, data, len);
		if (r >= 0) {
			ctx->used = true;
			return 0;
		}
		ctx_disconnect(ctx);
		/*
		 * A stream socket whose peer is gone fails sendmsg() with EPIPE
		 * (unix_stream_sendmsg() checks the peer first), so the daemon
		 * never saw this request: on a connection that had idled (daemon
		 * restarted, idle timeout) it is safe to send it once more.
		 */
		if ((r == -EPIPE || r == -ECONNRESET) && !fresh && attempt == 0) {
			ctx_dbg(ctx, "connection was closed by the daemon, reconnecting");
			continue;
		}
		if (r == -EPIPE)
			r = -ECONNRESET;
		return ctx_fail(ctx, r, "cannot send %s to %s: %s", method, ctx->socket_path,
				strerror(-r));
	}
}

int call_send(struct shmd_ctx *ctx, const char *method, json_object *params, bool more)
{
	_cleanup_json_ json_object *msg = vl_call_new(method, params, more, false);
	if (!msg)
		return -ENOMEM;
	size_t len;
	_cleanup_free_ char *data = vl_serialize(msg, &len);
	if (!data)
		return -ENOMEM;
	return send_data(ctx, method, data, len);
}

void call_text_begin(struct text *t, const char *method)
{
	text_init(t);
	text_lit(t, "{\"method\":");
	text_string(t, method, strlen(method));
	text_lit(t, ",\"parameters\":{");
}

/* Record a daemon error reply in the ctx; returns its errno. */
static int call_error(struct shmd_ctx *ctx, const char *name, json_object *reply)
{
	json_object *params = vl_message_parameters(reply);
	const char *text =
		params ? json_object_to_json_string_ext(
				 params, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) :
			 "{}";

	ctx_clear_error(ctx);
	ctx->error_name = strdup(name);
	ctx->error_parameters = strdup(text);
	ctx->error_message = error_format(name, params);
	int r = error_to_errno(name, params);
	ctx_dbg(ctx, "%s: %s", name, ctx->error_message ? ctx->error_message : "");
	return r;
}

/*
 * Sleep in poll(POLLIN), not in recvmsg(). When the daemon reads our request, the kernel
 * wakes whoever sleeps on our socket with EPOLLOUT (unix_write_space(): room to write
 * again). A task blocked in recvmsg() wakes for it, finds nothing and sleeps again; a
 * poll() waiter is woken only for the events it asked for. One wakeup saved per call is
 * 5-10% of an Open here, for one cheap syscall.
 */
static void wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	(void)poll(&pfd, 1, -1); /* EINTR or an error: recvmsg() then says what it is */
}

/* Read until one whole message is buffered. 1 and *ret, or -errno (connection dropped). */
static int read_message(struct shmd_ctx *ctx, json_object **ret, int *fds, size_t *n_fds,
			bool *truncated)
{
	for (;;) {
		int r = vl_reader_next(&ctx->reader, ret, fds, n_fds);
		if (r == 1)
			return 1;
		if (r < 0) {
			ctx_disconnect(ctx);
			return ctx_fail(ctx, -EPROTO, "malformed reply from %s: %s",
					ctx->socket_path, strerror(-r));
		}
		wait_readable(ctx->fd);
		ssize_t n = vl_reader_fill(&ctx->reader, ctx->fd, false);
		if (n == -EINTR)
			continue;
		if (n == -EMFILE) {
			/*
			 * MSG_CTRUNC: the kernel could not install an fd (fd table
			 * full, RLIMIT_NOFILE) and dropped it. The bytes arrived, so
			 * finish reading the message to stay in step, then fail.
			 */
			*truncated = true;
			continue;
		}
		if (n == 0 || n == -ECONNRESET || n == -EPIPE) {
			ctx_disconnect(ctx);
			return ctx_fail(ctx, -ECONNRESET, "connection to %s closed by the daemon",
					ctx->socket_path);
		}
		if (n < 0) {
			ctx_disconnect(ctx);
			return ctx_fail(ctx, (int)n, "cannot read from %s: %s", ctx->socket_path,
					strerror((int)-n));
		}
	}
}

int call_receive(struct shmd_ctx *ctx, json_object **ret_reply, int *fds, size_t *n_fds)
{
	int local_fds[VL_MAX_FDS];
	size_t n_local = 0;
	bool truncated = false;
	_cleanup_json_ json_object *reply = NULL;

	*ret_reply = NULL;
	if (n_fds)
		*n_fds = 0;
	if (ctx->fd < 0)
		return ctx_fail(ctx, -ENOTCONN, "not connected");

	int r = read_message(ctx, &reply, local_fds, &n_local, &truncated);
	if (r < 0)
		return r;
	if (ctx->log_fn && ctx->log_priority >= LOG_DEBUG)
		ctx_dbg(ctx, "<- %s (%zu fds)",
			json_object_to_json_string_ext(
				reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			n_local);

	if (truncated) {
		close_fds(local_fds, n_local);
		return ctx_fail(ctx, -EMFILE,
				"a file descriptor from the daemon did not fit in the fd table");
	}
	const char *error = vl_message_error(reply);
	if (error) {
		close_fds(local_fds, n_local);
		return call_error(ctx, error, reply);
	}
	if (!vl_message_parameters(reply)) {
		close_fds(local_fds, n_local);
		return ctx_fail(ctx, -EPROTO, "reply without parameters");
	}
	if (fds && n_fds) {
		memcpy(fds, local_fds, n_local * sizeof(int));
		*n_fds = n_local;
	} else {
		close_fds(local_fds, n_local);
	}
	*ret_reply = TAKE_PTR(reply);
	return 0;
}

/*
 * Calls that change nothing, so sending one again after the connection dropped under it
 * (the daemon restarted: under systemd or --supervise its socket stays and queues the
 * new connection) cannot do anything twice.
 */
static bool method_is_idempotent(const char *method)
{
	static const char *const names[] = {
		"io.shmd.Manager.Open",
		"io.shmd.Manager.Stat",
		"io.shmd.Manager.Status",
		"org.varlink.service.GetInfo",
		"org.varlink.service.GetInterfaceDescription",
	};
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(method, names[i]) == 0)
			return true;
	return false;
}

/* The reply did not come because the connection dropped (not a daemon error). */
static int lost_reply(struct shmd_ctx *ctx, const char *method, int r, int attempt)
{
	const char *m = strrchr(method, '.');

	if (method_is_idempotent(method) && attempt == 0) {
		ctx_dbg(ctx, "connection lost during %s, sending it again", method);
		return 0;
	}
	if (method_is_idempotent(method))
		return r;
	return ctx_fail(ctx, r,
			"connection to %s lost during %s (daemon restarted?): it may or may "
			"not have been done",
			ctx->socket_path, m ? m + 1 : method);
}

/* Send data, read its one reply. */
static int round_trip(struct shmd_ctx *ctx, const char *method, const char *data, size_t len,
		      json_object **ret_reply, int *fds, size_t *n_fds)
{
	int r;

	for (int attempt = 0;; attempt++) {
		r = send_data(ctx, method, data, len);
		if (r < 0)
			return r;
		r = call_receive(ctx, ret_reply, fds, n_fds);
		if (r != -ECONNRESET || ctx->fd >= 0)
			break;
		if ((r = lost_reply(ctx, method, r, attempt)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (vl_message_flag(*ret_reply, "continues")) {
		/* We did not ask for more: the conversation is out of step. */
		json_object_put(TAKE_PTR(*ret_reply));
		if (fds && n_fds)
			close_fds(fds, *n_fds);
		ctx_disconnect(ctx);
		return ctx_fail(ctx, -EPROTO, "unexpected streamed reply to %s", method);
	}
	return 0;
}

int call_method(struct shmd_ctx *ctx, const char *method, json_object *params,
		json_object **ret_reply, int *fds, size_t *n_fds)
{
	_cleanup_json_ json_object *msg = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len;

	int r = call_begin(ctx);
	if (r < 0) {
		json_object_put(params);
		return r;
	}
	msg = vl_call_new(method, params, false, false);
	data = msg ? vl_serialize(msg, &len) : NULL;
	if (!data)
		return -ENOMEM;
	return round_trip(ctx, method, data, len, ret_reply, fds, n_fds);
}

int call_method_text(struct shmd_ctx *ctx, const char *method, struct text *t,
		     json_object **ret_reply, int *fds, size_t *n_fds)
{
	text_lit(t, "}}");
	if (t->oom)
		return -ENOMEM;
	int r = call_begin(ctx);
	return r < 0 ? r : round_trip(ctx, method, t->p, t->len + 1, ret_reply, fds, n_fds);
}
