/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd region calls against a real daemon: every call, its accessors and its error paths. */

#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "libshmd-test.h"

static uint64_t now_usec(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static bool fd_is_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	return flags >= 0 && (flags & FD_CLOEXEC);
}

static void test_create(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;
	int fd = -1;
	bool created = false;
	uint64_t before = now_usec();
	struct stat st;

	is_int(shmd_create(ctx, "vm1/ram", 8192, 0640, 0, 0, &fd, &r, &created), 0, "create");
	uint64_t after = now_usec();
	ok(fd >= 0 && created && r, "create returns fd, region and created=true");
	ok(fd_is_cloexec(fd), "the received fd is O_CLOEXEC");
	ok(fstat(fd, &st) == 0 && st.st_size == 8192, "the fd is the region (size 8192)");
	is_int(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR, "create hands out a read-write fd");
	close(fd);

	is_str(shmd_region_get_name(r), "vm1/ram", "name");
	ok(shmd_region_get_id(r) > 0, "id");
	is_int((long long)shmd_region_get_size(r), 8192, "size");
	is_int(shmd_region_get_uid(r), geteuid(), "uid");
	is_int(shmd_region_get_gid(r), getegid(), "gid");
	is_int(shmd_region_get_mode(r), 0640, "mode");
	/* With MFD_NOEXEC_SEAL (noexecSeal feature) the kernel adds F_SEAL_EXEC itself. */
	is_int(shmd_region_get_seals(r) & ~SHMD_SEAL_EXEC, 0, "no seals but exec");
	is_int(shmd_region_get_foreign_seals(r), 0, "no foreign seals");
	ok(!shmd_region_is_fixed(r), "not fixed");
	is_str(shmd_region_get_state(r), "resident", "state");
	ok(shmd_region_get_created_usec(r) >= before && shmd_region_get_created_usec(r) <= after,
	   "created time is now");
	ok(shmd_region_get_changed_usec(r) >= shmd_region_get_created_usec(r),
	   "changed >= created");
	is_int(shmd_region_get_creator_uid(r), geteuid(), "creator uid");
	is_int(shmd_region_get_creator_gid(r), getegid(), "creator gid");
	is_int(shmd_region_get_creator_pid(r), getpid(), "creator pid");
	ok(shmd_region_ref(r) == r, "shmd_region_ref");
	shmd_region_unref(r);
	is_str(shmd_region_get_name(r), "vm1/ram", "still valid after dropping one of two refs");
	uint64_t id = shmd_region_get_id(r);
	r = shmd_region_unref(r);

	is_int(shmd_create(ctx, "vm1/ram", 4096, 0, 0, 0, NULL, NULL, NULL), -EEXIST,
	       "create of an existing name: -EEXIST");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.RegionExists", "RegionExists");
	is_str(shmd_ctx_get_error_message(ctx), "region 'vm1/ram' already exists", "its message");

	is_int(shmd_create(ctx, "vm1/ram", 4096, 0, SHMD_CREATE_OPEN_EXISTING, 0, &fd, &r,
			   &created),
	       0, "create with SHMD_CREATE_OPEN_EXISTING opens it");
	ok(!created && shmd_region_get_id(r) == id && shmd_region_get_size(r) == 8192,
	   "created=false, same id, size unchanged");
	close(fd);
	r = shmd_region_unref(r);

	is_int(shmd_create(ctx, "plain", 100, 0, 0, 0, NULL, &r, NULL), 0, "create without an fd");
	is_int(shmd_region_get_mode(r), 0600, "mode 0 means 0600");
	r = shmd_region_unref(r);

	is_int(shmd_create(ctx, "fixed", 4096, 0, SHMD_CREATE_FIXED, SHMD_SEAL_EXEC, NULL, &r,
			   NULL),
	       0, "create fixed with an extra seal");
	ok(shmd_region_is_fixed(r), "fixed");
	is_int(shmd_region_get_seals(r) & (SHMD_SEAL_GROW | SHMD_SEAL_SHRINK | SHMD_SEAL_EXEC),
	       SHMD_SEAL_GROW | SHMD_SEAL_SHRINK | SHMD_SEAL_EXEC, "grow, shrink and exec sealed");
	r = shmd_region_unref(r);

	is_int(shmd_create(ctx, "bad", 1, 0777, 0, 0, NULL, NULL, NULL), -EINVAL,
	       "mode 0777: -EINVAL");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.InvalidParameter",
	       "InvalidParameter");
	ok(strstr(shmd_ctx_get_error_message(ctx), "'mode'") != NULL, "message names it: %s",
	   shmd_ctx_get_error_message(ctx));
	is_int(shmd_create(ctx, "a//b", 1, 0, 0, 0, NULL, NULL, NULL), -EINVAL,
	       "bad name: -EINVAL");
	is_int(shmd_create(ctx, NULL, 1, 0, 0, 0, NULL, NULL, NULL), -EINVAL, "NULL name: -EINVAL");
	is_int(shmd_create(ctx, "x", 1, 0, 1 << 7, 0, NULL, NULL, NULL), -EINVAL,
	       "unknown flag: -EINVAL");
	is_int(shmd_create(ctx, "x", UINT64_MAX, 0, 0, 0, NULL, NULL, NULL), -EINVAL,
	       "size past INT64_MAX: -EINVAL");

	/* A name that is not UTF-8 travels as nameBase64 both ways. */
	is_int(shmd_create(ctx, "raw/\xff\xfe", 1, 0, 0, 0, NULL, &r, NULL), 0, "non-UTF-8 name");
	is_str(shmd_region_get_name(r), "raw/\xff\xfe", "comes back byte for byte");
	r = shmd_region_unref(r);
	is_int(shmd_stat(ctx, "raw/\xff\xfe", &r), 0, "stat of a non-UTF-8 name");
	r = shmd_region_unref(r);
}

