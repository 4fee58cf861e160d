/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pin service: the daemon's pins of DESIGN §4 and their life.  It
 * starts and stops the pin table and the index of pinned files, adds
 * pins (pin_add.c), removes them (unpin.c), revokes them for a break,
 * stores and loads them (pinstore_io.c), and follows their files through
 * renames and unlinks.  It knows nothing of FUSE names or xattr values
 * (ctlxattr.c parses those) and nothing of mediation: what it needs of
 * the mediator (the layout gate, a wake-up when pins go) comes through
 * struct rfs_pin_hooks, which main.c fills, so that mediate.c may use
 * the pin service without the pin service using mediate.c.
 */
#ifndef RDMAFS_PINSVC_H
#define RDMAFS_PINSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rdmafs.h"
#include "core/pinset.h"
#include "core/range.h"

struct ptab_file;
struct audit_pin;
struct ident;
struct proto_notice;

struct rfs_pin_hooks {
	/* Pins went or a listing is out of date: parked requests may go on. */
	void (*changed)(struct rfs *fs);
	/*
	 * The layout gate (mediate.h), exclusive: held by a pin from the
	 * check of its block map until it is in the table.
	 */
	void (*gate_lock)(struct rfs *fs);
	void (*gate_unlock)(struct rfs *fs);
};

/*
 * Starts the pin table (it runs a thread: call it in the daemonised
 * process) and opens the index, then loads every stored pin the index
 * names; @hooks stays in use until rfs_pins_stop().  Returns 0 or
 * -errno (the pin table could not start: nothing may be mounted without
 * it).  A missing index is not fatal (logged).
 */
int rfs_pins_start(struct rfs *fs, const struct rfs_pin_hooks *hooks);
void rfs_pins_stop(struct rfs *fs);

/*
 * Pins @n ranges of @in for the caller of @req (DESIGN §4, "Making a
 * pin" in doc/pins.md), all or none: block map stabilised, pins in the
 * table, the file in the index, its set stored.  Returns 0 or -errno.
 */
int rfs_pins_add(fuse_req_t req, struct rfs_inode *in, const struct rng *r,
		 size_t n);
/*
 * Adds the session pin @p (owner, holder, sess and hold set by the
 * caller, session_hold.c) of range @r to @in: stabilised and gated as
 * rfs_pins_add() does, in the table, neither indexed nor stored.  Fills
 * in @p's range, since_ns and id, and @rel (@size bytes) with the
 * file's path ("" when not known).  Returns 0 or -errno (-EINVAL: @r
 * beyond the file's end; -ENOSPC: a pin limit).
 */
int rfs_pins_add_session(struct rfs *fs, struct rfs_inode *in,
			 const struct rng *r, struct pin *p, char *rel,
			 size_t size);
/*
 * Removes the caller's pin of exactly @r (root: anyone's) from (@dev,
 * @ino), or with @r NULL or `all` every pin of the caller (root: every
 * pin), unless @whole: then @r is `all` and means exactly the whole-file
 * pin (PESC_WHOLE); @fd is a descriptor of the file (O_PATH will do), @op the
 * operation for the audit trail.  Stored before removed: returns 0, or
 * -errno with every pin still in place (-ENODATA: no such pin; -EPERM:
 * another user's).
 */
int rfs_pins_remove(fuse_req_t req, dev_t dev, ino_t ino, int fd,
		    const struct rng *r, bool whole, const char *op);

/*
 * A regular file was met for the first time: loads its stored pins, all
 * of them whatever the limits (pinstore_io.c).  Returns 0, or -errno when
 * they could not be read or loaded: the lookup must then fail, since the
 * file would look unpinned.
 */
int rfs_pins_load(struct rfs *fs, struct rfs_inode *in, int fd);
/*
 * The same for a file the daemon has just created, which has no stored
 * pins: only the pins of a dead file with the same number, if the table
 * still has any, are dropped.  Returns 0 or -errno.
 */
int rfs_pins_load_created(struct rfs *fs, struct rfs_inode *in);
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
 * before are out of date, and the hooks' changed() runs.  Call it
 * without a file's lock in the pin table held.
 */
void rfs_pins_changed(struct rfs *fs);
/*
 * One of several names of (@dev, @ino) was removed: when the file has
 * pins, listings may name the name removed, and are made stale (as by
 * rfs_pins_changed()).  Cheap when it has none.
 */
void rfs_pins_name_gone(struct rfs *fs, dev_t dev, ino_t ino);
/* @name in directory @dfd was renamed there: keep the index's path. */
void rfs_pins_renamed(struct rfs *fs, int dfd, const char *name);
/*
 * The inode lost its last name: its pins go with it (session pins'
 * holders get a REVOKED notice).
 */
void rfs_pins_inode_gone(struct rfs *fs, dev_t dev, ino_t ino);

/* Records a pin change (DESIGN §5): syslog, and the JSON file if set. */
void rfs_record_pin(fuse_req_t req, const char *event, const char *op,
		    const char *path, const struct pin *p);
/* The same for the process @who (NULL: none), with @reason (or NULL). */
void rfs_record_pin_who(struct rfs *fs, const struct ident *who,
			const char *event, const char *op, const char *path,
			const struct pin *p, const char *reason);

/*
 * Revokes (removes) those pins, whoever holds them, and stores what is
 * left through @fd (a descriptor of the file).  Returns how many went and
 * copies up to @max of them to @out.  The holder of each session pin
 * revoked gets a REVOKED notice describing @what (rfs_sess_revoked();
 * NULL: as for the file's last unlink).
 */
size_t rfs_pins_revoke_what(struct rfs *fs, dev_t dev, ino_t ino, int fd,
			    uint64_t off, uint64_t len, struct audit_pin *out,
			    size_t max, const struct proto_notice *what);
/* The path of an open backing file relative to the backing root. */
int rfs_rel_path(struct rfs *fs, int fd, char *buf, size_t size);

/* The backing directory's own entry for the index: hidden from the mount. */
bool rfs_hidden_name(struct rfs *fs, struct rfs_inode *dir, const char *name);

#endif
