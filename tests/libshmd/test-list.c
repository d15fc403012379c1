/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listing iterator: prefixes, empty results, thousands of regions, early free, -EBUSY. */

#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libshmd-test.h"

#define REGION                                                                                     \
	"{\"name\":\"x\",\"id\":1,\"size\":1,\"uid\":0,\"gid\":0,\"mode\":384,"                    \
	"\"createdUSec\":1,\"changedUSec\":1,\"seals\":[],\"foreignSeals\":[],\"fixed\":false,"    \
	"\"state\":\"resident\",\"creator\":{\"uid\":0,\"gid\":0,\"pid\":1}}"
#define MORE(region) "{\"parameters\":{\"region\":" region "},\"continues\":true}"

/* Count the regions under prefix, checking their order; -errno on failure. */
static int count(struct shmd_ctx *ctx, const char *prefix, bool *sorted)
{
	struct shmd_list *l = NULL;
	struct shmd_region *r;
	char last[512] = "";
	int n = 0, ret;

	*sorted = true;
	ret = shmd_list(ctx, prefix, &l);
	if (ret < 0)
		return ret;
	while ((ret = shmd_list_next(l, &r)) > 0) {
		if (strcmp(last, shmd_region_get_name(r)) >= 0)
			*sorted = false;
		snprintf(last, sizeof(last), "%s", shmd_region_get_name(r));
		shmd_region_unref(r);
		n++;
	}
	if (ret == 0 && shmd_list_next(l, &r) != 0)
		ret = -EPROTO; /* the end stays the end */
	shmd_list_free(l);
	return ret < 0 ? ret : n;
}

static void test_small(struct shmd_ctx *ctx)
{
	bool sorted;

	is_int(count(ctx, NULL, &sorted), 0, "empty registry: no regions");
	shmd_create(ctx, "b/2", 1, 0, 0, 0, NULL, NULL, NULL);
	shmd_create(ctx, "a/1", 1, 0, 0, 0, NULL, NULL, NULL);
	shmd_create(ctx, "b/1", 1, 0, 0, 0, NULL, NULL, NULL);
	shmd_create(ctx, "c", 1, 0, 0, 0, NULL, NULL, NULL);
	is_int(count(ctx, NULL, &sorted), 4, "all four");
	ok(sorted, "in name order");
	is_int(count(ctx, "", &sorted), 4, "empty prefix: all four");
	is_int(count(ctx, "b/", &sorted), 2, "prefix b/: two");
	is_int(count(ctx, "zzz", &sorted), 0, "prefix without match: none");

	struct shmd_list *l = NULL;
	struct shmd_region *r = NULL;
	is_int(shmd_list(ctx, "a/", &l), 0, "list a/");
	is_int(shmd_list_next(l, &r), 1, "one region");
	is_str(shmd_region_get_name(r), "a/1", "a/1");
	ok(shmd_region_get_size(r) == 1 && shmd_region_get_uid(r) == geteuid(),
	   "with its metadata");
	r = shmd_region_unref(r);
	is_int(shmd_list_next(l, &r), 0, "then the end");
	shmd_list_free(l);
	is_int(shmd_list(ctx, "a//", &l), -EINVAL, "invalid prefix: -EINVAL");
}

static void test_busy_and_early_free(struct shmd_ctx *ctx)
{
	struct shmd_list *l = NULL;
	struct shmd_region *r = NULL;
	bool sorted;

	is_int(shmd_list(ctx, NULL, &l), 0, "list");
	is_int(shmd_stat(ctx, "c", &r), -EBUSY, "another call while a listing is open: -EBUSY");
	struct shmd_list *l2 = NULL;
	is_int(shmd_list(ctx, NULL, &l2), -EBUSY, "another listing: -EBUSY");
	is_int(shmd_list_next(l, &r), 1, "the listing still reads");
	r = shmd_region_unref(r);
	shmd_list_free(l);

	is_int(shmd_stat(ctx, "c", &r), 0, "after freeing it early the ctx works");
	is_str(shmd_region_get_name(r), "c", "and gets the right reply");
	r = shmd_region_unref(r);
	is_int(count(ctx, NULL, &sorted), 4, "a new listing is complete");
}

static void test_many(struct shmd_ctx *ctx)
{
	int n = test_slow_mode() ? 300 : 2000, r = 0;
	bool sorted;
	char name[64];

	for (int i = 0; i < n && r == 0; i++) {
		snprintf(name, sizeof(name), "many/%05d", i);
		r = shmd_create(ctx, name, 4096, 0, 0, 0, NULL, NULL, NULL);
	}
	is_int(r, 0, "created %d regions", n);
	is_int(count(ctx, "many/", &sorted), n, "listed %d regions", n);
	ok(sorted, "in order");
	is_int(count(ctx, NULL, &sorted), n + 4, "and all");

	/* Free a big listing after a few: replies still in flight must not confuse the next call. */
	struct shmd_list *l = NULL;
	struct shmd_region *reg = NULL;
	shmd_list(ctx, "many/", &l);
	for (int i = 0; i < 3; i++) {
		shmd_list_next(l, &reg);
		reg = shmd_region_unref(reg);
	}
	shmd_list_free(l);
	is_int(shmd_stat(ctx, "many/00007", &reg), 0, "stat right after an early free");
	is_str(reg ? shmd_region_get_name(reg) : NULL, "many/00007", "answers that stat");
	shmd_region_unref(reg);
}

