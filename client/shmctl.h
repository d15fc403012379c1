/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmctl's shared state: global options, the command table entry, exit codes and helpers. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include "shmd.h"

/* Exit codes, documented in shmctl(1) and --help. */
enum {
	SHMCTL_EXIT_OK = 0,
	SHMCTL_EXIT_FAILURE = 1,
	SHMCTL_EXIT_USAGE = 2,
	SHMCTL_EXIT_NOT_FOUND = 3,
	SHMCTL_EXIT_PERMISSION = 4,
	SHMCTL_EXIT_EXISTS = 5,
	SHMCTL_EXIT_LIMIT = 6,
	SHMCTL_EXIT_NO_DAEMON = 7,
	SHMCTL_EXIT_QUOTA = 8, /* QuotaExceeded: a quota of shmd.conf(5) */
};

/* Global options (accepted before and after the command) and the lazily made connection. */
struct shmctl {
	const char *socket; /* --socket, or NULL: $SHMD_SOCKET, then the default */
	const char *output; /* --output */
	bool json;
	bool raw;
	bool noheadings;
	bool bytes;
	bool notruncate;	      /* --notruncate */
	const struct shmctl_cmd *cmd; /* the command being run, for its --help */
	struct shmd_ctx *ctx;
};

struct shmctl_cmd {
	const char *name;
	int (*run)(struct shmctl *s, int argc, char *argv[]);
	const char *args;    /* what follows "shmctl NAME [options]" in the synopsis */
	const char *help;    /* one line, for "shmctl --help" */
	const char *options; /* the command's own options, for "shmctl NAME --help", or NULL */
};

/*
 * Global options, shared by every command's getopt_long() table: each command's
 * table ends with SHMCTL_GLOBAL_LONGOPTS and its short options string starts
 * with SHMCTL_GLOBAL_SHORTOPTS. Values >= 0x100 have no short form.
 */
enum {
	/* First value free for command options without a short form. */
	OPT_CMD_FIRST = 0x100,
	/* Global options without a short form, out of the commands' way. */
	OPT_GLOBAL_NOTRUNCATE = 0x1000,
};
#define SHMCTL_GLOBAL_SHORTOPTS "hVJrno:bS:"
#define SHMCTL_GLOBAL_LONGOPTS                                                                     \
	{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },                 \
		{ "json", no_argument, NULL, 'J' }, { "raw", no_argument, NULL, 'r' },             \
		{ "noheadings", no_argument, NULL, 'n' },                                          \
		{ "notruncate", no_argument, NULL, OPT_GLOBAL_NOTRUNCATE },                        \
		{ "output", required_argument, NULL, 'o' }, { "bytes", no_argument, NULL, 'b' },   \
	{                                                                                          \
		"socket", required_argument, NULL, 'S'                                             \
	}

/*
 * Handle a global option returned by getopt_long(). Returns -1 when c is not one,
 * else an exit status to return at once (--help, --version, '?': >= 0) or
 * -2 to carry on parsing.
 */
int shmctl_global_option(struct shmctl *s, int c, const char *arg);
#define SHMCTL_OPT_CONTINUE (-2)

/* Per-command and global help. */
void shmctl_usage(const struct shmctl *s);
void shmctl_cmd_usage(const struct shmctl_cmd *cmd);
void shmctl_version(void);

/* Connect to the daemon (once). 0, or prints why and returns SHMCTL_EXIT_NO_DAEMON. */
int shmctl_connect(struct shmctl *s);

/*
 * Report a failed library call on name: "shmctl: cannot VERB 'NAME': REASON".
 * r is the negative errno. Returns the exit status for it.
 */
