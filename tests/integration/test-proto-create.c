/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Create and Open: exclusive or not, mode, fixed, seals, the fds they hand out, withRegion. */

#include <fcntl.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "proto-util.h"
#include "varlink.h"

static void test_exclusive(int conn)
{
	_cleanup_json_ json_object *a = call(
		conn, IFACE "Create", jparams("{\"name\":\"c/x\",\"size\":8192,\"mode\":420}"));
	is_success(a, "Create c/x (exclusive by default)");
	is_int(jint(a, "parameters.region.mode"), 0644, "mode as given");

	_cleanup_json_ json_object *b =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"c/x\",\"size\":1,\"mode\":384,\"exclusive\":true}"));
	if (is_error(b, "RegionExists", "exclusive Create of an existing name: RegionExists"))
		is_str(jstr(b, "parameters.name"), "c/x", "RegionExists {name}");

	_cleanup_json_ json_object *c =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"c/x\",\"size\":1,\"mode\":384,\"exclusive\":false}"));
	if (is_success(c, "non-exclusive Create of an existing name succeeds")) {
		is_int(jbool(c, "parameters.created"), 0, "created is false");
		is_int(jint(c, "parameters.region.size"), 8192, "size is the existing one");
		is_int(jint(c, "parameters.region.mode"), 0644, "mode is the existing one");
		is_int(jint(c, "parameters.region.id"), jint(a, "parameters.region.id"),
		       "same region id");
	}
	_cleanup_json_ json_object *d =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"c/new\",\"size\":10,\"exclusive\":false}"));
	if (is_success(d, "non-exclusive Create of a new name succeeds")) {
		is_int(jbool(d, "parameters.created"), 1, "created is true");
		is_int(jint(d, "parameters.region.mode"), 0600, "default mode is 0600");
		ok(jint(d, "parameters.region.id") != jint(a, "parameters.region.id"),
		   "a new region id");
	}
	_cleanup_json_ json_object *z =
		call(conn, IFACE "Create", jparams("{\"name\":\"c/zero\",\"size\":0}"));
	if (is_success(z, "Create with size 0"))
		is_int(jint(z, "parameters.region.size"), 0, "size 0");
}

static void test_fixed_and_seals(int conn)
{
	int fd;
	_cleanup_json_ json_object *f =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"c/fixed\",\"size\":4096,\"fixed\":true,"
				"\"access\":\"read_write\"}"),
			&fd);
	if (is_success(f, "Create fixed")) {
		is_int(jbool(f, "parameters.region.fixed"), 1, "fixed is true");
		is_str(jseals(f, "parameters.region.seals"), "shrink,grow",
		       "fixed seals grow+shrink");
		is_str(jseals(f, "parameters.region.foreignSeals"), "", "none of them foreign");
	}
	ok(fd >= 0 && ftruncate(fd, 8192) < 0 && errno == EPERM,
	   "the kernel refuses to grow a fixed region (EPERM)");
	ok(fd >= 0 && ftruncate(fd, 0) < 0 && errno == EPERM,
	   "the kernel refuses to shrink a fixed region (EPERM)");
	ok(fd >= 0 && pwrite(fd, "x", 1, 0) == 1, "a fixed region is still writable");
	safe_close(fd);

	_cleanup_json_ json_object *s =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"c/sealed\",\"size\":4096,\"fixed\":true,"
				"\"seals\":[\"seal\",\"write\"],\"access\":\"read_write\"}"),
			&fd);
	if (is_success(s, "Create fixed with seals seal+write"))
		is_str(jseals(s, "parameters.region.seals"), "seal,shrink,grow,write",
		       "all four seals in force");
	ok(fd >= 0 && pwrite(fd, "x", 1, 0) < 0 && errno == EPERM, "write seal: pwrite EPERM");
	ok(fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0 && errno == EPERM,
	   "seal seal: F_ADD_SEALS EPERM");
	safe_close(fd);

	_cleanup_json_ json_object *g =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"c/grow\",\"size\":1,\"seals\":[\"grow\"]}"));
	if (is_success(g, "Create with seals [grow] only")) {
		is_str(jseals(g, "parameters.region.seals"), "grow", "only grow sealed");
		is_int(jbool(g, "parameters.region.fixed"), 0, "not fixed");
	}
}

