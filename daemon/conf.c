/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmd.conf(5): the configuration files, parsed (with libinih) into plain data. */

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "conf.h"
#include "macro.h"
#include "name.h"
#include "options.h"
#include "size.h"

#define UNIT_NAME_MAX 255

/* One file being read: inih calls handler() per key; reader() counts lines for it. */
struct parse {
	struct shmd_conf *conf;
	struct conf_error *err;
	const char *path;
	FILE *f;
	unsigned line;
	bool failed;
};

static const char *const scope_names[] = { "global", "user", "group", "unit" };

const char *conf_scope_to_string(enum conf_scope s)
{
	return s < _CONF_SCOPE_MAX ? scope_names[s] : "?";
}

static const struct conf_limit unlimited = { CONF_UNLIMITED, CONF_UNLIMITED, 0 };

void conf_init(struct shmd_conf *c)
{
	*c = (struct shmd_conf){ .global = unlimited,
				 .any_user = unlimited,
				 .any_unit = unlimited };
	conf_spill_init(&c->spill);
}

void conf_done(struct shmd_conf *c)
{
	for (size_t i = 0; i < c->n_subjects; i++)
		free(c->subjects[i].unit);
	for (size_t i = 0; i < c->n_prefixes; i++) {
		free(c->prefixes[i].prefix);
		free(c->prefixes[i].unit);
	}
	for (size_t i = 0; i < c->n_options; i++) {
		free(c->options[i].key);
		free(c->options[i].value);
		free(c->options[i].file);
	}
	free(c->subjects);
	free(c->prefixes);
	free(c->options);
	conf_spill_done(&c->spill);
	conf_init(c);
}

