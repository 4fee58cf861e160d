// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command line: rdmafs [-f] [-d] [-o OPT[,OPT...]] BACKING MOUNTPOINT
 *
 * rdmafs's own options are taken out of the argument list here; every
 * other -o option stays in it for libfuse (allow_other, ro, ...), which
 * rejects the ones it does not know.
 */
#include <errno.h>
#include <math.h>
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
	KEY_REMOUNT,
};

/*
 * Upper bounds of the numeric options.  Each keeps a number the daemon
 * converts (seconds to milliseconds in int64, counts to size_t and
 * thread counts) far from overflow, and each is far above any sane use.
 */
#define RFS_MAX_SECONDS 31536000 /* a year */
#define RFS_MAX_FD_CACHE (1u << 20)
#define RFS_MAX_THREADS 1024
#define RFS_MAX_PINS (1u << 24)
#define RFS_DEFAULT_PINS_PER_USER 4096

/*
 * fuse_opt's %u and %lf accept "-1" (as 4294967295), wrap past 2^32 and
 * take "inf" and "nan": every number is taken as a string here and
 * checked by opt_number() instead.
 */
struct opt_state {
	struct rfs_opts o; /* first: opt_proc() is handed the whole state */
	char *timeout, *fd_cache, *threads, *max_pins, *max_pins_per_file,
		*max_pins_per_user;
	/* Mediation (§3), as given: parsed into struct pol, then freed. */
	char *policy, *class_action[POL_NCLASSES], *break_timeout;
	int break_kill;
};

#define RFS_OPT(t, p, v)                              \
	{                                             \
		t, offsetof(struct opt_state, o.p), v \
	}
#define RFS_NUM(t, p)                               \
	{                                           \
		t, offsetof(struct opt_state, p), 0 \
	}
/* Mediation options: parse-time only, like the numbers. */
#define RFS_POL(t, p, v)                            \
	{                                           \
		t, offsetof(struct opt_state, p), v \
	}

static const struct fuse_opt rfs_opt_spec[] = {
	RFS_NUM("timeout=%s", timeout),
	RFS_OPT("writeback", writeback, 1),
	RFS_OPT("no_writeback", writeback, 0),
	RFS_OPT("passthrough", passthrough, 1),
	RFS_OPT("no_passthrough", passthrough, 0),
	RFS_OPT("io_uring", io_uring, 1),
	RFS_OPT("no_io_uring", io_uring, 0),
	RFS_OPT("clone_fd", clone_fd, 1),
	RFS_OPT("no_clone_fd", clone_fd, 0),
	RFS_OPT("splice", splice, 1),
	RFS_OPT("no_splice", splice, 0),
	RFS_NUM("fd_cache=%s", fd_cache),
	RFS_NUM("threads=%s", threads),
	RFS_OPT("audit_log=%s", audit_log, 0),
	RFS_POL("policy=%s", policy, 0),
	RFS_POL("truncate=%s", class_action[POL_TRUNCATE], 0),
	RFS_POL("punch=%s", class_action[POL_PUNCH], 0),
	RFS_POL("reflink=%s", class_action[POL_REFLINK], 0),
	RFS_POL("unlink=%s", class_action[POL_UNLINK], 0),
	RFS_POL("break_timeout=%s", break_timeout, 0),
	RFS_POL("break_kill", break_kill, 1),
	RFS_NUM("max_pins=%s", max_pins),
	RFS_NUM("max_pins_per_file=%s", max_pins_per_file),
	RFS_NUM("max_pins_per_user=%s", max_pins_per_user),
	RFS_OPT("cache=%s", cache_str, 0),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	FUSE_OPT_KEY("remount", KEY_REMOUNT),
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
	       "                              [never: 0, auto: 1, always: 86400;\n"
	       "                              at most 31536000]\n"
	       "  -o no_passthrough           reads, writes and mmap through the\n"
	       "                              daemon, not straight to the backing\n"
	       "                              file [kernel passthrough where\n"
	       "                              libfuse >= 3.17 and the kernel allow]\n"
	       "  -o writeback                kernel writeback cache [off]; it\n"
	       "                              excludes passthrough\n"
	       "  -o io_uring                 serve FUSE over io_uring where the\n"
	       "                              kernel allows (libfuse >= 3.18) [off]\n"
	       "  -o no_splice                copy data instead of splicing it\n"
	       "  -o clone_fd                 a /dev/fuse descriptor per worker\n"
	       "                              thread [off: all share one]\n"
	       "  -o fd_cache=N               idle backing descriptors kept open\n"
	       "                              [half the open-file limit, at most\n"
	       "                              1048576]\n"
	       "  -o threads=N                most worker threads [10, 1 to 1024]\n"
	       "  -o policy=ACTION            refuse|defer|break|audit: what a layout\n"
	       "                              change under a pin meets [refuse]\n"
	       "  -o truncate=ACTION          per class: shrinking truncate\n"
	       "  -o punch=ACTION             fallocate punch-hole/zero-range\n"
	       "  -o reflink=ACTION|copy      copy_file_range [copy]\n"
	       "  -o unlink=ACTION            last unlink, rename over\n"
	       "  -o break_timeout=SECONDS    how long defer/break wait [45,\n"
	       "                              whole seconds, at most 31536000]\n"
	       "  -o break_kill               at a break's timeout, SIGKILL the\n"
	       "                              session holders that did not release\n"
	       "  -o audit_log=PATH           also write the audit trail as JSON\n"
	       "                              Lines to PATH [syslog only]\n"
	       "  -o max_pins=N               pins in the whole mount [65536,\n"
	       "                              at most 16777216]\n"
	       "  -o max_pins_per_file=N      pins on one file [512, at most 512]\n"
	       "  -o max_pins_per_user=N      pins one non-root user may hold\n"
	       "                              [4096, at most max_pins]\n"
	       "  -o remount                  change a live mount's ro/rw, atime,\n"
	       "                              nosuid, nodev, noexec and exit (as\n"
	       "                              mount -o remount runs it); rdmafs\n"
	       "                              options must equal the live ones\n"
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
		o->single = 1;
		return 0;
	case KEY_REMOUNT:
		o->remount = 1;
		return 0;
	}
	return 1;
}

