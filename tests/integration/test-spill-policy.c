/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spill policy through the real daemon: Spill frees the memory and Open brings the same
 * bytes back; held, nospill and write-sealed regions are refused; the water marks and a
 * pressure event spill the least recently used idle regions (SpillEvaluate runs the policy
 * on demand, so nothing here waits for a timer).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto-util.h"

#define MiB (1u << 20)

static char dir[] = "/tmp/test-spill-policy.XXXXXX";
static char conf[4200];

static void write_conf(const char *extra)
{
	FILE *f = fopen(conf, "we");
	if (!f ||
	    fprintf(f,
		    "[Spill]\nEnable=yes\nPath=%s/spill\nMaxSize=64M\nMinIdleSec=0\n"
		    "PressureTrigger=no\n%s",
		    dir, extra) < 0 ||
	    fclose(f) != 0)
		bail_out("cannot write %s", conf);
}

static unsigned char pattern(const char *name, size_t i)
{
	return (unsigned char)(name[0] * 31 + name[strlen(name) - 1] * 7 + i * 13 + (i >> 12));
}

/* Create name with size bytes of its pattern (written through an fd that is then closed). */
static void create_filled(int conn, const char *name, size_t size, const char *extra)
{
	int fd = -1;
	_cleanup_json_ json_object *r =
		call_fd(conn, IFACE "Create",
			jparams("{\"name\":\"%s\",\"size\":%zu,\"access\":\"read_write\"%s}", name,
				size, extra),
			&fd);
	if (!is_success(r, "create %s (%zu bytes)", name, size) || fd < 0)
		bail_out("cannot create %s", name);
	unsigned char *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(name, i);
	ok(pwrite(fd, buf, size, 0) == (ssize_t)size, "  filled with its pattern");
	free(buf);
	close(fd);
	sync_daemon(conn); /* the daemon has seen the close: no holder */
}

static bool same_data(int fd, const char *name, size_t size)
{
	unsigned char *buf = malloc(size);
	bool same = pread(fd, buf, size, 0) == (ssize_t)size;
	for (size_t i = 0; same && i < size; i++)
		same = buf[i] == pattern(name, i);
	free(buf);
	return same;
}

static const char *state_of(int conn, const char *name)
{
	static char buf[32];
	_cleanup_json_ json_object *r = call(conn, IFACE "Stat", jname(name));
	const char *s = jstr(r, "parameters.region.state");
	snprintf(buf, sizeof(buf), "%s", s ? s : "?");
	return buf;
}

static void test_spill_open(int conn)
{
	create_filled(conn, "sp/a", 4 * MiB, "");
	_cleanup_json_ json_object *s = call(conn, IFACE "Spill", jname("sp/a"));
	is_success(s, "Spill sp/a");
	is_str(jstr(s, "parameters.region.state"), "spilled", "  its state is spilled");
	_cleanup_json_ json_object *st =
		call(conn, IFACE "Stat", jparams("{\"name\":\"sp/a\",\"footprint\":true}"));
	is_int(jint(st, "parameters.region.footprint.allocated"), 0,
	       "  its memory is freed (allocated 0)");
	is_int(jint(st, "parameters.region.footprint.spilled"), 4 * MiB,
	       "  footprint: 4 MiB spilled, from the spill index");
	_cleanup_json_ json_object *again = call(conn, IFACE "Spill", jname("sp/a"));
	is_success(again, "  spilling it again succeeds");

	int fd = open_region(conn, "sp/a", "read_only", NULL);
	ok(fd >= 0, "Open of the spilled region restores it and hands out an fd");
	ok(fd >= 0 && same_data(fd, "sp/a", 4 * MiB), "  the data is identical");
	if (fd >= 0)
		close(fd);
	sync_daemon(conn);
	is_str(state_of(conn, "sp/a"), "resident", "  the region is resident again");

	_cleanup_json_ json_object *s2 = call(conn, IFACE "Spill", jname("sp/a"));
	is_success(s2, "Spill it again");
	_cleanup_json_ json_object *rs = call(conn, IFACE "Restore", jname("sp/a"));
	is_success(rs, "Restore brings it back");
	is_str(jstr(rs, "parameters.region.state"), "resident", "  resident");
	_cleanup_json_ json_object *rs2 = call(conn, IFACE "Restore", jname("sp/a"));
	is_success(rs2, "  restoring a resident region succeeds");
	fd = open_region(conn, "sp/a", "read_write", NULL);
	ok(fd >= 0 && same_data(fd, "sp/a", 4 * MiB), "  the data is identical after Restore");
	if (fd >= 0)
		close(fd);
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("sp/a"));
	is_success(del, "delete sp/a");
}