static void test_open_stat(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;
	int fd = -1;

	is_int(shmd_open(ctx, "vm1/ram", O_RDONLY, &fd, &r), 0, "open read-only");
	is_int(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY, "the fd is O_RDONLY");
	ok(fd_is_cloexec(fd), "and O_CLOEXEC");
	ok(write(fd, "x", 1) < 0 && errno == EBADF, "write() on it fails with EBADF");
	ok(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED,
	   "a writable shared mapping of it is refused");
	close(fd);
	is_str(shmd_region_get_name(r), "vm1/ram", "open returns the region");
	r = shmd_region_unref(r);

	is_int(shmd_open(ctx, "vm1/ram", O_RDWR | O_CLOEXEC, &fd, NULL), 0, "open read-write");
	is_int(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR, "the fd is O_RDWR");
	close(fd);

	is_int(shmd_open(ctx, "nope", O_RDWR, &fd, NULL), -ENOENT,
	       "open of a missing one: -ENOENT");
	is_str(shmd_ctx_get_error_message(ctx), "no such region 'nope'", "its message");
	is_int(shmd_open(ctx, "vm1/ram", O_WRONLY, &fd, NULL), -EINVAL, "O_WRONLY: -EINVAL");
	is_int(shmd_open(ctx, "vm1/ram", O_RDWR | O_TRUNC, &fd, NULL), -EINVAL, "O_TRUNC: -EINVAL");

	is_int(shmd_stat(ctx, "vm1/ram", &r), 0, "stat");
	is_int((long long)shmd_region_get_size(r), 8192, "stat size");
	r = shmd_region_unref(r);
	is_int(shmd_stat(ctx, "nope", &r), -ENOENT, "stat of a missing one: -ENOENT");
}

