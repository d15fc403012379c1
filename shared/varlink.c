/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Varlink wire framing: NUL-terminated JSON messages over a stream socket, fds by SCM_RIGHTS. */

#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "macro.h"
#include "name.h"
#include "varlink.h"

/* Read at least this much per recvmsg(); the buffer grows geometrically past it. */
#define VL_READ_CHUNK 16384

void vl_reader_init(struct vl_reader *r, size_t max_message)
{
	*r = (struct vl_reader){ .max_message = max_message };
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		safe_close(fds[i]);
}

void vl_reader_done(struct vl_reader *r)
{
	if (r->tok)
		json_tokener_free(r->tok);
	free(r->buf);
	close_fds(r->fds, r->n_fds);
	if (r->have_pidfd)
		safe_close(r->pidfd);
	vl_reader_init(r, r->max_message);
}

bool vl_reader_has_partial(const struct vl_reader *r)
{
	return r->len > r->start;
}

size_t vl_reader_held_fds(const struct vl_reader *r)
{
	return r->n_fds;
}

void vl_reader_drop_fds(struct vl_reader *r, size_t n)
{
	n = MIN(n, r->n_fds);
	close_fds(r->fds + r->n_fds - n, n);
	r->n_fds -= n;
	r->n_fds_dropped += n;
}

/* Make room for VL_READ_CHUNK more bytes, compacting consumed bytes first. */
static int reader_reserve(struct vl_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->fds_end -= MIN(r->fds_end, r->start);
		r->start = 0;
	}
	if (r->cap - r->len >= VL_READ_CHUNK)
		return 0;

	size_t cap = MAX(r->cap * 2, (size_t)VL_READ_CHUNK * 2);
	char *p = realloc(r->buf, cap);
	if (!p)
		return -ENOMEM;
	r->buf = p;
	r->cap = cap;
	return 0;
}

#ifndef SCM_PIDFD
#define VL_SCM_PIDFD 0x04 /* Linux 6.5 */
#else
#define VL_SCM_PIDFD SCM_PIDFD
#endif

/* Take fds (and credentials) from the control messages of one recvmsg(). */
static void reader_take_cmsgs(struct vl_reader *r, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(&r->cred, CMSG_DATA(c), sizeof(struct ucred));
			r->have_cred = true;
		} else if (c->cmsg_type == VL_SCM_PIDFD && c->cmsg_len == CMSG_LEN(sizeof(int))) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			if (r->have_pidfd)
				safe_close(r->pidfd);
			r->pidfd = fd;
			r->have_pidfd = fd >= 0;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *fds = (int *)CMSG_DATA(c);
			for (size_t i = 0; i < n; i++) {
				int fd;
				memcpy(&fd, fds + i, sizeof(int));
				if (r->n_fds < VL_MAX_FDS) {
					r->fds[r->n_fds++] = fd;
				} else {
					safe_close(fd);
					r->n_fds_dropped++;
				}
			}
		}
	}
}

ssize_t vl_reader_fill(struct vl_reader *r, int fd, bool nonblock)
{
	/* Room for a full set of fds plus credentials. */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VL_MAX_FDS) + CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int))];
	} control;

	int ret = reader_reserve(r);
	if (ret < 0)
		return ret;

	struct iovec iov = { .iov_base = r->buf + r->len, .iov_len = r->cap - r->len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &control,
		.msg_controllen = sizeof(control),
	};
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
	if (n < 0)
		return negative_errno();

	size_t had_fds = r->n_fds;
	reader_take_cmsgs(r, &mh);
	r->len += (size_t)n;
	/*
	 * A stream read ends right after a chunk that carries fds (unix_stream_read_generic()
	 * stops there), but may begin with earlier messages glued before it. A sender attaches
	 * fds to the first byte of their message, so they belong to the message holding the
	 * last byte read, not to the first message returned from this read.
	 */
	if (r->n_fds > had_fds)
		r->fds_end = r->len;

	/* The kernel closed fds that did not fit (control buffer or RLIMIT_NOFILE). */
	if (mh.msg_flags & MSG_CTRUNC) {
		r->n_fds_dropped++;
		return -EMFILE;
	}
	return n;
}

static locale_t c_locale;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/*
 * json-c switches each parse to a copy of the caller's locale with LC_NUMERIC "C"
 * (duplocale(), newlocale(), which reads $LOCPATH, then freelocale()): about 1 us per
 * message here, a fifth of what parsing a short message costs. When the thread's locale
 * already is glibc's built-in C locale, those calls return it unchanged. So parse in it,
 * and give the caller's locale back (uselocale() only swaps a thread-local pointer).
 */
