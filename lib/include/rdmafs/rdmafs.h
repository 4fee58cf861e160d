/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librdmafs: the client library of rdmafs, a FUSE filesystem that keeps
 * the block map of pinned file ranges stable for RDMA on DAX.
 *
 * An application pins the ranges it registers for RDMA on a descriptor
 * it opened through an rdmafs mount; rdmafs then refuses, defers or
 * breaks (per the mount's policy) every truncate, hole punch, reflink or
 * last unlink that would move those blocks.  See librdmafs(3).
 *
 * Rules for every call:
 *  - it returns 0 (or a count) on success and -errno on failure; it never
 *    sets errno, prints, exits or raises a signal;
 *  - it is thread-safe; a struct rdmafs_mount or rdmafs_session may be
 *    shared between threads;
 *  - a descriptor argument is one the caller opened through an rdmafs
 *    mount; any other gives -ENOTSUP ("not on an rdmafs mount"), never a
 *    plain xattr written to some other filesystem;
 *  - memory the library returns is freed with the matching *_free().
 *
 * Errors common to the pin calls (rdmafs_strerror() says them in words):
 *   -EINVAL   a malformed or empty range, a range beyond the file's size
 *             (except RDMAFS_WHOLE), a descriptor of something other than
 *             a regular file, flags not 0;
 *   -ENOSPC   over one of the mount's pin limits;
 *   -EPERM    unpinning another user's pin without privilege;
 *   -ENODATA  unpinning a range that has no such pin; no pins at all;
 *   -ENOTSUP  the descriptor or path is not on an rdmafs mount;
 *   -ETXTBSY  (from the operations rdmafs mediates, not from these calls).
 */
#ifndef RDMAFS_RDMAFS_H
#define RDMAFS_RDMAFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API this header describes; rdmafs_version() names the library. */
#define RDMAFS_API_VERSION 1

/* A length that means "the whole file, whatever its size" (`all`). */
#define RDMAFS_WHOLE UINT64_MAX

struct rdmafs_range {
	uint64_t offset; /* 0 when length is RDMAFS_WHOLE */
	uint64_t length; /* >= 1, or RDMAFS_WHOLE */
};

/* The library's version string, e.g. "0.1.0". */
const char *rdmafs_version(void);

/*
 * A description of @err (a positive or negative errno) in the terms of
 * rdmafs, e.g. ETXTBSY: "a pinned range is in the way".  Never NULL; the
 * string is static and must not be freed.
 */
const char *rdmafs_strerror(int err);

/*
 * Persistent pins (DESIGN §4): they survive the caller, the daemon and a
 * remount, and end only when unpinned (or the file is gone).
 *
 * rdmafs_pin() pins @count ranges of the file open at @fd, all or none,
 * owned by the caller's uid; before it returns the ranges' block map is
 * stable (holes allocated, shared extents unshared).  Pinning a range the
 * caller already pins is a no-op.
 */
int rdmafs_pin(int fd, const struct rdmafs_range *ranges, size_t count,
	       unsigned int flags);

/*
 * Removes the caller's pin of exactly @range (root: anyone's) from the
 * file open at @fd, or with @range NULL every pin of the caller (root:
 * every pin).  It goes through the mount's root directory, never through
 * the file, so it does not wait for the file's inode lock and releases an
 * operation parked on that file at once.  -ESTALE when the file has no
 * name in the mount any more, or its name now leads to another file.
 */
int rdmafs_unpin(int fd, const struct rdmafs_range *range, unsigned int flags);

/* One pin, as a file's pins or the mount-wide listing show it. */
struct rdmafs_pin {
	/*
	 * Mount-wide listing: the file's path relative to the mount root
	 * ("?ino=N" when the daemon lost it).  NULL for a file's own pins.
	 */
	char *path;
	struct rdmafs_range range;
	uint32_t owner; /* uid */
	pid_t holder; /* pid of a live holder; 0 for a persistent pin */
	int64_t since; /* when it was made, seconds since the Epoch (UTC) */
};

/*
 * The pins of the file open at @fd, in offset order: *@pins is an array
 * of *@count (0 when none: then *@pins is NULL and 0 is returned).
 */
int rdmafs_file_pins(int fd, struct rdmafs_pin **pins, size_t *count);

/* Frees what rdmafs_file_pins() or rdmafs_mount_pins() returned. */
void rdmafs_pins_free(struct rdmafs_pin *pins, size_t count);

/*
 * A mount.  @path is the mount point or any path inside the mount; the
 * handle keeps a descriptor of the mount root open (so the mount is busy
 * for umount while it is open).
 */
struct rdmafs_mount;

int rdmafs_mount_open(const char *path, struct rdmafs_mount **mount);
void rdmafs_mount_close(struct rdmafs_mount *mount);
/* The mount point, as the caller's mount namespace shows it. */
const char *rdmafs_mount_path(const struct rdmafs_mount *mount);

/*
 * Every pin in the mount that the caller may see (root: all), complete
 * whatever its size (the listing's pages are walked and checked to form
 * one snapshot).  -EAGAIN when the pins kept changing while it was read;
 * -EIO (with nothing returned) when the daemon's listing was malformed.
 */
int rdmafs_mount_pins(struct rdmafs_mount *mount, struct rdmafs_pin **pins,
		      size_t *count);

/* The operation classes and actions of the mount's policy (DESIGN §3). */
enum rdmafs_class {
	RDMAFS_TRUNCATE,
	RDMAFS_PUNCH,
	RDMAFS_REFLINK,
	RDMAFS_UNLINK,
	RDMAFS_NCLASSES
};

enum rdmafs_action {
	RDMAFS_REFUSE,
	RDMAFS_DEFER,
	RDMAFS_BREAK,
	RDMAFS_AUDIT,
	RDMAFS_COPY, /* reflink only */
	RDMAFS_NACTIONS
};

/* "truncate", "punch", ...; NULL for a value out of range. */
const char *rdmafs_class_name(enum rdmafs_class cls);
/* "refuse", "defer", ...; NULL for a value out of range. */
const char *rdmafs_action_name(enum rdmafs_action action);

/* A key=value of the status, for keys this header has no field for. */
struct rdmafs_field {
	char *key;
	char *value;
};

struct rdmafs_status {
	char *version; /* the daemon's */
	/* -1 when the daemon could not count them (pins_error says why). */
	int64_t pins, files_pinned;
	char *pins_error; /* NULL unless pins is -1 */
	uint64_t max_pins, max_pins_per_file, max_pins_per_user;
	enum rdmafs_action policy; /* policy= */
	enum rdmafs_action action[RDMAFS_NCLASSES];
	uint64_t break_timeout; /* seconds */
	int break_kill; /* 0 or 1 */
	uint64_t refused, deferred, broken, audited, copied;
	/* Every key=value the daemon sent, in its order, known or not. */
	struct rdmafs_field *fields;
	size_t nfields;
};

/*
 * The mount's status as the caller sees it (counts cover the caller's
 * view of the listing).  -EIO when a field this header names is missing
 * or malformed.  Free with rdmafs_status_free().
 */
int rdmafs_mount_status(struct rdmafs_mount *mount,
			struct rdmafs_status **status);
void rdmafs_status_free(struct rdmafs_status *status);

/*
 * Sessions (DESIGN §6): pins held by a live process, which end when the
 * holder releases them, closes the session or dies in any way (exit,
 * crash, kill -9), and whose holders are told (a notice) when an
 * operation wants their range, so that they can quiesce their RDMA and
 * release in time.  The protocol underneath is doc/session.md.
 *
 * A session belongs to the process that opened it: its holds end when
 * that process exits, even if a child still has its descriptor, and in a
 * child (fork) the calls that talk to the daemon return -EPERM.  Threads
 * may share it: one may poll and read notices while others hold and
 * release.  The daemon makes one hold at a time per session, and serves
 * a release sent meanwhile after it: a program that must be able to
 * release at once while it makes large (slow) holds makes those in a
 * second session.
 *
 * Errors of the session calls, besides those at the top:
 *   -EOPNOTSUPP  the mount's daemon offers no session channel (it could
 *                not start it: see its log);
 *   -EXDEV       open: the socket's daemon serves another mount; hold:
 *                @fd is on another rdmafs mount;
 *   -EPERM       open: the socket is neither root's nor the caller's;
 *                the calls of a process that did not open the session;
 *   -EBADF       hold: @fd is not open, or open with O_PATH;
 *   -EACCES      hold: @fd is not open for writing;
 *   -ENOENT      release: no such hold (never made, released, revoked);
 *   -ENOTCONN    the session has ended (the daemon went away): every
 *                hold is gone; close it (and open another);
 *   -EPROTO      the daemon sent something malformed;
 *   -ETIMEDOUT   open: the daemon did not greet within 5 seconds.
 */
struct rdmafs_session;

/* A hold: the id rdmafs_session_hold() gave, for release and notices. */
typedef uint64_t rdmafs_hold_t;

struct rdmafs_notice {
	rdmafs_hold_t hold; /* the hold whose range is wanted */
	enum rdmafs_class op; /* what wants it */
	struct rdmafs_range range; /* the range the operation wants */
	pid_t pid; /* the process that asked (the breaker); 0: unknown */
	uid_t uid;
	char comm[16]; /* its command name, NUL-terminated */
	/* When the daemon gives up waiting (CLOCK_REALTIME). */
	int64_t deadline_sec;
	long deadline_nsec;
	/*
	 * RDMAFS_NOTICE_LOST: the daemon went away; every hold of the
	 * session has ended (the other fields are 0).  It comes once; the
	 * calls return -ENOTCONN after it.
	 * RDMAFS_NOTICE_REVOKED: @hold has ended without a release (a
	 * break's timeout, or the file's last name went); the other fields
	 * name the operation that took it, the deadline when it happened.
	 */
	unsigned int flags;
};

#define RDMAFS_NOTICE_LOST 0x1u
#define RDMAFS_NOTICE_REVOKED 0x2u

/*
 * Opens a session on @mount (@flags 0): connects to the mount's daemon
 * and checks that it is that mount's, as the kernel tells.  The session
 * does not keep @mount: either may be closed first.
 */
int rdmafs_session_open(struct rdmafs_mount *mount, unsigned int flags,
			struct rdmafs_session **session);
/*
 * Ends the session: the daemon drops every hold of it at once (no
 * release needed), and frees it.  In a child that inherited it, closes
 * only the child's copy.
 */
void rdmafs_session_close(struct rdmafs_session *session);
/*
 * A descriptor that polls readable (POLLIN, level-triggered) exactly
 * while rdmafs_session_next_notice() has something to return, whichever
 * thread read it off the channel; fit for poll, select and epoll.
 * Owned by the session (don't close it, don't read it).
 */
int rdmafs_session_fd(const struct rdmafs_session *session);
/*
 * Holds @range of the file open at @fd for as long as the session lives,
 * and gives the hold's id in *@hold.  The file is named by the
 * descriptor, which must be open for writing (O_WRONLY or O_RDWR: its
 * open mode proves the access); the caller may close it afterwards.
 * Before it returns the range's block map is stable, as for a pin.  The
 * range must lie within the file, except RDMAFS_WHOLE.
 */
int rdmafs_session_hold(struct rdmafs_session *session, int fd,
			const struct rdmafs_range *range, rdmafs_hold_t *hold);
/* Ends one hold; an operation waiting only for it goes on at once. */
int rdmafs_session_release(struct rdmafs_session *session, rdmafs_hold_t hold);
/*
 * The next notice, oldest first, or -EAGAIN when none waits (never
 * blocks).  Call it until -EAGAIN each time the descriptor polls
 * readable.  At most 256 notices wait in the library: past that the
 * oldest are dropped.
 */
int rdmafs_session_next_notice(struct rdmafs_session *session,
			       struct rdmafs_notice *notice);

#ifdef __cplusplus
}
#endif

#endif