static void test_resize(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;

	is_int(shmd_resize(ctx, "vm1/ram", 1 << 20, 0), 0, "grow");
	shmd_stat(ctx, "vm1/ram", &r);
	is_int((long long)shmd_region_get_size(r), 1 << 20, "new size");
	r = shmd_region_unref(r);

	is_int(shmd_resize(ctx, "vm1/ram", 4096, 0), -EFBIG, "shrink without force: -EFBIG");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.WouldTruncate", "WouldTruncate");
	is_str(shmd_ctx_get_error_message(ctx),
	       "would truncate: shrinking 1.0M to 4.0K needs force", "its message");
	is_int(shmd_resize(ctx, "vm1/ram", 4096, SHMD_RESIZE_FORCE), 0, "shrink with force");
	shmd_stat(ctx, "vm1/ram", &r);
	is_int((long long)shmd_region_get_size(r), 4096, "shrunk");
	r = shmd_region_unref(r);

	is_int(shmd_resize(ctx, "fixed", 8192, 0), -EPERM, "resize of a fixed region: -EPERM");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.Sealed", "Sealed");
	ok(strncmp(shmd_ctx_get_error_message(ctx), "sealed (", 8) == 0 &&
		   strstr(shmd_ctx_get_error_message(ctx), "grow"),
	   "its message: %s", shmd_ctx_get_error_message(ctx));
	is_int(shmd_resize(ctx, "nope", 1, 0), -ENOENT, "resize of a missing one: -ENOENT");
	is_int(shmd_resize(ctx, "vm1/ram", 1, 2), -EINVAL, "unknown resize flag: -EINVAL");
}

static void test_rename_delete(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;

	shmd_stat(ctx, "plain", &r);
	uint64_t id = r ? shmd_region_get_id(r) : 0;
	r = shmd_region_unref(r);

	is_int(shmd_rename(ctx, "plain", "renamed", 0), 0, "rename");
	is_int(shmd_stat(ctx, "plain", &r), -ENOENT, "the old name is gone");
	is_int(shmd_stat(ctx, "renamed", &r), 0, "the new name exists");
	ok(r && shmd_region_get_id(r) == id, "with the same id");
	r = shmd_region_unref(r);

	is_int(shmd_rename(ctx, "renamed", "vm1/ram", 0), -EEXIST,
	       "rename onto a taken name: -EEXIST");
	is_int(shmd_rename(ctx, "renamed", "vm1/ram", SHMD_RENAME_REPLACE), 0, "with REPLACE");
	shmd_stat(ctx, "vm1/ram", &r);
	ok(r && shmd_region_get_id(r) == id, "replaced");
	r = shmd_region_unref(r);
	is_int(shmd_rename(ctx, "nope", "x", 0), -ENOENT, "rename of a missing one: -ENOENT");
	is_int(shmd_rename(ctx, "vm1/ram", NULL, 0), -EINVAL, "NULL new name: -EINVAL");

	is_int(shmd_delete(ctx, "vm1/ram"), 0, "delete");
	is_int(shmd_delete(ctx, "vm1/ram"), -ENOENT, "delete again: -ENOENT");
	is_int(shmd_stat(ctx, "vm1/ram", &r), -ENOENT, "deleted");
}

static void test_seal(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;
	void *addr;
	size_t size;

	shmd_create(ctx, "sealme", 4096, 0, 0, 0, NULL, NULL, NULL);
	is_int(shmd_seal(ctx, "sealme", SHMD_SEAL_GROW), 0, "seal grow");
	is_int(shmd_resize(ctx, "sealme", 8192, 0), -EPERM, "then grow: -EPERM");

	is_int(shmd_region_map(ctx, "sealme", O_RDWR, &addr, &size), 0, "map read-write");
	is_int(shmd_seal(ctx, "sealme", SHMD_SEAL_WRITE), -EBUSY,
	       "write seal while mapped: -EBUSY");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.Busy", "Busy");
	ok(strncmp(shmd_ctx_get_error_message(ctx), "busy: ", 6) == 0, "its message: %s",
	   shmd_ctx_get_error_message(ctx));
	shmd_region_unmap(addr, size);
	is_int(shmd_seal(ctx, "sealme", SHMD_SEAL_WRITE), 0, "write seal once unmapped");
	shmd_stat(ctx, "sealme", &r);
	is_int(shmd_region_get_seals(r) & ~SHMD_SEAL_EXEC, SHMD_SEAL_GROW | SHMD_SEAL_WRITE,
	       "seals in force");
	r = shmd_region_unref(r);
	is_int(shmd_seal(ctx, "sealme", 0x4000), -EINVAL, "unknown seal bit: -EINVAL");
	is_int(shmd_seal(ctx, "nope", SHMD_SEAL_GROW), -ENOENT, "seal of a missing one: -ENOENT");
}

