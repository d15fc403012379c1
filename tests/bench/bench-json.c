/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The protocol's own cost: the json-c work of one call on both sides, in-process, no I/O.
 * It prices what any Varlink server built on json-c pays on top of the bare server, so the
 * ratio table can show how close to the bare server such a server can get at best.
 */

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-shmd.h"
#include "bench.h"
#include "varlink.h"

#define JSON_OPS 20000

/* One call as it travels: method and parameters (client side), the reply text (daemon side). */
struct wire_call {
	const char *method;
	const char *params; /* parsed once, deep-copied per call as a client builds its own */
	const char *reply;
};

/* What the daemon does with a request: parse it (as vl_reader does) and read every member. */
static int daemon_side(json_tokener *tok, const char *data, size_t len)
{
	json_tokener_reset(tok);
	json_object *msg = json_tokener_parse_ex(tok, data, (int)len);
	json_object *params = vl_message_parameters(msg);
	int found = msg && vl_message_method(msg) && params ? 0 : -EBADMSG;

	if (params) {
		json_object_object_foreach(params, key, value) {
			json_object *v;
			if (!value || !json_object_object_get_ex(params, key, &v))
				found = -EBADMSG;
		}
	}
	json_object_put(msg);
	return found;
}

/* What the client does with the reply: parse it and read its parameters. */
static int client_side(json_tokener *tok, const char *reply)
{
	json_tokener_reset(tok);
	json_object *msg = json_tokener_parse_ex(tok, reply, (int)strlen(reply));
	json_object *params = vl_message_parameters(msg);
	int r = params && !vl_message_error(msg) ? 0 : -EBADMSG;

	json_object_put(msg);
	return r;
}

/* One call's json-c work: build and serialize, parse and read, parse the reply. */
static int one_call(const struct wire_call *c, json_object *params, json_tokener *tok)
{
	json_object *copy = NULL;
	size_t len;

	if (json_object_deep_copy(params, &copy, NULL) < 0)
		return -ENOMEM;
	json_object *msg = vl_call_new(c->method, copy, false, false);
	char *data = msg ? vl_serialize(msg, &len) : NULL;
	json_object_put(msg);
	int r = data ? daemon_side(tok, data, len - 1) : -ENOMEM;
	free(data);
	return r < 0 ? r : client_side(tok, c->reply);
}

/* Microseconds of json-c work per operation made of the given calls; negative errno. */
static double measure_calls(const struct wire_call *calls, size_t n)
{
	json_object *params[4] = { 0 };
	json_tokener *tok = json_tokener_new();
	double us = -ENOMEM;
	int r = tok ? 0 : -ENOMEM;

	if (tok)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	for (size_t i = 0; i < n && r == 0; i++)
		if (!(params[i] = json_tokener_parse(calls[i].params)))
			r = -EINVAL;
	uint64_t t0 = bench_now_ns();
	for (int op = 0; op < JSON_OPS && r == 0; op++)
		for (size_t i = 0; i < n && r == 0; i++)
			r = one_call(&calls[i], params[i], tok);
	if (r == 0)
		us = (double)(bench_now_ns() - t0) / JSON_OPS / 1000.0;
	else
		us = r;
	for (size_t i = 0; i < n; i++)
		json_object_put(params[i]);
	if (tok)
		json_tokener_free(tok);
	return us;
}

/* "bare cpu / (bare cpu + json-c work)": the best ratio a json-c server could reach. */
static void bound_row(const char *figure, const char *label, const struct bench_figure *json)
{
	const struct bench_figure *bare = bench_figure(figure, "us/op");

	if (bare->n == 0 || json->n == 0)
		return;
	double b = bench_median(bare);
	bench_ratio(label, b / (b + bench_median(json)), NAN, true);
}

void bench_json(const struct bench_env *e)
{
	static const struct wire_call open[] = {
		{ "io.shmd.Manager.Open",
		  "{\"name\":\"bench/open\",\"access\":\"read_write\",\"withRegion\":false}",
		  "{\"parameters\":{\"fileDescriptor\":0}}" },
	};
	static const struct wire_call churn[] = {
		{ "io.shmd.Manager.Create",
		  "{\"name\":\"bench/churn/0\",\"size\":1048576,\"mode\":384,"
		  "\"access\":\"read_write\",\"withRegion\":false}",
		  "{\"parameters\":{\"created\":true,\"fileDescriptor\":0}}" },
		{ "io.shmd.Manager.Delete", "{\"name\":\"bench/churn/0\"}", "{\"parameters\":{}}" },
	};
	struct bench_figure *fo = bench_figure("json-c work per Open, client + daemon", "us/op");
	struct bench_figure *fc = bench_figure("json-c work per Create+Delete", "us/op");

	(void)e;
	bench_note("json: the json-c work of each call (build, serialize, parse, read) in one "
		   "process, %d calls per run",
		   JSON_OPS);
	for (int run = 0; run <= bench_cfg.runs; run++) {
		double o = measure_calls(open, ELEMENTSOF(open));
		double c = measure_calls(churn, ELEMENTSOF(churn));
		if (o < 0 || c < 0)
			return bench_fail("json-c work", (int)(o < 0 ? o : c));
		if (run == 0)
			continue; /* warm-up */
		bench_add(fo, o);
		bench_add(fc, c);
	}
	bench_print(fo);
	bench_print(fc);
	/* Needs the open and churn parts of this run; left out without them. */
	bound_row("open x1, bare re-open rw cpu", "open x1, bound for a json-c server", fo);
	bound_row("open x4, bare re-open rw cpu", "open x4, bound for a json-c server", fo);
	bound_row("open x16, bare re-open rw cpu", "open x16, bound for a json-c server", fo);
	bound_row("create+delete x16, bare server cpu",
		  "create+delete x16, bound for a json-c server", fc);
}
