/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The standalone supervisor: holds the socket and the stored fds, restarts the worker. */

#include <fcntl.h>
#include <sched.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "supervisor.h"

/* Restarts allowed in RESTART_WINDOW_USEC before the supervisor gives up (a crash loop). */
#define RESTART_BURST 5
#define RESTART_WINDOW_USEC (10 * 1000000ull)
#define NAME_MAX_LEN 64

static uint64_t now_monotonic_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Each stored fd wakes us: as SCHED_IDLE we never preempt the worker that is serving a
 * Create to store it (we run when it sleeps; it blocks if our queue fills). A restart is
 * urgent: then we take the normal policy back if we may (root may; others need
 * RLIMIT_NICE). The worker is always reset to the normal policy at fork.
 */
static void set_idle(bool idle)
{
	struct sched_param sp = { 0 };
	int policy = (idle ? SCHED_IDLE : SCHED_OTHER) | SCHED_RESET_ON_FORK;

	if (sched_setscheduler(0, policy, &sp) < 0)
		log_debug("supervisor: cannot switch to %s: %m",
			  idle ? "SCHED_IDLE" : "SCHED_OTHER");
}

struct stored {
	char name[NAME_MAX_LEN];
	int fd;
};

struct supervisor {
	sd_event *event;
	char **argv;
	int listen_fd;
	int channel;	    /* our end of the socketpair */
	int worker_channel; /* the worker's end, passed on at every start */
	int exe;	    /* our own executable, opened at start: each worker runs it */
	void *by_name;	    /* tsearch tree of struct stored * */
	size_t n_stored;
	pid_t worker;
	sd_event_source *child;
	bool stopping;
	int exit_status;
	uint64_t restarts[RESTART_BURST];
	unsigned n_restarts;
};

bool supervisor_is_worker(void)
{
	return getenv("SHMD_SUPERVISOR_FD") != NULL;
}

static int compare_stored(const void *a, const void *b)
{
	return strcmp(((const struct stored *)a)->name, ((const struct stored *)b)->name);
}

static void store(struct supervisor *sv, const char *name, int fd)
{
	struct stored *s = calloc(1, sizeof(*s));
	struct stored **found = NULL;

	if (s && strlen(name) < NAME_MAX_LEN) {
		strcpy(s->name, name);
		s->fd = fd;
		found = tsearch(s, &sv->by_name, compare_stored);
	}
	if (!found) {
		log_err("supervisor: cannot keep stored fd '%s'", name);
		free(s);
		safe_close(fd);
		return;
	}
	if (*found != s) {
		/* The same name again: the newer fd replaces the older. */
		safe_close((*found)->fd);
		(*found)->fd = fd;
		free(s);
		return;
	}
	sv->n_stored++;
}

static void unstore(struct supervisor *sv, const char *name)
{
	struct stored key = { .fd = -1 };
	struct stored **found;

	if (strlen(name) >= NAME_MAX_LEN)
		return;
	strcpy(key.name, name);
	found = tfind(&key, &sv->by_name, compare_stored);
	if (!found)
		return;
	struct stored *s = *found;
	tdelete(s, &sv->by_name, compare_stored);
	safe_close(s->fd);
	free(s);
	sv->n_stored--;
}

/* One notify message: FDSTORE=1 + FDNAME= with fds, or FDSTOREREMOVE=1 + FDNAME=. */
static void handle_message(struct supervisor *sv, char *msg, int *fds, size_t n_fds)
{
	bool add = false, remove = false;
	const char *name = NULL;

	for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n")) {
		if (strcmp(line, "FDSTORE=1") == 0)
			add = true;
		else if (strcmp(line, "FDSTOREREMOVE=1") == 0)
			remove = true;
		else if (strncmp(line, "FDNAME=", 7) == 0)
			name = line + 7;
	}
	if (add && name && n_fds == 1) {
		store(sv, name, fds[0]);
		return;
	}
	if (remove && name)
		unstore(sv, name);
	for (size_t i = 0; i < n_fds; i++)
		safe_close(fds[i]);
}

/* Read every queued message (before a restart too: the dead worker's last ones count). */
static void drain(struct supervisor *sv)
{
	for (;;) {
		char buf[512];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * 8)];
		} control;
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control) };
		ssize_t n = recvmsg(sv->channel, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		int fds[8];
		size_t n_fds = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				memcpy(fds + n_fds, CMSG_DATA(c), MIN(k, 8 - n_fds) * sizeof(int));
				n_fds += MIN(k, 8 - n_fds);
			}
		if (mh.msg_flags & MSG_CTRUNC)
			log_err("supervisor: a stored fd was lost: no room in the fd table "
				"(raise RLIMIT_NOFILE)");
		buf[n] = '\0';
		handle_message(sv, buf, fds, n_fds);
	}
}

