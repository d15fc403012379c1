/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libshmd-preload: shm_open()/shm_unlink() of a program run under LD_PRELOAD, against a private shmd. */

#include <dlfcn.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "preload-test.h"
#include "testlib.h"

static const char *socket_path;

/* glibc's own functions, for comparison (RTLD_NEXT from here would find the preload's). */
static int (*libc_shm_open)(const char *, int, mode_t);
static int (*libc_shm_unlink)(const char *);

static void find_libc(void)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		bail_out("dlopen libc.so.6: %s", dlerror());
	libc_shm_open = (int (*)(const char *, int, mode_t))dlsym(h, "shm_open");
	libc_shm_unlink = (int (*)(const char *))dlsym(h, "shm_unlink");
	if (!libc_shm_open || !libc_shm_unlink || libc_shm_open == shm_open)
		bail_out("cannot find the C library's shm_open");
}

/* Does the daemon hold region "posix/<name>"? 1, 0, or -errno. */
static int daemon_has(const char *name)
{
	_cleanup_close_ int fd = -1;
	struct test_daemon d = { .socket = (char *)socket_path };
	fd = test_connect(&d);
	if (fd < 0)
		return fd;
	char full[300];
	snprintf(full, sizeof(full), "posix/%s", name);
	json_object *p = json_object_new_object(), *reply = NULL;
	json_object_object_add(p, "name", json_object_new_string(full));
	int r = test_call(fd, "io.shmd.Manager.Stat", p, &reply, NULL, NULL);
	if (r >= 0)
		r = test_reply_error(reply) ? 0 : 1;
	json_object_put(reply);
	return r;
}

static bool in_dev_shm(const char *name)
{
	char path[300];
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	return access(path, F_OK) == 0;
}

/* One name through glibc and through the preload: same result and errno, for open and unlink. */
static void compare_name(const char *label, const char *name, int oflag, int want_err)
{
	errno = 0;
	int a = libc_shm_open(name, oflag, 0600), ea = errno;
	errno = 0;
	int b = shm_open(name, oflag, 0600), eb = errno;
	if (want_err < 0) /* no documented difference: exactly glibc's */
		ok((a >= 0) == (b >= 0) && (a >= 0 || ea == eb), "%s: open like glibc (%s / %s)",
		   label, a >= 0 ? "ok" : strerror(ea), b >= 0 ? "ok" : strerror(eb));
	else
		ok(b < 0 && eb == want_err, "%s: open fails with %s (%s)", label,
		   strerror(want_err), b >= 0 ? "ok" : strerror(eb));
	errno = 0;
	int c = libc_shm_unlink(name), ec = errno;
	errno = 0;
	int u = shm_unlink(name), eu = errno;
	if (want_err < 0)
		ok(c == u && (c == 0 || ec == eu), "%s: unlink like glibc (%s / %s)", label,
		   c == 0 ? "ok" : strerror(ec), u == 0 ? "ok" : strerror(eu));
	else
		ok(u < 0 && eu == ENOENT, "%s: unlink: ENOENT (%s)", label, strerror(eu));
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
}

static void test_names(void)
{
	char big[300];
	big[0] = '/';
	compare_name("empty", "", O_CREAT | O_RDWR, -1);
	compare_name("slash", "/", O_CREAT | O_RDWR, -1);
	compare_name("slashes", "///", O_CREAT | O_RDWR, -1);
	compare_name("no slash", "pl-noslash", O_CREAT | O_RDWR, -1);
	compare_name("two slashes", "//pl-dslash", O_CREAT | O_RDWR, -1);
	compare_name("inner slash", "/a/b", O_CREAT | O_RDWR, -1);
	compare_name("trailing slash", "/pl-x/", O_CREAT | O_RDWR, -1);
	compare_name("bytes", "/pl-a\nb\t\xff\x01", O_CREAT | O_RDWR, -1);
	compare_name("dot, create", "/.", O_CREAT | O_RDWR, -1);
	compare_name("dotdot, create", "/..", O_CREAT | O_RDWR, -1);
	compare_name("O_DIRECTORY|O_CREAT", "/pl-dir", O_CREAT | O_RDWR | O_DIRECTORY, -1);
	compare_name("O_EXCL, no O_CREAT", "/pl-excl", O_EXCL | O_RDWR, -1);
	compare_name("absent", "/pl-absent", O_RDWR, -1);
	for (int len = 248; len <= 262; len++) {
		memset(big + 1, 'n', (size_t)len);
		big[len + 1] = 0;
		char label[32];
		snprintf(label, sizeof(label), "length %d", len);
		/* shmd names hold 255 bytes, "posix/" included: 250..255 are refused (documented). */
		compare_name(label, big, O_CREAT | O_RDWR,
			     len >= 250 && len <= 255 ? ENAMETOOLONG : -1);
		compare_name(label, big, O_RDONLY, -1);
	}

	int fd = shm_open("/pl-routed\xfe", O_CREAT | O_EXCL | O_RDWR, 0600);
	ok(fd >= 0, "a non-UTF-8 name is created");
	ok(!in_dev_shm("pl-routed\xfe"), "not in /dev/shm");
	int fd2 = shm_open("pl-routed\xfe", O_RDONLY, 0);
	ok(fd2 >= 0, "and opened again by the same bytes");
	close(fd2);
	close(fd);
	ok(shm_unlink("/pl-routed\xfe") == 0, "and unlinked");
}

