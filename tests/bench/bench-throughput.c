/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Open and Create+Delete throughput from forked client processes: shmd against the bare server. */

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bare.h"
#include "bench-shmd.h"
#include "bench.h"
#include "shmd.h"

#define OPEN_NAME "bench/open"

enum kind {
	OPEN_RW,
	OPEN_RO,
	OPEN_SEND,
	OPEN_HOLD, /* bare only: OPEN_RW with holder tracking's kernel work (bare.h) */
	OPEN_HOLD_RO,
	OPEN_MANY,	/* shmd: a random one of many regions; bare: its one memfd, re-opened rw */
	OPEN_MANY_HOLD, /* bare only: OPEN_MANY's re-open with holder tracking's work */
	CHURN,
	CHURN_KEEP, /* bare only: Create with the kernel work shmd's design requires */
	CHURN_HOLD  /* bare only: that, holder tracking's and the audit's (bare.h) */
};

struct variant {
	const char *label;
	bool shmd;
	enum kind kind;
};

/* Lives in the child only. */
struct client {
	struct shmd_ctx *ctx;
	int sock;
	enum kind kind;
	char name[64];
	uint64_t rng; /* OPEN_MANY's xorshift state */
	int n_many;
};

struct worker_arg {
	const struct bench_env *env;
	const struct variant *v;
	int n_many; /* OPEN_MANY: regions bench/many/0 .. n_many-1 exist */
};

static void many_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "bench/many/%05d", i);
}

static int client_setup(void *arg, int idx, void **state)
{
	const struct worker_arg *a = arg;
	struct client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*state = c;
	c->sock = -1;
	c->kind = a->v->kind;
	c->n_many = a->n_many;
	c->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(idx + 1) ^ (uint64_t)getpid();
	if (c->kind == CHURN || c->kind == CHURN_KEEP || c->kind == CHURN_HOLD)
		snprintf(c->name, sizeof(c->name), "bench/churn/%d", idx);
	else
		snprintf(c->name, sizeof(c->name), "%s", OPEN_NAME);
	if (!a->v->shmd) {
		c->sock = bare_connect(a->env->bare_socket);
		return c->sock < 0 ? c->sock : 0;
	}
	/* One context (one connection) per client process, made after fork. */
	c->ctx = shmd_ctx_new(a->env->shmd_socket);
	return c->ctx ? shmd_ctx_connect(c->ctx) : -ENOMEM;
}

static void client_teardown(void *state)
{
	struct client *c = state;

	if (!c)
		return;
	shmd_ctx_unref(c->ctx);
	safe_close(c->sock);
	free(c);
}

/* xorshift64: a random one of n_many, so no cache line is kept warm. */
static uint64_t next_many(struct client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng % (uint64_t)c->n_many;
}

static int shmd_op(void *state, uint64_t iteration)
{
	struct client *c = state;
	int fd = -1, r;

	switch (c->kind) {
	case OPEN_RW:
	case OPEN_RO:
		r = shmd_open(c->ctx, c->name, c->kind == OPEN_RW ? O_RDWR : O_RDONLY, &fd, NULL);
		safe_close(fd);
		return r;
	case OPEN_MANY:
		many_name(c->name, sizeof(c->name), (int)next_many(c));
		r = shmd_open(c->ctx, c->name, O_RDWR, &fd, NULL);
		safe_close(fd);
		return r;
	case CHURN:
		r = shmd_create(c->ctx, c->name, MIB, 0600, 0, 0, &fd, NULL, NULL);
		safe_close(fd);
		return r < 0 ? r : shmd_delete(c->ctx, c->name);
	default:
		return -EINVAL;
	}
}

static int bare_op(void *state, uint64_t iteration)
{
	static const enum bare_op ops[] = { [OPEN_RW] = BARE_OPEN_RW,
					    [OPEN_RO] = BARE_OPEN_RO,
					    [OPEN_SEND] = BARE_OPEN_SEND,
					    [OPEN_HOLD] = BARE_OPEN_HOLD,
					    [OPEN_HOLD_RO] = BARE_OPEN_HOLD_RO,
					    [OPEN_MANY] = BARE_OPEN_RW,
					    [OPEN_MANY_HOLD] = BARE_OPEN_MANY_HOLD };
	struct client *c = state;
	int fd = -1, r;

	if (c->kind == CHURN || c->kind == CHURN_KEEP || c->kind == CHURN_HOLD) {
		enum bare_op op = c->kind == CHURN	? BARE_CREATE :
				  c->kind == CHURN_KEEP ? BARE_CREATE_KEEP :
							  BARE_CREATE_HOLD;
		r = bare_call(c->sock, op, MIB, c->name, &fd);
		safe_close(fd);
		return r < 0 ? r : bare_call(c->sock, BARE_DELETE, 0, c->name, NULL);
	}
	/* OPEN_MANY_HOLD: the index of a random one of the bare server's memfds. */
	r = bare_call(c->sock, ops[c->kind], c->kind == OPEN_MANY_HOLD ? next_many(c) : 0, c->name,
		      &fd);
	safe_close(fd);
	return r;
}

