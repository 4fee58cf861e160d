// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mount-test harness; see harness.h.
 */
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

int mnt_stop(struct mnt *m, bool crash)
{
	int st = 0, i;

	if (m->daemon <= 0)
		return -ECHILD;
	if (crash) {
		kill(m->daemon, SIGKILL);
		waitpid(m->daemon, &st, 0);
		m->daemon = -1;
		/* The dead mount answers ENOTCONN until it is detached. */
		return umount2(m->mountpoint, MNT_DETACH) < 0 ? -errno : 0;
	}
	if (harness_sh("fusermount3 -u '%s' 2>/dev/null", m->mountpoint) != 0)
		umount2(m->mountpoint, MNT_DETACH);
	for (i = 0; i < EXIT_WAIT_TICKS; i++) {
		if (waitpid(m->daemon, &st, WNOHANG) == m->daemon)
			break;
		sleep_ms(10);
	}
	if (i == EXIT_WAIT_TICKS) {
		kill(m->daemon, SIGKILL);
		waitpid(m->daemon, &st, 0);
	}
	m->daemon = -1;
	if (i == EXIT_WAIT_TICKS)
		return -ETIMEDOUT;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -ECHILD;
}

int mnt_teardown(struct mnt *m)
{
	int st = 0, i, ret = 0;

	if (harness_sh("fusermount3 -u '%s' 2>/dev/null", m->mountpoint) != 0)
		umount2(m->mountpoint, MNT_DETACH);
	if (m->daemon > 0) {
		/*
		 * The daemon must leave by itself once unmounted.  With many
		 * inodes cached it first answers the kernel's forgets, which
		 * on a loaded 2-core machine can take seconds: allow 30.
		 */
		for (i = 0; i < EXIT_WAIT_TICKS; i++) {
			if (waitpid(m->daemon, &st, WNOHANG) == m->daemon)
				break;
			sleep_ms(10);
		}
		if (i == EXIT_WAIT_TICKS) {
			kill(m->daemon, SIGKILL);
			waitpid(m->daemon, &st, 0);
			ret = -ETIMEDOUT;
		} else if (!WIFEXITED(st)) {
			ret = -ECHILD;
		} else {
			ret = WEXITSTATUS(st);
		}
	}
	drop_backing(m);
	return ret;
}
