/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the daemon integration tests: calls, reply lookups, raw sends, other uids. */

#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "name.h"
#include "proto-util.h"
#include "varlink.h"

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void itest_start(struct test_daemon *d, const char *const *args)
{
	/* Writes to a closed peer must fail with EPIPE, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	int r = test_daemon_start(d, args);
	if (r < 0)
		bail_out("cannot start shmd (%s): %s", getenv("SHMD_BIN") ?: "$SHMD_BIN unset",
			 strerror(-r));
	/* mkdtemp made the directory 0700; other uids must reach the socket. */
	if (chmod(d->dir, 0755) < 0)
		bail_out("chmod %s: %m", d->dir);
}

void itest_stop(struct test_daemon *d)
{
	is_int(test_daemon_stop(d), 0, "daemon exits cleanly on SIGTERM");
}

int itest_connect(const struct test_daemon *d)
{
	int fd = test_connect(d);
	if (fd < 0)
		bail_out("cannot connect to %s: %s", d->socket, strerror(-fd));
	/* A daemon that never answers fails the test instead of hanging it. */
	struct timeval tv = { .tv_sec = test_slow_mode() ? 300 : 30 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

bool wait_connections(int conn, int n)
{
	int64_t got = -1;
	for (int i = 0; i < (test_slow_mode() ? 1500 : 500); i++) {
		_cleanup_json_ json_object *r = call(conn, IFACE "Status", NULL);
		got = jint(r, "parameters.connections");
		if (got == n)
			return true;
		sleep_ms(10);
	}
	diag("daemon reports %lld connections, expected %d", (long long)got, n);
	return false;
}

json_object *jparams(const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	int r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		bail_out("out of memory");
	json_object *o = json_tokener_parse(text);
	if (!o || !json_object_is_type(o, json_type_object))
		bail_out("test bug: bad JSON parameters: %s", text);
	return o;
}

json_object *jname(const char *name)
{
	json_object *o = json_object_new_object();
	if (!o || json_add_name(o, "name", name) < 0)
		bail_out("out of memory");
	return o;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		safe_close(fds[i]);
}

json_object *call_fd(int conn, const char *method, json_object *params, int *ret_fd)
{
	json_object *reply = NULL;
	int fds[VL_MAX_FDS];
	size_t n_fds = 0;

	if (ret_fd)
		*ret_fd = -1;
	int r = test_call(conn, method, params, &reply, fds, &n_fds);
	if (r < 0) {
		diag("%s: transport error: %s", method, strerror(-r));
		close_all(fds, n_fds);
		return NULL;
	}
	if (ret_fd && n_fds > 0) {
		*ret_fd = fds[0];
		close_all(fds + 1, n_fds - 1);
	} else {
		close_all(fds, n_fds);
	}
	return reply;
}

json_object *call(int conn, const char *method, json_object *params)
{
	return call_fd(conn, method, params, NULL);
}

json_object *jget(json_object *o, const char *path)
{
	char key[256];

	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

const char *jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t jint(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : JINT_NONE;
}

int jbool(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : -1;
}

bool jarray_has(json_object *o, const char *path, const char *s)
{
	json_object *a = jget(o, path);
	if (!json_object_is_type(a, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(a, i));
		if (e && strcmp(e, s) == 0)
			return true;
	}
	return false;
}

const char *jseals(json_object *o, const char *path)
{
	static const char *const names[] = { "seal", "shrink", "grow", "write", "future_write" };
	static char bufs[2][256];
	static int turn;
	json_object *a = jget(o, path);

	if (!json_object_is_type(a, json_type_array))
		return NULL;
	char *buf = bufs[turn++ % 2];
	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (jarray_has(o, path, names[i]))
			snprintf(buf + strlen(buf), 256 - strlen(buf), "%s%s", buf[0] ? "," : "",
				 names[i]);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(a, i));
		bool known = e && strcmp(e, "exec") == 0;
		for (size_t k = 0; e && k < ELEMENTSOF(names); k++)
			known = known || strcmp(e, names[k]) == 0;
		if (!known)
			snprintf(buf + strlen(buf), 256 - strlen(buf), "%s?%s", buf[0] ? "," : "",
				 e ?: "(non-string)");
	}
	return buf;
}

bool is_error(json_object *reply, const char *error, const char *fmt, ...)
{
	char want[256], what[512];
	va_list ap;

	snprintf(want, sizeof(want), "%s%s", strchr(error, '.') ? "" : IFACE, error);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	const char *got = reply ? test_reply_error(reply) : "(no reply)";
	bool same = got && strcmp(got, want) == 0;
	ok(same, "%s", what);
	if (!same)
		diag("  got %s, expected %s; reply: %s", got ?: "success", want,
		     reply ? json_object_to_json_string(reply) : "none");
	return same;
}

bool is_success(json_object *reply, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	bool good = reply && !test_reply_error(reply);
	ok(good, "%s", what);
	if (!good)
		diag("  reply: %s", reply ? json_object_to_json_string(reply) : "none");
	return good;
}

bool create_region(int conn, const char *name, uint64_t size, int mode)
{
	json_object *p = jname(name);
	json_object_object_add(p, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(p, "mode", json_object_new_int(mode));
	_cleanup_json_ json_object *r = call(conn, IFACE "Create", p);
	if (!r || test_reply_error(r)) {
		diag("Create %s: %s", name, r ? json_object_to_json_string(r) : "no reply");
		return false;
	}
	return true;
}

int open_region(int conn, const char *name, const char *access, const char **ret_error)
{
	static char error[256];
	json_object *p = jname(name);
	int fd;

	json_object_object_add(p, "access", json_object_new_string(access));
	_cleanup_json_ json_object *r = call_fd(conn, IFACE "Open", p, &fd);
	const char *e = r ? test_reply_error(r) : "(no reply)";
	snprintf(error, sizeof(error), "%s", e ?: "");
	if (ret_error)
		*ret_error = error;
	if (!e && fd < 0)
		snprintf(error, sizeof(error), "(success without fd)");
	return e ? safe_close(fd) : fd;
}

int list_count(int conn, const char *prefix)
{
	json_object *p = prefix ? jparams("{}") : NULL;
	if (p && json_add_name(p, "prefix", prefix) < 0)
		bail_out("out of memory");
	_cleanup_json_ json_object *msg = vl_call_new(IFACE "List", p, true, false);
	size_t len;
	_cleanup_free_ char *data = vl_serialize(msg, &len);
	int r = send_raw(conn, data, len, NULL, 0), n = 0;
	if (r < 0)
		return r;
	for (;;) {
		_cleanup_json_ json_object *reply = NULL;
		int fds[VL_MAX_FDS];
		size_t n_fds = 0;
		r = test_read_reply(conn, &reply, fds, &n_fds);
		close_all(fds, n_fds);
		if (r < 0)
			return r;
		if (test_reply_error(reply)) {
			diag("List: %s", json_object_to_json_string(reply));
			return -EPROTO;
		}
		if (jget(reply, "parameters.region"))
			n++;
		if (!vl_message_flag(reply, "continues"))
			return n;
	}
}

int send_raw(int conn, const void *data, size_t len, const int *fds, size_t n_fds)
{
	if (n_fds <= VL_MAX_FDS)
		return vl_send_all(conn, data, len, fds, n_fds);

	/* More fds than the framing code sends: one sendmsg with all of them (kernel max 253). */
	size_t space = CMSG_SPACE(n_fds * sizeof(int));
	_cleanup_free_ char *control = calloc(1, space);
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = space,
	};
	if (!control)
		return -ENOMEM;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c)
		return -EINVAL;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
	ssize_t n = sendmsg(conn, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return negative_errno();
	return (size_t)n == len ? 0 : -EIO;
}

int send_call_creds(int conn, const char *method, json_object *params, const struct ucred *cred)
{
	_cleanup_json_ json_object *msg = vl_call_new(method, params, false, false);
	size_t len;
	_cleanup_free_ char *data = vl_serialize(msg, &len);
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control = { 0 };
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	memcpy(CMSG_DATA(c), cred, sizeof(*cred));
	/* Small messages: one sendmsg carries them whole on a stream socket. */
	ssize_t n = sendmsg(conn, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return negative_errno();
	return (size_t)n == len ? 0 : -EIO;
}

int wait_eof(int conn, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char buf[65536];

	for (;;) {
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = conn, .events = POLLIN };
		int r = poll(&p, 1, left);
		if (r < 0 && errno != EINTR)
			return negative_errno();
		if (r <= 0)
			continue;
		ssize_t n = recv(conn, buf, sizeof(buf), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return negative_errno();
	}
}

/* Count pid's fds that are the memfd of region name; the last one found in *ret_fd. */
static int scan_memfd_fds(pid_t pid, const char *name, int *ret_fd)
{
	char dir[64], path[400], link[512], want[300];
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "/memfd:shmd:%s (deleted)", name);
	DIR *d = opendir(dir);
	if (!d)
		return negative_errno();
	for (struct dirent *de; (de = readdir(d));) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ssize_t len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, want) == 0) {
			n++;
			if (ret_fd)
				*ret_fd = atoi(de->d_name);
		}
	}
	closedir(d);
	return n;
}

