/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The 0.2 calls: labels, ranges with footprint, Stat/List/Status footprint, holders. */

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "libshmd-test.h"

#define PG 4096

static void test_labels(struct shmd_ctx *ctx)
{
	struct shmd_region *r = NULL;
	uint64_t off = 1, len = 1;
	const char *label = NULL;

	is_int(shmd_create(ctx, "vm", 64 * PG, 0600, 0, 0, NULL, NULL, NULL), 0, "create vm");
	is_int(shmd_label(ctx, "vm", 0, 32 * PG, "ram"), 0, "shmd_label ram [0,32)");
	is_int(shmd_label(ctx, "vm", 8 * PG, 8 * PG, "rom"), 0, "shmd_label rom [8,16)");
	is_int(shmd_stat(ctx, "vm", &r), 0, "shmd_stat");
	is_int((long long)shmd_region_get_n_ranges(r), 3, "  three ranges");
	is_int(shmd_region_get_range(r, 1, &off, &len, &label), 0, "  the second");
	ok(off == 8 * PG && len == 8 * PG && label && strcmp(label, "rom") == 0, "  is rom [8,16)");
	is_int(shmd_region_get_range(r, 3, &off, &len, &label), -ERANGE, "  a fourth: -ERANGE");
	is_int(shmd_region_get_footprint(r, SHMD_FOOTPRINT_RESIDENT), -ENODATA,
	       "  no footprint without asking: -ENODATA");
	r = shmd_region_unref(r);

	is_int(shmd_rename_label(ctx, "vm", "ram", "guest"), 0, "shmd_rename_label ram -> guest");
	is_int(shmd_rename_label(ctx, "vm", "ram", "x"), -ENOENT, "again: -ENOENT");
	is_str(shmd_ctx_get_error_name(ctx), "io.shmd.Manager.NoSuchLabel", "  NoSuchLabel");
	is_str(shmd_ctx_get_error_message(ctx), "no range labelled 'ram'", "  its message");
	is_int(shmd_unlabel_label(ctx, "vm", "rom"), 0, "shmd_unlabel_label rom");
	is_int(shmd_unlabel(ctx, "vm", 0, 8 * PG), 0, "shmd_unlabel [0,8)");
	is_int(shmd_label(ctx, "vm", 1, PG, "x"), -EINVAL, "unaligned: -EINVAL");
	is_int(shmd_label(ctx, "vm", 0, PG, "a$b"), -EINVAL, "bad label: -EINVAL");
	is_int(shmd_label(ctx, "vm", 60 * PG, 8 * PG, "x"), -ERANGE, "past the end: -ERANGE");
	is_str(shmd_ctx_get_error_message(ctx),
	       "span 245760+32768 is outside the region (size 262144)", "  its message");
	is_int(shmd_label(ctx, "nope", 0, PG, "x"), -ENOENT, "no region: -ENOENT");
	is_int(shmd_label(ctx, "vm", 0, PG, NULL), -EINVAL, "no label: -EINVAL");
	is_int(shmd_label(ctx, NULL, 0, PG, "x"), -EINVAL, "no name: -EINVAL");

	struct shmd_ranges *rs = NULL;
	is_int(shmd_ranges(ctx, "vm", 0, &rs), 0, "shmd_ranges");
	is_int((long long)shmd_ranges_count(rs), 1, "  guest [16,32) remains");
	is_int(shmd_ranges_get(rs, 0, &off, &len, &label), 0, "  the first");
	ok(off == 16 * PG && len == 16 * PG && label && strcmp(label, "guest") == 0,
	   "  is guest [16,32)");
	is_int(shmd_ranges_get_footprint(rs, 0, SHMD_FOOTPRINT_RESIDENT), -ENODATA,
	       "  without footprint: -ENODATA");
	rs = shmd_ranges_unref(rs);
}