/* Record the first error of the file (inih goes on parsing; the first one is reported). */
_printf_(2, 3) static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return 0;
	p->failed = true;
	snprintf(p->err->file, sizeof(p->err->file), "%s", p->path);
	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->reason, sizeof(p->err->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/* A whole decimal number, nothing else. */
static bool parse_decimal(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*ret = v;
	return true;
}

static uint64_t total_ram(void)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

/* MemoryMax=: a size (K/M/G/T...), N% of RAM, or "infinity". */
static int parse_memory(struct parse *p, const char *v, uint64_t *ret)
{
	size_t len = strlen(v);
	uint64_t n;

	if (strcmp(v, "infinity") == 0) {
		*ret = CONF_UNLIMITED;
		return 1;
	}
	if (len > 1 && v[len - 1] == '%') {
		char num[32];
		if (len - 1 >= sizeof(num))
			return fail(p, "MemoryMax=%s: not a percentage", v);
		memcpy(num, v, len - 1);
		num[len - 1] = '\0';
		if (!parse_decimal(num, 100, &n))
			return fail(p, "MemoryMax=%s: expected a whole percentage 0%%..100%%", v);
		*ret = total_ram() / 100 * n;
		return 1;
	}
	int r = size_parse(v, &n);
	if (r == -ERANGE)
		return fail(p, "MemoryMax=%s: too large", v);
	if (r < 0)
		return fail(p, "MemoryMax=%s: expected a size (e.g. 512M, 8G), N%% or infinity", v);
	*ret = n;
	return 1;
}

static int parse_limit_key(struct parse *p, struct conf_limit *l, const char *key, const char *v)
{
	if (strcmp(key, "MemoryMax") == 0) {
		l->set |= CONF_SET_MEMORY;
		return parse_memory(p, v, &l->memory_max);
	}
	if (strcmp(key, "RegionsMax") == 0) {
		l->set |= CONF_SET_REGIONS;
		if (strcmp(v, "infinity") == 0)
			l->regions_max = CONF_UNLIMITED;
		else if (!parse_decimal(v, UINT32_MAX, &l->regions_max))
			return fail(p, "RegionsMax=%s: expected a number or infinity", v);
		return 1;
	}
	return fail(p, "unknown key '%s' (expected MemoryMax= or RegionsMax=)", key);
}

/* User or group by name or number. */
static int parse_id(struct parse *p, enum conf_scope scope, const char *s, uint32_t *ret)
{
	uint64_t v;

	if (parse_decimal(s, UINT32_MAX - 1, &v)) {
		*ret = (uint32_t)v;
		return 1;
	}
	if (scope == CONF_USER) {
		struct passwd *pw = getpwnam(s);
		if (pw) {
			*ret = pw->pw_uid;
			return 1;
		}
		return fail(p, "no such user '%s'", s);
	}
	struct group *gr = getgrnam(s);
	if (gr) {
		*ret = gr->gr_gid;
		return 1;
	}
	return fail(p, "no such group '%s'", s);
}

/* A unit name or glob: printable ASCII without spaces, at most 255 bytes. */
static int check_unit(struct parse *p, const char *s)
{
	if (*s == '\0' || strlen(s) > UNIT_NAME_MAX)
		return fail(p, "unit name or glob '%s': must be 1 to %d bytes", s, UNIT_NAME_MAX);
	for (const char *c = s; *c; c++)
		if (*c <= ' ' || *c > '~')
			return fail(p, "unit name or glob '%s': unexpected character", s);
	return 1;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static struct conf_subject *find_or_add_subject(struct parse *p, enum conf_scope scope, uint32_t id,
						const char *unit)
{
	struct shmd_conf *c = p->conf;

	for (size_t i = 0; i < c->n_subjects; i++) {
		struct conf_subject *s = &c->subjects[i];
		if (s->scope == scope &&
		    (scope == CONF_UNIT ? strcmp(s->unit, unit) == 0 : s->id == id))
			return s;
	}
	struct conf_subject *n = reallocarray(c->subjects, c->n_subjects + 1, sizeof(*n));
	if (!n)
		return NULL;
	c->subjects = n;
	n = &c->subjects[c->n_subjects];
	*n = (struct conf_subject){ .scope = scope, .id = id, .limit = unlimited };
	if (unit) {
		if (!(n->unit = strdup(unit)))
			return NULL;
		n->glob = has_glob(unit);
	}
	c->n_subjects++;
	return n;
}

static int subject_key(struct parse *p, enum conf_scope scope, const char *arg, const char *key,
		       const char *value)
{
	struct conf_subject *s;
	uint32_t id = 0;

	static const char *const kinds[] = { "", "User", "Group", "Unit" };

	if (!*arg)
		return fail(p, "section [%s] needs a name", kinds[scope]);
	if (scope == CONF_UNIT ? !check_unit(p, arg) : !parse_id(p, scope, arg, &id))
		return 0;
	s = find_or_add_subject(p, scope, id, scope == CONF_UNIT ? arg : NULL);
	if (!s)
		return fail(p, "out of memory");
	return parse_limit_key(p, &s->limit, key, value);
}

static struct conf_prefix *find_or_add_prefix(struct shmd_conf *c, const char *prefix)
{
	for (size_t i = 0; i < c->n_prefixes; i++)
		if (strcmp(c->prefixes[i].prefix, prefix) == 0)
			return &c->prefixes[i];
	struct conf_prefix *n = reallocarray(c->prefixes, c->n_prefixes + 1, sizeof(*n));
	if (!n)
		return NULL;
	c->prefixes = n;
	n = &c->prefixes[c->n_prefixes];
	*n = (struct conf_prefix){ .prefix = strdup(prefix) };
	if (!n->prefix)
		return NULL;
	c->n_prefixes++;
	return n;
}

static int prefix_key(struct parse *p, const char *prefix, const char *key, const char *value)
{
	const char *why = name_check(prefix, strlen(prefix), true);
	struct conf_prefix *x;
	uint32_t id = 0;

	if (!*prefix)
		return fail(p, "section [Prefix] needs a prefix");
	if (why)
		return fail(p, "prefix '%s': %s", prefix, why);
	if (strcmp(key, "User") != 0 && strcmp(key, "Group") != 0 && strcmp(key, "Unit") != 0)
		return fail(p, "unknown key '%s' (expected User=, Group= or Unit=)", key);
	if (!(x = find_or_add_prefix(p->conf, prefix)))
		return fail(p, "out of memory");
	if (strcmp(key, "Unit") == 0) {
		if (!check_unit(p, value))
			return 0;
		free(x->unit);
		return (x->unit = strdup(value)) ? 1 : fail(p, "out of memory");
	}
	bool user = strcmp(key, "User") == 0;
	if (!parse_id(p, user ? CONF_USER : CONF_GROUP, value, &id))
		return 0;
	if (user) {
		x->has_user = true;
		x->user = id;
	} else {
		x->has_group = true;
		x->group = id;
	}
	return 1;
}

static int option_key(struct parse *p, const char *key, const char *value)
{
	struct shmd_conf *c = p->conf;
	char reason[CONF_REASON_MAX];
	struct config scratch;

	config_init(&scratch);
	int r = config_set_key(&scratch, key, value, reason, sizeof(reason));
	if (r == -ENOENT)
		return fail(p, "unknown key '%s' in [Daemon]", key);
	if (r < 0)
		return fail(p, "%s=: %s", key, reason);

	struct conf_option *n = reallocarray(c->options, c->n_options + 1, sizeof(*n));
	if (!n)
		return fail(p, "out of memory");
	c->options = n;
	n = &c->options[c->n_options];
	*n = (struct conf_option){
		.key = strdup(key), .value = strdup(value), .file = strdup(p->path), .line = p->line
	};
	c->n_options++;
	if (!n->key || !n->value || !n->file)
		return fail(p, "out of memory");
	return 1;
}

static int spill_key(struct parse *p, const char *key, const char *value)
{
	struct conf_spill *sp = &p->conf->spill;
	char reason[CONF_REASON_MAX];
	int r = conf_spill_key(sp, key, value, reason, sizeof(reason));

	if (r == -ENOENT)
		return fail(p,
			    "unknown key '%s' in [Spill] (expected Enable=, Path=, MaxSize=, "
			    "HighWater=, LowWater=, MinIdleSec= or PressureTrigger=)",
			    key);
	if (r < 0)
		return fail(p, "%s=%s", key, reason);
	if (strcmp(key, "HighWater") == 0 || strcmp(key, "LowWater") == 0) {
		free(sp->water_file);
		if (!(sp->water_file = strdup(p->path)))
			return fail(p, "out of memory");
		sp->water_line = p->line;
	}
	return 1;
}

/* Split "User 65534" into its kind and its argument (after one or more spaces). */
static const char *section_arg(const char *section, const char *kind)
{
	size_t len = strlen(kind);
	if (strncmp(section, kind, len) != 0)
		return NULL;
	if (section[len] == '\0')
		return section + len;
	if (section[len] != ' ')
		return NULL;
	return section + len + strspn(section + len, " ");
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	struct shmd_conf *c = p->conf;
	const char *arg;

	if (p->failed)
		return 0;
	if (!*section)
		return fail(p, "key '%s' outside a section", key);
	if (strcmp(section, "Daemon") == 0)
		return option_key(p, key, value);
	if (strcmp(section, "Spill") == 0)
		return spill_key(p, key, value);
	if (strcmp(section, "Global") == 0)
		return parse_limit_key(p, &c->global, key, value);
	if (strcmp(section, "AnyUser") == 0)
		return parse_limit_key(p, &c->any_user, key, value);
	if (strcmp(section, "AnyUnit") == 0)
		return parse_limit_key(p, &c->any_unit, key, value);
	if ((arg = section_arg(section, "User")))
		return subject_key(p, CONF_USER, arg, key, value);
	if ((arg = section_arg(section, "Group")))
		return subject_key(p, CONF_GROUP, arg, key, value);
	if ((arg = section_arg(section, "Unit")))
		return subject_key(p, CONF_UNIT, arg, key, value);
	if ((arg = section_arg(section, "Prefix")))
		return prefix_key(p, arg, key, value);
	return fail(p,
		    "unknown section [%s] (known: Daemon, Spill, Global, AnyUser, AnyUnit, "
		    "User NAME, Group NAME, Unit NAME, Prefix PREFIX)",
		    section);
}

/* inih's line reader, counting lines so that handler() knows where it is. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s = fgets(str, num, p->f);
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s);
	if ((len > 0 && s[len - 1] == '\n') || feof(p->f))
		p->line++;
	else if (!p->failed) {
		/* inih would read the rest of the line as a line of its own. */
		p->line++;
		fail(p, "line too long (over %d bytes)", num - 2);
		p->line--;
	}
	return s;
}

