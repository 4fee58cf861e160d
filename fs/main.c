// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafs: a passthrough FUSE filesystem over a DAX backing directory that
 * mediates every change of the block map under ranges pinned for RDMA.
 *
 * main() opens BACKING before mounting, so that BACKING may be the same
 * path as MOUNTPOINT: the daemon then serves the directory from underneath
 * its own mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "hup.h"
#include "listing.h"
#include "mediate.h"
#include "pinsvc.h"
#include "rdmafs.h"
#include "session.h"
#include "core/audit.h"

/*
 * Overmounted (BACKING == MOUNTPOINT), nothing changes the backing tree
 * behind the kernel's back, so names and attributes can be cached as
 * long as with cache=always.
 */
static double default_timeout(int cache, bool overmount)
{
	switch (cache) {
	case RFS_CACHE_NEVER:
		return 0;
	case RFS_CACHE_ALWAYS:
		return 86400;
	default:
		return overmount ? 86400 : 1;
	}
}

/* Raises the soft open-file limit to the hard one and sizes the cache. */
static unsigned int fd_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 20)
		return 1u << 19;
	return rl.rlim_cur > 64 ? (unsigned int)(rl.rlim_cur / 2) : 16;
}

/* True when open_by_handle_at works on this filesystem for this process. */
static bool probe_handles(int root_fd)
{
	struct {
		struct file_handle fh;
		unsigned char f[128];
	} h;
	int mnt, fd;

	h.fh.handle_bytes = sizeof(h.f);
	if (name_to_handle_at(root_fd, "", &h.fh, &mnt, AT_EMPTY_PATH) < 0)
		return false;
	fd = open_by_handle_at(root_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Under @dir (at any depth), not @dir itself; "/" holds everything. */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)
		return path[1] != '\0';
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/*
 * A mountpoint inside BACKING would be served by the daemon itself: the
 * mount shows itself recursively and lookups through it deadlock on the
 * daemon's own mount, which can then not be unmounted (busy).  Caught by
 * path and, for another name of BACKING (a bind mount), by the inodes of
 * every directory above the mountpoint.  BACKING == MOUNTPOINT (the
 * overmount) and BACKING below MOUNTPOINT are fine: the daemon reaches
 * BACKING through descriptors opened before mounting, never by path.
 */
static int check_nesting(const char *backing, const char *mnt)
{
	struct stat b, st;
	char up[PATH_MAX], *slash;
	bool inside = false;

	if (strcmp(backing, mnt) == 0)
		return 0;
	inside = path_under(mnt, backing);
	if (!inside && stat(backing, &b) == 0) {
		snprintf(up, sizeof(up), "%s", mnt);
		while (!inside && (slash = strrchr(up, '/'))) {
			slash[slash == up] = '\0'; /* keep "/" itself */
			if (stat(up, &st) == 0 && st.st_dev == b.st_dev &&
			    st.st_ino == b.st_ino)
				inside = true;
			if (strcmp(up, "/") == 0)
				break;
		}
	}
	if (inside) {
		fprintf(stderr,
			"rdmafs: mountpoint %s is inside the backing directory %s: the mount would contain itself (give the same path twice to mount over BACKING)\n",
			mnt, backing);
		return -1;
	}
	return 0;
}

/*
 * The audit log is opened before mounting, so a path under MOUNTPOINT
 * would be a file hidden under the mount, unreadable until unmount (and
 * not the file the same path shows once mounted).  Refused, except for
 * the overmount, where what lies under the mount is BACKING itself and
 * the mount shows the log at the same path.
 */
static int check_audit_path(const char *log, const char *backing,
			    const char *mnt)
{
	char dir[PATH_MAX], real[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", log);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	if (!realpath(dir, real)) {
		fprintf(stderr, "rdmafs: audit_log %s: %s\n", log,
			strerror(errno));
		return -1;
	}
	if (strcmp(backing, mnt) != 0 &&
	    (strcmp(real, mnt) == 0 || path_under(real, mnt))) {
		fprintf(stderr,
			"rdmafs: audit_log %s is under the mountpoint %s: the mount would hide it; put it elsewhere\n",
			log, mnt);
		return -1;
	}
	return 0;
}

static int check_paths(struct rfs_opts *o)
{
	struct stat st;
	char real[PATH_MAX], breal[PATH_MAX];

	if (stat(o->backing, &st) < 0) {
		fprintf(stderr, "rdmafs: backing directory %s: %s\n",
			o->backing, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rdmafs: backing %s: %s\n", o->backing,
			strerror(ENOTDIR));
		return -1;
	}
	if (stat(o->mountpoint, &st) < 0) {
		fprintf(stderr, "rdmafs: mountpoint %s: %s\n", o->mountpoint,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rdmafs: mountpoint %s: %s\n", o->mountpoint,
			strerror(ENOTDIR));
		return -1;
	}
	if (!realpath(o->mountpoint, real)) {
		fprintf(stderr, "rdmafs: mountpoint %s: %s\n", o->mountpoint,
			strerror(errno));
		return -1;
	}
	/* Daemonising changes directory: unmounting needs the full path. */
	free(o->mountpoint);
	o->mountpoint = strdup(real);
	if (!o->mountpoint)
		return -1;
	if (rfs_is_rdmafs_mount(real)) {
		fprintf(stderr,
			"rdmafs: mountpoint %s is busy: rdmafs is already mounted there\n",
			real);
		return -1;
	}
	if (!realpath(o->backing, breal)) {
		fprintf(stderr, "rdmafs: backing directory %s: %s\n",
			o->backing, strerror(errno));
		return -1;
	}
	/*
	 * An overmounted BACKING reached by path is the rdmafs mount on it:
	 * its daemon serves the directory, and the lock in it is hidden.
	 */
	if (rfs_is_rdmafs_mount(breal)) {
		fprintf(stderr,
			"rdmafs: %s is already served by rdmafs (an rdmafs mount is on it)\n",
			o->backing);
		return -1;
	}
	if (check_nesting(breal, real) < 0)
		return -1;
	if (o->audit_log && check_audit_path(o->audit_log, breal, real) < 0)
		return -1;
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr,
			"rdmafs: /dev/fuse: %s (load the fuse module: modprobe fuse)\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(struct rfs *fs)
{
	unsigned int cap;
	int err;

	fs->is_root = geteuid() == 0;
	fs->timeout = fs->o.timeout >= 0 ? fs->o.timeout
					 : default_timeout(fs->o.cache, false);
	cap = fd_budget();
	if (fs->o.fd_cache)
		cap = fs->o.fd_cache;
	err = fdc_init(&fs->fdc, cap);
	if (err)
		return err;

	fs->root_fd = open(fs->o.backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0) {
		err = -errno;
		fprintf(stderr, "rdmafs: couldn't open %s: %s\n", fs->o.backing,
			strerror(errno));
		return err;
	}
	/* Handles are decoded relative to a real (not O_PATH) descriptor. */
	fs->mount_fd = open(fs->o.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->mount_fd < 0) {
		err = -errno;
		fprintf(stderr, "rdmafs: couldn't open %s: %s\n", fs->o.backing,
			strerror(errno));
		return err;
	}
	/* Before daemonising changes the directory: BACKING may be relative. */
	fs->backing_real = realpath(fs->o.backing, NULL);
	if (!fs->backing_real)
		return -errno;
	if (fs->o.timeout < 0)
		fs->timeout = default_timeout(
			fs->o.cache,
			strcmp(fs->backing_real, fs->o.mountpoint) == 0);
	fs->handles = probe_handles(fs->mount_fd);
	if (!fs->handles)
		fprintf(stderr,
			"rdmafs: warning: file handles unavailable here (needs root and a filesystem that exports them); holding one descriptor per inode\n");

	rfs_open_init(fs);
	err = rfs_itable_init(fs);
	if (err)
		return err;
	{
		struct stat st;

		if (fstat(fs->root_fd, &st) < 0)
			return -errno;
		fs->root.dev = st.st_dev;
		fs->root.ino = st.st_ino;
		fs->root.type = S_IFDIR;
		fs->root.fixed_fd = fs->root_fd;
		fs->root.mount_fd = fs->mount_fd;
		fs->root.nlookup = 2;
		fdc_entry_init(&fs->root.fdc);
	}
	rfs_itable_add_root(fs);
	return 0;
}

/*
 * Opens the audit trail before mounting: a log opened through the mount
 * would wait for the daemon that is opening it, and a missing directory
 * must fail here, while the exit status still reaches the caller.
 */
static int open_audit(struct rfs *fs)
{
	const char *log = fs->o.audit_log;
	char bad[PATH_MAX];

	/* -d: the audit lines on the terminal too, with the requests */
	fs->audit = audit_open(log, fs->o.debug ? AUDIT_STDERR : 0);
	if (fs->audit)
		return 0;
	if (errno == ELOOP)
		fprintf(stderr,
			"rdmafs: audit_log %s is a symbolic link: give the file itself\n",
			log);
	else if (errno == EINVAL)
		fprintf(stderr, "rdmafs: audit_log %s is not a regular file\n",
			log);
	else if (errno == EPERM)
		fprintf(stderr,
			"rdmafs: audit_log %s must be a file of uid %u with one link, writable only by its owner: remove it, or chown %u and chmod 0640 it\n",
			log, (unsigned int)geteuid(), (unsigned int)geteuid());
	else if (errno == EACCES &&
		 audit_unsafe_dir(log, bad, sizeof(bad)) == -EACCES)
		fprintf(stderr,
			"rdmafs: audit_log %s: directory %s can be written by others or is not root's: they could replace the log; put it in a directory only root (or uid %u) can write\n",
			log, bad, (unsigned int)geteuid());
	else
		fprintf(stderr, "rdmafs: couldn't open the audit log %s: %s\n",
			log ? log : "(syslog)", strerror(errno));
	return -1;
}

/*
 * What the pin service needs of the mediator, given here so that the pin
 * service does not depend on mediate.c (which depends on it).
 */
static const struct rfs_pin_hooks pin_hooks = {
	.changed = rfs_mediate_kick,
	.gate_lock = rfs_gate_lock_pin,
	.gate_unlock = rfs_gate_unlock_pin,
};

/*
 * Starts what runs threads, in the daemonised process; says what failed
 * on stderr, which is still the caller's (daemon.h).
 */
static int start_threads(struct rfs *fs)
{
	int err = rfs_pins_start(fs, &pin_hooks);

	if (err) {
		fprintf(stderr, "rdmafs: couldn't start the pin table: %s\n",
			strerror(-err));
		return err;
	}
	err = rfs_mediate_start(fs);
	if (err)
		fprintf(stderr, "rdmafs: couldn't start the mediator: %s\n",
			strerror(-err));
	return err;
}

/* fuse_opt splits -o values on commas: escape them (and backslashes). */
static char *escape_opt(const char *prefix, const char *val)
{
	size_t n = strlen(prefix), i;
	char *out = malloc(n + 2 * strlen(val) + 1), *p;

	if (!out)
		return NULL;
	memcpy(out, prefix, n);
	p = out + n;
	for (i = 0; val[i]; i++) {
		if (val[i] == ',' || val[i] == '\\')
			*p++ = '\\';
		*p++ = val[i];
	}
	*p = '\0';
	return out;
}

static void add_mount_opts(struct fuse_args *args, struct rfs *fs)
{
	/*
	 * The full path: a remount compares it with the BACKING it is given
	 * (remount.c), whatever the directory the daemon was started in.
	 */
	char *fsname = escape_opt("-ofsname=", fs->backing_real);

	/*
	 * libfuse mounts nosuid,nodev unless told otherwise; rdmafs stands in
	 * for the backing filesystem, so as root it keeps setuid files and
	 * device nodes working as they do there.  Given first, so that an
	 * explicit nosuid or nodev on the command line still wins.
	 */
	if (fs->is_root)
		fuse_opt_insert_arg(args, 1, "-osuid,dev");
	/* The kernel checks permissions from the attributes we return. */
	fuse_opt_add_arg(args, "-odefault_permissions");
	if (fsname)
		fuse_opt_add_arg(args, fsname);
	free(fsname);
	fuse_opt_add_arg(args, "-osubtype=rdmafs");
	/* libfuse starts the rings itself, or says why not and goes on. */
	rfs_uring_args(fs, args);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_loop_config *cfg = NULL;
	struct fuse_session *se;
	struct rfs fs;
	int ret = 1, err;

	memset(&fs, 0, sizeof(fs));
	fs.root_fd = -1;
	fs.mount_fd = -1;
	fs.lock_fd = -1;
	fs.dev_lock_fd = -1;
	fs.dp.tree_fd = fs.dp.tree_mnt = -1;
	/* Modes arrive already masked by the caller's umask. */
	umask(0);

	if (rfs_parse_opts(&args, &fs.o, &fs.pol) < 0)
		goto out_args;
	if (fs.o.remount) {
		ret = rfs_remount(&fs.o, &fs.pol, &args, argc, argv);
		goto out_args;
	}
	if (check_paths(&fs.o) < 0)
		goto out_args;
	if (setup(&fs) < 0)
		goto out_fs;
	/* Before mounting, and none starts a thread (daemonising). */
	if (rfs_instance_lock(&fs) < 0 || open_audit(&fs) < 0)
		goto out_fs;
	if (rfs_listing_init(&fs) < 0) {
		fprintf(stderr, "rdmafs: couldn't start the listing: %s\n",
			strerror(ENOMEM));
		goto out_fs;
	}
	add_mount_opts(&args, &fs);

	se = fuse_session_new(&args, &rfs_ops, sizeof(rfs_ops), &fs);
	if (!se)
		goto out_fs;
	fs.se = se;
	/*
	 * Before libfuse's handlers (whose SIGHUP would unmount) and before
	 * any thread: all of them inherit SIGHUP blocked, and SIGTERM and
	 * SIGINT until the mount serves (hup.c).
	 */
	rfs_hup_block();
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, fs.o.mountpoint) != 0) {
		fprintf(stderr, "rdmafs: couldn't mount on %s\n",
			fs.o.mountpoint);
		goto out_signals;
	}
	/*
	 * Not fuse_daemonize(): its parent exits 0 before the pin table can
	 * start (threads: only in the child), and the child's errors go to
	 * /dev/null.  The parent waits for rfs_daemon_ready() instead.
	 */
	err = rfs_daemon_fork(fs.o.foreground, se);
	if (err < 0) {
		fprintf(stderr, "rdmafs: couldn't daemonise: %s\n",
			strerror(-err));
		goto out_unmount;
	}
	/* The lock came along through the fork; its pid did not. */
	rfs_instance_note(&fs);
	if (start_threads(&fs) < 0)
		goto out_unmount;
	/* Not fatal: the mount serves without it (user.rdmafs.session). */
	err = rfs_sess_start(&fs);
	if (err)
		syslog(LOG_WARNING,
		       "no session channel: %s (session pins unavailable)",
		       strerror(-err));
	err = rfs_hup_start(&fs);
	if (err)
		syslog(LOG_WARNING,
		       "SIGHUP will unmount, not reopen the audit log: %s",
		       strerror(-err));
	rfs_daemon_ready(0);
	rfs_stop_signals_release();

	if (fs.o.max_threads == 1) {
		ret = fuse_session_loop(se);
	} else {
		cfg = fuse_loop_cfg_create();
		if (!cfg)
			goto out_unmount;
		fuse_loop_cfg_set_max_threads(cfg, fs.o.max_threads);
		fuse_loop_cfg_set_idle_threads(cfg, fs.o.max_threads);
		/*
		 * Off by default: on two CPUs it measured no faster (4 KiB
		 * random reads, 4 jobs), and each worker then holds one more
		 * descriptor.
		 */
		fuse_loop_cfg_set_clone_fd(cfg, fs.o.clone_fd);
		ret = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	/* A signal (SIGTERM, SIGINT) is a normal way to stop. */
	ret = ret < 0 ? 1 : 0;
	/* systemd (Type=notify): the unit is deactivating from here on. */
	rfs_daemon_stopping();

out_unmount:
	/*
	 * Sessions end first (holders read the channel's end), their pins
	 * going while the mediator and the pin table still run.
	 */
	rfs_sess_stop(&fs);
	/* Parked requests are answered while the kernel still listens. */
	rfs_mediate_stop(&fs);
	fuse_session_unmount(se);
	rfs_open_release_all(&fs);
	rfs_pins_stop(&fs);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	if (fs.itab.buckets)
		rfs_itable_destroy(&fs);
	if (fs.root_fd >= 0)
		close(fs.root_fd);
	if (fs.mount_fd >= 0)
		close(fs.mount_fd);
	if (fs.dp.tree_fd >= 0)
		close(fs.dp.tree_fd);
	if (fs.dp.tree_mnt >= 0)
		close(fs.dp.tree_mnt);
	fdc_destroy(&fs.fdc);
	rfs_listing_free(&fs);
	/* Its thread uses the audit trail. */
	rfs_hup_stop();
	audit_close(fs.audit);
	/* Last: the next daemon may start once the mount is gone. */
	rfs_instance_unlock(&fs);
out_args:
	free(fs.backing_real);
	rfs_free_opts(&fs.o);
	fuse_opt_free_args(&args);
	/* A start-up that failed in the background: its parent exits with it. */
	rfs_daemon_ready(ret);
	return ret;
}
