/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Status, introspection, unknown methods and a Create/Open/Stat/Delete round trip on a private shmd. */

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "proto-util.h"

/* features.noexecSeal: the kernel then adds F_SEAL_EXEC to every memfd by itself. */
static bool noexec_seal;

static bool is_type(json_object *o, const char *path, json_type type)
{
	json_object *v = jget(o, path);
	bool good = v && json_object_is_type(v, type);
	ok(good, "%s is a %s", path, json_type_to_name(type));
	return good;
}

static void test_status(int conn)
{
	static const char *const limits[] = {
		"maxRegions",	  "maxConnections",	"maxConnectionsPerUid", "maxMessageBytes",
		"maxOutputBytes", "messageTimeoutUSec", "idleTimeoutUSec",
	};
	char path[128];
	_cleanup_json_ json_object *r = call(conn, IFACE "Status", NULL);

	if (!is_success(r, "Status succeeds"))
		return;
	is_type(r, "parameters.version", json_type_string);
	is_type(r, "parameters.regions", json_type_int);
	is_type(r, "parameters.totalSize", json_type_int);
	is_type(r, "parameters.connections", json_type_int);
	is_type(r, "parameters.startedUSec", json_type_int);
	for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
		snprintf(path, sizeof(path), "parameters.limits.%s", limits[i]);
		is_type(r, path, json_type_int);
	}
	is_type(r, "parameters.features.noexecSeal", json_type_boolean);
	is_type(r, "parameters.features.anonVmaName", json_type_boolean);
	noexec_seal = jbool(r, "parameters.features.noexecSeal") == 1;
	is_str(jstr(r, "parameters.version"), SHMD_VERSION, "version is the build's");
	is_int(jint(r, "parameters.regions"), 0, "a new daemon has no regions");
	is_int(jint(r, "parameters.connections"), 1, "one connection: ours");
	ok(jint(r, "parameters.limits.maxRegions") > 0, "maxRegions is positive");
	is_int(jint(r, "parameters.limits.maxMessageBytes"), 65536, "default maxMessageBytes 64K");

	struct timeval tv;
	gettimeofday(&tv, NULL);
	int64_t now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	int64_t started = jint(r, "parameters.startedUSec");
	ok(started <= now && started > now - 600 * INT64_C(1000000),
	   "startedUSec is realtime microseconds in the recent past");
}

static char *read_idl(void)
{
	const char *src = getenv("SHMD_SRCDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/daemon/io.shmd.Manager.varlink", src ?: "..");
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *text = calloc(1, 1 << 20);
	size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (text)
		text[n] = '\0';
	return text;
}

static void test_introspection(int conn)
{
	_cleanup_json_ json_object *info = call(conn, "org.varlink.service.GetInfo", NULL);
	if (is_success(info, "GetInfo succeeds")) {
		is_type(info, "parameters.vendor", json_type_string);
		is_type(info, "parameters.product", json_type_string);
		is_type(info, "parameters.version", json_type_string);
		is_type(info, "parameters.url", json_type_string);
		ok(jarray_has(info, "parameters.interfaces", "io.shmd.Manager"),
		   "GetInfo lists io.shmd.Manager");
		ok(jarray_has(info, "parameters.interfaces", "org.varlink.service"),
		   "GetInfo lists org.varlink.service");
	}

	_cleanup_free_ char *idl = read_idl();
	_cleanup_json_ json_object *desc = call(conn, "org.varlink.service.GetInterfaceDescription",
						jparams("{\"interface\":\"io.shmd.Manager\"}"));
	if (is_success(desc, "GetInterfaceDescription io.shmd.Manager succeeds"))
		ok(idl && jstr(desc, "parameters.description") &&
			   strcmp(jstr(desc, "parameters.description"), idl) == 0,
		   "the description is the IDL file of the tree, byte for byte");

	_cleanup_json_ json_object *svc = call(conn, "org.varlink.service.GetInterfaceDescription",
					       jparams("{\"interface\":\"org.varlink.service\"}"));
	if (is_success(svc, "GetInterfaceDescription org.varlink.service succeeds"))
		ok(strstr(jstr(svc, "parameters.description") ?: "",
			  "interface org.varlink.service") != NULL,
		   "it describes org.varlink.service");

	_cleanup_json_ json_object *nf = call(conn, "org.varlink.service.GetInterfaceDescription",
					      jparams("{\"interface\":\"com.example.Nope\"}"));
	if (is_error(nf, "org.varlink.service.InterfaceNotFound",
		     "GetInterfaceDescription of an unknown interface: InterfaceNotFound"))
		is_str(jstr(nf, "parameters.interface"), "com.example.Nope", "it names it");

	_cleanup_json_ json_object *mnf = call(conn, IFACE "Frobnicate", NULL);
	if (is_error(mnf, "org.varlink.service.MethodNotFound", "unknown method: MethodNotFound"))
		is_str(jstr(mnf, "parameters.method"), IFACE "Frobnicate", "it names the method");

	_cleanup_json_ json_object *inf = call(conn, "com.example.Nope.Frobnicate", NULL);
	if (is_error(inf, "org.varlink.service.InterfaceNotFound",
		     "method of an unknown interface: InterfaceNotFound"))
		is_str(jstr(inf, "parameters.interface"), "com.example.Nope", "it names it");
}