bool sync_daemon(int conn)
{
	_cleanup_json_ json_object *r = call(conn, IFACE "Status", NULL);
	return r && !test_reply_error(r);
}

int daemon_memfd_fds(pid_t pid, const char *name)
{
	return scan_memfd_fds(pid, name, NULL);
}

int daemon_region_fdinfo(pid_t pid, const char *name, long long *ret_pos, unsigned *ret_flags)
{
	char path[96], line[256];
	int fd = -1;

	if (scan_memfd_fds(pid, name, &fd) != 1)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	FILE *f = fopen(path, "re");
	if (!f)
		return negative_errno();
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		found += sscanf(line, "pos: %lld", ret_pos) == 1;
		found += sscanf(line, "flags: %o", ret_flags) == 1;
	}
	fclose(f);
	return found == 2 ? 0 : -EPROTO;
}

int daemon_writable_maps(pid_t pid)
{
	char path[64], line[1024];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return negative_errno();
	/* "addr perms offset dev inode path": perms like "rw-s". */
	while (fgets(line, sizeof(line), f)) {
		char perms[8] = "";
		if (sscanf(line, "%*s %7s", perms) == 1 && perms[1] == 'w' && perms[3] == 's' &&
		    strstr(line, "/memfd:shmd:"))
			n++;
	}
	fclose(f);
	return n;
}

