/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors, exit codes, the daemon connection and argument parsing shared by all commands. */

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "name.h"
#include "seals.h"
#include "shmctl.h"
#include "size.h"

int shmctl_exit_status(int r)
{
	switch (-r) {
	case 0:
		return SHMCTL_EXIT_OK;
	case ENOENT:
		return SHMCTL_EXIT_NOT_FOUND;
	case EACCES:
	case EPERM:
		return SHMCTL_EXIT_PERMISSION;
	case EEXIST:
		return SHMCTL_EXIT_EXISTS;
	case EDQUOT:
	case ENOSPC:
	case EUSERS:
		return SHMCTL_EXIT_LIMIT;
	case ECONNREFUSED:
	case ECONNRESET:
		return SHMCTL_EXIT_NO_DAEMON;
	default:
		return SHMCTL_EXIT_FAILURE;
	}
}

int shmctl_connect(struct shmctl *s)
{
	int r;

	if (s->ctx)
		return 0;
	s->ctx = shmd_ctx_new(s->socket);
	if (!s->ctx)
		return shmctl_fail_errno(-ENOMEM, "cannot connect");
	r = shmd_ctx_connect(s->ctx);
	if (r < 0) {
		/* Whatever the reason (no socket, refused, no access to it), the daemon is out of reach. */
		fprintf(stderr, "shmctl: cannot connect to shmd at '%s': %s\n",
			shmd_ctx_get_socket(s->ctx), strerror(-r));
		return SHMCTL_EXIT_NO_DAEMON;
	}
	return 0;
}

/* "no such region 'NAME'" -> "no such region" when NAME is the region the error line names. */
static const char *short_error(const char *error, const char *message, const char *escaped)
{
	static const struct {
		const char *error, *before, *after, *reason;
	} table[] = {
		{ "io.shmd.Manager.NoSuchRegion", "no such region '", "'", "no such region" },
		{ "io.shmd.Manager.RegionExists", "region '", "' already exists",
		  "region already exists" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		_cleanup_free_ char *full = NULL;
		if (strcmp(error, table[i].error) != 0)
			continue;
		if (asprintf(&full, "%s%s%s", table[i].before, escaped, table[i].after) < 0)
			return NULL;
		return strcmp(full, message) == 0 ? table[i].reason : NULL;
	}
	return NULL;
}

int shmctl_fail(const struct shmctl *s, int r, const char *verb, const char *name)
{
	_cleanup_free_ char *escaped = name ? name_escape(name) : NULL;
	const char *reason = s->ctx ? shmd_ctx_get_error_message(s->ctx) : NULL;
	int status = shmctl_exit_status(r);

	if (!reason)
		reason = strerror(-r);
	/* libshmd's text repeats the name we print anyway; keep it only when it names another region. */
	if (escaped && shmd_ctx_get_error_name(s->ctx)) {
		const char *short_reason =
			short_error(shmd_ctx_get_error_name(s->ctx), reason, escaped);
		if (short_reason)
			reason = short_reason;
	}
	/* A local (not daemon) failure talking on the socket means the daemon went away. */
	if (s->ctx && !shmd_ctx_get_error_name(s->ctx) && (r == -EPIPE || r == -ECONNRESET))
		status = SHMCTL_EXIT_NO_DAEMON;
	if (escaped)
		fprintf(stderr, "shmctl: cannot %s '%s': %s\n", verb, escaped, reason);
	else
		fprintf(stderr, "shmctl: cannot %s: %s\n", verb, reason);
	return status;
}

int shmctl_fail_errno(int r, const char *fmt, ...)
{
	va_list ap;

	fputs("shmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(-r));
	return shmctl_exit_status(r);
}

int shmctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("shmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'shmctl --help' for more information.\n", stderr);
	return SHMCTL_EXIT_USAGE;
}

int parse_name(const char *arg, bool is_prefix)
{
	const char *reason = name_check(arg, strlen(arg), is_prefix);
	_cleanup_free_ char *escaped = NULL;

	if (!reason)
		return 0;
	escaped = name_escape(arg);
	return shmctl_usage_error("invalid %s '%s': %s", is_prefix ? "prefix" : "name",
				  escaped ? escaped : "", reason);
}

int parse_size_arg(const char *arg, const char *what, uint64_t *ret)
{
	int r = size_parse(arg, ret);

	if (r == -ERANGE)
		return shmctl_usage_error("invalid %s '%s': too large", what, arg);
	if (r < 0)
		return shmctl_usage_error("invalid %s '%s': expected a number of bytes with an "
					  "optional K, M, G, T, P or E suffix",
					  what, arg);
	return 0;
}

int parse_mode_arg(const char *arg, mode_t *ret)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 8);
	if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || v > 07777)
		return shmctl_usage_error("invalid mode '%s': expected octal permission bits, "
					  "e.g. 0640",
					  arg);
	/* A memfd is never executed through shmd and has no use for setuid & co: the daemon refuses them. */
	if (v & ~0666UL)
		return shmctl_usage_error("invalid mode '%s': only read and write bits (0666) "
					  "are allowed",
					  arg);
	*ret = (mode_t)v;
	return 0;
}

int parse_seals_arg(const char *arg, unsigned *ret)
{
	if (seals_from_list(arg, ret) < 0)
		return shmctl_usage_error("invalid seals '%s': expected a comma-separated list of "
					  "seal, shrink, grow, write, future-write, exec",
					  arg);
	return 0;
}

int parse_uint_arg(const char *arg, const char *what, unsigned max, unsigned *ret)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || arg[0] == '+' || v > max)
		return shmctl_usage_error("invalid %s '%s'", what, arg);
	*ret = (unsigned)v;
	return 0;
}

/* A user or group: all digits is a number, anything else a name to look up. */
static int parse_id(const char *arg, bool group, unsigned *ret)
{
	if (arg[0] >= '0' && arg[0] <= '9')
		return parse_uint_arg(arg, group ? "group" : "user", INT_MAX, ret);
	if (group) {
		struct group *gr = getgrnam(arg);
		if (!gr)
			return shmctl_usage_error("unknown group '%s'", arg);
		*ret = gr->gr_gid;
	} else {
		struct passwd *pw = getpwnam(arg);
		if (!pw)
			return shmctl_usage_error("unknown user '%s'", arg);
		*ret = pw->pw_uid;
	}
	return 0;
}

int parse_owner_arg(const char *arg, uid_t *ret_uid, gid_t *ret_gid)
{
	_cleanup_free_ char *copy = strdup(arg);
	unsigned uid = (unsigned)-1, gid = (unsigned)-1;
	char *colon;
	int r;

	if (!copy)
		return shmctl_fail_errno(-ENOMEM, "cannot parse '%s'", arg);
	colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	if (copy[0] == '\0' && (!colon || colon[1] == '\0'))
		return shmctl_usage_error("invalid owner '%s': expected USER, USER:GROUP or :GROUP",
					  arg);
	if (copy[0] != '\0') {
		r = parse_id(copy, false, &uid);
		if (r)
			return r;
	}
	if (colon && colon[1] != '\0') {
		r = parse_id(colon + 1, true, &gid);
		if (r)
			return r;
	}
	*ret_uid = (uid_t)uid;
	*ret_gid = (gid_t)gid;
	return 0;
}
