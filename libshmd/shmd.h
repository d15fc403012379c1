/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libshmd - client library of the shmd shared-memory manager.
 *
 * Conventions, for every function below:
 *   - Functions returning int return 0 (or a documented non-negative value) on
 *     success and a negative errno on failure. When the daemon refused the
 *     request, shmd_ctx_get_error_name() and shmd_ctx_get_error_message() say
 *     why until the next call on that context.
 *   - Constructors return NULL only when memory is exhausted.
 *   - A NULL context is a bad argument: calls returning int return -EINVAL,
 *     getters return NULL (shmd_ctx_get_log_priority(): -EINVAL), setters do
 *     nothing. Output parameters are written only on success.
 *   - Names are NUL-terminated byte strings of 1 to 255 bytes; "/" separates
 *     components (see shmd(8)). Bytes need not be UTF-8.
 *   - File descriptors handed out are O_CLOEXEC and belong to the caller.
 *   - The library never prints. See shmd_ctx_set_log_fn().
 *
 * Threads: a context is not thread-safe; use one context per thread, or
 * serialise calls on a shared one. Different contexts are independent.
 *
 * fork(): a context used in a child process notices the fork and opens its own
 * connection; it never talks on the parent's. The library notices through a
 * pthread_atfork() handler (it caches its pid, so that a call costs no
 * getpid()): a child made by a raw clone() or by _Fork(), which run no atfork
 * handlers, must not use a context it inherited.
 *
 * Errors mapped from daemon errors (shmd_ctx_get_error_name() has the name):
 *   io.shmd.Manager.NoSuchRegion           -ENOENT
 *   io.shmd.Manager.RegionExists           -EEXIST
 *   io.shmd.Manager.PermissionDenied       -EACCES
 *   io.shmd.Manager.InvalidParameter       -EINVAL
 *   io.shmd.Manager.Sealed                 -EPERM
 *   io.shmd.Manager.Busy                   -EBUSY
 *   io.shmd.Manager.WouldTruncate          -EFBIG
 *   io.shmd.Manager.LimitReached           -ENOSPC ("regions"), -EUSERS (connection limits)
 *   io.shmd.Manager.QuotaExceeded          -EDQUOT (a user, group or unit quota),
 *                                          -ENOSPC (the global quota)
 *   io.shmd.Manager.RegionOwned            -EACCES
 *   io.shmd.Manager.ConfigError            -EINVAL
 *   io.shmd.Manager.MessageTooLarge        -EMSGSIZE
 *   io.shmd.Manager.TooManyFileDescriptors -ETOOMANYREFS
 *   io.shmd.Manager.RegionNotSpillable     -EPERM
 *   io.shmd.Manager.RegionDamaged          -EBADMSG
 *   io.shmd.Manager.SystemError            the daemon's errno, negated (-EIO if it
 *                                          is one of the one-meaning errnos below)
 *   org.varlink.service.MethodNotFound     -EOPNOTSUPP
 *   any other error                        -EPROTO
 * Local failures: -ECONNREFUSED (no daemon at the socket: no such path,
 * nothing listening, or no permission to connect), -ECONNRESET (daemon closed the connection),
 * -EMFILE (a received fd did not fit in the fd table: MSG_CTRUNC), -EPROTO
 * (malformed reply), -ENOMEM.
 * One meaning each: -ENOENT is only NoSuchRegion, -ECONNREFUSED
 * only "no daemon", -ECONNRESET only "daemon went away", -EEXIST, -EACCES and
 * -EPERM only RegionExists, PermissionDenied and Sealed.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Seal bits: the kernel's F_SEAL_* values, usable without <fcntl.h>. */
#define SHMD_SEAL_SEAL 0x0001
#define SHMD_SEAL_SHRINK 0x0002
#define SHMD_SEAL_GROW 0x0004
#define SHMD_SEAL_WRITE 0x0008
#define SHMD_SEAL_FUTURE_WRITE 0x0010
#define SHMD_SEAL_EXEC 0x0020

