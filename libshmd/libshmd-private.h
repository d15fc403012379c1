/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd internals: the context, the call path and the parsers shared by the method files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "macro.h"
#include "shmd.h"
#include "text.h"
#include "varlink.h"

/* Replies are small (a region is well under 2 KiB); this only bounds a broken daemon. */
#define SHMD_MAX_REPLY_BYTES (16u * 1024 * 1024)

struct shmd_ctx {
	int n_ref;
	char *socket_path;

	int fd;		  /* the connection, or -1 */
	pid_t pid;	  /* our pid when fd was connected: a different one means we were forked */
	uint64_t conn_id; /* bumped on every connect, so an iterator can tell its connection apart */
	bool used;	  /* a request went out on this connection */
	bool no_with_region; /* an older daemon refused "withRegion": ask for regions */
	struct vl_reader reader;
	struct shmd_list *list; /* the iterator reading on the connection, if any */

	/* The last failure, kept until the next call. */
	char *error_name;
	char *error_parameters;
	char *error_message;

	shmd_log_fn_t log_fn;
	void *log_data;
	int log_priority;
};

/* ctx.c */
void ctx_log(struct shmd_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *format, ...) _printf_(6, 7);
#define ctx_log_cond(ctx, prio, ...)                                                               \
	do {                                                                                       \
		struct shmd_ctx *_c = (ctx);                                                       \
		if (_c->log_fn && (prio) <= _c->log_priority)                                      \
			ctx_log(_c, prio, __FILE__, __LINE__, __func__, __VA_ARGS__);              \
	} while (0)
#define ctx_dbg(ctx, ...) ctx_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)
#define ctx_info(ctx, ...) ctx_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define ctx_err(ctx, ...) ctx_log_cond(ctx, LOG_ERR, __VA_ARGS__)

/* Forget the last error: every public call starts with this. */
void ctx_clear_error(struct shmd_ctx *ctx);
/* Record a local failure with a message (printf-style); returns err (negative). */
int ctx_fail(struct shmd_ctx *ctx, int err, const char *format, ...) _printf_(3, 4);
/* End of a public call: a failure without a message gets strerror(). Returns err. */
int ctx_finish(struct shmd_ctx *ctx, int err);
/* Close the connection (not shutdown(): a forked child must not cut the parent's). */
void ctx_disconnect(struct shmd_ctx *ctx);
/* getpid() without a syscall after the first call (see ctx.c). */
pid_t ctx_getpid(void);
/* Was ctx connected by another process (we are a fork()ed child)? */
static inline bool ctx_forked(const struct shmd_ctx *ctx)
{
	return ctx->pid != ctx_getpid();
}
/* Drop a connection inherited across fork() and connect if needed. 0 or -errno. */
int ctx_ensure_connected(struct shmd_ctx *ctx);

/* call.c */
/*
 * Begin a call: clear the error, refuse while an iterator is open (-EBUSY),
 * connect (again after fork()). 0 or -errno.
 */
int call_begin(struct shmd_ctx *ctx);
/* Send one request (params taken, may be NULL). 0 or -errno; the connection is dropped on failure. */
int call_send(struct shmd_ctx *ctx, const char *method, json_object *params, bool more);
/*
 * Read one reply. Returns 0 and *ret_reply (owned) with its fds in fds/n_fds
 * (room for VL_MAX_FDS; NULL to close them), or -errno. A daemon error reply
 * is recorded in the ctx and returned as its errno; *ret_reply is then NULL.
 */
int call_receive(struct shmd_ctx *ctx, json_object **ret_reply, int *fds, size_t *n_fds);
/* call_begin + call_send + call_receive for methods with one reply. */
int call_method(struct shmd_ctx *ctx, const char *method, json_object *params,
		json_object **ret_reply, int *fds, size_t *n_fds);
/*
 * The hot calls (open, create, delete) written as text, not json-c objects: building
 * and serializing those cost libshmd more than parsing the reply. call_text_begin()
 * writes {"method":METHOD,"parameters":{ ; the caller adds the members; call_method_text()
 * closes the message and makes the call as call_method() does.
 */
void call_text_begin(struct text *t, const char *method);
int call_method_text(struct shmd_ctx *ctx, const char *method, struct text *t,
		     json_object **ret_reply, int *fds, size_t *n_fds);
void close_fds(int *fds, size_t n);

/* errors.c */
/* The errno for a daemon error name and parameters (negative). */
int error_to_errno(const char *name, json_object *params);

/* The Create call behind shmd_create() and shmd_create_with(): mode is sent as given. */
int create_region(struct shmd_ctx *ctx, const char *name, uint64_t size, mode_t mode,
		  unsigned flags, unsigned seals, int *ret_fd, struct shmd_region **ret_region,
		  bool *ret_created);
/*
 * The errno a caller gets for connect()'s err: every way of finding no daemon at the socket
 * (no such path, nothing listening, no access to it) is -ECONNREFUSED, so that it never
 * reads as a region's -ENOENT or -EACCES; other errors (-ENOMEM, -EAGAIN, ...) pass.
 */
int connect_error_to_errno(int err);
/* A one-line message for humans (malloc'd), or NULL on OOM. */
char *error_format(const char *name, json_object *params);

/* region.c */
int region_from_json(json_object *obj, struct shmd_region **ret);
/* Parse "region" of a reply's parameters into *ret (when ret is not NULL). 0 or -EPROTO/-ENOMEM. */
int region_from_reply(struct shmd_ctx *ctx, json_object *reply, struct shmd_region **ret);

/* json helpers (region.c) */
int json_get_u64(json_object *obj, const char *key, uint64_t *ret);
int json_get_bool(json_object *obj, const char *key, bool *ret);
const char *json_get_str(json_object *obj, const char *key);
/* A params object with the name pair set; NULL on OOM. */
json_object *params_with_name(const char *key, const char *name);

/* ranges.c: one Range or RangePart object (label NULL for a gap). 0 or -EPROTO. */
int range_from_json(json_object *obj, uint64_t *ret_offset, uint64_t *ret_length,
		    const char **ret_label);
/* A field of a Footprint object: its value, or -ENODATA (absent), -EINVAL (unknown field). */
int64_t footprint_field(json_object *footprint, enum shmd_footprint_field field);