static void figure_name(char *buf, size_t len, const char *what, int conc, const struct variant *v)
{
	snprintf(buf, len, "%s x%d, %s", what, conc, v->label);
}

/* Runs every variant once per run, interleaved, after one warm-up round. */
static int measure(const struct bench_env *e, const char *what, const struct variant *vs, size_t nv,
		   int conc, int n_many)
{
	for (int run = -1; run < bench_cfg.runs; run++) {
		for (size_t i = 0; i < nv; i++) {
			struct worker_arg a = { .env = e, .v = &vs[i], .n_many = n_many };
			struct bench_worker w = {
				.setup = client_setup,
				.op = vs[i].shmd ? shmd_op : bare_op,
				.teardown = client_teardown,
				.arg = &a,
			};
			pid_t server = vs[i].shmd ? e->shmd_pid : e->bare_pid;
			long long s0 = bench_cpu_usec(server), c0 = bench_children_cpu_usec();
			double ops = bench_parallel(&w, conc, bench_cfg.seconds);
			long long s1 = bench_cpu_usec(server), c1 = bench_children_cpu_usec();
			char name[96];

			if (ops < 0)
				return (int)ops;
			figure_name(name, sizeof(name), what, conc, &vs[i]);
			if (run < 0)
				continue;
			bench_add(bench_figure(name, "ops/s"), ops);
			/*
			 * CPU per op, server and clients together (clock ticks, so coarse): on a
			 * saturated machine throughput follows it, and other load moves it less.
			 */
			if (s0 >= 0 && s1 >= 0 && ops > 0) {
				double n_ops = ops * bench_cfg.seconds;
				size_t len = strlen(name);

				strncat(name, " cpu", sizeof(name) - len - 1);
				bench_add(bench_figure(name, "us/op"),
					  (double)(s1 - s0 + c1 - c0) / n_ops);
				name[len] = '\0';
				strncat(name, " cpu, server", sizeof(name) - len - 1);
				bench_add(bench_figure(name, "us/op"), (double)(s1 - s0) / n_ops);
			}
		}
	}
	return 0;
}

static void print_and_pair(const char *what, const struct variant *vs, size_t nv, int conc,
			   size_t shmd_i, size_t bare_i, double target)
{
	char a[96], b[96], label[96];

	for (size_t i = 0; i < nv; i++) {
		figure_name(a, sizeof(a), what, conc, &vs[i]);
		bench_print(bench_figure(a, "ops/s"));
	}
	for (size_t i = 0; i < nv; i++) {
		figure_name(a, sizeof(a), what, conc, &vs[i]);
		strncat(a, " cpu", sizeof(a) - strlen(a) - 1);
		bench_print(bench_figure(a, "us/op"));
		strncat(a, ", server", sizeof(a) - strlen(a) - 1);
		bench_print(bench_figure(a, "us/op"));
	}
	figure_name(a, sizeof(a), what, conc, &vs[shmd_i]);
	figure_name(b, sizeof(b), what, conc, &vs[bare_i]);
	snprintf(label, sizeof(label), "%s x%d, %s / %s", what, conc, vs[shmd_i].label,
		 vs[bare_i].label);
	bench_pair(label, bench_figure(a, "ops/s"), bench_figure(b, "ops/s"), target, true);
	/* bare CPU per op / shmd CPU per op: comparable with the throughput ratio. */
	strncat(a, " cpu", sizeof(a) - strlen(a) - 1);
	strncat(b, " cpu", sizeof(b) - strlen(b) - 1);
	strncat(label, " (cpu/op, bare/shmd)", sizeof(label) - strlen(label) - 1);
	bench_pair(label, bench_figure(b, "us/op"), bench_figure(a, "us/op"), NAN, true);
}