static void test_umask(void)
{
	struct stat st;
	/* The umask the process started with (the preload reads it once from /proc). */
	mode_t inherited = (mode_t)syscall(SYS_umask, 0);
	syscall(SYS_umask, inherited);
	int first = shm_open("/pl-umask", O_CREAT | O_EXCL | O_RDWR, 0666);
	ok(first >= 0 && fstat(first, &st) == 0 && (st.st_mode & 0777) == (0666 & ~inherited),
	   "the inherited umask %03o applies", inherited);
	close(first);
	shm_unlink("/pl-umask");
	int zero = shm_open("/pl-mode0", O_CREAT | O_EXCL | O_RDWR, 0);
	ok(zero >= 0 && fstat(zero, &st) == 0 && (st.st_mode & 0777) == 0, "mode 0 is mode 0");
	close(zero);
	shm_unlink("/pl-mode0");
}

/* Create /pl-create (mode 0640, 8 KiB mapped at *ret_p with "hello"); returns its fd. */
static int test_create(char **ret_p)
{
	struct stat st;
	umask(027);
	int fd = shm_open("/pl-create", O_CREAT | O_EXCL | O_RDWR, 0666);
	umask(022);
	ok(fd >= 0, "create");
	ok(daemon_has("pl-create") == 1, "the daemon holds posix/pl-create");
	ok(!in_dev_shm("pl-create"), "/dev/shm does not");
	ok(fstat(fd, &st) == 0 && st.st_size == 0, "size 0 at creation");
	is_int(st.st_mode & 07777, 0640, "mode is mode & ~umask");
	is_int(st.st_uid, geteuid(), "owner is the euid");
	is_int(st.st_gid, getegid(), "group is the egid");
	is_int(fcntl(fd, F_GETFD), FD_CLOEXEC, "FD_CLOEXEC");
	is_int(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR, "read-write description");
	ok(ftruncate(fd, 8192) == 0, "ftruncate");
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(p != MAP_FAILED, "mmap shared writable");
	strcpy(p, "hello");
	*ret_p = p;
	return fd;
}

/* Opens of the existing /pl-create: O_EXCL, O_CREAT, O_RDONLY, other flags. */
static void test_open_flags(void)
{
	errno = 0;
	ok(shm_open("/pl-create", O_CREAT | O_EXCL | O_RDWR, 0600) < 0 && errno == EEXIST,
	   "O_EXCL on an existing name: EEXIST");
	int again = shm_open("/pl-create", O_CREAT | O_RDWR, 0600);
	ok(again >= 0, "O_CREAT without O_EXCL opens the existing object");
	char buf[6] = { 0 };
	ok(pread(again, buf, 5, 0) == 5 && strcmp(buf, "hello") == 0, "the same memory");

	int ro = shm_open("/pl-create", O_RDONLY, 0);
	ok(ro >= 0, "O_RDONLY");
	is_int(fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY, "read-only description");
	errno = 0;
	ok(ftruncate(ro, 0) < 0, "ftruncate on it fails (%s)", strerror(errno));
	errno = 0;
	ok(mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED &&
		   errno == EACCES,
	   "a shared writable mapping of it fails with EACCES");
	ok(write(ro, "x", 1) < 0 && errno == EBADF, "write on it fails with EBADF");

	int nb = shm_open("/pl-create", O_RDWR | O_NONBLOCK | O_APPEND, 0);
	ok(nb >= 0 && (fcntl(nb, F_GETFL) & (O_NONBLOCK | O_APPEND)) == (O_NONBLOCK | O_APPEND),
	   "O_NONBLOCK|O_APPEND are on the description");
	close(nb);
	int wo = shm_open("/pl-create", O_WRONLY, 0);
	ok(wo >= 0 && (fcntl(wo, F_GETFL) & O_ACCMODE) == O_WRONLY, "O_WRONLY description");
	close(wo);
	errno = 0;
	ok(shm_open("/pl-create", O_RDWR | O_DIRECTORY, 0) < 0 && errno == ENOTDIR,
	   "O_DIRECTORY on an object: ENOTDIR");
	close(again);
	close(ro);
}

