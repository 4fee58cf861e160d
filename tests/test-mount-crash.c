// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pins across power loss and crashes (DESIGN §11; issue 7, item 4 and
 * the crash-consistency test).  A power loss is an XFS shutdown of the
 * backing without a log flush (`xfs_io -x -c shutdown`): what is not on
 * the device is gone, as in a power cut; the image is then mounted again
 * and log recovery replays what reached it.
 *
 *  - "durable": a pin or unpin whose setxattr (or fsetxattr, setfattr,
 *    unpin by path, removexattr) returned survives a power loss right
 *    after it: the new pin is there, the removed one does not come back,
 *    and the mount-wide listing, read before any file is looked up (so
 *    from the index alone), agrees.
 *  - "crash": rounds of a stream of pins (several ranges per call, on
 *    sparse files, so that stabilisation allocates and writes), unpins,
 *    fsync'd writes and hole punches, cut at a random point by kill -9 of
 *    the daemon (even rounds) or a power loss (odd rounds).  After the
 *    restart: every acknowledged pin and unpin holds, the operation in
 *    flight took effect whole or not at all, fsync'd data reads back,
 *    every pinned range is mapped by written, unshared extents on the
 *    backing, and the listing (read first) and status agree.
 *
 * RDMAFS_CRASH_SEED=N repeats a run's choices (printed on failure; where
 * the cut lands also depends on timing), RDMAFS_CRASH_ROUNDS=N sets the
 * number of rounds (default 30, stopped early after CRASH_BUDGET s).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "crash-ops.h"
#include "crash-test-util.h"
#include "harness.h"
#include "pin-test-util.h"

#define KIB 1024ULL
#define MIB (1024ULL * 1024ULL)
#define CRASH_ROUNDS 30
#define CRASH_BUDGET 50 /* seconds of rounds at most */
#define ROUND_OPS 160
/*
 * The cut lands up to this long after the round's chosen operation was
 * acknowledged, so within the next few.  With the pin record synced by
 * fsync alone, which on XFS (6.18, loop) sometimes leaves a just-changed
 * xattr out of the log it forces, 10 ms caught the loss in 7 runs of 10,
 * 3 ms in 2 of 8.
 */
#define CUT_SPREAD_US 10000

/* Where own mounts record their scratch dirs, for cleanup after a crash. */
static char leftovers[PATH_MAX];

static void own_mount(struct mnt *m)
{
	FILE *f;

	ck_assert_int_eq(mnt_setup(m, NULL, false), 0);
	ck_assert_msg(m->xfs, "no loop-mounted XFS backing");
	f = fopen(leftovers, "a");
	if (f) {
		fprintf(f, "%s\n", m->scratch);
		fclose(f);
	}
}

/*
 * Restarts the daemon (after mnt_stop), and when that fails says what
 * the kernel said about the backing: a filesystem that shut itself down
 * or failed its log recovery is an XFS matter, not an rdmafs one.
 */
static void restart(struct mnt *m)
{
	int st, err = mnt_start(m, NULL);
	char *k;

	if (err == 0)
		return;
	k = harness_run(&st, "dmesg 2>/dev/null | grep -i xfs | tail -n 8");
	ck_assert_msg(0, "restarting rdmafs: %s; the kernel's last words:\n%s",
		      strerror(-err), k);
	free(k);
}

/* The power cut, then a new daemon on the recovered backing. */
static void power_loss(struct mnt *m)
{
	ck_assert_int_eq(mnt_backing_shutdown(m), 0);
	ck_assert_int_eq(mnt_stop(m, true), 0);
	ck_assert_int_eq(mnt_backing_remount(m), 0);
	restart(m);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

/* Asserts that @rel's pins and its listed pins are exactly @want. */
static void expect_pins(const struct mnt *m, const char *rel,
			const struct rgset *listed, const char *want)
{
	struct rgset s, w = { 0 };
	char a[512], b[512], buf[256], *tok, *save = NULL;
	int fd;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct rg r;

		ck_assert(rg_parse(tok, &r));
		set_add(&w, r);
	}
	ck_assert_msg(set_eq(listed, &w), "%s listed with %s, not %s", rel,
		      set_str(listed, a, sizeof(a)), set_str(&w, b, sizeof(b)));
	file_set(mnt_path(m, rel), &s);
	ck_assert_msg(set_eq(&s, &w), "%s has pins %s, not %s", rel,
		      set_str(&s, a, sizeof(a)), set_str(&w, b, sizeof(b)));
	fd = open(bk_path(m, rel), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < s.n; i++) {
		struct stat st;
		uint64_t off = s.r[i].off, len = s.r[i].len;

		ck_assert_int_eq(fstat(fd, &st), 0);
		if (s.r[i].all) {
			off = 0;
			len = (uint64_t)st.st_size;
		}
		ck_assert_msg(stable_bytes(fd, off, len) == len,
			      "%s: pinned [%" PRIu64 ", +%" PRIu64
			      ") is not all mapped and written",
			      rel, off, len);
	}
	close(fd);
}

