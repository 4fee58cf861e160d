/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmafsctl audit: what its files share.  ctl_audit.c runs the checks in
 * order and prints them; each check adds one item (a verdict, a reason
 * for a storage admin naming the fix, and facts for --json) to the
 * struct audit every check reads.  ctl_audit.c also finds the backing
 * (by identity); the checks of the filesystem underneath (and the
 * mountinfo parser) are in ctl_audit_fs.c, those of mounts and processes
 * in ctl_audit_proc.c, those of the kernel's FUSE, lease-break-time and
 * the RDMA devices in ctl_audit_rdma.c.
 */
#ifndef RDMAFS_CTL_AUDIT_H
#define RDMAFS_CTL_AUDIT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rdmafs/rdmafs.h"

enum audit_verdict { AUDIT_OK, AUDIT_WARNING, AUDIT_FAILURE };

/* A fact of an item for --json: its key and its JSON text. */
struct audit_fact {
	char *key;
	char *json;
};

struct audit_item {
	const char *check;
	enum audit_verdict verdict;
	char *reason;
	struct audit_fact *facts;
	size_t nfacts;
};

/* One line of mountinfo, unescaped. */
struct audit_mnt {
	int id; /* the mount id, as statx's STATX_MNT_ID gives it */
	unsigned int major, minor;
	char *root, *mountpoint, *fstype, *source, *opts, *superopts;
};

struct audit {
	const char *path; /* as given */
	bool is_mount; /* PATH is on an rdmafs mount */
	bool root; /* euid 0: the scans can be complete */
	/* A mount: its status, pins, daemon and paths (unescaped). */
	struct rdmafs_status *st;
	struct rdmafs_pin *pins;
	size_t npins;
	int pins_err;
	pid_t daemon;
	/* the pid holds a descriptor of the backing: it is the daemon here */
	bool daemon_ok;
	/* backing_dev, backing_ino of the status: the daemon's fstat */
	bool have_id;
	dev_t want_dev;
	ino_t want_ino;
	dev_t fuse_dev; /* st_dev of the mount itself */
	char *backing; /* the backing directory; for a plain PATH its realpath */
	char *mountpoint; /* the mount's; NULL for a plain PATH */
	/* The backing, reached through the daemon's descriptor or a path. */
	int bfd; /* O_RDONLY|O_DIRECTORY, or -1 */
	char via[PATH_MAX]; /* how it was reached, for the reasons */
	char why_not[512]; /* why it was not, when bfd is -1 */
	struct stat bst;
	/*
	 * Where the backing is now: its path here (it may have been renamed
	 * since the mount) and inside its filesystem ("/" for the root);
	 * NULL when it could not be placed.
	 */
	char *bpath, *rel;
	bool have_mnt; /* bmnt: the backing's line of mountinfo */
	struct audit_mnt bmnt;
	/* The probe file of the dax check, for map-sync; -1 when none. */
	int probe;
	char probe_how[128];
	bool probe_dax;
	/* The result. */
	struct audit_item *items;
	size_t nitems, cap;
	bool nomem;
};

/* Adds an item with a printf reason; later audit_fact_*() go to it. */
void audit_add(struct audit *a, const char *check, enum audit_verdict v,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void audit_fact_str(struct audit *a, const char *key, const char *val);
void audit_fact_num(struct audit *a, const char *key, int64_t val);
void audit_fact_bool(struct audit *a, const char *key, bool val);
/* @json is taken as it is (an array built by the check). */
void audit_fact_json(struct audit *a, const char *key, const char *json);
/* @s as a JSON string (quotes included), malloc'd, or NULL. */
char *audit_json_str(const char *s);

/* A value of the mount's status, or NULL. */
const char *audit_status(const struct audit *a, const char *key);

/* ctl_audit.c: the backing, by the identity of the daemon's descriptor */
void audit_reach_backing(struct audit *a);
/* 0: /proc/@pid/fd holds a descriptor of @dev/@ino (its path in @out). */
int audit_pid_holds(pid_t pid, dev_t dev, ino_t ino, char *out, size_t size);
/* @path ("" or "/...") is @dir or below it ("/" holds everything). */
bool audit_under(const char *path, const char *dir);
/* @dir and @rest ("" or "/..."), without a doubled or trailing '/'. */
char *audit_join(const char *dir, const char *rest);

/* ctl_audit_fs.c */
void audit_check_fstype(struct audit *a);
void audit_check_dax(struct audit *a);
void audit_check_map_sync(struct audit *a);
void audit_check_reflink(struct audit *a);
void audit_check_pins(struct audit *a);

/* ctl_audit_fs.c; @pid 0: our own mount namespace */
int audit_mountinfo_read(pid_t pid, struct audit_mnt **mnts, size_t *n);
void audit_mountinfo_free(struct audit_mnt *mnts, size_t n);

/* ctl_audit_proc.c */
void audit_check_overmount(struct audit *a);
void audit_check_raw_users(struct audit *a);

/* ctl_audit_rdma.c */
void audit_check_passthrough(struct audit *a);
void audit_check_uring(struct audit *a);
void audit_check_lease(struct audit *a);
void audit_check_rdma(struct audit *a);

#endif
