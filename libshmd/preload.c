/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd-preload: shm_open(), shm_unlink() and (opt-in) memfd_create() of unmodified programs routed to shmd. */

#include <dlfcn.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libshmd-private.h"
#include "name.h"

/*
 * Every POSIX name "/NAME" is the shmd region "posix/NAME": one namespace for the whole
 * machine, as /dev/shm is, so any process may open an object by name if its mode allows.
 */
#define POSIX_PREFIX "posix/"
#define POSIX_PREFIX_LEN (sizeof(POSIX_PREFIX) - 1)
/* glibc's __shm_get_name() fits "/dev/shm/" + the name in a buffer: longer is EINVAL. */
#define GLIBC_NAME_BUFFER_MAX 259
/* What the kernel accepts as one path component (longer: ENAMETOOLONG). */
#define KERNEL_NAME_MAX 255
/* What fits in a shmd name after the prefix. */
#define SHMD_POSIX_NAME_MAX (SHMD_NAME_MAX - POSIX_PREFIX_LEN)
/* Open flags glibc passes on to open() that a description can carry (F_SETFL or a re-open). */
#define REOPEN_FLAGS (O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_NOATIME | O_ASYNC)
/* Open flags we know; anything else (O_PATH, O_TMPFILE, O_DIRECT) is refused with EINVAL. */
#define KNOWN_FLAGS                                                                                \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |              \
	 O_LARGEFILE | O_DIRECTORY | REOPEN_FLAGS)

enum route {
	ROUTE_UNKNOWN, /* not decided yet: the first call connects */
	ROUTE_SHMD,    /* shmd answered: every call goes there from now on */
	ROUTE_LIBC,    /* shmd was not running and fallback is on: the C library's functions */
};
/* What the shmd paths return (instead of an fd or -errno) to hand a call to the C library. */
#define USE_LIBC INT_MIN

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t umask_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct shmd_ctx *ctx;
static enum route route;
static bool fallback = true, verbose;
static int sock_floor; /* where our socket should be: near the top of the fd table */
static dev_t sock_dev;
static ino_t sock_ino;
static int (*real_shm_open)(const char *, int, mode_t);
static int (*real_shm_unlink)(const char *);
static bool memfd_routing; /* SHMD_PRELOAD_MEMFD */
static int (*real_memfd_create)(const char *, unsigned);
static long (*real_syscall)(long, ...);

static void atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void atfork_child(void)
{
	/* libshmd notices the fork itself and connects again: the parent's socket is not used. */
	pthread_mutex_init(&lock, NULL);
	pthread_mutex_init(&umask_lock, NULL);
}

static bool env_bool(const char *name, bool def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	return !(strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
		 strcasecmp(v, "off") == 0);
}

static void init_once(void)
{
	real_shm_open = (int (*)(const char *, int, mode_t))dlsym(RTLD_NEXT, "shm_open");
	real_shm_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "shm_unlink");
	real_memfd_create = (int (*)(const char *, unsigned))dlsym(RTLD_NEXT, "memfd_create");
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	memfd_routing = env_bool("SHMD_PRELOAD_MEMFD", false);
	fallback = env_bool("SHMD_PRELOAD_FALLBACK", true);
	verbose = env_bool("SHMD_PRELOAD_VERBOSE", false);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Keep our socket out of the low fds, so that the region fds we return are the lowest free. */
static void socket_move_high(void)
{
	struct rlimit rl;
	struct stat st;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 8) {
		long floor = rl.rlim_cur > 96 ? (long)rl.rlim_cur - 32 : (long)rl.rlim_cur / 2;
		sock_floor = (int)MIN(floor, INT_MAX);
		if (ctx->fd < floor) {
			int fd = fcntl(ctx->fd, F_DUPFD_CLOEXEC, (int)floor);
			if (fd >= 0) {
				close(ctx->fd);
				ctx->fd = fd;
			}
		}
	}
	if (fstat(ctx->fd, &st) == 0)
		sock_dev = st.st_dev, sock_ino = st.st_ino;
}

/*
 * The program may have closed our socket (closefrom() before exec, say) and reused its number:
 * never write a request into someone else's file. Forget the fd then (it is not ours to close).
 */
static void socket_check(void)
{
	struct stat st;

	/* After fork() too: libshmd closes the inherited fd, which must still be ours. */
	if (ctx->fd < 0)
		return;
	if (fstat(ctx->fd, &st) < 0 || st.st_dev != sock_dev || st.st_ino != sock_ino) {
		ctx->fd = -1;
		vl_reader_done(&ctx->reader);
		ctx->list = NULL;
	}
}

