// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mount-test harness; see harness.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define IMG_SIZE "512m"
#define EXIT_WAIT_TICKS 3000 /* of 10 ms */
#define UMOUNT_TRIES 20 /* 100 ms apart */

void harness_require_root_fuse(void)
{
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "skip: mount tests need root\n");
		exit(SKIP_CODE);
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "skip: /dev/fuse: %s\n", strerror(errno));
		exit(SKIP_CODE);
	}
	close(fd);
}

const char *harness_rdmafs_bin(void)
{
	const char *b = getenv("RDMAFS_BIN");

	return b && *b ? b : "rdmafs";
}

int harness_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0) {
		va_end(ap);
		return -1;
	}
	va_end(ap);
	st = system(cmd);
	free(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

char *harness_run(int *st, const char *fmt, ...)
{
	char *cmd, *out = NULL, *grown;
	size_t cap = 0, len = 0, n;
	va_list ap;
	FILE *f;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	f = popen(cmd, "r");
	if (!f)
		abort();
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			grown = realloc(out, cap);
			if (!grown)
				abort();
			out = grown;
		}
		n = fread(out + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	out[len] = '\0';
	r = pclose(f);
	*st = r != -1 && WIFEXITED(r) ? WEXITSTATUS(r) : -1;
	free(cmd);
	return out;
}

const char *mnt_path(const struct mnt *m, const char *rel)
{
	static __thread char buf[4][PATH_MAX];
	static __thread int i;
	char *p = buf[i++ & 3];

	if (snprintf(p, PATH_MAX, "%s/%s", m->mountpoint, rel) >= PATH_MAX)
		abort();
	return p;
}

const char *bk_path(const struct mnt *m, const char *rel)
{
	static __thread char buf[4][PATH_MAX];
	static __thread int i;
	char *p = buf[i++ & 3];

	if (snprintf(p, PATH_MAX, "%s/%s", m->backing, rel) >= PATH_MAX)
		abort();
	return p;
}

static bool is_fuse(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool want_xfs(void)
{
	const char *kind = getenv("RDMAFS_TEST_BACKING");

	if (kind && strcmp(kind, "tmpdir") == 0)
		return false;
	return harness_sh("command -v mkfs.xfs >/dev/null 2>&1") == 0;
}

static int make_backing(struct mnt *m)
{
	snprintf(m->backing, sizeof(m->backing), "%s/backing", m->scratch);
	if (mkdir(m->backing, 0755) < 0)
		return -errno;
	m->xfs = false;
	if (!want_xfs())
		return 0;
	snprintf(m->img, sizeof(m->img), "%s/xfs.img", m->scratch);
	if (harness_sh("truncate -s %s '%s' && mkfs.xfs -q -m reflink=1 '%s' "
		       ">/dev/null 2>&1 && mount -o loop '%s' '%s' 2>/dev/null",
		       IMG_SIZE, m->img, m->img, m->img, m->backing) == 0) {
		m->xfs = true;
		return 0;
	}
	/* No loop devices here: a temp directory still tests the daemon. */
	unlink(m->img);
	return 0;
}

static void drop_backing(struct mnt *m)
{
	if (m->xfs) {
		umount2(m->backing, MNT_DETACH);
		unlink(m->img);
	}
	harness_sh("rm -rf '%s'", m->scratch);
}

int mnt_setup(struct mnt *m, const char *opts, bool overmount)
{
	const char *tmp = getenv("TMPDIR");
	int err;

	memset(m, 0, sizeof(*m));
	m->daemon = -1;
	snprintf(m->scratch, sizeof(m->scratch), "%s/rdmafs-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(m->scratch))
		return -errno;
	err = make_backing(m);
	if (err)
		goto fail;
	/* The tests run as other users too: let them reach the tree. */
	chmod(m->scratch, 0755);
	chmod(m->backing, 0777);
	m->overmount = overmount;
	if (overmount) {
		snprintf(m->mountpoint, sizeof(m->mountpoint), "%s",
			 m->backing);
	} else {
		snprintf(m->mountpoint, sizeof(m->mountpoint), "%s/mnt",
			 m->scratch);
		if (mkdir(m->mountpoint, 0755) < 0) {
			err = -errno;
			goto fail;
		}
	}

	err = mnt_start(m, opts);
	if (err == 0)
		return 0;
fail:
	drop_backing(m);
	return err;
}

/* Starts rdmafs -f on the existing backing directory and mountpoint. */
int mnt_start(struct mnt *m, const char *opts)
{
	pid_t parent;
	int i;

	parent = getpid();
	m->daemon = fork();
	if (m->daemon < 0)
		return -errno;
	if (m->daemon == 0) {
		char o[1024];

		/*
		 * Check SIGKILLs a failed test's process group, which would
		 * leave a dead mount behind.  Out of that group, the daemon
		 * gets SIGTERM when the test process dies instead, and
		 * unmounts on its way out.
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		snprintf(o, sizeof(o), "allow_other%s%s", opts ? "," : "",
			 opts ? opts : "");
		execlp(harness_rdmafs_bin(), "rdmafs", "-f", "-o", o,
		       m->backing, m->mountpoint, (char *)NULL);
		perror("exec rdmafs");
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		int st;

		if (is_fuse(m->mountpoint))
			return 0;
		if (waitpid(m->daemon, &st, WNOHANG) == m->daemon) {
			m->daemon = -1;
			return -EIO;
		}
		sleep_ms(10);
	}
	kill(m->daemon, SIGKILL);
	waitpid(m->daemon, NULL, 0);
	m->daemon = -1;
	umount2(m->mountpoint, MNT_DETACH);
	return -ETIMEDOUT;
}

/* How an unmount went: printed if the daemon then does not exit. */
struct umount_note {
	int mnt_id; /* the mount's ID, or -1 when it was not found */
	unsigned int major, minor; /* its device; minor is the connection */
	int fusermount; /* fusermount3's exit status, or -1 */
	char said[512]; /* what fusermount3 printed */
	int detach; /* umount2(MNT_DETACH): 0, -errno, or 1 when not tried */
};

/* The ID and device of the topmost mount at @path, from mountinfo. */
static void find_mount(const char *path, struct umount_note *u)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[PATH_MAX];
	unsigned int maj, min;
	int id;

	u->mnt_id = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %*d %u:%u %*s %4095s", &id, &maj, &min,
			   mp) == 4 &&
		    strcmp(mp, path) == 0) {
			u->mnt_id = id;
			u->major = maj;
			u->minor = min;
		}
	fclose(f);
}

/*
 * fusermount3 -u, else a lazy detach.  fusermount3 refuses (EBUSY) while
 * anything still uses the mount; the detach then hides the mount, but the
 * connection lives on, and the daemon with it, until the last user lets
 * go.  What happened is kept for wait_daemon()'s diagnostics.
 */
static void unmount(const char *mnt, struct umount_note *u)
{
	char *cmd;
	FILE *p;
	size_t n = 0;
	int i;

	find_mount(mnt, u);
	u->detach = 1;
	if (asprintf(&cmd, "fusermount3 -u '%s' 2>&1", mnt) < 0)
		cmd = NULL;
	/*
	 * Retried for up to 2 s: another process passing through the mount
	 * (a stat, the end of a directory walk) makes it busy for a moment.
	 */
	for (i = 0; i < UMOUNT_TRIES; i++) {
		u->fusermount = -1;
		u->said[0] = '\0';
		p = cmd ? popen(cmd, "r") : NULL;
		if (p) {
			int st;

			n = fread(u->said, 1, sizeof(u->said) - 1, p);
			u->said[n] = '\0';
			st = pclose(p);
			if (st != -1 && WIFEXITED(st))
				u->fusermount = WEXITSTATUS(st);
		}
		if (u->fusermount == 0 || u->mnt_id < 0)
			break;
		sleep_ms(100);
	}
	free(cmd);
	if (u->fusermount != 0)
		u->detach = umount2(mnt, MNT_DETACH) < 0 ? -errno : 0;
}

static void print_file(const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "%s%s", prefix, line);
	fclose(f);
}

static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

/* The mount ID in /proc/PID/fdinfo/FD, or -1. */
static int fdinfo_mnt_id(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "re");
	int id = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	fclose(f);
	return id;
}