static void test_refused(int conn)
{
	create_filled(conn, "sp/held", MiB, "");
	int fd = open_region(conn, "sp/held", "read_only", NULL);
	_cleanup_json_ json_object *r1 = call(conn, IFACE "Spill", jname("sp/held"));
	is_error(r1, "Busy", "a region held by an fd is refused");
	is_str(state_of(conn, "sp/held"), "resident", "  and stays resident");

	/* A mapping whose fd was closed still holds it (IN_CLOSE comes with the unmap). */
	void *p = fd >= 0 ? mmap(NULL, MiB, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (fd >= 0)
		close(fd);
	sync_daemon(conn);
	_cleanup_json_ json_object *r2 = call(conn, IFACE "Spill", jname("sp/held"));
	is_error(r2, "Busy", "a region held by a mapping alone is refused");
	if (p != MAP_FAILED)
		munmap(p, MiB);
	sync_daemon(conn);
	_cleanup_json_ json_object *r3 = call(conn, IFACE "Spill", jname("sp/held"));
	is_success(r3, "once unmapped, it is spilled");

	create_filled(conn, "sp/nospill", MiB, ",\"nospill\":true");
	_cleanup_json_ json_object *r4 = call(conn, IFACE "Spill", jname("sp/nospill"));
	is_error(r4, "RegionNotSpillable", "a nospill region is refused");
	is_str(jstr(r4, "parameters.reason"), "created nospill", "  reason: created nospill");

	create_filled(conn, "sp/sealed", MiB, "");
	_cleanup_json_ json_object *sl =
		call(conn, IFACE "Seal", jparams("{\"name\":\"sp/sealed\",\"seals\":[\"write\"]}"));
	is_success(sl, "seal sp/sealed write");
	_cleanup_json_ json_object *r5 = call(conn, IFACE "Spill", jname("sp/sealed"));
	is_error(r5, "RegionNotSpillable", "a write-sealed region is refused");
	is_str(jstr(r5, "parameters.reason"), "write-sealed", "  reason: write-sealed");

	_cleanup_json_ json_object *r6 = call(conn, IFACE "Spill", jname("sp/none"));
	is_error(r6, "NoSuchRegion", "Spill of a missing region: NoSuchRegion");
	_cleanup_json_ json_object *r7 =
		call(conn, IFACE "Spill", jparams("{\"name\":\"sp/held\",\"bogus\":1}"));
	is_error(r7, "InvalidParameter", "an unknown parameter is refused");
	for (const char *const *n =
		     (const char *const[]){ "sp/held", "sp/nospill", "sp/sealed", NULL };
	     *n; n++)
		json_object_put(call(conn, IFACE "Delete", jname(*n)));
}

static void test_water_marks(int conn)
{
	if (geteuid() != 0) {
		skip(1,
		     "Reload and SpillEvaluate are for administrators: uid 0 or the admin group");
		return;
	}
	create_filled(conn, "wm/1", 2 * MiB, "");
	create_filled(conn, "wm/2", 2 * MiB, "");
	create_filled(conn, "wm/3", 2 * MiB, "");
	/* Used in the order 1, 2, 3: an Open of wm/1 now makes it the most recent. */
	int fd = open_region(conn, "wm/1", "read_only", NULL);
	if (fd >= 0)
		close(fd);
	sync_daemon(conn);

	_cleanup_json_ json_object *s0 = call(conn, IFACE "Status", NULL);
	ok(jget(s0, "parameters.spill") && !jget(s0, "parameters.spill.regionMemory"),
	   "Status: no regionMemory before the policy's first evaluation");
	_cleanup_json_ json_object *e0 = call(conn, IFACE "SpillEvaluate", NULL);
	is_int(jint(e0, "parameters.started"), 0, "without HighWater=, nothing is spilled");
	_cleanup_json_ json_object *s1 = call(conn, IFACE "Status", NULL);
	is_int(jint(s1, "parameters.spill.regionMemory"), 6 * MiB,
	       "Status: regionMemory once evaluated (6 MiB)");

	/* 6 MiB of region memory; over 5M, down to 3M: the two least recently used go. */
	write_conf("HighWater=5M\nLowWater=3M\n");
	_cleanup_json_ json_object *rl = call(conn, IFACE "Reload", NULL);
	is_success(rl, "reload with HighWater=5M LowWater=3M");
	_cleanup_json_ json_object *e1 = call(conn, IFACE "SpillEvaluate", NULL);
	is_int(jint(e1, "parameters.usage"), 6 * MiB, "region memory is 6 MiB");
	is_int(jint(e1, "parameters.target"), 3 * MiB, "  the target is LowWater=");
	is_int(jint(e1, "parameters.spilled"), 2, "  two regions spilled");
	is_str(state_of(conn, "wm/2"), "spilled", "  wm/2 (least recently used) is spilled");
	is_str(state_of(conn, "wm/3"), "spilled", "  wm/3 (next) is spilled");
	is_str(state_of(conn, "wm/1"), "resident", "  wm/1 (opened last) stays resident");

	/* Pressure: an eighth less, at least one region: wm/1, the only one resident. */
	_cleanup_json_ json_object *e2 =
		call(conn, IFACE "SpillEvaluate", jparams("{\"pressure\":true}"));
	is_int(jint(e2, "parameters.spilled"), 1, "a pressure event spills one more region");
	is_str(state_of(conn, "wm/1"), "spilled", "  wm/1");

	_cleanup_json_ json_object *st = call(conn, IFACE "Status", NULL);
	is_int(jint(st, "parameters.spill.spilledRegions"), 3, "Status: 3 regions spilled");
	is_int(jint(st, "parameters.spill.spilledBytes"), 6 * MiB, "Status: 6 MiB spilled");
	ok(jint(st, "parameters.spill.used") >= 6 * MiB, "Status: the spill file holds them");
	ok(jint(st, "parameters.spill.automaticSpills") == 3, "Status: 3 automatic spills");
	ok(jbool(st, "parameters.spill.enabled") == 1, "Status: spilling enabled");

	for (int i = 1; i <= 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "wm/%d", i);
		fd = open_region(conn, name, "read_only", NULL);
		ok(fd >= 0 && same_data(fd, name, 2 * MiB), "%s opens with its data", name);
		if (fd >= 0)
			close(fd);
	}
}

