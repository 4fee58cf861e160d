/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What rdmafsctl's commands share: the command table's row, the exit
 * statuses (doc/rdmafsctl.1.rst, EXIT STATUS) and the argument parsing
 * and error reporting every command does the same way.
 */
#ifndef RDMAFS_CTL_H
#define RDMAFS_CTL_H

#include <stdbool.h>

#define PROG "rdmafsctl"

/* Exit statuses: one meaning each, for every command. */
enum {
	CTL_OK = 0,
	CTL_FAILED = 1, /* the operation failed: the message says why */
	CTL_USAGE = 2, /* wrong usage: options, arguments, a malformed RANGE */
	CTL_NOT_RDMAFS = 3, /* the path is not on an rdmafs mount */
	CTL_MALFORMED = 4, /* events: lines that were not events, skipped */
};

struct subcommand {
	const char *name;
	int (*fn)(const struct subcommand *cmd, int argc, char **argv);
	const char *synopsis; /* arguments after the name */
	const char *summary; /* one line for rdmafsctl --help */
	const char *help; /* the options, for rdmafsctl NAME --help */
};

/* Flags a command accepts, for ctl_parse_args(). */
enum {
	CTL_OPT_JSON = 1 << 0,
	CTL_OPT_FOLLOW = 1 << 1,
	CTL_OPT_NEW = 1 << 2,
	CTL_OPT_RELEASE = 1 << 3, /* --release-on-break */
};

struct ctl_args {
	bool json, follow, new_only, release_on_break;
	char **pos; /* the positional arguments */
	int npos;
};

/*
 * Parses @argv (the command's name first) for the options in @accept
 * (and --help) and requires @min_pos to @max_pos positional arguments,
 * which @what names in the message when they are wrong ("MOUNT").
 * Returns -1 to go on, else the exit status (--help, a usage error).
 */
int ctl_parse_args(const struct subcommand *cmd, int argc, char **argv,
		   int accept, int min_pos, int max_pos, const char *what,
		   struct ctl_args *args);

/* "rdmafsctl CMD: MESSAGE (see rdmafsctl CMD --help)"; returns CTL_USAGE. */
int ctl_usage_error(const struct subcommand *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * "rdmafsctl: Couldn't WHAT: REASON" with rdmafs_strerror(@err) as the
 * reason; returns the exit status for @err: CTL_NOT_RDMAFS for -ENOTSUP,
 * else CTL_FAILED.
 */
int ctl_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * ctl_fail() for a pin or hold of @file: there, EOPNOTSUPP from a file
 * on an rdmafs mount says the backing cannot pin (CTL_FAILED).
 */
int ctl_fail_pin(int err, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Flushes stdout; CTL_OK, or CTL_FAILED with a message. */
int ctl_finish_output(void);

/* The commands, one file each (or one per group). */
int ctl_cmd_pins(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_status(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_pin(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_unpin(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_events(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_hold(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_audit(const struct subcommand *cmd, int argc, char **argv);
int ctl_cmd_metrics(const struct subcommand *cmd, int argc, char **argv);

/* The --help text of commands whose help lives with them. */
extern const char ctl_audit_help[];
extern const char ctl_metrics_help[];

#endif