static void test_trunc(int fd, char *p)
{
	struct stat st;

	/* O_TRUNC keeps mode and owner; with O_RDONLY it truncates too, as open(2) does. */
	int tr = shm_open("/pl-create", O_RDWR | O_TRUNC, 0);
	ok(tr >= 0 && fstat(tr, &st) == 0 && st.st_size == 0, "O_TRUNC: size 0");
	is_int(st.st_mode & 07777, 0640, "O_TRUNC keeps the mode");
	is_int(st.st_uid, geteuid(), "O_TRUNC keeps the owner");
	close(tr);
	ok(ftruncate(fd, 100) == 0, "grow again");
	tr = shm_open("/pl-create", O_RDONLY | O_TRUNC, 0);
	ok(tr >= 0 && fstat(tr, &st) == 0 && st.st_size == 0 &&
		   (fcntl(tr, F_GETFL) & O_ACCMODE) == O_RDONLY,
	   "O_RDONLY|O_TRUNC truncates and stays read-only");
	int g = libc_shm_open("/pl-glibc-trunc", O_CREAT | O_RDWR, 0600);
	ok(g >= 0 && ftruncate(g, 100) == 0, "(glibc object)");
	int g2 = libc_shm_open("/pl-glibc-trunc", O_RDONLY | O_TRUNC, 0);
	ok(g2 >= 0 && fstat(g2, &st) == 0 && st.st_size == 0, "glibc does the same");
	close(g);
	close(g2);
	libc_shm_unlink("/pl-glibc-trunc");
	close(tr);
	ok(ftruncate(fd, 8192) == 0, "grow again");
	strcpy(p, "hello");
}

/* Lifetime: the name goes at once, the memory with the last fd/mapping. */
static void test_lifetime(int fd, char *p)
{
	struct stat st;

	ok(shm_unlink("/pl-create") == 0, "shm_unlink");
	errno = 0;
	ok(shm_open("/pl-create", O_RDWR, 0) < 0 && errno == ENOENT, "the name is gone at once");
	ok(daemon_has("pl-create") == 0, "from the daemon too");
	errno = 0;
	ok(shm_unlink("/pl-create") < 0 && errno == ENOENT, "a second shm_unlink: ENOENT");
	ok(strcmp(p, "hello") == 0, "the mapping still reads");
	close(fd);
	ok(strcmp(p, "hello") == 0, "after closing every fd too");
	int re = shm_open("/pl-create", O_CREAT | O_EXCL | O_RDWR, 0600);
	ok(re >= 0 && fstat(re, &st) == 0 && st.st_size == 0,
	   "the name is reusable at once: new object");
	munmap(p, 8192);
	close(re);
	shm_unlink("/pl-create");
}

static void test_lowest_fd(void)
{
	int a = shm_open("/pl-fd-a", O_CREAT | O_RDWR, 0600);
	int b = shm_open("/pl-fd-b", O_CREAT | O_RDWR, 0600);
	int c = shm_open("/pl-fd-c", O_CREAT | O_RDWR, 0600);
	ok(a >= 0 && b == a + 1 && c == b + 1, "consecutive fds %d %d %d", a, b, c);
	close(b);
	int d = shm_open("/pl-fd-b", O_RDWR, 0);
	is_int(d, b, "the lowest free fd");
	int save = fcntl(0, F_DUPFD_CLOEXEC, 100);
	close(0);
	int z = shm_open("/pl-fd-a", O_RDONLY, 0);
	is_int(z, 0, "fd 0 when it is free");
	dup2(save, 0);
	close(save);
	close(a), close(c), close(d);
	shm_unlink("/pl-fd-a"), shm_unlink("/pl-fd-b"), shm_unlink("/pl-fd-c");

	/* Every socket of ours is close-on-exec. */
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int sockets = 0, cloexec = 0;
	while (dir && (e = readdir(dir))) {
		struct stat st;
		int n = atoi(e->d_name);
		if (e->d_name[0] != '.' && n != dirfd(dir) && fstat(n, &st) == 0 &&
		    S_ISSOCK(st.st_mode)) {
			sockets++;
			cloexec += fcntl(n, F_GETFD) == FD_CLOEXEC;
		}
	}
	if (dir)
		closedir(dir);
	ok(sockets >= 1 && cloexec == sockets, "the daemon connection is close-on-exec (%d/%d)",
	   cloexec, sockets);
}

