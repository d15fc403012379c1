/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Footprint: resident and allocated bytes per region and per named range, exactly, from a client's touches. */

#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto-util.h"

#define PG 4096
#define PAGES 256

/* Pages a child process writes: 3 in "a", 2 in the gap, 5 in "b". */
static const int touched[] = { 0, 1, 2, 70, 71, 130, 131, 132, 133, 134 };

static bool shmem_thp_off(void)
{
	char buf[256] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "re");
	if (!f)
		return true;
	bool off = fgets(buf, sizeof(buf), f) && (strstr(buf, "[never]") || strstr(buf, "[deny]"));
	fclose(f);
	return off;
}

/*
 * A child maps the region and writes the touched pages, then exits (the pages stay). Under
 * valgrind it writes them with pwrite(): valgrind reads a file it sees mapped (looking for
 * debug information), which would make pages resident that no one touched.
 */
static bool touch_in_child(int fd)
{
	pid_t pid = fork();
	if (pid == 0 && test_under_valgrind()) {
		for (size_t i = 0; i < ELEMENTSOF(touched); i++)
			if (pwrite(fd, "x", 1, (off_t)touched[i] * PG + 7) != 1)
				_exit(1);
		/* Not _exit(): valgrind's leak check of the forked copy would count the parent's
		 * live objects as lost. An exec ends that copy without it (no --trace-children). */
		execl("/bin/true", "true", (char *)NULL);
		_exit(1);
	}
	if (pid == 0) {
		char *p = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(1);
		for (size_t i = 0; i < ELEMENTSOF(touched); i++)
			p[(size_t)touched[i] * PG + 7] = 'x';
		_exit(0);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* Check the four parts' resident and allocated pages, and that they add up. */
static void check_parts(int conn, const char *tag, const int *want_pages)
{
	_cleanup_json_ json_object *r =
		call(conn, IFACE "Ranges", jparams("{\"name\":\"fp\",\"footprint\":true}"));
	if (!is_success(r, "%s: Ranges with footprint", tag))
		return;
	json_object *a = jget(r, "parameters.ranges");
	is_int((long long)json_object_array_length(a), 4, "  four parts: a, gap, b, gap");
	static const char *const labels[] = { "a", NULL, "b", NULL };
	static const int offsets[] = { 0, 64, 128, 192 };
	long long sum_res = 0, sum_alloc = 0, sum_size = 0;
	for (size_t i = 0; i < 4 && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *l = jstr(e, "label");
		ok(labels[i] ? l && strcmp(l, labels[i]) == 0 : !l, "  part %zu is %s", i,
		   labels[i] ? labels[i] : "unnamed");
		is_int(jint(e, "offset"), offsets[i] * PG, "  part %zu offset", i);
		is_int(jint(e, "footprint.resident"), want_pages[i] * PG,
		       "  part %zu: %d pages resident", i, want_pages[i]);
		is_int(jint(e, "footprint.allocated"), want_pages[i] * PG,
		       "  part %zu: %d pages allocated", i, want_pages[i]);
		is_int(jint(e, "footprint.swapped"), 0, "  part %zu: nothing swapped", i);
		sum_res += jint(e, "footprint.resident");
		sum_alloc += jint(e, "footprint.allocated");
		sum_size += jint(e, "footprint.size");
	}
	is_int(sum_size, PAGES * PG, "  the parts' sizes add up to the region");
	is_int(jint(r, "parameters.footprint.resident"), sum_res, "  resident adds up");
	is_int(jint(r, "parameters.footprint.allocated"), sum_alloc, "  allocated adds up");
	is_int(jint(r, "parameters.footprint.spilled"), 0, "  spilled is 0 (no spill yet)");
	if (shmem_thp_off())
		is_int(jint(r, "parameters.footprint.huge"), 0, "  huge is 0: shmem THP is off");
	else
		ok(jget(r, "parameters.footprint.huge") == NULL, "  huge absent: not measurable");
}

static void scenario(const struct test_daemon *d, const char *tag)
{
	int conn = itest_connect(d), fd;
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"fp\",\"size\":%d,\"access\":\"read_write\"}", PAGES * PG),
		&fd);
	is_success(c, "%s: Create fp, 1 MiB", tag);
	_cleanup_json_ json_object *l1 = call(
		conn, IFACE "Label",
		jparams("{\"name\":\"fp\",\"offset\":0,\"length\":%d,\"label\":\"a\"}", 64 * PG));
	_cleanup_json_ json_object *l2 =
		call(conn, IFACE "Label",
		     jparams("{\"name\":\"fp\",\"offset\":%d,\"length\":%d,\"label\":\"b\"}",
			     128 * PG, 64 * PG));
	ok(!test_reply_error(l1) && !test_reply_error(l2), "%s: label a [0,64) and b [128,192)",
	   tag);
	check_parts(conn, tag, (const int[]){ 0, 0, 0, 0 });
	ok(touch_in_child(fd), "%s: a child writes 10 known pages and exits", tag);
	check_parts(conn, tag, (const int[]){ 3, 2, 5, 0 });

	_cleanup_json_ json_object *s =
		call(conn, IFACE "Stat", jparams("{\"name\":\"fp\",\"footprint\":true}"));
	is_int(jint(s, "parameters.region.footprint.resident"), 10 * PG,
	       "%s: Stat footprint: 10 pages resident", tag);
	is_int(jint(s, "parameters.region.footprint.size"), PAGES * PG, "  size is the region's");
	_cleanup_json_ json_object *s0 = call(conn, IFACE "Stat", jname("fp"));
	ok(jget(s0, "parameters.region.footprint") == NULL, "Stat without footprint has none");

	ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1 * PG, PG) == 0 &&
		   fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 133 * PG, PG) == 0,
	   "%s: punch pages 1 and 133", tag);
	check_parts(conn, tag, (const int[]){ 2, 2, 4, 0 });

	_cleanup_json_ json_object *st =
		call(conn, IFACE "Status", jparams("{\"footprint\":true}"));
	is_int(jint(st, "parameters.footprint.resident"), 8 * PG,
	       "%s: Status footprint: 8 pages resident in all", tag);
	is_int(jint(st, "parameters.footprint.size"), PAGES * PG, "  apparent size 1 MiB");
	_cleanup_json_ json_object *st0 = call(conn, IFACE "Status", NULL);
	ok(jget(st0, "parameters.footprint") == NULL, "Status without footprint has none");
	close(fd);
	close(conn);
}