/*
 * Every process with a descriptor, mapping or working directory on the
 * mount.  Nothing here stats a file on the mount: that would wait for the
 * daemon.  The mount ID survives a lazy detach, unlike the path.
 */
static void print_users(const struct umount_note *u)
{
	char dev[32], path[PATH_MAX], link[PATH_MAX], comm[64], line[1024];
	struct dirent *p, *d;
	DIR *proc = opendir("/proc");

	if (!proc || u->mnt_id < 0) {
		if (proc)
			closedir(proc);
		return;
	}
	snprintf(dev, sizeof(dev), " %02x:%02x ", u->major, u->minor);
	while ((p = readdir(proc))) {
		DIR *fds;
		FILE *maps;
		ssize_t n;

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
		read_line(path, comm, sizeof(comm));
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", p->d_name);
		fds = opendir(path);
		while (fds && (d = readdir(fds))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s",
				 p->d_name, d->d_name);
			if (fdinfo_mnt_id(path) != u->mnt_id)
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 p->d_name, d->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			link[n > 0 ? n : 0] = '\0';
			fprintf(stderr, "harness:   pid %s (%s) fd %s: %s\n",
				p->d_name, comm, d->d_name, link);
		}
		if (fds)
			closedir(fds);
		snprintf(path, sizeof(path), "/proc/%s/maps", p->d_name);
		maps = fopen(path, "re");
		while (maps && fgets(line, sizeof(line), maps))
			if (strstr(line, dev))
				fprintf(stderr,
					"harness:   pid %s (%s) maps %s",
					p->d_name, comm, line);
		if (maps)
			fclose(maps);
	}
	closedir(proc);
}

