/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The persistent state: every region's memfd in the fd store (fdstore.h) and the
 * registry's metadata in a state memfd stored beside them, so that a restarted daemon
 * (systemd restart, crash with Restart=on-failure, the standalone supervisor's restart)
 * rebuilds the registry exactly. Owns the state memfd and the fd store connection;
 * calls the registry, region, state-record and fdstore code.
 *
 * The state memfd is a journal: a snapshot (header, NEXT_ID, one REGION record per region)
 * followed by appended REGION/DELETE records, each with its own CRC, so a crash in the
 * middle of an append leaves a torn tail that the loader ignores. When the journal has
 * grown past twice its last snapshot, a new snapshot is written to a new memfd, stored
 * under the other of two names ("state-a", "state-b") and only then is the old one removed:
 * at every instant the store holds at least one complete state (the loader prefers the
 * higher generation when it finds both).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdstore.h"

struct region;
struct server;

struct stored_fd {
	uint64_t id;
	int fd;
};

struct state {
	struct fdstore store;
	int fd;		     /* the state memfd appended to; -1: persistence off */
	unsigned slot;	     /* which name it is stored under: 0 "state-a", 1 "state-b" */
	uint64_t generation; /* of the current snapshot */
	uint64_t size;	     /* bytes written to fd */
	uint64_t compact_at; /* compact when size passes this */
	bool broken;	     /* an append failed: compact at the next change */
	uint64_t init_usec;  /* when state_init() ran: the restore's log line says how long */
	/* Handed over at start, consumed by state_restore(). */
	int old_fd[2];
	struct stored_fd *stored;
	size_t n_stored, cap_stored;
};

/* Connect to the fd store if there is one (systemd or the supervisor). 0 or -errno. */
int state_init(struct state *st);
void state_done(struct state *st);
static inline bool state_enabled(const struct state *st)
{
	return fdstore_enabled(&st->store);
}

/* At start, for each passed fd: true if it is a stored region or state (taken). */
bool state_take_fd(struct state *st, int fd, const char *name);
/*
 * Rebuild s->registry from the fds taken and the newest stored state, and go on appending
 * to that state (with a DELETE for each region dropped for want of its fd). 0, or -errno
 * when the state cannot be read safely (already logged: the daemon must not start and
 * overwrite it).
 */
int state_restore(struct server *s);

/*
 * Record a change, ONE call per handler after the change is made and before its reply:
 * added (Create: the memfd goes to the store too; -ENOSPC when the store cannot take
 * more names, -errno on failure: then nothing is recorded), changed (rename, resize,
 * seal, access; r keeps its id), removed (Delete, rename over a region).
 */
int state_region_added(struct server *s, struct region *r);
void state_region_changed(struct server *s, struct region *r);
/*
 * The same, for a caller that must know the change is recorded before it goes on (the
 * spill engine punches a memfd only after its index is): 0 (also when persistence is
 * off) or -errno.
 */
int state_region_record(struct server *s, struct region *r);
void state_region_removed(struct server *s, struct region *r);

/* Between state.c and state-load.c: write a snapshot (see above); close what start handed over. */
int state_snapshot(struct server *s);
void state_drop_stored(struct state *st);
