// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafs-mr: an RDMA memory region on a held range of a file in an
 * rdmafs mount (DESIGN §10), and a peer that writes into it.  This file
 * parses the command line; see rdmafs-mr.h for the others and
 * doc/rdmafs-mr.1.rst for the lines it prints and its exit statuses.
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdmafs/rdmafs_mr.h"
#include "rdmafs-mr.h"

static const char usage_text[] =
	"Usage: " PROG " serve [OPTIONS] FILE RANGE\n"
	"       " PROG " write [OPTIONS] HOST:PORT\n"
	"       " PROG " -h|--help | -V|--version\n"
	"\n"
	"serve: hold RANGE (OFFSET+LENGTH or all, e.g. 0+1M) of FILE, a file in\n"
	"an rdmafs mount, in a session; map it through the mount; register it\n"
	"as an RDMA memory region (plain, else on-demand paging); print what a\n"
	"peer needs; take RDMA writes from peers connecting over TCP on\n"
	"127.0.0.1; on a break notice quiesce, deregister, release and exit 0.\n"
	"write: connect to a target, RDMA-write known data into its whole\n"
	"region, and exit 0 once the target synced it.\n"
	"\n"
	"Options:\n"
	"  -d, --ib-dev=DEV       use RDMA device DEV (default: the first)\n"
	"  -i, --ib-port=N        use port N of the device (default 1)\n"
	"  -g, --gid-idx=N        use GID index N (default: a RoCE v2 IPv4\n"
	"                         GID if any; none on InfiniBand)\n"
	"  -p, --port=N           serve: listen on TCP port N (default 18515)\n"
	"      --odp              serve: register with ODP only\n"
	"      --no-odp           serve: plain registration only\n"
	"      --ignore-notices   serve: keep holding on notices (tests)\n"
	"  -P, --pattern=BYTE     write: fill with BYTE (default 0xa5)\n"
	"  -s, --seed=N           write: 32-byte records of N and the offset\n"
	"  -t, --timeout=SECONDS  write: wait for a completion (default 30)\n"
	"\n"
	"Exit status: 0 done (serve: released on a notice or a signal);\n"
	"1 a failure, e.g. no RDMA device; 2 usage; 3 FILE is not on an\n"
	"rdmafs mount; 4 the region could not be registered (the message\n"
	"gives the kernel's reason); 5 the hold ended without a release.\n";

enum { OPT_ODP = 256, OPT_NO_ODP, OPT_IGNORE };

/* parse(): --help or --version was served, exit 0 */
#define PARSE_DONE (-1)

static const struct option options[] = {
	{ "ib-dev", required_argument, NULL, 'd' },
	{ "ib-port", required_argument, NULL, 'i' },
	{ "gid-idx", required_argument, NULL, 'g' },
	{ "port", required_argument, NULL, 'p' },
	{ "odp", no_argument, NULL, OPT_ODP },
	{ "no-odp", no_argument, NULL, OPT_NO_ODP },
	{ "ignore-notices", no_argument, NULL, OPT_IGNORE },
	{ "pattern", required_argument, NULL, 'P' },
	{ "seed", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see " PROG " --help)\n");
	return MR_USAGE;
}

/* A number in [min, max], decimal or 0x-hex; -1 (after a message) if not. */
static long number(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long v;

	v = strtol(arg, &end, 0);
	if (!*arg || *end || v < min || v > max) {
		fprintf(stderr,
			PROG ": --%s wants a number from %ld to %ld, not '%s' "
			     "(see " PROG " --help)\n",
			opt, min, max, arg);
		return -1;
	}
	return v;
}

/* Options valid for @cmd ("serve" or "write"): MR_OK or MR_USAGE. */
static int check_opt(const char *cmd, int c)
{
	bool serve = !strcmp(cmd, "serve");

	if (serve && (c == 'P' || c == 's' || c == 't'))
		return usage_error("--pattern, --seed and --timeout are for "
				   "write, not %s",
				   cmd);
	if (!serve &&
	    (c == 'p' || c == OPT_ODP || c == OPT_NO_ODP || c == OPT_IGNORE))
		return usage_error("--port, --odp, --no-odp and "
				   "--ignore-notices are for serve, not %s",
				   cmd);
	return MR_OK;
}

static int parse(int argc, char **argv, struct mr_opts *o)
{
	const char *cmd = argv[0];
	bool seed = false, pattern = false;
	long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d:i:g:p:P:s:t:hV", options,
				NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return fflush(stdout) ? MR_FAILED : PARSE_DONE;
		}
		if (c == '?' || c == ':')
			return usage_error("bad option or missing argument: %s",
					   argv[optind - 1]);
		if (c != 'd' && c != 'i' && c != 'g' && c != 'V' &&
		    check_opt(cmd, c))
			return MR_USAGE;
		v = 0;
		switch (c) {
		case 'd':
			o->dev = optarg;
			break;
		case 'i':
			v = o->ib_port = (int)number("ib-port", optarg, 1, 255);
			break;
		case 'g':
			v = o->gid_index =
				(int)number("gid-idx", optarg, 0, 255);
			break;
		case 'p':
			v = o->tcp_port = (int)number("port", optarg, 1, 65535);
			break;
		case OPT_ODP:
			o->reg_flags = RDMAFS_MR_ODP_ONLY;
			break;
		case OPT_NO_ODP:
			o->reg_flags = RDMAFS_MR_PLAIN_ONLY;
			break;
		case OPT_IGNORE:
			o->ignore_notices = true;
			break;
		case 'P':
			v = o->pattern = (int)number("pattern", optarg, 0, 255);
			pattern = true;
			break;
		case 's':
			v = number("seed", optarg, 0, UINT32_MAX);
			o->seed = (uint32_t)v;
			o->pattern = -1;
			seed = true;
			break;
		case 't':
			v = o->timeout =
				(int)number("timeout", optarg, 1, 3600);
			break;
		case 'V':
			printf(PROG " %s\n", rdmafs_version());
			return fflush(stdout) ? MR_FAILED : PARSE_DONE;
		}
		if (v < 0)
			return MR_USAGE;
	}
	if (seed && pattern)
		return usage_error("--pattern and --seed exclude each other");
	return MR_OK;
}

int main(int argc, char **argv)
{
	struct mr_opts o = { .ib_port = 1,
			     .gid_index = -1,
			     .tcp_port = MR_DEFAULT_PORT,
			     .pattern = 0xa5,
			     .timeout = 30 };
	const char *cmd = argc > 1 ? argv[1] : "";
	int ret, nargs;

	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage_text, stdout);
		return fflush(stdout) ? MR_FAILED : MR_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf(PROG " %s\n", rdmafs_version());
		return fflush(stdout) ? MR_FAILED : MR_OK;
	}
	if (strcmp(cmd, "serve") && strcmp(cmd, "write"))
		return *cmd ? usage_error("unknown command '%s'", cmd)
			    : usage_error("a command is needed");
	ret = parse(argc - 1, argv + 1, &o);
	if (ret == PARSE_DONE)
		return MR_OK;
	if (ret)
		return ret;
	nargs = argc - 1 - optind;
	if (!strcmp(cmd, "serve")) {
		if (nargs != 2)
			return usage_error("serve wants FILE and RANGE");
		return mr_serve(&o, argv[1 + optind], argv[2 + optind]);
	}
	if (nargs != 1)
		return usage_error("write wants HOST:PORT");
	if (!strchr(argv[1 + optind], ':') || argv[1 + optind][0] == ':')
		return usage_error("malformed '%s': want HOST:PORT",
				   argv[1 + optind]);
	return mr_write(&o, argv[1 + optind]);
}
