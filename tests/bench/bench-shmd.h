/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shmd benchmark's parts: one function per group of figures, sharing the servers under test. */
#pragma once

#include <sys/types.h>

#define MIB (1024ULL * 1024ULL)

struct test_daemon;

/* test_daemon_start() with the daemon's stderr in $BENCH_SERVER_LOG (bench.h). */
int bench_daemon_start(struct test_daemon *d, const char *const *extra_args);

struct bench_env {
	const char *shmd_socket; /* a private shmd, started by main */
	pid_t shmd_pid;
	const char *bare_socket; /* the bare baseline server */
	pid_t bare_pid;
	const char *shmctl_bin; /* may be NULL */
};

/* Kernel call alone, bare server and shmd: Create 1 MiB + receive fd, 1 client, p50/p99. */
void bench_create_latency(const struct bench_env *e);
/* Open by name, read-write and read-only, 1/4/16 client processes, ops/s. */
void bench_open_throughput(const struct bench_env *e);
/* Open rw of a random name among OPEN_MANY_REGIONS regions, 1 and 16 clients, ops/s. */
#define OPEN_MANY_REGIONS 18000
void bench_open_many(const struct bench_env *e);
/* Create+Delete, 16 client processes, ops/s. */
void bench_churn(const struct bench_env *e);
/* The json-c work of Open and of Create+Delete, both sides, and the bound it sets. */
void bench_json(const struct bench_env *e);
/* On a fresh daemon: memory per region, List of 10,000, Create latency at 15,000 vs 1,000. */
void bench_scale(const struct bench_env *e);
/* Create p50 on a daemon with 100 quota subjects against one with none (own daemons). */
void bench_quota(const struct bench_env *e);
/* Create p50 with persistence (--supervise) vs without; restart time with 18,000 regions. */
void bench_restart(const struct bench_env *e);
/* Stat with footprint (1 GiB / 64 GiB sparse, 1 GiB written) against cachestat + SEEK_DATA; Ranges; Holders. */
void bench_footprint(const struct bench_env *e);
