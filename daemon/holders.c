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

int holders_each_fd(int pid_dir, holders_fd_fn fn, void *userdata)
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
		fn(userdata, pid_dir, e->d_name, &st);
	}
	return 0;
}

struct fds_of {
	const struct target *t;
	struct holder *h;
};

static void fd_of_target(void *userdata, int pid_dir, const char *name, const struct stat *st)
{
	struct fds_of *f = userdata;

	if (st->st_ino != f->t->ino || st->st_dev != f->t->dev)
		return;
	f->h->fds++;
	if (!f->h->writable && fd_writable(pid_dir, name))
		f->h->writable = true;
}

/* The process's fds on the target: count and writability. 0, or -errno (unreadable). */
static int scan_fds(int pid_dir, const struct target *t, struct holder *h)
{
	return holders_each_fd(pid_dir, fd_of_target, &(struct fds_of){ t, h });
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

int holders_each_map(int pid_dir, holders_map_fn fn, void *userdata)
{
	int fd = openat(pid_dir, "maps", O_RDONLY | O_CLOEXEC);
	_cleanup_(fclosep) FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	char line[4096];

	if (!f) {
		safe_close(fd);
		return -EACCES;
	}
	while (fgets(line, sizeof(line), f)) {
		struct holders_map m;
		uint64_t off, ino;
		unsigned maj, min;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64, &m.start,
			   &m.end, m.perms, &off, &maj, &min, &ino) != 7 ||
		    ino == 0)
			continue;
		m.dev = makedev(maj, min);
		m.ino = (ino_t)ino;
		if (fn(userdata, &m) < 0)
			return -ENOMEM;
	}
	return 0;
}

struct maps_of {
	const struct target *t;
	struct holder *h;
	uint64_t *starts;
	size_t n, cap;
};

static int map_of_target(void *userdata, const struct holders_map *m)
{
	struct maps_of *mo = userdata;

	if (m->ino != mo->t->ino || m->dev != mo->t->dev)
		return 0;
	mo->h->mapped += m->end - m->start;
	if (m->perms[1] == 'w' && m->perms[3] == 's')
		mo->h->writable = true;
	if (mo->n == mo->cap) {
		uint64_t *v =
			realloc(mo->starts, (mo->cap = mo->cap ? mo->cap * 2 : 8) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		mo->starts = v;
	}
	mo->starts[mo->n++] = m->start;
	return 0;
}

/* The process's mappings of the target (from maps, then smaps for their Rss and Swap). */
static int scan_maps(int pid_dir, const struct target *t, struct holder *h)
{
	struct maps_of mo = { .t = t, .h = h };
	int r = holders_each_map(pid_dir, map_of_target, &mo);

	/* maps can be empty for a process we may not read: it then says nothing. */
	if (r == 0 && mo.n > 0)
		scan_smaps(pid_dir, mo.starts, mo.n, h);
	free(mo.starts);
	return r;
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

int holders_each_pid(holders_pid_fn fn, void *userdata)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	pid_t self = getpid();
	struct dirent *e;

	if (!d)
		return negative_errno();
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == self)
			continue;
		_cleanup_close_ int pid_dir =
			openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pid_dir < 0)
			continue; /* gone */
		int r = fn(userdata, (pid_t)atoi(e->d_name), pid_dir);
		if (r != 0)
			return r;
	}
	return 0;
}

struct scan_one {
	struct target t;
	struct holders hs;
	uint64_t start;
};

/* Look at one process. 0, 1 (out of time) or -ENOMEM. */
static int scan_pid(void *userdata, pid_t pid, int pid_dir)
{
	struct scan_one *so = userdata;
	struct holders *hs = &so->hs;
	struct holder h = { .pid = pid };

	hs->scanned++;
	int rf = scan_fds(pid_dir, &so->t, &h);
	int rm = scan_maps(pid_dir, &so->t, &h);
	if (rm == -ENOMEM)
		return rm;
	if (rf < 0 || rm < 0)
		hs->unreadable++;
	if (h.fds > 0 || h.mapped > 0) {
		holder_identify(pid_dir, &h);
		int r = holders_push(hs, &h);
		if (r < 0 || hs->truncated)
			free(h.unit);
		if (r < 0)
			return r;
	}
	return mono_usec() - so->start > HOLDERS_SCAN_BUDGET_USEC;
}

int holders_scan(dev_t dev, ino_t ino, struct holders *ret)
{
	struct scan_one so = { .t = { dev, ino }, .start = mono_usec() };
	int r = holders_each_pid(scan_pid, &so);

	if (r < 0) {
		holders_done(&so.hs);
		return r;
	}
	so.hs.incomplete = r > 0;
	so.hs.usec = mono_usec() - so.start;
	*ret = so.hs;
	return 0;
}

void holders_done(struct holders *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].unit);
	free(h->v);
	*h = (struct holders){ 0 };
}
