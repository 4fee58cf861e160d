// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command line: rdmafs [-f] [-d] [-o OPT[,OPT...]] BACKING MOUNTPOINT
 *
 * rdmafs's own options are taken out of the argument list here; every
 * other -o option stays in it for libfuse (allow_other, ro, ...), which
 * rejects the ones it does not know.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdmafs.h"

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_FOREGROUND,
	KEY_DEBUG,
	KEY_SINGLE,
};

#define RFS_OPT(t, p, v)                           \
	{                                          \
		t, offsetof(struct rfs_opts, p), v \
	}

static const struct fuse_opt rfs_opt_spec[] = {
	RFS_OPT("timeout=%lf", timeout, 0),
	RFS_OPT("writeback", writeback, 1),
	RFS_OPT("no_writeback", writeback, 0),
	RFS_OPT("splice", splice, 1),
	RFS_OPT("no_splice", splice, 0),
	RFS_OPT("fd_cache=%u", fd_cache, 0),
	RFS_OPT("threads=%u", max_threads, 0),
	RFS_OPT("audit_log=%s", audit_log, 0),
	RFS_OPT("policy=%s", policy, 0),
	RFS_OPT("truncate=%s", class_action[POL_TRUNCATE], 0),
	RFS_OPT("punch=%s", class_action[POL_PUNCH], 0),
	RFS_OPT("reflink=%s", class_action[POL_REFLINK], 0),
	RFS_OPT("unlink=%s", class_action[POL_UNLINK], 0),
	RFS_OPT("break_timeout=%s", break_timeout, 0),
	RFS_OPT("break_kill", break_kill, 1),
	RFS_OPT("max_pins=%u", max_pins, 0),
	RFS_OPT("max_pins_per_file=%u", max_pins_per_file, 0),
	RFS_OPT("cache=%s", cache_str, 0),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	FUSE_OPT_END
};

void rfs_usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-s] [-o OPT[,OPT...]] BACKING MOUNTPOINT\n"
	       "\n"
	       "Serve the directory BACKING at MOUNTPOINT (they may be the same path).\n"
	       "\n"
	       "  -f                 stay in the foreground\n"
	       "  -d, -o debug       print every request (implies -f)\n"
	       "  -s                 serve requests on a single thread\n"
	       "  -h, --help         this help\n"
	       "  -V, --version      print the version\n"
	       "\n"
	       "rdmafs options:\n"
	       "  -o cache=never|auto|always  kernel caching of names, attributes\n"
	       "                              and data [auto]\n"
	       "  -o timeout=SECONDS          attribute and name cache lifetime\n"
	       "                              [never: 0, auto: 1, always: 86400]\n"
	       "  -o writeback                kernel writeback cache [off]\n"
	       "  -o no_splice                copy data instead of splicing it\n"
	       "  -o fd_cache=N               idle backing descriptors kept open\n"
	       "                              [half the open-file limit]\n"
	       "  -o threads=N                most worker threads [10]\n"
	       "  -o policy=ACTION            refuse|defer|break|audit: what a layout\n"
	       "                              change under a pin meets [refuse]\n"
	       "  -o truncate=ACTION          per class: shrinking truncate\n"
	       "  -o punch=ACTION             fallocate punch-hole/zero-range\n"
	       "  -o reflink=ACTION|copy      copy_file_range [copy]\n"
	       "  -o unlink=ACTION            last unlink, rename over\n"
	       "  -o break_timeout=SECONDS    how long defer/break wait [45]\n"
	       "  -o break_kill               (accepted; acts on session holders,\n"
	       "                              a later feature)\n"
	       "  -o audit_log=PATH           also write the audit trail as JSON\n"
	       "                              Lines to PATH [syslog only]\n"
	       "  -o max_pins=N               pins in the whole mount [65536]\n"
	       "  -o max_pins_per_file=N      pins on one file [512, at most 512]\n"
	       "\n"
	       "Other -o options go to FUSE: allow_other, ro, ... (see fuse(8)).\n",
	       prog);
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct rfs_opts *o = data;

	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->backing) {
			o->backing = strdup(arg);
			return 0;
		}
		if (!o->mountpoint) {
			o->mountpoint = strdup(arg);
			return 0;
		}
		fprintf(stderr, "rdmafs: unexpected argument '%s'\n", arg);
		return -1;
	case KEY_HELP:
		rfs_usage(outargs->argv[0]);
		exit(0);
	case KEY_VERSION:
		printf("rdmafs version %s\n", RDMAFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		exit(0);
	case KEY_FOREGROUND:
		o->foreground = 1;
		return 0;
	case KEY_DEBUG:
		o->debug = 1;
		o->foreground = 1;
		/* libfuse prints the requests when it sees -d too. */
		return 1;
	case KEY_SINGLE:
		o->max_threads = 1;
		return 0;
	}
	return 1;
}

