/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a fuzz harness once over every file of its corpus, without libFuzzer: a TAP test. */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file, or NULL. */
static uint8_t *slurp(const char *dir, const char *name, size_t *ret_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rbe");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(1 << 20);
	*ret_len = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : FUZZ_CORPUS;
	char **names = NULL;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		printf("Bail out! cannot open %s\n", dir);
		return 1;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	LLVMFuzzerInitialize(&argc, &argv);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		uint8_t *data = slurp(dir, names[i], &len);
		/* A crash, a sanitizer report or a leaked fd aborts: the harness's own checks. */
		int r = data ? LLVMFuzzerTestOneInput(data, len) : -1;
		printf("%s %zu - %s (%zu bytes)\n", data && r == 0 ? "ok" : "not ok", i + 1,
		       names[i], len);
		fflush(stdout);
		free(data);
		free(names[i]);
	}
	free(names);
	return 0;
}
