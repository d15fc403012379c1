/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's settings: the command line, and the [Daemon] keys of shmd.conf under it. */

#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "size.h"

#define USEC_PER_SEC UINT64_C(1000000)

void config_init(struct config *c)
{
	*c = (struct config){
		.socket_path = SHMD_DEFAULT_SOCKET,
		.max_connections = 256,
		.max_connections_per_uid = 0, /* a quarter of max_connections */
		.max_message_bytes = 65536,
		.max_output_bytes = 4 * 1024 * 1024,
		.message_timeout_usec = 10 * USEC_PER_SEC,
		.idle_timeout_usec = 300 * USEC_PER_SEC,
		.log_target = LOG_TARGET_AUTO,
		.log_level = LOG_INFO,
	};
}

static void usage(void)
{
	printf("Usage: shmd [options]\n"
	       "\n"
	       "Shared-memory manager: owns named memfd regions and hands them out over Varlink.\n"
	       "\n"
	       "Options:\n"
	       "  -s, --socket PATH                listening socket when not socket-activated\n"
	       "                                   (default " SHMD_DEFAULT_SOCKET ")\n"
	       "      --max-regions N              region limit (default: from RLIMIT_NOFILE)\n"
	       "      --max-connections N          concurrent connections (default 256); when all\n"
	       "                                   are taken, a uid holding 2 fewer than the\n"
	       "                                   busiest uid takes that uid's least recently\n"
	       "                                   used one\n"
	       "      --max-connections-per-uid N  concurrent connections per uid (default: a\n"
	       "                                   quarter of --max-connections, 64)\n"
	       "      --max-message-bytes SIZE     largest request (default 64K)\n"
	       "      --max-output-bytes SIZE      unread replies before disconnect (default 4M)\n"
	       "      --message-timeout SEC        stalled message or unread replies (default 10)\n"
	       "      --idle-timeout SEC           close a connection without requests (default\n"
	       "                                   300; 0: never)\n"
	       "      --admin-group GROUP          members administer every region (as root does)\n"
	       "      --log-target TARGET          auto, console or journal (default auto)\n"
	       "      --log-level LEVEL            err, warning, notice, info or debug (default info)\n"
	       "      --config PATH                configuration file, then PATH.d/*.conf\n"
	       "                                   (default: " SHMD_CONFIG_FILE ")\n"
	       "      --supervise                  without systemd: keep the regions in a supervisor\n"
	       "                                   process that restarts a crashed daemon\n"
	       "  -h, --help                       show this help\n"
	       "  -V, --version                    show the version\n");
}

/* Where bad_usage() writes while a configuration key is applied (else stderr). */
static char *reason_buf;
static size_t reason_size;

static int bad_usage(const char *opt, const char *value, const char *why)
{
	if (reason_buf)
		snprintf(reason_buf, reason_size, "invalid value '%s': %s", value, why);
	else
		fprintf(stderr, "shmd: invalid value '%s' for %s: %s\n", value, opt, why);
	return -EINVAL;
}

/* A decimal integer in [min, max], nothing else. */
static int parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	uint64_t v;

	if (*s < '0' || *s > '9')
		return bad_usage(opt, s, "not a number");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return bad_usage(opt, s, "not a number");
	if (v < min || v > max)
		return bad_usage(opt, s, "out of range");
	*ret = v;
	return 0;
}

static int parse_bytes(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	if (size_parse(s, &v) < 0)
		return bad_usage(opt, s, "not a size");
	if (v < min || v > max)
		return bad_usage(opt, s, "out of range");
	*ret = v;
	return 0;
}

static int parse_group(struct config *c, const char *s)
{
	struct group *g = getgrnam(s);
	uint64_t v;

	if (g) {
		c->admin_gid = g->gr_gid;
	} else if (*s >= '0' && *s <= '9' &&
		   parse_uint("--admin-group", s, 0, UINT32_MAX - 1, &v) == 0) {
		c->admin_gid = (gid_t)v;
	} else {
		return bad_usage("--admin-group", s, "no such group");
	}
	c->admin_group = s;
	c->have_admin_gid = true;
	return 0;
}

enum {
	ARG_MAX_REGIONS = 0x100,
	ARG_MAX_CONNECTIONS,
	ARG_MAX_CONNECTIONS_PER_UID,
	ARG_MAX_MESSAGE_BYTES,
	ARG_MAX_OUTPUT_BYTES,
	ARG_MESSAGE_TIMEOUT,
	ARG_IDLE_TIMEOUT,
	ARG_ADMIN_GROUP,
	ARG_LOG_TARGET,
	ARG_LOG_LEVEL,
	ARG_CONFIG,
	ARG_SUPERVISE,
};

