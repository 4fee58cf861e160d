/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State shared by the daemon's files: the mount, the inode table and the
 * open-file objects.
 */
#ifndef RDMAFS_FS_H
#define RDMAFS_FS_H

/* FUSE_USE_VERSION comes from meson (fs/meson.build). */
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/fdcache.h"
#include "core/policy.h"

#include "core/proto.h"
#include "uring.h"

#define RFS_MAX_PINS_PER_FILE PROTO_FILE_PINS_MAX

/* What the libfuse this daemon is built on can do (DESIGN §9). */
#if FUSE_USE_VERSION >= 317
#define RFS_FUSE_PASSTHROUGH 1
#else
#define RFS_FUSE_PASSTHROUGH 0
#endif
#if FUSE_USE_VERSION >= 317 && FUSE_MINOR_VERSION >= 18
#define RFS_FUSE_URING 1
#else
#define RFS_FUSE_URING 0
#endif

enum rfs_cache_mode {
	RFS_CACHE_NEVER,
	RFS_CACHE_AUTO,
	RFS_CACHE_ALWAYS,
};

struct rfs_opts {
	char *backing;
	char *mountpoint;
	int foreground;
	int debug;
	char *cache_str;
	int cache; /* enum rfs_cache_mode */
	double timeout; /* attr/entry timeout; < 0: from cache mode */
	int writeback;
	int splice; /* splice reads and writes through the kernel */
	/* Kernel passthrough: -1 until resolved, then 0 or 1 (passthrough.c). */
	int passthrough;
	bool passthrough_asked; /* by name: say loudly when it cannot be */
	int io_uring; /* FUSE over io_uring asked for (libfuse >= 3.18) */
	int clone_fd; /* a /dev/fuse descriptor per worker thread */
	unsigned int fd_cache; /* idle descriptors kept */
	unsigned int max_threads;
	char *audit_log; /* JSON Lines file, absolute; NULL: syslog only */
	/* Mediation (§3): parsed into struct rfs.pol, kept only there. */
	unsigned int max_pins; /* in the whole mount */
	unsigned int max_pins_per_file;
	/* Pins one non-root uid may hold in the mount (root: max_pins). */
	unsigned int max_pins_per_user;
	int single; /* -s: one worker thread, whatever threads= says */
	int remount; /* -o remount: change a live mount, start nothing */
};

/* An open file or directory, on the mount's list (handles.c). */
struct rfs_open {
	struct rfs_open *prev, *next;
	void (*release)(struct rfs_open *o);
};

/* A backing inode the kernel knows about. */
struct rfs_inode {
	struct rfs_inode *hnext; /* hash chain */
	dev_t dev;
	ino_t ino;
	mode_t type; /* S_IFMT bits; fixed for the inode's life */
	uint64_t nlookup; /* under the table lock */
	/*
	 * The inode is named by a file handle and reopened through the
	 * descriptor cache.  Where the backing filesystem cannot give a
	 * handle, or for the root, a descriptor is held for the inode's
	 * life instead (fixed_fd >= 0).
	 */
	struct file_handle *handle;
	int mount_fd;
	int fixed_fd;
	struct fdc_entry fdc;
	/* Kernel passthrough (passthrough.c), under its striped lock. */
	int pt_id; /* the backing id while pt_users > 0 */
	uint32_t pt_users; /* passthrough opens sharing pt_id */
	uint32_t pt_cached; /* opens through the daemon (registration failed) */
};

struct rfs_itable {
	pthread_mutex_t lock;
	struct rfs_inode **buckets;
	size_t nbuckets;
	size_t count;
	/* Inodes whose number was reused, until the kernel forgets them. */
	struct rfs_inode *stale;
};

/* One filesystem per backing device: open_by_handle_at needs one of its fds. */
struct rfs_devfd {
	dev_t dev;
	int fd;
};

/* The data path a mount uses, and why (passthrough.c). */
struct rfs_datapath {
	bool passthrough; /* negotiated at init */
	char why[160]; /* when not */
	uint64_t files; /* backing files registered (atomic) */
	uint64_t refused; /* registrations the kernel refused (atomic) */
	int tree_fd; /* detached copy of the backing mount, or -1 */
	int tree_mnt; /* the same, O_PATH, from open_tree */
	unsigned int tree_atime; /* its own atime flag (MOUNT_ATTR_*) */
};