static void test_set_access(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;

	shmd_create(ctx, "acc", 4096, 0600, 0, 0, NULL, NULL, NULL);
	is_int(shmd_set_access(ctx, "acc", 0644, (uid_t)-1, (gid_t)-1), 0, "chmod");
	shmd_stat(ctx, "acc", &r);
	ok(shmd_region_get_mode(r) == 0644 && shmd_region_get_uid(r) == geteuid(),
	   "mode changed only");
	r = shmd_region_unref(r);

	if (geteuid() == 0) {
		is_int(shmd_set_access(ctx, "acc", (mode_t)-1, 65534, 65534), 0, "chown (as root)");
		shmd_stat(ctx, "acc", &r);
		ok(shmd_region_get_mode(r) == 0644 && shmd_region_get_uid(r) == 65534 &&
			   shmd_region_get_gid(r) == 65534,
		   "owner and group changed, mode kept");
		r = shmd_region_unref(r);
	} else {
		skip(2, "needs root: only root gives a region to another uid");
	}
	is_int(shmd_set_access(ctx, "acc", 01644, (uid_t)-1, (gid_t)-1), -EINVAL,
	       "mode 01644: -EINVAL");
	is_int(shmd_set_access(ctx, "nope", 0600, (uid_t)-1, (gid_t)-1), -ENOENT,
	       "set access of a missing one: -ENOENT");
	shmd_set_access(ctx, "acc", 0600, 0, 0);
}

/* ------------------------------------------------------------------ another uid */

static const char *access_socket;

static int as_nobody_open(void *userdata)
{
	struct shmd_ctx *ctx = userdata;
	int fd;
	/* The inherited ctx reconnects in the child; the request carries the new uid. */
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 200;
	return -shmd_open(ctx, "acc", O_RDONLY, &fd, NULL);
}

static int as_nobody_delete(void *userdata)
{
	struct shmd_ctx *ctx = shmd_ctx_new(access_socket);
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 200;
	int r = shmd_delete(ctx, "acc");
	/* The human message says why. */
	bool said_why = r != -EACCES ||
			strncmp(shmd_ctx_get_error_message(ctx), "permission denied: ", 19) == 0;
	shmd_ctx_unref(ctx); /* valgrind checks the child for leaks too */
	return said_why ? -r : 201;
}

/* Same connection, euid changed between calls: each request is judged by its sender. */
static int seteuid_between_calls(void *userdata)
{
	struct shmd_ctx *ctx = shmd_ctx_new(access_socket);
	int fd = -1;

	if (shmd_open(ctx, "acc", O_RDONLY, &fd, NULL) < 0)
		return 210;
	close(fd);
	fd = -1;
	if (setegid(65534) < 0 || seteuid(65534) < 0)
		return 200;
	int r = shmd_open(ctx, "acc", O_RDONLY, &fd, NULL);
	if (seteuid(0) < 0 || setegid(0) < 0)
		return 200;
	if (r != -EACCES)
		r = 211;
	else if (shmd_open(ctx, "acc", O_RDONLY, &fd, NULL) < 0)
		r = 212;
	else
		r = 0;
	if (fd >= 0)
		close(fd);
	shmd_ctx_unref(ctx);
	return r;
}

static void test_other_uid(struct shmd_ctx *ctx, const struct test_daemon *d)
{
	if (geteuid() != 0) {
		skip(3, "needs root: the children switch to uid 65534");
		return;
	}
	access_socket = d->socket;
	/* mkdtemp made the daemon's directory 0700: let uid 65534 reach the socket. */
	chmod(d->dir, 0755);
	is_int(shmd_ctx_connect(ctx), 0, "connected before fork");
	is_int(run_in_child(as_nobody_open, ctx), EACCES,
	       "another uid opening a 0600 region: EACCES");
	is_int(run_in_child(as_nobody_delete, NULL), EACCES, "another uid deleting it: EACCES");
	is_int(run_in_child(seteuid_between_calls, NULL), 0,
	       "a process that changes its euid between calls is judged by the current one");
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);

	test_create(ctx);
	test_open_stat(ctx);
	test_resize(ctx);
	test_rename_delete(ctx);
	test_seal(ctx);
	test_set_access(ctx);
	test_other_uid(ctx, &d);

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
