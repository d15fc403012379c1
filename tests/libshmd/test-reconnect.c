/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connection failures and odd replies: a scripted fake daemon (closes, garbage,
 * every error name) checks the errno table and the messages; a real daemon is
 * killed, restarted on the same path and idles out.
 */

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libshmd-test.h"

#define CLOSE_NOW "close"

/* A Region object, for replies that need one. */
#define REGION                                                                                     \
	"{\"name\":\"fake\",\"id\":7,\"size\":4096,\"uid\":0,\"gid\":0,\"mode\":384,"              \
	"\"creator\":{\"uid\":0,\"gid\":0,\"pid\":1},\"createdUSec\":1,\"changedUSec\":2,"         \
	"\"seals\":[],\"foreignSeals\":[],\"fixed\":false,\"state\":\"resident\"}"

#define FAKE_MAX_REQUESTS 16

struct fake {
	int listen_fd;
	const char *const *script; /* one action per request: a reply, or CLOSE_NOW */
	size_t next;
	struct ucred last_cred;
	bool have_cred;
	char requests[FAKE_MAX_REQUESTS][512]; /* the first bytes of each request */
};

/* Read one request (up to its NUL), keeping its credentials. 1, or 0 at EOF. */
static int fake_read_request(struct fake *f, int fd)
{
	char *req = f->next < FAKE_MAX_REQUESTS ? f->requests[f->next] : NULL;
	size_t len = 0;
	char c;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;

	for (;;) {
		struct iovec iov = { .iov_base = &c, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = &control,
				     .msg_controllen = sizeof(control) };
		if (recvmsg(fd, &mh, 0) <= 0)
			return 0;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&f->last_cred, CMSG_DATA(cm), sizeof(struct ucred));
			f->have_cred = true;
		}
		if (req && len + 1 < sizeof(f->requests[0]))
			req[len++] = c;
		if (c == '\0')
			return 1;
	}
}

static void *fake_thread(void *userdata)
{
	struct fake *f = userdata;
	int one = 1;

	while (f->script[f->next]) {
		int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
		while (f->script[f->next] && fake_read_request(f, fd)) {
			const char *action = f->script[f->next++];
			if (strcmp(action, CLOSE_NOW) == 0)
				break;
			/* "!reply": send it, then close (a daemon dying mid-stream). */
			bool then_close = action[0] == '!';
			action += then_close;
			if (send(fd, action, strlen(action) + 1, MSG_NOSIGNAL) < 0 || then_close)
				break;
		}
		close(fd);
	}
	return NULL;
}

static int fake_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		bail_out("path too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		bail_out("fake daemon: %s", strerror(errno));
	return fd;
}

static void expect_error(struct shmd_ctx *ctx, int got, int want, const char *name,
			 const char *message)
{
	is_int(got, want, "%s: %s", name ? name : "local", strerror(-want));
	if (name)
		is_str(shmd_ctx_get_error_name(ctx), name, "error name kept");
	if (message)
		is_str(shmd_ctx_get_error_message(ctx), message, "message");
}

#define ERR(name, params) "{\"error\":\"io.shmd.Manager." name "\",\"parameters\":" params "}"

