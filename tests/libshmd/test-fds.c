/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Received fds: O_CLOEXEC, and a full fd table fails with -EMFILE, never a silent missing fd. */

#include <fcntl.h>
#include <sys/resource.h>

#include "libshmd-test.h"

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;
	struct rlimit old, low;
	int fd = -1, fillers[64], n_fillers = 0;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	is_int(shmd_create(ctx, "r", 4096, 0, 0, 0, &fd, NULL, NULL), 0, "create with an fd");
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "FD_CLOEXEC on the created fd");
	close(fd);
	is_int(shmd_open(ctx, "r", O_RDONLY, &fd, NULL), 0, "open");
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "FD_CLOEXEC on the opened fd");
	close(fd);

	int before = test_count_fds(getpid());
	if (test_under_valgrind()) {
		/*
		 * valgrind keeps RLIMIT_NOFILE to itself: a lowered soft limit is checked on
		 * open() and dup(), but the kernel still installs fds received by recvmsg().
		 */
		skip(9, "valgrind emulates RLIMIT_NOFILE; the full fd table is tested without it");
		goto done;
	}

	/* Fill the fd table: a soft limit just above what is open, then dups up to it. */
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)before + 8;
	if (setrlimit(RLIMIT_NOFILE, &low) < 0)
		bail_out("setrlimit: %s", strerror(errno));
	while (n_fillers < 64) {
		int f = dup(0);
		if (f < 0)
			break;
		fillers[n_fillers++] = f;
	}
	ok(errno == EMFILE, "fd table full after %d dups", n_fillers);

	fd = -1;
	is_int(shmd_open(ctx, "r", O_RDWR, &fd, NULL), -EMFILE,
	       "open with a full fd table: -EMFILE");
	is_int(fd, -1, "no fd returned");
	ok(shmd_ctx_get_error_name(ctx) == NULL && shmd_ctx_get_error_message(ctx),
	   "a local error with a message: %s", shmd_ctx_get_error_message(ctx));
	struct shmd_region *reg = NULL;
	is_int(shmd_stat(ctx, "r", &reg), 0,
	       "a call without fds still works on the same connection");
	is_str(reg ? shmd_region_get_name(reg) : NULL, "r", "and gets its own reply");
	shmd_region_unref(reg);

	for (int i = 0; i < n_fillers; i++)
		close(fillers[i]);
	setrlimit(RLIMIT_NOFILE, &old);
	is_int(shmd_open(ctx, "r", O_RDWR, &fd, NULL), 0, "open after raising the limit again");
	ok(fd >= 0 && fcntl(fd, F_GETFL) >= 0, "a valid fd");
	close(fd);
	is_int(test_count_fds(getpid()), before, "no fd leaked");
done:

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
