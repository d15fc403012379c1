/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness over the daemon's whole request path: the input is written to one end of
 * a socketpair whose other end is a real connection of a real in-process server (framing, JSON
 * decoding, envelope and parameter validation, dispatch, every method, replies, fd passing),
 * run by the daemon's own event loop until the input is consumed. After each input every
 * connection is gone and no fd of the daemon's is left open: a leak aborts.
 *
 * Input: the first byte's value modulo 4 is the number of fds (eventfds) attached to the first
 * write ('0'..'3' in the corpus); the rest is the byte stream, written in one go.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "varlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct config config;

static bool serve(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	config_init(&config);
	config.max_connections = 4;
	/* The loop below runs timers by hand: none may be due while an input is served. */
	config.message_timeout_usec = 3600u * 1000000u;
	log_setup(LOG_TARGET_CONSOLE, getenv("FUZZ_DEBUG") ? LOG_DEBUG : LOG_CRIT);
	/* Libraries keep some fds open from their first use on: let them, before counting. */
	static const uint8_t warm_up[] = "0{\"method\":\"io.shmd.Manager.Status\"}";
	serve(warm_up, sizeof(warm_up));
	return 0;
}

/* How many fds this process has open (libFuzzer opens and closes its own between inputs). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Read and drop what the daemon sent (closing any fd it passed). False at EOF. */
static bool drain(int fd)
{
	char buf[65536];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VL_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	for (;;) {
		mh.msg_control = &control;
		mh.msg_controllen = sizeof(control);
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return n < 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				     i++) {
					int passed;
					memcpy(&passed, CMSG_DATA(c) + i * sizeof(int),
					       sizeof(int));
					close(passed);
				}
	}
}

static void send_input(int fd, const uint8_t *data, size_t size)
{
	int fds[3];
	size_t n_fds = size > 0 ? data[0] % 4 : 0;

	for (size_t i = 0; i < n_fds; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	if (size > 0)
		(void)vl_sendmsg(fd, (const char *)data + 1, size - 1, fds, n_fds, true);
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
}

/* Serve one input; false when it is too large to write at once. */
static bool serve(const uint8_t *data, size_t size)
{
	struct server server;
	sd_event *event = NULL;
	int sv[2], one = 1;

	if (size > 200000) /* more than the socket buffer takes in one write */
		return false;
	if (sd_event_new(&event) < 0 || server_init(&server, event, &config) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		abort();
	struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
	if (connection_new(&server, sv[0], &cred) < 0)
		abort();
	send_input(sv[1], data, size);
	shutdown(sv[1], SHUT_WR); /* EOF once the input is read: the connection ends by itself */

	/* Serve until the connection is gone, reading replies so that none is left queued. */
	for (int i = 0; i < 10000 && server.connections; i++) {
		drain(sv[1]);
		if (sd_event_run(event, 0) < 0)
			abort();
	}
	if (server.connections)
		abort(); /* a connection that outlives its client's EOF and every reply read */
	drain(sv[1]);
	close(sv[1]);
	server_done(&server);
	sd_event_unref(event);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds_before = count_fds();

	if (!serve(data, size))
		return -1;
	if (count_fds() != fds_before)
		abort(); /* an fd leaked */
	return 0;
}
