/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memfd_create() through libshmd-preload (SHMD_PRELOAD_MEMFD=1) against the kernel's, flag by flag. */

#include <dlfcn.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "preload-test.h"
#include "testlib.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static const char *socket_path;
/* The C library's memfd_create() and syscall(): the kernel's own, for comparison. */
static int (*libc_memfd_create)(const char *, unsigned);
static long (*libc_syscall)(long, ...);

static void find_libc(void)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		bail_out("dlopen libc.so.6: %s", dlerror());
	libc_memfd_create = (int (*)(const char *, unsigned))dlsym(h, "memfd_create");
	libc_syscall = (long (*)(long, ...))dlsym(h, "syscall");
	if (!libc_memfd_create || !libc_syscall || libc_memfd_create == memfd_create)
		bail_out("cannot find the C library's memfd_create");
}

/* What a memfd looks like from its holder: everything but its inode number and times. */
static void describe(int fd, char *buf, size_t size)
{
	struct stat st;
	char link[64], target[300] = "";
	unsigned seals_after = 0;
	int seal_write, seal_any;

	if (fd < 0) {
		snprintf(buf, size, "error %s", strerrorname_np(errno) ?: "?");
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	fstat(fd, &st);
	int fd_flags = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL), seals = fcntl(fd, F_GET_SEALS);
	/* Sealing behaviour: a writable shared mapping makes F_SEAL_WRITE fail with EBUSY. */
	int trunc = ftruncate(fd, 8192) == 0 ? 0 : errno;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	seal_write = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 ? 0 : errno;
	if (m != MAP_FAILED)
		munmap(m, 4096);
	seal_any = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0 ? 0 : errno;
	seals_after = (unsigned)fcntl(fd, F_GET_SEALS);
	snprintf(buf, size,
		 "%s cloexec=%d fl=%#o mode=%#o uid=%u gid=%u size=%lld blksize=%ld nlink=%lu "
		 "seals=%#x truncate=%s mmap=%s seal_write=%s seal_shrink=%s seals_after=%#x",
		 target, fd_flags & FD_CLOEXEC, fl, st.st_mode, st.st_uid, st.st_gid,
		 (long long)st.st_size, (long)st.st_blksize, (unsigned long)st.st_nlink, seals,
		 trunc ? strerrorname_np(trunc) : "ok", m == MAP_FAILED ? "failed" : "ok",
		 seal_write ? strerrorname_np(seal_write) : "ok",
		 seal_any ? strerrorname_np(seal_any) : "ok", seals_after);
}

enum how {
	KERNEL,
	PRELOAD,
	PRELOAD_SYSCALL
};

static int make(enum how how, const char *name, unsigned flags)
{
	errno = 0;
	if (how == KERNEL)
		return libc_memfd_create(name, flags);
	if (how == PRELOAD)
		return memfd_create(name, flags);
	return (int)syscall(SYS_memfd_create, name, flags);
}

/* One call three ways (kernel, preload's memfd_create, preload's syscall): the same memfd. */
static void compare(const char *label, const char *name, unsigned flags)
{
	char want[1024], got[1024], got2[1024];
	int fd = make(KERNEL, name, flags);
	describe(fd, want, sizeof(want));
	if (fd >= 0)
		close(fd);
	fd = make(PRELOAD, name, flags);
	describe(fd, got, sizeof(got));
	if (fd >= 0)
		close(fd);
	fd = make(PRELOAD_SYSCALL, name, flags);
	describe(fd, got2, sizeof(got2));
	if (fd >= 0)
		close(fd);
	diag("kernel: %s", want);
	is_str(got, want, "%s (flags %#x): memfd_create as the kernel's", label, flags);
	is_str(got2, want, "%s (flags %#x): syscall(SYS_memfd_create) as the kernel's", label,
	       flags);
}

