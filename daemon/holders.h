/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Holders of a region: the processes with an fd or a mapping of its memfd, found by scanning
 * /proc (fd links, fdinfo flags, maps and smaps). Owns only the scan's result; calls the
 * kernel and libsystemd (sd_pid_get_unit()). What the daemon can see depends on ptrace
 * access to each process (see shmd(8)).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* At most this many holders are listed (a reply of ~200 bytes each); scanned counts all. */
#define HOLDERS_MAX 1024
/*
 * A scan stops after this long (complete false): ~80 us per process here, so 0.5 s covers
 * some 6,000 processes on an idle machine, 2,000 on a busy one. The Holders method's scan
 * runs on the worker; holder tracking's recount (holdtrack.h) on the event loop.
 */
#define HOLDERS_SCAN_BUDGET_USEC 500000

struct holder {
	pid_t pid;
	uid_t uid;
	char command[16]; /* /proc/PID/comm: the kernel keeps 15 bytes */
	char *unit;	  /* systemd unit, or NULL */
	unsigned fds;
	bool writable;
	uint64_t mapped, rss, swap;
};

struct holders {
	struct holder *v;
	size_t n;
	unsigned scanned;    /* processes looked at */
	unsigned unreadable; /* processes whose fd directory or maps could not be read */
	bool truncated;	     /* more than HOLDERS_MAX held it */
	bool incomplete;     /* stopped at HOLDERS_SCAN_BUDGET_USEC */
	uint64_t usec;	     /* how long the scan took */
};

/*
 * The walkers behind the scan, shared with holder tracking's recount (holdtrack.h), which
 * looks for many inodes in one pass. holders_each_pid() calls fn for every process but the
 * caller with an fd of its /proc directory, and stops at fn's first non-zero return (which
 * it returns); 0 or -errno (no /proc).
 */
typedef int (*holders_pid_fn)(void *userdata, pid_t pid, int pid_dir);
int holders_each_pid(holders_pid_fn fn, void *userdata);
/* Each open fd of the process: its name in fd/ and what it leads to. 0, or -errno (unreadable). */
typedef void (*holders_fd_fn)(void *userdata, int pid_dir, const char *name, const struct stat *st);
int holders_each_fd(int pid_dir, holders_fd_fn fn, void *userdata);
/* Each file mapping of the process (a maps line with an inode); fn < 0 stops with -ENOMEM. */
struct holders_map {
	uint64_t start, end;
	char perms[5];
	dev_t dev;
	ino_t ino;
};
typedef int (*holders_map_fn)(void *userdata, const struct holders_map *m);
int holders_each_map(int pid_dir, holders_map_fn fn, void *userdata);

/*
 * Scan /proc for holders of the memfd whose inode is dev/ino, leaving out the calling
 * process. Touches no daemon state: the Holders method runs it on the worker. 0 or -errno.
 */
int holders_scan(dev_t dev, ino_t ino, struct holders *ret);
void holders_done(struct holders *h);
