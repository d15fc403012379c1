/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One region: a sealable memfd the daemon keeps, with its plain-data metadata. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Who made a region. unit points into the intern pool (see intern.h). */
struct identity {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const char *unit;
};

/* Where the data is (spill.h has the transient states too); persisted. */
enum region_state {
	REGION_RESIDENT,
	REGION_SPILLED,
	REGION_DAMAGED,
};

/*
 * Everything here is plain data except fd, so the registry can be serialised for a
 * restart through the fd store: identity is the id and the name, never a pointer or fd.
 */
struct region {
	uint64_t id;
	char *name;
	int fd; /* O_RDWR memfd; never handed out, never mapped by the daemon */
	uint64_t size;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct identity creator;
	uint64_t created_usec;
	uint64_t changed_usec;
	unsigned applied_seals;	 /* seals the daemon added (F_SEAL_*) */
	unsigned seals;		 /* seals in force when last read from the kernel */
	unsigned foreign_logged; /* foreign seals already reported in the log */
	bool fixed;
	uint8_t state;
	bool nospill; /* never spilled (Create's nospill): shmd(8), SPILL */
	/* Quota bookkeeping (quota.c): the bytes charged, the slot in its watch list + 1. */
	uint64_t charged;
	size_t quota_watch;
	/* Named ranges (ranges.h): plain data, NULL when there are none. */
	struct ranges *ranges;
	/* Spill index (spill.h): plain data, NULL for a region never spilled. */
	struct spill_index *spill;
	/* Holder tracking (holdtrack.h); not persisted: a restarted daemon recounts. */
	int watch;	    /* inotify watch descriptor; 0: not watched */
	uint32_t holders;   /* descriptions outside the daemon, when holders_known */
	bool holders_known; /* false: counts as held until a recount */
	bool deleted;	    /* out of the registry, kept while held */
	uint64_t last_open_usec;
	uint64_t last_close_usec;
	dev_t dev; /* the memfd inode, for the /proc recount */
	ino_t ino;
};

struct region_params {
	const char *name;
	uint64_t size;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool fixed;
	unsigned seals;
	struct identity creator;
	bool nospill;
};

/*
 * Probe once at start: does memfd_create() take MFD_NOEXEC_SEAL? Also learns what a new
 * memfd looks like and opens /proc/self/fd for region_open().
 */
bool region_probe_noexec_seal(void);

/*
 * Make the memfd, size it, set its inode owner and mode, apply seals.
 * Returns 0 or -errno with *failed_op naming the step; nothing is left behind on failure.
 */
int region_new(const struct region_params *p, struct region **ret, const char **failed_op);
void region_free(struct region *r);

/* A fresh open file description of the memfd (re-open through /proc/self/fd). fd or -errno. */
int region_open(const struct region *r, bool writable);
/*
 * The same for the creator of a region not yet registered, who gets the access it asked
 * for whatever the mode: an unprivileged daemon (which cannot give the inode away) lets
 * itself in for the open when the mode shuts it out. fd or -errno.
 */
int region_open_creator(struct region *r, bool writable);

/* Seals in force, from the kernel (unless F_SEAL_SEAL made them final). */
unsigned region_seals(struct region *r);
/*
 * Current size from the kernel (a read-write holder may have resized it), unless the
 * seals last read forbid both growing and shrinking.
 */
uint64_t region_refresh_size(struct region *r);

/* -EPERM when sealed. */
int region_resize(struct region *r, uint64_t size);
/* -EBUSY (writable mapping, for F_SEAL_WRITE), -EPERM (sealed) or -EINVAL (unknown seal). */
int region_add_seals(struct region *r, unsigned seals);
int region_set_access(struct region *r, uid_t uid, gid_t gid, mode_t mode);

uint64_t now_usec(void);
