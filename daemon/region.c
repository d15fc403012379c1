/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One region: a sealable memfd the daemon keeps, with its plain-data metadata. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intern.h"
#include "log.h"
#include "ranges.h"
#include "region.h"
#include "spill.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* The kernel keeps at most 249 bytes of a memfd name (NAME_MAX minus "memfd:"). */
#define MEMFD_NAME_MAX 249

static bool use_noexec_seal = true;

/*
 * What a new memfd looks like before we touch it (learnt from the probe): its inode's
 * owner, group and mode and the seals already in force. Steps that would not change
 * anything are skipped on Create: every syscall is ~1 us on a VM.
 */
static struct {
	bool known;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	unsigned seals;
} fresh;

/* /proc/self/fd as an O_PATH directory: re-opening "N" below it walks a shorter path. */
static int proc_fd_dir = -1;

uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int memfd_for(const char *name)
{
	static const char prefix[] = "shmd:";
	char debug_name[MEMFD_NAME_MAX + 1];
	size_t plen = sizeof(prefix) - 1;
	size_t len = strnlen(name, sizeof(debug_name) - 1 - plen);
	int fd;

	/* "shmd:NAME", cut to what the kernel keeps (no snprintf(): this is on every Create). */
	memcpy(debug_name, prefix, plen);
	memcpy(debug_name + plen, name, len);
	debug_name[plen + len] = '\0';
	if (use_noexec_seal) {
		fd = memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
		if (fd >= 0 || errno != EINVAL)
			return fd >= 0 ? fd : negative_errno();
		/* Kernels before 6.3 reject the flag: fall back, and remember. */
		use_noexec_seal = false;
	}
	fd = memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd >= 0 ? fd : negative_errno();
}

bool region_probe_noexec_seal(void)
{
	_cleanup_close_ int fd = memfd_for("probe");
	struct stat st;
	int seals;

	if (fd >= 0 && fstat(fd, &st) == 0 && (seals = fcntl(fd, F_GET_SEALS)) >= 0)
		fresh = (typeof(fresh)){ true, st.st_uid, st.st_gid, st.st_mode & 07777,
					 (unsigned)seals };
	if (proc_fd_dir < 0)
		proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return use_noexec_seal;
}

/*
 * Mirror owner, group and mode on the inode, so re-opens through /proc are judged alike.
 * is_new: the memfd was just made, so the inode is as the probe saw one.
 */
static int inode_set_access(int fd, uid_t uid, gid_t gid, mode_t mode, bool is_new)
{
	bool chown_needed = !is_new || !fresh.known || uid != fresh.uid || gid != fresh.gid;
	bool chmod_needed = !is_new || !fresh.known || mode != fresh.mode;

	if (chown_needed && fchown(fd, uid, gid) < 0) {
		/* An unprivileged daemon (tests, development) cannot give inodes away. */
		if (errno != EPERM || geteuid() == 0)
			return negative_errno();
		log_debug("cannot chown region inode to %u:%u (unprivileged daemon)", uid, gid);
	}
	if (chmod_needed && fchmod(fd, mode) < 0)
		return negative_errno();
	return 0;
}

static int region_setup(struct region *r, const struct region_params *p, const char **failed_op)
{
	unsigned seals = p->seals | (p->fixed ? F_SEAL_GROW | F_SEAL_SHRINK : 0);
	int fd = memfd_for(p->name);

	*failed_op = "memfd_create";
	if (fd < 0)
		return fd;
	r->fd = fd;
	*failed_op = "ftruncate";
	if (ftruncate(fd, (off_t)p->size) < 0)
		return negative_errno();
	*failed_op = "fchown";
	int ret = inode_set_access(fd, p->uid, p->gid, p->mode, true);
	if (ret < 0)
		return ret;
	*failed_op = "F_ADD_SEALS";
	if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
		return negative_errno();
	/*
	 * Everything in force now is ours, including MFD_NOEXEC_SEAL's F_SEAL_EXEC: what a
	 * new memfd has plus what we added (no one else holds this fd yet).
	 */
	r->seals = fresh.known ? fresh.seals | seals : region_seals(r);
	r->applied_seals = r->seals;
	return 0;
}