/* ------------------------------------------------------------------ context */

struct shmd_ctx;

/*
 * Create a context. socket_path may be NULL: then $SHMD_SOCKET, else
 * "/run/shmd/io.shmd.Manager". The connection is made on first use.
 * Returns NULL only on OOM. Since 0.1.
 */
struct shmd_ctx *shmd_ctx_new(const char *socket_path);

/* Take a reference. Returns ctx. Since 0.1. */
struct shmd_ctx *shmd_ctx_ref(struct shmd_ctx *ctx);

/* Drop a reference; the last one closes the connection. Accepts NULL. Returns NULL. Since 0.1. */
struct shmd_ctx *shmd_ctx_unref(struct shmd_ctx *ctx);

/* Connect now (otherwise the first call does). 0 or -errno. Since 0.1. */
int shmd_ctx_connect(struct shmd_ctx *ctx);

/* The socket path in use. Since 0.1. */
const char *shmd_ctx_get_socket(const struct shmd_ctx *ctx);

/*
 * The daemon's error of the last failed call, e.g. "io.shmd.Manager.NoSuchRegion",
 * or NULL if the last call failed locally or succeeded. Since 0.1.
 */
const char *shmd_ctx_get_error_name(const struct shmd_ctx *ctx);

/*
 * A one-line reason for the last failure, for humans, e.g.
 * "quota exceeded for uid 1000 (8.0G of 8.0G used)". Never NULL after a failed
 * call (falls back to strerror); NULL after a successful one. Since 0.1.
 */
const char *shmd_ctx_get_error_message(const struct shmd_ctx *ctx);

/* The error's parameters as JSON text ("{}" if none), or NULL. Since 0.1. */
const char *shmd_ctx_get_error_parameters(const struct shmd_ctx *ctx);

/* Logging: the library calls fn for debug messages at or below priority (syslog levels). */
typedef void (*shmd_log_fn_t)(void *data, int priority, const char *file, int line, const char *fn,
			      const char *format, va_list args);
/* Set the log function (NULL: no logging, the default). Since 0.1. */
void shmd_ctx_set_log_fn(struct shmd_ctx *ctx, shmd_log_fn_t fn, void *data);
/* Set the highest priority logged (LOG_ERR default; LOG_DEBUG shows every message sent/received). Since 0.1. */
void shmd_ctx_set_log_priority(struct shmd_ctx *ctx, int priority);
int shmd_ctx_get_log_priority(const struct shmd_ctx *ctx);

/* ------------------------------------------------------------------ regions */

/* A snapshot of one region's metadata, as returned by create, open, stat, list. */
struct shmd_region;

struct shmd_region *shmd_region_ref(struct shmd_region *region);
/* Accepts NULL. Returns NULL. Since 0.1. */
struct shmd_region *shmd_region_unref(struct shmd_region *region);

const char *shmd_region_get_name(const struct shmd_region *region);
uint64_t shmd_region_get_id(const struct shmd_region *region);
uint64_t shmd_region_get_size(const struct shmd_region *region);
uid_t shmd_region_get_uid(const struct shmd_region *region);
gid_t shmd_region_get_gid(const struct shmd_region *region);
/* Permission bits, 0..0666. */
mode_t shmd_region_get_mode(const struct shmd_region *region);
/* SHMD_SEAL_* bits in force. */
unsigned shmd_region_get_seals(const struct shmd_region *region);
/* Seals added by a holder, not through the daemon. */
unsigned shmd_region_get_foreign_seals(const struct shmd_region *region);
bool shmd_region_is_fixed(const struct shmd_region *region);
/* Created nospill: never spilled (false from a daemon without spilling). LIBSHMD_2. */
bool shmd_region_is_nospill(const struct shmd_region *region);
/* "resident" (later: "spilled", ...). */
const char *shmd_region_get_state(const struct shmd_region *region);
/* Microseconds since the epoch. */
uint64_t shmd_region_get_created_usec(const struct shmd_region *region);
uint64_t shmd_region_get_changed_usec(const struct shmd_region *region);
uid_t shmd_region_get_creator_uid(const struct shmd_region *region);
gid_t shmd_region_get_creator_gid(const struct shmd_region *region);
pid_t shmd_region_get_creator_pid(const struct shmd_region *region);
/* The creator's systemd unit, or NULL. */
const char *shmd_region_get_creator_unit(const struct shmd_region *region);

