/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Load for the restart tests, and its check: "run" starts clients that create regions,
 * write a known pattern, stat and delete in a loop through libshmd, logging every outcome;
 * "verify" lists what the daemon has afterwards and compares it, metadata and content
 * checksum, with what the logs say must (or may) exist. Used by tests/systemd/test-restart-*.sh.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmd.h"

#define MAX_EXPECTED 200000

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Create, fill and log one region; 0, or 1 when the outcome was unexpected. */
static int create_one(struct shmd_ctx *ctx, FILE *log, const char *name, int c, int k,
		      bool *certain)
{
	uint64_t size = 4096u * (1 + k % 3);
	mode_t mode = k % 2 ? 0640 : 0600;
	struct shmd_region *r = NULL;
	int fd = -1;

	int err = shmd_create(ctx, name, size, mode, 0, 0, &fd, &r, NULL);
	*certain = err == 0;
	if (err == -ECONNRESET) {
		fprintf(log, "? %s\n", name);
		return 0;
	}
	if (err < 0) {
		fprintf(log, "E %s create %s\n", name, strerror(-err));
		return 1;
	}
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(log, "E %s mmap\n", name);
		return 1;
	}
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(c * 131 + k * 31 + i * 7 + (i >> 12));
	fprintf(log, "C %s %" PRIu64 " %" PRIu64 " %o %" PRIu64 " %" PRIx64 "\n", name,
		shmd_region_get_id(r), size, mode, shmd_region_get_created_usec(r), fnv(p, size));
	munmap(p, size);
	close(fd);
	shmd_region_unref(r);
	return 0;
}

static int client(const char *dir, int c, unsigned seconds)
{
	char path[4096], name[64], prev[64] = "";
	struct shmd_ctx *ctx = shmd_ctx_new(getenv("SHMD_SOCKET"));
	int bad = 0;

	snprintf(path, sizeof(path), "%s/client-%d.log", dir, c);
	FILE *log = fopen(path, "w");
	if (!ctx || !log)
		return 2;
	setvbuf(log, NULL, _IOLBF, 0);
	uint64_t end = now_ms() + seconds * 1000u;
	for (int k = 0; now_ms() < end; k++) {
		snprintf(name, sizeof(name), "load/c%d/%d", c, k);
		bool certain;
		bad += create_one(ctx, log, name, c, k, &certain);
		struct shmd_region *r = NULL;
		int err = *prev ? shmd_stat(ctx, prev, &r) : 0;
		shmd_region_unref(r);
		if (err < 0 && err != -ENOENT) /* -ENOENT: its create was uncertain */
			fprintf(log, "E %s stat %s\n", prev, strerror(-err)), bad++;
		/* Every other region is deleted: the survivors are the odd ones. */
		if (k % 2 == 0) {
			err = shmd_delete(ctx, name);
			if (err == 0)
				fprintf(log, "D %s\n", name);
			else if (err == -ECONNRESET || (err == -ENOENT && !certain))
				fprintf(log, "?D %s\n", name);
			else
				fprintf(log, "E %s delete %s\n", name, strerror(-err)), bad++;
		}
		snprintf(prev, sizeof(prev), "%s", name);
	}
	fclose(log);
	shmd_ctx_unref(ctx);
	return bad ? 1 : 0;
}

static int run(const char *dir, unsigned seconds, int clients)
{
	int failed = 0;
	for (int c = 0; c < clients; c++)
		if (fork() == 0)
			_exit(client(dir, c, seconds));
	for (int c = 0; c < clients; c++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	if (failed)
		fprintf(stderr, "%d clients saw unexpected errors (E lines in their logs)\n",
			failed);
	return failed ? 1 : 0;
}

struct expected {
	char name[64];
	char kind; /* 'C' present, '?' may exist (unwritten), 'U' may exist (written), 'D' gone */
	uint64_t id, size, created;
	unsigned mode;
	uint64_t sum;
	bool seen;
};

static struct expected *exp_tab;
static size_t n_exp;

static struct expected *find(const char *name)
{
	for (size_t i = n_exp; i-- > 0;)
		if (strcmp(exp_tab[i].name, name) == 0)
			return &exp_tab[i];
	return NULL;
}

static int read_logs(const char *dir, int clients)
{
	char path[4096], line[512], kind[4], name[64];
	int bad = 0;

	for (int c = 0; c < clients; c++) {
		snprintf(path, sizeof(path), "%s/client-%d.log", dir, c);
		FILE *f = fopen(path, "r");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f) && n_exp < MAX_EXPECTED) {
			struct expected e = { 0 };
			if (sscanf(line, "%3s %63s", kind, name) != 2)
				continue;
			struct expected *old = find(name);
			if (kind[0] == 'E') {
				fprintf(stderr, "client %d: %s", c, line);
				bad++;
			} else if (strcmp(kind, "C") == 0) {
				snprintf(e.name, sizeof(e.name), "%s", name);
				e.kind = 'C';
				sscanf(line,
				       "C %*s %" SCNu64 " %" SCNu64 " %o %" SCNu64 " %" SCNx64,
				       &e.id, &e.size, &e.mode, &e.created, &e.sum);
				exp_tab[n_exp++] = e;
			} else if (strcmp(kind, "?") == 0) {
				snprintf(e.name, sizeof(e.name), "%s", name);
				e.kind = '?';
				exp_tab[n_exp++] = e;
			} else if (old && strcmp(kind, "D") == 0)
				old->kind = 'D';
			else if (old && strcmp(kind, "?D") == 0 && old->kind == 'C')
				old->kind = 'U';
		}
		fclose(f);
	}
	return bad;
}