/*
 * A scripted daemon: accept one connection, read the List call, write script
 * (messages separated by '\n', sent NUL-terminated), then close. Returns its pid.
 */
static pid_t fake_daemon(const char *path, const char *script)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		bail_out("socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
		bail_out("fake daemon socket: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	int fd = accept(lfd, NULL, NULL);
	char c;
	while (fd >= 0 && read(fd, &c, 1) == 1 && c != 0)
		;
	for (const char *p = script; fd >= 0 && *p;) {
		size_t n = strcspn(p, "\n");
		if (write(fd, p, n) != (ssize_t)n || write(fd, "", 1) != 1)
			break;
		p += n + (p[n] == '\n');
	}
	_exit(0);
}

/* Run a listing against a scripted daemon; the results of shmd_list and each next, in order. */
static void scripted(const char *dir, const char *script, int *res, int n_res)
{
	char path[64];
	snprintf(path, sizeof(path), "%.40s/fake.sock", dir);
	pid_t pid = fake_daemon(path, script);
	struct shmd_ctx *ctx = shmd_ctx_new(path);
	struct shmd_list *l = NULL;
	struct shmd_region *r = NULL;

	res[0] = shmd_list(ctx, NULL, &l);
	for (int i = 1; i < n_res; i++) {
		res[i] = l ? shmd_list_next(l, &r) : 99;
		r = shmd_region_unref(r);
	}
	if (res[0] < 0 && l)
		res[0] = 98; /* a failed shmd_list must not hand out an iterator */
	shmd_list_free(l);
	shmd_ctx_unref(ctx);
	waitpid(pid, NULL, 0);
	unlink(path);
}

static void test_bad_replies(void)
{
	char dir[] = "/tmp/test-list.XXXXXX";
	int res[4];

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));

	scripted(dir, MORE(REGION) "\n{\"error\":\"io.shmd.Manager.PermissionDenied\"}", res, 4);
	ok(res[0] == 0 && res[1] == 1 && res[2] == -EACCES && res[3] == -EACCES,
	   "daemon error mid-stream: the region, then -EACCES, and it stays (%d %d %d %d)", res[0],
	   res[1], res[2], res[3]);

	scripted(dir, MORE(REGION) "\n" MORE(REGION), res, 4);
	ok(res[0] == 0 && res[1] == 1 && res[2] == 1 && res[3] == -ECONNRESET,
	   "connection closed mid-stream: -ECONNRESET (%d %d %d %d)", res[0], res[1], res[2],
	   res[3]);

	scripted(dir, "{\"error\":\"io.shmd.Manager.InvalidParameter\"}", res, 1);
	is_int(res[0], -EINVAL, "error as the first reply: shmd_list fails");

	scripted(dir, "", res, 1);
	is_int(res[0], -ECONNRESET, "connection closed before the first reply: shmd_list fails");

	scripted(dir, MORE(REGION) "\n" MORE("42"), res, 4);
	ok(res[0] == 0 && res[1] == 1 && res[2] == -EPROTO && res[3] == -EPROTO,
	   "malformed region mid-stream: -EPROTO (%d %d %d %d)", res[0], res[1], res[2], res[3]);

	scripted(dir, MORE("null"), res, 1);
	is_int(res[0], -EPROTO, "streamed reply without a region: -EPROTO");

	scripted(dir, "{\"parameters\":{}}", res, 3);
	ok(res[0] == 0 && res[1] == 0 && res[2] == 0, "empty listing: the end, and it stays");

	scripted(dir, "not json", res, 1);
	is_int(res[0], -EPROTO, "garbage reply: -EPROTO");
	rmdir(dir);
}

static void test_bad_arguments(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;
	struct shmd_list *l = NULL;

	is_int(shmd_list_next(NULL, &r), -EINVAL, "next on a NULL listing: -EINVAL");
	ok(shmd_list_free(NULL) == NULL, "free of a NULL listing");
	is_int(shmd_list(NULL, NULL, &l), -EINVAL, "listing without a context: -EINVAL");
	is_int(shmd_list(ctx, NULL, NULL), -EINVAL, "listing without a place for it: -EINVAL");
	is_int(shmd_list(ctx, NULL, &l), 0, "list");
	is_int(shmd_list_next(l, NULL), -EINVAL, "next without a place for the region: -EINVAL");
	shmd_list_free(l);
	is_int(shmd_stat(ctx, "c", &r), 0, "the context still works");
	r = shmd_region_unref(r);
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	test_small(ctx);
	test_busy_and_early_free(ctx);
	test_bad_arguments(ctx);
	test_many(ctx);
	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	test_bad_replies();
	return done_testing();
}