/* Flags for shmd_create(). */
enum {
	/* Open the region if it exists instead of failing with -EEXIST. */
	SHMD_CREATE_OPEN_EXISTING = 1 << 0,
	/* Seal grow and shrink at creation: the size can never change. */
	SHMD_CREATE_FIXED = 1 << 1,
	/* Allocate the memory at creation (fallocate): no holder faults on a missing page,
	 * and ENOSPC/ENOMEM come now rather than as SIGBUS later. LIBSHMD_2. */
	SHMD_CREATE_PREALLOC = 1 << 2,
	/* Never spill the region to shmd's spill file (shmd(8), SPILL). LIBSHMD_2. */
	SHMD_CREATE_NOSPILL = 1 << 3,
};

/*
 * Create a region of size bytes with permission bits mode (0 means 0600).
 * Every region also carries F_SEAL_EXEC where the kernel has MFD_NOEXEC_SEAL
 * (6.3+), unasked. shmd_create_with() (LIBSHMD_2) names its options.
 * seals: SHMD_SEAL_* bits to apply at creation (0 for none).
 * ret_fd: if not NULL, receives a read-write fd of the region.
 * ret_region: if not NULL, receives its metadata (unref it).
 * ret_created: if not NULL, set to whether the region was made (false when
 * SHMD_CREATE_OPEN_EXISTING found one).
 * Returns 0 or -errno. Since 0.1.
 */
int shmd_create(struct shmd_ctx *ctx, const char *name, uint64_t size, mode_t mode, unsigned flags,
		unsigned seals, int *ret_fd, struct shmd_region **ret_region, bool *ret_created);

/*
 * Open a region. oflags is O_RDONLY or O_RDWR. A read-only fd is a new open
 * file description opened O_RDONLY: writing, PROT_WRITE shared mappings,
 * ftruncate and F_ADD_SEALS fail on it (the kernel enforces it).
 * ret_region may be NULL. Returns 0 and *ret_fd, or -errno. Since 0.1.
 */
int shmd_open(struct shmd_ctx *ctx, const char *name, int oflags, int *ret_fd,
	      struct shmd_region **ret_region);

/* Metadata of one region. 0 or -errno. Since 0.1. */
int shmd_stat(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret);

/*
 * Listing: an iterator over the daemon's streamed reply.
 * prefix may be NULL or "" for all regions. While an iterator is open the
 * context may not be used for other calls (-EBUSY).
 * shmd_list() waits for the daemon's first reply, so a refused listing fails
 * here: -EINVAL (invalid prefix, or ctx or ret NULL), -EACCES, ... ; *ret is
 * then left alone. Returns 0 and *ret (free it with shmd_list_free()). Since 0.1.
 */
struct shmd_list;
int shmd_list(struct shmd_ctx *ctx, const char *prefix, struct shmd_list **ret);
/*
 * 1 and *ret (unref it) for the next region, 0 at the end, or -errno. After the
 * end, 0 again; after a failure (a daemon error or a lost connection
 * mid-stream: -ECONNRESET, a malformed reply: -EPROTO), the same -errno again.
 * -EINVAL if list or ret is NULL. Since 0.1.
 */
int shmd_list_next(struct shmd_list *list, struct shmd_region **ret);
/*
 * Accepts NULL. An unfinished listing is not drained: the connection is closed
 * and the next call connects again. Returns NULL. Since 0.1.
 */