static void test_flags(void)
{
	static const unsigned base[] = { 0,
					 MFD_CLOEXEC,
					 MFD_ALLOW_SEALING,
					 MFD_NOEXEC_SEAL,
					 MFD_EXEC,
					 MFD_CLOEXEC | MFD_ALLOW_SEALING,
					 MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL,
					 MFD_ALLOW_SEALING | MFD_EXEC,
					 MFD_CLOEXEC | MFD_NOEXEC_SEAL,
					 MFD_EXEC | MFD_NOEXEC_SEAL,
					 MFD_HUGETLB,
					 MFD_HUGETLB | MFD_ALLOW_SEALING,
					 MFD_HUGETLB | MFD_NOEXEC_SEAL,
					 MFD_HUGETLB | MFD_HUGE_2MB,
					 MFD_HUGETLB | MFD_HUGE_1GB | MFD_CLOEXEC,
					 MFD_HUGETLB | MFD_HUGE_64KB,
					 MFD_HUGETLB | (63U << MFD_HUGE_SHIFT),
					 MFD_HUGE_2MB,
					 0x40,
					 0x80000000U };
	for (size_t i = 0; i < ELEMENTSOF(base); i++)
		compare("flags", "pl-memfd", base[i]);
}

static void test_names(void)
{
	char long_name[300];
	long page = sysconf(_SC_PAGESIZE);

	memset(long_name, 'n', sizeof(long_name));
	long_name[249] = 0;
	compare("a name of 249 bytes", long_name, MFD_CLOEXEC);
	long_name[249] = 'n';
	long_name[250] = 0;
	compare("a name of 250 bytes", long_name, MFD_CLOEXEC);
	compare("an empty name", "", 0);
	compare("a name with a slash and spaces", "a/b c", 0);
	compare("a name of bytes that are not UTF-8", "\xff\xfe", 0);
	compare("a NULL name", NULL, 0);
	compare("a name at a bad address", (const char *)16, 0);
	/* A name that ends on the last byte of a page followed by an unmapped one. */
	char *p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	munmap(p + page, (size_t)page);
	memcpy(p + page - 4, "end", 4);
	compare("a name ending at a page's end", p + page - 4, 0);
	memcpy(p + page - 3, "abc", 3);
	compare("a name running into an unmapped page", p + page - 3, 0);
	munmap(p, (size_t)page);
}

/* A Status member of the daemon at path, or -1. */
static long long status_of(const char *path, const char *key)
{
	struct test_daemon d = { .socket = (char *)path };
	_cleanup_close_ int fd = test_connect(&d);
	json_object *reply = NULL, *params, *v;
	long long n = -1;

	if (fd >= 0 && test_call(fd, "io.shmd.Manager.Status", NULL, &reply, NULL, NULL) >= 0 &&
	    json_object_object_get_ex(reply, "parameters", &params) &&
	    json_object_object_get_ex(params, key, &v))
		n = json_object_get_int64(v);
	json_object_put(reply);
	return n;
}

static long long anonymous_regions(void)
{
	return status_of(socket_path, "anonymousRegions");
}

/* Poll until the daemon holds want anonymous regions (its last holder's close is an event). */
static long long wait_anonymous(long long want)
{
	long long n = -1;
	for (int i = 0; i < 100 && (n = anonymous_regions()) != want; i++)
		usleep(20000);
	return n;
}

/* `shmctl ls --anonymous` with columns, as text. */
static char *ls_anonymous(const char *columns)
{
	char cmd[1024], *out = calloc(1, 4096);
	snprintf(cmd, sizeof(cmd), "'%s' --socket '%s' ls --anonymous -n --raw --bytes -o %s",
		 getenv("SHMCTL_BIN"), socket_path, columns);
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(out, 1, 4095, f) : 0;
	if (f)
		pclose(f);
	out[n] = 0;
	if (n && out[n - 1] == '\n')
		out[n - 1] = 0;
	return out;
}

