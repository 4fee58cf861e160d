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
 * value the daemon started with.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

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

int rfs_remount(const struct rfs_opts *o, const struct fuse_args *args)
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