struct shmd_list *shmd_list_free(struct shmd_list *list);

enum {
	/* Allow shrinking (mappers past the new end get SIGBUS). */
	SHMD_RESIZE_FORCE = 1 << 0,
};
/* 0 or -errno (-EFBIG: shrink without SHMD_RESIZE_FORCE; -EPERM: sealed). Since 0.1. */
int shmd_resize(struct shmd_ctx *ctx, const char *name, uint64_t size, unsigned flags);

enum {
	/* Replace an existing region called new_name (it is deleted). */
	SHMD_RENAME_REPLACE = 1 << 0,
};
/* Atomic rename. 0 or -errno. Since 0.1. */
int shmd_rename(struct shmd_ctx *ctx, const char *name, const char *new_name, unsigned flags);

/* Remove the name; memory goes when the last holder closes. 0 or -errno. Since 0.1. */
int shmd_delete(struct shmd_ctx *ctx, const char *name);

/* Add SHMD_SEAL_* seals. 0 or -errno (-EBUSY: write seal while mapped writable). Since 0.1. */
int shmd_seal(struct shmd_ctx *ctx, const char *name, unsigned seals);

/*
 * Change mode, owner, group. Pass (mode_t)-1, (uid_t)-1, (gid_t)-1 to leave
 * one unchanged. 0 or -errno. Since 0.1.
 */
int shmd_set_access(struct shmd_ctx *ctx, const char *name, mode_t mode, uid_t uid, gid_t gid);

/*
 * Open and map a region: O_RDONLY maps PROT_READ, O_RDWR maps
 * PROT_READ|PROT_WRITE, MAP_SHARED, its whole current size. The fd is closed
 * after mapping. A region of size 0 gives *ret_addr NULL and *ret_size 0.
 * 0 or -errno. Since 0.1.
 */
int shmd_region_map(struct shmd_ctx *ctx, const char *name, int oflags, void **ret_addr,
		    size_t *ret_size);
/* Unmap what shmd_region_map() returned. Accepts NULL/0. 0 or -errno. Since 0.1. */
int shmd_region_unmap(void *addr, size_t size);

/* ------------------------------------------------------------------ daemon status */

struct shmd_status;
int shmd_status(struct shmd_ctx *ctx, struct shmd_status **ret);
struct shmd_status *shmd_status_unref(struct shmd_status *status);
const char *shmd_status_get_version(const struct shmd_status *status);
uint64_t shmd_status_get_regions(const struct shmd_status *status);
uint64_t shmd_status_get_total_size(const struct shmd_status *status);
uint64_t shmd_status_get_connections(const struct shmd_status *status);
uint64_t shmd_status_get_started_usec(const struct shmd_status *status);
/* A limit by its wire name ("maxRegions", "maxConnections", ...); 0 and false if unknown. */
bool shmd_status_get_limit(const struct shmd_status *status, const char *name, uint64_t *ret);
/* A feature by its wire name ("noexecSeal", "anonVmaName"). */
bool shmd_status_has_feature(const struct shmd_status *status, const char *name);

/*
 * The daemon's process ID, or 0 when the daemon did not say (one from before
 * the field). LIBSHMD_2.
 */
pid_t shmd_status_get_pid(const struct shmd_status *status);

/* ------------------------------------------------------------------ LIBSHMD_2 */

/*
 * Options of a Create, with a setter per option: clearer than shmd_create()'s
 * positional arguments, and open to new options without a new function.
 * Defaults (shmd_create_opts_new(), or opts NULL in shmd_create_with()):
 *   mode          0600 (set_mode(0) really means 0000: no one but root and the
 *                 creator's own descriptor; shmd_create()'s mode 0 means 0600)
 *   seals         none asked for; every region still carries F_SEAL_EXEC where
 *                 the kernel has MFD_NOEXEC_SEAL (6.3+; Status feature
 *                 "noexecSeal"): shmd never makes executable memory
 *   fixed         false (true: seal grow and shrink at creation)
 *   open_existing false (true: an existing region is opened, its size, mode
 *                 and seals kept, and *ret_created is false)
 * LIBSHMD_2.
 */