static json_object *parse_in_c_locale(json_tokener *tok, const char *s, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, c_locale_init);
	locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
	json_object *o = json_tokener_parse_ex(tok, s, (int)len);
	if (old)
		uselocale(old);
	return o;
}

static int parse_message(struct vl_reader *r, const char *s, size_t len, json_object **ret)
{
	if (!r->tok) {
		r->tok = json_tokener_new();
		if (!r->tok)
			return -ENOMEM;
		json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	}
	json_tokener *tok = r->tok;
	json_tokener_reset(tok); /* also after a failed parse; keeps the flags */

	json_object *o = parse_in_c_locale(tok, s, len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		return -EBADMSG;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

int vl_reader_next(struct vl_reader *r, json_object **ret, int *fds, size_t *n_fds)
{
	size_t avail = r->len - r->start;
	char *begin = r->buf + r->start;
	char *nul = avail > r->scanned ? memchr(begin + r->scanned, 0, avail - r->scanned) : NULL;

	if (!nul) {
		r->scanned = avail;
		return avail > r->max_message ? -EMSGSIZE : 0;
	}

	size_t msg_len = (size_t)(nul - begin);
	size_t msg_end = r->start + msg_len + 1; /* just past its NUL */
	r->start = msg_end;
	r->scanned = 0;

	if (n_fds)
		*n_fds = 0;
	/* The fds are this message's if it holds the last byte of the read they came with. */
	if (r->n_fds > 0 && r->fds_end <= msg_end) {
		if (fds && n_fds) {
			memcpy(fds, r->fds, r->n_fds * sizeof(int));
			*n_fds = r->n_fds;
		} else {
			close_fds(r->fds, r->n_fds);
		}
		r->n_fds = 0;
	}

	if (r->start == r->len) {
		r->start = r->len = 0;
		r->fds_end = 0;
	}

	if (msg_len > r->max_message)
		return -EMSGSIZE;
	return parse_message(r, begin, msg_len, ret) < 0 ? -EBADMSG : 1;
}

char *vl_serialize(json_object *msg, size_t *ret_len)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
		msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s)
		return NULL;

	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	*ret_len = len + 1;
	return out;
}

ssize_t vl_sendmsg(int fd, const char *data, size_t len, const int *fds, size_t n_fds,
		   bool nonblock)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VL_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n_fds > VL_MAX_FDS)
		return -E2BIG;
	if (n_fds > 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = &control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}

	ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
	return n < 0 ? negative_errno() : n;
}

int vl_send_all(int fd, const char *data, size_t len, const int *fds, size_t n_fds)
{
	while (len > 0) {
		ssize_t n = vl_sendmsg(fd, data, len, fds, n_fds, false);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		/* The fds went with the first chunk. */
		fds = NULL;
		n_fds = 0;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static json_object *params_or_empty(json_object *params)
{
	return params ? params : json_object_new_object();
}

json_object *vl_call_new(const char *method, json_object *params, bool more, bool oneway)
{
	json_object *m = json_object_new_object();
	json_object *p = params_or_empty(params);
	if (!m || !p) {
		json_object_put(m);
		json_object_put(p);
		return NULL;
	}
	json_object_object_add(m, "method", json_object_new_string(method));
	json_object_object_add(m, "parameters", p);
	if (more)
		json_object_object_add(m, "more", json_object_new_boolean(true));
	if (oneway)
		json_object_object_add(m, "oneway", json_object_new_boolean(true));
	return m;
}

json_object *vl_reply_new(json_object *params, bool continues)
{
	json_object *m = json_object_new_object();
	json_object *p = params_or_empty(params);
	if (!m || !p) {
		json_object_put(m);
		json_object_put(p);
		return NULL;
	}
	json_object_object_add(m, "parameters", p);
	if (continues)
		json_object_object_add(m, "continues", json_object_new_boolean(true));
	return m;
}

json_object *vl_error_new(const char *error, json_object *params)
{
	json_object *m = json_object_new_object();
	json_object *p = params_or_empty(params);
	if (!m || !p) {
		json_object_put(m);
		json_object_put(p);
		return NULL;
	}
	json_object_object_add(m, "error", json_object_new_string(error));
	json_object_object_add(m, "parameters", p);
	return m;
}

static const char *message_string(json_object *msg, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(msg, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *vl_message_method(json_object *msg)
{
	return message_string(msg, "method");
}

const char *vl_message_error(json_object *msg)
{
	return message_string(msg, "error");
}

json_object *vl_message_parameters(json_object *msg)
{
	json_object *v;
	if (!json_object_object_get_ex(msg, "parameters", &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

bool vl_message_flag(json_object *msg, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(msg, key, &v) || !json_object_is_type(v, json_type_boolean))
		return false;
	return json_object_get_boolean(v);
}