/* A program that closes every fd (closefrom()) and reuses the numbers: its files stay untouched. */
static void test_closefrom(void)
{
	char path[] = "/tmp/shmd-preload-closefrom.XXXXXX";
	int tmp = mkstemp(path);
	ok(tmp >= 0 && shm_open("/pl-closefrom", O_CREAT | O_RDWR, 0600) >= 0, "an object");
	unlink(path);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int top = (int)MIN(rl.rlim_cur, 65536);
	for (int fd = 3; fd < top; fd++)
		if (fd != tmp)
			close(fd);
	int n = 0;
	for (int fd = 64; fd < top; fd++) /* our socket's number now holds the program's file */
		if (fd != tmp && dup2(tmp, fd) == fd)
			n++;
	int fd = shm_open("/pl-closefrom", O_RDWR, 0);
	ok(fd >= 0, "shm_open after closefrom() connects again (%d numbers reused)", n);
	struct stat st;
	ok(fstat(tmp, &st) == 0 && st.st_size == 0, "the program's file got no request written");
	ok(shm_unlink("/pl-closefrom") == 0, "unlink");
	close(fd);
	for (int f = 64; f < top; f++)
		if (f != tmp)
			close(f);
	close(tmp);
}

static void test_full_table(void)
{
	struct rlimit old, rl;
	int fds[64], n = 0;

	ok(shm_open("/pl-full-old", O_CREAT | O_RDWR, 0600) >= 0, "an object to open later");
	getrlimit(RLIMIT_NOFILE, &old);
	int probe = dup(0);
	rl = old;
	rl.rlim_cur = (rlim_t)probe + 40;
	close(probe);
	setrlimit(RLIMIT_NOFILE, &rl);
	for (n = 0; n < 64; n++)
		if ((fds[n] = dup(0)) < 0)
			break;
	ok(n < 64 && errno == EMFILE, "the fd table is full (%d dups)", n);
	errno = 0;
	ok(shm_open("/pl-full-new", O_CREAT | O_EXCL | O_RDWR, 0600) < 0 && errno == EMFILE,
	   "create with a full fd table: EMFILE (%s)", strerror(errno));
	errno = 0;
	ok(shm_open("/pl-full-old", O_RDWR, 0) < 0 && errno == EMFILE,
	   "open with a full fd table: EMFILE (%s)", strerror(errno));
	while (n > 0)
		close(fds[--n]);
	setrlimit(RLIMIT_NOFILE, &old);
	ok(daemon_has("pl-full-new") == 0, "the refused create left no object");
	int fd = shm_open("/pl-full-new", O_CREAT | O_EXCL | O_RDWR, 0600);
	ok(fd >= 0, "and the name is free");
	close(fd);
	shm_unlink("/pl-full-new");
	shm_unlink("/pl-full-old");
}

static int first_socket(void)
{
	for (int fd = 3; fd < 65536; fd++) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			return fd;
	}
	return -1;
}

