/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the Varlink framing over a socketpair: splitting, fds, limits, bad input. */

#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <sys/socket.h>

#include "testlib.h"
#include "varlink.h"

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair: %m");
}

static void send_raw(int fd, const char *s, size_t len)
{
	if (vl_send_all(fd, s, len, NULL, 0) < 0)
		bail_out("send: %m");
}

static void test_split(void)
{
	_cleanup_close_ int a = -1, b = -1;
	struct vl_reader r;
	json_object *m = NULL;
	int sv[2];

	pair(sv);
	a = sv[0], b = sv[1];
	vl_reader_init(&r, 1024);

	/* Two messages and half of a third in one write. */
	send_raw(a, "{\"method\":\"x.A\"}\0{\"method\":\"x.B\"}\0{\"meth", 40);
	ok(vl_reader_fill(&r, b, false) == 40, "read all bytes at once");
	ok(vl_reader_next(&r, &m, NULL, NULL) == 1 && strcmp(vl_message_method(m), "x.A") == 0,
	   "first");
	json_object_put(m);
	ok(vl_reader_next(&r, &m, NULL, NULL) == 1 && strcmp(vl_message_method(m), "x.B") == 0,
	   "second");
	json_object_put(m);
	is_int(vl_reader_next(&r, &m, NULL, NULL), 0, "partial third is not a message");
	ok(vl_reader_has_partial(&r), "partial is reported");
	send_raw(b == sv[1] ? a : b, "od\":\"x.C\"}", 11);
	ok(vl_reader_fill(&r, b, false) == 11, "read the rest");
	ok(vl_reader_next(&r, &m, NULL, NULL) == 1 && strcmp(vl_message_method(m), "x.C") == 0,
	   "third");
	json_object_put(m);
	ok(!vl_reader_has_partial(&r), "nothing left");
	vl_reader_done(&r);
}

