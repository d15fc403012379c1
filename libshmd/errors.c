/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Daemon errors: their errno (the table in shmd.h) and a one-line message built from their parameters. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libshmd-private.h"
#include "name.h"
#include "seals.h"
#include "size.h"

#define ERROR_PREFIX "io.shmd.Manager."

static const struct {
	const char *name;
	int err;
} error_table[] = {
	{ ERROR_PREFIX "NoSuchRegion", ENOENT },
	{ ERROR_PREFIX "RegionExists", EEXIST },
	{ ERROR_PREFIX "PermissionDenied", EACCES },
	{ ERROR_PREFIX "InvalidParameter", EINVAL },
	{ ERROR_PREFIX "Sealed", EPERM },
	{ ERROR_PREFIX "Busy", EBUSY },
	{ ERROR_PREFIX "WouldTruncate", EFBIG },
	{ ERROR_PREFIX "RegionOwned", EACCES },
	{ ERROR_PREFIX "ConfigError", EINVAL },
	{ ERROR_PREFIX "MessageTooLarge", EMSGSIZE },
	{ ERROR_PREFIX "TooManyFileDescriptors", ETOOMANYREFS },
	{ ERROR_PREFIX "OutOfRange", ERANGE },
	{ ERROR_PREFIX "NoSuchLabel", ENOENT },
	{ ERROR_PREFIX "RegionNotSpillable", EPERM },
	{ ERROR_PREFIX "RegionDamaged", EBADMSG },
	{ "org.varlink.service.MethodNotFound", EOPNOTSUPP },
};

/*
 * Errnos that mean one thing only (libshmd(3) ERRORS): a SystemError carrying one of them
 * becomes -EIO, so -ENOENT stays "no such region" and -ECONNREFUSED/-ECONNRESET "no daemon".
 */
static bool errno_is_reserved(int e)
{
	return e == ENOENT || e == ECONNREFUSED || e == ECONNRESET || e == EPIPE || e == EEXIST ||
	       e == EACCES || e == EPERM;
}

int error_to_errno(const char *name, json_object *params)
{
	for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
		if (strcmp(name, error_table[i].name) == 0)
			return -error_table[i].err;

	if (strcmp(name, ERROR_PREFIX "QuotaExceeded") == 0) {
		const char *scope = json_get_str(params, "scope");
		return scope && strcmp(scope, "global") == 0 ? -ENOSPC : -EDQUOT;
	}
	if (strcmp(name, ERROR_PREFIX "LimitReached") == 0) {
		const char *limit = json_get_str(params, "limit");
		return limit && strcmp(limit, "regions") == 0 ? -ENOSPC : -EUSERS;
	}
	if (strcmp(name, ERROR_PREFIX "SystemError") == 0) {
		uint64_t e;
		if (json_get_u64(params, "errno", &e) == 0 && e > 0 && e < 4096 &&
		    !errno_is_reserved((int)e))
			return -(int)e;
		return -EIO;
	}
	return -EPROTO;
}

int connect_error_to_errno(int err)
{
	switch (-err) {
	case ENOENT:	   /* no socket file: the daemon is not running */
	case ENOTDIR:	   /* a path component is no directory: likewise */
	case ECONNREFUSED: /* a socket file nobody listens on (a daemon that died) */
	case EACCES:	   /* no search or write permission on the socket's path */
	case EPERM:
		return -ECONNREFUSED;
	default:
		return err;
	}
}

/* The region name of an error, escaped for humans; "?" when absent or unreadable. */
static char *error_name_arg(json_object *params)
{
	_cleanup_free_ char *name = NULL;
	const char *bad_key, *reason;

	if (params && json_get_name(params, "name", false, &name, &bad_key, &reason) > 0)
		return name_escape(name);
	return strdup("?");
}

