/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pins in the daemon: the control xattrs of DESIGN §4 (doc/pins.md),
 * their persistence in the backing inode and the mount-wide index.
 */
#ifndef RDMAFS_PINS_H
#define RDMAFS_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rdmafs.h"

struct ptab_file;

/* After daemonising (the pin table has threads of its own). */
int rfs_pins_start(struct rfs *fs);
void rfs_pins_stop(struct rfs *fs);

/*
 * The xattr handlers call these first; they return true when the name is
 * one of rdmafs's own and the request has been answered.
 */
bool rfs_ctl_setxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      const char *value, size_t size);
bool rfs_ctl_getxattr(fuse_req_t req, struct rfs_inode *in, const char *name,
		      size_t size);
bool rfs_ctl_removexattr(fuse_req_t req, struct rfs_inode *in,
			 const char *name);
/* Drops rdmafs's hidden names from a listxattr result; returns the length. */
size_t rfs_ctl_filter_list(char *list, size_t len);

/*
 * A regular file was met for the first time: loads its stored pins, all
 * of them whatever the limits (pinstore_io.c).  Returns 0, or -errno when
 * they could not be read or loaded: the lookup must then fail, since the
 * file would look unpinned.
 */
int rfs_pins_load(struct rfs *fs, struct rfs_inode *in, int fd);
/*
 * At mount: loads the stored pins of every file in the index, so that
 * the limits count every stored pin from the start (a file that cannot be
 * opened now loads at its lookup).  Not fatal: logs what it could not do.
 */
void rfs_pins_preload(struct rfs *fs);
/*
 * The pin-table entry of @in, locked, created if need be: the pins of an
 * earlier file with the same inode number (deleted behind the mount) are
 * dropped first (*@dropped: call rfs_pins_changed() after unlocking).
 * NULL with errno set (ENOMEM) on failure.
 */
struct ptab_file *rfs_pins_entry(struct rfs *fs, const struct rfs_inode *in,
				 bool *dropped);
/* The locked pin-table entry of an inode, or NULL when it has no pins. */
struct ptab_file *rfs_pins_lock(struct rfs *fs, uint64_t dev, uint64_t ino);
/* True when any file in the mount has pins (cheap). */
bool rfs_pins_any(struct rfs *fs);
/*
 * Pins, or the path of a pinned file, may have changed: listings made
 * before are out of date.
 */
void rfs_pins_changed(struct rfs *fs);
/* @name in directory @dfd was renamed there: keep the index's path. */
void rfs_pins_renamed(struct rfs *fs, int dfd, const char *name);
/* The inode lost its last name: its pins go with it. */
void rfs_pins_inode_gone(struct rfs *fs, dev_t dev, ino_t ino);

struct pin;
/* Records a pin change (DESIGN §5): syslog, and the JSON file if set. */
void rfs_record_pin(fuse_req_t req, const char *event, const char *op,
		    const char *path, const struct pin *p);
/*
 * unpin.c: removes the caller's pins of @in per @value (a RANGE), or with
 * @everything all of them (@value NULL: removexattr); by path through
 * the mount root (@value "PATH RANGE").  Stored before removed: returns
 * 0, or -errno with every pin still in place.
 */
int rfs_unpin_file(fuse_req_t req, struct rfs_inode *in, const char *value,
		   size_t size, bool everything);
int rfs_unpin_path(fuse_req_t req, const char *value, size_t size);

struct audit_pin;
/*
 * The pins of (@dev, @ino) overlapping [off, off + len): copies up to @max
 * of them to @out and returns how many there are.
 */
size_t rfs_pins_overlapping(struct rfs *fs, dev_t dev, ino_t ino, uint64_t off,
			    uint64_t len, struct audit_pin *out, size_t max);
/*
 * Revokes (removes) those pins, whoever holds them, and stores what is
 * left through @fd (a descriptor of the file).  Returns how many went and
 * copies up to @max of them to @out.
 */
size_t rfs_pins_revoke(struct rfs *fs, dev_t dev, ino_t ino, int fd,
		       uint64_t off, uint64_t len, struct audit_pin *out,
		       size_t max);
/* The path of an open backing file relative to the backing root. */
int rfs_rel_path(struct rfs *fs, int fd, char *buf, size_t size);

/* The backing directory's own entry for the index: hidden from the mount. */
bool rfs_hidden_name(struct rfs *fs, struct rfs_inode *dir, const char *name);

#endif
