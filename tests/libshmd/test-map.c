/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd_region_map()/unmap(): shared data between mappings, read-only really read-only. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>

#include "libshmd-test.h"

/* The permissions column of /proc/self/maps for the mapping at addr ("rw-s"), or "". */
static void maps_perms(const void *addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];

	strcpy(perms, "");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &start, &end, p) == 3 &&
		    start == (unsigned long)addr) {
			memcpy(perms, p, 5);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void *write_target;
static int write_to_readonly(void *userdata)
{
	/* Let the kernel's SIGSEGV kill us: ASan would catch it and exit(1) instead. */
	signal(SIGSEGV, SIG_DFL);
	*(volatile char *)write_target = 'x'; /* SIGSEGV expected */
	return 0;
}

int main(void)
{
	struct test_daemon d;
	struct shmd_ctx *ctx;
	void *rw = NULL, *ro = NULL, *empty = (void *)1;
	size_t rw_size = 0, ro_size = 0, empty_size = 1;
	char perms[5];

	plan_no_plan();
	ctx = start_daemon_ctx(&d, NULL);
	shmd_create(ctx, "m", 3 * 4096, 0, 0, 0, NULL, NULL, NULL);

	is_int(shmd_region_map(ctx, "m", O_RDWR, &rw, &rw_size), 0, "map read-write");
	is_int((long long)rw_size, 3 * 4096, "its whole size");
	maps_perms(rw, perms);
	is_str(perms, "rw-s", "PROT_READ|PROT_WRITE, MAP_SHARED");
	memcpy((char *)rw + 5000, "shared bytes", 13);

	is_int(shmd_region_map(ctx, "m", O_RDONLY, &ro, &ro_size), 0, "map read-only");
	ok(ro != rw && ro_size == rw_size, "a second mapping of the same size");
	is_str((const char *)ro + 5000, "shared bytes", "it sees what the first wrote");
	maps_perms(ro, perms);
	is_str(perms, "r--s", "PROT_READ only");
	write_target = ro;
	is_int(run_in_child(write_to_readonly, NULL), -SIGSEGV - 1000,
	       "writing to the read-only mapping faults");
	ok(mprotect(ro, ro_size, PROT_READ | PROT_WRITE) < 0 && errno == EACCES,
	   "and it cannot be made writable (the fd was O_RDONLY)");

	is_int(shmd_region_unmap(ro, ro_size), 0, "unmap read-only");
	is_int(shmd_region_unmap(rw, rw_size), 0, "unmap read-write");
	maps_perms(rw, perms);
	is_str(perms, "", "the mapping is gone");

	shmd_resize(ctx, "m", 5 * 4096, 0);
	is_int(shmd_region_map(ctx, "m", O_RDONLY, &ro, &ro_size), 0, "map after a resize");
	is_int((long long)ro_size, 5 * 4096, "maps the new size");
	is_str((const char *)ro + 5000, "shared bytes", "the data survived");
	shmd_region_unmap(ro, ro_size);

	shmd_create(ctx, "empty", 0, 0, 0, 0, NULL, NULL, NULL);
	is_int(shmd_region_map(ctx, "empty", O_RDWR, &empty, &empty_size), 0,
	       "map an empty region");
	ok(empty == NULL && empty_size == 0, "gives NULL, 0");
	is_int(shmd_region_unmap(empty, empty_size), 0, "and unmapping that is fine");

	is_int(shmd_region_map(ctx, "nope", O_RDONLY, &ro, &ro_size), -ENOENT, "missing: -ENOENT");
	is_int(shmd_region_map(ctx, "m", O_WRONLY, &ro, &ro_size), -EINVAL, "O_WRONLY: -EINVAL");
	is_int(shmd_region_unmap((void *)1, 4096), -EINVAL,
	       "unmap of an unaligned address: -EINVAL");

	shmd_ctx_unref(ctx);
	is_int(test_daemon_stop(&d), 0, "daemon exits cleanly");
	return done_testing();
}
