/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 10,000 regions: create, list (streamed, in order), delete; the daemon's fds return to baseline. */

#include <stdio.h>
#include <string.h>

#include "proto-util.h"
#include "varlink.h"

#define BATCH 200

/* Pipeline count calls of method on names "many/%05d" from first; count the failures. */
static int pipelined(int conn, const char *method, const char *extra, int first, int count)
{
	int failures = 0;

	for (int base = first; base < first + count; base += BATCH) {
		int n = MIN(BATCH, first + count - base);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		for (int i = 0; i < n; i++) {
			fprintf(f,
				"{\"method\":\"" IFACE
				"%s\",\"parameters\":{\"name\":\"many/%05d\"%s}}",
				method, base + i, extra);
			fputc('\0', f);
		}
		fclose(f);
		if (send_raw(conn, buf, len, NULL, 0) < 0)
			bail_out("send: %m");
		free(buf);
		for (int i = 0; i < n; i++) {
			_cleanup_json_ json_object *r = NULL;
			if (test_read_reply(conn, &r, NULL, NULL) < 0)
				bail_out("%s: no reply", method);
			if (test_reply_error(r) && failures++ == 0)
				diag("%s: %s", method, json_object_to_json_string(r));
		}
	}
	return failures;
}

/* List everything; count replies and check the names come in order. */
static int list_all(int conn, bool *in_order)
{
	_cleanup_json_ json_object *msg = vl_call_new(IFACE "List", NULL, true, false);
	size_t len;
	_cleanup_free_ char *data = vl_serialize(msg, &len);
	char last[300] = "";
	int n = 0;

	*in_order = true;
	if (send_raw(conn, data, len, NULL, 0) < 0)
		return -EIO;
	for (;;) {
		_cleanup_json_ json_object *r = NULL;
		if (test_read_reply(conn, &r, NULL, NULL) < 0 || test_reply_error(r))
			return -EIO;
		const char *name = jstr(r, "parameters.region.name");
		if (name) {
			*in_order = *in_order && strcmp(last, name) < 0;
			snprintf(last, sizeof(last), "%s", name);
			n++;
		}
		if (!vl_message_flag(r, "continues"))
			return n;
	}
}

int main(void)
{
	struct test_daemon d;
	int n = test_slow_mode() ? 1000 : 10000;
	bool in_order;

	plan_no_plan();
	if (n < 10000)
		diag("under a wrapper (valgrind): %d regions instead of 10,000", n);
	itest_start(&d, NULL);
	int conn = itest_connect(&d);
	ok(wait_connections(conn, 1), "only our connection");
	int baseline = test_count_fds(d.pid);
	ok(baseline > 0, "baseline: the daemon has %d fds", baseline);

	int64_t t0 = now_ms();
	is_int(pipelined(conn, "Create", ",\"size\":4096,\"mode\":384", 0, n), 0,
	       "create %d regions", n);
	int64_t t1 = now_ms();
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), n, "Status counts them");
	is_int(jint(s, "parameters.totalSize"), (long long)n * 4096, "and their size");
	is_int(test_count_fds(d.pid), baseline + n, "the daemon holds one fd per region");

	is_int(list_all(conn, &in_order), n, "List streams %d replies", n);
	ok(in_order, "in byte order");
	int64_t t2 = now_ms();
	is_int(list_count(conn, "many/0000"), 10, "prefix many/0000 lists 10");

	is_int(pipelined(conn, "Delete", "", 0, n), 0, "delete them all");
	int64_t t3 = now_ms();
	_cleanup_json_ json_object *s2 = call(conn, IFACE "Status", NULL);
	is_int(jint(s2, "parameters.regions"), 0, "no region left");
	is_int(jint(s2, "parameters.totalSize"), 0, "totalSize 0");
	is_int(test_count_fds(d.pid), baseline, "the daemon's fd count is back to baseline");
	diag("create %lld ms, list %lld ms, delete %lld ms", (long long)(t1 - t0),
	     (long long)(t2 - t1), (long long)(t3 - t2));

	/* Names are free again. */
	ok(create_region(conn, "many/00000", 1, 0600), "a name can be reused");
	close(conn);
	itest_stop(&d);
	return done_testing();
}
