/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A private shmd per test: started on a socket in a fresh temp dir, stopped by pid. */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "testlib.h"
#include "varlink.h"

#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS 60000

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int connect_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = negative_errno();
		safe_close(fd);
		return r;
	}
	return fd;
}

static struct vl_reader *reader_for(int fd, bool reset);

int test_connect(const struct test_daemon *d)
{
	int fd = connect_path(d->socket);
	if (fd >= 0)
		reader_for(fd, true);
	return fd;
}

/* argv: [wrapper words...] shmd --socket PATH [extra...] NULL */
static char **build_argv(const char *socket, const char *const *extra)
{
	const char *bin = getenv("SHMD_BIN");
	const char *wrapper = getenv("SHMD_TEST_WRAPPER");
	size_t n = 0, cap = 16;
	char **argv = calloc(cap, sizeof(char *));

	if (!bin || !argv)
		return NULL;
	if (wrapper && *wrapper) {
		char *w = strdup(wrapper), *save = NULL;
		for (char *t = strtok_r(w, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			if (n + 8 >= cap)
				argv = realloc(argv, (cap *= 2) * sizeof(char *));
			argv[n++] = t;
		}
	}
	argv[n++] = (char *)bin;
	argv[n++] = (char *)"--socket";
	argv[n++] = (char *)socket;
	for (size_t i = 0; extra && extra[i]; i++) {
		if (n + 2 >= cap)
			argv = realloc(argv, (cap *= 2) * sizeof(char *));
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;
	return argv;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_dir(char *dir)
{
	if (dir)
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int test_daemon_start(struct test_daemon *d, const char *const *extra_args)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];

	*d = (struct test_daemon){ .pid = -1 };
	snprintf(tmpl, sizeof(tmpl), "%s/shmd-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		return negative_errno();
	d->dir = strdup(tmpl);
	if (asprintf(&d->socket, "%s/shmd.sock", d->dir) < 0)
		return -ENOMEM;

	char **argv = build_argv(d->socket, extra_args);
	if (!argv)
		return -EINVAL;

	pid_t parent = getpid();
	d->pid = fork();
	if (d->pid < 0)
		return negative_errno();
	if (d->pid == 0) {
		/*
		 * Die with the test: a test that crashes must not leave its daemon behind, holding
		 * the test driver's output pipe open (make check would wait for it forever).
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		/* Never inherit the test's notify socket. */
		unsetenv("NOTIFY_SOCKET");
		unsetenv("LISTEN_FDS");
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %m\n", argv[0]);
		_exit(127);
	}
	free(argv[0] == getenv("SHMD_BIN") ? NULL : argv[0]);
	free(argv);

	for (int waited = 0; waited < START_TIMEOUT_MS; waited += 10) {
		int status;
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return -ECHILD;
		}
		int fd = connect_path(d->socket);
		if (fd >= 0) {
			safe_close(fd);
			return 0;
		}
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

int test_daemon_stop(struct test_daemon *d)
{
	int status = 0, ret = -1;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int waited = 0;; waited += 10) {
			pid_t p = waitpid(d->pid, &status, WNOHANG);
			if (p == d->pid)
				break;
			if (p < 0 || waited >= STOP_TIMEOUT_MS) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, &status, 0);
				break;
			}
			sleep_ms(10);
		}
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	remove_dir(d->dir);
	free(d->dir);
	free(d->socket);
	*d = (struct test_daemon){ .pid = -1 };
	return ret;
}

int test_count_fds(pid_t pid)
{
	char path[64];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return negative_errno();
	for (struct dirent *de; (de = readdir(dir));) {
		char link[64] = "";
		if (de->d_name[0] == '.' ||
		    readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1) < 0)
			continue;
		n += strncmp(link, "socket:", 7) == 0 || strncmp(link, "/memfd:", 7) == 0 ||
		     strncmp(link, "anon_inode:", 11) == 0;
	}
	closedir(dir);
	return n;
}

/* One reader per connection, indexed by fd; test_connect() resets it for a new connection. */
#define MAX_READERS 4096
static struct vl_reader *readers[MAX_READERS];

static struct vl_reader *reader_for(int fd, bool reset)
{
	if (fd < 0 || fd >= MAX_READERS)
		return NULL;
	if (readers[fd] && reset) {
		vl_reader_done(readers[fd]);
		free(readers[fd]);
		readers[fd] = NULL;
	}
	if (!readers[fd]) {
		readers[fd] = calloc(1, sizeof(struct vl_reader));
		if (readers[fd])
			vl_reader_init(readers[fd], 64 * 1024 * 1024);
	}
	return readers[fd];
}

int test_read_reply(int fd, json_object **reply, int *fds, size_t *n_fds)
{
	struct vl_reader *r = reader_for(fd, false);

	if (!r)
		return -EBADF;
	if (n_fds)
		*n_fds = 0;
	for (;;) {
		int ret = vl_reader_next(r, reply, fds, n_fds);
		if (ret != 0)
			return ret > 0 ? 0 : ret;
		ssize_t n = vl_reader_fill(r, fd, false);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && n != -EINTR)
			return (int)n;
	}
}

int test_call(int fd, const char *method, json_object *params, json_object **reply, int *fds,
	      size_t *n_fds)
{
	_cleanup_json_ json_object *msg = vl_call_new(method, params, false, false);
	size_t len;
	_cleanup_free_ char *data = msg ? vl_serialize(msg, &len) : NULL;

	if (!data)
		return -ENOMEM;
	int r = vl_send_all(fd, data, len, NULL, 0);
	if (r < 0)
		return r;
	return test_read_reply(fd, reply, fds, n_fds);
}

const char *test_reply_error(json_object *reply)
{
	return reply ? vl_message_error(reply) : NULL;
}

int test_send_fd(int sock, int fd)
{
	char c = 0;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 }; /* the padding after the fd goes out too */
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

int test_recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	int fd = -1;
	if (recvmsg(sock, &m, 0) != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}