int region_new(const struct region_params *p, struct region **ret, const char **failed_op)
{
	struct region *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->name = strdup(p->name);
	if (!r->name) {
		region_free(r);
		return -ENOMEM;
	}
	int err = region_setup(r, p, failed_op);
	if (err < 0) {
		region_free(r);
		return err;
	}
	r->size = p->size;
	r->uid = p->uid;
	r->gid = p->gid;
	r->mode = p->mode;
	r->fixed = p->fixed;
	r->nospill = p->nospill;
	r->creator = p->creator;
	r->creator.unit = intern_ref(p->creator.unit);
	r->created_usec = r->changed_usec = now_usec();
	r->state = REGION_RESIDENT;
	*ret = r;
	return 0;
}

void region_free(struct region *r)
{
	if (!r)
		return;
	safe_close(r->fd);
	ranges_free(r->ranges);
	spill_index_free(r->spill);
	intern_unref(r->creator.unit);
	free(r->name);
	free(r);
}

/* "N" for fd N, without snprintf(): ~3% of the daemon's user time per Open went there. */
static const char *fd_name(int fd, char *buf, size_t size)
{
	char *p = buf + size;
	unsigned v = (unsigned)fd;

	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) && p > buf);
	return p;
}

int region_open(const struct region *r, bool writable)
{
	int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	char path[64];
	int fd;

	/* A new open file description either way, judged by the inode's owner and mode. */
	if (proc_fd_dir >= 0) {
		fd = openat(proc_fd_dir, fd_name(r->fd, path, sizeof(path)), flags);
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
		fd = open(path, flags);
	}
	return fd >= 0 ? fd : negative_errno();
}

int region_open_creator(struct region *r, bool writable)
{
	int fd = region_open(r, writable);
	if (fd != -EACCES || geteuid() == 0)
		return fd;
	/* Nobody else knows the region yet: the wider mode is seen by this open only. */
	if (fchmod(r->fd, r->mode | 0600) < 0)
		return fd;
	fd = region_open(r, writable);
	if (fchmod(r->fd, r->mode) < 0) {
		safe_close(fd);
		return negative_errno();
	}
	return fd;
}

unsigned region_seals(struct region *r)
{
	/* Seals are never removed: once F_SEAL_SEAL is in force the set is final. */
	if (r->seals & F_SEAL_SEAL)
		return r->seals;
	int s = fcntl(r->fd, F_GET_SEALS);
	if (s >= 0)
		r->seals = (unsigned)s;
	return s >= 0 ? (unsigned)s : r->seals | r->applied_seals;
}

uint64_t region_refresh_size(struct region *r)
{
	struct stat st;

	/* Sealed against growing and shrinking (seals stay): the size cannot have changed. */
	if ((r->seals & (F_SEAL_GROW | F_SEAL_SHRINK)) == (F_SEAL_GROW | F_SEAL_SHRINK))
		return r->size;
	if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size != r->size) {
		/* A read-write holder shrank it (ftruncate): ranges past the end are cut. */
		if ((uint64_t)st.st_size < r->size)
			ranges_clip(r, (uint64_t)st.st_size);
		r->size = (uint64_t)st.st_size;
		r->changed_usec = now_usec();
	}
	return r->size;
}

int region_resize(struct region *r, uint64_t size)
{
	if (ftruncate(r->fd, (off_t)size) < 0)
		return negative_errno();
	ranges_clip(r, size);
	r->size = size;
	r->changed_usec = now_usec();
	return 0;
}

int region_add_seals(struct region *r, unsigned seals)
{
	/* F_SEAL_WRITE fails with EBUSY while any writable shared mapping exists. */
	if (fcntl(r->fd, F_ADD_SEALS, seals) < 0)
		return negative_errno();
	r->applied_seals |= seals;
	r->seals |= seals;
	r->changed_usec = now_usec();
	return 0;
}

int region_set_access(struct region *r, uid_t uid, gid_t gid, mode_t mode)
{
	int ret = inode_set_access(r->fd, uid, gid, mode, false);
	if (ret < 0)
		return ret;
	r->uid = uid;
	r->gid = gid;
	r->mode = mode;
	r->changed_usec = now_usec();
	return 0;
}