static char *u64_string(json_object *params, const char *key, char *buf, size_t size)
{
	uint64_t v;
	if (json_get_u64(params, key, &v) < 0)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

static char *size_string(json_object *params, const char *key, char *buf, size_t size)
{
	uint64_t v;
	if (json_get_u64(params, key, &v) < 0)
		return strcpy(buf, "?");
	return size_format(v, buf, size);
}

static const char *str_or(json_object *params, const char *key, const char *fallback)
{
	const char *s = json_get_str(params, key);
	return s ? s : fallback;
}

static char *format_region_error(const char *what, json_object *params)
{
	_cleanup_free_ char *name = error_name_arg(params);
	char *s = NULL;

	if (!name)
		return NULL;
	if (strcmp(what, "NoSuchRegion") == 0)
		return asprintf(&s, "no such region '%s'", name) < 0 ? NULL : s;
	if (strcmp(what, "RegionExists") == 0)
		return asprintf(&s, "region '%s' already exists", name) < 0 ? NULL : s;
	if (strcmp(what, "PermissionDenied") == 0)
		return asprintf(&s, "permission denied: %s", str_or(params, "reason", "refused")) <
				       0 ?
			       NULL :
			       s;
	if (strcmp(what, "RegionNotSpillable") == 0)
		return asprintf(&s, "not spillable: %s", str_or(params, "reason", "refused")) < 0 ?
			       NULL :
			       s;
	if (strcmp(what, "RegionDamaged") == 0)
		return asprintf(&s, "damaged: a checksum of its spilled data does not match") < 0 ?
			       NULL :
			       s;
	if (strcmp(what, "Busy") == 0)
		return asprintf(&s, "busy: %s", str_or(params, "reason", "in use")) < 0 ? NULL : s;
	if (strcmp(what, "Sealed") == 0) {
		unsigned seals = 0;
		json_object *arr;
		char buf[64];
		if (json_object_object_get_ex(params, "seals", &arr))
			(void)seals_from_json(arr, &seals);
		return asprintf(&s, "sealed (%s)", seals_format(seals, buf, sizeof(buf))) < 0 ?
			       NULL :
			       s;
	}
	/* WouldTruncate */
	char from[SIZE_FORMAT_MAX], to[SIZE_FORMAT_MAX];
	return asprintf(&s, "would truncate: shrinking %s to %s needs force",
			size_string(params, "size", from, sizeof(from)),
			size_string(params, "newSize", to, sizeof(to))) < 0 ?
		       NULL :
		       s;
}

/* The name of the user or group whose id subject is (decimal), for a message. */
static bool id_name(const char *scope, const char *subject, char *buf, size_t size)
{
	char *end, pwbuf[1024];
	unsigned long id;

	errno = 0;
	id = strtoul(subject, &end, 10);
	if (errno || end == subject || *end || id > UINT32_MAX - 1)
		return false;
	if (strcmp(scope, "user") == 0) {
		struct passwd pw, *found = NULL;
		if (getpwuid_r((uid_t)id, &pw, pwbuf, sizeof(pwbuf), &found) != 0 || !found)
			return false;
		return snprintf(buf, size, "%s", found->pw_name) < (int)size;
	}
	if (strcmp(scope, "group") == 0) {
		struct group gr, *found = NULL;
		if (getgrgid_r((gid_t)id, &gr, pwbuf, sizeof(pwbuf), &found) != 0 || !found)
			return false;
		return snprintf(buf, size, "%s", found->gr_name) < (int)size;
	}
	return false;
}

/* "quota exceeded for unit qemu@vm1.service: 7.5G used + 1.0G requested > 8.0G" */
static char *format_quota_error(json_object *params)
{
	const char *scope = str_or(params, "scope", "?");
	bool regions = strcmp(str_or(params, "kind", "bytes"), "regions") == 0;
	char used[32], req[32], limit[32], who[300];
	char *s = NULL;

	const char *subject = str_or(params, "subject", "?");
	char name[256];

	if (strcmp(scope, "global") == 0)
		snprintf(who, sizeof(who), "global quota exceeded");
	else if (id_name(scope, subject, name, sizeof(name)))
		snprintf(who, sizeof(who), "quota exceeded for %s %s (%s)", scope, name, subject);
	else
		snprintf(who, sizeof(who), "quota exceeded for %s %s", scope, subject);
	if (regions)
		return asprintf(&s, "%s: %s regions used + %s requested > %s", who,
				u64_string(params, "used", used, sizeof(used)),
				u64_string(params, "requested", req, sizeof(req)),
				u64_string(params, "limit", limit, sizeof(limit))) < 0 ?
			       NULL :
			       s;
	return asprintf(&s, "%s: %s used + %s requested > %s", who,
			size_string(params, "used", used, sizeof(used)),
			size_string(params, "requested", req, sizeof(req)),
			size_string(params, "limit", limit, sizeof(limit))) < 0 ?
		       NULL :
		       s;
}

static char *format_manager_error(const char *what, json_object *params)
{
	char a[32], b[32], c[32];
	char *s = NULL;
	int r;

	if (strcmp(what, "InvalidParameter") == 0)
		r = asprintf(&s, "invalid parameter '%s': %s", str_or(params, "parameter", "?"),
			     str_or(params, "reason", "invalid"));
	else if (strcmp(what, "LimitReached") == 0)
		r = asprintf(&s, "limit reached: %s (max %s)", str_or(params, "limit", "?"),
			     u64_string(params, "max", a, sizeof(a)));
	else if (strcmp(what, "QuotaExceeded") == 0)
		return format_quota_error(params);
	else if (strcmp(what, "RegionOwned") == 0)
		r = asprintf(&s, "exists, owned by uid %s (not opened: it is not yours)",
			     u64_string(params, "uid", a, sizeof(a)));
	else if (strcmp(what, "ConfigError") == 0)
		r = asprintf(&s, "configuration not reloaded: %s:%s: %s",
			     str_or(params, "file", "?"), u64_string(params, "line", a, sizeof(a)),
			     str_or(params, "reason", "invalid"));
	else if (strcmp(what, "MessageTooLarge") == 0)
		r = asprintf(&s, "request too large (max %s bytes)",
			     u64_string(params, "max", a, sizeof(a)));
	else if (strcmp(what, "TooManyFileDescriptors") == 0)
		r = asprintf(&s, "request carried %s file descriptors (max %s)",
			     u64_string(params, "received", a, sizeof(a)),
			     u64_string(params, "max", b, sizeof(b)));
	else if (strcmp(what, "OutOfRange") == 0)
		r = asprintf(&s, "span %s+%s is outside the region (size %s)",
			     u64_string(params, "offset", a, sizeof(a)),
			     u64_string(params, "length", b, sizeof(b)),
			     u64_string(params, "size", c, sizeof(c)));
	else if (strcmp(what, "NoSuchLabel") == 0)
		r = asprintf(&s, "no range labelled '%s'", str_or(params, "label", "?"));
	else if (strcmp(what, "SystemError") == 0)
		r = asprintf(&s, "%s: %s", str_or(params, "operation", "daemon"),
			     str_or(params, "message", "system error"));
	else
		return format_region_error(what, params);
	return r < 0 ? NULL : s;
}

char *error_format(const char *name, json_object *params)
{
	char *s = NULL;

	if (strncmp(name, ERROR_PREFIX, strlen(ERROR_PREFIX)) == 0) {
		const char *what = name + strlen(ERROR_PREFIX);
		static const char *const known[] = {
			"NoSuchRegion",
			"RegionExists",
			"PermissionDenied",
			"InvalidParameter",
			"Sealed",
			"Busy",
			"WouldTruncate",
			"LimitReached",
			"QuotaExceeded",
			"RegionOwned",
			"ConfigError",
			"MessageTooLarge",
			"TooManyFileDescriptors",
			"SystemError",
			"OutOfRange",
			"NoSuchLabel",
			"RegionNotSpillable",
			"RegionDamaged",
		};
		for (size_t i = 0; i < ELEMENTSOF(known); i++)
			if (strcmp(what, known[i]) == 0)
				return format_manager_error(what, params);
	}
	if (strcmp(name, "org.varlink.service.MethodNotFound") == 0)
		return asprintf(&s, "the daemon does not support %s",
				str_or(params, "method", "this method")) < 0 ?
			       NULL :
			       s;
	return asprintf(&s, "daemon error %s", name) < 0 ? NULL : s;
}
