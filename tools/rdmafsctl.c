// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl: the administrator's tool for an rdmafs mount.  Everything it
 * asks the daemon goes through librdmafs (rdmafs.h): the tool has no
 * channel and no parser of rdmafs's formats of its own, so what it shows
 * is what every client of the library sees.  Subcommands live in one
 * table; a new one is a function (in a ctl_*.c file of its own) and a row.
 * This file holds the table, main() and what every command shares.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdmafs/rdmafs.h"
#include "ctl.h"

#ifndef RDMAFS_VERSION
#define RDMAFS_VERSION "unknown"
#endif

int ctl_finish_output(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": Couldn't write the output: %s\n",
			strerror(errno));
		return CTL_FAILED;
	}
	return CTL_OK;
}

int ctl_usage_error(const struct subcommand *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG " %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see " PROG " %s --help)\n", cmd->name);
	return CTL_USAGE;
}

/* "rdmafsctl: Couldn't WHAT: REASON" */
static void vfail(const char *reason, const char *fmt, va_list ap)
{
	fprintf(stderr, PROG ": Couldn't ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", reason);
}

/* EOPNOTSUPP is ENOTSUP on Linux: "not on an rdmafs mount" */
static int fail_status(int err)
{
	return err == -ENOTSUP || err == ENOTSUP ? CTL_NOT_RDMAFS : CTL_FAILED;
}

int ctl_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(rdmafs_strerror(err), fmt, ap);
	va_end(ap);
	return fail_status(err);
}

int ctl_fail_pin(int err, const char *file, const char *fmt, ...)
{
	struct rdmafs_mount *m;
	bool backing = false;
	va_list ap;

	/*
	 * On a file the daemon serves, EOPNOTSUPP is the backing's answer,
	 * not "no rdmafs here": it cannot keep the range's blocks in place.
	 */
	if (fail_status(err) == CTL_NOT_RDMAFS &&
	    rdmafs_mount_open(file, &m) == 0) {
		rdmafs_mount_close(m);
		backing = true;
	}
	va_start(ap, fmt);
	vfail(backing ? "the backing filesystem cannot keep the range's blocks in place (no FIEMAP, or it cannot allocate or unshare them: tmpfs?)"
		      : rdmafs_strerror(err),
	      fmt, ap);
	va_end(ap);
	return backing ? CTL_FAILED : fail_status(err);
}

/* getopt's own message would name the subcommand as the program. */
static void bad_option(const char *who, const char *help, char **argv)
{
	if (optopt)
		fprintf(stderr, "%s: unknown option '-%c' (see %s --help)\n",
			who, optopt, help);
	else
		fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n",
			who, argv[optind - 1], help);
}

static void subcommand_usage(FILE *f, const struct subcommand *cmd)
{
	fprintf(f, "Usage: " PROG " %s %s\n%s.\n\n%s", cmd->name, cmd->synopsis,
		cmd->summary, cmd->help);
}

int ctl_parse_args(const struct subcommand *cmd, int argc, char **argv,
		   int accept, int min_pos, int max_pos, const char *what,
		   struct ctl_args *args)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "new", no_argument, NULL, 'n' },
		{ "release-on-break", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char who[64];
	int c, li = -1;

	memset(args, 0, sizeof(*args));
	snprintf(who, sizeof(who), PROG " %s", cmd->name);
	opterr = 0;
	/* 0: start over on the subcommand's argv, name as argv[0] */
	optind = 0;
	while ((c = getopt_long(argc, argv, "jfnh", opts, &li)) != -1) {
		switch (c) {
		case 'j':
			if (!(accept & CTL_OPT_JSON))
				goto bad;
			args->json = true;
			break;
		case 'f':
			if (!(accept & CTL_OPT_FOLLOW))
				goto bad;
			args->follow = true;
			break;
		case 'n':
			if (!(accept & CTL_OPT_NEW))
				goto bad;
			args->new_only = true;
			break;
		case 'r':
			if (!(accept & CTL_OPT_RELEASE))
				goto bad;
			args->release_on_break = true;
			break;
		case 'h':
			subcommand_usage(stdout, cmd);
			return ctl_finish_output();
		default:
			goto bad;
		}
		li = -1;
	}
	args->pos = argv + optind;
	args->npos = argc - optind;
	if (args->npos < min_pos || args->npos > max_pos) {
		if (min_pos == max_pos)
			return ctl_usage_error(cmd, "need exactly %s", what);
		return ctl_usage_error(cmd, "need %s", what);
	}
	return -1;

bad:
	/* an option of another command is unknown to this one */
	if (c == '?')
		bad_option(who, who, argv);
	else if (li >= 0)
		fprintf(stderr, "%s: unknown option '--%s' (see %s --help)\n",
			who, opts[li].name, who);
	else
		fprintf(stderr, "%s: unknown option '-%c' (see %s --help)\n",
			who, c, who);
	return CTL_USAGE;
}

