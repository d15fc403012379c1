/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name ownership: who may create a name under a reserved prefix ([Prefix] and user/UID/). */
#pragma once

#include <stddef.h>

#include "conf.h"
#include "peer.h"

/* The built-in home prefix: "user/UID/" belongs to UID. */
#define PREFIX_HOME "user/"

/*
 * May caller c create (or rename a region to) name? NULL, or the reason, written to buf.
 * Administrators may create any name. The longest [Prefix] that name starts with decides;
 * a name under no [Prefix] but under user/ must be under the caller's own user/UID/.
 */
const char *prefix_check(const struct shmd_conf *conf, const struct caller *c, const char *name,
			 char *buf, size_t size);
