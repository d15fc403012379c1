/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors, exit codes, the daemon connection and argument parsing shared by all commands. */

#include <ctype.h>
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
	case EINVAL:
		/* The daemon's InvalidParameter: a bad size, mode or name, as our own checks say. */
		return SHMCTL_EXIT_USAGE;
	case ENOENT:
		return SHMCTL_EXIT_NOT_FOUND;
	case EACCES:
	case EPERM:
		return SHMCTL_EXIT_PERMISSION;
	case EEXIST:
		return SHMCTL_EXIT_EXISTS;
	case EDQUOT:
		return SHMCTL_EXIT_QUOTA;
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
		/*
		 * Whatever the reason (no socket, refused, no access to it), the daemon is out of
		 * reach; libshmd says -ECONNREFUSED for all of them, its message ends in the kernel's
		 * reason ("...: No such file or directory").
		 */
		const char *message = shmd_ctx_get_error_message(s->ctx);
		const char *reason = message ? strrchr(message, ':') : NULL;
		reason = reason && reason[1] == ' ' && reason[2] ? reason + 2 : strerror(-r);
		fprintf(stderr, "shmctl: cannot connect to shmd at '%s': %s\n",
			shmd_ctx_get_socket(s->ctx), reason);
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
	/* The global quota is -ENOSPC, as a full file system: still a quota for the exit status. */
	if (s->ctx && shmd_ctx_get_error_name(s->ctx) &&
	    strcmp(shmd_ctx_get_error_name(s->ctx), "io.shmd.Manager.QuotaExceeded") == 0)
		status = SHMCTL_EXIT_QUOTA;
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

static int hex_digit(char c)
{
	return isdigit((unsigned char)c)  ? c - '0' :
	       isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10 :
					    -1;
}

/*
 * Undo name_escape(): "\xNN" (two hex digits) becomes byte NN, in place (never longer); any
 * other backslash stays as it is. -EINVAL for "\x00" (a name has no NUL byte).
 */
