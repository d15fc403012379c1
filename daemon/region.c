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
#include "region.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* The kernel keeps at most 249 bytes of a memfd name (NAME_MAX minus "memfd:"). */
#define MEMFD_NAME_MAX 249

static bool use_noexec_seal = true;

uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int memfd_for(const char *name)
{
	char debug_name[MEMFD_NAME_MAX + 1];
	int fd;

	snprintf(debug_name, sizeof(debug_name), "shmd:%s", name);
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
	int fd = memfd_for("probe");
	safe_close(fd);
	return use_noexec_seal;
}

/* Mirror owner, group and mode on the inode, so re-opens through /proc are judged alike. */
static int inode_set_access(int fd, uid_t uid, gid_t gid, mode_t mode)
{
	if (fchown(fd, uid, gid) < 0) {
		/* An unprivileged daemon (tests, development) cannot give inodes away. */
		if (errno != EPERM || geteuid() == 0)
			return negative_errno();
		log_debug("cannot chown region inode to %u:%u (unprivileged daemon)", uid, gid);
	}
	if (fchmod(fd, mode) < 0)
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
	int ret = inode_set_access(fd, p->uid, p->gid, p->mode);
	if (ret < 0)
		return ret;
	*failed_op = "F_ADD_SEALS";
	if (seals && fcntl(fd, F_ADD_SEALS, seals) < 0)
		return negative_errno();
	/* Everything in force now is ours, including MFD_NOEXEC_SEAL's F_SEAL_EXEC. */
	r->applied_seals = region_seals(r);
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
	intern_unref(r->creator.unit);
	free(r->name);
	free(r);
}

int region_open(const struct region *r, bool writable)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	return fd >= 0 ? fd : negative_errno();
}

unsigned region_seals(const struct region *r)
{
	int s = fcntl(r->fd, F_GET_SEALS);
	return s >= 0 ? (unsigned)s : r->applied_seals;
}

uint64_t region_refresh_size(struct region *r)
{
	struct stat st;
	if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size != r->size) {
		r->size = (uint64_t)st.st_size;
		r->changed_usec = now_usec();
	}
	return r->size;
}

int region_resize(struct region *r, uint64_t size)
{
	if (ftruncate(r->fd, (off_t)size) < 0)
		return negative_errno();
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
	r->changed_usec = now_usec();
	return 0;
}

int region_set_access(struct region *r, uid_t uid, gid_t gid, mode_t mode)
{
	int ret = inode_set_access(r->fd, uid, gid, mode);
	if (ret < 0)
		return ret;
	r->uid = uid;
	r->gid = gid;
	r->mode = mode;
	r->changed_usec = now_usec();
	return 0;
}