/*
 * Reads option @name's value @val into @out: a whole number (@integer) or
 * a number of seconds, from @min to @max.  Digits only for a whole number
 * (no sign, no blanks, no hex); a finite decimal for seconds.  Prints why
 * and returns -EINVAL otherwise.
 */
static int opt_number(const char *name, const char *val, double min, double max,
		      bool integer, double *out)
{
	unsigned long long n;
	const char *p;
	char *end;
	double d;

	if (!val[0] || val[0] == '-' || val[0] == '+')
		goto bad;
	if (integer) {
		for (p = val; *p; p++)
			if (*p < '0' || *p > '9')
				goto bad;
		errno = 0;
		n = strtoull(val, &end, 10);
		if (errno || *end || (double)n < min || (double)n > max)
			goto bad;
		*out = (double)n;
		return 0;
	}
	if (val[0] < '0' || val[0] > '9')
		goto bad; /* blanks, "inf", "nan", ".5" */
	errno = 0;
	d = strtod(val, &end);
	if (errno || *end || !isfinite(d) || d < min || d > max)
		goto bad;
	*out = d;
	return 0;
bad:
	fprintf(stderr, "rdmafs: bad option '%s=%s': %s from %.0f to %.0f\n",
		name, val, integer ? "a whole number" : "a number of seconds",
		min, max);
	return -EINVAL;
}

/* Builds the policy from policy= and the per-class overrides. */
static int resolve_policy(const struct opt_state *st, struct pol *p)
{
	double t;
	int c;

	pol_default(p);
	if (st->policy && pol_set_base(p, st->policy) < 0) {
		fprintf(stderr,
			"rdmafs: bad option 'policy=%s': use refuse, defer, break or audit\n",
			st->policy);
		return -EINVAL;
	}
	for (c = 0; c < POL_NCLASSES; c++) {
		if (!st->class_action[c])
			continue;
		if (pol_set(p, c, st->class_action[c]) < 0) {
			fprintf(stderr,
				"rdmafs: bad option '%s=%s': use refuse, defer, break, audit%s\n",
				pol_class_name(c), st->class_action[c],
				c == POL_REFLINK ? " or copy" : "");
			return -EINVAL;
		}
	}
	if (st->break_timeout) {
		if (opt_number("break_timeout", st->break_timeout, 0,
			       RFS_MAX_SECONDS, true, &t) < 0)
			return -EINVAL;
		p->break_timeout = (unsigned int)t;
	}
	p->break_kill = st->break_kill;
	return 0;
}

/* Checks and converts the numeric options kept as strings in @st. */
static int parse_numbers(struct opt_state *st)
{
	struct rfs_opts *o = &st->o;
	double v;

	if (st->timeout) {
		if (opt_number("timeout", st->timeout, 0, RFS_MAX_SECONDS,
			       false, &v) < 0)
			return -EINVAL;
		o->timeout = v;
	}
	if (st->fd_cache) {
		/* 0 is the documented "default", as before. */
		if (opt_number("fd_cache", st->fd_cache, 0, RFS_MAX_FD_CACHE,
			       true, &v) < 0)
			return -EINVAL;
		o->fd_cache = (unsigned int)v;
	}
	if (st->threads) {
		if (opt_number("threads", st->threads, 1, RFS_MAX_THREADS, true,
			       &v) < 0)
			return -EINVAL;
		o->max_threads = (unsigned int)v;
	}
	/* -s wins over threads=, wherever it stands. */
	if (o->single)
		o->max_threads = 1;
	if (st->max_pins) {
		if (opt_number("max_pins", st->max_pins, 1, RFS_MAX_PINS, true,
			       &v) < 0)
			return -EINVAL;
		o->max_pins = (unsigned int)v;
	}
	/* A file's pins must fit one xattr value (64 KiB) when listed. */
	if (st->max_pins_per_file) {
		if (opt_number("max_pins_per_file", st->max_pins_per_file, 1,
			       RFS_MAX_PINS_PER_FILE, true, &v) < 0)
			return -EINVAL;
		o->max_pins_per_file = (unsigned int)v;
	}
	if (st->max_pins_per_user) {
		if (opt_number("max_pins_per_user", st->max_pins_per_user, 1,
			       o->max_pins, true, &v) < 0)
			return -EINVAL;
		o->max_pins_per_user = (unsigned int)v;
	} else if (o->max_pins_per_user > o->max_pins) {
		/* Only the default: a smaller max_pins bounds it. */
		o->max_pins_per_user = o->max_pins;
	}
	return 0;
}

