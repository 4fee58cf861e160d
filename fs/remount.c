// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * "mount -o remount,ro MNT" on an rdmafs mount makes mount(8) run
 * mount.fuse3, which starts "rdmafs BACKING MNT -o ro,...,remount,...": a
 * second daemon, which would be refused.  Instead rdmafs then changes the
 * live mount with mount(2) MS_REMOUNT, as mount(8) does for a kernel
 * filesystem, and exits without starting anything.
 *
 * FUSE's reconfigure (fs/fuse/inode.c, fuse_reconfigure) accepts the
 * superblock's ro/rw (and sync, lazytime) and, for the old mount(2) API,
 * ignores the data string; the per-mount flags (nosuid, nodev, noexec,
 * the atime ones, nosymfollow) are the VFS's and change with the same
 * call.  So only those can change; everything FUSE or rdmafs parses at
 * mount time (allow_other, cache=, policy=, max_pins=, ...) keeps the
 * value the daemon started with.  An rdmafs option given with a value
 * other than the live one is refused (exit 1) rather than silently not
 * applied; the same value is accepted, because mount(8) passes an fstab
 * line's options again on "mount -o remount,ro".  And BACKING, when given,
 * must be what the mount serves: a remount names the mount it changes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "rdmafs.h"

#define ATIME_MASK (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

struct flag_opt {
	const char *name;
	unsigned long set, clear;
};

/* As mount(8) reads them; the last one given wins. */
static const struct flag_opt flag_opts[] = {
	{ "ro", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },
	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },
	{ "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },
	{ "async", 0, MS_SYNCHRONOUS },
	{ "lazytime", MS_LAZYTIME, 0 },
	{ "nolazytime", 0, MS_LAZYTIME },
	{ "nosymfollow", MS_NOSYMFOLLOW, 0 },
	{ "symfollow", 0, MS_NOSYMFOLLOW },
	{ "noatime", MS_NOATIME, ATIME_MASK },
	{ "relatime", MS_RELATIME, ATIME_MASK },
	{ "strictatime", MS_STRICTATIME, ATIME_MASK },
	{ "atime", 0, MS_NOATIME },
	{ "norelatime", 0, MS_RELATIME },
	{ "nostrictatime", 0, MS_STRICTATIME },
	{ "nodiratime", MS_NODIRATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME },
};

/* Undoes mountinfo's octal escapes (\040 for a blank) in place. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					(s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* The source (fsname) of the rdmafs mount at @path into @src. */
static bool mount_source(const char *path, char *src, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[3 * 4096], mnt[4096], fstype[256], source[4096];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%255s %4095s", fstype, source) != 2)
			continue;
		unescape(mnt);
		if (strcmp(mnt, path) != 0)
			continue;
		found = strcmp(fstype, "fuse.rdmafs") == 0;
		if (found) {
			unescape(source);
			snprintf(src, size, "%s", source);
		}
	}
	fclose(f);
	return found;
}

/*
 * BACKING given with the remount must be the directory the mount at
 * @real serves, as its source (the daemon's full path of BACKING) says.
 */
