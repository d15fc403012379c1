/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may open what, and who may change a region: root's regions seen by nobody, nobody's own. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto-util.h"

#define DENIED IFACE "PermissionDenied"

static struct test_daemon d;

struct open_case {
	const char *name;
	int mode;
	const char *ro, *rw; /* expected results for nobody */
};

static const struct open_case open_cases[] = {
	{ "m600", 0600, DENIED, DENIED },
	{ "m640", 0640, DENIED, DENIED }, /* nobody is not in group root */
	{ "m644", 0644, "ok", DENIED },
	{ "m666", 0666, "ok", "ok" },
	{ "m604", 0604, "ok", DENIED },
	{ "m660g", 0660, "ok", "ok" }, /* group changed to nogroup below */
	{ "m640g", 0640, "ok", DENIED },
	{ "m606g", 0606, DENIED, DENIED }, /* group bits win for group members */
};

static void test_open_matrix(int conn)
{
	char ro[64], rw[64];

	for (size_t i = 0; i < ELEMENTSOF(open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		ok(create_region(conn, c->name, 4096, c->mode), "root creates %s mode %04o",
		   c->name, c->mode);
		if (c->name[strlen(c->name) - 1] == 'g') {
			_cleanup_json_ json_object *r =
				call(conn, IFACE "SetAccess",
				     jparams("{\"name\":\"%s\",\"gid\":%d}", c->name, NOBODY_GID));
			is_success(r, "  root gives it to group %d", NOBODY_GID);
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		snprintf(ro, sizeof(ro), "{\"name\":\"%s\",\"access\":\"read_only\"}", c->name);
		snprintf(rw, sizeof(rw), "{\"name\":\"%s\",\"access\":\"read_write\"}", c->name);
		_cleanup_json_ json_object *res =
			calls_as(&d, NOBODY_UID, NOBODY_GID,
				 (const char *const[]){ "Open", ro, "Open", rw, NULL });
		is_str(reply_at(res, 0), c->ro, "nobody, %s (%04o%s): read-only Open", c->name,
		       c->mode, strchr(c->name, 'g') ? ", group nogroup" : "");
		is_str(reply_at(res, 1), c->rw, "nobody, %s: read-write Open", c->name);
		json_object *denied = json_object_array_get_idx(res, 1);
		if (strcmp(c->rw, DENIED) == 0 && strcmp(reply_at(res, 1), DENIED) == 0) {
			is_str(jstr(denied, "parameters.name"), c->name, "  {name}");
			is_str(jstr(denied, "parameters.operation"), "Open", "  {operation}");
			ok(jstr(denied, "parameters.reason") != NULL, "  {reason}: %s",
			   jstr(denied, "parameters.reason"));
		}
	}
	/* Create with exclusive=false is an Open of the existing region: same checks. */
	_cleanup_json_ json_object *res =
		calls_as(&d, NOBODY_UID, NOBODY_GID,
			 (const char *const[]){ "Create",
						"{\"name\":\"m600\",\"size\":1,\"exclusive\":false,"
						"\"access\":\"read_write\"}",
						"Create",
						"{\"name\":\"m644\",\"size\":1,\"exclusive\":false,"
						"\"access\":\"read_write\"}",
						NULL });
	is_str(reply_at(res, 0), DENIED, "nobody: non-exclusive Create of root's 0600 region, rw");
	is_str(reply_at(res, 1), DENIED, "nobody: non-exclusive Create of root's 0644 region, rw");
}

/* errno of a failed call, 0 when it succeeded (and undo what it did). */
static int try_mmap(int fd, int prot)
{
	void *p = mmap(NULL, 4096, prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return errno;
	munmap(p, 4096);
	return 0;
}

static int try_mprotect_write(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	int r = mprotect(p, 4096, PROT_READ | PROT_WRITE) < 0 ? errno : 0;
	munmap(p, 4096);
	return r;
}

static int try_reopen(int fd, int flags)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int r = open(path, flags | O_CLOEXEC);
	if (r < 0)
		return errno;
	close(r);
	return 0;
}

/* As nobody: open a region read-only and try every way to write through or upgrade it. */
static json_object *readonly_probe(void *arg)
{
	const char *name = arg;
	json_object *out = json_object_new_object();
	int conn = test_connect(&d);
	int fd = conn >= 0 ? open_region(conn, name, "read_only", NULL) : -1;
	char c = 0;

#define PUT(key, value) json_object_object_add(out, key, json_object_new_int(value))
	PUT("open", fd >= 0 ? 0 : -1);
	if (fd >= 0) {
		PUT("read", pread(fd, &c, 1, 0) == 1 ? 0 : errno);
		PUT("mmapRead", try_mmap(fd, PROT_READ));
		PUT("mmapWrite", try_mmap(fd, PROT_READ | PROT_WRITE));
		PUT("mprotect", try_mprotect_write(fd));
		PUT("write", pwrite(fd, "x", 1, 0) < 0 ? errno : 0);
		PUT("ftruncate", ftruncate(fd, 8192) < 0 ? errno : 0);
		PUT("addSeals", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0 ? errno : 0);
		PUT("reopenRdwr", try_reopen(fd, O_RDWR));
		PUT("reopenWronly", try_reopen(fd, O_WRONLY));
		PUT("reopenRdonly", try_reopen(fd, O_RDONLY));
	}
#undef PUT
	safe_close(fd);
	safe_close(conn);
	return out;
}

/*
 * The memfd inode carries the region's owner and mode, so re-opening /proc/self/fd/N is judged
 * by the same rule as Open: a holder not granted write (reopen_errno EACCES) cannot upgrade;
 * one granted write anyway (0666) may, which gives it nothing Open would not.
 */
static void test_readonly_enforced(int conn, const char *name, const char *what, int reopen_errno)
{
	_cleanup_json_ json_object *r =
		run_as(NOBODY_UID, NOBODY_GID, readonly_probe, (void *)name);
	if (!ok(r && jint(r, "open") == 0, "nobody opens %s (%s) read-only", name, what))
		return;
	is_int(jint(r, "read"), 0, "  read() works");
	is_int(jint(r, "mmapRead"), 0, "  mmap(PROT_READ, MAP_SHARED) works");
	is_int(jint(r, "mmapWrite"), EACCES, "  mmap(PROT_WRITE, MAP_SHARED): EACCES");
	is_int(jint(r, "mprotect"), EACCES,
	       "  mprotect() of a shared mapping to PROT_WRITE: EACCES");
	is_int(jint(r, "write"), EBADF, "  write(): EBADF");
	ok(jint(r, "ftruncate") == EINVAL || jint(r, "ftruncate") == EBADF,
	   "  ftruncate(): fails (%lld)", (long long)jint(r, "ftruncate"));
	is_int(jint(r, "addSeals"), EPERM, "  F_ADD_SEALS: EPERM");
	is_int(jint(r, "reopenRdwr"), reopen_errno, "  re-open of /proc/self/fd/N O_RDWR: %s",
	       reopen_errno ? strerror(reopen_errno) : "allowed, as Open would be");
	is_int(jint(r, "reopenWronly"), reopen_errno, "  re-open O_WRONLY: the same");
	is_int(jint(r, "reopenRdonly"), 0, "  re-open O_RDONLY works (reading was granted)");

	char buf[8] = "";
	int fd = open_region(conn, name, "read_write", NULL);
	ok(fd >= 0 && pread(fd, buf, 1, 0) == 1 && buf[0] == 0 && daemon_writable_maps(d.pid) == 0,
	   "  the region's content is unchanged; the daemon holds no writable mapping");
	safe_close(fd);
}

static void test_not_owner(int conn)
{
	static const char *const ops[] = {
		"Delete",    "{\"name\":\"m666\"}",
		"Resize",    "{\"name\":\"m666\",\"size\":8192}",
		"Rename",    "{\"name\":\"m666\",\"newName\":\"stolen\"}",
		"Seal",	     "{\"name\":\"m666\",\"seals\":[\"grow\"]}",
		"SetAccess", "{\"name\":\"m666\",\"mode\":384}",
		"SetAccess", "{\"name\":\"m666\",\"uid\":65534}",
		NULL,
	};
	_cleanup_json_ json_object *res = calls_as(&d, NOBODY_UID, NOBODY_GID, ops);

	for (size_t i = 0; ops[2 * i]; i++) {
		json_object *r = json_object_array_get_idx(res, i);
		if (is_str(reply_at(res, i), DENIED, "nobody may not %s root's 0666 region %s",
			   ops[2 * i], ops[2 * i + 1]))
			is_str(jstr(r, "parameters.operation"), ops[2 * i], "  {operation}");
	}
	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname("m666"));
	ok(jint(s, "parameters.region.size") == 4096 && jint(s, "parameters.region.mode") == 0666 &&
		   jint(s, "parameters.region.uid") == 0 && jseals(s, "parameters.region.seals") &&
		   !*jseals(s, "parameters.region.seals"),
	   "the region is unchanged");
}

static void test_owner(int conn)
{
	static const char *const ops[] = {
		"Create",    "{\"name\":\"nb/r\",\"size\":4096}",
		"Resize",    "{\"name\":\"nb/r\",\"size\":8192}",
		"Seal",	     "{\"name\":\"nb/r\",\"seals\":[\"grow\"]}",
		"SetAccess", "{\"name\":\"nb/r\",\"mode\":420}",
		"SetAccess", "{\"name\":\"nb/r\",\"uid\":0}",
		"SetAccess", "{\"name\":\"nb/r\",\"gid\":0}",
		"SetAccess", "{\"name\":\"nb/r\",\"gid\":65534}",
		"Rename",    "{\"name\":\"nb/r\",\"newName\":\"nb/s\"}",
		"Create",    "{\"name\":\"nb/t\",\"size\":1}",
		"Rename",    "{\"name\":\"nb/s\",\"newName\":\"m600\",\"replace\":true}",
		"Delete",    "{\"name\":\"nb/t\"}",
		NULL,
	};
	static const char *const want[] = {
		"ok", "ok", "ok", "ok", DENIED, DENIED, "ok", "ok", "ok", DENIED, "ok",
	};
	_cleanup_json_ json_object *res = calls_as(&d, NOBODY_UID, NOBODY_GID, ops);

	json_object *c = json_object_array_get_idx(res, 0);
	is_int(jint(c, "parameters.region.uid"), NOBODY_UID, "nobody's region is owned by nobody");
	is_int(jint(c, "parameters.region.gid"), NOBODY_GID, "  group nogroup");
	is_int(jint(c, "parameters.region.creator.uid"), NOBODY_UID, "  creator.uid");
	for (size_t i = 0; ops[2 * i]; i++)
		is_str(reply_at(res, i), want[i], "nobody, owner: %s %s", ops[2 * i],
		       ops[2 * i + 1]);

	_cleanup_json_ json_object *s = call(conn, IFACE "Stat", jname("nb/s"));
	is_int(jint(s, "parameters.region.mode"), 0644, "root sees nobody's mode change");
	is_int(jint(s, "parameters.region.size"), 8192, "  and the resize");
	is_str(jseals(s, "parameters.region.seals"), "grow", "  and the seal");
	_cleanup_json_ json_object *m = call(conn, IFACE "Stat", jname("m600"));
	is_int(jint(m, "parameters.region.uid"), 0, "root's m600 was not replaced by nobody");

	int fd = open_region(conn, "nb/s", "read_write", NULL);
	ok(fd >= 0, "root (admin) may open nobody's region read-write");
	safe_close(fd);
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("nb/s"));
	is_success(del, "root (admin) may delete nobody's region");
}