struct shmd_create_opts;
/* NULL only on OOM. */
struct shmd_create_opts *shmd_create_opts_new(void);
/* Accepts NULL. Returns NULL. */
struct shmd_create_opts *shmd_create_opts_free(struct shmd_create_opts *opts);
/* 0, or -EINVAL (opts NULL, or bits beyond 0666). */
int shmd_create_opts_set_mode(struct shmd_create_opts *opts, mode_t mode);
/* SHMD_SEAL_* bits to add at creation. 0, or -EINVAL (opts NULL, unknown bits). */
int shmd_create_opts_set_seals(struct shmd_create_opts *opts, unsigned seals);
/* 0, or -EINVAL (opts NULL). */
int shmd_create_opts_set_fixed(struct shmd_create_opts *opts, bool fixed);
int shmd_create_opts_set_open_existing(struct shmd_create_opts *opts, bool open_existing);
/*
 * Spill the region to the daemon's spill file (its memory is freed), or bring it back;
 * both return when the data has moved (an Open of a spilled region restores it too).
 * ret_region, if not NULL, receives the region after it (unref it). 0 or -errno: -EBUSY
 * (a process holds it), -EPERM (not spillable: nospill, write-sealed, spilling off),
 * -EBADMSG (a restore found a bad checksum: the region is damaged), -ENOSPC (the spill file
 * is full: the region stays in memory). LIBSHMD_2.
 */
int shmd_spill(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret_region);
/*
 * A number of the Status's spill object by its wire name (shmd-varlink(7), SpillStatus:
 * "fileSize", "used", "free", "spilledRegions", "spilledBytes", "errors",
 * "unwatchedRegions", ...; "enabled" is 1 or 0): true and *ret when the daemon sent it.
 * _string: "path", "lastError", "pressureTrigger", or NULL. LIBSHMD_2.
 */
bool shmd_status_get_spill(const struct shmd_status *status, const char *name, uint64_t *ret);
const char *shmd_status_get_spill_string(const struct shmd_status *status, const char *name);
int shmd_restore(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret_region);
/* true: the region is never spilled (SHMD_CREATE_NOSPILL). 0, or -EINVAL. LIBSHMD_2. */
int shmd_create_opts_set_nospill(struct shmd_create_opts *opts, bool nospill);
/*
 * Create a region of size bytes with opts (NULL: the defaults); the options
 * object is only read, and may be reused or freed at once. ret_fd,
 * ret_region and ret_created are as for shmd_create(). 0 or -errno. LIBSHMD_2.
 */
int shmd_create_with(struct shmd_ctx *ctx, const char *name, uint64_t size,
		     const struct shmd_create_opts *opts, int *ret_fd,
		     struct shmd_region **ret_region, bool *ret_created);

/*
 * Like shmd_region_map(), for [offset, offset + length) of the region as it
 * is now; length 0 means "to the end". *ret_size receives the length mapped
 * (an empty range gives NULL and 0). Unmap with shmd_region_unmap().
 * Errors: -EINVAL (offset not a multiple of the page size, or a NULL
 * argument), -ERANGE (the range passes the end of the region), as
 * shmd_open() and mmap(2) otherwise. LIBSHMD_2.
 */
int shmd_region_map_range(struct shmd_ctx *ctx, const char *name, int oflags, uint64_t offset,
			  size_t length, void **ret_addr, size_t *ret_size);
/* ------------------------------------------------------------------ holders (LIBSHMD_2) */

/*
 * Open file descriptions of the region held outside the daemon (fds in any process, fds in
 * flight, mappings), as the daemon counted them when it made the snapshot; -1 when it does
 * not know (the region counts as held). LIBSHMD_2.
 */
