/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd: arguments, listening sockets, privileges, the event loop and an orderly exit. */

#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "log.h"
#include "options.h"
#include "privilege.h"
#include "reload.h"
#include "server.h"
#include "supervisor.h"

static void strv_freep(char ***p)
{
	if (!*p)
		return;
	for (char **s = *p; *s; s++)
		free(*s);
	free(*p);
}

/* Sockets passed by systemd: 0 when none, the number taken, or -errno. */
static int take_activated(struct server *s)
{
	_cleanup_(strv_freep) char **names = NULL;
	int n = sd_listen_fds_with_names(true, &names);
	int taken = 0, others = 0;

	if (n < 0)
		return log_errno(LOG_ERR, n, "sd_listen_fds_with_names");
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names && names[i] ? names[i] : "unknown";
		/* Region memfds and the state, from the fd store (state.h). */
		if (sd_is_socket(fd, AF_UNSPEC, 0, -1) <= 0 && state_take_fd(&s->state, fd, name))
			continue;
		others++;
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_warning(
				"ignoring passed fd %d (%s): not a listening Unix stream socket",
				fd, name);
			safe_close(fd);
			continue;
		}
		/* server_add_listener() makes it nonblocking: systemd passes it blocking. */
		int r = server_add_listener(s, fd);
		if (r < 0)
			return log_errno(LOG_ERR, r, "cannot serve passed socket %s", name);
		log_debug("serving on socket-activated fd %d (%s)", fd, name);
		taken++;
	}
	/* Passed sockets mean "serve these": never fall back to binding --socket instead. */
	if (others > 0 && taken == 0) {
		log_err("no socket-activated fd (%d passed) is a listening Unix stream socket "
			"(check ListenStream= in the socket unit)",
			others);
		return -ENOTSOCK;
	}
	return taken;
}

/* Refuse to steal the path from a daemon that still answers on it. */
static int remove_stale_socket(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;

	_cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return negative_errno();
	if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return -EADDRINUSE;
	return unlink(path) < 0 ? negative_errno() : 0;
}

static int make_parent(const char *path, bool *created)
{
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	const char *dir = dirname(copy);
	if (mkdir(dir, 0755) == 0)
		*created = true;
	else if (errno != EEXIST)
		return log_errno(LOG_ERR, errno, "cannot create %s", dir);
	return 0;
}

/* Bind --socket ourselves. Access is checked per request, so the socket is 0666. fd or -errno. */
static int bind_path(const char *path, bool *created_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r;

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if ((r = make_parent(path, created_dir)) < 0)
		return r;
	if ((r = remove_stale_socket(path, &sa)) < 0)
		return log_errno(LOG_ERR, r, "cannot use %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_errno(LOG_ERR, errno, "cannot bind %s", path);
	if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = log_errno(LOG_ERR, errno, "cannot listen on %s", path);
		unlink(path);
		return r;
	}
	return TAKE_FD(fd);
}

static int listen_path(struct server *s, const char *path, bool *created_dir)
{
	int fd = bind_path(path, created_dir);
	if (fd < 0)
		return fd;
	int r = server_add_listener(s, fd);
	if (r < 0)
		unlink(path);
	return r;
}

static void remove_socket(const char *path, bool created_dir)
{
	unlink(path);
	if (created_dir) {
		_cleanup_free_ char *copy = strdup(path);
		if (copy)
			rmdir(dirname(copy));
	}
}

/* --supervise, standalone: this process supervises; the serving daemon is its child. */
static int run_supervisor(const struct config *config, char **argv)
{
	bool created_dir = false;
	int fd = bind_path(config->socket_path, &created_dir);
	if (fd < 0)
		return EXIT_FAILURE;
	int status = supervisor_run(config, argv, fd);
	remove_socket(config->socket_path, created_dir);
	return status;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info("received %s, exiting", strsignal((int)si->ssi_signo));
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int setup_signals(sd_event *e)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP); /* reload, handled by reload.c */
	/* A shell starts background jobs with SIGINT ignored; we still want it to stop us. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return negative_errno();
	int r = sd_event_add_signal(e, NULL, SIGTERM, on_signal, NULL);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGINT, on_signal, NULL);
	return r;
}

/*
 * A restored region may have read-write holders from before the restart, who can resize it
 * behind our back: watch its size as quota_writable() does for a fresh read-write handout.
 */