static void test_lifetime(void)
{
	char want[128];

	is_int(wait_anonymous(0), 0, "no anonymous region to begin with");
	int fd = memfd_create("pl-life", MFD_CLOEXEC);
	ok(fd >= 0 && ftruncate(fd, 65536) == 0, "memfd_create and ftruncate 64 KiB");
	is_int(anonymous_regions(), 1, "the daemon holds it");
	snprintf(want, sizeof(want), "pl-life 65536 %u %d 1", getuid(), (int)getpid());
	_cleanup_free_ char *ls = ls_anonymous("NAME,SIZE,CUID,CPID,HOLDERS");
	is_str(ls, want, "ls --anonymous: memfd name, size, owner, creator pid, one holder");
	char *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED, "mapped");
	memset(m, 0x5a, 65536);
	close(fd);
	usleep(100000);
	is_int(anonymous_regions(), 1, "its fd closed, its mapping holds it");
	munmap(m, 65536);
	is_int(wait_anonymous(0), 0, "unmapped: the daemon let go, the memory is freed");

	fd = memfd_create("pl-fork", 0);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(300000);
		_exit(0);
	}
	close(fd);
	usleep(100000);
	is_int(anonymous_regions(), 1, "a forked child still holds it after the parent's close");
	waitpid(pid, NULL, 0);
	is_int(wait_anonymous(0), 0, "and it goes with the child");
}

/* The daemon holds no writable mapping: sealing a region nobody maps works at once. */
static void test_sealing(void)
{
	int fd = memfd_create("pl-seal", MFD_ALLOW_SEALING);
	ok(fd >= 0 && ftruncate(fd, 4096) == 0 && pwrite(fd, "x", 1, 0) == 1, "memfd written");
	is_int(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW), 0,
	       "F_SEAL_WRITE succeeds: the daemon maps nothing");
	ok(pwrite(fd, "y", 1, 0) < 0 && errno == EPERM, "sealed: writes fail with EPERM");
	close(fd);
	is_int(wait_anonymous(0), 0, "gone with its fd");
}

/* No daemon: the kernel's memfd_create by default, ECONNREFUSED with SHMD_PRELOAD_FALLBACK=0. */
static void test_fallback(const char *self)
{
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof(sock), "%s.none", socket_path);
	is_int(preload_rerun(self, "fallback", sock), 0, "no shmd: the kernel's memfd_create");
	setenv("SHMD_PRELOAD_FALLBACK", "0", 1);
	is_int(preload_rerun(self, "fallback", sock), 0,
	       "no shmd, SHMD_PRELOAD_FALLBACK=0: ECONNREFUSED");
	unsetenv("SHMD_PRELOAD_FALLBACK");
}

/* Churn: the last holder often goes before the daemon is done with the call. */
static void test_churn(void)
{
	bool all = true;
	for (int i = 0; i < 300 && all; i++) {
		int fd = memfd_create("pl-churn", MFD_CLOEXEC);
		all = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	ok(all, "300 memfd_create + close");
	is_int(wait_anonymous(0), 0, "the daemon serves on and holds none of them");
}

/* In child_restart(): the step that failed is the exit status, and said on stderr. */
#define STEP(n, cond, what)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "restart step %d failed: %s\n", n, what);                  \
			return n;                                                                  \
		}                                                                                  \
	} while (0)

/*
 * A restart of the daemon (shmd --supervise, its worker killed), run under the preload against
 * the supervised daemon: anonymous regions are not persisted, so the program's memfd lives on
 * as the kernel's alone (its data intact), and the new worker neither lists nor charges it;
 * named regions are restored as before. 0, or the failed step.
 */