int64_t shmd_region_get_holder_count(const struct shmd_region *region);
/* When a holder last opened / let go of a description (CLOCK_REALTIME usec; 0: never). LIBSHMD_2. */
uint64_t shmd_region_get_last_open_usec(const struct shmd_region *region);
uint64_t shmd_region_get_last_close_usec(const struct shmd_region *region);
/* When the region was last spilled / restored (CLOCK_REALTIME usec; 0: never). LIBSHMD_2. */
uint64_t shmd_region_get_last_spill_usec(const struct shmd_region *region);
uint64_t shmd_region_get_last_restore_usec(const struct shmd_region *region);
/* A region deleted while held (from shmd_list_flags(SHMD_LIST_DELETED)). LIBSHMD_2. */
bool shmd_region_is_deleted(const struct shmd_region *region);
/*
 * An anonymous region (a memfd_create() made through shmd, see libshmd-preload(8)); its
 * name is the memfd's own. From shmd_list_flags(SHMD_LIST_ANONYMOUS). LIBSHMD_2.
 */
bool shmd_region_is_anonymous(const struct shmd_region *region);
/*
 * A top-level integer member of the Status reply by its wire name ("deletedRegions",
 * "deletedSize", "unwatchedRegions", "holderOverflows", ...); 0 and false if absent. LIBSHMD_2.
 */
bool shmd_status_get_counter(const struct shmd_status *status, const char *name, uint64_t *ret);

/* The library version, e.g. "0.1.0". Since 0.1. */
const char *shmd_version(void);

/* ------------------------------------------------------------------ quotas (LIBSHMD_2) */

/* Whose usage an entry is: shmd_quotas_get_scope(). */
enum shmd_quota_scope {
	SHMD_QUOTA_GLOBAL = 0,
	SHMD_QUOTA_USER = 1,
	SHMD_QUOTA_GROUP = 2,
	SHMD_QUOTA_UNIT = 3,
};
/* A limit that is not set. */
#define SHMD_QUOTA_UNLIMITED UINT64_MAX

/*
 * Usage and limits (see shmd.conf(5)): the global entry, then every user, group and unit
 * that is charged something or that the configuration names. Each region is charged its
 * size and one region to its owner uid, owner gid and its creator's unit.
 * 0 or -errno; *ret is freed with shmd_quotas_unref(). LIBSHMD_2.
 */
struct shmd_quotas;
int shmd_quotas(struct shmd_ctx *ctx, struct shmd_quotas **ret);
struct shmd_quotas *shmd_quotas_unref(struct shmd_quotas *quotas);
size_t shmd_quotas_get_count(const struct shmd_quotas *quotas);
/* Entry i (< count): enum shmd_quota_scope, or -EINVAL when i is out of range. */
int shmd_quotas_get_scope(const struct shmd_quotas *quotas, size_t i);
/* The uid or gid (user and group entries; else 0). */
uint32_t shmd_quotas_get_id(const struct shmd_quotas *quotas, size_t i);
/* The unit name (unit entries; else NULL). Valid until shmd_quotas_unref(). */
const char *shmd_quotas_get_unit(const struct shmd_quotas *quotas, size_t i);
uint64_t shmd_quotas_get_bytes(const struct shmd_quotas *quotas, size_t i);
uint64_t shmd_quotas_get_regions(const struct shmd_quotas *quotas, size_t i);
/* The limits in force, SHMD_QUOTA_UNLIMITED when none. */
uint64_t shmd_quotas_get_memory_max(const struct shmd_quotas *quotas, size_t i);
uint64_t shmd_quotas_get_regions_max(const struct shmd_quotas *quotas, size_t i);

/*
 * Make the daemon read its configuration files again (administrators only). 0, -EACCES,
 * or -EINVAL when a file is bad (nothing changed; the error message says FILE:LINE: why).
 * LIBSHMD_2.
 */