static void watch_restored(struct region *r, void *userdata)
{
	quota_writable(userdata, r);
}

static int run(const struct config *config, struct shmd_conf *conf)
{
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	struct server server;
	bool own_socket = false, created_dir = false;
	int r;

	/* Not sd_event_default(): that one calls gettid() on every iteration. */
	if ((r = sd_event_new(&event)) < 0 || (r = setup_signals(event)) < 0)
		return log_errno(LOG_ERR, r, "cannot set up the event loop");
	/* WatchdogSec= (WATCHDOG_USEC): the loop itself sends WATCHDOG=1 at half the interval,
	 * so a daemon stuck in a request stops pinging and is restarted. */
	if ((r = sd_event_set_watchdog(event, true)) < 0)
		return log_errno(LOG_ERR, r, "cannot set up the watchdog");
	server_init(&server, event, config);
	quota_set_conf(&server.quota, conf);
	if ((r = reload_setup_signal(&server)) < 0)
		log_errno(LOG_WARNING, r, "cannot handle SIGHUP");

	r = take_activated(&server);
	if (r >= 0) {
		int taken = r;
		r = state_restore(&server);
		if (r >= 0)
			holdtrack_start(&server);
		if (r >= 0)
			r = taken;
	}
	/* Charges are derived from the regions, restored ones included. */
	quota_rebuild(&server.quota, &server.registry);
	registry_foreach(&server.registry, watch_restored, &server.quota);
	/* The spill file, before privileges go (its directory may be root's). */
	if (r >= 0)
		spillpol_init(&server);
	if (r == 0) {
		r = listen_path(&server, config->socket_path, &created_dir);
		own_socket = r >= 0;
	}
	if (r >= 0)
		r = privileges_drop();
	if (r >= 0) {
		sd_notifyf(false, "READY=1\nSTATUS=Serving %s, up to %llu regions",
			   own_socket ? config->socket_path : "socket-activated listeners",
			   (unsigned long long)server.limits.max_regions);
		log_info("ready: %s, up to %llu regions, %u connections",
			 own_socket ? config->socket_path : "socket-activated",
			 (unsigned long long)server.limits.max_regions,
			 server.limits.max_connections);
		r = sd_event_loop(event);
		if (r < 0)
			log_errno(LOG_ERR, r, "event loop failed");
		sd_notify(false, "STOPPING=1");
	}

	server_done(&server);
	if (own_socket)
		remove_socket(config->socket_path, created_dir);
	return r;
}

/*
 * The settings: defaults, then the [Daemon] keys of the configuration files, then the
 * command line over them. The command line is read twice: first for --config (and to
 * refuse bad usage before any file is read). -1 to run, else the exit status.
 */
static int load_settings(struct config *config, struct shmd_conf *conf, int argc, char **argv)
{
	struct conf_error err;
	char reason[CONF_REASON_MAX];
	int r;

	config_init(config);
	r = config_parse_args(config, argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	const char *path = config->config_path ? config->config_path : SHMD_CONFIG_FILE;
	if (conf_load(conf, path, config->config_path != NULL, &err) < 0) {
		fprintf(stderr, "shmd: %s:%u: %s\n", err.file, err.line, err.reason);
		return EXIT_FAILURE;
	}
	config_init(config);
	for (size_t i = 0; i < conf->n_options; i++)
		if (config_set_key(config, conf->options[i].key, conf->options[i].value, reason,
				   sizeof(reason)) < 0) {
			fprintf(stderr, "shmd: %s:%u: %s\n", conf->options[i].file,
				conf->options[i].line, reason);
			return EXIT_FAILURE;
		}
	return config_parse_args(config, argc, argv) == 0 ? -1 : 2;
}

int main(int argc, char **argv)
{
	struct config config;
	struct shmd_conf conf;

	conf_init(&conf);
	int r = load_settings(&config, &conf, argc, argv);
	if (r < 0) {
		log_setup(config.log_target, config.log_level);
		if (config.supervise && !supervisor_is_worker() && !getenv("LISTEN_FDS"))
			r = run_supervisor(&config, argv);
		else
			r = run(&config, &conf) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	conf_done(&conf);
	return r;
}
