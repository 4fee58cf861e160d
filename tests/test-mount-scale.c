// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * More files than the daemon may hold descriptors for.
 *
 * The machine's open-file limit is 20,000.  A passthrough that keeps a
 * descriptor per inode the kernel remembers fails with EMFILE somewhere
 * past it; rdmafs names inodes by file handle and keeps only a bounded
 * cache of descriptors.  This test makes 30,000 files through the mount
 * (with long cache timeouts, so the kernel keeps every one looked up),
 * stats, opens and reads each, and holds 2,000 open at once while it stats
 * the rest, all the while counting the daemon's descriptors in
 * /proc/PID/fd.  No call may fail, and the count must stay under the limit
 * and under the cache bound plus the files held open.
 *
 * RDMAFS_SCALE_FILES=N changes the number of files (for quick runs).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NDIRS 10
#define DEFAULT_FILES 30000
#define HOLD 2000
#define FD_LIMIT 20000 /* this machine's hard limit; imposed elsewhere */
/*
 * Descriptors the daemon has besides its cache and open files: stdio,
 * /dev/fuse, the backing root twice, and those in flight in its worker
 * threads (an inode's own plus its directory's, and releases of files
 * the test has closed that it has not processed yet).
 */
#define MARGIN 96
#define SAMPLE_MS 20

struct sampler {
	pthread_t th;
	pid_t pid;
	atomic_bool stop;
	atomic_long peak; /* the most descriptors seen since last reset */
	atomic_long samples;
	atomic_int err; /* errno of a failed count */
};

/* Descriptors open in @pid now, or -errno. */
static long count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void note_count(struct sampler *s, long n)
{
	long peak = atomic_load(&s->peak);

	while (n > peak && !atomic_compare_exchange_weak(&s->peak, &peak, n))
		;
}