/*
 * Kernel passthrough and the writeback cache exclude each other (the
 * kernel refuses passthrough opens on a writeback mount): writeback alone
 * turns passthrough off, both asked for is an error.
 */
static int resolve_data_path(struct rfs_opts *o)
{
	if (o->writeback && o->passthrough == 1) {
		fprintf(stderr,
			"rdmafs: passthrough and writeback exclude each other: choose one\n");
		return -EINVAL;
	}
	/* Asked for by name, a missing feature is an error, not a surprise. */
	if (!RFS_FUSE_PASSTHROUGH && o->passthrough == 1) {
		fprintf(stderr,
			"rdmafs: passthrough needs libfuse >= 3.17; this rdmafs runs on %s\n",
			fuse_pkgversion());
		return -EINVAL;
	}
	if (!RFS_FUSE_URING && o->io_uring) {
		fprintf(stderr,
			"rdmafs: io_uring needs libfuse >= 3.18; this rdmafs runs on %s\n",
			fuse_pkgversion());
		return -EINVAL;
	}
	o->passthrough_asked = o->passthrough == 1;
	if (o->passthrough < 0)
		o->passthrough = !o->writeback && RFS_FUSE_PASSTHROUGH;
	return 0;
}

int rfs_parse_opts(struct fuse_args *args, struct rfs_opts *o, struct pol *pol)
{
	struct opt_state st;
	int err = -EINVAL, c;

	memset(&st, 0, sizeof(st));
	st.o.cache = RFS_CACHE_AUTO;
	st.o.timeout = -1;
	st.o.splice = 1;
	st.o.passthrough = -1;
	st.o.max_threads = 10;
	st.o.max_pins = 65536;
	st.o.max_pins_per_file = RFS_MAX_PINS_PER_FILE;
	st.o.max_pins_per_user = RFS_DEFAULT_PINS_PER_USER;
	if (fuse_opt_parse(args, &st, rfs_opt_spec, opt_proc) < 0)
		goto out;
	if (parse_numbers(&st) < 0)
		goto out;
	if (st.o.cache_str) {
		if (strcmp(st.o.cache_str, "never") == 0) {
			st.o.cache = RFS_CACHE_NEVER;
		} else if (strcmp(st.o.cache_str, "auto") == 0) {
			st.o.cache = RFS_CACHE_AUTO;
		} else if (strcmp(st.o.cache_str, "always") == 0) {
			st.o.cache = RFS_CACHE_ALWAYS;
		} else {
			fprintf(stderr,
				"rdmafs: bad option 'cache=%s': use never, auto or always\n",
				st.o.cache_str);
			goto out;
		}
	}
	if (st.o.audit_log && st.o.audit_log[0] != '/') {
		/* The daemon leaves its directory: keep the path meaningful. */
		char *cwd = getcwd(NULL, 0), *abs;

		if (!cwd || asprintf(&abs, "%s/%s", cwd, st.o.audit_log) < 0) {
			free(cwd);
			err = -ENOMEM;
			goto out;
		}
		free(cwd);
		free(st.o.audit_log);
		st.o.audit_log = abs;
	}
	if (resolve_policy(&st, pol) < 0)
		goto out;
	if (resolve_data_path(&st.o) < 0)
		goto out;
	/* mount(8) names BACKING too; by hand "-o remount MNT" is enough. */
	if (st.o.remount && st.o.backing && !st.o.mountpoint) {
		st.o.mountpoint = st.o.backing;
		st.o.backing = NULL;
	}
	if ((!st.o.backing && !st.o.remount) || !st.o.mountpoint) {
		fprintf(stderr,
			"rdmafs: need BACKING and MOUNTPOINT (see rdmafs --help)\n");
		goto out;
	}
	err = 0;
out:
	free(st.timeout);
	free(st.fd_cache);
	free(st.threads);
	free(st.max_pins);
	free(st.max_pins_per_file);
	free(st.max_pins_per_user);
	free(st.policy);
	free(st.break_timeout);
	for (c = 0; c < POL_NCLASSES; c++)
		free(st.class_action[c]);
	/* The caller frees *o's strings, on error too. */
	*o = st.o;
	return err;
}

void rfs_free_opts(struct rfs_opts *o)
{
	free(o->backing);
	free(o->mountpoint);
	free(o->cache_str);
	free(o->audit_log);
}