static void test_sparse_and_list(const struct test_daemon *d)
{
	int conn = itest_connect(d);
	ok(create_region(conn, "big", 64ULL << 30, 0600), "Create a 64 GiB sparse region");
	_cleanup_json_ json_object *s =
		call(conn, IFACE "Stat", jparams("{\"name\":\"big\",\"footprint\":true}"));
	is_int(jint(s, "parameters.region.footprint.resident"), 0, "  nothing resident");
	is_int(jint(s, "parameters.region.footprint.allocated"), 0, "  nothing allocated");
	is_int(jint(s, "parameters.region.footprint.size"), 64LL << 30, "  size 64 GiB");

	int fds[4];
	size_t n_fds;
	json_object *msg = json_object_new_object();
	json_object_object_add(msg, "method", json_object_new_string(IFACE "List"));
	json_object_object_add(msg, "more", json_object_new_boolean(true));
	json_object_object_add(msg, "parameters", jparams("{\"footprint\":true}"));
	const char *text = json_object_to_json_string(msg);
	ok(send_raw(conn, text, strlen(text) + 1, NULL, 0) == 0, "List with footprint, more");
	int with = 0;
	for (int i = 0; i < 2; i++) {
		_cleanup_json_ json_object *rep = NULL;
		if (test_read_reply(conn, &rep, fds, &n_fds) < 0)
			break;
		with += jget(rep, "parameters.region.footprint.resident") != NULL;
	}
	is_int(with, 2, "  both regions carry a footprint");
	json_object_put(msg);
	close(conn);
}

/* More extents than the daemon counts one by one (1024): the rest comes from cachestat, exactly. */
static void test_many_extents(const struct test_daemon *d, const char *tag)
{
	int conn = itest_connect(d), fd;
	_cleanup_json_ json_object *c = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"frag\",\"size\":%d,\"access\":\"read_write\"}", 4200 * PG),
		&fd);
	is_success(c, "%s: Create frag, 4200 pages", tag);
	bool written = true;
	for (int i = 0; i < 4200; i += 2)
		written = written && pwrite(fd, "x", 1, (off_t)i * PG) == 1;
	ok(written, "  every other page written: 2100 extents");
	_cleanup_json_ json_object *s =
		call(conn, IFACE "Stat", jparams("{\"name\":\"frag\",\"footprint\":true}"));
	is_int(jint(s, "parameters.region.footprint.allocated"), 2100 * PG,
	       "  allocated: exactly 2100 pages");
	is_int(jint(s, "parameters.region.footprint.resident"), 2100 * PG, "  resident: the same");
	close(fd);
	close(conn);
}

/* Without cachestat only data extents are measured: a 1 EiB sparse region is one lseek(). */
static void test_huge_sparse(const struct test_daemon *d, const char *tag)
{
	int conn = itest_connect(d);
	ok(create_region(conn, "huge", 1ULL << 60, 0600), "%s: Create a 1 EiB sparse region", tag);
	_cleanup_json_ json_object *s =
		call(conn, IFACE "Stat", jparams("{\"name\":\"huge\",\"footprint\":true}"));
	is_int(jint(s, "parameters.region.footprint.resident"), 0,
	       "%s: its footprint is measured (nothing resident), not page by page", tag);
	is_int(jint(s, "parameters.region.footprint.allocated"), 0, "  nothing allocated");
	close(conn);
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	scenario(&d, "cachestat");
	test_many_extents(&d, "cachestat");
	test_sparse_and_list(&d);
	itest_stop(&d);

	/* The mincore() fallback, forced: the same figures. */
	setenv("SHMD_TEST_NO_CACHESTAT", "1", 1);
	itest_start(&d, NULL);
	unsetenv("SHMD_TEST_NO_CACHESTAT");
	scenario(&d, "mincore");
	test_huge_sparse(&d, "mincore");
	test_many_extents(&d, "mincore");
	itest_stop(&d);
	return done_testing();
}