static _Noreturn void child_run(int out, uid_t uid, gid_t gid, json_object *(*fn)(void *),
				void *arg)
{
	/* A test not run as root may only ask for its own ids, and keeps its groups. */
	bool as_self = geteuid() != 0 && geteuid() == uid && getegid() == gid;
	if (!as_self && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0))
		_exit(2);
	/* Changing uid made us non-dumpable: /proc/self would be root's and 0500. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	json_object *result = fn(arg);
	size_t len;
	char *data = result ? vl_serialize(result, &len) : NULL;
	int r = data ? vl_send_all(out, data, len, NULL, 0) : -EIO;
	free(data);
	json_object_put(result);
	_exit(r < 0 ? 3 : 0);
}

json_object *run_as(uid_t uid, gid_t gid, json_object *(*fn)(void *arg), void *arg)
{
	int sv[2];

	fflush(stdout);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair: %m");
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork: %m");
	if (pid == 0) {
		close(sv[0]);
		child_run(sv[1], uid, gid, fn, arg);
	}
	close(sv[1]);

	json_object *result = NULL;
	struct vl_reader r;
	vl_reader_init(&r, 16 * 1024 * 1024);
	for (;;) {
		if (vl_reader_next(&r, &result, NULL, NULL) != 0)
			break;
		if (vl_reader_fill(&r, sv[0], false) <= 0)
			break;
	}
	vl_reader_done(&r);
	close(sv[0]);

	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		diag("child as uid %u failed (status 0x%x)", (unsigned)uid, (unsigned)status);
	return result;
}

struct calls_args {
	const struct test_daemon *d;
	const char *const *calls;
};

static json_object *do_calls(void *arg)
{
	struct calls_args *a = arg;
	json_object *out = json_object_new_array();
	int conn = test_connect(a->d);
	char method[128];

	for (size_t i = 0; a->calls[i] && a->calls[i + 1]; i += 2) {
		snprintf(method, sizeof(method), IFACE "%s", a->calls[i]);
		json_object *p = json_tokener_parse(a->calls[i + 1]);
		json_object *r = NULL;
		if (conn >= 0 && p)
			r = call(conn, method, p);
		else
			json_object_put(p);
		json_object_array_add(out, r);
	}
	safe_close(conn);
	/* run_as() sends its result as one Varlink message, which must be an object. */
	json_object *wrap = json_object_new_object();
	json_object_object_add(wrap, "replies", out);
	return wrap;
}