static const struct option options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "max-regions", required_argument, NULL, ARG_MAX_REGIONS },
	{ "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS },
	{ "max-connections-per-uid", required_argument, NULL, ARG_MAX_CONNECTIONS_PER_UID },
	{ "max-message-bytes", required_argument, NULL, ARG_MAX_MESSAGE_BYTES },
	{ "max-output-bytes", required_argument, NULL, ARG_MAX_OUTPUT_BYTES },
	{ "message-timeout", required_argument, NULL, ARG_MESSAGE_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
	{ "admin-group", required_argument, NULL, ARG_ADMIN_GROUP },
	{ "log-target", required_argument, NULL, ARG_LOG_TARGET },
	{ "log-level", required_argument, NULL, ARG_LOG_LEVEL },
	{ "config", required_argument, NULL, ARG_CONFIG },
	{ "supervise", no_argument, NULL, ARG_SUPERVISE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{}
};

/* One option; 0 or -EINVAL. */
static int parse_one(struct config *c, int opt, const char *arg)
{
	const uint64_t day = 86400;
	uint64_t v = 0;
	int r = 0;

	switch (opt) {
	case 's':
		if (*arg != '/' || strlen(arg) >= 108)
			return bad_usage("--socket", arg, "need an absolute path under 108 bytes");
		c->socket_path = arg;
		break;
	case ARG_SUPERVISE:
		c->supervise = true;
		break;
	case ARG_MAX_REGIONS:
		r = parse_uint("--max-regions", arg, 1, 1u << 30, &c->max_regions);
		break;
	case ARG_MAX_CONNECTIONS:
		r = parse_uint("--max-connections", arg, 1, 65536, &v);
		c->max_connections = (unsigned)v;
		break;
	case ARG_MAX_CONNECTIONS_PER_UID:
		r = parse_uint("--max-connections-per-uid", arg, 1, 65536, &v);
		c->max_connections_per_uid = (unsigned)v;
		break;
	case ARG_MAX_MESSAGE_BYTES:
		r = parse_bytes("--max-message-bytes", arg, 1024, 16 << 20, &v);
		c->max_message_bytes = (size_t)v;
		break;
	case ARG_MAX_OUTPUT_BYTES:
		r = parse_bytes("--max-output-bytes", arg, 65536, 1ull << 30, &v);
		c->max_output_bytes = (size_t)v;
		break;
	case ARG_MESSAGE_TIMEOUT:
		r = parse_uint("--message-timeout", arg, 1, day, &v);
		c->message_timeout_usec = v * USEC_PER_SEC;
		break;
	case ARG_IDLE_TIMEOUT:
		r = parse_uint("--idle-timeout", arg, 0, day, &v);
		c->idle_timeout_usec = v * USEC_PER_SEC;
		break;
	case ARG_ADMIN_GROUP:
		return parse_group(c, arg);
	case ARG_LOG_TARGET:
		c->log_target = log_target_from_string(arg);
		if (c->log_target < 0)
			return bad_usage("--log-target", arg, "expected auto, console or journal");
		break;
	case ARG_LOG_LEVEL:
		c->log_level = log_level_from_string(arg);
		if (c->log_level < 0)
			return bad_usage("--log-level", arg,
					 "expected err, warning, notice, info or debug");
		break;
	case ARG_CONFIG:
		if (*arg == '\0')
			return bad_usage("--config", arg, "empty path");
		c->config_path = arg;
		break;
	default:
		return -EINVAL;
	}
	return r;
}

/* shmd.conf [Daemon] keys: the long options, by their configuration name. */
static const struct {
	const char *key;
	int opt;
} keys[] = {
	{ "Socket", 's' },
	{ "MaxRegions", ARG_MAX_REGIONS },
	{ "MaxConnections", ARG_MAX_CONNECTIONS },
	{ "MaxConnectionsPerUid", ARG_MAX_CONNECTIONS_PER_UID },
	{ "MaxMessageBytes", ARG_MAX_MESSAGE_BYTES },
	{ "MaxOutputBytes", ARG_MAX_OUTPUT_BYTES },
	{ "MessageTimeoutSec", ARG_MESSAGE_TIMEOUT },
	{ "IdleTimeoutSec", ARG_IDLE_TIMEOUT },
	{ "AdminGroup", ARG_ADMIN_GROUP },
	{ "LogTarget", ARG_LOG_TARGET },
	{ "LogLevel", ARG_LOG_LEVEL },
};

int config_set_key(struct config *c, const char *key, const char *value, char *reason, size_t size)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].key, key) != 0)
			continue;
		reason_buf = reason;
		reason_size = size;
		int r = parse_one(c, keys[i].opt, value);
		reason_buf = NULL;
		return r;
	}
	return -ENOENT;
}

int config_parse_args(struct config *c, int argc, char **argv)
{
	int opt;

	opterr = 0;
	optind = 0; /* main() parses twice: before and after the configuration file */
	while ((opt = getopt_long(argc, argv, ":s:hV", options, NULL)) >= 0) {
		switch (opt) {
		case 'h':
			usage();
			return 1;
		case 'V':
			printf("shmd " SHMD_VERSION "\n");
			return 1;
		case ':':
			fprintf(stderr, "shmd: option '%s' needs an argument\n", argv[optind - 1]);
			return -EINVAL;
		case '?':
			fprintf(stderr, "shmd: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			if (parse_one(c, opt, optarg) < 0)
				return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shmd: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