static void test_fds(const struct test_daemon *d, int conn)
{
	int rw, ro, none;
	_cleanup_json_ json_object *a =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"c/fd\",\"size\":12345,\"mode\":416,"
				"\"access\":\"read_write\"}"),
			&rw);
	if (is_success(a, "Create with access read_write"))
		is_int(jint(a, "parameters.fileDescriptor"), 0, "fileDescriptor index 0");
	struct stat st = { 0 };
	ok(rw >= 0 && fstat(rw, &st) == 0, "an fd came with the reply");
	is_int(st.st_size, 12345, "fstat size is the region size");
	is_int(st.st_mode & 07777, 0640, "the memfd inode carries the region mode");
	is_int(st.st_uid, getuid(), "the memfd inode is owned by the region owner");
	is_int(accmode(rw), O_RDWR, "read_write fd is O_RDWR");

	char link[256] = "", path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", rw);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	ok(strncmp(link, "/memfd:shmd:c/fd", 16) == 0, "it is a memfd named shmd:c/fd (%s)", link);

	_cleanup_json_ json_object *b =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"c/fd\",\"size\":1,\"exclusive\":false,"
				"\"access\":\"read_only\"}"),
			&ro);
	is_success(b, "non-exclusive Create with access read_only");
	is_int(accmode(ro), O_RDONLY, "read_only fd is O_RDONLY");

	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"c/fd\",\"exclusive\":false,\"size\":1,\"access\":\"none\"}"),
		&none);
	if (is_success(c, "Create with access none"))
		ok(none < 0 && !jget(c, "parameters.fileDescriptor"), "no fd, no fileDescriptor");
	safe_close(none);

	int o1 = open_region(conn, "c/fd", "read_write", NULL);
	int o2 = open_region(conn, "c/fd", "read_write", NULL);
	struct stat s1 = { 0 }, s2 = { 0 };
	ok(o1 >= 0 && o2 >= 0 && fstat(o1, &s1) == 0 && fstat(o2, &s2) == 0 &&
		   s1.st_ino == st.st_ino && s2.st_ino == st.st_ino && s1.st_dev == st.st_dev,
	   "two Opens: same memfd inode as Create's fd");
	ok(lseek(o1, 1000, SEEK_SET) == 1000 && lseek(o2, 0, SEEK_CUR) == 0 &&
		   lseek(rw, 0, SEEK_CUR) == 0,
	   "file offsets are independent: each Open is a new open file description");
	ok(fcntl(o1, F_SETFL, O_APPEND) == 0 && !(fcntl(o2, F_GETFL) & O_APPEND),
	   "file status flags are independent too");
	long long pos = -1;
	unsigned flags = 0;
	int fi = fcntl(rw, F_SETFL, O_APPEND) == 0 && lseek(rw, 777, SEEK_SET) == 777 &&
				 sync_daemon(conn) ?
			 daemon_region_fdinfo(d->pid, "c/fd", &pos, &flags) :
			 -errno;
	ok(fi == 0 && pos == 0 && !(flags & O_APPEND),
	   "the daemon keeps a description of its own: the creator's offset and O_APPEND are "
	   "not the daemon's (pos %lld, flags 0%o)",
	   pos, flags);
	ok(fcntl(rw, F_SETFL, 0) == 0 && lseek(rw, 0, SEEK_SET) == 0, "(creator's fd reset)");
	is_int(accmode(o1), O_RDWR, "Open default access is read_write");

	/* Data written through one description is seen through the others. */
	ok(pwrite(rw, "shared", 6, 4096) == 6, "write through the Create fd");
	char buf[7] = "";
	ok(pread(ro, buf, 6, 4096) == 6 && strcmp(buf, "shared") == 0,
	   "read back through the read-only fd");
	void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 4096);
	ok(m != MAP_FAILED && memcmp(m, "shared", 6) == 0, "and through a read-only mapping");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	safe_close(rw);
	safe_close(ro);
	safe_close(o1);
	safe_close(o2);

	const char *err;
	int bad = open_region(conn, "c/fd", "none", &err);
	is_str(err, IFACE "InvalidParameter", "Open with access none: InvalidParameter");
	safe_close(bad);
	_cleanup_json_ json_object *e =
		call(conn, IFACE "Open", jparams("{\"name\":\"c/fd\",\"access\":\"none\"}"));
	is_str(jstr(e, "parameters.parameter"), "access", "it names access");
	_cleanup_json_ json_object *f =
		call(conn, IFACE "Open", jparams("{\"name\":\"c/fd\",\"access\":\"write\"}"));
	is_error(f, "InvalidParameter", "Open with an unknown access: InvalidParameter");
}