json_object *calls_as(const struct test_daemon *d, uid_t uid, gid_t gid, const char *const *calls)
{
	struct calls_args a = { .d = d, .calls = calls };
	_cleanup_json_ json_object *wrap = run_as(uid, gid, do_calls, &a);
	json_object *replies = NULL;

	if (!json_object_object_get_ex(wrap, "replies", &replies) ||
	    !json_object_is_type(replies, json_type_array))
		bail_out("the child as uid %u sent no replies", (unsigned)uid);
	return json_object_get(replies);
}

const char *reply_at(json_object *replies, size_t i)
{
	json_object *r = json_object_is_type(replies, json_type_array) &&
					 i < json_object_array_length(replies) ?
				 json_object_array_get_idx(replies, i) :
				 NULL;
	if (!r)
		return "none";
	return test_reply_error(r) ?: "ok";
}

int accmode(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : (fl & O_ACCMODE);
}

static char hold_dir[64], hold_go[128], hold_held[128];

bool hold_possible(void)
{
#ifdef SHMD_FAULT_INJECTION
	return true;
#else
	return false;
#endif
}

void hold_setup(const char *point)
{
	char spec[256];

	snprintf(hold_dir, sizeof(hold_dir), "/tmp/shmd-hold-XXXXXX");
	if (!mkdtemp(hold_dir))
		bail_out("mkdtemp: %m");
	snprintf(hold_go, sizeof(hold_go), "%s/go", hold_dir);
	snprintf(hold_held, sizeof(hold_held), "%s/go.held", hold_dir);
	snprintf(spec, sizeof(spec), "%s:%s", point, hold_go);
	setenv("SHMD_FAULT_HOLD", spec, 1);
}

bool hold_wait(void)
{
	/* Bounded only to fail instead of hanging. */
	for (int i = 0; i < 30000; i++) {
		if (access(hold_held, F_OK) == 0)
			return true;
		sleep_ms(1);
	}
	return false;
}

void hold_release(void)
{
	int fd = open(hold_go, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		bail_out("create %s: %m", hold_go);
	close(fd);
}

void hold_rearm(void)
{
	unlink(hold_go);
	unlink(hold_held);
}

void hold_cleanup(void)
{
	hold_rearm();
	rmdir(hold_dir);
	unsetenv("SHMD_FAULT_HOLD");
}

bool nothing_to_read(int conn)
{
	struct pollfd p = { .fd = conn, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

void send_call(int conn, const char *method, const char *params)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "{\"method\":\"" IFACE "%s\",\"parameters\":%s}", method,
			 params);

	if (n < 0 || (size_t)n >= sizeof(buf) || send_raw(conn, buf, (size_t)n + 1, NULL, 0) < 0)
		bail_out("send %s: %m", method);
}

json_object *recv_reply(int conn, int *ret_fd)
{
	json_object *reply = NULL;
	int fds[8];
	size_t n_fds = 0;

	if (test_read_reply(conn, &reply, fds, &n_fds) < 0)
		return NULL;
	for (size_t i = 0; i < n_fds; i++)
		if (i == 0 && ret_fd)
			*ret_fd = fds[i];
		else
			close(fds[i]);
	return reply;
}