static void test_fake(const char *dir)
{
	static const char *const script[] = {
		CLOSE_NOW, /* Stat is sent once more after a lost connection... */
		CLOSE_NOW, /* ...but not twice */
		CLOSE_NOW, /* Delete is never sent again */
		"this is not json",
		"{\"error\":\"com.example.Weird\",\"parameters\":{}}",
		ERR("SystemError", "{\"operation\":\"memfd_create\",\"errno\":28,"
				   "\"message\":\"No space left on device\"}"),
		ERR("LimitReached", "{\"limit\":\"connectionsPerUid\",\"max\":64}"),
		ERR("QuotaExceeded", "{\"scope\":\"unit\",\"kind\":\"bytes\","
				     "\"subject\":\"qemu@vm1.service\",\"used\":8053063680,"
				     "\"limit\":8589934592,\"requested\":1073741824}"),
		ERR("QuotaExceeded", "{\"scope\":\"global\",\"kind\":\"regions\","
				     "\"subject\":\"global\",\"used\":10,\"limit\":10,"
				     "\"requested\":1}"),
		ERR("RegionOwned", "{\"name\":\"vm9/ram\",\"uid\":65534,\"gid\":65534}"),
		ERR("MessageTooLarge", "{\"max\":65536}"),
		ERR("TooManyFileDescriptors", "{\"max\":0,\"received\":1}"),
		ERR("PermissionDenied", "{\"name\":\"x\",\"operation\":\"Delete\","
					"\"reason\":\"not the owner\"}"),
		ERR("RegionExists", "{\"nameBase64\":\"YS//\"}"),
		"{\"error\":\"org.varlink.service.MethodNotFound\","
		"\"parameters\":{\"method\":\"io.shmd.Manager.Stat\"}}",
		"{\"parameters\":{\"region\":" REGION "},\"continues\":true}",
		"{\"parameters\":{\"region\":" REGION "}}",
		"{\"parameters\":{\"region\":{\"name\":\"fake\"}}}",
		"!{\"parameters\":{\"region\":" REGION "},\"continues\":true}",
		"{\"parameters\":{\"region\":" REGION "}}",
		NULL,
	};
	char path[4096];
	struct fake f = { .script = script };
	pthread_t thread;
	struct shmd_region *r = NULL;
	int fd = -1;

	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	f.listen_fd = fake_listen(path);
	pthread_create(&thread, NULL, fake_thread, &f);
	struct shmd_ctx *ctx = shmd_ctx_new(path);

	expect_error(ctx, shmd_stat(ctx, "x", &r), -ECONNRESET, NULL, NULL);
	ok(strstr(shmd_ctx_get_error_message(ctx), "closed") != NULL, "daemon closed mid-call: %s",
	   shmd_ctx_get_error_message(ctx));
	expect_error(ctx, shmd_delete(ctx, "x"), -ECONNRESET, NULL, NULL);
	ok(strstr(shmd_ctx_get_error_message(ctx), "may or may not have been done") != NULL,
	   "a lost Delete says it may have been done: %s", shmd_ctx_get_error_message(ctx));
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EPROTO, NULL, NULL);
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EPROTO, "com.example.Weird",
		     "daemon error com.example.Weird");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -ENOSPC, "io.shmd.Manager.SystemError",
		     "memfd_create: No space left on device");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EUSERS, "io.shmd.Manager.LimitReached",
		     "limit reached: connectionsPerUid (max 64)");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EDQUOT, "io.shmd.Manager.QuotaExceeded",
		     "quota exceeded for unit qemu@vm1.service: 7.5G used + 1.0G requested > 8.0G");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -ENOSPC, "io.shmd.Manager.QuotaExceeded",
		     "global quota exceeded: 10 regions used + 1 requested > 10");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EACCES, "io.shmd.Manager.RegionOwned",
		     "exists, owned by uid 65534 (not opened: it is not yours)");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EMSGSIZE, "io.shmd.Manager.MessageTooLarge",
		     "request too large (max 65536 bytes)");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -ETOOMANYREFS,
		     "io.shmd.Manager.TooManyFileDescriptors",
		     "request carried 1 file descriptors (max 0)");
	expect_error(ctx, shmd_delete(ctx, "x"), -EACCES, "io.shmd.Manager.PermissionDenied",
		     "permission denied: not the owner");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EEXIST, "io.shmd.Manager.RegionExists",
		     "region 'a/\\xff' already exists");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EOPNOTSUPP,
		     "org.varlink.service.MethodNotFound",
		     "the daemon does not support io.shmd.Manager.Stat");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EPROTO, NULL, NULL);
	ok(f.have_cred && f.last_cred.pid == getpid() && f.last_cred.uid == geteuid() &&
		   f.last_cred.gid == getegid(),
	   "requests carry SCM_CREDENTIALS {pid, euid, egid}");
	expect_error(ctx, shmd_open(ctx, "x", O_RDWR, &fd, &r), -EPROTO, NULL,
		     "reply without the promised file descriptor");
	expect_error(ctx, shmd_stat(ctx, "x", &r), -EPROTO, NULL,
		     "malformed region in the daemon's reply");

	struct shmd_list *l = NULL;
	is_int(shmd_list(ctx, NULL, &l), 0, "list from the fake daemon");
	is_int(shmd_list_next(l, &r), 1, "first region");
	r = shmd_region_unref(r);
	is_int(shmd_list_next(l, &r), -ECONNRESET, "daemon gone mid-listing: -ECONNRESET");
	is_int(shmd_list_next(l, &r), -ECONNRESET, "and the listing stays failed");
	shmd_list_free(l);
	is_int(shmd_stat(ctx, "x", &r), 0, "the next call reconnects");
	r = shmd_region_unref(r);

	pthread_join(thread, NULL);
	close(f.listen_fd);
	shmd_ctx_unref(ctx);
}

