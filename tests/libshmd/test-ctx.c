/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd contexts: refcounting, socket path choice, errors kept in the ctx, logging, no daemon. */

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>

#include "libshmd-test.h"

struct log_record {
	int n_debug;
	int n_sent;
	int n_received;
	int max_priority;
};

static void record_log(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	struct log_record *rec = data;
	char buf[4096];

	vsnprintf(buf, sizeof(buf), format, args);
	if (priority == LOG_DEBUG)
		rec->n_debug++;
	if (priority > rec->max_priority)
		rec->max_priority = priority;
	if (strncmp(buf, "-> ", 3) == 0 && strstr(buf, "io.shmd.Manager.Status"))
		rec->n_sent++;
	if (strncmp(buf, "<- ", 3) == 0 && strstr(buf, "\"version\""))
		rec->n_received++;
}

static void test_null_and_refs(const struct test_daemon *d)
{
	ok(shmd_ctx_unref(NULL) == NULL, "shmd_ctx_unref(NULL)");
	ok(shmd_region_unref(NULL) == NULL, "shmd_region_unref(NULL)");
	ok(shmd_status_unref(NULL) == NULL, "shmd_status_unref(NULL)");
	ok(shmd_list_free(NULL) == NULL, "shmd_list_free(NULL)");
	is_int(shmd_region_unmap(NULL, 0), 0, "shmd_region_unmap(NULL, 0)");

	/* A NULL context is a bad argument, not a crash. */
	struct shmd_region *region = NULL;
	struct shmd_status *status = NULL;
	int fd = -1;
	void *addr = NULL;
	size_t size = 0;
	ok(shmd_ctx_connect(NULL) == -EINVAL &&
		   shmd_create(NULL, "a", 1, 0, 0, 0, &fd, &region, NULL) == -EINVAL &&
		   shmd_open(NULL, "a", O_RDWR, &fd, &region) == -EINVAL &&
		   shmd_stat(NULL, "a", &region) == -EINVAL &&
		   shmd_resize(NULL, "a", 1, 0) == -EINVAL &&
		   shmd_rename(NULL, "a", "b", 0) == -EINVAL && shmd_delete(NULL, "a") == -EINVAL &&
		   shmd_seal(NULL, "a", SHMD_SEAL_GROW) == -EINVAL &&
		   shmd_set_access(NULL, "a", 0600, (uid_t)-1, (gid_t)-1) == -EINVAL &&
		   shmd_region_map(NULL, "a", O_RDWR, &addr, &size) == -EINVAL &&
		   shmd_status(NULL, &status) == -EINVAL,
	   "every call on a NULL context: -EINVAL");
	ok(fd == -1 && !region && !status && !addr && size == 0, "and no output is written");
	ok(!shmd_ctx_get_socket(NULL) && !shmd_ctx_get_error_name(NULL) &&
		   !shmd_ctx_get_error_message(NULL) && !shmd_ctx_get_error_parameters(NULL),
	   "getters on a NULL context: NULL");
	shmd_ctx_set_log_fn(NULL, NULL, NULL);
	shmd_ctx_set_log_priority(NULL, LOG_DEBUG);
	is_int(shmd_ctx_get_log_priority(NULL), -EINVAL, "setters ignore a NULL context");

	struct shmd_ctx *ctx = shmd_ctx_new(d->socket);
	ok(shmd_ctx_ref(ctx) == ctx, "shmd_ctx_ref returns its argument");
	ok(shmd_ctx_unref(ctx) == NULL, "first unref returns NULL");
	is_int(shmd_ctx_connect(ctx), 0, "the context still works after dropping one of two refs");
	shmd_ctx_unref(ctx);
}

static void test_socket_choice(const struct test_daemon *d)
{
	struct shmd_ctx *ctx;

	unsetenv("SHMD_SOCKET");
	ctx = shmd_ctx_new(NULL);
	is_str(shmd_ctx_get_socket(ctx), SHMD_DEFAULT_SOCKET,
	       "default socket without $SHMD_SOCKET");
	shmd_ctx_unref(ctx);

	setenv("SHMD_SOCKET", d->socket, 1);
	ctx = shmd_ctx_new(NULL);
	is_str(shmd_ctx_get_socket(ctx), d->socket, "$SHMD_SOCKET is used");
	is_int(shmd_ctx_connect(ctx), 0, "and connects to the daemon there");
	shmd_ctx_unref(ctx);

	ctx = shmd_ctx_new("/nonexistent/shmd.sock");
	is_str(shmd_ctx_get_socket(ctx), "/nonexistent/shmd.sock",
	       "an argument beats $SHMD_SOCKET");
	shmd_ctx_unref(ctx);
	unsetenv("SHMD_SOCKET");
}