static const char *durable_names[] = { "a", "d/b", "c" };

/* Three files, each on the device before anything is pinned. */
static void durable_files(const struct mnt *m)
{
	ck_assert_int_eq(mkdir(mnt_path(m, "d"), 0755), 0);
	put_random(mnt_path(m, "a"), MIB, 1);
	put_random(mnt_path(m, "d/b"), 256 * KIB, 2);
	put_file(mnt_path(m, "c"), "", 0, 0644);
	/* Sparse: the pins below have holes to fill. */
	ck_assert_int_eq(truncate(mnt_path(m, "c"), 2 * MIB), 0);
	sync();
}

/* ================= durable ================= */

START_TEST(test_pin_survives_power_loss)
{
	struct rgset l[3];
	struct mnt m;
	size_t n;
	int fd;

	own_mount(&m);
	durable_files(&m);
	ck_assert_int_eq(pin(mnt_path(&m, "a"), "0+64K,128K+4K"), 0);
	fd = open(mnt_path(&m, "d/b"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsetxattr(fd, CT_PIN, "4K+8K", 5, 0), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(harness_sh("setfattr -n %s -v 512K+1M '%s'", CT_PIN,
				    mnt_path(&m, "c")),
			 0);
	power_loss(&m);

	/* First the listing: only the index can know these files yet. */
	n = listing_sets(&m, durable_names, 3, l);
	expect_pins(&m, "a", &l[0], "0+65536,131072+4096");
	expect_pins(&m, "d/b", &l[1], "4096+8192");
	expect_pins(&m, "c", &l[2], "524288+1048576");
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(status_of(&m, "pins"), 4);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

START_TEST(test_unpin_survives_power_loss)
{
	struct rgset l[3];
	struct mnt m;
	size_t n;
	char v[64];

	own_mount(&m);
	durable_files(&m);
	ck_assert_int_eq(pin(mnt_path(&m, "a"), "0+64K,128K+4K"), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "d/b"), "4K+8K,all"), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "c"), "0+4K,512K+1"), 0);
	/* These pins are on the device whatever the daemon does. */
	sync();

	ck_assert_int_eq(unpin(mnt_path(&m, "a"), "128K+4K"), 0);
	ck_assert_int_eq(removexattr(mnt_path(&m, "d/b"), CT_PIN), 0);
	snprintf(v, sizeof(v), "c 512K+1");
	ck_assert_int_eq(setxattr(m.mountpoint, CT_UNPIN, v, strlen(v), 0), 0);
	power_loss(&m);

	n = listing_sets(&m, durable_names, 3, l);
	expect_pins(&m, "a", &l[0], "0+65536");
	expect_pins(&m, "d/b", &l[1], "");
	expect_pins(&m, "c", &l[2], "0+4096");
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(status_of(&m, "pins"), 2);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/*
 * An fsync of the file through the mount, with nothing else running,
 * puts its stored pins on the device even without rdmafs's own sync (XFS
 * logs the xattr with the inode), so what is left to lose is the index:
 * the listing must still name the file after a power loss, before
 * anything looks it up.
 */