int shmd_reload(struct shmd_ctx *ctx);
/* ------------------------------------------------------------------ named ranges, footprint, holders (LIBSHMD_2) */

/* The figures of a footprint, in bytes (see shmd-varlink(7), type Footprint). */
enum shmd_footprint_field {
	SHMD_FOOTPRINT_SIZE,	  /* apparent size */
	SHMD_FOOTPRINT_RESIDENT,  /* in memory */
	SHMD_FOOTPRINT_DIRTY,	  /* dirty in the page cache (0 for shmem in practice) */
	SHMD_FOOTPRINT_WRITEBACK, /* being written to swap */
	SHMD_FOOTPRINT_SWAPPED,	  /* in swap */
	SHMD_FOOTPRINT_ALLOCATED, /* holding data (SEEK_DATA extents) */
	SHMD_FOOTPRINT_SPILLED,	  /* in shmd's spill file (0 until spilling exists) */
	SHMD_FOOTPRINT_HUGE,	  /* backed by huge pages; -ENODATA when not measurable */
};

/*
 * Name [offset, offset+length) of a region label (page-aligned; 1-80 bytes of printable
 * ASCII without [ ] \ $ `): the newest label wins on overlaps, equal neighbours merge.
 * 0 or -errno: -EINVAL (alignment, label), -ERANGE (outside the region), -EACCES (no
 * write permission), -ENOENT (no region), -EUSERS (1024 ranges). LIBSHMD_2.
 */
int shmd_label(struct shmd_ctx *ctx, const char *name, uint64_t offset, uint64_t length,
	       const char *label);
/* Remove the labels of [offset, offset+length). Errors as shmd_label(). LIBSHMD_2. */
int shmd_unlabel(struct shmd_ctx *ctx, const char *name, uint64_t offset, uint64_t length);
/* Remove every range labelled label (-ENOENT also when none has it). LIBSHMD_2. */
int shmd_unlabel_label(struct shmd_ctx *ctx, const char *name, const char *label);
/* Rename every range labelled label to new_label (-ENOENT when none has it). LIBSHMD_2. */
int shmd_rename_label(struct shmd_ctx *ctx, const char *name, const char *label,
		      const char *new_label);

/* The named ranges a region object carries (Stat, List, Open...), in offset order. */
size_t shmd_region_get_n_ranges(const struct shmd_region *region);
/* The i-th: 0, or -ERANGE past the end. label is valid while region is. LIBSHMD_2. */
int shmd_region_get_range(const struct shmd_region *region, size_t i, uint64_t *ret_offset,
			  uint64_t *ret_length, const char **ret_label);
/* A footprint figure of a region from shmd_stat_footprint() or shmd_list_flags(
 * SHMD_LIST_FOOTPRINT); -ENODATA when it carries none. LIBSHMD_2. */
int64_t shmd_region_get_footprint(const struct shmd_region *region,
				  enum shmd_footprint_field field);
/* shmd_stat() with the region's footprint. LIBSHMD_2. */
int shmd_stat_footprint(struct shmd_ctx *ctx, const char *name, struct shmd_region **ret);
enum {
	/* Each listed region carries its footprint (a few syscalls per region in the daemon). */
	SHMD_LIST_FOOTPRINT = 1 << 0,
	/*
	 * List the regions deleted while still held instead: they stay in memory (and
	 * charged to their owner) until their last holder goes, and their names may be in
	 * use again. LIBSHMD_2.
	 */
	SHMD_LIST_DELETED = 1 << 1,
	/*
	 * List the anonymous regions instead (memfd_create() through shmd: libshmd-preload(8)),
	 * in id order, prefix matching their memfd names; not with SHMD_LIST_DELETED. LIBSHMD_2.
	 */
	SHMD_LIST_ANONYMOUS = 1 << 2,
};
/* shmd_list() with flags. LIBSHMD_2. */
int shmd_list_flags(struct shmd_ctx *ctx, const char *prefix, unsigned flags,
		    struct shmd_list **ret);