static void say_fallback(int err)
{
	static bool said;

	if (!verbose || said)
		return;
	said = true;
	fprintf(stderr, "libshmd-preload: shmd is not running at %s (%s): %s\n",
		ctx ? shmd_ctx_get_socket(ctx) : "?", strerror(err),
		fallback ? "using the C library's shm_open()" :
			   "shm_open() fails (SHMD_PRELOAD_FALLBACK=0)");
}

/* With the lock held: where this call goes. ROUTE_SHMD leaves ctx connected. -errno if neither. */
static int route_get(void)
{
	if (route == ROUTE_LIBC)
		return ROUTE_LIBC;
	if (!ctx && !(ctx = shmd_ctx_new(NULL)))
		return -ENOMEM;
	socket_check();
	uint64_t conn = ctx->conn_id;
	int r = shmd_ctx_connect(ctx);
	if (r < 0) {
		if (route == ROUTE_SHMD)
			return r; /* shmd went away after we used it: no silent split namespace */
		if (r != -ENOENT && r != -ECONNREFUSED && r != -ENOTDIR)
			return r; /* EMFILE and the like: shmd may well be running */
		say_fallback(-r);
		if (!fallback)
			return r == -ENOENT ? -ECONNREFUSED : r;
		route = ROUTE_LIBC;
		return ROUTE_LIBC;
	}
	/* A new connection, or one that could not move up when made (the table was full then). */
	if (ctx->conn_id != conn || ctx->fd < sock_floor)
		socket_move_high();
	route = ROUTE_SHMD;
	return ROUTE_SHMD;
}

/*
 * glibc's name rules (__shm_get_name() plus what the kernel says about the path): leading
 * slashes skipped, then 1..255 bytes without '/'. Returns the length, or -errno for
 * shm_open(); *is_dot is set for "." and "..", which name /dev/shm itself.
 */