START_TEST(test_index_survives_power_loss)
{
	struct rgset l[3];
	struct mnt m;
	size_t n;
	int fd;

	own_mount(&m);
	durable_files(&m);
	ck_assert_int_eq(pin(mnt_path(&m, "d/b"), "0+4K"), 0);
	fd = open(mnt_path(&m, "d/b"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(close(fd), 0);
	power_loss(&m);

	n = listing_sets(&m, durable_names, 3, l);
	expect_pins(&m, "d/b", &l[1], "0+4096");
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* ================= crash ================= */

/* Between the test and its worker process. */
struct shared {
	int started, done; /* ops started, ops that succeeded */
	int err; /* errno of the op that failed, or 0 */
	int crashed; /* set just before the crash */
	int early; /* 1 + index of an op that failed before it, or 0 */
};

static struct cfile files[NFILES];
static const char *cnames[NFILES];
static const uint64_t csizes[NFILES] = { MIB, 3 * MIB + 123, 8 * MIB,
					 256 * KIB + 1 };
static unsigned int seed0; /* of the run */
static int round_no; /* for messages */
static bool power_cut; /* the round's cut is a power loss */

#define CK(cond, ...)                                               \
	ck_assert_msg(cond,                                         \
		      "seed %u (RDMAFS_CRASH_SEED=%u repeats it), " \
		      "round %d: %s",                               \
		      seed0, seed0, round_no, fmt_msg(__VA_ARGS__))

static const char *fmt_msg(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *fmt_msg(const char *fmt, ...)
{
	static char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

/* The worker process: runs @ops in order until one fails. */
static void worker(const struct mnt *m, const struct op *ops, int n,
		   struct shared *sh)
{
	int i, err, root = open(m->mountpoint, O_RDONLY | O_DIRECTORY);

	for (i = 0; i < n; i++) {
		__atomic_store_n(&sh->started, i + 1, __ATOMIC_SEQ_CST);
		err = root < 0 ? errno : run_op(root, files, &ops[i]);
		if (err) {
			sh->err = err;
			if (!__atomic_load_n(&sh->crashed, __ATOMIC_SEQ_CST))
				sh->early = i + 1;
			break;
		}
		__atomic_store_n(&sh->done, i + 1, __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

/* The files, sparse: a few written pieces between holes. */
static void crash_files(const struct mnt *m, unsigned int *s)
{
	int i, k, fd;

	for (i = 0; i < NFILES; i++) {
		struct cfile *f = &files[i];

		snprintf(f->name, sizeof(f->name), "f%d", i);
		cnames[i] = f->name;
		f->size = csizes[i];
		f->data = calloc(1, f->size);
		ck_assert_ptr_nonnull(f->data);
		memset(&f->pins, 0, sizeof(f->pins));
		fd = open(mnt_path(m, f->name), O_CREAT | O_RDWR | O_CLOEXEC,
			  0644);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, (off_t)f->size), 0);
		for (k = 0; k < 3; k++) {
			struct op o = { .kind = K_WRITE };

			o.off = rnd64(s, f->size);
			o.len = 1 + rnd64(s, f->size - o.off < 64 * KIB
						     ? f->size - o.off
						     : 64 * KIB);
			o.seed = rnd(s);
			apply_data(&o, f->data);
			ck_assert_int_eq(pwrite(fd, f->data + o.off, o.len,
						(off_t)o.off),
					 (ssize_t)o.len);
		}
		ck_assert_int_eq(fsync(fd), 0);
		ck_assert_int_eq(close(fd), 0);
	}
	sync();
}

/*
 * The first byte of @d that is neither what the model says nor, inside
 * the write or punch in flight @fl, what that would have put there; or
 * the file's size.
 */
static uint64_t first_bad(const struct cfile *f, const unsigned char *d,
			  const struct op *fl)
{
	uint64_t k;

	if (fl && fl->kind != K_WRITE && fl->kind != K_PUNCH)
		fl = NULL;
	for (k = 0; k < f->size; k++) {
		if (d[k] == f->data[k])
			continue;
		if (!fl || k < fl->off || k >= fl->off + fl->len)
			return k;
		if (d[k] !=
		    (fl->kind == K_PUNCH ? 0 : wbyte(fl->seed, k - fl->off)))
			return k;
	}
	return k;
}

/* Reads a whole file through the mount (to free). */
static unsigned char *slurp(const char *path, uint64_t size)
{
	unsigned char *b = malloc(size + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t got = 0;
	ssize_t n;

	CK(b && fd >= 0, "open %s: %s", path, strerror(errno));
	while ((n = read(fd, b + got, size + 1 - got)) > 0)
		got += (uint64_t)n;
	CK(n == 0 && got == size, "read %s: %" PRIu64 " bytes (%s)", path, got,
	   strerror(errno));
	close(fd);
	return b;
}

/* The round's operations on file @i, for a failure's diagnosis. */
static void dump_ops(const struct op *ops, int n, int i)
{
	char a[1024];
	int j;

	fprintf(stderr, "mount-crash: round %d: %s had pins %s, then:\n",
		round_no, files[i].name, set_str(&files[i].pins, a, sizeof(a)));
	for (j = 0; j < n; j++)
		if (ops[j].file == i)
			fprintf(stderr,
				"mount-crash:   op %d: %s %s [%" PRIu64
				", +%" PRIu64 ")\n",
				j, kind_names[ops[j].kind], ops[j].value,
				ops[j].off, ops[j].len);
}

/* How the pin changes in flight at the crash turned out, over the run. */
static int n_applied, n_dropped, n_other;

/*
 * After the restart: everything @ops[0, @done) did is there; op @done,
 * if @flying, whole or not at all.  The model then takes what is there.
 */
static void verify(const struct mnt *m, const struct op *ops, int done,
		   bool flying)
{
	struct rgset want[NFILES], alt[NFILES], listed[NFILES], got;
	const struct op *fl = flying ? &ops[done] : NULL;
	char a[1024], b[1024], c[1024];
	long long total = 0;
	size_t lines;
	int i, j;

	for (i = 0; i < NFILES; i++)
		want[i] = files[i].pins;
	for (j = 0; j < done; j++) {
		apply_pins(&ops[j], &want[ops[j].file]);
		apply_data(&ops[j], files[ops[j].file].data);
	}
	memcpy(alt, want, sizeof(alt));
	if (fl)
		apply_pins(fl, &alt[fl->file]);

	/* The listing first: before any file is looked up again. */
	lines = listing_sets(m, cnames, NFILES, listed);
	for (i = 0; i < NFILES; i++) {
		struct cfile *f = &files[i];
		unsigned char *d = slurp(mnt_path(m, f->name), f->size);
		int fd = open(bk_path(m, f->name), O_RDONLY | O_CLOEXEC);
		uint64_t k;
		size_t p;

		file_set(mnt_path(m, f->name), &got);
		if ((!set_eq(&got, &want[i]) && !set_eq(&got, &alt[i])) ||
		    !set_eq(&got, &listed[i]))
			dump_ops(ops, done + !!fl, i);
		CK(set_eq(&got, &want[i]) || set_eq(&got, &alt[i]),
		   "%s has pins %s; acknowledged: %s%s%s (in flight: %s %s)",
		   f->name, set_str(&got, a, sizeof(a)),
		   set_str(&want[i], b, sizeof(b)),
		   fl && fl->file == i ? ", or with the one in flight: " : "",
		   fl && fl->file == i ? set_str(&alt[i], c, sizeof(c)) : "",
		   fl ? kind_names[fl->kind] : "none", fl ? fl->value : "");
		CK(set_eq(&got, &listed[i]),
		   "%s has pins %s but is listed with %s", f->name,
		   set_str(&got, a, sizeof(a)),
		   set_str(&listed[i], b, sizeof(b)));
		CK(fd >= 0, "open backing %s: %s", f->name, strerror(errno));
		for (p = 0; p < got.n; p++) {
			uint64_t off = got.r[p].all ? 0 : got.r[p].off;
			uint64_t len = got.r[p].all ? f->size : got.r[p].len;
			uint64_t s = stable_bytes(fd, off, len);

			CK(s == len,
			   "%s: pinned [%" PRIu64 ", +%" PRIu64
			   "): only %" PRIu64
			   " bytes mapped by written extents on the backing",
			   f->name, off, len, s);
		}
		close(fd);
		k = first_bad(f, d, fl && fl->file == i ? fl : NULL);
		if (k != f->size)
			dump_ops(ops, done + !!fl, i);
		CK(k == f->size,
		   "%s: byte %" PRIu64 " reads %#x, fsync'd %#x%s", f->name, k,
		   d[k], f->data[k],
		   power_cut ? " (after a power cut: XFS over loop was seen "
			       "to lose fsync'd data without rdmafs too, in 4 "
			       "of 80 cuts taken during other writes; "
			       "syncfs lost none)"
			     : "");
		memcpy(f->data, d, f->size);
		free(d);
		if (fl && fl->file == i && !set_eq(&want[i], &alt[i]))
			++*(set_eq(&got, &alt[i]) ? &n_applied : &n_dropped);
		else if (fl && fl->file == i)
			n_other++;
		f->pins = got;
		total += (long long)got.n;
	}
	CK((long long)lines == total, "the listing has %zu lines for %lld pins",
	   lines, total);
	CK(status_of(m, "pins") == total,
	   "status says pins=%lld, files have %lld", status_of(m, "pins"),
	   total);
}

static unsigned int env_uint(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 0) : dflt;
}

/* One round: a stream of ops, a crash somewhere in it, the restart. */
static void crash_round(struct mnt *m, unsigned int *s, bool power)
{
	static struct op ops[ROUND_OPS];
	struct rgset sim[NFILES];
	struct shared *sh;
	int i, st, cut, waited;
	pid_t w;

	power_cut = power;
	for (i = 0; i < NFILES; i++)
		sim[i] = files[i].pins;
	for (i = 0; i < ROUND_OPS; i++)
		gen_op(s, files, sim, &ops[i]);
	cut = (int)(rnd(s) % (ROUND_OPS / 2));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	w = fork();
	ck_assert_int_ge(w, 0);
	if (w == 0)
		worker(m, ops, ROUND_OPS, sh);

	/* Let @cut operations finish, then cut into the next one. */
	for (waited = 0; waited < 30000; waited++) {
		if (__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST) >= cut ||
		    __atomic_load_n(&sh->err, __ATOMIC_SEQ_CST))
			break;
		sleep_us(1000);
	}
	sleep_us((long)(rnd(s) % CUT_SPREAD_US));
	__atomic_store_n(&sh->crashed, 1, __ATOMIC_SEQ_CST);
	if (power)
		ck_assert_int_eq(mnt_backing_shutdown(m), 0);
	ck_assert_int_eq(mnt_stop(m, true), 0);
	for (waited = 0; waited < 1000; waited++) {
		if (waitpid(w, &st, WNOHANG) == w)
			break;
		sleep_us(10000);
	}
	if (waited == 1000) {
		kill(w, SIGKILL);
		waitpid(w, &st, 0);
	}
	CK(!sh->early, "%s %s on %s failed before the crash: %s",
	   kind_names[ops[sh->early - 1].kind], ops[sh->early - 1].value,
	   files[ops[sh->early - 1].file].name, strerror(sh->err));
	if (power)
		ck_assert_int_eq(mnt_backing_remount(m), 0);
	restart(m);
	printf("mount-crash: round %d (%s): %d ops acknowledged, %s\n",
	       round_no, power ? "power loss" : "kill -9", sh->done,
	       sh->started > sh->done ? kind_names[ops[sh->done].kind]
				      : "none in flight");
	fflush(stdout);
	verify(m, ops, sh->done, sh->started > sh->done);
	munmap(sh, sizeof(*sh));
}

START_TEST(test_crash_consistency)
{
	unsigned int rounds = env_uint("RDMAFS_CRASH_ROUNDS", CRASH_ROUNDS);
	unsigned int s;
	double t0 = now_s();
	struct mnt m;
	int i;

	seed0 = env_uint("RDMAFS_CRASH_SEED", 20261130u);
	s = seed0;
	printf("mount-crash: seed %u, %u rounds\n", seed0, rounds);
	own_mount(&m);
	crash_files(&m, &s);
	for (round_no = 0; round_no < (int)rounds; round_no++) {
		if (now_s() - t0 > CRASH_BUDGET) {
			printf("mount-crash: time is up after %d rounds\n",
			       round_no);
			break;
		}
		crash_round(&m, &s, round_no % 2 == 1);
	}
	printf("mount-crash: in flight at the crash: %d pin changes kept, "
	       "%d lost (both allowed), %d writes, punches or no-ops\n",
	       n_applied, n_dropped, n_other);
	for (i = 0; i < NFILES; i++)
		free(files[i].data);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* Whether a loop-mounted XFS can be made here (else skip). */
static bool have_xfs(void)
{
	const char *kind = getenv("RDMAFS_TEST_BACKING");

	if (kind && strcmp(kind, "tmpdir") == 0)
		return false;
	return harness_sh("command -v xfs_io >/dev/null && "
			  "command -v mkfs.xfs >/dev/null && "
			  "command -v setfattr >/dev/null && "
			  "losetup -f >/dev/null 2>&1") == 0;
}

int main(void)
{
	Suite *s = suite_create("mount-crash");
	TCase *dur = tcase_create("durable");
	TCase *cr = tcase_create("crash");
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed, fd;

	harness_require_root_fuse();
	if (!have_xfs()) {
		fprintf(stderr, "skip: needs xfs_io, mkfs.xfs, setfattr and "
				"a free loop device\n");
		return SKIP_CODE;
	}
	umask(022);
	/*
	 * The mounts in a namespace of our own: a test that unshares its
	 * mount namespace while ours are mounted (test-mount-startup.sh
	 * does) keeps copies of them, and with them the shut-down XFS, which
	 * mounting its device again would then give back instead of
	 * recovering it.  Leaving the namespace also unmounts everything.
	 */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	snprintf(leftovers, sizeof(leftovers), "%s/rdmafs-crash-left.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(leftovers);
	if (fd >= 0)
		close(fd);

	tcase_add_test(dur, test_pin_survives_power_loss);
	tcase_add_test(dur, test_unpin_survives_power_loss);
	tcase_add_test(dur, test_index_survives_power_loss);
	tcase_set_timeout(dur, 60);
	suite_add_tcase(s, dur);

	tcase_add_test(cr, test_crash_consistency);
	tcase_set_timeout(cr, 120);
	suite_add_tcase(s, cr);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