/*
 * Every thread's backtrace, if gdb is installed.  gdb runs without our
 * descriptors: it forks helpers while the daemon is stopped, and a helper
 * that exits closing a descriptor on the mount waits for the daemon to
 * answer its FLUSH, and gdb for the helper, for ever.
 */
static void print_gdb(pid_t pid)
{
	char arg[32], line[1024];
	int pfd[2], null;
	pid_t child;
	FILE *out;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return;
	snprintf(arg, sizeof(arg), "%d", (int)pid);
	child = fork();
	if (child == 0) {
		null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 ||
		    dup2(pfd[1], 2) < 0)
			_exit(127);
		closefrom(3);
		execlp("timeout", "timeout", "-k", "5", "60", "gdb", "-p", arg,
		       "-batch", "-ex", "thread apply all bt", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	out = child > 0 ? fdopen(pfd[0], "re") : NULL;
	if (!out) {
		close(pfd[0]);
		if (child > 0)
			waitpid(child, NULL, 0);
		return;
	}
	while (fgets(line, sizeof(line), out))
		fprintf(stderr, "harness:   %s", line);
	fclose(out);
	waitpid(child, NULL, 0);
}

/* The daemon's threads, in the kernel and (with gdb) in user space. */
static void print_daemon(pid_t pid)
{
	char path[PATH_MAX], comm[64], stat[512], wchan[64];
	struct dirent *d;
	DIR *tasks;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	while (tasks && (d = readdir(tasks))) {
		char *state;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid,
			 d->d_name);
		read_line(path, comm, sizeof(comm));
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid,
			 d->d_name);
		read_line(path, stat, sizeof(stat));
		state = strrchr(stat, ')');
		snprintf(path, sizeof(path), "/proc/%d/task/%s/wchan", (int)pid,
			 d->d_name);
		read_line(path, wchan, sizeof(wchan));
		fprintf(stderr,
			"harness:   thread %s (%s) state %.1s wchan %s\n",
			d->d_name, comm, state ? state + 2 : "?", wchan);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", (int)pid,
			 d->d_name);
		print_file(path, "harness:     ");
	}
	if (tasks)
		closedir(tasks);
	print_gdb(pid);
}

static void diagnose(const char *mnt, pid_t pid, const struct umount_note *u)
{
	char path[PATH_MAX];

	fprintf(stderr,
		"harness: rdmafs (pid %d) still runs %d s after unmounting %s (mount ID %d, device %u:%u)\n",
		(int)pid, EXIT_WAIT_TICKS / 100, mnt, u->mnt_id, u->major,
		u->minor);
	fprintf(stderr, "harness: fusermount3 -u exited %d%s%s", u->fusermount,
		u->said[0] ? ": " : "\n", u->said);
	if (u->detach <= 0)
		fprintf(stderr, "harness: umount2(MNT_DETACH): %s\n",
			u->detach ? strerror(-u->detach) : "done");
	fprintf(stderr, "harness: users of the mount:\n");
	print_users(u);
	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/waiting",
		 u->minor);
	print_file(path, "harness: requests waiting for the daemon: ");
	fprintf(stderr, "harness: the daemon's threads:\n");
	print_daemon(pid);
}

/*
 * Waits for the daemon to exit after unmount(), and sets *@st.  Returns 0,
 * or -ETIMEDOUT after printing why it might still run and killing it.
 */
static int wait_daemon(struct mnt *m, const struct umount_note *u, int *st)
{
	int i;

	/*
	 * The daemon must leave by itself once unmounted.  With many inodes
	 * cached it first frees them, which on a loaded 2-core machine can
	 * take seconds: allow 30.
	 */
	for (i = 0; i < EXIT_WAIT_TICKS; i++) {
		pid_t r = waitpid(m->daemon, st, WNOHANG);

		if (r == m->daemon)
			break;
		/* Not our child (any more): no use waiting 30 s for it. */
		if (r < 0 && errno != EINTR) {
			m->daemon = -1;
			return -ECHILD;
		}
		sleep_ms(10);
	}
	if (i == EXIT_WAIT_TICKS) {
		diagnose(m->mountpoint, m->daemon, u);
		kill(m->daemon, SIGKILL);
		waitpid(m->daemon, st, 0);
	}
	m->daemon = -1;
	return i == EXIT_WAIT_TICKS ? -ETIMEDOUT : 0;
}