int conf_load_file(struct shmd_conf *c, const char *path, struct conf_error *err)
{
	struct parse p = { .conf = c, .err = err, .path = path };

	p.f = fopen(path, "re");
	if (!p.f) {
		snprintf(err->file, sizeof(err->file), "%s", path);
		err->line = 0;
		snprintf(err->reason, sizeof(err->reason), "cannot open: %s", strerror(errno));
		return -EINVAL;
	}
	int r = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	c->n_files++;
	if (r == 0 && !p.failed)
		return 0;
	/* inih reports the first bad line; a syntax error there is not one of ours. */
	if (r > 0 && (!p.failed || (unsigned)r < err->line)) {
		p.failed = false;
		p.line = (unsigned)r;
		fail(&p, "syntax error (expected [Section], Key=Value or a comment)");
	} else if (r < 0 && !p.failed) {
		p.line = 0;
		fail(&p, "cannot read the file");
	}
	return -EINVAL;
}

static int conf_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);
	return d->d_name[0] != '.' && len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0;
}

static void free_dirents(struct dirent **list, int n)
{
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* path.d/ *.conf in lexical (C locale byte) order. */
static int load_dropins(struct shmd_conf *c, const char *path, struct conf_error *err)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent **list = NULL;
	int n, r = 0;

	if (asprintf(&dir, "%s.d", path) < 0)
		return -ENOMEM;
	n = scandir(dir, &list, conf_filter, alphasort);
	if (n < 0)
		return 0; /* no drop-in directory */
	for (int i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *file = NULL;
		if (asprintf(&file, "%s/%s", dir, list[i]->d_name) < 0)
			r = -ENOMEM;
		else
			r = conf_load_file(c, file, err);
	}
	free_dirents(list, n);
	return r;
}