/* The members of the reply's parameters, in order, comma-separated. */
static const char *param_keys(json_object *reply)
{
	static char buf[256];
	json_object *p = jget(reply, "parameters");

	buf[0] = '\0';
	if (!p || !json_object_is_type(p, json_type_object))
		return "(none)";
	json_object_object_foreach(p, key, value) {
		(void)value;
		if (buf[0])
			strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, key, sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

/* "withRegion": false answers only the fd (and created); everything else is unchanged. */
static void test_without_region(const struct test_daemon *d, int conn)
{
	int rw = -1, ro = -1, none = -1;
	_cleanup_json_ json_object *a =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"c/brief\",\"size\":4096,\"mode\":384,"
				"\"access\":\"read_write\",\"withRegion\":false}"),
			&rw);
	if (is_success(a, "Create with withRegion false"))
		is_str(param_keys(a), "created,fileDescriptor", "reply: created and fd, no region");
	struct stat st = { 0 };
	ok(rw >= 0 && fstat(rw, &st) == 0 && st.st_size == 4096 && accmode(rw) == O_RDWR,
	   "the fd is the region, read-write, 4096 bytes");
	ok(rw >= 0 && ftruncate(rw, 8192) == 0, "a holder grows it to 8192 behind the daemon");

	_cleanup_json_ json_object *b =
		call_fd(conn, IFACE "Open",
			jparams("{\"name\":\"c/brief\",\"access\":\"read_only\","
				"\"withRegion\":false}"),
			&ro);
	if (is_success(b, "Open read_only with withRegion false"))
		is_str(param_keys(b), "fileDescriptor", "reply: the fd alone");
	ok(ro >= 0 && accmode(ro) == O_RDONLY && write(ro, "x", 1) < 0 &&
		   mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED,
	   "still a read-only description: write and PROT_WRITE mmap fail");

	_cleanup_json_ json_object *c =
		call(conn, IFACE "Open", jparams("{\"name\":\"c/brief\",\"withRegion\":true}"));
	if (is_success(c, "Open with withRegion true"))
		is_int(jint(c, "parameters.region.size"), 8192,
		       "the region, with the size the holder set");
	_cleanup_json_ json_object *e = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"c/brief\",\"size\":1,\"exclusive\":false,\"withRegion\":false}"),
		&none);
	if (is_success(e, "non-exclusive Create of it, access none, withRegion false"))
		is_str(param_keys(e), "created", "reply: created alone");
	ok(none < 0 && jbool(e, "parameters.created") == 0, "created is false, no fd");

	_cleanup_json_ json_object *f =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"c/brief2\",\"size\":1,\"withRegion\":1}"));
	if (is_error(f, "InvalidParameter", "withRegion 1: InvalidParameter"))
		is_str(jstr(f, "parameters.parameter"), "withRegion", "it names withRegion");
	_cleanup_json_ json_object *g = call(conn, IFACE "Stat", jname("c/brief2"));
	is_error(g, "NoSuchRegion", "and nothing was created");
	_cleanup_json_ json_object *h =
		call(conn, IFACE "Open", jparams("{\"name\":\"c/none\",\"withRegion\":false}"));
	is_error(h, "NoSuchRegion", "Open of a missing name, withRegion false: NoSuchRegion");

	static const char *const as_nobody[] = {
		"Open",
		"{\"name\":\"c/brief\",\"access\":\"read_only\",\"withRegion\":false}",
		NULL,
	};
	if (geteuid() == 0) {
		_cleanup_json_ json_object *n = calls_as(d, NOBODY_UID, NOBODY_GID, as_nobody);
		is_str(reply_at(n, 0), IFACE "PermissionDenied",
		       "another uid is still refused a 0600 region with withRegion false");
	} else {
		skip(1, "needs root: the Open is a child's as uid 65534");
	}
	safe_close(rw);
	safe_close(ro);
}