int shmctl_fail(const struct shmctl *s, int r, const char *verb, const char *name);
/* Report a local failure without a region name: "shmctl: MESSAGE: strerror". */
int shmctl_fail_errno(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit status for a negative errno. */
int shmctl_exit_status(int r);

/* Print "shmctl: MESSAGE" and the --help hint; returns SHMCTL_EXIT_USAGE. */
int shmctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Argument parsers: 0 on success, else they report and return SHMCTL_EXIT_USAGE. */
/* A name or prefix: "\xNN" escapes (as printed) are decoded in place, then it is checked. */
int parse_name(char *arg, bool is_prefix);
int parse_size_arg(const char *arg, const char *what, uint64_t *ret);
int parse_mode_arg(const char *arg, mode_t *ret);
int parse_seals_arg(const char *arg, unsigned *ret);
int parse_owner_arg(const char *arg, uid_t *ret_uid, gid_t *ret_gid);
int parse_uint_arg(const char *arg, const char *what, unsigned max, unsigned *ret);

/*
 * getopt_long() reads an operand such as "-1" as options ("invalid option -- '1'"). For the
 * commands whose operands may be numbers, call this before getopt_long() with its option
 * tables: when an operand looks like a negative number, *argc and *argv are replaced by a
 * copy (in *ret_copy, to free) with the options first, in their order, then "--" and every
 * operand in its order, so the operand's parser says what is wrong with it. Otherwise
 * nothing changes and *ret_copy is NULL. 0, or it reports a failure and returns the exit status.
 */
int negative_operands_last(int *argc, char ***argv, const char *shortopts,
			   const struct option *longopts, char ***ret_copy);

/* Exactly n arguments after the options, else a usage error (0 or SHMCTL_EXIT_USAGE). */
int expect_args(const struct shmctl *s, int argc, int n);
/* Parse only the global options: SHMCTL_OPT_CONTINUE, or an exit status. */
int parse_global_only(struct shmctl *s, int argc, char *argv[]);

static inline void shmd_region_unrefp(struct shmd_region **r)
{
	shmd_region_unref(*r);
}
#define _cleanup_region_ __attribute__((cleanup(shmd_region_unrefp)))

static inline void shmd_list_freep(struct shmd_list **l)
{
	shmd_list_free(*l);
}

/* A NULL-terminated array of strings, each freed with it. */
static inline void strv_freep(char ***v)
{
	for (char **p = *v; p && *p; p++)
		free(*p);
	free(*v);
}

/*
 * Copy len bytes from src at src_off to dst at dst_off (copy_file_range(2), else pread/pwrite).
 * 0, -ENODATA if src ends early, or -errno.
 */
int copy_range(int src, uint64_t src_off, int dst, uint64_t dst_off, uint64_t len);

/* Commands (client/cmd-*.c). */
int cmd_create(struct shmctl *s, int argc, char *argv[]);
int cmd_open(struct shmctl *s, int argc, char *argv[]);
int cmd_ls(struct shmctl *s, int argc, char *argv[]);
int cmd_stat(struct shmctl *s, int argc, char *argv[]);
int cmd_resize(struct shmctl *s, int argc, char *argv[]);
int cmd_mv(struct shmctl *s, int argc, char *argv[]);
int cmd_rm(struct shmctl *s, int argc, char *argv[]);
int cmd_seal(struct shmctl *s, int argc, char *argv[]);
int cmd_spill(struct shmctl *s, int argc, char *argv[]);
int cmd_restore(struct shmctl *s, int argc, char *argv[]);
int cmd_chmod(struct shmctl *s, int argc, char *argv[]);
int cmd_chown(struct shmctl *s, int argc, char *argv[]);
int cmd_status(struct shmctl *s, int argc, char *argv[]);
int cmd_quota(struct shmctl *s, int argc, char *argv[]);
int cmd_exec(struct shmctl *s, int argc, char *argv[]);
int cmd_write(struct shmctl *s, int argc, char *argv[]);
int cmd_read(struct shmctl *s, int argc, char *argv[]);
int cmd_label(struct shmctl *s, int argc, char *argv[]);
int cmd_unlabel(struct shmctl *s, int argc, char *argv[]);
int cmd_relabel(struct shmctl *s, int argc, char *argv[]);
int cmd_who(struct shmctl *s, int argc, char *argv[]);