static void test_fork(void)
{
	int fd = shm_open("/pl-fork", O_CREAT | O_RDWR, 0600);
	ok(fd >= 0, "parent creates");
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		for (int i = 0; i < 50; i++) {
			char name[32];
			snprintf(name, sizeof(name), "/pl-fork-c%d", i);
			int f = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
			bad += f < 0 || shm_unlink(name) < 0;
			if (f >= 0)
				close(f);
		}
		int f = shm_open("/pl-fork", O_RDWR, 0);
		_exit(bad || f < 0 ? 1 : 0);
	}
	int bad = 0;
	for (int i = 0; i < 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "/pl-fork-p%d", i);
		int f = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		bad += f < 0 || shm_unlink(name) < 0;
		if (f >= 0)
			close(f);
	}
	int status;
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's calls all worked");
	is_int(bad, 0, "the parent's, interleaved, too");
	/* A child that closes every fd and reuses the numbers: libshmd must not close its files. */
	int sock = first_socket();
	ok(sock >= 64, "the connection is back near the top of the fd table (fd %d)", sock);
	pid = fork();
	if (pid == 0) {
		char path[] = "/tmp/shmd-preload-fork.XXXXXX";
		int tmp = mkstemp(path);
		unlink(path);
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		int top = (int)MIN(rl.rlim_cur, 65536);
		int window = sock < 64 ? 64 : 3; /* 8 free numbers for the new connection */
		for (int f = 3; f < top; f++)
			if (f != tmp)
				close(f);
		for (int f = 3; f < top; f++)
			if (f != tmp)
				dup2(tmp, f);
		for (int f = window; f < window + 8; f++)
			if (f != tmp)
				close(f);
		int f = shm_open("/pl-fork", O_RDWR, 0);
		struct stat st;
		bool intact = fstat(tmp, &st) == 0 && st.st_size == 0;
		for (int n = 3; n < top; n++) {
			struct stat sn;
			if (n < window || n >= window + 8)
				intact = intact && fstat(n, &sn) == 0 && sn.st_ino == st.st_ino;
		}
		_exit(f >= 0 && intact ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child that reused every fd number: its files untouched, shm_open works");
	close(fd);
	ok(shm_unlink("/pl-fork") == 0, "parent unlinks after the fork");
}

static void *thread_main(void *arg)
{
	long id = (long)arg, bad = 0;
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof(name), "/pl-thr-%ld-%d", id, i);
		int f = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		bad += f < 0 || ftruncate(f, 4096) < 0 || shm_unlink(name) < 0;
		if (f >= 0)
			close(f);
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t t[8];
	long bad = 0;
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, thread_main, (void *)i);
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	is_int(bad, 0, "8 threads x 100 create/unlink");
}

/* 1000 processes race O_CREAT|O_EXCL on one name: exactly one wins, the rest get EEXIST. */
static void test_excl_race(void)
{
	enum {
		N = 1000
	};
	int go[2];
	pid_t pids[N];
	int won = 0, lost = 0, other = 0;

	if (pipe(go) < 0)
		bail_out("pipe: %m");
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			bail_out("fork: %m");
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			int f = shm_open("/pl-race", O_CREAT | O_EXCL | O_RDWR, 0600);
			_exit(f >= 0 ? 0 : errno == EEXIST ? 1 : 2);
		}
	}
	close(go[0]);
	close(go[1]); /* everyone goes */
	for (int i = 0; i < N; i++) {
		int status;
		waitpid(pids[i], &status, 0);
		int s = WIFEXITED(status) ? WEXITSTATUS(status) : 9;
		won += s == 0, lost += s == 1, other += s > 1;
	}
	is_int(won, 1, "1000 racing O_EXCL creators: one wins");
	is_int(lost, N - 1, "the others get EEXIST (other results: %d)", other);
	shm_unlink("/pl-race");
}

/* seteuid() between calls: each call is judged by the effective ids at that moment. */
static void test_seteuid(void)
{
	struct stat st;
	if (geteuid() != 0) {
		skip(8, "seteuid needs root");
		return;
	}
	int fd = shm_open("/pl-root", O_CREAT | O_EXCL | O_RDWR, 0600);
	ok(fd >= 0, "root creates a 0600 object");
	close(fd);
	if (setegid(65534) < 0 || seteuid(65534) < 0)
		bail_out("seteuid: %m");
	errno = 0;
	ok(shm_open("/pl-root", O_RDONLY, 0) < 0 && errno == EACCES, "as 65534: open is EACCES");
	errno = 0;
	ok(shm_unlink("/pl-root") < 0 && errno == EACCES, "as 65534: unlink is EACCES");
	fd = shm_open("/pl-nobody", O_CREAT | O_EXCL | O_RDWR, 0644);
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534,
	   "as 65534: a new object is owned by 65534");
	close(fd);
	if (seteuid(0) < 0 || setegid(0) < 0)
		bail_out("seteuid back: %m");
	fd = shm_open("/pl-root", O_RDWR, 0);
	ok(fd >= 0, "as root again: open works");
	close(fd);
	fd = shm_open("/pl-nobody", O_RDWR, 0);
	ok(fd >= 0, "root opens 65534's object");
	close(fd);
	ok(shm_unlink("/pl-nobody") == 0, "root unlinks 65534's object");
	ok(shm_unlink("/pl-root") == 0, "and its own");
}

