/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exact holder counts: every handout is a fresh open file description of a region's memfd,
 * and one inotify instance watches each memfd inode for IN_OPEN and IN_CLOSE_*. The kernel
 * reports IN_OPEN for each new description and IN_CLOSE_* only when the description's last
 * reference (fds in any process, and mappings) is gone, so opens - closes is the number of
 * descriptions held outside the daemon (the daemon's own was opened before the watch).
 *
 * inotify merges an event with the last one queued when both are equal (same watch, same
 * mask) and the last is still unread: so every handout's IN_OPEN is read right after the
 * open (holdtrack_sync()), before another handout can queue an equal one. Events the daemon
 * does not cause can still merge: two holders' closes of the same kind read together leave
 * the count too high (held: the safe side) until a recount; an open a holder makes itself
 * (re-opening /proc/PID/fd/N) merged with a handout's leaves it too low, which a later
 * "more closes than opens" turns into unknown. So a count of 0 is a hint: whatever acts on
 * it irrevocably (the spill file) confirms it with holdtrack_recount()'s /proc scan first.
 *
 * When the count cannot be known (not watchable: fs.inotify.max_user_watches; events lost:
 * IN_Q_OVERFLOW; regions rebuilt after a restart) the region counts as held until a recount
 * (a /proc scan, holdtrack_recount()) proves there is no holder. Owns the inotify fd and the
 * regions that were deleted while held (they live on, listed with List "deleted": true,
 * until their last holder goes); calls region.h and the registry.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "hashindex.h"
#include "text.h"

struct region;
struct server;

struct holdtrack {
	int fd; /* inotify, nonblocking; -1: tracking off (every region counts as held) */
	sd_event_source *source;
	sd_event_source *recount; /* a recount soon: a region of unknown count lost a holder */
	struct server *server;
	struct hashindex by_wd; /* struct region *, by watch descriptor */
	void *deleted;		/* tsearch tree of deleted, still held struct region *, by id */
	size_t n_deleted;	/* regions in deleted */
	uint64_t deleted_size;
	void *anonymous;    /* tsearch tree of anonymous regions (anon.h), by id */
	size_t n_anonymous; /* regions in anonymous */
	uint64_t frees;	    /* bumped when a deleted or anonymous region is freed (List) */
	size_t n_unwatched; /* live regions without a watch */
	bool warned_limit;  /* the watch limit was logged */
	uint64_t overflows; /* IN_Q_OVERFLOW seen */
	uint64_t recounts;  /* /proc scans done */
};

/* Make the inotify instance and its event source. 0 or -errno (tracking then stays off). */
int holdtrack_init(struct holdtrack *h, sd_event *event);
/* Frees the deleted and anonymous regions still held (closing the daemon's memfds) and the inotify fd. */
void holdtrack_done(struct holdtrack *h);

/*
 * Watch a new region (before any handout). A region that cannot be watched counts as
 * held forever (never spilled), logged once, counted in Status. Never fails the caller.
 */
void holdtrack_watch(struct server *s, struct region *r);
/* After state_restore(): watch every region and recount (their holders are unknown). */
void holdtrack_start(struct server *s);

/*
 * A region leaves the registry (Delete, rename over it): freed and uncharged (quota.h) now
 * when nobody holds it, else kept, and still charged, in the deleted set until its last
 * holder goes.
 */
void holdtrack_release(struct server *s, struct region *r);
/*
 * An anonymous region (anon.h), its descriptor handed out: kept, charged, until its last
 * holder goes (freed at once if that already happened). An unwatched one is freed at once.
 */
void holdtrack_keep_anonymous(struct server *s, struct region *r);
/* A Create that failed before its region was registered or charged: unwatch and free it. */
void holdtrack_discard(struct server *s, struct region *r);
/* After quota_rebuild() (a reload): charge the deleted and anonymous regions again. */
void holdtrack_recharge(struct server *s);

/* Read the queued events now (one read() when there are none): counts are current. */
void holdtrack_sync(struct server *s);

/* Outstanding descriptions outside the daemon, or -1 when not known (counts as held). */
int64_t holdtrack_count(const struct region *r);
/* No holder at all, known exactly: the only state in which a region may be spilled. */
bool holdtrack_none(const struct region *r);
/*
 * Scan /proc for fds and mappings of the regions whose count is unknown; a region none of
 * whose inodes is found outside the daemon gets the exact count 0. Returns how many regions
 * became known.
 */
size_t holdtrack_recount(struct server *s);

/* The deleted, still held regions whose name starts with prefix, in id order (caller frees). */
int holdtrack_collect_deleted(struct holdtrack *h, const char *prefix, struct region ***ret,
			      size_t *n);
int holdtrack_collect_anonymous(struct holdtrack *h, const char *prefix, struct region ***ret,
				size_t *n);
/* A deleted (anonymous false) or anonymous region by id, or NULL (freed since). */
struct region *holdtrack_find_kept(struct holdtrack *h, bool anonymous, uint64_t id);
/*
 * The Region members "holders", "lastOpenUSec", "lastCloseUSec", "deleted", "anonymous"
 * (leading comma).
 */
void holdtrack_text_region(struct text *t, const struct region *r);

/*
 * Status members: deletedRegions, deletedSize, anonymousRegions, anonymousSize,
 * unwatchedRegions, holderOverflows.
 */
struct json_object;
void holdtrack_status(struct server *s, struct json_object *p);
