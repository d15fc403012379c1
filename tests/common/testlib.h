/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test support: TAP output, a private shmd per test, and raw Varlink calls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "macro.h"

void plan(int n);
void plan_no_plan(void);
/* Print the plan if none was given; the exit status: 0 when every test passed. */
int done_testing(void);
bool ok(bool cond, const char *fmt, ...) _printf_(2, 3);
bool is_int(long long got, long long want, const char *fmt, ...) _printf_(3, 4);
bool is_str(const char *got, const char *want, const char *fmt, ...) _printf_(3, 4);
void diag(const char *fmt, ...) _printf_(1, 2);
void skip(int n, const char *fmt, ...) _printf_(2, 3);
_Noreturn void bail_out(const char *fmt, ...) _printf_(1, 2);

/* Running under valgrind ($SHMD_TEST_WRAPPER set): scale work down. */
bool test_slow_mode(void);
/* This test process itself runs under valgrind (its preload library is in LD_PRELOAD). */
bool test_under_valgrind(void);

struct test_daemon {
	pid_t pid;
	char *dir;
	char *socket;
};

/*
 * mkdtemp under $TMPDIR, spawn $SHMD_BIN (under $SHMD_TEST_WRAPPER if set) as
 * "shmd --socket DIR/shmd.sock [extra_args...]" and wait until it accepts
 * connections. 0 or -errno.
 */
int test_daemon_start(struct test_daemon *d, const char *const *extra_args);
/* SIGTERM by pid, wait; returns the daemon's exit status (0 = clean, 128+sig if killed); removes DIR. */
int test_daemon_stop(struct test_daemon *d);

/* A new connection to the daemon, or -errno. */
int test_connect(const struct test_daemon *d);
/*
 * Send one call (params taken, may be NULL) and read one reply.
 * *reply is the parsed message; fds (room for VL_MAX_FDS) receive its fds.
 * 0, or -errno for transport failures (the reply may still be an error message).
 */
int test_call(int fd, const char *method, json_object *params, json_object **reply, int *fds,
	      size_t *n_fds);
/* Read one more message from fd (for streamed replies). Same returns as test_call. */
int test_read_reply(int fd, json_object **reply, int *fds, size_t *n_fds);
/* The error name of a reply, or NULL for a successful one. */
const char *test_reply_error(json_object *reply);
/*
 * The fds of PID a client could make it leak: sockets, memfds and anonymous inodes (pidfds,
 * eventfds...), or -errno. Regular files and pipes are left out: sanitizers and valgrind open
 * and close those inside the daemon at any time.
 */
int test_count_fds(pid_t pid);

/* One fd over a Unix socket (SCM_RIGHTS, one byte of data): 0 / -1; the fd received or -1. */
int test_send_fd(int sock, int fd);
int test_recv_fd(int sock);