static const struct subcommand subcommands[] = {
	{
		.name = "pins",
		.fn = ctl_cmd_pins,
		.synopsis = "[--json] MOUNT",
		.summary = "List every pin in the mount",
		.help = "MOUNT is the mount point or any path in the mount.\n"
			"Prints PATH, RANGE (OFFSET+LENGTH in bytes, or all), SIZE,\n"
			"OWNER (uid and user), HOLDER (- for a persistent pin, else\n"
			"the holding process) and SINCE (UTC) for each pin.\n\n"
			"  -j, --json   print a JSON array of objects instead\n"
			"  -h, --help   show this help\n",
	},
	{
		.name = "status",
		.fn = ctl_cmd_status,
		.synopsis = "[--json] MOUNT",
		.summary =
			"Show the mount's version, policy, limits and counters",
		.help = "MOUNT is the mount point or any path in the mount.\n\n"
			"  -j, --json   print a JSON object instead\n"
			"  -h, --help   show this help\n",
	},
	{
		.name = "pin",
		.fn = ctl_cmd_pin,
		.synopsis = "FILE RANGE...",
		.summary = "Pin ranges of a file, persistently",
		.help = "RANGE is OFFSET+LENGTH or all; numbers are decimal or\n"
			"0x-hex with an optional K, M, G or T suffix (0+1M,\n"
			"0x200000+2M); a RANGE may also be a comma-separated list.\n"
			"All ranges are pinned, or none.  The pins are the caller's\n"
			"and last until they are unpinned.\n\n"
			"  -h, --help   show this help\n",
	},
	{
		.name = "unpin",
		.fn = ctl_cmd_unpin,
		.synopsis = "FILE RANGE|all",
		.summary = "Remove a pin of a file (all: every pin of yours)",
		.help = "Removes the caller's pin of exactly RANGE (root: anyone's),\n"
			"or with all every pin of the caller on FILE (root: every\n"
			"pin).  It goes through the mount root, never through FILE,\n"
			"so it releases an operation waiting on FILE at once.\n\n"
			"  -h, --help   show this help\n",
	},
	{
		.name = "hold",
		.fn = ctl_cmd_hold,
		.synopsis = "[--release-on-break] FILE RANGE",
		.summary = "Hold a session pin of a file while it runs",
		.help = "RANGE is OFFSET+LENGTH or all, as for pin.  The pin is\n"
			"held by this process: it ends when the command ends, in\n"
			"any way.  Prints 'holding FILE RANGE hold=ID pid=PID',\n"
			"then one line per notice (an operation that wants the\n"
			"range: 'notice hold=ID op=OP range=RANGE pid=PID uid=UID\n"
			"deadline=TIME comm=COMM').  SIGINT, SIGTERM or SIGHUP\n"
			"release it ('released hold=ID') and exit 0.  A revoked\n"
			"hold or a lost daemon exits 1.\n\n"
			"      --release-on-break  release at the first notice and\n"
			"                          exit 0\n"
			"  -h, --help              show this help\n",
	},
	{
		.name = "events",
		.fn = ctl_cmd_events,
		.synopsis = "[--follow [--new]] [--json] LOGFILE",
		.summary = "Show the audit trail (audit_log=) as a table",
		.help = "Reads LOGFILE, the JSON Lines file of the mount option\n"
			"audit_log=, and prints one row per event.  A line that is\n"
			"not an event is reported on stderr and skipped (exit 4).\n\n"
			"  -f, --follow  after the end, wait for new events, across\n"
			"                rotation, until SIGINT or SIGTERM\n"
			"  -n, --new     with --follow: skip what LOGFILE holds now\n"
			"  -j, --json    print one normalized JSON object per line\n"
			"  -h, --help    show this help\n",
	},
	{
		.name = "audit",
		.fn = ctl_cmd_audit,
		.synopsis = "[--json] PATH",
		.summary =
			"Check that a mount or backing directory keeps pins safe",
		.help = ctl_audit_help,
	},
	{
		.name = "metrics",
		.fn = ctl_cmd_metrics,
		.synopsis = "MOUNT",
		.summary = "Print the mount's metrics for Prometheus",
		.help = ctl_metrics_help,
	},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i, w = 0, len;

	fprintf(f, "Usage: " PROG " COMMAND [OPTIONS] [ARGS]\n"
		   "Shows and manages the pins of an rdmafs mount.\n\n"
		   "Commands:\n");
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		len = strlen(subcommands[i].name) +
		      strlen(subcommands[i].synopsis) + 1;
		if (len > w)
			w = len;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		len = strlen(subcommands[i].name) +
		      strlen(subcommands[i].synopsis) + 1;
		fprintf(f, "  %s %s%*s  %s\n", subcommands[i].name,
			subcommands[i].synopsis, (int)(w - len), "",
			subcommands[i].summary);
	}
	fprintf(f,
		"\nOptions:\n"
		"  -h, --help      show this help\n"
		"  -V, --version   show the version\n\n"
		"Exit status: 0 ok, 1 failed, 2 wrong usage, 3 not an rdmafs\n"
		"mount, 4 malformed lines in an events LOGFILE; audit: 0 all\n"
		"ok, 1 warnings, 2 a failure.\n"
		"'" PROG " COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	size_t i;
	int c;

	/* widths of non-ASCII file names, in the user's locale */
	setlocale(LC_CTYPE, "");
	opterr = 0;
	/* '+': options after the command name belong to the command */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return ctl_finish_output();
		case 'V':
			printf(PROG " " RDMAFS_VERSION " (librdmafs %s)\n",
			       rdmafs_version());
			return ctl_finish_output();
		default:
			bad_option(PROG, PROG, argv);
			return CTL_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	for (i = 0; i < N_SUBCOMMANDS; i++) {
		if (!strcmp(argv[optind], subcommands[i].name))
			return subcommands[i].fn(&subcommands[i], argc - optind,
						 argv + optind);
	}
	fprintf(stderr, PROG ": unknown command '%s' (see " PROG " --help)\n",
		argv[optind]);
	return CTL_USAGE;
}
