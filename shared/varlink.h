/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Varlink wire framing: NUL-terminated JSON messages over a stream socket, fds by SCM_RIGHTS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <json-c/json.h>

/* The most fds one received message may carry; more are closed by the kernel (MSG_CTRUNC). */
#define VL_MAX_FDS 16

/*
 * Accumulates bytes read from a socket and cuts them into messages.
 * Fds received with a read are attached to the first message that was not yet
 * complete when they arrived (a synchronous peer has only one such message).
 */
struct vl_reader {
	char *buf;
	size_t len;	/* bytes held */
	size_t cap;	/* allocated */
	size_t start;	/* offset of the first unconsumed byte */
	size_t scanned; /* bytes after start already searched for NUL */
	size_t max_message;
	int fds[VL_MAX_FDS];
	size_t n_fds;
	size_t fds_end;	      /* the fds belong to the message holding byte fds_end - 1 of buf */
	size_t n_fds_dropped; /* fds the kernel or we had to close (MSG_CTRUNC / overflow) */
	bool have_cred;
	struct ucred cred; /* SCM_CREDENTIALS of the last read, if SO_PASSCRED is on */
	/* SCM_PIDFD of the last read, if SO_PASSPIDFD is on: the sender of cred, pinned. Not
	 * one of fds[] (no method takes it, so it counts against no fd limit); closed by the
	 * next read that brings one, and by vl_reader_done(). */
	bool have_pidfd;
	int pidfd;
	json_tokener *tok; /* kept from message to message: one allocation less per parse */
};

void vl_reader_init(struct vl_reader *r, size_t max_message);
/* Frees the buffer and closes any fds still held. */
void vl_reader_done(struct vl_reader *r);

/*
 * One recvmsg() into the reader, with MSG_CMSG_CLOEXEC|MSG_DONTWAIT when nonblock.
 * Returns bytes read (> 0), 0 on EOF, -EAGAIN, -EMFILE (MSG_CTRUNC: fds lost; the
 * data was still taken) or another -errno. Call vl_reader_next() until it returns 0
 * after every fill: that is where an oversized message is detected.
 */
ssize_t vl_reader_fill(struct vl_reader *r, int fd, bool nonblock);

/*
 * Cut out the next complete message and parse it.
 * Returns 1 and *ret (a JSON object) on success, 0 when no complete message is
 * buffered, -EMSGSIZE when a message (complete or partial) exceeds max_message,
 * -EBADMSG when the message is not a JSON object or not valid UTF-8.
 * On 1, the fds that belong to this message are moved to fds/n_fds (caller owns
 * them; pass NULL to have them closed).
 */
int vl_reader_next(struct vl_reader *r, json_object **ret, int *fds, size_t *n_fds);

/* True when a partial message is buffered (bytes with no NUL yet). */
bool vl_reader_has_partial(const struct vl_reader *r);

/*
 * Every fd the reader holds for messages not yet returned, of whatever control message
 * it came in (the daemon counts them against its fd budget until they are closed).
 */
size_t vl_reader_held_fds(const struct vl_reader *r);
/* Close the n fds received last (n_fds_dropped counts them): refused, not lost. */
void vl_reader_drop_fds(struct vl_reader *r, size_t n);

/* Serialise a message, NUL terminator included in *ret_len. Caller frees. */
char *vl_serialize(json_object *msg, size_t *ret_len);

/*
 * sendmsg() with fds attached to the first byte. Returns bytes written or -errno
 * (-EAGAIN when a nonblocking socket is full). MSG_NOSIGNAL always.
 */
ssize_t vl_sendmsg(int fd, const char *data, size_t len, const int *fds, size_t n_fds,
		   bool nonblock);

/* Write a whole buffer on a blocking socket, fds with the first chunk. 0 or -errno. */
int vl_send_all(int fd, const char *data, size_t len, const int *fds, size_t n_fds);

/* Builders. Each takes ownership of params (may be NULL: an empty object). */
json_object *vl_call_new(const char *method, json_object *params, bool more, bool oneway);
json_object *vl_reply_new(json_object *params, bool continues);
json_object *vl_error_new(const char *error, json_object *params);

/* Accessors for a received message; NULL/false when absent or of the wrong type. */
const char *vl_message_method(json_object *msg);
const char *vl_message_error(json_object *msg);
json_object *vl_message_parameters(json_object *msg);	 /* borrowed; NULL if absent */
bool vl_message_flag(json_object *msg, const char *key); /* "more", "oneway", "continues" */
