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
#include <sys/types.h>

/* At most this many holders are listed (a reply of ~200 bytes each); scanned counts all. */
#define HOLDERS_MAX 1024
/*
 * A scan runs on the event loop and stops after this long (complete false): ~80 us per
 * process here, so 0.5 s covers some 6,000 processes on an idle machine, 2,000 on a busy one.
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

/* Scan /proc for holders of the memfd fd, leaving out the calling process. 0 or -errno. */
int holders_scan(int fd, struct holders *ret);
void holders_done(struct holders *h);
