/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reloading shmd.conf: on SIGHUP and through the Reload method, keeping the old one if bad. */

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "holdtrack.h"
#include "log.h"
#include "options.h"
#include "quota.h"
#include "reload.h"
#include "server.h"
#include "spillpol.h"

static uint64_t monotonic_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int reload_conf(struct server *s, struct conf_error *err)
{
	const char *path = s->config->config_path ? s->config->config_path : SHMD_CONFIG_FILE;
	struct shmd_conf conf;
	int r;

	/* systemd wants the monotonic time with RELOADING=1 (Type=notify-reload, v253+). */
	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)monotonic_usec());
	conf_init(&conf);
	r = conf_load(&conf, path, s->config->config_path != NULL, err);
	if (r < 0) {
		log_err("reload: %s:%u: %s; keeping the current configuration", err->file,
			err->line, err->reason);
	} else {
		quota_set_conf(&s->quota, &conf);
		quota_rebuild(&s->quota, &s->registry);
		holdtrack_recharge(s); /* deleted regions still held stay charged */
		spillpol_reload(s);
		log_info("reloaded %s (%zu files): %zu subjects, %zu prefixes%s", path,
			 s->quota.conf.n_files, s->quota.conf.n_subjects, s->quota.conf.n_prefixes,
			 conf.n_options ? "; [Daemon] keys take effect at the next start" : "");
	}
	conf_done(&conf);
	sd_notify(false, "READY=1");
	return r;
}

static int on_sighup(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct conf_error err;

	log_info("received SIGHUP, reloading the configuration");
	(void)reload_conf(userdata, &err);
	return 0;
}

int reload_setup_signal(struct server *s)
{
	return sd_event_add_signal(s->event, NULL, SIGHUP, on_sighup, s);
}