static int name_parse(const char **name, bool *is_dot)
{
	const char *n = *name;

	while (*n == '/')
		n++;
	size_t len = strlen(n);
	*name = n;
	*is_dot = (len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.');
	if (len == 0 || len > GLIBC_NAME_BUFFER_MAX || memchr(n, '/', len))
		return -EINVAL;
	if (len > KERNEL_NAME_MAX)
		return -ENAMETOOLONG;
	return (int)len;
}

static void shmd_name(char *buf, const char *name, size_t len)
{
	memcpy(buf, POSIX_PREFIX, POSIX_PREFIX_LEN);
	memcpy(buf + POSIX_PREFIX_LEN, name, len + 1);
}

/*
 * The umask. Reading it costs: umask() twice would race with other threads creating files
 * (they would see a 0 umask in between), and /proc/self/status costs ~25 µs. So we read
 * /proc once and then follow the program's umask() calls, which we interpose below.
 * -1: not read yet.
 */
static int umask_cached = -1;

static mode_t umask_from_proc(void)
{
	char buf[4096];
	mode_t mask = 022;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mask;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return mask;
	buf[n] = 0;
	const char *p = strstr(buf, "\nUmask:");
	if (p)
		mask = (mode_t)strtoul(p + 7, NULL, 8);
	return mask;
}

static mode_t current_umask(void)
{
	int m = __atomic_load_n(&umask_cached, __ATOMIC_ACQUIRE);
	if (m < 0) {
		m = (int)umask_from_proc();
		int unset = -1; /* a umask() call since wins */
		__atomic_compare_exchange_n(&umask_cached, &unset, m, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
		m = __atomic_load_n(&umask_cached, __ATOMIC_ACQUIRE);
	}
	return (mode_t)m;
}

/* The C library's umask(), remembering the value (in the kernel's order when threads race). */
_export_ mode_t umask(mode_t mask)
{
	pthread_mutex_lock(&umask_lock);
	mode_t old = (mode_t)syscall(SYS_umask, mask);
	__atomic_store_n(&umask_cached, (int)(mask & 0777), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&umask_lock);
	return old;
}

/* The fd of a region reply (index "fileDescriptor" into fds); the others are closed. */
static int reply_fd(json_object *reply, int *fds, size_t n_fds, int *ret)
{
	uint64_t index;
	int r = json_get_u64(vl_message_parameters(reply), "fileDescriptor", &index);

	if (r < 0 || index >= n_fds) {
		close_fds(fds, n_fds);
		return -EPROTO;
	}
	*ret = TAKE_FD(fds[index]);
	close_fds(fds, n_fds);
	return 0;
}

static int region_call(const char *method, struct text *t, int *ret_fd)
{
	_cleanup_json_ json_object *reply = NULL;
	int fds[VL_MAX_FDS];
	size_t n_fds = 0;

	text_lit(t, ",\"withRegion\":false");
	int r = call_method_text(ctx, method, t, &reply, fds, &n_fds);
	text_done(t);
	if (r < 0)
		return r;
	return reply_fd(reply, fds, n_fds, ret_fd);
}

static const char *access_of(bool writable)
{
	return writable ? ",\"access\":\"read_write\"" : ",\"access\":\"read_only\"";
}

/* Exclusive Create of size 0 with exactly this mode (0 included); the fd as asked. */
static int do_create(const char *sname, mode_t mode, bool writable, int *ret_fd)
{
	struct text t;
	text_init(&t);
	ctx_clear_error(ctx);
	call_text_begin(&t, "io.shmd.Manager.Create");
	text_name(&t, "name", sname);
	text_lit(&t, ",\"size\":0,\"mode\":");
	text_uint(&t, mode);
	text_lit(&t, ",\"exclusive\":true");
	text_add(&t, access_of(writable), strlen(access_of(writable)));
	return region_call("io.shmd.Manager.Create", &t, ret_fd);
}

static int do_open(const char *sname, bool writable, int *ret_fd)
{
	struct text t;
	text_init(&t);
	ctx_clear_error(ctx);
	call_text_begin(&t, "io.shmd.Manager.Open");
	text_name(&t, "name", sname);
	text_add(&t, access_of(writable), strlen(access_of(writable)));
	return region_call("io.shmd.Manager.Open", &t, ret_fd);
}

/* O_TRUNC on an existing object: the kernel wants write permission, even with O_RDONLY. */
static int truncate_existing(const char *sname, int fd, bool writable)
{
	if (writable)
		return ftruncate(fd, 0) < 0 ? negative_errno() : 0;
	_cleanup_close_ int rw = -1;
	int r = do_open(sname, true, &rw);
	if (r < 0)
		return r;
	return ftruncate(rw, 0) < 0 ? negative_errno() : 0;
}

/*
 * Open or create, as open(2) on /dev/shm would: O_CREAT tries an exclusive Create and
 * falls back to Open if the name exists (and back again if it went in between), so that
 * O_EXCL is atomic and a plain O_CREAT never adopts through the daemon's non-exclusive path.
 * *created says whether we made it.
 */
static int open_or_create(const char *sname, int oflag, mode_t mode, bool writable, int *ret_fd,
			  bool *created)
{
	*created = false;
	for (int attempt = 0; attempt < 1000; attempt++) {
		int r;
		if (oflag & O_CREAT) {
			r = do_create(sname, mode, writable, ret_fd);
			/* EMFILE: made, but its fd did not fit in our table (MSG_CTRUNC). */
			if (r >= 0 || r == -EMFILE) {
				*created = true;
				return r;
			}
			if (r != -EEXIST || (oflag & O_EXCL))
				return r;
		}
		r = do_open(sname, writable, ret_fd);
		if (r != -ENOENT || !(oflag & O_CREAT))
			return r;
	}
	return -EAGAIN;
}

/* Give the description the flags glibc would have passed to open(): a re-open in the same slot. */
static int reopen_with(int fd, int oflag)
{
	char path[64];
	int flags = (oflag & (O_ACCMODE | REOPEN_FLAGS)) | O_CLOEXEC;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int nfd = open(path, flags);
	if (nfd < 0)
		return negative_errno();
	int r = dup3(nfd, fd, O_CLOEXEC) < 0 ? negative_errno() : 0;
	close(nfd);
	return r;
}

/* The received fd in the lowest free slot (it is already, unless we connected during the call). */
static int lowest_slot(int fd)
{
	int low = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (low < 0 || low > fd) {
		if (low >= 0)
			close(low);
		return fd;
	}
	close(fd);
	return low;
}

static int preload_open(const char *sname, int oflag, mode_t mode)
{
	int acc = oflag & O_ACCMODE;
	bool writable = acc != O_RDONLY;
	bool created;
	int fd = -1;

	if (oflag & O_CREAT)
		mode &= 0666 & ~current_umask();
	uint64_t conn = ctx->conn_id;
	int r = open_or_create(sname, oflag, mode, writable, &fd, &created);
	if (r == -EMFILE && created)
		(void)shmd_delete(ctx, sname); /* the fd table was full: no object, as open(2) */
	if (r < 0)
		return r;
	if (ctx->conn_id != conn) {
		socket_move_high();
		fd = lowest_slot(fd);
	}
	if (!created && (oflag & O_TRUNC))
		r = truncate_existing(sname, fd, writable);
	if (r >= 0 && (oflag & O_DIRECTORY))
		r = -ENOTDIR;
	if (r >= 0 && (acc != O_RDWR && acc != O_RDONLY ? true : (oflag & REOPEN_FLAGS) != 0))
		r = reopen_with(fd, oflag);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Returns USE_LIBC, or the result of the call through shmd (-errno on failure). */
static int shm_open_shmd(const char *name, int oflag, mode_t mode)
{
	char sname[SHMD_NAME_MAX + 1];
	bool is_dot;
	int len = name_parse(&name, &is_dot);

	if (len >= 0 && is_dot)
		return USE_LIBC; /* "." and "..": what glibc does with /dev/shm itself */
	if (len < 0)
		return len;
	if ((oflag & ~KNOWN_FLAGS) || ((oflag & O_DIRECTORY) && (oflag & O_CREAT)))
		return -EINVAL;
	if ((size_t)len > SHMD_POSIX_NAME_MAX)
		return (oflag & O_CREAT) ? -ENAMETOOLONG : -ENOENT; /* no such name can exist */
	shmd_name(sname, name, (size_t)len);

	pthread_mutex_lock(&lock);
	int r = route_get();
	if (r == ROUTE_SHMD)
		r = preload_open(sname, oflag, mode);
	else if (r == ROUTE_LIBC)
		r = USE_LIBC;
	pthread_mutex_unlock(&lock);
	return r;
}

_export_ int shm_open(const char *name, int oflag, mode_t mode)
{
	pthread_once(&once, init_once);
	int r = shm_open_shmd(name, oflag, mode);
	if (r == USE_LIBC)
		return real_shm_open ? real_shm_open(name, oflag, mode) : (errno = ENOSYS, -1);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

static int shm_unlink_shmd(const char *name)
{
	char sname[SHMD_NAME_MAX + 1];
	bool is_dot;
	int len = name_parse(&name, &is_dot);

	if (len >= 0 && is_dot)
		return USE_LIBC;
	if (len == -EINVAL)
		return -ENOENT; /* glibc's shm_unlink() says ENOENT for every bad name */
	if (len < 0)
		return len;
	if ((size_t)len > SHMD_POSIX_NAME_MAX)
		return -ENOENT;
	shmd_name(sname, name, (size_t)len);

	pthread_mutex_lock(&lock);
	int r = route_get();
	if (r == ROUTE_SHMD) {
		uint64_t conn = ctx->conn_id;
		r = shmd_delete(ctx, sname);
		if (ctx->conn_id != conn)
			socket_move_high();
	} else if (r == ROUTE_LIBC) {
		r = USE_LIBC;
	}
	pthread_mutex_unlock(&lock);
	return r == -EPERM ? -EACCES : r;
}

_export_ int shm_unlink(const char *name)
{
	pthread_once(&once, init_once);
	int r = shm_unlink_shmd(name);
	if (r == USE_LIBC)
		return real_shm_unlink ? real_shm_unlink(name) : (errno = ENOSYS, -1);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- memfd_create() routing */

/* The kernel's memfd_create(2) flags (older headers lack the newest). */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#define MFD_ALL_FLAGS (MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)
/* MFD_HUGE_MASK << MFD_HUGE_SHIFT: the huge page size, allowed only with MFD_HUGETLB. */
#define MFD_HUGE_BITS (0x3fU << 26)
/* MFD_NAME_MAX_LEN: NAME_MAX minus "memfd:". */
#define MEMFD_NAME_MAX 249

/* vm.memfd_noexec of our pid namespace (0 when it cannot be read). */
static int memfd_noexec_sysctl(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/vm/memfd_noexec", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	return atoi(buf);
}

/* The kernel's sanitize_flags(): unknown bits, size bits without MFD_HUGETLB, EXEC with NOEXEC_SEAL. */
static int memfd_check_flags(unsigned flags)
{
	unsigned allowed = MFD_ALL_FLAGS | ((flags & MFD_HUGETLB) ? MFD_HUGE_BITS : 0);

	if ((flags & ~allowed) || ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL)))
		return -EINVAL;
	/* vm.memfd_noexec = 2 refuses what would be executable: the kernel checks it next. */
	if (!(flags & MFD_NOEXEC_SEAL) && memfd_noexec_sysctl() >= 2)
		return -EACCES;
	return 0;
}

/*
 * The name as the kernel's strncpy_from_user() takes it: -EFAULT for memory we may not read
 * (read with process_vm_readv(), which reports a bad address instead of faulting), -EINVAL
 * when longer than 249 bytes.
 */
static int memfd_copy_name(const char *uname, char buf[MEMFD_NAME_MAX + 2])
{
	size_t got = 0;

	while (got < MEMFD_NAME_MAX + 1) {
		uintptr_t a = (uintptr_t)uname + got;
		/* Never past the page the next byte is on: the NUL may be its last byte. */
		size_t chunk = MIN(4096 - (a & 4095), MEMFD_NAME_MAX + 1 - got);
		/* NOLINTNEXTLINE(performance-no-int-to-ptr): the caller's pointer, page arithmetic */
		struct iovec local = { buf + got, chunk }, remote = { (void *)a, chunk };
		ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
			/* Not allowed here (a seccomp filter): read it directly, as glibc would. */
			if (!uname)
				return -EFAULT;
			size_t len = strnlen(uname, MEMFD_NAME_MAX + 1);
			if (len > MEMFD_NAME_MAX)
				return -EINVAL;
			memcpy(buf, uname, len + 1);
			return 0;
		}
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, 0, (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -EINVAL;
}

/* The errno of a SystemError reply (the daemon's memfd_create()), else r. */
static int daemon_errno(int r)
{
	const char *name = shmd_ctx_get_error_name(ctx);
	uint64_t e;

	if (name && strcmp(name, "io.shmd.Manager.SystemError") == 0) {
		_cleanup_json_ json_object *p = json_tokener_parse(ctx->error_parameters ?: "{}");
		if (json_get_u64(p, "errno", &e) == 0 && e > 0 && e < 4096)
			return -(int)e;
	}
	/* Quotas and the daemon's limits: the kernel would say it is out of memory. */
	if (r == -EDQUOT || r == -ENOSPC)
		return -ENOMEM;
	return r;
}

static int memfd_call(const char *name, unsigned flags)
{
	struct text t;
	int fd = -1;

	text_init(&t);
	ctx_clear_error(ctx);
	call_text_begin(&t, "io.shmd.Manager.CreateAnonymous");
	text_name(&t, "name", name);
	text_lit(&t, ",\"flags\":");
	text_uint(&t, flags & ~MFD_CLOEXEC);
	uint64_t conn = ctx->conn_id;
	int r = region_call("io.shmd.Manager.CreateAnonymous", &t, &fd);
	if (r < 0)
		return r == -EMFILE ? r : daemon_errno(r);
	if (ctx->conn_id != conn) {
		socket_move_high();
		fd = lowest_slot(fd);
	}
	/* libshmd receives with MSG_CMSG_CLOEXEC: clear it unless asked for. */
	if (!(flags & MFD_CLOEXEC) && fcntl(fd, F_SETFD, 0) < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	return fd;
}

/* Returns USE_LIBC, or the result through shmd (-errno on failure). */
static int memfd_create_shmd(const char *uname, unsigned flags)
{
	char name[MEMFD_NAME_MAX + 2];

	if (!memfd_routing)
		return USE_LIBC;
	int r = memfd_check_flags(flags);
	if (r == 0)
		r = memfd_copy_name(uname, name);
	if (r < 0)
		return r;
	pthread_mutex_lock(&lock);
	r = route_get();
	if (r == ROUTE_SHMD)
		r = memfd_call(name, flags);
	else if (r == ROUTE_LIBC)
		r = USE_LIBC;
	pthread_mutex_unlock(&lock);
	return r;
}

static int memfd_real(const char *name, unsigned flags)
{
	if (real_memfd_create)
		return real_memfd_create(name, flags);
	return real_syscall ? (int)real_syscall(SYS_memfd_create, name, flags) :
			      (errno = ENOSYS, -1);
}

_export_ int memfd_create(const char *name, unsigned flags)
{
	pthread_once(&once, init_once);
	int r = memfd_create_shmd(name, flags);
	if (r == USE_LIBC)
		return memfd_real(name, flags);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* syscall(2): SYS_memfd_create goes where memfd_create() goes; every other number is passed on. */
_export_ long syscall(long number, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	pthread_once(&once, init_once);
	if (number == SYS_memfd_create && memfd_routing) {
		/* NOLINTNEXTLINE(performance-no-int-to-ptr): syscall(2) passes pointers as longs */
		int r = memfd_create_shmd((const char *)a[0], (unsigned)a[1]);
		if (r != USE_LIBC) {
			if (r < 0) {
				errno = -r;
				return -1;
			}
			return r;
		}
	}
	if (!real_syscall) {
		errno = ENOSYS;
		return -1;
	}
	return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