static void test_footprint(struct shmd_ctx *ctx)
{
	struct shmd_ranges *rs = NULL;
	struct shmd_region *r = NULL;
	struct shmd_status *st = NULL;
	struct shmd_list *l = NULL;
	uint64_t off, len;
	const char *label = "?";
	int fd = -1;

	is_int(shmd_open(ctx, "vm", O_RDWR, &fd, NULL), 0, "open vm read-write");
	char *p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(p != MAP_FAILED, "map it");
	p[0] = p[20 * PG] = p[21 * PG] = 1; /* one page in the gap, two in guest */
	munmap(p, 64 * PG);
	close(fd);

	is_int(shmd_ranges(ctx, "vm", SHMD_RANGES_FOOTPRINT, &rs), 0, "shmd_ranges with footprint");
	is_int((long long)shmd_ranges_count(rs), 3, "  gap, guest, gap");
	is_int(shmd_ranges_get(rs, 0, &off, &len, &label), 0, "  part 0");
	ok(off == 0 && len == 16 * PG && label == NULL, "  is the unnamed [0,16)");
	is_int(shmd_ranges_get_footprint(rs, 0, SHMD_FOOTPRINT_RESIDENT), PG, "  1 page resident");
	is_int(shmd_ranges_get_footprint(rs, 1, SHMD_FOOTPRINT_ALLOCATED), 2 * PG,
	       "  guest: 2 pages allocated");
	is_int(shmd_ranges_get_footprint(rs, SHMD_RANGES_TOTAL, SHMD_FOOTPRINT_RESIDENT), 3 * PG,
	       "  total: 3 pages");
	is_int(shmd_ranges_get_footprint(rs, SHMD_RANGES_TOTAL, SHMD_FOOTPRINT_SIZE), 64 * PG,
	       "  total size: the region's");
	is_int(shmd_ranges_get_footprint(rs, SHMD_RANGES_TOTAL, SHMD_FOOTPRINT_SPILLED), 0,
	       "  spilled 0");
	is_int(shmd_ranges_get_footprint(rs, 9, SHMD_FOOTPRINT_SIZE), -ERANGE, "  part 9: -ERANGE");
	is_int(shmd_ranges_get_footprint(rs, 0, (enum shmd_footprint_field)99), -EINVAL,
	       "  unknown field: -EINVAL");
	rs = shmd_ranges_unref(rs);

	is_int(shmd_stat_footprint(ctx, "vm", &r), 0, "shmd_stat_footprint");
	is_int(shmd_region_get_footprint(r, SHMD_FOOTPRINT_RESIDENT), 3 * PG, "  3 pages resident");
	is_int((long long)shmd_region_get_n_ranges(r), 1, "  and its range");
	r = shmd_region_unref(r);

	is_int(shmd_list_flags(ctx, "", SHMD_LIST_FOOTPRINT, &l), 0, "shmd_list_flags footprint");
	is_int(shmd_list_next(l, &r), 1, "  one region");
	is_int(shmd_region_get_footprint(r, SHMD_FOOTPRINT_ALLOCATED), 3 * PG,
	       "  with 3 pages allocated");
	r = shmd_region_unref(r);
	l = shmd_list_free(l);
	is_int(shmd_list_flags(ctx, "", 0x80, &l), -EINVAL, "unknown list flag: -EINVAL");

	is_int(shmd_status_footprint(ctx, &st), 0, "shmd_status_footprint");
	is_int(shmd_status_get_footprint(st, SHMD_FOOTPRINT_RESIDENT), 3 * PG, "  3 pages in all");
	st = shmd_status_unref(st);
	is_int(shmd_status(ctx, &st), 0, "shmd_status");
	is_int(shmd_status_get_footprint(st, SHMD_FOOTPRINT_RESIDENT), -ENODATA,
	       "  without footprint: -ENODATA");
	st = shmd_status_unref(st);
}

static void test_holders(struct shmd_ctx *ctx)
{
	struct shmd_holders *h = NULL;
	int fd = -1;

	is_int(shmd_open(ctx, "vm", O_RDONLY, &fd, NULL), 0, "open vm read-only");
	is_int(shmd_holders(ctx, "vm", &h), 0, "shmd_holders");
	ok(shmd_holders_get_scan(h, SHMD_HOLDERS_SCANNED) > 0, "  scanned some processes");
	ok(shmd_holders_get_scan(h, SHMD_HOLDERS_SCAN_USEC) >= 0, "  scan time given");
	is_int(shmd_holders_get_scan(h, SHMD_HOLDERS_TRUNCATED), 0, "  not truncated");
	/* A root test process keeps every capability: the daemon (three) may not read it. */
	size_t want = geteuid() == 0 ? 0 : 1;
	is_int((long long)shmd_holders_count(h), (long long)want, "  this process is %s",
	       want ? "listed (same uid, no capabilities)" :
		      "not seen (its capabilities exceed the daemon's)");
	if (want) {
		is_int(shmd_holders_get(h, 0, SHMD_HOLDER_PID), getpid(), "  its pid");
		is_int(shmd_holders_get(h, 0, SHMD_HOLDER_FDS), 1, "  one fd");
		is_int(shmd_holders_get(h, 0, SHMD_HOLDER_WRITABLE), 0, "  read-only");
		ok(shmd_holders_get_command(h, 0) != NULL, "  a command");
	}
	is_int(shmd_holders_get(h, 5, SHMD_HOLDER_PID), -ERANGE, "holder 5: -ERANGE");
	ok(shmd_holders_get_command(h, 5) == NULL, "  no command");
	h = shmd_holders_unref(h);
	close(fd);
	is_int(shmd_holders(ctx, "nope", &h), -ENOENT, "holders of no region: -ENOENT");
	is_int(shmd_holders(ctx, "vm", NULL), -EINVAL, "no place: -EINVAL");
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	test_labels(ctx);
	test_footprint(ctx);
	test_holders(ctx);
	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
