/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bare baseline server's wire protocol and its client side, shared by server and benchmarks. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * A request is one NUL-terminated line "<op> <size> <name>": the same shape as a
 * Varlink call (NUL-terminated text on an AF_UNIX stream socket) without JSON.
 * The reply is "ok" or "error <errno>", NUL-terminated, with at most one fd
 * attached by SCM_RIGHTS. The server keeps no registry: the name is not looked at.
 */
enum bare_op {
	BARE_CREATE = 'C',    /* memfd_create + ftruncate(size), reply with it, close our copy */
	BARE_OPEN_RW = 'W',   /* re-open /proc/self/fd/N O_RDWR: a new open file description */
	BARE_OPEN_RO = 'R',   /* the same, O_RDONLY */
	BARE_OPEN_SEND = 'S', /* send the held memfd itself: fd passing only, shared description */
	/*
	 * BARE_OPEN_RW with holder tracking's kernel work, as shmd does it (strace of the
	 * daemon): a second held memfd, watched by inotify (IN_OPEN, IN_CLOSE); the IN_OPEN
	 * of each handout is read at once, and the holder's close wakes the loop, which
	 * reads its IN_CLOSE. Open writes no audit line in shmd (it changes nothing).
	 */
	BARE_OPEN_HOLD = 'O',
	BARE_OPEN_HOLD_RO = 'o', /* the same, O_RDONLY */
	/*
	 * Open among many: BARE_OPEN_HOLD's work on memfd number <size> of the set that
	 * BARE_PREPARE_MANY made, so the kernel's per-inode cache misses are in the floor
	 * (shmd's registry lookup of the name is not: that is shmd's own work).
	 */
	BARE_OPEN_MANY_HOLD = 'M',
	BARE_PREPARE_MANY = 'P', /* make <size> watched 4 KiB memfds for BARE_OPEN_MANY_HOLD */
	/*
	 * Create with the kernel work shmd's design requires, no more: also fchmod() the
	 * inode, and after the reply re-open a description of the server's own through
	 * /proc/self/fd (shmd never hands out its own), kept until the connection's Delete.
	 */
	BARE_CREATE_KEEP = 'K',
	/*
	 * BARE_CREATE_KEEP's work plus holder tracking's and the audit line's, as shmd does
	 * them (strace of the daemon): fstat() and inotify_add_watch("/proc/self/fd/N") of the
	 * memfd kept as the server's own; the creator gets a fresh description (openat below
	 * /proc/self/fd), whose IN_OPEN is read at once; after the reply, close it and write()
	 * an audit line to stderr. Its Delete also writes one, after inotify_rm_watch() and
	 * close(); the client's close's event wakes the loop, which reads it.
	 */
	BARE_CREATE_HOLD = 'H',
	BARE_DELETE = 'D', /* a round trip; closes the latest BARE_CREATE_KEEP/HOLD kept, if any */
};

#define BARE_MAX_REQUEST 512

/* Connect to a bare server (or any AF_UNIX stream socket). fd or -errno. */
int bare_connect(const char *path);
/* One request; *ret_fd gets the attached fd (or -1) when ret_fd is not NULL. 0 or -errno. */
int bare_call(int fd, enum bare_op op, uint64_t size, const char *name, int *ret_fd);

/* Fork and exec the bare server on socket path; wait until it accepts. pid or -errno. */
pid_t bare_server_start(const char *bin, const char *path);
/* SIGTERM and wait. */
void bare_server_stop(pid_t pid);
