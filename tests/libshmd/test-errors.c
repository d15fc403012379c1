/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd(3)'s one-meaning errnos: a daemon's SystemError never reads as "no region" or "no daemon". */

#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "libshmd-test.h"

/* A fake daemon (a child): per connection, answers each NUL-terminated call with the next reply. */
static pid_t fake_daemon(const char *path, const char *const *replies)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path))
		bail_out("path too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		bail_out("fake daemon: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork: %s", strerror(errno));
	if (pid > 0) {
		close(fd);
		return pid;
	}
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	for (size_t i = 0; conn >= 0 && replies[i]; i++) {
		char c;
		ssize_t n;
		/* Read one call up to its NUL. */
		while ((n = read(conn, &c, 1)) == 1 && c != '\0')
			;
		if (n != 1 || write(conn, replies[i], strlen(replies[i]) + 1) < 0)
			break;
	}
	_exit(0);
}

#define SYSERR(e)                                                                                  \
	"{\"error\":\"io.shmd.Manager.SystemError\",\"parameters\":"                               \
	"{\"operation\":\"x\",\"errno\":" #e ",\"message\":\"m\"}}"

int main(void)
{
	static const char *const replies[] = {
		SYSERR(2),   /* ENOENT */
		SYSERR(111), /* ECONNREFUSED */
		SYSERR(104), /* ECONNRESET */
		SYSERR(13),  /* EACCES */
		SYSERR(28),  /* ENOSPC: no special meaning, passed on */
		NULL,
	};
	char dir[] = "/tmp/shmd-test-errors.XXXXXX", path[256];
	struct shmd_region *r = NULL;
	int status;

	plan_no_plan();
	if (!mkdtemp(dir))
		bail_out("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	pid_t pid = fake_daemon(path, replies);
	struct shmd_ctx *ctx = shmd_ctx_new(path);

	is_int(shmd_stat(ctx, "x", &r), -EIO, "SystemError ENOENT: -EIO, not the region's -ENOENT");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.SystemError", "  the name kept");
	is_int(shmd_stat(ctx, "x", &r), -EIO, "SystemError ECONNREFUSED: -EIO, not 'no daemon'");
	is_int(shmd_stat(ctx, "x", &r), -EIO, "SystemError ECONNRESET: -EIO");
	is_int(shmd_stat(ctx, "x", &r), -EIO, "SystemError EACCES: -EIO, not PermissionDenied's");
	is_int(shmd_stat(ctx, "x", &r), -ENOSPC, "SystemError ENOSPC: passed on");
	shmd_ctx_unref(ctx);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fake daemon done");
	unlink(path);
	rmdir(dir);
	return done_testing();
}
