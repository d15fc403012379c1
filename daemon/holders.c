/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Holders of a region: a /proc scan for fds and mappings of one memfd inode. */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-login.h>

#include "holders.h"
#include "macro.h"

struct target {
	dev_t dev;
	ino_t ino;
};

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static uint64_t mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Is fd N of the process open for writing? From fdinfo's "flags:" (octal open flags). */
static bool fd_writable(int pid_dir, const char *n)
{
	char path[300], line[128];
	_cleanup_(fclosep) FILE *f = NULL;
	int fd;

	snprintf(path, sizeof(path), "fdinfo/%s", n);
	fd = openat(pid_dir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "re"))) {
		safe_close(fd);
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned flags;
		if (sscanf(line, "flags: %o", &flags) == 1)
			return (flags & O_ACCMODE) != O_RDONLY;
	}
	return false;
}

/* The process's fds on the target: count and writability. 0, or -errno (unreadable). */
static int scan_fds(int pid_dir, const struct target *t, struct holder *h)
{
	int fd = openat(pid_dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;

	if (fd < 0)
		return negative_errno();
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return -ENOMEM;
	}
	while ((e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		/* stat() through the magic link: the open file's inode, not the link's. */
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (st.st_ino != t->ino || st.st_dev != t->dev)
			continue;
		h->fds++;
		if (!h->writable && fd_writable(pid_dir, e->d_name))
			h->writable = true;
	}
	return 0;
}

/* Add Rss and Swap of the smaps entries whose start is in starts[] (n of them). */
static void scan_smaps(int pid_dir, const uint64_t *starts, size_t n, struct holder *h)
{
	int fd = openat(pid_dir, "smaps", O_RDONLY | O_CLOEXEC);
	_cleanup_(fclosep) FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	char line[512];
	bool in = false;

	if (!f) {
		safe_close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, kb;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &start, &end) == 2) {
			in = false;
			for (size_t i = 0; i < n && !in; i++)
				in = starts[i] == start;
		} else if (in && sscanf(line, "Rss: %" SCNu64 " kB", &kb) == 1)
			h->rss += kb * 1024;
		else if (in && sscanf(line, "Swap: %" SCNu64 " kB", &kb) == 1)
			h->swap += kb * 1024;
	}
}

/* The process's mappings of the target (from maps, then smaps for their Rss and Swap). */
static int scan_maps(int pid_dir, const struct target *t, struct holder *h)
{
	int fd = openat(pid_dir, "maps", O_RDONLY | O_CLOEXEC);
	_cleanup_(fclosep) FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	_cleanup_free_ uint64_t *starts = NULL;
	size_t n = 0, cap = 0;
	char line[4096];

	if (!f) {
		safe_close(fd);
		return -EACCES;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, off, ino;
		unsigned maj, min;
		char perms[5];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64, &start,
			   &end, perms, &off, &maj, &min, &ino) != 7)
			continue;
		if (ino != t->ino || makedev(maj, min) != t->dev)
			continue;
		h->mapped += end - start;
		if (perms[1] == 'w' && perms[3] == 's')
			h->writable = true;
		if (n == cap) {
			uint64_t *v = realloc(starts, (cap = cap ? cap * 2 : 8) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			starts = v;
		}
		starts[n++] = start;
	}
	/* maps can be empty for a process we may not read: it then says nothing. */
	if (n > 0)
		scan_smaps(pid_dir, starts, n, h);
	return 0;
}

/* Effective uid, command and unit of a holder. */
static void holder_identify(int pid_dir, struct holder *h)
{
	char line[256];
	int fd = openat(pid_dir, "status", O_RDONLY | O_CLOEXEC);
	_cleanup_(fclosep) FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	unsigned ruid, euid;

	if (!f)
		safe_close(fd);
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2)
			h->uid = euid;
	fd = openat(pid_dir, "comm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t len = read(fd, h->command, sizeof(h->command) - 1);
		h->command[len > 0 ? len : 0] = '\0';
		if (len > 0 && h->command[len - 1] == '\n')
			h->command[len - 1] = '\0';
		safe_close(fd);
	}
	if (sd_pid_get_unit(h->pid, &h->unit) < 0)
		h->unit = NULL;
}

static int holders_push(struct holders *hs, const struct holder *h)
{
	if (hs->n == HOLDERS_MAX) {
		hs->truncated = true;
		return 0;
	}
	struct holder *v = realloc(hs->v, (hs->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	hs->v = v;
	hs->v[hs->n++] = *h;
	return 0;
}

/* Look at one process. 0 or -ENOMEM. */
static int scan_pid(int proc, const char *name, const struct target *t, struct holders *hs)
{
	_cleanup_close_ int pid_dir = openat(proc, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct holder h = { .pid = atoi(name) };

	if (pid_dir < 0)
		return 0; /* gone */
	hs->scanned++;
	int rf = scan_fds(pid_dir, t, &h);
	int rm = scan_maps(pid_dir, t, &h);
	if (rm == -ENOMEM)
		return rm;
	if (rf < 0 || rm < 0)
		hs->unreadable++;
	if (h.fds == 0 && h.mapped == 0)
		return 0;
	holder_identify(pid_dir, &h);
	int r = holders_push(hs, &h);
	if (r < 0 || hs->truncated)
		free(h.unit);
	return r;
}

int holders_scan(int fd, struct holders *ret)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct holders hs = { 0 };
	uint64_t start = mono_usec();
	pid_t self = getpid();
	struct dirent *e;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!d)
		return negative_errno();
	struct target t = { st.st_dev, st.st_ino };
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == self)
			continue;
		int r = scan_pid(dirfd(d), e->d_name, &t, &hs);
		if (r < 0) {
			holders_done(&hs);
			return r;
		}
		if (mono_usec() - start > HOLDERS_SCAN_BUDGET_USEC) {
			hs.incomplete = true;
			break;
		}
	}
	hs.usec = mono_usec() - start;
	*ret = hs;
	return 0;
}

void holders_done(struct holders *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].unit);
	free(h->v);
	*h = (struct holders){ 0 };
}