static int on_channel(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	drain(userdata);
	return 0;
}

struct handover {
	int fd;
	const char *name;
};

struct spawn_list {
	struct handover *e;
	size_t n;
};

static void collect(const void *node, VISIT which, void *userdata)
{
	struct spawn_list *l = userdata;
	const struct stored *s = *(const struct stored *const *)node;

	if (which == postorder || which == leaf)
		l->e[l->n++] = (struct handover){ s->fd, s->name };
}

static int compare_fd(const void *a, const void *b)
{
	return ((const struct handover *)a)->fd - ((const struct handover *)b)->fd;
}

/*
 * In the child: e[0..n-1], sorted ascending by fd and all >= 3, moved down to 3..3+n-1.
 * That never clobbers one not yet moved: e[j].fd >= 3+j > 3+i for every j > i. Every
 * other fd is closed but keep (-1: none), which must be above 3+n.
 */
static int arrange_fds(struct handover *e, size_t n, int keep)
{
	for (size_t i = 0; i < n; i++) {
		int target = 3 + (int)i;
		if (e[i].fd != target) {
			if (dup2(e[i].fd, target) < 0)
				return -errno;
			close(e[i].fd);
			e[i].fd = target;
		} else if (fcntl(target, F_SETFD, 0) < 0)
			return -errno;
	}
	if (keep < 0) {
		close_range(3 + (unsigned)n, ~0u, 0);
		return 0;
	}
	close_range(3 + (unsigned)n, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0u, 0);
	return 0;
}

/* Swap the fds (and entries) at positions a and b of the arranged run. */
static int swap_fds(struct handover *e, size_t a, size_t b, size_t n)
{
	int tmp = fcntl(3 + (int)b, F_DUPFD, 3 + (int)n);
	if (tmp < 0 || dup2(3 + (int)a, 3 + (int)b) < 0 || dup2(tmp, 3 + (int)a) < 0)
		return -errno;
	close(tmp);
	struct handover t = e[a];
	e[a] = e[b];
	e[b] = t;
	return 0;
}

static char *join_names(const struct handover *e, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): the nameless channel is at n */
		len += strlen(e[i].name) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? ":" : "", e[i].name);
	return s;
}

/* The child: fds at 3.. with the channel last, the environment systemd would set, exec. */
_Noreturn static void exec_worker(struct supervisor *sv, struct handover *e, size_t n)
{
	char buf[32];
	sigset_t none;
	size_t ch = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/*
	 * Above the run 3..3+n (n and the channel): F_DUPFD takes no fd that is open. With no
	 * room there (the fd limit), exec by path below, as before valgrind needed the fd.
	 */
	int exe = fcntl(sv->exe, F_DUPFD_CLOEXEC, 3 + (int)n + 2);
	e[n++] = (struct handover){ sv->worker_channel, NULL };
	qsort(e, n, sizeof(*e), compare_fd);
	if (arrange_fds(e, n, exe) < 0)
		_exit(126);
	while (e[ch].name)
		ch++;
	if (ch != n - 1 && swap_fds(e, ch, n - 1, n) < 0)
		_exit(126);
	n--;
	char *names = join_names(e, n);
	if (!names)
		_exit(126);
	snprintf(buf, sizeof(buf), "%zu", n);
	setenv("LISTEN_FDS", buf, 1);
	setenv("LISTEN_FDNAMES", names, 1);
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	setenv("LISTEN_PID", buf, 1);
	snprintf(buf, sizeof(buf), "%zu", 3 + n);
	setenv("SHMD_SUPERVISOR_FD", buf, 1);
	if (exe >= 0)
		fexecve(exe, sv->argv, environ);
	else
		execv("/proc/self/exe", sv->argv);
	fprintf(stderr, "shmd: supervisor: cannot exec the worker: %m\n");
	_exit(127);
}

static int on_worker_exit(sd_event_source *src, const siginfo_t *si, void *userdata);

static int start_worker(struct supervisor *sv)
{
	struct spawn_list l = { .e = calloc(sv->n_stored + 2, sizeof(struct handover)) };

	if (!l.e)
		return -ENOMEM;
	l.e[l.n++] = (struct handover){ sv->listen_fd, "listen" };
	twalk_r(sv->by_name, collect, &l);
	pid_t pid = fork();
	if (pid < 0) {
		free(l.e);
		return log_errno(LOG_ERR, errno, "supervisor: fork");
	}
	if (pid == 0)
		exec_worker(sv, l.e, l.n);
	free(l.e);
	sv->worker = pid;
	/* Test hooks (SHMD_FAULT) apply to the first worker only, not to its restarts. */
	unsetenv("SHMD_FAULT");
	sv->child = sd_event_source_disable_unref(sv->child);
	int r = sd_event_add_child(sv->event, &sv->child, pid, WEXITED, on_worker_exit, sv);
	if (r < 0)
		return log_errno(LOG_ERR, r, "supervisor: cannot watch the worker");
	log_debug("supervisor: worker pid %d started with %zu stored fds", pid, sv->n_stored);
	return 0;
}

