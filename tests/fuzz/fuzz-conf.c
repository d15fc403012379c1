/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness over shmd.conf(5): the input is one configuration file, parsed by the
 * daemon's conf_load_file() (libinih and every section and key handler) and its [Daemon] keys
 * applied to a configuration as main() does. A refusal must name its line and a reason.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setup(LOG_TARGET_CONSOLE, LOG_CRIT); /* the parser's log lines are not findings */
	return 0;
}

/* The [Daemon] keys onto a configuration, as load_settings() in main.c applies them. */
static void apply_options(const struct shmd_conf *conf)
{
	char reason[CONF_REASON_MAX];
	struct config config;

	config_init(&config);
	for (size_t i = 0; i < conf->n_options; i++)
		(void)config_set_key(&config, conf->options[i].key, conf->options[i].value, reason,
				     sizeof(reason));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shmd_conf conf;
	struct conf_error err = { 0 };
	char path[64];
	int fd = memfd_create("fuzz-conf", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	conf_init(&conf);
	if (conf_load_file(&conf, path, &err) < 0) {
		/* Every refusal says where and why (the daemon prints FILE:LINE: reason). */
		if (err.line == 0 || !err.reason[0] || !err.file[0])
			abort();
	} else
		apply_options(&conf);
	conf_done(&conf);
	close(fd);
	return 0;
}