struct rfs {
	struct rfs_opts o;
	struct rfs_datapath dp;
	int root_fd; /* the backing directory, opened before mounting */
	int mount_fd; /* the same, not O_PATH: for open_by_handle_at */
	struct rfs_inode root;
	struct rfs_itable itab;
	struct fdc fdc;
	pthread_mutex_t dev_lock;
	struct rfs_devfd *devs;
	size_t ndevs;
	bool is_root; /* the daemon runs as uid 0 and acts for callers */
	bool handles; /* open_by_handle_at works here */
	double timeout;
	/* HANDLE_KILLPRIV_V2 negotiated: fi->kill_suidgid is to be obeyed. */
	bool killpriv_v2;
	struct fuse_session *se;
	pthread_mutex_t open_lock;
	struct rfs_open open_list; /* sentinel */
	struct ptab *pins; /* pin table (pinsvc.c) */
	const struct rfs_pin_hooks *pin_hooks; /* set by rfs_pins_start() */
	struct pidx *pidx; /* index of pinned files (pinindex.c) */
	struct audit *audit; /* the audit trail (DESIGN §5) */
	struct pol pol; /* mediation policy */
	struct rfs_mediator *med; /* parked requests (mediate.c) */
	char *backing_real; /* realpath of the backing directory */
	uint64_t pin_gen; /* bumped by every change a listing shows */
	struct rfs_listing *listing; /* the listing's snapshots (listing.c) */
	int lock_fd; /* BACKING/.rdmafs/lock, held for the daemon's life */
	int dev_lock_fd; /* /run/rdmafs/MAJ:MIN.lock, likewise (instance.c) */
	/* Writes for users run with their fsuid: a root reserve (creds.c). */
	bool space_fsuid;
	struct rfs_mflags *mflags; /* the mount's atime flags (mountflags.c) */
	struct rfs_sessions *sessions; /* the session channel (session.c) */
};

/* An open regular file. */
struct rfs_file {
	struct rfs_open node; /* first: the list gives back the file */
	int fd;
	int flags;
	bool direct; /* opened O_DIRECT: I/O needs aligned buffers */
	bool noatime; /* fd has O_NOATIME (atomic: reads toggle it) */
	uid_t uid; /* the opener: writeback's writes carry no caller */
	int backing_id; /* > 0: kernel passthrough (passthrough.c) */
};

static inline struct rfs *rfs_of(fuse_req_t req)
{
	/* The first requests tell the transport (uring.c). */
	if (__builtin_expect(
		    !__atomic_load_n(&rfs_uring_settled, __ATOMIC_ACQUIRE), 0))
		rfs_uring_note(req);
	return fuse_req_userdata(req);
}

/* inode.c */
int rfs_itable_init(struct rfs *fs);
void rfs_itable_destroy(struct rfs *fs);
/* Puts the root (set up by main) in the table. */
void rfs_itable_add_root(struct rfs *fs);
struct rfs_inode *rfs_inode(fuse_req_t req, fuse_ino_t ino);
/* An O_PATH descriptor for @in, valid until rfs_ifd_put(). */
int rfs_ifd_get(struct rfs *fs, struct rfs_inode *in);
void rfs_ifd_put(struct rfs *fs, struct rfs_inode *in);
/* Reopens @in with @flags (no O_CREAT); returns an fd or -errno. */
int rfs_inode_open(struct rfs *fs, struct rfs_inode *in, int flags);
/*
 * Looks @name up under @dir and fills @e; takes a lookup reference.
 * Returns 0 or -errno.
 */
int rfs_do_lookup(struct rfs *fs, struct rfs_inode *dir, const char *name,
		  struct fuse_entry_param *e);
/*
 * The same for a file the daemon has just created as @name and holds
 * open at @fd: a new file has no stored pins, so reading them is skipped
 * (unless the name no longer leads to @fd's inode).
 */