/*
 * Read-write Creates pipelined behind replies that outgrow the socket buffer: the daemon
 * queues their replies, each with a duplicate of the region's fd (a reply written at once
 * lends the fd itself). Every creator still gets a working read-write fd of its own region.
 */
static void test_queued_replies(const struct test_daemon *d)
{
	enum {
		RW = 10
	};
	char pad[241];
	int n_ok = 0, n_fd = 0, n_data = 0, pending = 0;
	long wmem = 212992; /* the daemon socket's send buffer: net.core.wmem_default */
	FILE *w = fopen("/proc/sys/net/core/wmem_default", "re");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (w) {
		if (fscanf(w, "%ld", &wmem) != 1 || wmem <= 0)
			wmem = 212992;
		fclose(w);
	}
	/* Replies of over 400 bytes each, together more bytes than the buffer holds. */
	int fill = (int)MAX(400L, wmem / 400 + 1), n = fill + RW;
	if ((long)n * 600 > 3L * 1024 * 1024) {
		skip(5,
		     "net.core.wmem_default %ld: the replies that fill it pass --max-output-bytes",
		     wmem);
		return;
	}
	int conn = itest_connect(d), other = itest_connect(d);
	FILE *f = open_memstream(&buf, &len);

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < n && f; i++) {
		fprintf(f,
			"{\"method\":\"" IFACE "Create\",\"parameters\":{\"name\":\"q/%s/%03d\","
			"\"size\":4096,\"access\":\"%s\"}}",
			pad, i, i < fill ? "none" : "read_write");
		fputc('\0', f);
	}
	if (!f || fclose(f) != 0)
		bail_out("open_memstream: %s", strerror(errno));
	is_int(send_raw(conn, buf, len, NULL, 0), 0, "queued: %d Creates sent at once", n);
	sleep_ms(300);
	ioctl(conn, SIOCINQ, &pending); /* what fit in the socket; the daemon queued the rest */
	for (int i = 0; i < n; i++) {
		json_object *reply = NULL;
		int fds[VL_MAX_FDS];
		size_t n_fds = 0;
		char name[sizeof(pad) + 16], back[8] = "";

		if (test_read_reply(conn, &reply, fds, &n_fds) < 0)
			break;
		snprintf(name, sizeof(name), "q/%s/%03d", pad, i);
		n_ok += jstr(reply, "parameters.region.name") &&
			strcmp(jstr(reply, "parameters.region.name"), name) == 0;
		n_fd += n_fds == (i < fill ? 0 : 1) && (i < fill || accmode(fds[0]) == O_RDWR);
		if (i >= fill && n_fds == 1 && pwrite(fds[0], "abc", 3, i) == 3) {
			int ro = open_region(other, name, "read_only", NULL);
			n_data += ro >= 0 && pread(ro, back, 3, i) == 3 &&
				  memcmp(back, "abc", 3) == 0;
			safe_close(ro);
		}
		for (size_t k = 0; k < n_fds; k++)
			close(fds[k]);
		json_object_put(reply);
	}
	/* Each reply is over 400 bytes (the name alone is 246): not all of them fit. */
	ok(pending > 0 && (long)pending < (long)n * 400,
	   "queued: the socket held %d bytes of replies, the daemon queued the rest", pending);
	is_int(n_ok, n, "queued: every Create succeeded, in order");
	is_int(n_fd, n, "queued: the read-write ones carried a read-write fd, the others none");
	is_int(n_data, RW, "queued: each read-write fd writes its own region");
	close(other);
	close(conn);
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_exclusive(conn);
	test_fixed_and_seals(conn);
	test_fds(&d, conn);
	test_without_region(&d, conn);
	test_queued_replies(&d);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
