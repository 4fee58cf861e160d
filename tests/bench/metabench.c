// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * metabench: time the create, stat and unlink of many empty files.
 *
 *   metabench [-d NDIRS] [-p SECONDS] DIR COUNT
 *
 * Files are spread round-robin over NDIRS subdirectories of DIR (none:
 * straight in DIR).  Each phase runs on one thread, touches every file
 * once in order and prints one line on stdout:
 *
 *   PHASE COUNT SECONDS OPS_PER_SECOND
 *
 * The first failure stops the run with a line
 *
 *   error PHASE INDEX ERRNO_NAME message
 *
 * and exit status 2, so that a caller can tell "ran out of descriptors"
 * from a slow run.
 *
 * -p sleeps SECONDS (untimed) before the stat and the unlink phase.  A
 * FUSE kernel caches names and attributes for its entry timeout; pausing
 * longer than that makes every stat and unlink ask the daemon, instead of
 * a mix of cached and uncached answers that depends on how fast the
 * create phase happened to run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

struct run {
	int dfd;
	unsigned long count;
	unsigned int ndirs;
	double pause;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void file_name(const struct run *r, unsigned long i, char *buf,
		      size_t len)
{
	if (r->ndirs)
		snprintf(buf, len, "d%04lu/f%08lu", i % r->ndirs, i);
	else
		snprintf(buf, len, "f%08lu", i);
}

static int fail(const char *phase, unsigned long i, int err)
{
	const char *name = strerrorname_np(err);

	printf("error %s %lu %s %s\n", phase, i, name ? name : "?",
	       strerror(err));
	fflush(stdout);
	fprintf(stderr, "metabench: %s of file %lu failed: %s\n", phase, i,
		strerror(err));
	return 2;
}

static int one_create(const struct run *r, const char *name)
{
	int fd = openat(r->dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
			0644);

	if (fd < 0)
		return errno;
	if (close(fd) < 0)
		return errno;
	return 0;
}

static int one_stat(const struct run *r, const char *name)
{
	struct stat st;

	if (fstatat(r->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno;
	/* A wrong answer is an error too, not just a failed call. */
	if (!S_ISREG(st.st_mode) || st.st_size != 0)
		return EBADE;
	return 0;
}

static int one_unlink(const struct run *r, const char *name)
{
	return unlinkat(r->dfd, name, 0) < 0 ? errno : 0;
}

static void pause_for(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int phase(const struct run *r, const char *label,
		 int (*op)(const struct run *, const char *))
{
	char name[64];
	double t0, t;
	unsigned long i;
	int err;

	t0 = now();
	for (i = 0; i < r->count; i++) {
		file_name(r, i, name, sizeof(name));
		err = op(r, name);
		if (err)
			return fail(label, i, err);
	}
	t = now() - t0;
	printf("%s %lu %.6f %.0f\n", label, r->count, t,
	       t > 0 ? r->count / t : 0.0);
	fflush(stdout);
	return 0;
}

static int make_dirs(const struct run *r, bool remove)
{
	char name[16];
	unsigned int d;

	for (d = 0; d < r->ndirs; d++) {
		snprintf(name, sizeof(name), "d%04u", d);
		if (remove ? unlinkat(r->dfd, name, AT_REMOVEDIR) < 0
			   : mkdirat(r->dfd, name, 0755) < 0)
			return fail(remove ? "rmdir" : "mkdir", d, errno);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: metabench [-d NDIRS] [-p SECONDS] DIR COUNT\n");
	exit(1);
}

int main(int argc, char *argv[])
{
	struct run r = { .dfd = -1 };
	char *end;
	int c, ret;

	while ((c = getopt(argc, argv, "d:p:")) != -1) {
		switch (c) {
		case 'd':
			r.ndirs = strtoul(optarg, &end, 10);
			if (*end || r.ndirs > 9999)
				usage();
			break;
		case 'p':
			r.pause = strtod(optarg, &end);
			if (*end || !isfinite(r.pause) || r.pause < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	r.count = strtoul(argv[optind + 1], &end, 10);
	if (*end || !r.count)
		usage();
	r.dfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r.dfd < 0) {
		fprintf(stderr, "metabench: couldn't open %s: %s\n",
			argv[optind], strerror(errno));
		return 1;
	}

	ret = make_dirs(&r, false);
	if (!ret)
		ret = phase(&r, "create", one_create);
	if (!ret) {
		pause_for(r.pause);
		ret = phase(&r, "stat", one_stat);
	}
	if (!ret) {
		pause_for(r.pause);
		ret = phase(&r, "unlink", one_unlink);
	}
	if (!ret)
		ret = make_dirs(&r, true);
	close(r.dfd);
	return ret;
}