int rfs_do_lookup_created(struct rfs *fs, struct rfs_inode *dir,
			  const char *name, int fd, struct fuse_entry_param *e);
void rfs_forget_one(struct rfs *fs, struct rfs_inode *in, uint64_t n);

/* handles.c */
void rfs_open_init(struct rfs *fs);
void rfs_open_add(struct rfs *fs, struct rfs_open *o,
		  void (*release)(struct rfs_open *o));
void rfs_open_del(struct rfs *fs, struct rfs_open *o);
/* Frees what is still open, at exit. */
void rfs_open_release_all(struct rfs *fs);

/* creds.c */
struct rfs_cred {
	uid_t uid;
	gid_t gid;
	bool switched;
	bool groups;
};
/* Act as the caller for creating files (owner, group, permission). */
int rfs_cred_enter(fuse_req_t req, struct rfs_cred *c, bool with_groups);
void rfs_cred_leave(struct rfs_cred *c);
/* Probes the backing filesystem for a root reserve (at init). */
void rfs_creds_init(struct rfs *fs);
/*
 * Around a call that may allocate space in @in's filesystem for @uid:
 * for a user, without CAP_SYS_RESOURCE and, where the filesystem keeps
 * blocks for root, with fsuid @uid.  Returns 0 or -errno (then do not
 * make the call); rfs_cred_leave() undoes it.
 */
int rfs_space_enter(struct rfs *fs, const struct rfs_inode *in, uid_t uid,
		    struct rfs_cred *c);
/*
 * The caller's umask on this thread, for a creating call: 0, or -errno
 * when this thread cannot have a umask of its own.  rfs_umask_leave()
 * restores the daemon's (0).
 */
int rfs_umask_enter(fuse_req_t req);
/* Gives this thread a umask of its own; 0 or -errno. */
int rfs_umask_own(void);
void rfs_umask_leave(void);
/* True when the backing filesystem stores POSIX ACLs. */
bool rfs_acl_backing(struct rfs *fs);

/* options.c */
int rfs_parse_opts(struct fuse_args *args, struct rfs_opts *o, struct pol *pol);
void rfs_free_opts(struct rfs_opts *o);
void rfs_usage(const char *prog);

/* instance.c: one daemon per backing filesystem (DESIGN §11) */
/*
 * Takes BACKING/.rdmafs/lock (creating .rdmafs/ if missing, checked to be
 * the daemon's own) through fs->root_fd into fs->lock_fd, and the lock
 * of BACKING's filesystem (/run/rdmafs/MAJ:MIN.lock) into
 * fs->dev_lock_fd, before mounting.  A lock belongs to the open file
 * description, so the daemonised child keeps it and the kernel drops it
 * when the daemon dies.  Prints why and returns -errno when another
 * rdmafs serves the filesystem (-EBUSY, after waiting up to 3 s for a
 * holder no longer mounted) or a lock cannot be taken safely.
 */
int rfs_instance_lock(struct rfs *fs);
/* Records this process's pid and the mountpoint in the lock files. */
void rfs_instance_note(struct rfs *fs);
/* Drops both locks: the next daemon may start. */
void rfs_instance_unlock(struct rfs *fs);
/*
 * The session socket's path, RUNDIR/MAJ:MIN.sock (session.h), into @path
 * of @size bytes.  Returns 0, -ENOENT without a run directory (a user
 * without $XDG_RUNTIME_DIR), -ENAMETOOLONG, or another -errno.
 */
int rfs_instance_sock_path(struct rfs *fs, char *path, size_t size);

/* remount.c */
/*
 * "-o remount": applies ro/rw and the per-mount flags among @args to
 * the rdmafs mount at o->mountpoint with mount(2) and returns the exit
 * status (0, or 1 with a message).  Starts no daemon.
 */
int rfs_remount(const struct rfs_opts *o, const struct pol *pol,
		const struct fuse_args *args, int argc, char *argv[]);
/* True when the topmost mount at @path (a realpath) is an rdmafs mount. */
bool rfs_is_rdmafs_mount(const char *path);

/* ops.c: the operation table */
extern const struct fuse_lowlevel_ops rfs_ops;

#endif
