/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reloading shmd.conf: on SIGHUP and through the Reload method, keeping the old one if bad. */
#pragma once

#include "conf.h"

struct server;

/*
 * Read the configuration files again. On success their limits and prefixes are in force
 * (charges recomputed); on failure nothing changes, *err says why and the log too. The
 * [Daemon] keys are read at start only. Tells systemd RELOADING=1, then READY=1.
 */
int reload_conf(struct server *s, struct conf_error *err);

/* Reload on SIGHUP (already blocked by main()). 0 or -errno. */
int reload_setup_signal(struct server *s);