static int child_restart(void)
{
	socket_path = getenv("SHMD_SOCKET");
	int named = shm_open("/pl-restart-named", O_CREAT | O_EXCL | O_RDWR, 0600);
	STEP(10, named >= 0, "shm_open makes a named region");
	close(named);
	int fd = memfd_create("pl-restart", MFD_ALLOW_SEALING);
	STEP(1, fd >= 0 && ftruncate(fd, 4096) == 0 && pwrite(fd, "kept", 4, 0) == 4,
	     "memfd_create through the supervised daemon, written");
	STEP(2, anonymous_regions() == 1, "the daemon holds it");
	long long regions = status_of(socket_path, "regions");
	pid_t worker = (pid_t)status_of(socket_path, "pid");
	STEP(3, worker > 0 && kill(worker, SIGKILL) == 0, "kill -9 the serving process");
	long long pid = -1;
	for (int i = 0; i < 200 && (pid < 0 || pid == worker); i++) {
		usleep(50000);
		pid = status_of(socket_path, "pid");
	}
	STEP(4, pid > 0 && pid != worker, "a new worker serves");
	STEP(5, anonymous_regions() == 0, "it does not list or charge the anonymous region");
	STEP(6, regions == 1 && status_of(socket_path, "regions") == 1, "the named region is back");
	STEP(11, shm_unlink("/pl-restart-named") == 0, "and can be unlinked");
	char buf[8] = "";
	STEP(7,
	     pread(fd, buf, 4, 0) == 4 && memcmp(buf, "kept", 4) == 0 &&
		     fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0,
	     "the program's memfd is intact and still its own to seal");
	close(fd);
	int fd2 = memfd_create("pl-after", 0);
	STEP(8, fd2 >= 0 && anonymous_regions() == 1, "the new worker makes and holds a new one");
	close(fd2);
	STEP(9, wait_anonymous(0) == 0, "until its fd goes");
	return 0;
}

static void test_restart(const char *self)
{
	is_int(preload_rerun(self, "restart", getenv("PL_SUPERVISED_SOCKET")), 0,
	       "a daemon restart: the program keeps its memfd, the new daemon neither lists nor "
	       "charges it, and serves new ones");
}

static int child_main(const char *self)
{
	socket_path = getenv("SHMD_SOCKET");
	find_libc();
	plan_no_plan();
	test_fallback(self);
	test_flags();
	test_names();
	test_sealing();
	test_lifetime();
	test_churn();
	test_restart(self);
	return done_testing();
}

/* No daemon, routing on: the kernel's memfd_create (fallback) or ECONNREFUSED. */
static int child_fallback(void)
{
	int fd = memfd_create("pl-fallback", 0);
	if (getenv("SHMD_PRELOAD_FALLBACK"))
		return fd < 0 && errno == ECONNREFUSED ? 0 : 1;
	return fd >= 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_main(argv[0]);
	if (argc > 1 && strcmp(argv[1], "fallback") == 0)
		return child_fallback();
	if (argc > 1 && strcmp(argv[1], "restart") == 0)
		return child_restart();
	if (test_under_valgrind()) {
		printf("1..0 # SKIP the preload runs the program again: not under valgrind\n");
		return 0;
	}
	if (access(preload_library(), R_OK) < 0)
		bail_out("%s: %m", preload_library());

	struct test_daemon d, sup;
	const char *sup_args[] = { "--supervise", NULL };
	int r = test_daemon_start(&d, NULL);
	if (r >= 0)
		r = test_daemon_start(&sup, sup_args);
	if (r < 0)
		bail_out("cannot start shmd: %s", strerror(-r));
	setenv("SHMD_PRELOAD_MEMFD", "1", 1);
	setenv("PL_SUPERVISED_SOCKET", sup.socket, 1);
	fflush(stdout);
	r = preload_rerun(argv[0], "child", d.socket);
	int stopped = test_daemon_stop(&d), stopped2 = test_daemon_stop(&sup);
	if (r != 0 || stopped != 0 || stopped2 != 0) {
		fprintf(stderr, "child %d, daemons %d %d\n", r, stopped, stopped2);
		return 1;
	}
	return 0;
}
