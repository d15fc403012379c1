/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the daemon integration tests: calls, reply lookups, raw sends, other uids. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "testlib.h"

#define IFACE "io.shmd.Manager."
#define NOBODY_UID 65534
#define NOBODY_GID 65534
/* Returned by jint() when the value is absent or not an integer. */
#define JINT_NONE INT64_MIN

/* Start a private daemon with extra arguments (NULL-terminated, may be NULL) or bail out. */
void itest_start(struct test_daemon *d, const char *const *args);
/* Stop it and report whether it exited cleanly (one test point). */
void itest_stop(struct test_daemon *d);
/* A connection with a receive timeout, or bail out. */
int itest_connect(const struct test_daemon *d);
/* Poll Status on conn until it reports n connections (the caller included). */
bool wait_connections(int conn, int n);

/* Parameters from printf-style JSON text; bails out on malformed text. */
json_object *jparams(const char *fmt, ...) _printf_(1, 2);
/* A parameters object {"name": name} (or nameBase64 when name is not UTF-8). */
json_object *jname(const char *name);

/* One call (params taken, may be NULL). The reply (owned) or NULL on transport failure. */
json_object *call(int conn, const char *method, json_object *params);
/* Same, keeping the first received fd in *ret_fd (-1 if none); other fds are closed. */
json_object *call_fd(int conn, const char *method, json_object *params, int *ret_fd);

/* Dotted lookups in a reply: "parameters.region.size". */
json_object *jget(json_object *o, const char *path);
const char *jstr(json_object *o, const char *path);
int64_t jint(json_object *o, const char *path);
/* 1 true, 0 false, -1 absent or not a boolean. */
int jbool(json_object *o, const char *path);
/* Whether the JSON array at path (of strings) contains s. */
bool jarray_has(json_object *o, const char *path, const char *s);

/*
 * The seal array at path as "seal,shrink,grow,write,future_write" in that order, leaving
 * out "exec" (the kernel adds it by itself with MFD_NOEXEC_SEAL); "" for none, NULL if
 * absent. Unknown entries come last as "?name". Static storage, two buffers in turn.
 */
const char *jseals(json_object *o, const char *path);

/* Test points: the reply is the named error (short names get the io.shmd.Manager. prefix). */
bool is_error(json_object *reply, const char *error, const char *fmt, ...) _printf_(3, 4);
/* Test point: the reply is a success; a failure prints the error. */
bool is_success(json_object *reply, const char *fmt, ...) _printf_(2, 3);

/* Create a region (exclusive, no fd). True on success. */
bool create_region(int conn, const char *name, uint64_t size, int mode);
/* Open: a new fd, or -1 (the error name goes to *ret_error if given, static storage). */
int open_region(int conn, const char *name, const char *access, const char **ret_error);
/* Count regions with List (more), optionally under a prefix. -errno on failure. */
int list_count(int conn, const char *prefix);

/* The access mode of an fd (O_RDONLY, O_WRONLY, O_RDWR), or -1. */
int accmode(int fd);

/* Write raw bytes with fds attached. 0 or -errno. */
int send_raw(int conn, const void *data, size_t len, const int *fds, size_t n_fds);
/* Send one call with an explicit SCM_CREDENTIALS control message. 0 or -errno. */
int send_call_creds(int conn, const char *method, json_object *params, const struct ucred *cred);
/* Read and discard until EOF. 1 on EOF within timeout_ms, 0 on timeout, -errno. */
int wait_eof(int conn, int timeout_ms);

/*
 * Run fn in a child as uid/gid with no supplementary groups (and dumpable, so its
 * /proc/self stays its own). Other ids than the test's own need root: a test that is not
 * root skips such cases (TAP SKIP, "needs root: ...") and may only pass its own ids. fn builds a JSON object of results, handed back to the
 * parent, which makes the test points. NULL if the child failed.
 */
json_object *run_as(uid_t uid, gid_t gid, json_object *(*fn)(void *arg), void *arg);

/*
 * One round trip (Status): the daemon has finished every earlier request of conn, including
 * what it does after a reply is out (closing a handout, re-opening a creator's memfd), so
 * its fds can be counted. True on success.
 */
bool sync_daemon(int conn);
/* How many of pid's fds are the memfd of region name ("/memfd:shmd:NAME (deleted)"). */
int daemon_memfd_fds(pid_t pid, const char *name);
/* The file position and flags (from fdinfo) of pid's one memfd of region name. 0 or -errno. */
int daemon_region_fdinfo(pid_t pid, const char *name, long long *ret_pos, unsigned *ret_flags);
/* How many of pid's mappings are writable shared mappings of a shmd memfd. */
int daemon_writable_maps(pid_t pid);

/*
 * As uid/gid, make calls on one new connection to d: calls is "Method", "{json params}",
 * ... NULL (method names without the io.shmd.Manager. prefix). A JSON array of the replies
 * (null for a transport failure); received fds are closed. NULL if the child failed.
 */
json_object *calls_as(const struct test_daemon *d, uid_t uid, gid_t gid, const char *const *calls);
/* The error name of element i of such an array: "ok" for success, "none" for no reply. */
const char *reply_at(json_object *replies, size_t i);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t now_ms(void);
void sleep_ms(int ms);

/*
 * Holding a worker job (SHMD_FAULT_HOLD, daemon/worker.h), never timing: test builds only
 * (hold_possible()). hold_setup(point) before itest_start() sets the daemon's environment;
 * hold_wait() waits until a job is held; hold_release() lets it, and every later job, go;
 * hold_rearm() (no job running) makes the next one hold; hold_cleanup() at the end.
 */
bool hold_possible(void);
void hold_setup(const char *point);
bool hold_wait(void);
void hold_release(void);
void hold_rearm(void);
void hold_cleanup(void);
/* Nothing to read on conn at this moment. */
bool nothing_to_read(int conn);
/* A call sent without waiting for its reply; params is JSON text. */
void send_call(int conn, const char *method, const char *params);
/* The next reply on conn (NULL on error); its first fd to *ret_fd if not NULL, others closed. */
json_object *recv_reply(int conn, int *ret_fd);
