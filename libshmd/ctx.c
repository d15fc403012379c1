/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: socket path, connection, fork detection, last error and logging. */

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libshmd-private.h"

_export_ struct shmd_ctx *shmd_ctx_new(const char *socket_path)
{
	const char *path = socket_path;
	if (!path || !*path)
		path = secure_getenv("SHMD_SOCKET");
	if (!path || !*path)
		path = SHMD_DEFAULT_SOCKET;

	struct shmd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->socket_path = strdup(path);
	if (!ctx->socket_path) {
		free(ctx);
		return NULL;
	}
	ctx->n_ref = 1;
	ctx->fd = -1;
	ctx->log_priority = LOG_ERR;
	vl_reader_init(&ctx->reader, SHMD_MAX_REPLY_BYTES);
	return ctx;
}

_export_ struct shmd_ctx *shmd_ctx_ref(struct shmd_ctx *ctx)
{
	if (ctx)
		ctx->n_ref++;
	return ctx;
}

_export_ struct shmd_ctx *shmd_ctx_unref(struct shmd_ctx *ctx)
{
	if (!ctx || --ctx->n_ref > 0)
		return NULL;
	/* An open iterator holds a reference, so none can be left here. */
	ctx_disconnect(ctx);
	ctx_clear_error(ctx);
	free(ctx->socket_path);
	free(ctx);
	return NULL;
}

_export_ const char *shmd_ctx_get_socket(const struct shmd_ctx *ctx)
{
	if (!ctx)
		return NULL;
	return ctx->socket_path;
}

/* ------------------------------------------------------------------ fork detection */

/*
 * glibc >= 2.25 does not cache getpid(): it is a syscall, and every request
 * needs our pid twice (fork detection, SCM_CREDENTIALS). Like systemd's
 * getpid_cached(), remember it and forget it in the child of every fork()
 * through a pthread_atfork() child handler. A child made by a raw clone() or
 * _Fork() runs no atfork handlers; shmd.h tells such children not to use an
 * inherited context. If the handler cannot be registered, never cache.
 */
static pid_t cached_pid; /* 0: not known */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static bool atfork_registered;

static void forget_pid(void)
{
	__atomic_store_n(&cached_pid, 0, __ATOMIC_RELAXED);
}

static void register_atfork(void)
{
	atfork_registered = pthread_atfork(NULL, NULL, forget_pid) == 0;
}

pid_t ctx_getpid(void)
{
	pid_t pid = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
	if (pid > 0)
		return pid;
	pthread_once(&atfork_once, register_atfork);
	pid = getpid();
	if (atfork_registered)
		__atomic_store_n(&cached_pid, pid, __ATOMIC_RELAXED);
	return pid;
}

/* ------------------------------------------------------------------ connection */

void ctx_disconnect(struct shmd_ctx *ctx)
{
	ctx->fd = safe_close(ctx->fd);
	vl_reader_done(&ctx->reader);
	/* An iterator on this connection can read no more; it notices by conn_id. */
	ctx->list = NULL;
}

static int ctx_connect_socket(struct shmd_ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(ctx->socket_path);

	if (len >= sizeof(sa.sun_path))
		return ctx_fail(ctx, -EINVAL, "socket path too long: %s", ctx->socket_path);
	memcpy(sa.sun_path, ctx->socket_path, len + 1);

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ctx_fail(ctx, negative_errno(), "cannot create socket: %m");
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1)) < 0) {
		int err = negative_errno();
		/* The message keeps the kernel's reason; the errno says "no daemon" (libshmd(3)). */
		return ctx_fail(ctx, connect_error_to_errno(err), "cannot connect to %s: %s",
				ctx->socket_path, strerror(-err));
	}

	ctx->fd = TAKE_FD(fd);
	ctx->pid = ctx_getpid();
	ctx->conn_id++;
	ctx->used = false;
	ctx->no_with_region = false;
	ctx_dbg(ctx, "connected to %s", ctx->socket_path);
	return 0;
}

int ctx_ensure_connected(struct shmd_ctx *ctx)
{
	if (ctx->fd >= 0 && ctx_forked(ctx)) {
		/* Inherited across fork(): the parent may be mid-conversation on this socket. */
		ctx_dbg(ctx, "forked (connected by pid %d), reconnecting", ctx->pid);
		ctx_disconnect(ctx);
	}
	if (ctx->fd >= 0)
		return 0;
	return ctx_connect_socket(ctx);
}

_export_ int shmd_ctx_connect(struct shmd_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return ctx_finish(ctx, call_begin(ctx));
}

/* ------------------------------------------------------------------ errors */

void ctx_clear_error(struct shmd_ctx *ctx)
{
	free(ctx->error_name);
	free(ctx->error_parameters);
	free(ctx->error_message);
	ctx->error_name = ctx->error_parameters = ctx->error_message = NULL;
}

int ctx_fail(struct shmd_ctx *ctx, int err, const char *format, ...)
{
	va_list ap;
	int saved = errno;

	free(ctx->error_message);
	ctx->error_message = NULL;
	errno = -err; /* for %m */
	va_start(ap, format);
	if (vasprintf(&ctx->error_message, format, ap) < 0)
		ctx->error_message = NULL;
	va_end(ap);
	errno = saved;
	ctx_dbg(ctx, "%s", ctx->error_message ? ctx->error_message : strerror(-err));
	return err;
}

int ctx_finish(struct shmd_ctx *ctx, int err)
{
	if (err < 0 && !ctx->error_message)
		ctx->error_message = strdup(strerror(-err));
	return err;
}

_export_ const char *shmd_ctx_get_error_name(const struct shmd_ctx *ctx)
{
	if (!ctx)
		return NULL;
	return ctx->error_name;
}

_export_ const char *shmd_ctx_get_error_message(const struct shmd_ctx *ctx)
{
	if (!ctx)
		return NULL;
	return ctx->error_message;
}

_export_ const char *shmd_ctx_get_error_parameters(const struct shmd_ctx *ctx)
{
	if (!ctx)
		return NULL;
	return ctx->error_parameters;
}

/* ------------------------------------------------------------------ logging */

void ctx_log(struct shmd_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *format, ...)
{
	va_list ap;

	if (!ctx->log_fn)
		return;
	va_start(ap, format);
	ctx->log_fn(ctx->log_data, priority, file, line, fn, format, ap);
	va_end(ap);
}

_export_ void shmd_ctx_set_log_fn(struct shmd_ctx *ctx, shmd_log_fn_t fn, void *data)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_data = data;
}

_export_ void shmd_ctx_set_log_priority(struct shmd_ctx *ctx, int priority)
{
	if (!ctx)
		return;
	ctx->log_priority = priority;
}

_export_ int shmd_ctx_get_log_priority(const struct shmd_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return ctx->log_priority;
}

_export_ const char *shmd_version(void)
{
	return SHMD_VERSION;
}
