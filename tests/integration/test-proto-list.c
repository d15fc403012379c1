/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * List: streamed replies with "continues", byte order, prefix filtering, the empty result,
 * and regions deleted or created by another connection while a stream is paused.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "proto-util.h"
#include "varlink.h"

#define MAX_NAMES 32

struct listing {
	char *names[MAX_NAMES];
	size_t n;
	size_t replies;
	bool continues_ok; /* every reply but the last had continues=true, the last none */
	bool fields_ok;	   /* every region had size and id */
	char *error;	   /* the error name, if the call failed */
};

static void listing_done(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->error);
	*l = (struct listing){ 0 };
}

/* The region name of a reply, decoded from name or nameBase64. */
static char *reply_name(json_object *reply)
{
	const char *s = jstr(reply, "parameters.region.name");
	const char *b = jstr(reply, "parameters.region.nameBase64");
	char *ret = NULL;
	size_t len;

	if (s)
		return strdup(s);
	if (b && base64_decode(b, strlen(b), &ret, &len) == 0)
		return ret;
	return NULL;
}

static void list(int conn, json_object *params, bool more, struct listing *l)
{
	_cleanup_json_ json_object *msg = vl_call_new(IFACE "List", params, more, false);
	size_t len;
	_cleanup_free_ char *data = vl_serialize(msg, &len);

	*l = (struct listing){ .continues_ok = true, .fields_ok = true };
	if (send_raw(conn, data, len, NULL, 0) < 0)
		bail_out("send List: %m");
	for (;;) {
		_cleanup_json_ json_object *reply = NULL;
		if (test_read_reply(conn, &reply, NULL, NULL) < 0)
			bail_out("List: no reply");
		l->replies++;
		if (test_reply_error(reply)) {
			l->error = strdup(test_reply_error(reply));
			return;
		}
		bool cont = vl_message_flag(reply, "continues");
		if (jget(reply, "parameters.region")) {
			if (l->n < MAX_NAMES)
				l->names[l->n++] = reply_name(reply);
			l->fields_ok = l->fields_ok && jint(reply, "parameters.region.size") >= 0 &&
				       jint(reply, "parameters.region.id") > 0;
		} else if (cont) {
			l->continues_ok = false; /* only the final reply may lack a region */
		}
		if (!cont)
			return;
	}
}

static json_object *prefix_params(const char *prefix)
{
	json_object *p = json_object_new_object();
	if (json_add_name(p, "prefix", prefix) < 0)
		bail_out("out of memory");
	return p;
}

/* Compare the listing with the expected names, in order. */
static void check(struct listing *l, const char *const *want, const char *what)
{
	size_t n = 0;
	bool same = true;

	while (want[n])
		n++;
	is_str(l->error, NULL, "%s: no error", what);
	is_int(l->n, n, "%s: %zu regions", what, n);
	for (size_t i = 0; i < n && i < l->n; i++)
		same = same && l->names[i] && strcmp(l->names[i], want[i]) == 0;
	ok(same, "%s: the expected names in byte order", what);
	if (!same)
		for (size_t i = 0; i < l->n; i++) {
			_cleanup_free_ char *e = name_escape(l->names[i] ?: "(null)");
			diag("  got [%zu] %s", i, e);
		}
	ok(l->continues_ok, "%s: continues on all but the last reply", what);
	ok(l->fields_ok, "%s: every reply carries a full region", what);
	is_int(l->replies, n ? n : 1, "%s: %zu replies", what, n ? n : 1);
}

#define N_STREAM 3000 /* ~900 KB of replies: the daemon must pause for its reader */

/*
 * Start a List of s/ on conn and read only its first reply, so the stream waits for its
 * reader; meanwhile another connection deletes s/1500 and s/2000..s/2999 and creates s/9999.
 * The rest of the stream leaves out what was deleted and does not add what is new.
 */