static void test_fds(void)
{
	_cleanup_close_ int a = -1, b = -1;
	struct vl_reader r;
	json_object *m = NULL;
	int sv[2], p[2], fds[VL_MAX_FDS];
	size_t n_fds = 0;

	pair(sv);
	a = sv[0], b = sv[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		bail_out("pipe: %m");
	vl_reader_init(&r, 1024);

	ok(vl_sendmsg(a, "{\"parameters\":{\"fileDescriptor\":0}}", 36, p, 2, false) == 36,
	   "sent with 2 fds");
	safe_close(p[0]);
	safe_close(p[1]);
	ok(vl_reader_fill(&r, b, false) == 36, "read it");
	ok(vl_reader_next(&r, &m, fds, &n_fds) == 1 && n_fds == 2, "message owns 2 fds");
	ok((fcntl(fds[0], F_GETFD) & FD_CLOEXEC) != 0, "received fd is O_CLOEXEC");
	ok(write(fds[1], "x", 1) == 1, "received pipe works");
	safe_close(fds[0]);
	safe_close(fds[1]);
	json_object_put(m);
	vl_reader_done(&r);
}

static void test_limits(void)
{
	_cleanup_close_ int a = -1, b = -1;
	struct vl_reader r;
	json_object *m = NULL;
	char big[300];
	int sv[2];

	pair(sv);
	a = sv[0], b = sv[1];
	vl_reader_init(&r, 100);

	memset(big, ' ', sizeof(big));
	send_raw(a, big, sizeof(big));
	ok(vl_reader_fill(&r, b, false) > 0, "read oversized partial");
	is_int(vl_reader_next(&r, &m, NULL, NULL), -EMSGSIZE, "partial over the limit is EMSGSIZE");
	vl_reader_done(&r);

	vl_reader_init(&r, 100);
	static const char bad[] = "[1,2]\0{\"a\":1,}\0{\"a\":\"\xff\"}\0";
	send_raw(a, bad, sizeof(bad) - 1);
	ok(vl_reader_fill(&r, b, false) == (ssize_t)sizeof(bad) - 1, "read bad messages");
	is_int(vl_reader_next(&r, &m, NULL, NULL), -EBADMSG, "non-object refused");
	is_int(vl_reader_next(&r, &m, NULL, NULL), -EBADMSG, "trailing comma refused (strict)");
	is_int(vl_reader_next(&r, &m, NULL, NULL), -EBADMSG, "invalid UTF-8 refused");
	vl_reader_done(&r);

	safe_close(a);
	a = -1;
	vl_reader_init(&r, 100);
	is_int(vl_reader_fill(&r, b, false), 0, "EOF reads 0");
	is_int(vl_reader_fill(&r, b, true), 0, "EOF again");
	vl_reader_done(&r);
}

static void test_builders(void)
{
	_cleanup_json_ json_object *c = vl_call_new("io.shmd.Manager.List", NULL, true, false);
	_cleanup_json_ json_object *e = vl_error_new("io.shmd.Manager.NoSuchRegion", NULL);
	_cleanup_json_ json_object *rep = vl_reply_new(NULL, true);
	size_t len = 0;
	_cleanup_free_ char *s = vl_serialize(c, &len);

	is_str(s, "{\"method\":\"io.shmd.Manager.List\",\"parameters\":{},\"more\":true}",
	       "call serialised");
	is_int((long long)len, (long long)strlen(s) + 1, "length includes the NUL");
	ok(vl_message_flag(c, "more") && !vl_message_flag(c, "oneway"), "flags read");
	is_str(vl_message_error(e), "io.shmd.Manager.NoSuchRegion", "error name read");
	ok(vl_message_parameters(e) != NULL, "error has parameters");
	ok(vl_message_flag(rep, "continues"), "continues set");
}

/* Is fd a pipe end of ours? (The fds a message owns are real, open descriptors.) */
static bool is_fd(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/*
 * Pipelined replies: the kernel glues a message without fds to the next one's chunk that
 * carries fds, and stops the read there. The fds go to the message they were sent with.
 */
static void test_fds_pipelined(void)
{
	_cleanup_close_ int a = -1, b = -1;
	struct vl_reader r;
	json_object *m = NULL;
	int sv[2], fds[VL_MAX_FDS], fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	size_t n_fds = 9;

	pair(sv);
	a = sv[0], b = sv[1];
	vl_reader_init(&r, 1024);
	send_raw(a, "{\"x\":1}", 8);
	ok(vl_sendmsg(a, "{\"x\":2}", 8, &fd, 1, false) == 8, "second message sent with an fd");
	send_raw(a, "{\"x\":3}", 8);
	ok(vl_sendmsg(a, "{\"x\":4,\"y\"", 10, &fd, 1, false) == 10,
	   "half of a fourth, with an fd");
	ok(vl_reader_fill(&r, b, false) == 16, "one read takes the first two");
	ok(vl_reader_next(&r, &m, fds, &n_fds) == 1 && n_fds == 0, "the first owns no fd");
	json_object_put(m);
	ok(vl_reader_next(&r, &m, fds, &n_fds) == 1 && n_fds == 1 && is_fd(fds[0]),
	   "the second owns the fd it was sent with");
	json_object_put(m);
	safe_close(fds[0]);
	ok(vl_reader_fill(&r, b, false) == 18, "the next read: the third and half the fourth");
	ok(vl_reader_next(&r, &m, fds, &n_fds) == 1 && n_fds == 0, "the third owns no fd");
	json_object_put(m);
	is_int(vl_reader_next(&r, &m, fds, &n_fds), 0, "the fourth is not complete");
	send_raw(a, ":5}", 4);
	ok(vl_reader_fill(&r, b, false) == 4 && vl_reader_next(&r, &m, fds, &n_fds) == 1 &&
		   n_fds == 1 && is_fd(fds[0]),
	   "completed, it owns the fd that came with its first half");
	json_object_put(m);
	safe_close(fds[0]);
	safe_close(fd);
	vl_reader_done(&r);
}

/* Messages parse in the C locale; the caller's own locale is given back, numbers unharmed. */
static void test_locale(void)
{
	_cleanup_close_ int a = -1, b = -1;
	locale_t mine = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
	struct vl_reader r;
	json_object *m = NULL;
	int64_t v = 0;
	int sv[2];

	if (!mine) {
		skip(4, "no C.UTF-8 locale to stand for the caller's own");
		return;
	}
	pair(sv);
	a = sv[0], b = sv[1];
	vl_reader_init(&r, 1024);
	static const char msg[] = "{\"parameters\":{\"size\":1048576,\"x\":1.5}}";
	send_raw(a, msg, sizeof(msg));
	locale_t before = uselocale(mine);
	ok(vl_reader_fill(&r, b, false) == (ssize_t)sizeof(msg) &&
		   vl_reader_next(&r, &m, NULL, NULL) == 1,
	   "parsed with a locale of the caller's own in force");
	ok(uselocale((locale_t)0) == mine, "the caller's locale object is in force again");
	json_object *p = vl_message_parameters(m), *o;
	if (p && json_object_object_get_ex(p, "size", &o))
		v = json_object_get_int64(o);
	is_int(v, 1048576, "an integer parses");
	ok(p && json_object_object_get_ex(p, "x", &o) && json_object_get_double(o) == 1.5,
	   "a fraction parses with a '.'");
	json_object_put(m);
	uselocale(before);
	freelocale(mine);
	vl_reader_done(&r);
}

int main(void)
{
	test_split();
	test_fds();
	test_fds_pipelined();
	test_limits();
	test_builders();
	test_locale();
	return done_testing();
}
