/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may open what, and who may change a region: root's regions seen by nobody, nobody's own. */

#include <stdio.h>
#include <string.h>

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
		ok(create_region(conn, c->name, 4096, c->mode), "root creates %s mode %04o", c->name,
		   c->mode);
		if (c->name[strlen(c->name) - 1] == 'g') {
			_cleanup_json_ json_object *r = call(
				conn, IFACE "SetAccess",
				jparams("{\"name\":\"%s\",\"gid\":%d}", c->name, NOBODY_GID));
			is_success(r, "  root gives it to group %d", NOBODY_GID);
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		snprintf(ro, sizeof(ro), "{\"name\":\"%s\",\"access\":\"read_only\"}", c->name);
		snprintf(rw, sizeof(rw), "{\"name\":\"%s\",\"access\":\"read_write\"}", c->name);
		_cleanup_json_ json_object *res = calls_as(&d, NOBODY_UID, NOBODY_GID,
							   (const char *const[]){ "Open", ro, "Open",
										  rw, NULL });
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
	_cleanup_json_ json_object *res = calls_as(
		&d, NOBODY_UID, NOBODY_GID,
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
		   jint(s, "parameters.region.uid") == 0 &&
		   jseals(s, "parameters.region.seals") && !*jseals(s, "parameters.region.seals"),
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

int main(void)
{
	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	test_open_matrix(conn);
	test_not_owner(conn);
	test_owner(conn);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