/* shmd_status() with the footprint of all regions together. LIBSHMD_2. */
int shmd_status_footprint(struct shmd_ctx *ctx, struct shmd_status **ret);
/* A figure of that total; -ENODATA when the status was not asked with footprint. LIBSHMD_2. */
int64_t shmd_status_get_footprint(const struct shmd_status *status,
				  enum shmd_footprint_field field);

/*
 * A region's parts: its named ranges, and with SHMD_RANGES_FOOTPRINT (needs read
 * permission) also the unnamed gaps, each with its footprint, adding up to the region.
 */
struct shmd_ranges;
enum {
	SHMD_RANGES_FOOTPRINT = 1 << 0,
};
/* The index of the whole region's footprint in shmd_ranges_get_footprint(). */
#define SHMD_RANGES_TOTAL ((size_t)-1)
int shmd_ranges(struct shmd_ctx *ctx, const char *name, unsigned flags, struct shmd_ranges **ret);
struct shmd_ranges *shmd_ranges_unref(struct shmd_ranges *ranges);
size_t shmd_ranges_count(const struct shmd_ranges *ranges);
/* Part i; *ret_label is NULL for an unnamed gap. 0 or -ERANGE. LIBSHMD_2. */
int shmd_ranges_get(const struct shmd_ranges *ranges, size_t i, uint64_t *ret_offset,
		    uint64_t *ret_length, const char **ret_label);
/* A figure of part i (or SHMD_RANGES_TOTAL), -ENODATA without footprint. LIBSHMD_2. */
int64_t shmd_ranges_get_footprint(const struct shmd_ranges *ranges, size_t i,
				  enum shmd_footprint_field field);

/*
 * The processes holding a region (an fd or a mapping), from a /proc scan by the daemon:
 * only the owner and administrators may ask (-EACCES otherwise), and the daemon sees only
 * the processes it may ptrace-read (see shmd(8)). LIBSHMD_2.
 */
struct shmd_holders;
enum shmd_holder_field {
	SHMD_HOLDER_PID,
	SHMD_HOLDER_UID,
	SHMD_HOLDER_FDS,      /* fds open on the region */
	SHMD_HOLDER_WRITABLE, /* 1 if an fd or a mapping is writable */
	SHMD_HOLDER_MAPPED,   /* bytes mapped */
	SHMD_HOLDER_RSS,      /* of those, resident (smaps Rss) */
	SHMD_HOLDER_SWAP,     /* and swapped (smaps Swap) */
};
enum shmd_holders_scan_field {
	SHMD_HOLDERS_SCANNED,	 /* processes looked at */
	SHMD_HOLDERS_UNREADABLE, /* processes the daemon could not inspect */
	SHMD_HOLDERS_TRUNCATED,	 /* 1 if more than 1024 held it */
	SHMD_HOLDERS_SCAN_USEC,	 /* how long the scan took */
	SHMD_HOLDERS_COMPLETE,	 /* 0 if the scan stopped at its time budget (0.5 s) */
};
int shmd_holders(struct shmd_ctx *ctx, const char *name, struct shmd_holders **ret);
struct shmd_holders *shmd_holders_unref(struct shmd_holders *holders);
size_t shmd_holders_count(const struct shmd_holders *holders);
/* A number of holder i: >= 0, or -ERANGE / -EINVAL. LIBSHMD_2. */
int64_t shmd_holders_get(const struct shmd_holders *holders, size_t i,
			 enum shmd_holder_field field);
/* Its command (/proc/PID/comm) or systemd unit (NULL if none). LIBSHMD_2. */
const char *shmd_holders_get_command(const struct shmd_holders *holders, size_t i);
const char *shmd_holders_get_unit(const struct shmd_holders *holders, size_t i);
int64_t shmd_holders_get_scan(const struct shmd_holders *holders,
			      enum shmd_holders_scan_field field);

#ifdef __cplusplus
}
#endif