/* A daemon with --max-regions 3: its LimitReached is ENOSPC through shm_open(). */
static int child_limited(void)
{
	int fds[3], n = 0;
	for (n = 0; n < 3; n++) {
		char name[32];
		snprintf(name, sizeof(name), "/pl-limit-%d", n);
		if ((fds[n] = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600)) < 0)
			break;
	}
	errno = 0;
	int r = n == 3 && shm_open("/pl-limit-x", O_CREAT | O_EXCL | O_RDWR, 0600) < 0 &&
				errno == ENOSPC ?
			0 :
			1;
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "/pl-limit-%d", i);
		shm_unlink(name);
	}
	return r;
}

static void test_limits_and_fallback(const char *self)
{
	char dir[PATH_MAX], sock[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s", socket_path);
	*strrchr(dir, '/') = 0;
	snprintf(sock, sizeof(sock), "%s/no-such.sock", dir);

	is_int(preload_rerun(self, "limited", getenv("PL_LIMITED_SOCKET")), 0,
	       "the daemon's region limit: ENOSPC");
	setenv("SHMD_PRELOAD_VERBOSE", "1", 1);
	setenv("PL_WANT", "libc", 1);
	is_int(preload_rerun(self, "fallback", sock), 0,
	       "no shmd: the C library's shm_open by default (in /dev/shm)");
	setenv("SHMD_PRELOAD_FALLBACK", "0", 1);
	setenv("PL_WANT", "fail", 1);
	is_int(preload_rerun(self, "fallback", sock), 0,
	       "no shmd, SHMD_PRELOAD_FALLBACK=0: ECONNREFUSED");
	unsetenv("SHMD_PRELOAD_FALLBACK");
	unsetenv("SHMD_PRELOAD_VERBOSE");
}

static int child_main(const char *self)
{
	socket_path = getenv("SHMD_SOCKET");
	find_libc();
	test_limits_and_fallback(self);
	test_names();
	test_umask();
	char *p;
	int fd = test_create(&p);
	test_open_flags();
	test_trunc(fd, p);
	test_lifetime(fd, p);
	test_lowest_fd();
	test_full_table();
	test_closefrom();
	test_fork();
	test_threads();
	test_seteuid();
	test_excl_race();
	return done_testing();
}

/* shmd not running: the C library's shm_open (default), or a failure (SHMD_PRELOAD_FALLBACK=0). */
static int child_fallback(void)
{
	const char *want = getenv("PL_WANT");
	int fd = shm_open("/pl-fallback", O_CREAT | O_RDWR, 0600);
	int err = errno;
	if (fd >= 0) {
		close(fd);
		bool there = in_dev_shm("pl-fallback");
		shm_unlink("/pl-fallback");
		return strcmp(want, "libc") == 0 && there ? 0 : 1;
	}
	return strcmp(want, "fail") == 0 && err == ECONNREFUSED ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_main(argv[0]);
	if (argc > 1 && strcmp(argv[1], "fallback") == 0)
		return child_fallback();
	if (argc > 1 && strcmp(argv[1], "limited") == 0)
		return child_limited();
	if (test_under_valgrind()) {
		printf("1..0 # SKIP the preload runs the program again: not under valgrind\n");
		return 0;
	}
	if (access(preload_library(), R_OK) < 0)
		bail_out("%s: %m", preload_library());

	struct test_daemon d, limited;
	const char *args[] = { "--max-connections", "4000", "--max-connections-per-uid", "4000",
			       NULL };
	const char *limited_args[] = { "--max-regions", "3", NULL };
	int r = test_daemon_start(&d, args);
	if (r >= 0)
		r = test_daemon_start(&limited, limited_args);
	if (r < 0)
		bail_out("cannot start shmd: %s", strerror(-r));
	setenv("PL_LIMITED_SOCKET", limited.socket, 1);
	/* The child prints the TAP lines; the plan comes from its done_testing(). */
	fflush(stdout);
	r = preload_rerun(argv[0], "child", d.socket);
	int stopped = test_daemon_stop(&d), stopped2 = test_daemon_stop(&limited);
	if (r != 0 || stopped != 0 || stopped2 != 0) {
		fprintf(stderr, "child %d, daemons %d %d\n", r, stopped, stopped2);
		return 1;
	}
	return 0;
}
