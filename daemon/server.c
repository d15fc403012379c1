/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The server: listening sockets, accepted connections and the state every method sees. */

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "connection.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "varlink.h"
#include "worker.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

/* How long the listeners rest when accept() runs out of fds, rather than spin on EMFILE. */
#define ACCEPT_PAUSE_USEC 100000
#define ACCEPT_BATCH 32

/* CONFIG_ANON_VMA_NAME: naming a private anonymous page works, or EINVAL says it is absent. */
static bool probe_anon_vma_name(void)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok;

	if (p == MAP_FAILED)
		return false;
	ok = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, len, "shmd-probe") == 0;
	munmap(p, len);
	return ok;
}

static int on_accept_resume(sd_event_source *src, uint64_t usec, void *userdata);

int server_init(struct server *s, sd_event *event, const struct config *config)
{
	*s = (struct server){ .event = sd_event_ref(event), .config = config, .conn_epoll = -1 };
	registry_init(&s->registry);
	quota_init(&s->quota);
	limits_setup(&s->limits, config);
	s->started_usec = now_usec();
	s->noexec_seal = region_probe_noexec_seal();
	s->anon_vma_name = probe_anon_vma_name();
	/*
	 * Made now, disabled: sd-event opens its CLOCK_MONOTONIC timerfd with the first such
	 * source, so the daemon's fd count does not change when a connection's timer is armed.
	 */
	int r = sd_event_add_time(event, &s->accept_pause, CLOCK_MONOTONIC, UINT64_MAX, 0,
				  on_accept_resume, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->accept_pause, SD_EVENT_OFF);
	if (r >= 0)
		r = connections_init(s);
	if (r >= 0)
		r = state_init(&s->state);
	if (r >= 0)
		r = worker_new(event, &s->worker);
	(void)holdtrack_init(&s->holdtrack, event); /* failure: counts off, logged */
	return r;
}

long server_admin_gid(const struct server *s)
{
	return s->config->have_admin_gid ? (long)s->config->admin_gid : -1;
}

/* Tell a refused client why, in one message, then hang up. */
static void reject(int fd, const char *limit, uint64_t max)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "limit", json_object_new_string(limit));
	json_object_object_add(p, "max", json_object_new_int64((int64_t)max));
	_cleanup_json_ json_object *msg = vl_error_new("io.shmd.Manager.LimitReached", p);
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (msg && (data = vl_serialize(msg, &len)))
		(void)vl_sendmsg(fd, data, len, NULL, 0, true);
	safe_close(fd);
}

static void set_listeners(struct server *s, int enabled)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		sd_event_source_set_enabled(s->listeners[i], enabled);
}

static int on_accept_resume(sd_event_source *src, uint64_t usec, void *userdata)
{
	set_listeners(userdata, SD_EVENT_ON);
	return 0;
}

static void pause_accepting(struct server *s)
{
	log_warning("out of file descriptors, not accepting connections for a moment");
	set_listeners(s, SD_EVENT_OFF);
	if (!s->accept_pause) {
		if (sd_event_add_time_relative(s->event, &s->accept_pause, CLOCK_MONOTONIC,
					       ACCEPT_PAUSE_USEC, 0, on_accept_resume, s) < 0)
			set_listeners(s, SD_EVENT_ON);
		return;
	}
	sd_event_source_set_time_relative(s->accept_pause, ACCEPT_PAUSE_USEC);
	sd_event_source_set_enabled(s->accept_pause, SD_EVENT_ONESHOT);
}

/* Accept one connection; false when there is none (or accepting must pause). */
static bool accept_one(struct server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *limit;
	uint64_t max;

	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		int err = errno;
		if (err == EMFILE || err == ENFILE)
			pause_accepting(s);
		else if (err != EAGAIN && err != EINTR && err != ECONNABORTED)
			log_errno(LOG_WARNING, err, "accept");
		return err == ECONNABORTED || err == EINTR;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		safe_close(cfd);
		return true;
	}
	limit = limits_check_connection(s, cred.uid, &max);
	if (limit && strcmp(limit, "connections") == 0) {
		struct connection *victim = limits_connection_to_evict(s, cred.uid);
		if (victim) {
			log_notice("all %u connections taken: closing the least recently used one "
				   "of uid %u (pid %d) for uid %u",
				   s->limits.max_connections, victim->peer.cred.uid,
				   victim->peer.cred.pid, cred.uid);
			connection_free(victim);
			limit = NULL;
		}
	}
	if (limit) {
		log_notice("refusing connection of uid %u pid %d: %s limit (%llu) reached",
			   cred.uid, cred.pid, limit, (unsigned long long)max);
		reject(cfd, limit, max);
		return true;
	}
	int r = connection_new(s, cfd, &cred);
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot set up connection of pid %d", cred.pid);
	return true;
}

/*
 * Take what the backlog holds (up to ACCEPT_BATCH) in one wakeup, so a burst of
 * connections costs one epoll_wait() and is counted by Status as soon as it is queued.
 */
static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	for (unsigned i = 0; i < ACCEPT_BATCH && accept_one(userdata, fd); i++)
		;
	return 0;
}

int server_add_listener(struct server *s, int fd)
{
	if (s->n_listeners == SERVER_MAX_LISTENERS) {
		safe_close(fd);
		return -E2BIG;
	}
	/*
	 * on_accept() takes connections until EAGAIN: a passed socket may be blocking.
	 * SO_PASSCRED here, once: accepted sockets inherit it (and on recent kernels so do
	 * connections not yet accepted), so every message carries SCM_CREDENTIALS.
	 */
	int flags = fcntl(fd, F_GETFL), one = 1;
	if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		int err = negative_errno();
		safe_close(fd);
		return err;
	}
	int r = sd_event_add_io(s->event, &s->listeners[s->n_listeners], fd, EPOLLIN, on_accept, s);
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	sd_event_source_set_io_fd_own(s->listeners[s->n_listeners], true);
	/*
	 * New connections are taken before pending requests are served, so Status counts
	 * every connection the kernel has completed (accept_one() is cheap and the number
	 * of connections is bounded by --max-connections; refused ones are closed at once).
	 */
	sd_event_source_set_priority(s->listeners[s->n_listeners], SD_EVENT_PRIORITY_IMPORTANT);
	s->n_listeners++;
	return 0;
}

void server_done(struct server *s)
{
	connections_done(s);
	/* After the connections (their pending calls are detached), before the registry. */
	s->worker = (worker_free(s->worker), NULL);
	/* After the worker: the spill engine's cancelled jobs have completed. */
	spillpol_done(s);
	for (size_t i = 0; i < s->n_listeners; i++)
		sd_event_source_disable_unref(s->listeners[i]);
	s->n_listeners = 0;
	s->accept_pause = sd_event_source_disable_unref(s->accept_pause);
	registry_done(&s->registry);
	holdtrack_done(&s->holdtrack);
	quota_done(&s->quota);
	state_done(&s->state);
	s->event = sd_event_unref(s->event);
}