static int name_unescape(char *s)
{
	char *o = s;

	for (const char *p = s; *p; p++) {
		int hi, lo;
		if (p[0] == '\\' && p[1] == 'x' && (hi = hex_digit(p[2])) >= 0 &&
		    (lo = hex_digit(p[3])) >= 0) {
			if (hi == 0 && lo == 0)
				return -EINVAL;
			*o++ = (char)(hi << 4 | lo);
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return 0;
}

int parse_name(char *arg, bool is_prefix)
{
	const char *reason;
	_cleanup_free_ char *escaped = NULL;

	/* What ls, stat and the errors print ("new\x0aline") is what a name argument may say. */
	if (name_unescape(arg) < 0)
		return shmctl_usage_error("invalid %s '%s': \\x00 would be a NUL byte",
					  is_prefix ? "prefix" : "name", arg);
	reason = name_check(arg, strlen(arg), is_prefix);

	if (!reason)
		return 0;
	escaped = name_escape(arg);
	return shmctl_usage_error("invalid %s '%s': %s", is_prefix ? "prefix" : "name",
				  escaped ? escaped : "", reason);
}

/* "-5", "-1.5G": a negative number, which getopt_long() would read as options. */
static bool looks_negative(const char *arg)
{
	return arg[0] == '-' && (isdigit((unsigned char)arg[1]) ||
				 (arg[1] == '.' && isdigit((unsigned char)arg[2])));
}

/* Does the long option NAME (an argv element after its "--") take the next element? */
static bool long_option_takes_next(const char *name, const struct option *longopts)
{
	size_t len = strcspn(name, "=");
	const struct option *prefix_match = NULL;

	if (name[len] == '=')
		return false;
	for (const struct option *o = longopts; o->name; o++) {
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o->has_arg == required_argument;
		if (!prefix_match && strncmp(o->name, name, len) == 0)
			prefix_match = o;
	}
	/* An ambiguous abbreviation is getopt_long()'s to report; the first match will do here. */
	return prefix_match && prefix_match->has_arg == required_argument;
}

/* Does the cluster "-abc" (after its "-") end in an option whose argument is the next element? */
static bool short_options_take_next(const char *cluster, const char *shortopts)
{
	for (const char *p = cluster; *p; p++) {
		const char *o = *p == ':' ? NULL : strchr(shortopts, *p);
		if (o && o[1] == ':')
			/* "-ovalue" holds its argument; "::" (optional) never takes the next one. */
			return p[1] == '\0' && o[2] != ':';
	}
	return false;
}

int negative_operands_last(int *argc, char ***argv, const char *shortopts,
			   const struct option *longopts, char ***ret_copy)
{
	_cleanup_free_ char **copy = NULL, **operands = NULL;
	int n = *argc, n_copy = 1, n_operands = 0, i;
	char **v = *argv;
	bool negative = false;

	*ret_copy = NULL;
	copy = calloc((size_t)n + 2, sizeof(char *));
	operands = calloc((size_t)n + 1, sizeof(char *));
	if (!copy || !operands)
		return shmctl_fail_errno(-ENOMEM, "cannot parse the arguments");
	copy[0] = v[0];
	/* Classify the elements as getopt_long() does: options, their arguments, operands. */
	for (i = 1; i < n && strcmp(v[i], "--") != 0; i++) {
		const char *a = v[i];
		bool takes_next;

		if (a[0] != '-' || a[1] == '\0' || looks_negative(a)) {
			negative = negative || looks_negative(a);
			operands[n_operands++] = v[i];
			continue;
		}
		takes_next = a[1] == '-' ? long_option_takes_next(a + 2, longopts) :
					   short_options_take_next(a + 1, shortopts);
		copy[n_copy++] = v[i];
		if (takes_next && i + 1 < n)
			copy[n_copy++] = v[++i];
	}
	if (!negative)
		return 0;
	/* Everything after the caller's own "--" is an operand already. */
	for (i++; i < n; i++)
		operands[n_operands++] = v[i];
	copy[n_copy++] = (char *)"--";
	memcpy(copy + n_copy, operands, (size_t)n_operands * sizeof(char *));
	n_copy += n_operands;
	copy[n_copy] = NULL;
	*argc = n_copy;
	*argv = copy;
	*ret_copy = TAKE_PTR(copy);
	return 0;
}

int parse_size_arg(const char *arg, const char *what, uint64_t *ret)
{
	uint64_t unused;
	int r = size_parse(arg, ret);

	/* "-1", "-4K": say what is wrong, not that it is no number. */
	if (r == -EINVAL && arg[0] == '-' && size_parse(arg + 1, &unused) != -EINVAL)
		return shmctl_usage_error("invalid %s '%s': must not be negative", what, arg);
	if (r == -ERANGE)
		return shmctl_usage_error("invalid %s '%s': out of range (0 to 9223372036854775807 "
					  "bytes, 8E minus one byte)",
					  what, arg);
	if (r == -EDOM)
		return shmctl_usage_error("invalid %s '%s': not a whole number of bytes", what,
					  arg);
	if (r < 0)
		return shmctl_usage_error(
			"invalid %s '%s': expected a number of bytes with an "
			"optional K, M, G, T, P or E suffix, or 0x and hex digits",
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
		return shmctl_usage_error(
			"invalid seals '%s': expected a comma-separated list of "
			"seal, shrink, grow, write, future_write, exec (future-write also accepted)",
			arg);
	return 0;
}

int parse_uint_arg(const char *arg, const char *what, unsigned max, unsigned *ret)
{
	char *end = NULL;
	unsigned long v;

	if (looks_negative(arg))
		return shmctl_usage_error("invalid %s '%s': must not be negative", what, arg);
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
	if (isdigit((unsigned char)arg[0]) || looks_negative(arg))
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
	} else if (colon && copy[0] != '\0') {
		/* "USER:" means USER's login group, as with chown(1). */
		struct passwd *pw = getpwuid((uid_t)uid);
		if (!pw)
			return shmctl_usage_error(
				"invalid owner '%s': user %u has no passwd entry, "
				"so no login group; give USER:GROUP",
				arg, uid);
		gid = pw->pw_gid;
	}
	*ret_uid = (uid_t)uid;
	*ret_gid = (gid_t)gid;
	return 0;
}
