/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd.conf(5): the configuration files, parsed (with libinih) into plain data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A limit that is not set. */
#define CONF_UNLIMITED UINT64_MAX
#define CONF_REASON_MAX 256

enum conf_scope {
	CONF_GLOBAL,
	CONF_USER,
	CONF_GROUP,
	CONF_UNIT,
	_CONF_SCOPE_MAX,
};

enum {
	CONF_SET_MEMORY = 1 << 0,
	CONF_SET_REGIONS = 1 << 1,
};

/* MemoryMax= and RegionsMax= of one section; set says which the section gives. */
struct conf_limit {
	uint64_t memory_max;
	uint64_t regions_max;
	unsigned set;
};

/* A [User ...], [Group ...] or [Unit ...] section. */
struct conf_subject {
	enum conf_scope scope;
	uint32_t id; /* uid or gid */
	char *unit;  /* unit name or fnmatch(3) glob */
	bool glob;   /* unit has glob characters */
	struct conf_limit limit;
};

/* A [Prefix ...] section: who, besides administrators, may create names under it. */
struct conf_prefix {
	char *prefix;
	bool has_user, has_group;
	uid_t user;
	gid_t group;
	char *unit; /* glob, or NULL */
};

/* A [Daemon] key, validated, applied by main() under the command line. */
struct conf_option {
	char *key;
	char *value;
	char *file;
	unsigned line;
};

/*
 * The [Spill] section (conf-spill.c). Enable, Path and MaxSize take effect at start (the
 * spill file is opened once); the water marks, MinIdleSec and PressureTrigger also at reload.
 */
struct conf_spill {
	bool enable;
	char *path;	     /* NULL: the default, SHMD_STATE_DIR/spill or $STATE_DIRECTORY/spill */
	uint64_t max_size;   /* bytes of the spill file */
	uint64_t high_water; /* bytes of region memory; CONF_UNLIMITED: no water-mark spilling */
	uint64_t low_water;  /* spill down to this; CONF_UNLIMITED: 90% of high_water */
	uint64_t min_idle_usec; /* not opened nor closed for this long before automatic spill */
	char pressure[64];	/* PSI trigger ("some 150000 1000000"), "" when off */
	/* Where HighWater= or LowWater= was last set, to name it when they disagree. */
	char *water_file;
	unsigned water_line;
};

struct shmd_conf {
	struct conf_limit global, any_user, any_unit;
	struct conf_spill spill;
	struct conf_subject *subjects;
	size_t n_subjects;
	struct conf_prefix *prefixes;
	size_t n_prefixes;
	struct conf_option *options;
	size_t n_options;
	size_t n_files; /* files read */
};

/* Where a file was wrong. line 0: the file as a whole (cannot open it). */
struct conf_error {
	char file[4096];
	unsigned line;
	char reason[CONF_REASON_MAX];
};

void conf_init(struct shmd_conf *c);
void conf_done(struct shmd_conf *c);

/*
 * Read path, then path.d/ *.conf in lexical order (a later file wins, key by key), into c
 * (initialised by the caller). A missing path is an error only if required. 0, or -EINVAL
 * with *err filled (c then holds part of the files: conf_done() it).
 */
int conf_load(struct shmd_conf *c, const char *path, bool required, struct conf_error *err);

/* Parse one file into c. 0, or -EINVAL with *err. */
int conf_load_file(struct shmd_conf *c, const char *path, struct conf_error *err);

/* Does unit match [Unit pattern]: exact, or fnmatch(3) for a glob. */
bool conf_unit_matches(const struct conf_subject *s, const char *unit);

/* The [User]/[Group] section for id, or NULL. */
const struct conf_subject *conf_find_id(const struct shmd_conf *c, enum conf_scope scope,
					uint32_t id);
/*
 * The [Unit] section for unit: one naming it exactly wins; otherwise the first glob that
 * matches, in file order. NULL when none does.
 */
const struct conf_subject *conf_find_unit(const struct shmd_conf *c, const char *unit);

/* Whether any limit at all is set (else quota checks have nothing to do). */
bool conf_has_limits(const struct shmd_conf *c);

const char *conf_scope_to_string(enum conf_scope s);

/* One [Spill] key (conf-spill.c): 0, -ENOENT (no such key) or -EINVAL with the reason. */
int conf_spill_key(struct conf_spill *sp, const char *key, const char *value, char *reason,
		   size_t size);
/* Defaults, and the checks between keys after a file. NULL or the reason. */
void conf_spill_init(struct conf_spill *sp);
void conf_spill_done(struct conf_spill *sp);
const char *conf_spill_check(const struct conf_spill *sp);
/* The spill file's path: the key, $STATE_DIRECTORY/spill or SHMD_STATE_DIR/spill. */
const char *conf_spill_path(const struct conf_spill *sp, char *buf, size_t size);
/* The low-water mark in force (LowWater=, else 90% of HighWater=). */
uint64_t conf_spill_low_water(const struct conf_spill *sp);

/* Move everything but the [Daemon] options from src into dst (whose old policy is freed). */
void conf_take_policy(struct shmd_conf *dst, struct shmd_conf *src);
