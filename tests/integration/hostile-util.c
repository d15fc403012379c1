/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers for the hostile-client tests: clients that hold on as another uid, fd and memory counts. */

#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile-util.h"

static bool write_long(int fd, long v)
{
	return write(fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

static long read_long(int fd)
{
	long v;
	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? v : -1;
}

long holder_start(struct holder *h, uid_t uid, gid_t gid, long (*setup)(void *arg),
		  long (*finish)(void *arg), void *arg)
{
	int sv[2];

	fflush(stdout);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bail_out("socketpair: %m");
	h->pid = fork();
	if (h->pid < 0)
		bail_out("fork: %m");
	if (h->pid == 0) {
		close(sv[0]);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (!write_long(sv[1], setup(arg)))
			_exit(3);
		char go;
		if (read(sv[1], &go, 1) != 1)
			_exit(0);
		_exit(write_long(sv[1], finish ? finish(arg) : 0) ? 0 : 3);
	}
	close(sv[1]);
	h->ctl = sv[0];
	return read_long(h->ctl);
}

long holder_finish(struct holder *h)
{
	long r = -1;
	int status;

	if (write(h->ctl, "g", 1) == 1)
		r = read_long(h->ctl);
	close(h->ctl);
	if (waitpid(h->pid, &status, 0) != h->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = -1;
	h->pid = 0;
	return r;
}

void holder_kill(struct holder *h)
{
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	close(h->ctl);
	h->pid = 0;
}

int count_all_fds(pid_t pid)
{
	char path[64];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return negative_errno();
	for (struct dirent *de; (de = readdir(dir));)
		n += de->d_name[0] != '.';
	closedir(dir);
	return n;
}

long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

bool fds_back_to(int conn, pid_t pid, int want)
{
	int64_t until = now_ms() + 5000;
	int n;

	do {
		if (!sync_daemon(conn))
			return false;
		n = test_count_fds(pid);
		if (n == want)
			return true;
		sleep_ms(20);
	} while (now_ms() < until);
	diag("pid %d holds %d fds, want %d", (int)pid, n, want);
	return false;
}

bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	printf("1..0 # SKIP needs root (other uids, lower RLIMIT_NOFILE)\n");
	return false;
}
