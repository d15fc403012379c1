/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name ownership: no adopting a squatted name, [Prefix] reservations and the user/UID/ home. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto-util.h"

#define DENIED IFACE "PermissionDenied"

static char dir[] = "/tmp/test-names-owned.XXXXXX";
static char conf[256];

/* The case: nobody takes vm9/ram first; root's non-exclusive Create must not adopt it. */
static void test_squatting(const struct test_daemon *d, int conn)
{
	_cleanup_json_ json_object *r = calls_as(
		d, NOBODY_UID, NOBODY_GID,
		(const char *const[]){
			"Create", "{\"name\":\"vm9/ram\",\"size\":4096,\"mode\":438}", "Create",
			"{\"name\":\"vm9/ram\",\"size\":1,\"exclusive\":false,"
			"\"access\":\"read_write\"}",
			NULL });
	is_str(reply_at(r, 0), "ok", "nobody creates vm9/ram mode 0666");
	is_str(reply_at(r, 1), "ok", "nobody's own non-exclusive Create opens it");

	int fd = -1;
	_cleanup_json_ json_object *e = call_fd(
		conn, IFACE "Create",
		jparams("{\"name\":\"vm9/ram\",\"size\":1073741824,\"exclusive\":false,\"mode\":384,"
			"\"access\":\"read_write\"}"),
		&fd);
	if (is_error(e, "RegionOwned", "root's non-exclusive Create of it: RegionOwned"))
		ok(jint(e, "parameters.uid") == NOBODY_UID &&
			   jint(e, "parameters.gid") == NOBODY_GID &&
			   strcmp(jstr(e, "parameters.name") ?: "", "vm9/ram") == 0,
		   "  names the region and its owner %d:%d", NOBODY_UID, NOBODY_GID);
	is_int(fd, -1, "  and hands out no fd");

	/* Root's own regions may be opened that way by others, as far as the mode allows. */
	ok(create_region(conn, "shared/r", 4096, 0644), "root creates shared/r 0644");
	_cleanup_json_ json_object *o = calls_as(
		d, NOBODY_UID, NOBODY_GID,
		(const char *const[]){ "Create",
				       "{\"name\":\"shared/r\",\"size\":1,\"exclusive\":false,"
				       "\"access\":\"read_only\"}",
				       NULL });
	is_str(reply_at(o, 0), "ok", "nobody's non-exclusive Create of root's region, read-only");
}

static void test_prefixes(const struct test_daemon *d, int conn)
{
	_cleanup_json_ json_object *r = calls_as(
		d, NOBODY_UID, NOBODY_GID,
		(const char *const[]){ "Create", "{\"name\":\"vm/x\",\"size\":1}",	    /* 0 */
				       "Create", "{\"name\":\"vm/nobody/x\",\"size\":1}",   /* 1 */
				       "Create", "{\"name\":\"grp/x\",\"size\":1}",	    /* 2 */
				       "Create", "{\"name\":\"user/65534/x\",\"size\":1}",  /* 3 */
				       "Create", "{\"name\":\"user/65534\",\"size\":1}",    /* 4 */
				       "Create", "{\"name\":\"user/0/x\",\"size\":1}",	    /* 5 */
				       "Create", "{\"name\":\"user/655341/x\",\"size\":1}", /* 6 */
				       "Create", "{\"name\":\"free/x\",\"size\":1}",	    /* 7 */
				       "Rename",
				       "{\"name\":\"free/x\",\"newName\":\"vm/stolen\"}", /* 8 */
				       NULL });
	is_str(reply_at(r, 0), DENIED, "nobody may not create under vm/ (User=0)");
	json_object *e = json_object_array_get_idx(r, 0);
	ok(strstr(jstr(e, "parameters.reason") ?: "", "'vm/' is reserved") != NULL,
	   "  the reason names the prefix: %s", jstr(e, "parameters.reason"));
	is_str(reply_at(r, 1), "ok", "the longest prefix decides: vm/nobody/ is nobody's");
	is_str(reply_at(r, 2), "ok", "grp/ is reserved for group 65534: nobody may");
	is_str(reply_at(r, 3), "ok", "nobody creates under its home user/65534/");
	is_str(reply_at(r, 4), "ok", "and user/65534 itself");
	is_str(reply_at(r, 5), DENIED, "nobody may not create under user/0/");
	is_str(reply_at(r, 6), DENIED, "nor under user/655341/");
	is_str(reply_at(r, 7), "ok", "free/ is free");
	is_str(reply_at(r, 8), DENIED, "nobody may not rename into vm/");

	ok(create_region(conn, "vm/root", 1, 0600), "root (User=0) creates under vm/");
	ok(create_region(conn, "user/65534/by-root", 1, 0600),
	   "root, an administrator, creates anywhere");
}

int main(void)
{
	struct test_daemon d;

	if (geteuid() != 0) {
		printf("1..0 # SKIP name ownership needs root (to act as uid %d)\n", NOBODY_UID);
		return 0;
	}
	if (!mkdtemp(dir))
		bail_out("mkdtemp: %m");
	snprintf(conf, sizeof(conf), "%s/shmd.conf", dir);
	FILE *f = fopen(conf, "we");
	if (!f ||
	    fputs("[Prefix vm/]\nUser=0\n[Prefix vm/nobody/]\nUser=nobody\n"
		  "[Prefix grp/]\nGroup=65534\n",
		  f) < 0 ||
	    fclose(f) != 0)
		bail_out("cannot write %s", conf);
	itest_start(&d, (const char *const[]){ "--config", conf, NULL });
	int conn = itest_connect(&d);
	test_squatting(&d, conn);
	test_prefixes(&d, conn);
	close(conn);
	itest_stop(&d);
	unlink(conf);
	rmdir(dir);
	return done_testing();
}