static void *sample(void *arg)
{
	struct sampler *s = arg;
	struct timespec ts = { 0, SAMPLE_MS * 1000000L };

	while (!atomic_load(&s->stop)) {
		long n = count_fds(s->pid);

		if (n < 0) {
			atomic_store(&s->err, (int)-n);
			break;
		}
		note_count(s, n);
		atomic_fetch_add(&s->samples, 1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Starts a phase: the peak from now on, including the count right now. */
static void phase_start(struct sampler *s)
{
	atomic_store(&s->peak, 0);
	note_count(s, count_fds(s->pid));
}

static long phase_peak(struct sampler *s, const char *phase, long bound)
{
	long peak;

	note_count(s, count_fds(s->pid));
	peak = atomic_load(&s->peak);
	fprintf(stderr, "scale:   %-28s daemon fds peak %ld (bound %ld)\n",
		phase, peak, bound);
	ck_assert_msg(atomic_load(&s->err) == 0, "counting fds: %s",
		      strerror(atomic_load(&s->err)));
	ck_assert_msg(peak > 0, "no fd count for %s", phase);
	ck_assert_msg(peak <= bound,
		      "%s: the daemon had %ld descriptors open, bound %ld",
		      phase, peak, bound);
	return peak;
}

/*
 * The daemon inherits our limits.  Where the hard limit is above 20,000,
 * bring it down to that, so the test makes more files than the daemon
 * could hold descriptors for on every machine; and let us hold files.
 */
static void set_fd_limit(void)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_LIMIT)
		rl.rlim_max = FD_LIMIT;
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* The daemon's soft open-file limit, from /proc/PID/limits. */
static long fd_limit(pid_t pid)
{
	char path[64], line[256];
	long soft = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Max open files %ld", &soft) == 1)
			break;
	fclose(f);
	ck_assert_int_gt(soft, 0);
	return soft;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *file_rel(int i)
{
	static char rel[64];

	snprintf(rel, sizeof(rel), "d%d/f%05d", i % NDIRS, i);
	return rel;
}

static int content(int i, char *buf, size_t size)
{
	return snprintf(buf, size, "file %d\n", i);
}

/*
 * XFS reserves speculative preallocation for every file written until
 * writeback runs: 30,000 small files would briefly take most of the 512 MiB
 * image.  Syncing now and then keeps the test about descriptors, not space.
 */
#define SYNC_EVERY 5000

static void create_all(struct mnt *m, int nfiles)
{
	char buf[64];
	int i, fd, n, bfd = open(m->backing, O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(bfd, 0);

	for (i = 0; i < NDIRS; i++) {
		snprintf(buf, sizeof(buf), "d%d", i);
		ck_assert_int_eq(mkdir(mnt_path(m, buf), 0755), 0);
	}
	for (i = 0; i < nfiles; i++) {
		fd = open(mnt_path(m, file_rel(i)), O_CREAT | O_EXCL | O_WRONLY,
			  0644);
		ck_assert_msg(fd >= 0, "create %s: %s", file_rel(i),
			      strerror(errno));
		n = content(i, buf, sizeof(buf));
		ck_assert_msg(write(fd, buf, (size_t)n) == n, "write %s: %s",
			      file_rel(i), strerror(errno));
		ck_assert_msg(close(fd) == 0, "close %s: %s", file_rel(i),
			      strerror(errno));
		if (i % SYNC_EVERY == SYNC_EVERY - 1)
			ck_assert_int_eq(syncfs(bfd), 0);
	}
	ck_assert_int_eq(syncfs(bfd), 0);
	close(bfd);
}

static void stat_one(struct mnt *m, int i)
{
	char buf[64];
	struct stat st;

	ck_assert_msg(stat(mnt_path(m, file_rel(i)), &st) == 0, "stat %s: %s",
		      file_rel(i), strerror(errno));
	ck_assert_msg(S_ISREG(st.st_mode) &&
			      st.st_size == content(i, buf, sizeof(buf)),
		      "stat %s: mode %o size %jd", file_rel(i), st.st_mode,
		      (intmax_t)st.st_size);
}

static void check_read(int fd, int i)
{
	char want[64], got[64];
	int n = content(i, want, sizeof(want));
	ssize_t r = pread(fd, got, sizeof(got), 0);

	ck_assert_msg(r == n && memcmp(got, want, (size_t)n) == 0,
		      "read %s: %zd bytes (%s)", file_rel(i), r,
		      r < 0 ? strerror(errno) : "wrong content");
}

static void read_one(struct mnt *m, int i)
{
	int fd = open(mnt_path(m, file_rel(i)), O_RDONLY);

	ck_assert_msg(fd >= 0, "open %s: %s", file_rel(i), strerror(errno));
	check_read(fd, i);
	ck_assert_msg(close(fd) == 0, "close %s: %s", file_rel(i),
		      strerror(errno));
}

static void list_all(struct mnt *m, int nfiles)
{
	char rel[16];
	int i, n;

	for (i = 0; i < NDIRS; i++) {
		DIR *d;
		struct dirent *de;

		snprintf(rel, sizeof(rel), "d%d", i);
		d = opendir(mnt_path(m, rel));
		ck_assert_msg(d, "opendir %s: %s", rel, strerror(errno));
		n = 0;
		errno = 0;
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		ck_assert_msg(errno == 0, "readdir %s: %s", rel,
			      strerror(errno));
		closedir(d);
		/* Files i with i % NDIRS == dir. */
		ck_assert_int_eq(n, nfiles / NDIRS + (i < nfiles % NDIRS));
	}
}

/*
 * @cache is the daemon's descriptor cache size, or 0 for its default:
 * half of its open-file limit (as its --help says).
 */
static void run_scale(const char *opts, long cache)
{
	const char *env = getenv("RDMAFS_SCALE_FILES");
	int nfiles = env && *env ? atoi(env) : DEFAULT_FILES;
	struct sampler s = { 0 };
	struct statvfs sv;
	struct mnt m;
	long limit, bound;
	int *held, hold, i, st;
	double t0 = now(), t;

	ck_assert_int_gt(nfiles, NDIRS);
	set_fd_limit();
	ck_assert_int_eq(mnt_setup(&m, opts, false), 0);
	limit = fd_limit(m.daemon);
	/* Fewer where the limit is low: we need a descriptor for each too. */
	hold = HOLD;
	if (hold > nfiles / 2)
		hold = nfiles / 2;
	if (hold > limit / 4)
		hold = (int)(limit / 4);
	held = calloc((size_t)hold, sizeof(*held));
	ck_assert_ptr_nonnull(held);
	if (!cache)
		cache = limit / 2;
	/* Past the limit, or the test proves nothing. */
	if (nfiles == DEFAULT_FILES)
		ck_assert_int_gt(nfiles, limit);
	bound = cache + MARGIN < limit ? cache + MARGIN : limit - 1;
	fprintf(stderr,
		"scale: -o %s: %d files, %s backing, daemon fd limit %ld, cache %ld\n",
		opts, nfiles, m.xfs ? "xfs" : "tmpdir", limit, cache);

	s.pid = m.daemon;
	ck_assert_int_eq(pthread_create(&s.th, NULL, sample, &s), 0);

	phase_start(&s);
	create_all(&m, nfiles);
	t = now();
	phase_peak(&s, "create", bound);
	ck_assert_int_eq(statvfs(m.backing, &sv), 0);
	fprintf(stderr,
		"scale:   created in %.1fs; backing has %lu inodes and %lu MiB free\n",
		t - t0, (unsigned long)sv.f_ffree,
		(unsigned long)(sv.f_bavail * sv.f_frsize >> 20));

	phase_start(&s);
	for (i = 0; i < nfiles; i++)
		stat_one(&m, i);
	phase_peak(&s, "stat all", bound);

	phase_start(&s);
	for (i = 0; i < nfiles; i++)
		read_one(&m, i);
	phase_peak(&s, "open+read+close all", bound);

	phase_start(&s);
	list_all(&m, nfiles);
	phase_peak(&s, "readdir", bound);

	/* Spread the held files over every directory. */
	phase_start(&s);
	for (i = 0; i < hold; i++) {
		int f = i * (nfiles / hold);

		held[i] = open(mnt_path(&m, file_rel(f)), O_RDONLY);
		ck_assert_msg(held[i] >= 0, "open %s with %d held: %s",
			      file_rel(f), i, strerror(errno));
	}
	for (i = 0; i < nfiles; i++)
		if (i % (nfiles / hold) || i / (nfiles / hold) >= hold)
			stat_one(&m, i);
	for (i = 0; i < hold; i++)
		check_read(held[i], i * (nfiles / hold));
	/* The daemon holds a descriptor per open file: we must see them. */
	ck_assert_int_ge(count_fds(m.daemon), hold);
	phase_peak(&s, "hold open, stat the rest",
		   bound + hold < limit ? bound + hold : limit - 1);
	for (i = 0; i < hold; i++)
		ck_assert_int_eq(close(held[i]), 0);

	atomic_store(&s.stop, true);
	pthread_join(s.th, NULL);
	fprintf(stderr, "scale:   %ld fd samples, %.1fs in all\n",
		atomic_load(&s.samples), now() - t0);
	ck_assert_int_gt(atomic_load(&s.samples), 0);

	/* Alive, and gone cleanly. */
	ck_assert_int_eq(waitpid(m.daemon, &st, WNOHANG), 0);
	ck_assert_int_eq(mnt_teardown(&m), 0);
	free(held);
}

/* The kernel keeps every name and attribute: nothing is looked up twice. */
START_TEST(test_scale_default_cache)
{
	run_scale("cache=always", 0);
}
END_TEST

/*
 * A small cache, and every access revalidated (timeout=0): the daemon
 * reopens inodes by handle all the time and must evict to stay in bounds.
 */
START_TEST(test_scale_small_cache)
{
	run_scale("cache=always,timeout=0,fd_cache=1000", 1000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-scale");
	TCase *tc = tcase_create("scale");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	tcase_add_test(tc, test_scale_default_cache);
	tcase_add_test(tc, test_scale_small_cache);
	tcase_set_timeout(tc, 240);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