int mnt_stop(struct mnt *m, bool crash)
{
	struct umount_note u;
	int st = 0, err;

	if (m->daemon <= 0)
		return -ECHILD;
	if (crash) {
		kill(m->daemon, SIGKILL);
		waitpid(m->daemon, &st, 0);
		m->daemon = -1;
		/* The dead mount answers ENOTCONN until it is detached. */
		return umount2(m->mountpoint, MNT_DETACH) < 0 ? -errno : 0;
	}
	unmount(m->mountpoint, &u);
	err = wait_daemon(m, &u, &st);
	if (err)
		return err;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -ECHILD;
}

int mnt_backing_shutdown(const struct mnt *m)
{
	if (!m->xfs)
		return -EOPNOTSUPP;
	return harness_sh("xfs_io -x -c shutdown '%s' >/dev/null 2>&1",
			  m->backing) == 0
		       ? 0
		       : -EIO;
}

/* The device mounted at @path (its mountinfo source), or "". */
static void mount_source(const char *path, char *dev, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[PATH_MAX], src[PATH_MAX];
	const char *sep;

	dev[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (sscanf(line, "%*d %*d %*u:%*u %*s %4095s", mp) == 1 &&
		    strcmp(mp, path) == 0 && sep &&
		    sscanf(sep, " - %*s %4095s", src) == 1)
			snprintf(dev, size, "%s", src);
	}
	fclose(f);
}

/*
 * Unmounts the backing XFS and mounts @dev (else the image) there again.
 * Returns 0, -EAGAIN when what got mounted is still the shut-down
 * filesystem, or another -errno.
 */
static int remount_once(struct mnt *m, const char *dev, bool same)
{
	struct stat st;
	int i, err = 0;

	/*
	 * The killed daemon's descriptors are closed by the time it is
	 * reaped, but a process that used the dead mount may still be on
	 * its way out: retry for up to 2 s.
	 */
	for (i = 0; i < UMOUNT_TRIES; i++) {
		err = umount(m->backing) < 0 ? -errno : 0;
		if (err != -EBUSY)
			break;
		sleep_ms(100);
	}
	if (err)
		return err;
	err = same ? harness_sh("mount -t xfs '%s' '%s' 2>/dev/null", dev,
				m->backing)
		   : -1;
	if (err != 0)
		err = harness_sh("mount -o loop '%s' '%s' 2>/dev/null", m->img,
				 m->backing);
	if (err != 0)
		return -EIO;
	/*
	 * A copy of the mount in another mount namespace (a process that
	 * unshared while it was mounted) keeps the shut-down superblock
	 * alive, and mounting the device again then gets that one back.
	 */
	return stat(m->backing, &st) < 0 && errno == EIO ? -EAGAIN : 0;
}

int mnt_backing_remount(struct mnt *m)
{
	char dev[PATH_MAX];
	int i, hold, err = 0;

	if (!m->xfs)
		return -EOPNOTSUPP;
	if (m->daemon > 0)
		return -EBUSY;
	/*
	 * The same loop device again, as a disk after a reboot: held open
	 * across the unmount so that it is not released (mount -o loop set
	 * it to detach itself), and another test cannot take it meanwhile.
	 */
	mount_source(m->backing, dev, sizeof(dev));
	hold = strncmp(dev, "/dev/loop", 9) == 0
		       ? open(dev, O_RDONLY | O_CLOEXEC)
		       : -1;
	for (i = 0; i < 50; i++) {
		err = remount_once(m, dev, hold >= 0);
		if (err != -EAGAIN)
			break;
		sleep_ms(100);
	}
	if (hold >= 0)
		close(hold);
	return err;
}

int mnt_teardown(struct mnt *m)
{
	struct umount_note u;
	int st = 0, ret = 0;

	unmount(m->mountpoint, &u);
	if (m->daemon > 0) {
		ret = wait_daemon(m, &u, &st);
		if (!ret)
			ret = WIFEXITED(st) ? WEXITSTATUS(st) : -ECHILD;
	}
	drop_backing(m);
	return ret;
}

void harness_cleanup_leftovers(const char *list)
{
	char line[PATH_MAX + 2];
	FILE *f = fopen(list, "r");
	struct stat st;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line || stat(line, &st) < 0)
			continue;
		harness_sh("umount -l '%s/mnt' 2>/dev/null; "
			   "umount -l '%s/backing' 2>/dev/null; rm -rf '%s'",
			   line, line, line);
	}
	fclose(f);
	unlink(list);
}