int conf_load(struct shmd_conf *c, const char *path, bool required, struct conf_error *err)
{
	int r = 0;

	if (required || access(path, F_OK) == 0)
		r = conf_load_file(c, path, err);
	if (r == 0)
		r = load_dropins(c, path, err);
	const char *why = r == 0 ? conf_spill_check(&c->spill) : NULL;
	if (why) {
		/* Between two keys, perhaps of two files: named where the later was set. */
		snprintf(err->file, sizeof(err->file), "%s", c->spill.water_file);
		err->line = c->spill.water_line;
		snprintf(err->reason, sizeof(err->reason), "%s", why);
		r = -EINVAL;
	}
	if (r == -ENOMEM) {
		snprintf(err->file, sizeof(err->file), "%s", path);
		err->line = 0;
		snprintf(err->reason, sizeof(err->reason), "out of memory");
		r = -EINVAL;
	}
	return r;
}

bool conf_unit_matches(const struct conf_subject *s, const char *unit)
{
	return s->glob ? fnmatch(s->unit, unit, 0) == 0 : strcmp(s->unit, unit) == 0;
}

const struct conf_subject *conf_find_id(const struct shmd_conf *c, enum conf_scope scope,
					uint32_t id)
{
	for (size_t i = 0; i < c->n_subjects; i++)
		if (c->subjects[i].scope == scope && c->subjects[i].id == id)
			return &c->subjects[i];
	return NULL;
}

const struct conf_subject *conf_find_unit(const struct shmd_conf *c, const char *unit)
{
	const struct conf_subject *first_glob = NULL;

	for (size_t i = 0; i < c->n_subjects; i++) {
		const struct conf_subject *s = &c->subjects[i];
		if (s->scope != CONF_UNIT)
			continue;
		if (!s->glob && strcmp(s->unit, unit) == 0)
			return s;
		if (s->glob && !first_glob && fnmatch(s->unit, unit, 0) == 0)
			first_glob = s;
	}
	return first_glob;
}

static bool limit_set(const struct conf_limit *l)
{
	return l->memory_max != CONF_UNLIMITED || l->regions_max != CONF_UNLIMITED;
}

void conf_take_policy(struct shmd_conf *dst, struct shmd_conf *src)
{
	struct conf_option *options = src->options;
	size_t n_options = src->n_options;

	src->options = NULL;
	src->n_options = 0;
	conf_done(dst);
	*dst = *src;
	conf_init(src);
	src->options = options;
	src->n_options = n_options;
}

bool conf_has_limits(const struct shmd_conf *c)
{
	if (limit_set(&c->global) || limit_set(&c->any_user) || limit_set(&c->any_unit))
		return true;
	for (size_t i = 0; i < c->n_subjects; i++)
		if (limit_set(&c->subjects[i].limit))
			return true;
	return false;
}