void bench_open_throughput(const struct bench_env *e)
{
	static const struct variant vs[] = {
		{ "bare re-open rw", false, OPEN_RW },
		{ "shmd rw", true, OPEN_RW },
		{ "bare re-open ro", false, OPEN_RO },
		{ "shmd ro", true, OPEN_RO },
		{ "bare send only", false, OPEN_SEND },
		{ "bare re-open rw + holder tracking", false, OPEN_HOLD },
		{ "bare re-open ro + holder tracking", false, OPEN_HOLD_RO },
	};
	static const int concs[] = { 1, 4, 16 };
	struct shmd_ctx *ctx = shmd_ctx_new(e->shmd_socket);
	int r = ctx ? shmd_create(ctx, OPEN_NAME, MIB, 0644, 0, 0, NULL, NULL, NULL) : -ENOMEM;

	if (r < 0) {
		shmd_ctx_unref(ctx);
		return bench_fail("open throughput: create " OPEN_NAME, r);
	}
	bench_note("open: client processes each loop Open + close(fd) for %.2f s per run",
		   bench_cfg.seconds);
	for (size_t c = 0; c < ELEMENTSOF(concs); c++) {
		r = measure(e, "open", vs, ELEMENTSOF(vs), concs[c], 0);
		if (r < 0) {
			bench_fail("open throughput", r);
			break;
		}
		/* The target: against the re-open with holder tracking's kernel work. */
		print_and_pair("open", vs, ELEMENTSOF(vs), concs[c], 1, 5, 0.8);
		print_and_pair("open", vs, 0, concs[c], 3, 6, 0.8);
		print_and_pair("open", vs, 0, concs[c], 1, 0, NAN);
		print_and_pair("open", vs, 0, concs[c], 3, 2, NAN);
		print_and_pair("open", vs, 0, concs[c], 1, 4, NAN);
	}
	shmd_delete(ctx, OPEN_NAME);
	shmd_ctx_unref(ctx);
}

void bench_churn(const struct bench_env *e)
{
	static const struct variant vs[] = {
		{ "bare server", false, CHURN },
		{ "shmd", true, CHURN },
		{ "bare, shmd's kernel work", false, CHURN_KEEP },
		{ "bare, kernel work + holder tracking + audit", false, CHURN_HOLD },
	};
	int r;

	bench_note("churn: 16 client processes each loop Create 1 MiB + fd, close, Delete (1 op)");
	r = measure(e, "create+delete", vs, ELEMENTSOF(vs), 16, 0);
	if (r < 0)
		return bench_fail("create+delete churn", r);
	print_and_pair("create+delete", vs, ELEMENTSOF(vs), 16, 1, 0, NAN);
	print_and_pair("create+delete", vs, 0, 16, 1, 2, NAN);
	/* The target: what shmd adds beyond the kernel work its design (holder tracking) requires. */
	print_and_pair("create+delete", vs, 0, 16, 1, 3, 0.8);
}

/* Make regions bench/many/0 .. n-1 (sparse, 4 KiB each), or delete them (create false). */
static int many_regions(struct shmd_ctx *ctx, int n, bool create)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		int r;

		many_name(name, sizeof(name), i);
		r = create ? shmd_create(ctx, name, 4096, 0644, 0, 0, NULL, NULL, NULL) :
			     shmd_delete(ctx, name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The bare server's n watched memfds for OPEN_MANY_HOLD (bare.h: BARE_PREPARE_MANY). */
static int bare_prepare_many(const struct bench_env *e, int n)
{
	_cleanup_close_ int sock = bare_connect(e->bare_socket);

	return sock < 0 ? sock : bare_call(sock, BARE_PREPARE_MANY, (uint64_t)n, "many", NULL);
}

void bench_open_many(const struct bench_env *e)
{
	static const struct variant vs[] = {
		{ "bare re-open rw", false, OPEN_MANY },
		{ "shmd rw, random name", true, OPEN_MANY },
		{ "bare re-open rw + holder tracking", false, OPEN_MANY_HOLD },
	};
	static const int concs[] = { 1, 16 };
	struct shmd_ctx *ctx = shmd_ctx_new(e->shmd_socket);
	uint64_t t0 = bench_now_ns();
	int r = ctx ? many_regions(ctx, OPEN_MANY_REGIONS, true) : -ENOMEM;

	if (r < 0) {
		shmd_ctx_unref(ctx);
		return bench_fail("open among many: creating the regions", r);
	}
	r = bare_prepare_many(e, OPEN_MANY_REGIONS);
	if (r < 0) {
		shmd_ctx_unref(ctx);
		return bench_fail("open among many: the bare server's memfds", r);
	}
	bench_note("open among many: %d regions made in %.1f s; shmd clients open a random one "
		   "(xorshift) per op; the bare server re-opens its one memfd, or (+ holder "
		   "tracking) a random one of as many watched memfds",
		   OPEN_MANY_REGIONS, (double)(bench_now_ns() - t0) / 1e9);
	for (size_t c = 0; c < ELEMENTSOF(concs); c++) {
		r = measure(e, "open among many", vs, ELEMENTSOF(vs), concs[c], OPEN_MANY_REGIONS);
		if (r < 0) {
			bench_fail("open among many", r);
			break;
		}
		/* The target: against the re-open with holder tracking's kernel work. */
		print_and_pair("open among many", vs, ELEMENTSOF(vs), concs[c], 1, 2, 0.8);
		print_and_pair("open among many", vs, 0, concs[c], 1, 0, NAN);
	}
	r = many_regions(ctx, OPEN_MANY_REGIONS, false);
	if (r < 0)
		bench_fail("open among many: deleting the regions", r);
	shmd_ctx_unref(ctx);
}