static void test_changes_during_stream(const struct test_daemon *d, int conn)
{
	char name[32];
	int made = 0;

	for (int i = 0; i < N_STREAM; i++) {
		snprintf(name, sizeof(name), "s/%04d", i);
		made += create_region(conn, name, 4096, 0600);
	}
	is_int(made, N_STREAM, "%d regions under s/", N_STREAM);

	_cleanup_json_ json_object *msg =
		vl_call_new(IFACE "List", prefix_params("s/"), true, false);
	size_t len;
	_cleanup_free_ char *data = vl_serialize(msg, &len);
	_cleanup_json_ json_object *first = NULL;
	ok(send_raw(conn, data, len, NULL, 0) == 0 &&
		   test_read_reply(conn, &first, NULL, NULL) == 0 &&
		   strcmp(jstr(first, "parameters.region.name") ?: "", "s/0000") == 0,
	   "List s/: the first reply, then the reader pauses");

	int other = itest_connect(d);
	int deleted = 0;
	for (int i = 1500; i < N_STREAM; i += i == 1500 ? 500 : 1) {
		snprintf(name, sizeof(name), "s/%04d", i);
		_cleanup_json_ json_object *r = call(other, IFACE "Delete", jname(name));
		deleted += r && !test_reply_error(r);
	}
	is_int(deleted, 1001, "another connection deletes 1,001 of them meanwhile");
	ok(create_region(other, "s/9999", 4096, 0600), "and creates s/9999");
	close(other);

	int n = 1, in_order = 1, last = 0, seen_deleted = 0, seen_new = 0;
	for (;;) {
		_cleanup_json_ json_object *reply = NULL;
		if (test_read_reply(conn, &reply, NULL, NULL) < 0 || test_reply_error(reply))
			break;
		const char *got = jstr(reply, "parameters.region.name");
		int k = got && strncmp(got, "s/", 2) == 0 ? atoi(got + 2) : -1;
		if (got) {
			n++;
			in_order = in_order && k > last;
			last = k;
			seen_deleted += k == 1500 || (k >= 2000 && k < N_STREAM);
			seen_new += k == 9999;
		}
		if (!vl_message_flag(reply, "continues"))
			break;
	}
	is_int(n, N_STREAM - 1001, "the stream ends with the %d regions left", N_STREAM - 1001);
	ok(in_order && !seen_deleted && !seen_new,
	   "in order, none of the deleted, not the new one (deleted %d, new %d)", seen_deleted,
	   seen_new);
	_cleanup_json_ json_object *st = call(conn, IFACE "Status", NULL);
	is_int(jint(st, "parameters.regions"), N_STREAM - 1001 + 1 + 8,
	       "the connection is in step: Status counts what is left");
}

int main(void)
{
	/* Deliberately created out of order; listed in byte order ("\xff" sorts last). */
	static const char *const names[] = {
		"b/x", "a/c", "\xff\xfe/odd", "ab", "a", "a/b", "\xc3\xa9t\xc3\xa9/1", "A",
	};
	static const char *const all[] = {
		"A", "a", "a/b", "a/c", "ab", "b/x", "\xc3\xa9t\xc3\xa9/1", "\xff\xfe/odd", NULL,
	};
	struct test_daemon d;
	struct listing l;

	plan_no_plan();
	itest_start(&d, NULL);
	int conn = itest_connect(&d);

	list(conn, NULL, true, &l);
	check(&l, (const char *const[]){ NULL }, "empty registry");
	listing_done(&l);

	list(conn, NULL, false, &l);
	is_str(l.error, "org.varlink.service.ExpectedMore", "List without more: ExpectedMore");
	listing_done(&l);

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		create_region(conn, names[i], 4096, 0600);

	list(conn, NULL, true, &l);
	check(&l, all, "all regions");
	listing_done(&l);

	list(conn, prefix_params(""), true, &l);
	check(&l, all, "empty prefix");
	listing_done(&l);

	list(conn, prefix_params("a"), true, &l);
	check(&l, (const char *const[]){ "a", "a/b", "a/c", "ab", NULL },
	      "prefix \"a\" matches bytes, not components");
	listing_done(&l);

	list(conn, prefix_params("a/"), true, &l);
	check(&l, (const char *const[]){ "a/b", "a/c", NULL }, "prefix \"a/\"");
	listing_done(&l);

	list(conn, prefix_params("\xc3\xa9"), true, &l);
	check(&l, (const char *const[]){ "\xc3\xa9t\xc3\xa9/1", NULL }, "UTF-8 prefix");
	listing_done(&l);

	list(conn, prefix_params("\xff"), true, &l);
	check(&l, (const char *const[]){ "\xff\xfe/odd", NULL },
	      "prefixBase64 of a non-UTF-8 byte");
	listing_done(&l);

	list(conn, prefix_params("\xc3"), true, &l);
	check(&l, (const char *const[]){ "\xc3\xa9t\xc3\xa9/1", NULL },
	      "prefixBase64 cutting a UTF-8 sequence in half");
	listing_done(&l);

	list(conn, prefix_params("zzz"), true, &l);
	check(&l, (const char *const[]){ NULL }, "prefix with no match");
	listing_done(&l);

	list(conn, jparams("{\"prefix\":\"a\",\"prefixBase64\":\"YQ==\"}"), true, &l);
	is_str(l.error, IFACE "InvalidParameter", "prefix and prefixBase64: InvalidParameter");
	listing_done(&l);

	list(conn, jparams("{\"prefixBase64\":\"!!!\"}"), true, &l);
	is_str(l.error, IFACE "InvalidParameter", "bad prefixBase64: InvalidParameter");
	listing_done(&l);

	list(conn, jparams("{\"prefix\":7}"), true, &l);
	is_str(l.error, IFACE "InvalidParameter", "prefix of the wrong type: InvalidParameter");
	listing_done(&l);

	/* The connection is still in sync after streams and errors. */
	_cleanup_json_ json_object *s = call(conn, IFACE "Status", NULL);
	is_int(jint(s, "parameters.regions"), ELEMENTSOF(names), "Status afterwards");

	test_changes_during_stream(&d, conn);

	close(conn);
	itest_stop(&d);
	return done_testing();
}
