// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Randomized data integrity through the mount.
 *
 * A few files are driven by thousands of random operations (writes of
 * 1 byte to 1 MiB anywhere, including past the end, reads, truncates,
 * hole punching, zeroing, copy_file_range between and within files,
 * reopening, fsync, aligned I/O through a second O_DIRECT descriptor, and
 * I/O through shared mappings) and every result is checked against an
 * in-memory model of each file's bytes and size; after each fsync and at
 * the end the backing file itself is compared too.  The caches in between
 * (the kernel's page cache, with and without writeback, and the daemon's
 * descriptor cache) are where a passthrough loses data, so the same
 * sequence runs under three cache modes, each on its own mount.
 *
 * The sequence comes from a fixed seed so that a failure can be replayed:
 * RDMAFS_SEED=N overrides it, RDMAFS_OPS=N the number of operations.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NFILES 4
#define FILE_MAX (4u << 20) /* no file grows past this */
#define IO_MAX (1u << 20)
#define DEFAULT_SEED 20240601u
#define DEFAULT_OPS 5000
#define TRACE_LEN 16
#define DIO_ALIGN 4096

enum {
	OP_WRITE,
	OP_READ,
	OP_TRUNCATE,
	OP_PUNCH,
	OP_ZERO,
	OP_COPY,
	OP_COPY_SELF,
	OP_SYNC,
	OP_REOPEN,
	OP_DIRECT,
	OP_MMAP,
	OP_VERIFY,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"write",     "read", "truncate", "punch",  "zero", "copy",
	"copy-self", "sync", "reopen",	 "direct", "mmap", "verify",
};

struct mfile {
	char name[16];
	int fd;
	int dfd; /* opened O_DIRECT, or -1 */
	unsigned char *data; /* FILE_MAX bytes, zero from size on */
	size_t size;
};

struct run {
	struct mnt m;
	uint64_t seed, rng;
	int op; /* index of the current operation */
	struct mfile f[NFILES];
	unsigned char *buf; /* read and write buffer, IO_MAX bytes */
	unsigned char *abuf; /* the same, aligned for O_DIRECT */
	char trace[TRACE_LEN][128]; /* the last operations, for failures */
	bool punch_ok, zero_ok, direct_ok;
	unsigned long counts[OP_COUNT];
};

/* xorshift64*: small, fast and the same on every machine. */
static uint64_t rnd(struct run *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ull;
}