/*
 * The methods added since 0.1 (quotas, reload, named ranges, holders), nobody against root's
 * regions and then on its own: writers label, anyone lists ranges, only readers see their
 * footprint, only owners and administrators see holders or reload.
 */
static void test_later_methods(int conn)
{
	static const char *const ops[] = {
		"Label",
		"{\"name\":\"m666\",\"offset\":0,\"length\":4096,\"label\":\"x\"}",
		"RenameLabel",
		"{\"name\":\"m666\",\"label\":\"x\",\"newLabel\":\"y\"}",
		"Unlabel",
		"{\"name\":\"m666\",\"label\":\"y\"}",
		"Label",
		"{\"name\":\"m644\",\"offset\":0,\"length\":4096,\"label\":\"x\"}",
		"Unlabel",
		"{\"name\":\"m644\",\"offset\":0,\"length\":4096}",
		"Ranges",
		"{\"name\":\"m600\"}",
		"Ranges",
		"{\"name\":\"m600\",\"footprint\":true}",
		"Ranges",
		"{\"name\":\"m644\",\"footprint\":true}",
		"Holders",
		"{\"name\":\"m666\"}",
		"Quotas",
		"{}",
		"Reload",
		"{}",
		"Create",
		"{\"name\":\"nb/own\",\"size\":8192}",
		"Label",
		"{\"name\":\"nb/own\",\"offset\":4096,\"length\":4096,\"label\":\"mine\"}",
		"Holders",
		"{\"name\":\"nb/own\"}",
		NULL,
	};
	static const char *const want[] = {
		"ok", "ok",   "ok", DENIED, DENIED, "ok", DENIED,
		"ok", DENIED, "ok", DENIED, "ok",   "ok", "ok",
	};
	_cleanup_json_ json_object *res = calls_as(&d, NOBODY_UID, NOBODY_GID, ops);

	for (size_t i = 0; ops[2 * i]; i++)
		is_str(reply_at(res, i), want[i], "nobody: %s %s", ops[2 * i], ops[2 * i + 1]);

	/* An administrator (root here) may do all of it, on anyone's region. */
	static const char *const admin[] = { "Label", "Holders", "Reload" };
	json_object *params[] = {
		json_tokener_parse("{\"name\":\"nb/own\",\"offset\":0,\"length\":4096,"
				   "\"label\":\"root's\"}"),
		jname("nb/own"),
		NULL,
	};
	for (size_t i = 0; i < ELEMENTSOF(admin); i++) {
		char method[64];
		snprintf(method, sizeof(method), IFACE "%s", admin[i]);
		_cleanup_json_ json_object *r = call(conn, method, params[i]);
		is_success(r, "root (admin): %s on nobody's region", admin[i]);
	}
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("nb/own"));
	is_success(del, "root (admin) deletes nobody's labelled region");
}