/* A daemon older than "withRegion" refuses it as unknown: libshmd asks again without. */
static void test_fake_old_daemon(const char *dir)
{
	static const char *const script[] = {
		ERR("InvalidParameter", "{\"parameter\":\"withRegion\","
					"\"reason\":\"unknown parameter\"}"),
		"{\"parameters\":{\"region\":" REGION ",\"created\":true}}",
		"{\"parameters\":{\"region\":" REGION ",\"created\":false}}",
		/* A new connection: another InvalidParameter is an error, not a retry. */
		ERR("InvalidParameter", "{\"parameter\":\"size\",\"reason\":\"too large\"}"),
		NULL,
	};
	char path[4096];
	struct fake f = { .script = script };
	pthread_t thread;
	bool created = false;

	snprintf(path, sizeof(path), "%s/old.sock", dir);
	f.listen_fd = fake_listen(path);
	pthread_create(&thread, NULL, fake_thread, &f);

	struct shmd_ctx *ctx = shmd_ctx_new(path);
	is_int(shmd_create(ctx, "x", 4096, 0600, 0, 0, NULL, NULL, &created), 0,
	       "create against a daemon that refuses withRegion succeeds");
	ok(created, "created from the second answer");
	ok(strstr(f.requests[0], "\"withRegion\":false") != NULL,
	   "the first request asked for no region");
	ok(f.requests[1][0] && !strstr(f.requests[1], "withRegion"), "the retry did not: %s",
	   f.requests[1]);
	is_int(shmd_create(ctx, "x", 4096, 0600, SHMD_CREATE_OPEN_EXISTING, 0, NULL, NULL,
			   &created),
	       0, "the next call on that connection");
	ok(f.requests[2][0] && !strstr(f.requests[2], "withRegion"), "does not ask for it again");
	ctx = shmd_ctx_unref(ctx);

	ctx = shmd_ctx_new(path);
	is_int(shmd_create(ctx, "x", 4096, 0600, 0, 0, NULL, NULL, NULL), -EINVAL,
	       "a new connection asks again; another InvalidParameter is the answer");
	ok(strstr(f.requests[3], "\"withRegion\":false") != NULL && f.next == 4,
	   "one request, no retry");
	is_str(shmd_ctx_get_error_message(ctx), "invalid parameter 'size': too large",
	       "with the daemon's reason");
	shmd_ctx_unref(ctx);
	pthread_join(thread, NULL);
	close(f.listen_fd);
}

/* A real daemon killed, then a new one on the same path (a symlink we re-point). */
static void test_restart(const char *dir)
{
	struct test_daemon d1, d2;
	char link[4096];
	struct shmd_region *r = NULL;

	snprintf(link, sizeof(link), "%s/shmd.sock", dir);
	if (test_daemon_start(&d1, NULL) < 0 || symlink(d1.socket, link) < 0)
		bail_out("cannot start the first daemon");
	struct shmd_ctx *ctx = shmd_ctx_new(link);
	is_int(shmd_create(ctx, "before", 1, 0, 0, 0, NULL, NULL, NULL), 0, "first daemon answers");

	kill(d1.pid, SIGKILL);
	int status = test_daemon_stop(&d1);
	is_int(status, 128 + SIGKILL, "first daemon killed");
	is_int(shmd_stat(ctx, "before", &r), -ECONNREFUSED,
	       "daemon gone (socket removed): -ECONNREFUSED");
	ok(shmd_ctx_get_error_name(ctx) == NULL, "a local error, not NoSuchRegion");

	if (test_daemon_start(&d2, NULL) < 0 || unlink(link) < 0 || symlink(d2.socket, link) < 0)
		bail_out("cannot start the second daemon");
	is_int(shmd_stat(ctx, "before", &r), -ENOENT, "new daemon on the same path answers");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.NoSuchRegion",
	       "from the new (empty) registry");
	is_int(shmd_create(ctx, "after", 1, 0, 0, 0, NULL, NULL, NULL), 0, "and keeps answering");
	shmd_ctx_unref(ctx);
	unlink(link);
	is_int(test_daemon_stop(&d2), 0, "second daemon exits cleanly");
}

/* The daemon closes an idle connection; the next request goes out on a new one. */
static void test_idle(void)
{
	static const char *const args[] = { "--idle-timeout", "1", NULL };
	struct test_daemon d;
	struct shmd_region *r = NULL;
	struct shmd_ctx *ctx = start_daemon_ctx(&d, args);

	is_int(shmd_create(ctx, "idle", 1, 0, 0, 0, NULL, NULL, NULL), 0, "create");
	usleep(2500 * 1000);
	is_int(shmd_stat(ctx, "idle", &r), 0, "after the daemon closed the idle connection");
	r = shmd_region_unref(r);
	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char buf[4096];

	plan_no_plan();
	snprintf(buf, sizeof(buf), "%s/libshmd-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char *d = mkdtemp(buf);
	if (!d)
		bail_out("mkdtemp: %s", strerror(errno));

	test_fake(d);
	test_fake_old_daemon(d);
	char sock[4200];
	snprintf(sock, sizeof(sock), "%s/fake.sock", d);
	unlink(sock);
	test_restart(d);
	test_idle();

	rmdir(d);
	return done_testing();
}