static int check_backing(const char *backing, const char *real)
{
	char src[4096], breal[PATH_MAX];
	struct stat a, b;

	if (!backing)
		return 0;
	if (!mount_source(real, src, sizeof(src)) || src[0] != '/') {
		fprintf(stderr,
			"rdmafs: couldn't remount %s: couldn't tell which directory it serves\n",
			real);
		return -1;
	}
	if (realpath(backing, breal) && strcmp(breal, src) == 0)
		return 0;
	/* Another name of the same directory (a bind mount). */
	if (stat(backing, &a) == 0 && stat(src, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	fprintf(stderr, "rdmafs: couldn't remount %s: it serves %s, not %s\n",
		real, src, backing);
	return -1;
}

/* The value of @key in the status text @st ("key=value" lines). */
static const char *status_value(const char *st, const char *key, char *val,
				size_t size)
{
	size_t n = strlen(key), len;
	const char *p = st;

	while (*p) {
		len = strcspn(p, "\n");
		if (len > n && strncmp(p, key, n) == 0 && p[n] == '=') {
			snprintf(val, size, "%.*s", (int)(len - n - 1),
				 p + n + 1);
			return val;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return NULL;
}

/* The options the daemon reports in its status, as this remount sets them. */
static bool wanted_value(const char *key, const struct rfs_opts *o,
			 const struct pol *pol, char *val, size_t size)
{
	if (pol_value(pol, key, val, size) == 0)
		return true;
	if (strcmp(key, "max_pins") == 0)
		snprintf(val, size, "%u", o->max_pins);
	else if (strcmp(key, "max_pins_per_file") == 0)
		snprintf(val, size, "%u", o->max_pins_per_file);
	else if (strcmp(key, "max_pins_per_user") == 0)
		snprintf(val, size, "%u", o->max_pins_per_user);
	else
		return false;
	return true;
}

/* rdmafs's options that the status does not report. */
static bool unreported(const char *key)
{
	static const char *const keys[] = {
		"cache",       "timeout",     "writeback",	"no_writeback",
		"splice",      "no_splice",   "fd_cache",	"threads",
		"audit_log",   "passthrough", "no_passthrough", "io_uring",
		"no_io_uring", "clone_fd",    "no_clone_fd"
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/*
 * Each rdmafs option in the -o strings of @argv must have its live value
 * (from the mount root's user.rdmafs.status): it cannot change without a
 * new daemon.  Names every one that differs; returns -1 if any does.
 */
static int check_opts(const char *real, const struct rfs_opts *o,
		      const struct pol *pol, int argc, char *argv[])
{
	char st[16384], key[64], want[64], live[64];
	const char *p;
	ssize_t n = -1;
	int i, bad = 0;
	size_t len, klen;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-o") == 0 && i + 1 < argc)
			p = argv[++i];
		else if (strncmp(a, "-o", 2) == 0)
			p = a + 2;
		else
			continue;
		for (; *p; p += len + (p[len] == ',')) {
			len = strcspn(p, ",");
			klen = strcspn(p, "=,");
			if (klen >= sizeof(key))
				continue;
			snprintf(key, sizeof(key), "%.*s", (int)klen, p);
			if (unreported(key)) {
				fprintf(stderr,
					"rdmafs: warning: %.*s is not checked on remount: the live mount keeps the value it was started with\n",
					(int)len, p);
				continue;
			}
			if (!wanted_value(key, o, pol, want, sizeof(want)))
				continue;
			if (n < 0) {
				n = getxattr(real, PROTO_STATUS, st,
					     sizeof(st) - 1);
				if (n < 0) {
					fprintf(stderr,
						"rdmafs: couldn't remount %s: couldn't read its options (user.rdmafs.status): %s\n",
						real, strerror(errno));
					return -1;
				}
				st[n] = '\0';
			}
			if (!status_value(st, key, live, sizeof(live)) ||
			    strcmp(live, want) != 0) {
				fprintf(stderr,
					"rdmafs: cannot change %s on a live mount (it is %s, %s asked): unmount and mount again\n",
					key,
					status_value(st, key, live,
						     sizeof(live))
						? live
						: "unknown",
					want);
				bad = 1;
			}
		}
	}
	return bad ? -1 : 0;
}

bool rfs_is_rdmafs_mount(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[PATH_MAX], fstype[256];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%255s", fstype) != 1)
			continue;
		/* The last mount on the path is the visible one. */
		if (strcmp(mnt, path) == 0)
			found = strcmp(fstype, "fuse.rdmafs") == 0;
	}
	fclose(f);
	return found;
}

/* The flags the mount has now, so that options not given are kept. */
static unsigned long current_flags(const char *mnt)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ ST_RDONLY, MS_RDONLY },
		{ ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC },
		{ ST_SYNCHRONOUS, MS_SYNCHRONOUS },
		{ ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
#ifdef ST_NOSYMFOLLOW
		{ ST_NOSYMFOLLOW, MS_NOSYMFOLLOW },
#endif
	};
	struct statvfs sv;
	unsigned long fl = 0;
	size_t i;

	if (statvfs(mnt, &sv) < 0)
		return 0;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (sv.f_flag & map[i].st)
			fl |= map[i].ms;
	/* Neither noatime nor relatime: strictatime. */
	if (!(fl & (MS_NOATIME | MS_RELATIME)))
		fl |= MS_STRICTATIME;
	return fl;
}

/* Applies the comma-separated options in @opts to @fl. */
static void apply_opts(const char *opts, unsigned long *fl)
{
	const char *p = opts;
	size_t len, i;

	while (*p) {
		len = strcspn(p, ",");
		for (i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++) {
			const struct flag_opt *f = &flag_opts[i];

			if (strlen(f->name) == len &&
			    strncmp(p, f->name, len) == 0) {
				*fl = (*fl & ~f->clear) | f->set;
				break;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

int rfs_remount(const struct rfs_opts *o, const struct pol *pol,
		const struct fuse_args *args, int argc, char *argv[])
{
	char real[PATH_MAX];
	unsigned long fl;
	int i;

	if (!realpath(o->mountpoint, real)) {
		fprintf(stderr, "rdmafs: couldn't remount %s: %s\n",
			o->mountpoint, strerror(errno));
		return 1;
	}
	if (!rfs_is_rdmafs_mount(real)) {
		fprintf(stderr,
			"rdmafs: couldn't remount %s: no rdmafs is mounted there\n",
			real);
		return 1;
	}
	if (check_backing(o->backing, real) < 0 ||
	    check_opts(real, o, pol, argc, argv) < 0)
		return 1;
	fl = current_flags(real);
	/* fuse_opt left the options it did not take as "-o" "a,b,c". */
	for (i = 1; i < args->argc; i++) {
		const char *a = args->argv[i];

		if (strcmp(a, "-o") == 0 && i + 1 < args->argc)
			apply_opts(args->argv[++i], &fl);
		else if (strncmp(a, "-o", 2) == 0)
			apply_opts(a + 2, &fl);
	}
	if (mount(NULL, real, NULL, MS_REMOUNT | fl, NULL) < 0) {
		int err = errno;

		fprintf(stderr, "rdmafs: couldn't remount %s: %s%s\n", real,
			strerror(err),
			err == EPERM   ? " (a remount needs root)"
			: err == EBUSY ? " (files are open for writing)"
				       : "");
		return 1;
	}
	return 0;
}
