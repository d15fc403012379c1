/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Name ownership: who may create a name under a reserved prefix ([Prefix] and user/UID/). */

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

static const struct conf_prefix *longest_prefix(const struct shmd_conf *conf, const char *name)
{
	const struct conf_prefix *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < conf->n_prefixes; i++) {
		const struct conf_prefix *p = &conf->prefixes[i];
		size_t len = strlen(p->prefix);
		if (len >= best_len && strncmp(name, p->prefix, len) == 0) {
			best = p;
			best_len = len;
		}
	}
	return best;
}

static bool prefix_allows(const struct conf_prefix *p, const struct caller *c)
{
	if (p->has_user && c->uid == p->user)
		return true;
	if (p->has_group && caller_in_group(c, p->group))
		return true;
	return p->unit && c->unit && fnmatch(p->unit, c->unit, 0) == 0;
}

/* user/UID/...: the second component must be the caller's uid, in decimal. */
static bool home_allows(const char *name, const struct caller *c)
{
	char own[32];
	int len = snprintf(own, sizeof(own), "%u", c->uid);
	const char *rest = name + strlen(PREFIX_HOME);

	return strncmp(rest, own, (size_t)len) == 0 && (rest[len] == '/' || rest[len] == '\0');
}

const char *prefix_check(const struct shmd_conf *conf, const struct caller *c, const char *name,
			 char *buf, size_t size)
{
	const struct conf_prefix *p;

	if (c->admin)
		return NULL;
	p = longest_prefix(conf, name);
	if (p) {
		if (prefix_allows(p, c))
			return NULL;
		snprintf(buf, size, "the prefix '%s' is reserved (shmd.conf [Prefix])", p->prefix);
		return buf;
	}
	if (strncmp(name, PREFIX_HOME, strlen(PREFIX_HOME)) == 0 && !home_allows(name, c)) {
		snprintf(buf, size,
			 "names under '" PREFIX_HOME "' belong to the uid that follows it "
			 "(yours is '" PREFIX_HOME "%u/')",
			 c->uid);
		return buf;
	}
	return NULL;
}
