/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shmctl: main(), the global options and the command table (name -> handler -> one-line help). */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "macro.h"
#include "shmctl.h"

static const struct shmctl_cmd commands[] = {
	{ "create", cmd_create, "NAME SIZE | NAME --from FILE", "create a region",
	  " -m, --mode MODE        permission bits in octal (default 0600)\n"
	  " -f, --fixed            seal grow and shrink: the size can never change\n"
	  " -s, --seal LIST        seals to apply at creation (seal,shrink,grow,write,\n"
	  "                        future_write,exec)\n"
	  " -e, --open-existing    succeed if the region exists (its size and mode are kept)\n"
	  " -q, --quiet            print nothing on success\n"
	  "     --from FILE        size and content from FILE (no SIZE argument)\n"
	  " -P, --prealloc         allocate the memory now (counts in shmd's memory cgroup)\n"
	  "     --nospill          never spill the region to shmd's spill file\n" },
	{ "open", cmd_open, "NAME", "open a region and print its details",
	  "     --ro               open read-only\n" },
	{ "ls", cmd_ls, "[PREFIX]", "list regions (alias: list)",
	  "     --ranges           list the named ranges of the regions instead\n"
	  "     --deleted          regions deleted while still held (in memory until their\n"
	  "                        last holder goes)\n" },
	{ "list", cmd_ls, "[PREFIX]", NULL,
	  "     --ranges           list the named ranges of the regions instead\n"
	  "     --deleted          regions deleted while still held\n" },
	{ "stat", cmd_stat, "NAME", "show every detail of a region", NULL },
	{ "resize", cmd_resize, "NAME SIZE", "change the size of a region",
	  " -f, --force            allow shrinking (mappings past the end get SIGBUS)\n" },
	{ "mv", cmd_mv, "OLD NEW", "rename a region",
	  "     --replace          replace a region called NEW\n" },
	{ "rm", cmd_rm, "NAME... | --prefix PREFIX | --all", "remove regions",
	  " -f, --force            a missing region is not an error\n"
	  "     --prefix PREFIX    remove every region whose name starts with PREFIX\n"
	  " -a, --all              remove every region (--prefix '')\n"
	  " -y, --yes              do not ask (needed with --prefix/--all when standard\n"
	  "                        input is not a terminal)\n" },
	{ "seal", cmd_seal, "NAME SEALS", "add seals (seal,shrink,grow,write,future_write,exec)",
	  NULL },
	{ "spill", cmd_spill, "NAME", "move an idle region's data to shmd's spill file", NULL },
	{ "restore", cmd_restore, "NAME", "bring a spilled region back into memory", NULL },
	{ "chmod", cmd_chmod, "MODE NAME", "change the permission bits (octal)", NULL },
	{ "chown", cmd_chown, "USER[:[GROUP]] NAME",
	  "change owner and/or group (:GROUP; USER: for USER's login group)", NULL },
	{ "status", cmd_status, "", "show the daemon's totals, limits and features", NULL },
	{ "quota", cmd_quota, "", "show usage and limits per user, group and unit",
	  " columns (-o): TYPE SUBJECT USED LIMIT USE% REGIONS RLIMIT RUSE%\n" },
	{ "exec", cmd_exec, "NAME... -- CMD [ARG]...",
	  "run CMD with the regions open at fds 3 and up",
	  "     --ro               open the regions read-only\n"
	  "     --fd N             first fd number (default 3)\n" },
	{ "write", cmd_write, "NAME", "copy stdin into a region",
	  "     --offset N         start at byte N (default 0)\n"
	  "     --grow             grow the region if the data passes its end\n" },
	{ "read", cmd_read, "NAME", "copy a region to stdout",
	  "     --offset N         start at byte N (default 0)\n"
	  "     --length N         copy at most N bytes (default: to the end)\n" },
	{ "label", cmd_label, "NAME OFFSET LENGTH LABEL", "name a page-aligned range of a region",
	  NULL },
	{ "unlabel", cmd_unlabel, "NAME {OFFSET LENGTH | --label LABEL}",
	  "remove the labels of a range, or every range with a label",
	  " -l, --label LABEL      remove every range labelled LABEL\n" },
	{ "relabel", cmd_relabel, "NAME LABEL NEWLABEL", "rename a label", NULL },
	{ "who", cmd_who, "NAME", "list the processes holding a region (fds and mappings)", NULL },
};

static const char global_options_help[] =
	" -S, --socket PATH      the daemon's socket (default: $SHMD_SOCKET, else\n"
	"                        " SHMD_DEFAULT_SOCKET ")\n"
	" -J, --json             print JSON\n"
	" -r, --raw              print unaligned columns, escaping spaces\n"
	" -n, --noheadings       do not print headings\n"
	"     --notruncate       do not truncate long names to fit the terminal\n"
	" -o, --output COLS      columns to print (COL,COL or +COL to add to the defaults)\n"
	" -b, --bytes            print sizes in bytes\n"
	" -h, --help             display this help\n"
	" -V, --version          display version\n";