static void test_no_daemon(const struct test_daemon *d)
{
	char path[4096];
	struct shmd_ctx *ctx;

	snprintf(path, sizeof(path), "%s/missing.sock", d->dir);
	ctx = shmd_ctx_new(path);
	is_int(shmd_ctx_connect(ctx), -ECONNREFUSED, "no socket file: -ECONNREFUSED, not -ENOENT");
	ok(shmd_ctx_get_error_name(ctx) == NULL, "a local failure has no daemon error name");
	ok(shmd_ctx_get_error_message(ctx) && strstr(shmd_ctx_get_error_message(ctx), path),
	   "the message names the socket: %s", shmd_ctx_get_error_message(ctx));
	struct shmd_status *st = NULL;
	is_int(shmd_status(ctx, &st), -ECONNREFUSED, "a call without a daemon: -ECONNREFUSED");
	struct shmd_region *region = NULL;
	is_int(shmd_stat(ctx, "vm1/ram", &region), -ECONNREFUSED,
	       "a region call without a daemon: -ECONNREFUSED, not the region's -ENOENT");
	ok(shmd_ctx_get_error_message(ctx) &&
		   strstr(shmd_ctx_get_error_message(ctx), "No such file or directory"),
	   "  the message keeps the kernel's reason: %s", shmd_ctx_get_error_message(ctx));
	shmd_ctx_unref(ctx);

	/* A path through a regular file (ENOTDIR): no daemon either. */
	snprintf(path, sizeof(path), "%s/file", d->dir);
	int file = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (file < 0)
		bail_out("create %s: %s", path, strerror(errno));
	close(file);
	snprintf(path, sizeof(path), "%s/file/shmd.sock", d->dir);
	ctx = shmd_ctx_new(path);
	is_int(shmd_ctx_connect(ctx), -ECONNREFUSED, "a path through a file: -ECONNREFUSED");
	shmd_ctx_unref(ctx);

	/* A socket file nobody listens on: bound, then closed. */
	snprintf(path, sizeof(path), "%s/stale.sock", d->dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		bail_out("path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bail_out("bind %s: %s", path, strerror(errno));
	close(fd);
	ctx = shmd_ctx_new(path);
	is_int(shmd_ctx_connect(ctx), -ECONNREFUSED, "stale socket file: -ECONNREFUSED");
	shmd_ctx_unref(ctx);
}

static void test_error_state(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;

	is_int(shmd_stat(ctx, "no/such", &r), -ENOENT, "stat of a missing region: -ENOENT");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.NoSuchRegion", "error name kept");
	is_str(shmd_ctx_get_error_message(ctx), "no such region 'no/such'", "error message kept");
	ok(shmd_ctx_get_error_parameters(ctx) &&
		   strstr(shmd_ctx_get_error_parameters(ctx), "\"no\\/such\"") == NULL &&
		   strstr(shmd_ctx_get_error_parameters(ctx), "no/such"),
	   "error parameters as JSON: %s", shmd_ctx_get_error_parameters(ctx));

	struct shmd_status *st = NULL;
	is_int(shmd_status(ctx, &st), 0, "a successful call");
	ok(!shmd_ctx_get_error_name(ctx) && !shmd_ctx_get_error_message(ctx) &&
		   !shmd_ctx_get_error_parameters(ctx),
	   "clears the error");
	shmd_status_unref(st);

	is_int(shmd_stat(ctx, NULL, &r), -EINVAL, "NULL name: -EINVAL");
	ok(!shmd_ctx_get_error_name(ctx) && shmd_ctx_get_error_message(ctx),
	   "local failure: message without name (%s)", shmd_ctx_get_error_message(ctx));
}

static void test_logging(struct shmd_ctx *ctx)
{
	struct log_record rec = { 0 };
	struct shmd_status *st = NULL;

	is_int(shmd_ctx_get_log_priority(ctx), LOG_ERR, "default log priority is LOG_ERR");
	shmd_ctx_set_log_fn(ctx, record_log, &rec);
	shmd_status(ctx, &st);
	st = shmd_status_unref(st);
	is_int(rec.n_debug, 0, "no debug messages at LOG_ERR");

	shmd_ctx_set_log_priority(ctx, LOG_DEBUG);
	is_int(shmd_ctx_get_log_priority(ctx), LOG_DEBUG, "log priority set");
	shmd_status(ctx, &st);
	st = shmd_status_unref(st);
	is_int(rec.n_sent, 1, "LOG_DEBUG logs the message sent");
	is_int(rec.n_received, 1, "LOG_DEBUG logs the message received");

	shmd_ctx_set_log_fn(ctx, NULL, NULL);
	rec = (struct log_record){ 0 };
	shmd_status(ctx, &st);
	shmd_status_unref(st);
	is_int(rec.n_debug, 0, "no log function: nothing logged");
	shmd_ctx_set_log_priority(ctx, LOG_ERR);
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);

	is_str(shmd_version(), SHMD_VERSION, "shmd_version()");
	test_null_and_refs(&d);
	test_socket_choice(&d);
	test_no_daemon(&d);
	test_error_state(ctx);
	test_logging(ctx);

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
