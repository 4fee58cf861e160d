// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kernel passthrough (DESIGN §9): reads, writes, splice and mmap of a
 * regular file go from the kernel straight to the backing file, never
 * through the daemon.  Every call that changes the block map (setattr
 * size, fallocate, copy_file_range, unlink, rename) still reaches the
 * daemon and meets the pins.  mmap through the mount maps the backing
 * file itself: over fsdax, the DAX blocks.
 *
 * The kernel allows one backing file per FUSE inode at a time and refuses
 * (ETXTBSY) to mix a passthrough open with an open it caches on the same
 * inode.  So each inode has at most one backing id, shared by all its
 * passthrough opens and closed with the last of them; and an inode some
 * open already uses through the page cache (because registering its
 * backing file failed) gets no passthrough until those opens are gone.
 * The daemon's counts lag the kernel's (the kernel forgets an open before
 * its RELEASE arrives here), which only ever makes a new open follow the
 * mode the inode had: never a conflict.
 *
 * The kernel opens its own backing file for each passthrough open, on
 * the path of the registered descriptor, and reads through it update the
 * atime as that descriptor's mount says.  So registered descriptors come
 * from a private, detached copy of the backing mount (open_tree) whose
 * atime flag follows the rdmafs mount's (mountflags.c): a noatime rdmafs
 * mount keeps the backing atime still, as the daemon path does with
 * O_NOATIME.  Files the copy cannot reach (another filesystem below the
 * backing directory, no file handles) register the daemon's own
 * descriptor and follow the backing mount's atime flag.
 *
 * The kernel runs passthrough I/O with the credentials the daemon had when
 * it registered the backing file.  Registration runs with the opener's
 * rights to space (creds.c: no CAP_SYS_RESOURCE for a user, so no quota
 * override or root reserve), so the opener that registers an inode's
 * backing file decides for every open sharing it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>

#include "ops.h"
#include "passthrough.h"

#define PT_LOCKS 64

/* Per-inode state under a striped lock: inodes are many, opens short. */
static pthread_mutex_t pt_locks[PT_LOCKS] = { [0 ... PT_LOCKS -
					       1] = PTHREAD_MUTEX_INITIALIZER };

static pthread_mutex_t *pt_lock(const struct rfs_inode *in)
{
	return &pt_locks[((uintptr_t)in / sizeof(*in)) % PT_LOCKS];
}

/* To syslog, and to stderr while in the foreground (where -d shows it). */
static void say(struct rfs *fs, int prio, const char *what, const char *arg)
{
	syslog(prio, "%s%s", what, arg);
	if (fs->o.foreground)
		fprintf(stderr, "rdmafs: %s%s\n", what, arg);
}

#if RFS_FUSE_PASSTHROUGH
/* The detached copy of the backing mount (see the top). */
static void tree_open(struct rfs *fs)
{
	struct rfs_datapath *dp = &fs->dp;
	struct statvfs sv;
	int t;

	dp->tree_fd = -1;
	if (!fs->handles || fstatvfs(fs->root_fd, &sv) < 0)
		return;
	if (sv.f_flag & ST_NOATIME)
		dp->tree_atime = MOUNT_ATTR_NOATIME;
	else if (sv.f_flag & ST_RELATIME)
		dp->tree_atime = MOUNT_ATTR_RELATIME;
	else
		dp->tree_atime = MOUNT_ATTR_STRICTATIME;
	t = open_tree(fs->root_fd, "",
		      AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (t < 0)
		return;
	/*
	 * open_by_handle_at wants a real descriptor, not O_PATH; the O_PATH
	 * one stays open too, for mount_setattr (closing it would dissolve
	 * the copy's namespace, after which its flags are fixed).
	 */
	dp->tree_fd = openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->tree_fd < 0)
		close(t);
	else
		dp->tree_mnt = t;
}
#endif

void rfs_pt_atime(struct rfs *fs, bool noatime)
{
	struct mount_attr a = {
		.attr_clr = MOUNT_ATTR__ATIME,
		.attr_set = noatime ? MOUNT_ATTR_NOATIME : fs->dp.tree_atime,
	};

	if (fs->dp.passthrough && fs->dp.tree_fd >= 0 &&
	    mount_setattr(fs->dp.tree_mnt, "", AT_EMPTY_PATH, &a, sizeof(a)) <
		    0)
		syslog(LOG_WARNING,
		       "couldn't follow the mount's atime flag for passthrough files: %m");
}