/*
 * Spill and Restore: the owner and administrators (here spilling is off, so an allowed
 * Spill is refused as RegionNotSpillable, after the access check); SpillEvaluate:
 * administrators only.
 */
static void test_spill_methods(int conn)
{
	static const char *const ops[] = {
		"Spill",
		"{\"name\":\"m666\"}",
		"Restore",
		"{\"name\":\"m666\"}",
		"SpillEvaluate",
		"{}",
		"Create",
		"{\"name\":\"nb/sp\",\"size\":8192}",
		"Spill",
		"{\"name\":\"nb/sp\"}",
		"Restore",
		"{\"name\":\"nb/sp\"}",
		NULL,
	};
	static const char *const want[] = {
		DENIED, DENIED, DENIED, "ok", IFACE "RegionNotSpillable", "ok",
	};
	_cleanup_json_ json_object *res = calls_as(&d, NOBODY_UID, NOBODY_GID, ops);

	for (size_t i = 0; ops[2 * i]; i++)
		is_str(reply_at(res, i), want[i], "nobody: %s %s", ops[2 * i], ops[2 * i + 1]);
	_cleanup_json_ json_object *sp = call(conn, IFACE "Spill", jname("nb/sp"));
	is_error(sp, "RegionNotSpillable", "root (admin): Spill of nobody's region passes access");
	_cleanup_json_ json_object *rs = call(conn, IFACE "Restore", jname("nb/sp"));
	is_success(rs, "root (admin): Restore of nobody's region");
	_cleanup_json_ json_object *ev = call(conn, IFACE "SpillEvaluate", NULL);
	is_success(ev, "root (admin): SpillEvaluate");
	_cleanup_json_ json_object *del = call(conn, IFACE "Delete", jname("nb/sp"));
	is_success(del, "root deletes it");
}

int main(void)
{
	if (geteuid() != 0) {
		/* Every case is root's region seen by a child switched to uid 65534, or the reverse. */
		printf("1..0 # SKIP needs root: the cases run a child as uid 65534 next to root\n");
		return 0;
	}
	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_open_matrix(conn);
	test_readonly_enforced(conn, "m644", "root's, mode 0644", EACCES);
	test_readonly_enforced(conn, "m640g", "root's, group nogroup, mode 0640", EACCES);
	test_readonly_enforced(conn, "m666", "root's, mode 0666", 0);
	test_not_owner(conn);
	test_owner(conn);
	test_later_methods(conn);
	test_spill_methods(conn);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