static uint64_t below(struct run *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static void trace(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void trace(struct run *r, const char *fmt, ...)
{
	char *t = r->trace[r->op % TRACE_LEN];
	va_list ap;
	int n;

	n = snprintf(t, sizeof(r->trace[0]), "#%d ", r->op);
	va_start(ap, fmt);
	vsnprintf(t + n, sizeof(r->trace[0]) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Prints what led to a failure and the seed that replays it. */
static void dump(struct run *r)
{
	int i;

	fprintf(stderr,
		"failed at operation %d with RDMAFS_SEED=%" PRIu64
		"; the last operations:\n",
		r->op, r->seed);
	for (i = r->op - TRACE_LEN + 1; i <= r->op; i++)
		if (i >= 0 && r->trace[i % TRACE_LEN][0])
			fprintf(stderr, "  %s\n", r->trace[i % TRACE_LEN]);
}

#define CHECK(r, cond, fmt, ...)                                         \
	do {                                                             \
		if (!(cond)) {                                           \
			dump(r);                                         \
			ck_abort_msg("seed %" PRIu64 " op %d: " fmt,     \
				     (r)->seed, (r)->op, ##__VA_ARGS__); \
		}                                                        \
	} while (0)

/* A length from 1 to @max, spread evenly over orders of magnitude. */
static size_t rnd_len(struct run *r, size_t max)
{
	size_t len = 1 + below(r, 1ull << below(r, 21));

	return len > max ? max : len;
}

/* An offset for @len bytes: inside the file, near its end or anywhere. */
static size_t rnd_off(struct run *r, const struct mfile *f, size_t len)
{
	size_t off, lim = FILE_MAX - len;

	switch (below(r, 3)) {
	case 0:
		off = below(r, f->size ? f->size : 1);
		break;
	case 1:
		off = f->size + below(r, 128 << 10);
		off = off > 64 << 10 ? off - (64 << 10) : 0;
		break;
	default:
		off = below(r, FILE_MAX);
		break;
	}
	return off > lim ? lim : off;
}

static void fill(struct run *r, unsigned char *p, size_t n)
{
	uint64_t v = rnd(r);
	size_t i;

	/* A cheap stream that still differs at every byte and every call. */
	for (i = 0; i < n; i++) {
		if ((i & 7) == 0)
			v = v * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (unsigned char)(v >> (8 * (i & 7)));
	}
}

static size_t first_diff(const unsigned char *a, const unsigned char *b,
			 size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			break;
	return i;
}

static void model_zero(struct mfile *f, size_t off, size_t end)
{
	if (end > off)
		memset(f->data + off, 0, end - off);
}

static void model_resize(struct mfile *f, size_t size)
{
	if (size < f->size)
		model_zero(f, size, f->size);
	f->size = size;
}

static void check_size(struct run *r, struct mfile *f)
{
	struct stat st;

	CHECK(r, fstat(f->fd, &st) == 0, "fstat %s: %s", f->name,
	      strerror(errno));
	CHECK(r, (size_t)st.st_size == f->size, "%s: size %jd, expected %zu",
	      f->name, (intmax_t)st.st_size, f->size);
}

/* Reads the whole of @fd and compares it with the model. */
static void check_whole(struct run *r, struct mfile *f, int fd, const char *via)
{
	size_t off = 0, d;
	ssize_t n;

	for (;;) {
		n = pread(fd, r->buf, IO_MAX, (off_t)off);
		CHECK(r, n >= 0, "%s %s: read at %zu: %s", via, f->name, off,
		      strerror(errno));
		if (n == 0)
			break;
		CHECK(r, off + (size_t)n <= f->size,
		      "%s %s: %zd bytes at %zu, past the size %zu", via,
		      f->name, n, off, f->size);
		d = first_diff(r->buf, f->data + off, (size_t)n);
		CHECK(r, d == (size_t)n, "%s %s: byte %zu is %#x, expected %#x",
		      via, f->name, off + d, r->buf[d], f->data[off + d]);
		off += (size_t)n;
	}
	CHECK(r, off == f->size, "%s %s: read %zu bytes, size is %zu", via,
	      f->name, off, f->size);
}

/* The backing file must hold what the model holds once data is synced. */
static void check_backing(struct run *r, struct mfile *f)
{
	int fd = open(bk_path(&r->m, f->name), O_RDONLY);
	struct stat st;

	CHECK(r, fd >= 0, "open backing %s: %s", f->name, strerror(errno));
	CHECK(r, fstat(fd, &st) == 0 && (size_t)st.st_size == f->size,
	      "backing %s: size %jd, expected %zu", f->name,
	      (intmax_t)st.st_size, f->size);
	check_whole(r, f, fd, "backing");
	close(fd);
}

static void do_open(struct run *r, struct mfile *f, int extra)
{
	f->fd = open(mnt_path(&r->m, f->name), O_RDWR | O_CREAT | extra, 0644);
	CHECK(r, f->fd >= 0, "open %s: %s", f->name, strerror(errno));
}

static void op_write(struct run *r, struct mfile *f)
{
	size_t len = rnd_len(r, IO_MAX), off = rnd_off(r, f, len);
	ssize_t n;

	trace(r, "pwrite %s off %zu len %zu (size %zu)", f->name, off, len,
	      f->size);
	fill(r, r->buf, len);
	n = pwrite(f->fd, r->buf, len, (off_t)off);
	CHECK(r, n == (ssize_t)len, "pwrite %s %zu@%zu: %zd (%s)", f->name, len,
	      off, n, n < 0 ? strerror(errno) : "short");
	memcpy(f->data + off, r->buf, len);
	if (off + len > f->size)
		f->size = off + len;
}

static void op_read(struct run *r, struct mfile *f)
{
	size_t len = rnd_len(r, IO_MAX), off, want, d;
	ssize_t n;

	/* Now and then start at or past the end, which must read nothing. */
	off = below(r, 8) ? rnd_off(r, f, len) : f->size + below(r, 4096);
	want = off < f->size ? f->size - off : 0;
	if (want > len)
		want = len;
	trace(r, "pread %s off %zu len %zu (size %zu)", f->name, off, len,
	      f->size);
	n = pread(f->fd, r->buf, len, (off_t)off);
	CHECK(r, n == (ssize_t)want, "pread %s %zu@%zu: %zd, expected %zu (%s)",
	      f->name, len, off, n, want, n < 0 ? strerror(errno) : "");
	d = first_diff(r->buf, f->data + off, want);
	CHECK(r, d == want, "pread %s %zu@%zu: byte %zu is %#x, expected %#x",
	      f->name, len, off, off + d, r->buf[d], f->data[off + d]);
	check_size(r, f);
}

static void op_truncate(struct run *r, struct mfile *f)
{
	size_t size;

	switch (below(r, 4)) {
	case 0:
		size = 0;
		break;
	case 1: /* shrink a little, often inside a page */
		size = f->size - below(r, f->size < 8192 ? f->size + 1 : 8192);
		break;
	case 2: /* grow */
		size = f->size + rnd_len(r, FILE_MAX - f->size);
		if (size > FILE_MAX)
			size = FILE_MAX;
		break;
	default:
		size = below(r, FILE_MAX + 1);
		break;
	}
	trace(r, "ftruncate %s %zu (size %zu)", f->name, size, f->size);
	CHECK(r, ftruncate(f->fd, (off_t)size) == 0, "ftruncate %s %zu: %s",
	      f->name, size, strerror(errno));
	model_resize(f, size);
}

static void op_fallocate(struct run *r, struct mfile *f, bool punch)
{
	size_t len = rnd_len(r, IO_MAX), off = rnd_off(r, f, len);
	bool keep = punch || below(r, 2);
	int mode = (punch ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) |
		   (keep ? FALLOC_FL_KEEP_SIZE : 0);
	bool *ok = punch ? &r->punch_ok : &r->zero_ok;

	if (!*ok)
		return;
	trace(r, "fallocate %s %s%s off %zu len %zu (size %zu)", f->name,
	      punch ? "punch" : "zero", keep ? "|keep" : "", off, len, f->size);
	if (fallocate(f->fd, mode, (off_t)off, (off_t)len) < 0) {
		/* A backing filesystem without it: the rest still counts. */
		CHECK(r, errno == EOPNOTSUPP, "fallocate %s %#x %zu@%zu: %s",
		      f->name, mode, len, off, strerror(errno));
		fprintf(stderr, "note: fallocate mode %#x unsupported here\n",
			mode);
		*ok = false;
		return;
	}
	model_zero(f, off, off + len < f->size ? off + len : f->size);
	if (!keep && off + len > f->size)
		f->size = off + len;
}

static void op_copy(struct run *r, struct mfile *src, struct mfile *dst)
{
	size_t len = rnd_len(r, IO_MAX), in, out, want;
	loff_t oin, oout;
	ssize_t n;

	in = below(r, 4) ? rnd_off(r, src, len) : src->size;
	out = rnd_off(r, dst, len);
	if (src == dst) {
		/* Within one file the ranges must not overlap (EINVAL). */
		if (in < out + len && out < in + len) {
			if (in + 2 * len <= FILE_MAX)
				out = in + len;
			else if (in >= len)
				out = in - len;
			else
				return;
		}
	}
	want = in < src->size ? src->size - in : 0;
	if (want > len)
		want = len;
	trace(r, "copy_file_range %s@%zu -> %s@%zu len %zu (sizes %zu, %zu)",
	      src->name, in, dst->name, out, len, src->size, dst->size);
	oin = (loff_t)in;
	oout = (loff_t)out;
	n = copy_file_range(src->fd, &oin, dst->fd, &oout, len, 0);
	CHECK(r, n >= 0, "copy_file_range %s -> %s: %s", src->name, dst->name,
	      strerror(errno));
	/* It may copy less than asked, never nothing when data is there. */
	CHECK(r, (size_t)n <= want && (n > 0 || want == 0),
	      "copy_file_range %s@%zu -> %s@%zu len %zu: %zd, expected %zu",
	      src->name, in, dst->name, out, len, n, want);
	CHECK(r, oin == (loff_t)(in + n) && oout == (loff_t)(out + n),
	      "copy_file_range offsets moved to %jd, %jd", (intmax_t)oin,
	      (intmax_t)oout);
	memmove(dst->data + out, src->data + in, (size_t)n);
	if (n > 0 && out + (size_t)n > dst->size)
		dst->size = out + (size_t)n;
}

static void op_sync(struct run *r, struct mfile *f)
{
	bool data = below(r, 2);

	trace(r, "%s %s", data ? "fdatasync" : "fsync", f->name);
	CHECK(r, (data ? fdatasync(f->fd) : fsync(f->fd)) == 0, "fsync %s: %s",
	      f->name, strerror(errno));
	check_backing(r, f);
}

static void op_reopen(struct run *r, struct mfile *f)
{
	bool trunc = below(r, 5) == 0;

	trace(r, "reopen %s%s", f->name, trunc ? " O_TRUNC" : "");
	CHECK(r, close(f->fd) == 0, "close %s: %s", f->name, strerror(errno));
	if (f->dfd >= 0) {
		CHECK(r, close(f->dfd) == 0, "close %s (direct): %s", f->name,
		      strerror(errno));
		f->dfd = -1;
	}
	do_open(r, f, trunc ? O_TRUNC : 0);
	if (trunc)
		model_resize(f, 0);
	check_size(r, f);
}

/*
 * Aligned I/O through a second descriptor opened O_DIRECT: it bypasses the
 * page cache that the first one fills, so each must see the other's data.
 */
static void op_direct(struct run *r, struct mfile *f)
{
	size_t len = DIO_ALIGN * (1 + below(r, 64)), off, want, d;
	bool wr = below(r, 2);
	ssize_t n;

	if (!r->direct_ok)
		return;
	if (f->dfd < 0) {
		f->dfd = open(mnt_path(&r->m, f->name), O_RDWR | O_DIRECT);
		if (f->dfd < 0) {
			CHECK(r, errno == EINVAL, "open %s O_DIRECT: %s",
			      f->name, strerror(errno));
			fprintf(stderr, "note: O_DIRECT unsupported here\n");
			r->direct_ok = false;
			return;
		}
	}
	off = rnd_off(r, f, len) / DIO_ALIGN * DIO_ALIGN;
	if (wr) {
		trace(r, "direct pwrite %s off %zu len %zu (size %zu)", f->name,
		      off, len, f->size);
		fill(r, r->abuf, len);
		n = pwrite(f->dfd, r->abuf, len, (off_t)off);
		CHECK(r, n == (ssize_t)len,
		      "direct pwrite %s %zu@%zu: %zd (%s)", f->name, len, off,
		      n, n < 0 ? strerror(errno) : "short");
		memcpy(f->data + off, r->abuf, len);
		if (off + len > f->size)
			f->size = off + len;
		return;
	}
	/*
	 * Reads stay below the end of the file: past it, XFS may still hold
	 * delayed allocations from buffered writes, which a direct read
	 * meets with EIO ("Direct I/O collision with buffered writes"), as
	 * it would without the mount in between.
	 */
	if (off + len > f->size / DIO_ALIGN * DIO_ALIGN) {
		if (f->size < DIO_ALIGN)
			return;
		len = DIO_ALIGN * (1 + below(r, f->size / DIO_ALIGN));
		if (len > IO_MAX)
			len = IO_MAX;
		off = DIO_ALIGN *
		      below(r, f->size / DIO_ALIGN - len / DIO_ALIGN + 1);
	}
	trace(r, "direct pread %s off %zu len %zu (size %zu)", f->name, off,
	      len, f->size);
	want = len;
	n = pread(f->dfd, r->abuf, len, (off_t)off);
	CHECK(r, n == (ssize_t)want,
	      "direct pread %s %zu@%zu: %zd, expected %zu (%s)", f->name, len,
	      off, n, want, n < 0 ? strerror(errno) : "");
	d = first_diff(r->abuf, f->data + off, want);
	CHECK(r, d == want,
	      "direct pread %s %zu@%zu: byte %zu is %#x, expected %#x", f->name,
	      len, off, off + d, r->abuf[d], f->data[off + d]);
}

/* Reads or writes part of the file through a shared mapping. */
static void op_mmap(struct run *r, struct mfile *f)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off, len, start, d;
	bool wr = below(r, 2);
	unsigned char *map;

	if (!f->size)
		return;
	/* Within the size: touching a page wholly past it is SIGBUS. */
	off = below(r, f->size);
	len = rnd_len(r, f->size - off);
	start = off / page * page;
	trace(r, "mmap %s %s off %zu len %zu (size %zu)", f->name,
	      wr ? "write" : "read", off, len, f->size);
	map = mmap(NULL, off + len - start, PROT_READ | PROT_WRITE, MAP_SHARED,
		   f->fd, (off_t)start);
	CHECK(r, map != MAP_FAILED, "mmap %s: %s", f->name, strerror(errno));
	if (wr) {
		fill(r, map + (off - start), len);
		memcpy(f->data + off, map + (off - start), len);
		/* Not always synced: the page cache alone must carry it. */
		if (below(r, 2))
			CHECK(r, msync(map, off + len - start, MS_SYNC) == 0,
			      "msync %s: %s", f->name, strerror(errno));
	} else {
		d = first_diff(map + (off - start), f->data + off, len);
		CHECK(r, d == len,
		      "mmap %s %zu@%zu: byte %zu is %#x, expected %#x", f->name,
		      len, off, off + d, map[off - start + d],
		      f->data[off + d]);
	}
	CHECK(r, munmap(map, off + len - start) == 0, "munmap: %s",
	      strerror(errno));
}

/* Relative weights of the operations above, out of 100. */
static const int weights[OP_COUNT] = { 26, 22, 8, 7, 6, 7, 5, 3, 4, 5, 5, 2 };

static int pick_op(struct run *r)
{
	int w = (int)below(r, 100), i;

	for (i = 0; i < OP_COUNT - 1; i++) {
		if (w < weights[i])
			return i;
		w -= weights[i];
	}
	return OP_COUNT - 1;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	ck_assert_msg(!errno && !*end, "bad %s=%s", name, s);
	return v;
}

static void run_mode(const char *opts)
{
	struct run *r = calloc(1, sizeof(*r));
	int ops, k;

	ck_assert_ptr_nonnull(r);
	r->seed = env_u64("RDMAFS_SEED", DEFAULT_SEED);
	ops = (int)env_u64("RDMAFS_OPS", DEFAULT_OPS);
	/* Whiten the seed so that small seeds still start far apart. */
	r->rng = (r->seed + 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
	if (!r->rng)
		r->rng = 1;
	r->punch_ok = r->zero_ok = r->direct_ok = true;
	r->buf = malloc(IO_MAX);
	ck_assert_ptr_nonnull(r->buf);
	ck_assert_int_eq(posix_memalign((void **)&r->abuf, DIO_ALIGN, IO_MAX),
			 0);

	ck_assert_int_eq(mnt_setup(&r->m, opts, false), 0);
	fprintf(stderr,
		"integrity: -o %s, seed %" PRIu64
		", %d operations, %s backing\n",
		opts ? opts : "(defaults)", r->seed, ops,
		r->m.xfs ? "xfs" : "tmpdir");
	for (k = 0; k < NFILES; k++) {
		struct mfile *f = &r->f[k];

		snprintf(f->name, sizeof(f->name), "f%d", k);
		f->data = calloc(1, FILE_MAX);
		f->dfd = -1;
		ck_assert_ptr_nonnull(f->data);
		do_open(r, f, O_EXCL);
	}

	for (r->op = 0; r->op < ops; r->op++) {
		struct mfile *f = &r->f[below(r, NFILES)];
		struct mfile *g = &r->f[below(r, NFILES)];
		int op = pick_op(r);

		if (op == OP_COPY && g == f)
			g = &r->f[(g - r->f + 1) % NFILES];
		r->counts[op]++;
		switch (op) {
		case OP_WRITE:
			op_write(r, f);
			break;
		case OP_READ:
			op_read(r, f);
			break;
		case OP_TRUNCATE:
			op_truncate(r, f);
			break;
		case OP_PUNCH:
			op_fallocate(r, f, true);
			break;
		case OP_ZERO:
			op_fallocate(r, f, false);
			break;
		case OP_COPY:
			op_copy(r, f, g);
			break;
		case OP_COPY_SELF:
			op_copy(r, f, f);
			break;
		case OP_SYNC:
			op_sync(r, f);
			break;
		case OP_REOPEN:
			op_reopen(r, f);
			break;
		case OP_DIRECT:
			op_direct(r, f);
			break;
		case OP_MMAP:
			op_mmap(r, f);
			break;
		default:
			trace(r, "verify %s (size %zu)", f->name, f->size);
			check_size(r, f);
			check_whole(r, f, f->fd, "mount");
			break;
		}
	}

	/* Everything, through the mount and, once flushed, underneath it. */
	for (k = 0; k < NFILES; k++) {
		struct mfile *f = &r->f[k];

		trace(r, "final check %s (size %zu)", f->name, f->size);
		if (f->dfd >= 0)
			CHECK(r, close(f->dfd) == 0, "close %s: %s", f->name,
			      strerror(errno));
		check_size(r, f);
		check_whole(r, f, f->fd, "mount");
		CHECK(r, fsync(f->fd) == 0, "fsync %s: %s", f->name,
		      strerror(errno));
		CHECK(r, close(f->fd) == 0, "close %s: %s", f->name,
		      strerror(errno));
		check_backing(r, f);
		do_open(r, f, 0);
		check_whole(r, f, f->fd, "reopened");
		close(f->fd);
	}
	fprintf(stderr, "integrity: done:");
	for (k = 0; k < OP_COUNT; k++)
		fprintf(stderr, " %s %lu", op_names[k], r->counts[k]);
	fprintf(stderr, "\n");
	ck_assert_int_eq(mnt_teardown(&r->m), 0);
	for (k = 0; k < NFILES; k++)
		free(r->f[k].data);
	free(r->buf);
	free(r->abuf);
	free(r);
}

START_TEST(test_integrity_default)
{
	run_mode(NULL);
}
END_TEST

START_TEST(test_integrity_writeback)
{
	run_mode("writeback");
}
END_TEST

START_TEST(test_integrity_cache_never)
{
	run_mode("cache=never");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-integrity");
	TCase *tc = tcase_create("integrity");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	tcase_add_test(tc, test_integrity_default);
	tcase_add_test(tc, test_integrity_writeback);
	tcase_add_test(tc, test_integrity_cache_never);
	tcase_set_timeout(tc, 100);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