/* Builds the policy from policy= and the per-class overrides. */
static int resolve_policy(struct rfs_opts *o, struct pol *p)
{
	static const char *const names[POL_NCLASSES] = { "truncate", "punch",
							 "reflink", "unlink" };
	unsigned long t;
	char *end;
	int c;

	pol_default(p);
	o->policy_default = POL_REFUSE;
	if (o->policy) {
		struct pol probe;

		pol_default(&probe);
		if (pol_set(&probe, POL_TRUNCATE, o->policy) < 0) {
			fprintf(stderr,
				"rdmafs: bad option 'policy=%s': use refuse, defer, break or audit\n",
				o->policy);
			return -EINVAL;
		}
		o->policy_default = probe.action[POL_TRUNCATE];
		/* policy= sets every class; reflink keeps copy unless asked. */
		for (c = 0; c < POL_NCLASSES; c++)
			if (c != POL_REFLINK)
				pol_set(p, c, o->policy);
	}
	for (c = 0; c < POL_NCLASSES; c++) {
		if (!o->class_action[c])
			continue;
		if (pol_set(p, c, o->class_action[c]) < 0) {
			fprintf(stderr,
				"rdmafs: bad option '%s=%s': use refuse, defer, break, audit%s\n",
				names[c], o->class_action[c],
				c == POL_REFLINK ? " or copy" : "");
			return -EINVAL;
		}
	}
	if (o->break_timeout) {
		errno = 0;
		t = strtoul(o->break_timeout, &end, 10);
		if (errno || end == o->break_timeout || *end ||
		    o->break_timeout[0] == '-' || t > 86400 * 365) {
			fprintf(stderr,
				"rdmafs: bad option 'break_timeout=%s': a number of seconds\n",
				o->break_timeout);
			return -EINVAL;
		}
		p->break_timeout = (unsigned int)t;
	}
	p->break_kill = o->break_kill;
	return 0;
}

int rfs_parse_opts(struct fuse_args *args, struct rfs_opts *o, struct pol *pol)
{
	memset(o, 0, sizeof(*o));
	o->cache = RFS_CACHE_AUTO;
	o->timeout = -1;
	o->splice = 1;
	o->max_threads = 10;
	o->max_pins = 65536;
	o->max_pins_per_file = RFS_MAX_PINS_PER_FILE;
	if (fuse_opt_parse(args, o, rfs_opt_spec, opt_proc) < 0)
		return -EINVAL;
	if (o->cache_str) {
		if (strcmp(o->cache_str, "never") == 0) {
			o->cache = RFS_CACHE_NEVER;
		} else if (strcmp(o->cache_str, "auto") == 0) {
			o->cache = RFS_CACHE_AUTO;
		} else if (strcmp(o->cache_str, "always") == 0) {
			o->cache = RFS_CACHE_ALWAYS;
		} else {
			fprintf(stderr,
				"rdmafs: bad option 'cache=%s': use never, auto or always\n",
				o->cache_str);
			return -EINVAL;
		}
	}
	if (o->timeout < 0 && o->timeout != -1) {
		fprintf(stderr, "rdmafs: timeout must not be negative\n");
		return -EINVAL;
	}
	if (o->audit_log && o->audit_log[0] != '/') {
		/* The daemon leaves its directory: keep the path meaningful. */
		char *cwd = getcwd(NULL, 0), *abs;

		if (!cwd || asprintf(&abs, "%s/%s", cwd, o->audit_log) < 0) {
			free(cwd);
			return -ENOMEM;
		}
		free(cwd);
		free(o->audit_log);
		o->audit_log = abs;
	}
	if (resolve_policy(o, pol) < 0)
		return -EINVAL;
	if (!o->backing || !o->mountpoint) {
		fprintf(stderr,
			"rdmafs: need BACKING and MOUNTPOINT (see rdmafs --help)\n");
		return -EINVAL;
	}
	/* A file's pins must fit one xattr value (64 KiB) when listed. */
	if (o->max_pins_per_file == 0 ||
	    o->max_pins_per_file > RFS_MAX_PINS_PER_FILE) {
		fprintf(stderr, "rdmafs: max_pins_per_file must be 1 to %u\n",
			RFS_MAX_PINS_PER_FILE);
		return -EINVAL;
	}
	if (o->max_threads == 0) {
		fprintf(stderr, "rdmafs: threads must be at least 1\n");
		return -EINVAL;
	}
	return 0;
}

void rfs_free_opts(struct rfs_opts *o)
{
	int c;

	free(o->backing);
	free(o->mountpoint);
	free(o->cache_str);
	free(o->audit_log);
	free(o->policy);
	free(o->break_timeout);
	for (c = 0; c < POL_NCLASSES; c++)
		free(o->class_action[c]);
}
