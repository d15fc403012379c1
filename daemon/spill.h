/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill engine: moves a whole region's data out of memory into the spill file and back,
 * fd to fd, checksummed, crash safe. Owns the spill file, its free-space allocator and the
 * counters Status shows; the per-region index (struct spill_index) is plain data hung off
 * struct region and persisted with the state (tags 20-29, daemon/state-record.c).
 * Policy (which region, when, who may ask) is the caller's: this file only does what it is
 * told, and refuses what would lose data.
 *
 * Order of a spill (spill_out), each step durable before the next:
 *   1. worker thread: copy the memfd's allocated, non-zero data into free extents of the
 *      spill file (O_DIRECT from an aligned bounce buffer), XXH3 of every extent, fdatasync;
 *   2. event loop: the region's index (extents + checksums) and state SPILLED recorded in
 *      the persistent state (the caller's record hook, state_region_changed());
 *   3. worker thread: FALLOC_FL_PUNCH_HOLE of the memfd (the memory is freed);
 *   4. event loop: done(0).
 * A crash anywhere before 2 leaves the region resident (the extents were never recorded, so
 * the restarted daemon sees them free); after 2, a complete spilled copy that restore finds.
 *
 * Order of a restore (spill_in): read every extent back (O_DIRECT), verify its XXH3, write
 * it into the memfd at its offset; then record state RESIDENT with no index; then free the
 * extents. A checksum mismatch or a short read: the memfd's partial data is punched again,
 * the region becomes SPILL state DAMAGED (recorded, extents kept for forensics) and done gets
 * -EBADMSG (the Varlink error io.shmd.Manager.RegionDamaged). Never zero-filled silently.
 *
 * Threading: spill_open/free/out/in/cancel/forget/claim/get_stats are called on the event loop
 * only; the I/O runs on the server's worker thread (daemon/worker.h); done is always called
 * later from the event loop, never from inside spill_out()/spill_in() (but from inside
 * spill_forget(), see there). Test builds: SHMD_FAULT=spill-copied|spill-recorded|
 * spill-punched|restore-copied|restore-recorded aborts between the steps, and
 * SHMD_FAULT_HOLD=spill-write:PATH (restore-read:PATH) holds a job after its first chunk.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct region;
struct spill;
struct worker;

/* The most one index record (one checksum) covers. */
#define SPILL_CHUNK (1u << 20)
/* The most one read or write of the copy moves (the bounce buffer's size). */
#define SPILL_IO (4u << 20)
/* Zero runs shorter than this inside data are written anyway (fewer, longer records). */
#define SPILL_ZERO_SKIP_MIN (16u * 1024)

/* What the region's data is doing. RESIDENT, SPILLED and DAMAGED persist (region->state). */
enum spill_state {
	SPILL_RESIDENT = 0, /* == REGION_RESIDENT: in memory */
	SPILL_SPILLED = 1,  /* in the spill file, the memfd punched */
	SPILL_DAMAGED = 2,  /* a restore found a bad checksum: Open must refuse (RegionDamaged) */
	SPILL_SPILLING = 3, /* transient, never persisted: a spill_out() is running */
	SPILL_RESTORING = 4 /* transient, never persisted: a spill_in() is running */
};

/* One record of the index: length bytes of the region at offset live at file_offset. */
struct spill_extent {
	uint64_t offset;      /* in the region (page aligned) */
	uint64_t file_offset; /* in the spill file (page aligned) */
	uint64_t length;      /* page multiple, <= SPILL_CHUNK */
	uint64_t xxh3;	      /* XXH3_64bits of the extent's bytes */
};

/* A region's spill index: plain data, persisted. r->spill is NULL for a region never spilled. */
struct spill_index {
	uint64_t size;		/* the region's size when spilled (restore checks it) */
	uint64_t spilled_bytes; /* sum of the extents' lengths */
	uint64_t spilled_usec;	/* last completed spill, 0 if none */
	uint64_t restored_usec; /* last completed restore, 0 if none */
	struct spill_extent *extents;
	size_t n_extents;
	/* Not persisted: the running job, if any, and what it does (SPILL_SPILLING/RESTORING). */
	struct spill_job *job;
	uint8_t busy;
};

/* Counters for Status. */
struct spill_stats {
	uint64_t file_size;	   /* bytes preallocated in the spill file */
	uint64_t max_size;	   /* the most it may grow to */
	uint64_t used;		   /* bytes in recorded extents */
	uint64_t free;		   /* file_size - used */
	uint64_t spills, restores; /* completed */
	uint64_t errors;	   /* failed spills and restores (the region kept its data) */
	uint64_t damaged;	   /* restores that found a bad checksum */
	int last_error;		   /* -errno of the last failure, 0 if none */
	char last_error_what[64];  /* the step that failed ("write", "fdatasync", ...) */
};

/*
 * Completion, on the event loop. error: 0; -ENOSPC (spill file full or filesystem full:
 * the region stays resident); -EIO or another -errno of the I/O (resident, or for a
 * restore still spilled); -ECANCELED (spill_cancel(), resident); -EBADMSG (restore found a
 * bad checksum: r is DAMAGED). The region must not be freed while a job runs: call
 * spill_forget() first (it cancels the job; done is then called with -ECANCELED).
 */
typedef void (*spill_done_fn)(struct spill *sp, struct region *r, int error, void *userdata);

/*
 * Persist r's index and state now (the caller's state_region_changed()): 0 or -errno.
 * Called on the event loop between the durable copy and the punch; if it fails, the
 * spill is abandoned and the region stays resident.
 */
typedef int (*spill_record_fn)(struct region *r, void *userdata);

/*
 * Open (create if missing, mode 0600) the spill file at path, which may grow to max_size
 * bytes (rounded down to SPILL_CHUNK; at least one chunk), preallocated with fallocate()
 * as it grows. The file must be on a filesystem with O_DIRECT (not tmpfs before 6.6).
 * Regions restored from the state claim their extents with spill_claim(). 0 or -errno.
 */
int spill_open(struct spill **ret, struct worker *worker, const char *path, uint64_t max_size,
	       spill_record_fn record, void *record_userdata);
/*
 * Close the file. Call after worker_free() (server_done() frees the worker first): the
 * completions of jobs still queued run then and need sp. Accepts NULL.
 */
struct spill *spill_free(struct spill *sp);

/*
 * After the state is restored, for each region with r->spill: mark its extents used.
 * -EBADMSG (overlapping or out of the file's bounds: r is marked DAMAGED), 0 otherwise.
 */
int spill_claim(struct spill *sp, struct region *r);

/*
 * Start spilling r (state RESIDENT, no holders: the caller's rule). 0: started, done will
 * be called; -EBUSY (a job runs), -EINVAL (not resident), -ENOMEM. An empty region (no
 * data) completes with no extents and is punched all the same.
 */
int spill_out(struct spill *sp, struct region *r, spill_done_fn done, void *userdata);
/* Start restoring r (state SPILLED). 0, -EBUSY, -EINVAL (not spilled), -ENOMEM. */
int spill_in(struct spill *sp, struct region *r, spill_done_fn done, void *userdata);

/*
 * Cancel a running spill_out() of r before its punch (the region stays resident, done gets
 * -ECANCELED); a restore cannot be cancelled (returns -EBUSY: wait for done). 0 if nothing
 * runs.
 */
int spill_cancel(struct spill *sp, struct region *r);
/*
 * The region is being freed (Delete): cancel its job (its done is called from in here with
 * -ECANCELED), free its extents and r->spill. Call it right before state_region_removed(),
 * in the same event-loop turn, so no other spill can reuse the extents before the region's
 * DELETE is recorded.
 */
void spill_forget(struct spill *sp, struct region *r);

/* What r's data is doing (SPILL_*), from r->state and the running job. */
enum spill_state spill_region_state(const struct region *r);
const char *spill_state_to_string(enum spill_state s);
/* Bytes of r in the spill file (0 when resident). */
uint64_t spill_region_bytes(const struct region *r);

void spill_get_stats(const struct spill *sp, struct spill_stats *ret);

/* Free r->spill's memory (region_free() calls it; not the extents in the file). */
void spill_index_free(struct spill_index *ix);