#if RFS_FUSE_PASSTHROUGH
/* A descriptor of @in on the detached copy, or -1. */
static int tree_fd(struct rfs *fs, struct rfs_inode *in)
{
	if (fs->dp.tree_fd < 0 || !in->handle || in->dev != fs->root.dev)
		return -1;
	return open_by_handle_at(fs->dp.tree_fd, in->handle,
				 O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}
#endif

void rfs_pt_init(struct rfs *fs, struct fuse_conn_info *conn)
{
	struct rfs_datapath *dp = &fs->dp;

	dp->passthrough = false;
	dp->tree_fd = dp->tree_mnt = -1;
#if RFS_FUSE_PASSTHROUGH
	if (!fs->o.passthrough)
		snprintf(dp->why, sizeof(dp->why), "%s",
			 fs->o.writeback ? "the writeback cache was chosen"
					 : "no_passthrough was given");
	else if (!(conn->capable_ext & FUSE_CAP_PASSTHROUGH))
		snprintf(
			dp->why, sizeof(dp->why),
			"the kernel does not offer it (Linux >= 6.9 with CONFIG_FUSE_PASSTHROUGH)");
	else if (!fs->is_root)
		snprintf(dp->why, sizeof(dp->why),
			 "it needs CAP_SYS_ADMIN (run rdmafs as root)");
	else if (!fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH))
		snprintf(dp->why, sizeof(dp->why),
			 "libfuse refused the feature flag");
	else
		dp->passthrough = true;
	if (dp->passthrough) {
		/*
		 * The backing filesystem may itself stack on one more (the
		 * kernel's limit is two); the mount then stacks on nothing.
		 */
		conn->max_backing_stack_depth = 1;
		/* Passthrough files are never cached here: no writeback. */
		fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
		tree_open(fs);
	}
#else
	(void)conn;
	snprintf(dp->why, sizeof(dp->why), "libfuse %s (needs >= 3.17)",
		 fuse_pkgversion());
#endif
	if (dp->passthrough) {
		say(fs, LOG_INFO, "data path: kernel passthrough, libfuse ",
		    fuse_pkgversion());
	} else {
		int prio = fs->o.passthrough_asked ? LOG_WARNING : LOG_INFO;

		say(fs, prio, "data path: daemon; passthrough off: ", dp->why);
	}
}

int rfs_pt_attach(fuse_req_t req, struct rfs_inode *in, int fd,
		  struct fuse_file_info *fi)
{
	struct rfs *fs = rfs_of(req);
	int ret = 0;

	if (!fs->dp.passthrough || in->type != S_IFREG)
		return 0;
#if RFS_FUSE_PASSTHROUGH
	pthread_mutex_lock(pt_lock(in));
	if (in->pt_cached) {
		/* Some open of it goes through the page cache: so must this. */
		in->pt_cached++;
	} else if (in->pt_id > 0) {
		in->pt_users++;
		ret = in->pt_id;
	} else {
		/* Before the caller's fsuid: opening by handle needs root. */
		int tfd = tree_fd(fs, in), id = 0, err;
		struct rfs_cred c;

		err = rfs_space_enter(fs, in, fuse_req_ctx(req)->uid, &c);
		if (!err) {
			errno = 0;
			id = fuse_passthrough_open(req, tfd >= 0 ? tfd : fd);
			err = id > 0 ? 0 : -(errno ? errno : EIO);
			rfs_cred_leave(&c);
		}
		/* The kernel keeps its own reference. */
		if (tfd >= 0)
			close(tfd);
		if (id > 0) {
			in->pt_id = id;
			in->pt_users = 1;
			ret = id;
			__atomic_add_fetch(&fs->dp.files, 1, __ATOMIC_RELAXED);
		} else {
			in->pt_cached = 1;
			if (__atomic_fetch_add(&fs->dp.refused, 1,
					       __ATOMIC_RELAXED) == 0)
				say(fs, LOG_WARNING,
				    "passthrough refused for a file, which goes through the daemon: ",
				    strerror(-err));
		}
	}
	pthread_mutex_unlock(pt_lock(in));
	fi->backing_id = ret;
	/*
	 * The kernel refuses (EIO) passthrough with any caching flag.  No
	 * FLUSH at close: it would only close a duplicate descriptor here,
	 * while the backing file's own close-time work (XFS's flush after a
	 * truncate) happens when the kernel drops its backing file.  That
	 * saves a round trip per close(2).
	 */
	if (ret > 0) {
		fi->keep_cache = 0;
		fi->noflush = 1;
	}
#endif
	return ret;
}

void rfs_pt_detach(fuse_req_t req, struct rfs_inode *in, int backing_id)
{
	struct rfs *fs = rfs_of(req);
	int close_id = 0;

	if (!fs->dp.passthrough || in->type != S_IFREG)
		return;
	pthread_mutex_lock(pt_lock(in));
	if (backing_id > 0) {
		if (in->pt_users && --in->pt_users == 0) {
			close_id = in->pt_id;
			in->pt_id = 0;
		}
	} else if (in->pt_cached) {
		in->pt_cached--;
	}
	pthread_mutex_unlock(pt_lock(in));
#if RFS_FUSE_PASSTHROUGH
	/* Open files keep the kernel's reference; only the id goes. */
	if (close_id > 0)
		fuse_passthrough_close(req, close_id);
#else
	(void)close_id;
#endif
}

void rfs_pt_status(struct rfs *fs, struct sbuf *t)
{
	const struct rfs_datapath *dp = &fs->dp;

	sbuf_printf(t, "libfuse=%s\n", fuse_pkgversion());
	sbuf_printf(t, "data_path=%s\n",
		    dp->passthrough ? "passthrough" : "daemon");
	if (!dp->passthrough)
		sbuf_printf(t, "data_path_why=%s\n", dp->why);
	sbuf_printf(t, "passthrough_files=%" PRIu64 "\n",
		    __atomic_load_n(&dp->files, __ATOMIC_RELAXED));
	sbuf_printf(t, "passthrough_refused=%" PRIu64 "\n",
		    __atomic_load_n(&dp->refused, __ATOMIC_RELAXED));
}