static const char exit_status_help[] =
	"Exit status:\n"
	" 0  success\n"
	" 1  failure\n"
	" 2  wrong usage (bad option, size, mode, seal or name)\n"
	" 3  no such region\n"
	" 4  permission denied (or forbidden by the region's seals)\n"
	" 5  the region already exists\n"
	" 6  a limit was reached\n"
	" 7  cannot reach the daemon\n"
	" 8  a quota was exceeded\n";

void shmctl_usage(const struct shmctl *s)
{
	printf("Usage:\n shmctl [options] COMMAND [command options] [ARGS]\n"
	       " shmctl [options]                  (no command: ls)\n\n"
	       "Manage the named shared-memory regions of shmd.\n\nCommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		char synopsis[64];
		if (!commands[i].help)
			continue;
		snprintf(synopsis, sizeof(synopsis), "%s %s", commands[i].name, commands[i].args);
		printf(" %-28s %s\n", synopsis, commands[i].help);
	}
	printf("\nOptions:\n%s\nColumns (ls, stat, open):\n", global_options_help);
	table_columns_help(region_columns, n_region_columns, stdout);
	printf("\n Default for ls: %s\n\n%s\n", REGION_COLUMNS_LS, exit_status_help);
	printf("Run 'shmctl COMMAND --help' for a command's options.\n"
	       "For more details see shmctl(1).\n");
}

void shmctl_cmd_usage(const struct shmctl_cmd *cmd)
{
	const char *help = cmd->help ? cmd->help : "list regions";

	/* The one-line help, as a sentence. */
	printf("Usage:\n shmctl %s [options] %s\n\n%c%s.\n\n", cmd->name, cmd->args,
	       toupper((unsigned char)help[0]), help + 1);
	if (cmd->options)
		printf("Options:\n%s\n", cmd->options);
	printf("Global options:\n%s\n", global_options_help);
	printf("For more details see shmctl(1).\n");
}

void shmctl_version(void)
{
	printf("shmctl from shmd %s (libshmd %s)\n", SHMD_VERSION, shmd_version());
}

int shmctl_global_option(struct shmctl *s, int c, const char *arg)
{
	switch (c) {
	case 'h':
		if (s->cmd)
			shmctl_cmd_usage(s->cmd);
		else
			shmctl_usage(s);
		return SHMCTL_EXIT_OK;
	case 'V':
		shmctl_version();
		return SHMCTL_EXIT_OK;
	case 'J':
		s->json = true;
		break;
	case 'r':
		s->raw = true;
		break;
	case 'n':
		s->noheadings = true;
		break;
	case 'o':
		s->output = arg;
		break;
	case 'b':
		s->bytes = true;
		break;
	case OPT_GLOBAL_NOTRUNCATE:
		s->notruncate = true;
		break;
	case 'S':
		s->socket = arg;
		break;
	case '?':
		/* getopt_long() has printed what was wrong. */
		fputs("Try 'shmctl --help' for more information.\n", stderr);
		return SHMCTL_EXIT_USAGE;
	default:
		return -1;
	}
	return SHMCTL_OPT_CONTINUE;
}

static const struct shmctl_cmd *command_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = { SHMCTL_GLOBAL_LONGOPTS, {} };
	_cleanup_free_ char *prog = NULL;
	struct shmctl s = {};
	int c, r;

	/* getopt_long() names the program by argv[0], which may be a path: errors say "shmctl:". */
	argv[0] = (char *)"shmctl";
	/* "+": stop at the command; its own options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+" SHMCTL_GLOBAL_SHORTOPTS, options, NULL)) != -1) {
		r = shmctl_global_option(&s, c, optarg);
		if (r != SHMCTL_OPT_CONTINUE)
			return r < 0 ? SHMCTL_EXIT_USAGE : r;
	}
	if (optind >= argc) {
		/* No command lists, as lsipc and systemctl do; the global options apply to it. */
		static char ls_arg[] = "ls";
		static char *ls_argv[] = { ls_arg, NULL };
		argc = 1;
		argv = ls_argv;
		optind = 0;
	}

	s.cmd = command_find(argv[optind]);
	if (!s.cmd)
		return shmctl_usage_error("unknown command '%s'", argv[optind]);

	/* The command parses its arguments with getopt_long() from argv[0], named for its messages. */
	argc -= optind;
	argv += optind;
	optind = 0;
	if (asprintf(&prog, "shmctl %s", s.cmd->name) < 0)
		return shmctl_fail_errno(-ENOMEM, "cannot run");
	argv[0] = prog;
	r = s.cmd->run(&s, argc, argv);
	shmd_ctx_unref(s.ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (r == 0)
			r = shmctl_fail_errno(-EIO, "write error");
	}
	return r;
}