/* A crash loop (RESTART_BURST restarts within RESTART_WINDOW_USEC) is not restarted. */
static bool may_restart(struct supervisor *sv)
{
	uint64_t now = now_monotonic_usec();
	uint64_t oldest = sv->restarts[sv->n_restarts % RESTART_BURST];

	if (sv->n_restarts >= RESTART_BURST && now - oldest < RESTART_WINDOW_USEC)
		return false;
	sv->restarts[sv->n_restarts++ % RESTART_BURST] = now;
	return true;
}

static int on_worker_exit(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct supervisor *sv = userdata;
	bool clean = si->si_code == CLD_EXITED && si->si_status == 0;

	set_idle(false);
	drain(sv);
	sv->worker = 0;
	if (sv->stopping || clean) {
		sv->exit_status = si->si_code == CLD_EXITED ? si->si_status : 1;
		return sd_event_exit(sv->event, 0);
	}
	if (si->si_code == CLD_EXITED)
		log_warning("supervisor: worker exited with status %d, restarting it",
			    si->si_status);
	else
		log_warning(
			"supervisor: worker killed by signal %s, restarting it with %zu stored fds",
			strsignal(si->si_status), sv->n_stored);
	if (!may_restart(sv)) {
		log_err("supervisor: worker failed %d times in %llu s, giving up", RESTART_BURST,
			(unsigned long long)(RESTART_WINDOW_USEC / 1000000));
		sv->exit_status = 1;
		return sd_event_exit(sv->event, 0);
	}
	if (start_worker(sv) < 0) {
		sv->exit_status = 1;
		return sd_event_exit(sv->event, 0);
	}
	set_idle(true);
	return 0;
}

static int on_stop(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct supervisor *sv = userdata;

	log_info("supervisor: received %s, stopping the worker", strsignal((int)si->ssi_signo));
	sv->stopping = true;
	if (sv->worker > 0)
		kill(sv->worker, SIGTERM);
	else
		sd_event_exit(sv->event, 0);
	return 0;
}

static void free_stored(void *p)
{
	struct stored *s = p;
	safe_close(s->fd);
	free(s);
}

/* Stored fds must land at 3 and above: fill 0..2 if the caller left them closed. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return;
}

/* Hold as many fds as the worker may store (it raises its own limit the same way). */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int setup(struct supervisor *sv)
{
	sigset_t mask;
	int pair[2], r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) < 0)
		return negative_errno();
	sv->channel = pair[0];
	sv->worker_channel = pair[1];
	/*
	 * The worker runs this very file, even once a package upgrade has replaced it (the
	 * fd keeps the old inode), and under valgrind, which gives its client's executable
	 * for an open of /proc/self/exe, where an exec of that path would run valgrind's tool.
	 */
	sv->exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (sv->exe < 0)
		return negative_errno();
	if ((r = sd_event_new(&sv->event)) < 0 ||
	    (r = sd_event_add_io(sv->event, NULL, sv->channel, EPOLLIN, on_channel, sv)) < 0 ||
	    (r = sd_event_add_signal(sv->event, NULL, SIGTERM, on_stop, sv)) < 0 ||
	    (r = sd_event_add_signal(sv->event, NULL, SIGINT, on_stop, sv)) < 0)
		return r;
	return 0;
}

int supervisor_run(const struct config *config, char **argv, int listen_fd)
{
	struct supervisor sv = { .argv = argv,
				 .listen_fd = listen_fd,
				 .channel = -1,
				 .worker_channel = -1,
				 .exe = -1,
				 .exit_status = 1 };

	ensure_stdio();
	raise_nofile();
	set_idle(true);
	int r = setup(&sv);
	if (r < 0)
		log_errno(LOG_ERR, r, "supervisor: cannot set up");
	else if (start_worker(&sv) >= 0) {
		log_info("supervisor: serving %s through worker pid %d", config->socket_path,
			 sv.worker);
		r = sd_event_loop(sv.event);
		if (r < 0)
			log_errno(LOG_ERR, r, "supervisor: event loop failed");
	}
	if (sv.worker > 0) {
		kill(sv.worker, SIGTERM);
		waitpid(sv.worker, NULL, 0);
	}
	sv.child = sd_event_source_disable_unref(sv.child);
	tdestroy(sv.by_name, free_stored);
	safe_close(sv.channel);
	safe_close(sv.worker_channel);
	safe_close(sv.exe);
	safe_close(sv.listen_fd);
	sd_event_unref(sv.event);
	return sv.exit_status;
}