/* The PSI trigger is armed from the configuration; without CAP_SYS_RESOURCE a 1 s window
 * is refused by the kernel and rounded up to 2 s. (Last: a real pressure event may now spill.) */
static void test_pressure_trigger(int conn)
{
	if (geteuid() != 0) {
		skip(1, "Reload is for administrators: uid 0 or the admin group");
		return;
	}
	if (access("/proc/pressure/memory", W_OK) < 0) {
		skip(1, "no PSI (/proc/pressure/memory): %m");
		return;
	}
	write_conf("PressureTrigger=some 150000 1000000\n");
	_cleanup_json_ json_object *rl = call(conn, IFACE "Reload", NULL);
	is_success(rl, "reload with PressureTrigger=some 150000 1000000");
	_cleanup_json_ json_object *st = call(conn, IFACE "Status", NULL);
	const char *t = jstr(st, "parameters.spill.pressureTrigger");
	ok(t && (strcmp(t, "some 150000 1000000") == 0 || strcmp(t, "some 150000 2000000") == 0),
	   "Status: the trigger is armed (%s)", t ? t : "none");
}

static void test_disabled(void)
{
	struct test_daemon d2;
	itest_start(&d2, NULL);
	int conn = itest_connect(&d2);
	create_region(conn, "off", 4096, 0600);
	_cleanup_json_ json_object *r = call(conn, IFACE "Spill", jname("off"));
	is_error(r, "RegionNotSpillable", "spilling off: Spill is refused");
	_cleanup_json_ json_object *st = call(conn, IFACE "Status", NULL);
	ok(jbool(st, "parameters.spill.enabled") == 0, "  Status says spilling is off");
	close(conn);
	itest_stop(&d2);
}

int main(void)
{
	struct test_daemon d;
	char arg[4300];

	if (!mkdtemp(dir))
		bail_out("mkdtemp: %m");
	snprintf(conf, sizeof(conf), "%s/shmd.conf", dir);
	snprintf(arg, sizeof(arg), "--config=%s", conf);
	write_conf("");
	plan_no_plan();
	itest_start(&d, (const char *const[]){ arg, NULL });
	int conn = itest_connect(&d);
	_cleanup_json_ json_object *st = call(conn, IFACE "Status", NULL);
	ok(jbool(st, "parameters.spill.enabled") == 1, "Status: spilling enabled");
	test_spill_open(conn);
	test_refused(conn);
	test_water_marks(conn);
	test_pressure_trigger(conn);
	close(conn);
	itest_stop(&d);
	test_disabled();
	snprintf(arg, sizeof(arg), "%s/spill", dir);
	unlink(arg);
	unlink(conf);
	rmdir(dir);
	return done_testing();
}