static struct shmd_ctx *map_ctx; /* the listing's context is busy while it lists */

static uint64_t content_sum(struct shmd_ctx *ctx, const char *name, uint64_t *size)
{
	void *p = NULL;
	size_t len = 0;
	if (shmd_region_map(map_ctx, name, O_RDONLY, &p, &len) < 0)
		return 0;
	uint64_t h = fnv(p, len);
	*size = len;
	shmd_region_unmap(p, len);
	return h;
}

/* One listed region against the logs; 0 or 1 (a difference, printed). */
static int check_listed(struct shmd_ctx *ctx, struct shmd_region *r)
{
	const char *name = shmd_region_get_name(r);
	struct expected *e = find(name);
	uint64_t size = 0;

	if (!e || e->kind == 'D' || e->seen) {
		fprintf(stderr, "%s: listed but %s\n", name,
			!e	? "never created" :
			e->seen ? "listed twice" :
				  "deleted");
		return 1;
	}
	e->seen = true;
	if (e->kind == '?')
		return 0;
	uint64_t sum = content_sum(ctx, name, &size);
	if (shmd_region_get_id(r) != e->id || shmd_region_get_size(r) != e->size ||
	    shmd_region_get_mode(r) != e->mode || shmd_region_get_created_usec(r) != e->created ||
	    sum != e->sum || size != e->size) {
		fprintf(stderr,
			"%s: id %" PRIu64 "/%" PRIu64 " size %" PRIu64 "/%" PRIu64
			" mode %o/%o created %" PRIu64 "/%" PRIu64 " sum %" PRIx64 "/%" PRIx64 "\n",
			name, shmd_region_get_id(r), e->id, shmd_region_get_size(r), e->size,
			shmd_region_get_mode(r), e->mode, shmd_region_get_created_usec(r),
			e->created, sum, e->sum);
		return 1;
	}
	return 0;
}

static int verify(const char *dir, int clients)
{
	struct shmd_ctx *ctx = shmd_ctx_new(getenv("SHMD_SOCKET"));
	struct shmd_list *l = NULL;
	struct shmd_region *r = NULL;
	size_t listed = 0, present = 0, uncertain = 0;
	int bad, err;

	map_ctx = shmd_ctx_new(getenv("SHMD_SOCKET"));
	exp_tab = calloc(MAX_EXPECTED, sizeof(*exp_tab));
	if (!ctx || !exp_tab || (bad = read_logs(dir, clients)) < 0)
		return 2;
	if ((err = shmd_list(ctx, "load/", &l)) < 0) {
		fprintf(stderr, "list: %s\n", strerror(-err));
		return 1;
	}
	while ((err = shmd_list_next(l, &r)) > 0) {
		bad += check_listed(ctx, r);
		r = shmd_region_unref(r);
		listed++;
	}
	shmd_list_free(l);
	if (err < 0)
		fprintf(stderr, "list ended with %s\n", strerror(-err)), bad++;
	for (size_t i = 0; i < n_exp; i++) {
		present += exp_tab[i].kind == 'C';
		uncertain += exp_tab[i].kind == '?' || exp_tab[i].kind == 'U';
		if (exp_tab[i].kind == 'C' && !exp_tab[i].seen)
			fprintf(stderr, "%s: lost\n", exp_tab[i].name), bad++;
	}
	printf("%zu regions listed: %zu certain, %zu uncertain (a call cut by the restart), "
	       "%zu created in all; %d differences\n",
	       listed, present, uncertain, n_exp, bad);
	shmd_ctx_unref(ctx);
	shmd_ctx_unref(map_ctx);
	free(exp_tab);
	return bad ? 1 : 0;
}

/* Create regions PREFIX0.. until one fails (the daemon died under it) or n are made. */
static int bulk(const char *prefix, int n)
{
	struct shmd_ctx *ctx = shmd_ctx_new(getenv("SHMD_SOCKET"));
	char name[128];
	int i = 0;

	for (; ctx && i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		if (shmd_create(ctx, name, 4096, 0, 0, 0, NULL, NULL, NULL) < 0)
			break;
	}
	printf("%d\n", i);
	shmd_ctx_unref(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "bulk") == 0)
		return bulk(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], (unsigned)atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: SHMD_SOCKET=PATH restart-load run DIR SECONDS CLIENTS\n"
			"       SHMD_SOCKET=PATH restart-load verify DIR CLIENTS\n");
	return 2;
}
