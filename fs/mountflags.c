// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mount's atime options on the backing side.
 *
 * FUSE inodes never have their atime updated by the kernel (S_NOATIME):
 * the daemon's own reads of the backing file do it, under the backing
 * mount's options.  So `-o noatime` on the rdmafs mount would change
 * nothing unless the daemon reads with O_NOATIME, which it does while the
 * mount is noatime (and, for directories, nodiratime).  relatime and
 * strictatime are left to the backing mount, which updates atime under
 * its own rule: the daemon cannot make the backing stricter than it is.
 *
 * The flags are per mount and change with `mount -o remount,noatime`
 * (remount.c), so a thread watches /proc/self/mountinfo, which the kernel
 * marks POLLPRI whenever the namespace's mount table changes, and reads
 * our line again.  Our line: the topmost fuse.rdmafs mount at the
 * mountpoint when first read (with BACKING == MOUNTPOINT the backing
 * filesystem's line is there too), then the same mount ID, which a
 * remount keeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountflags.h"
#include "passthrough.h"

#define MOUNTINFO "/proc/self/mountinfo"

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static char *escape_path(const char *p)
{
	char *out = malloc(4 * strlen(p) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
			o += sprintf(o, "\\%03o", (unsigned char)*p);
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* True when the comma-separated @opts has @name. */
static bool has_opt(const char *opts, const char *name)
{
	size_t n = strlen(name);
	const char *p = opts;

	while ((p = strstr(p, name))) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

/* Reads our line and publishes its flags.  Returns 0 or -errno. */
static int read_flags(struct rfs_mflags *mf)
{
	FILE *f = fopen(MOUNTINFO, "re");
	char *line = NULL, opts[1024] = "", found_opts[1024];
	int id, found = -1;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");
		int mp_at, mp_end;

		if (!sep || sscanf(line, "%d %*d %*s %*s %n%*s%n %1023s", &id,
				   &mp_at, &mp_end, opts) != 2)
			continue;
		if (mf->mnt_id >= 0) {
			if (id != mf->mnt_id)
				continue;
		} else if ((size_t)(mp_end - mp_at) != strlen(mf->escaped) ||
			   strncmp(line + mp_at, mf->escaped,
				   (size_t)(mp_end - mp_at)) != 0 ||
			   strncmp(sep + 3, "fuse.rdmafs ", 12) != 0) {
			continue;
		}
		/* The last line for the path is the topmost mount. */
		found = id;
		snprintf(found_opts, sizeof(found_opts), "%s", opts);
	}
	free(line);
	fclose(f);
	/* Gone (unmounted lazily, or another namespace): keep the flags. */
	if (found < 0)
		return -ENOENT;
	mf->mnt_id = found;
	__atomic_store_n(&mf->noatime, has_opt(found_opts, "noatime"),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&mf->nodiratime, has_opt(found_opts, "nodiratime"),
			 __ATOMIC_RELAXED);
	/* The kernel reads passthrough files itself. */
	rfs_pt_atime(mf->fs, mf->noatime);
	return 0;
}

static void *watch(void *arg)
{
	struct rfs_mflags *mf = arg;
	struct pollfd p[2] = {
		{ .fd = mf->poll_fd, .events = POLLPRI },
		{ .fd = mf->wake[0], .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		/* The poll consumed the event; a change after it comes next. */
		if (p[0].revents & (POLLPRI | POLLERR))
			read_flags(mf);
	}
	return NULL;
}

int rfs_mflags_start(struct rfs *fs)
{
	struct rfs_mflags *mf = calloc(1, sizeof(*mf));
	sigset_t all, old;
	int err;

	if (!mf)
		return -ENOMEM;
	mf->mnt_id = -1;
	mf->fs = fs;
	mf->poll_fd = mf->wake[0] = mf->wake[1] = -1;
	mf->escaped = escape_path(fs->o.mountpoint);
	if (!mf->escaped) {
		err = -ENOMEM;
		goto fail;
	}
	/* Opened first: a change after it is seen by the first poll. */
	mf->poll_fd = open(MOUNTINFO, O_RDONLY | O_CLOEXEC);
	if (mf->poll_fd < 0 || pipe2(mf->wake, O_CLOEXEC) < 0) {
		err = -errno;
		goto fail;
	}
	read_flags(mf);
	/* Signals are for the session loop's thread, not this one. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = -pthread_create(&mf->thread, NULL, watch, mf);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto fail;
	mf->running = true;
	fs->mflags = mf;
	return 0;
fail:
	fs->mflags = mf;
	rfs_mflags_stop(fs);
	return err;
}

void rfs_mflags_stop(struct rfs *fs)
{
	struct rfs_mflags *mf = fs->mflags;

	if (!mf)
		return;
	fs->mflags = NULL;
	if (mf->running) {
		if (write(mf->wake[1], "", 1) < 0)
			pthread_cancel(mf->thread);
		pthread_join(mf->thread, NULL);
	}
	if (mf->wake[0] >= 0)
		close(mf->wake[0]);
	if (mf->wake[1] >= 0)
		close(mf->wake[1]);
	if (mf->poll_fd >= 0)
		close(mf->poll_fd);
	free(mf->escaped);
	free(mf);
}

void rfs_noatime_fd(int fd, bool want, bool *state)
{
	int fl;

	if (__atomic_load_n(state, __ATOMIC_RELAXED) == want)
		return;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, want ? fl | O_NOATIME : fl & ~O_NOATIME);
	/* Also when it failed (EPERM): no use trying at every read. */
	__atomic_store_n(state, want, __ATOMIC_RELAXED);
}