static void check_region(json_object *r, const char *what)
{
	is_str(jstr(r, "parameters.region.name"), "basic/one", "%s: region.name", what);
	ok(jint(r, "parameters.region.id") > 0, "%s: region.id is positive", what);
	is_int(jint(r, "parameters.region.size"), 4096, "%s: region.size", what);
	is_int(jint(r, "parameters.region.uid"), getuid(), "%s: region.uid is ours", what);
	is_int(jint(r, "parameters.region.gid"), getgid(), "%s: region.gid is ours", what);
	is_int(jint(r, "parameters.region.mode"), 0640, "%s: region.mode", what);
	is_int(jint(r, "parameters.region.creator.uid"), getuid(), "%s: creator.uid", what);
	is_int(jint(r, "parameters.region.creator.gid"), getgid(), "%s: creator.gid", what);
	is_int(jint(r, "parameters.region.creator.pid"), getpid(), "%s: creator.pid", what);
	ok(jint(r, "parameters.region.createdUSec") > 0, "%s: createdUSec set", what);
	ok(jint(r, "parameters.region.changedUSec") >= jint(r, "parameters.region.createdUSec"),
	   "%s: changedUSec >= createdUSec", what);
	is_str(jseals(r, "parameters.region.seals"), "", "%s: no seals", what);
	is_int(jarray_has(r, "parameters.region.seals", "exec"), noexec_seal,
	       "%s: the exec seal is there exactly when MFD_NOEXEC_SEAL works", what);
	json_object *foreign = jget(r, "parameters.region.foreignSeals");
	ok(json_object_is_type(foreign, json_type_array) && json_object_array_length(foreign) == 0,
	   "%s: no foreign seals", what);
	is_int(jbool(r, "parameters.region.fixed"), 0, "%s: not fixed", what);
	is_str(jstr(r, "parameters.region.state"), "resident", "%s: resident", what);
}

static void test_round_trip(int conn)
{
	_cleanup_json_ json_object *c =
		call(conn, IFACE "Create",
		     jparams("{\"name\":\"basic/one\",\"size\":4096,\"mode\":416}"));
	if (is_success(c, "Create basic/one")) {
		check_region(c, "Create");
		is_int(jbool(c, "parameters.created"), 1, "created is true");
		ok(!jget(c, "parameters.fileDescriptor"), "access none: no fileDescriptor");
	}
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), 1, "Status counts one region");
	is_int(jint(s, "parameters.totalSize"), 4096, "Status totalSize is its size");

	_cleanup_json_ json_object *again =
		call(conn, IFACE "Create", jparams("{\"name\":\"basic/one\",\"size\":1}"));
	if (is_error(again, "RegionExists", "Create of an existing name: RegionExists"))
		is_str(jstr(again, "parameters.name"), "basic/one", "RegionExists names it");

	int fd;
	_cleanup_json_ json_object *o =
		call_fd(conn, IFACE "Open", jparams("{\"name\":\"basic/one\"}"), &fd);
	if (is_success(o, "Open basic/one")) {
		check_region(o, "Open");
		is_int(jint(o, "parameters.fileDescriptor"), 0, "fileDescriptor is index 0");
	}
	ok(fd >= 0 && pwrite(fd, "hello", 5, 100) == 5, "the fd takes a write");
	fd = safe_close(fd);

	_cleanup_json_ json_object *st =
		call(conn, IFACE "Stat", jparams("{\"name\":\"basic/one\"}"));
	if (is_success(st, "Stat basic/one"))
		check_region(st, "Stat");

	int ro = open_region(conn, "basic/one", "read_only", NULL);
	char buf[6] = "";
	ok(ro >= 0 && pread(ro, buf, 5, 100) == 5 && memcmp(buf, "hello", 5) == 0,
	   "a read-only Open reads what was written");
	safe_close(ro);

	_cleanup_json_ json_object *d =
		call(conn, IFACE "Delete", jparams("{\"name\":\"basic/one\"}"));
	is_success(d, "Delete basic/one");
	_cleanup_json_ json_object *st2 =
		call(conn, IFACE "Stat", jparams("{\"name\":\"basic/one\"}"));
	if (is_error(st2, "NoSuchRegion", "Stat after Delete: NoSuchRegion"))
		is_str(jstr(st2, "parameters.name"), "basic/one", "NoSuchRegion names it");
	_cleanup_json_ json_object *o2 =
		call(conn, IFACE "Open", jparams("{\"name\":\"basic/one\"}"));
	is_error(o2, "NoSuchRegion", "Open after Delete: NoSuchRegion");
	_cleanup_json_ json_object *d2 =
		call(conn, IFACE "Delete", jparams("{\"name\":\"basic/one\"}"));
	is_error(d2, "NoSuchRegion", "Delete twice: NoSuchRegion");
	_cleanup_json_ json_object *s2 = call(conn, IFACE "Status", NULL);
	is_int(jint(s2, "parameters.regions"), 0, "Status counts no region");
	is_int(jint(s2, "parameters.totalSize"), 0, "Status totalSize is 0");
}

int main(void)
{
	struct test_daemon d;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	ok(wait_connections(conn, 1), "the readiness probe connection is gone");
	test_status(conn);
	test_introspection(conn);
	test_round_trip(conn);
	close(conn);
	itest_stop(&d);
	return done_testing();
}
