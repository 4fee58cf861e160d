// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mediation through a real mount (DESIGN.md §3 and §5, issue 4): every
 * operation class (truncate, punch, reflink, unlink) under every action
 * (refuse, defer, break, audit, and copy for reflink), through the
 * syscalls and the real tools, with the file's size, content and -- via
 * FIEMAP on the backing file -- physical blocks checked after each
 * refusal, the timing of defer and break (wake on unpin, timeout,
 * interrupt), many parked requests at once, SIGTERM with parked
 * requests, the status counters, bad option values, and the audit trail
 * read back as JSON and checked field by field for known offenders.
 *
 * One mount per action ("refuse", "audit", "classes", "defer", "break"),
 * shared by the tests of that case, each test in its own directory: a
 * parked unlink or rename holds its directory's lock in the kernel, so
 * tests sharing a directory would wait for each other.
 *
 * The audit log is read with python3's json module (every line parsed,
 * members checked in order).  Wake-up times are held to 100 ms, or 500 ms
 * on an overloaded machine (see wake_limit()).
 *
 * test_defer_wake_locked pins down a limitation the kernel imposes (a
 * parked truncate, punch, unlink or copy into a file holds that file's
 * inode lock, which an unpin through setxattr on that file needs;
 * doc/pins.md says to unpin through the root).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "clock-test-util.h"
#include "harness.h"
#include "pin-test-util.h"

#define PIN "user.rdmafs.pin"
#define UNPIN "user.rdmafs.unpin"
#define STATUS "user.rdmafs.status"
#define KIB 1024L
#define MIB (1024L * 1024L)
#define BLK 4096L
#define FUSE_SUPER_MAGIC 0x65735546

/* The mount of the running case. */
static struct mnt M;
/* Audit logs and the JSON reader live here. */
static char logdir[PATH_MAX];
static char pyscript[PATH_MAX + 32];
/* The audit log of the running case's mount. */
static char logpath[PATH_MAX + 32];
/* Where own mounts record their scratch dirs, for cleanup after a crash. */
static char leftovers[PATH_MAX];

/* ================= small helpers ================= */

/*
 * How soon a parked request must end once its pins are gone: 100 ms
 * (DESIGN: "well under 100 ms"), or 500 ms, with a note, when the machine
 * is overloaded (1-minute load average above twice the CPUs), so that
 * other jobs cannot make the test flaky.
 */
static int64_t wake_limit(void)
{
	static int64_t lim;
	double load = 0;
	FILE *f;

	if (lim)
		return lim;
	lim = 100;
	f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = 0;
		fclose(f);
	}
	if (load > 2.0 * (double)sysconf(_SC_NPROCESSORS_ONLN)) {
		lim = 500;
		printf("mount-mediate: load average %.1f: wake-up limit %" PRId64
		       " ms instead of 100\n",
		       load, lim);
	}
	return lim;
}

/*
 * Memory that lives until the (short-lived) test process exits: path
 * copies, block maps.  Listed here so that it is never taken for a leak.
 */
static void **held;
static size_t nheld;

static void *hold(void *p)
{
	void **grown = realloc(held, (nheld + 1) * sizeof(*held));

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(grown);
	held = grown;
	held[nheld++] = p;
	return p;
}

/* A copy of a mnt_path()/bk_path() result, which lives until exit. */
static const char *keep(const char *p)
{
	return hold(strdup(p));
}

static const char *mp(const char *rel)
{
	return keep(mnt_path(&M, rel));
}

static const char *bp(const char *rel)
{
	return keep(bk_path(&M, rel));
}

static void mkdir_m(const char *rel)
{
	ck_assert_msg(mkdir(mnt_path(&M, rel), 0777) == 0 || errno == EEXIST,
		      "mkdir %s: %s", rel, strerror(errno));
	ck_assert_int_eq(chmod(mnt_path(&M, rel), 0777), 0);
}

/* FNV-1a of [off, off + len) of a file (len < 0: to its end). */
static uint64_t fnv_range(const char *path, off_t off, long len)
{
	static unsigned char b[1 << 16];
	uint64_t h = 0xcbf29ce484222325ull;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, i;
	long left = len < 0 ? LONG_MAX : len;

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	while (left > 0 &&
	       (n = pread(fd, b,
			  (size_t)(left < (long)sizeof(b) ? left
							  : (long)sizeof(b)),
			  off)) > 0) {
		for (i = 0; i < n; i++)
			h = (h ^ b[i]) * 0x100000001b3ull;
		off += n;
		left -= n;
	}
	close(fd);
	return h;
}

static uint64_t fnv(const char *path)
{
	return fnv_range(path, 0, -1);
}

static bool all_zero(const char *path, off_t off, size_t len)
{
	char *b = malloc(len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool z = true;
	size_t i;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, b, len, off), (ssize_t)len);
	for (i = 0; i < len && z; i++)
		z = b[i] == 0;
	free(b);
	close(fd);
	return z;
}

static off_t size_of(const char *path)
{
	struct stat st;

	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
		      strerror(errno));
	return st.st_size;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Unpins @range of @rel (escaped as in a listing) through the root. */
static int root_unpin(const char *rel, const char *range)
{
	char v[PATH_MAX + 64];

	snprintf(v, sizeof(v), "%s %s", rel, range);
	return setxattr(M.mountpoint, UNPIN, v, strlen(v), 0) < 0 ? errno : 0;
}

/* The value of xattr @name (NUL-terminated, to free); "" on ENODATA. */
static char *get(const char *path, const char *name)
{
	char *b = malloc(65537);
	ssize_t n;

	ck_assert_ptr_nonnull(b);
	n = getxattr(path, name, b, 65536);
	if (n < 0) {
		ck_assert_msg(errno == ENODATA, "get %s of %s: %s", name, path,
			      strerror(errno));
		n = 0;
	}
	b[n] = '\0';
	return b;
}

/* True when @path has a pin of exactly @range ("OFFSET+LENGTH"/"all"). */
static bool has_pin(const char *path, const char *range)
{
	char *v = get(path, PIN), *line, want[64];
	bool r;

	snprintf(want, sizeof(want), "\n%s ", range);
	line = malloc(strlen(v) + 2);
	ck_assert_ptr_nonnull(line);
	line[0] = '\n';
	strcpy(line + 1, v);
	r = strstr(line, want) != NULL;
	free(line);
	free(v);
	return r;
}

static size_t npins(const char *path)
{
	char *v = get(path, PIN), *p;
	size_t n = 0;

	for (p = v; *p; p++)
		n += *p == '\n';
	free(v);
	return n;
}

/* The value of status key @key (to free), or NULL when missing. */
static char *status_str(const char *key)
{
	char *v = get(M.mountpoint, STATUS), *p, *r = NULL;
	size_t kl = strlen(key);

	for (p = v; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			r = strndup(p + kl + 1, strcspn(p + kl + 1, "\n"));
			break;
		}
	}
	free(v);
	return r;
}

static long long status_of(const char *key)
{
	char *v = status_str(key);
	long long r;

	ck_assert_msg(v, "no %s= in %s", key, STATUS);
	r = strtoll(v, NULL, 10);
	free(v);
	return r;
}

static void expect_status(const char *key, const char *want)
{
	char *v = status_str(key);

	ck_assert_msg(v, "no %s= in %s", key, STATUS);
	ck_assert_msg(strcmp(v, want) == 0, "status %s=%s, want %s", key, v,
		      want);
	free(v);
}

/*
 * Starts @argv[0] (an absolute path) as @uid (and gid) with stderr to a
 * pipe returned in *@errfd; returns its pid.
 */
static pid_t spawn(uid_t uid, char *const argv[], int *errfd)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 2);
		if (uid != 0 &&
		    (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		     setresuid(uid, uid, uid) < 0))
			_exit(99);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*errfd = p[0];
	return pid;
}

static char *read_all(int fd)
{
	char *b = calloc(1, 8192);
	size_t len = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(b);
	while (len < 8191 && (n = read(fd, b + len, 8191 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return b;
}

/* Waits for @pid at most @ms; returns its wait status or -1 (still runs). */
static int wait_for(pid_t pid, long ms)
{
	int64_t end = now_ms() + ms;
	int st;

	do {
		pid_t r = waitpid(pid, &st, WNOHANG);

		ck_assert_int_ge(r, 0);
		if (r == pid)
			return st;
		sleep_ms(5);
	} while (now_ms() < end);
	return -1;
}

/* ================= FIEMAP of the backing file ================= */

/*
 * The physical address of every 4 KiB block of [off, off + len) of the
 * BACKING file @bk (0: a hole); *@flags: the extent flags, or'ed.
 */
static uint64_t *bmap(const char *bk, uint64_t off, uint64_t len,
		      uint32_t *flags)
{
	size_t nb = len / BLK, i;
	uint64_t *phys = calloc(nb ? nb : 1, sizeof(*phys));
	struct fiemap *fm =
		calloc(1, sizeof(*fm) + 64 * sizeof(fm->fm_extents[0]));
	uint64_t pos = off, end = off + len;
	int fd = open(bk, O_RDONLY | O_CLOEXEC);
	unsigned int k;

	ck_assert_msg(fd >= 0, "open %s: %s", bk, strerror(errno));
	ck_assert_ptr_nonnull(fm);
	ck_assert_ptr_nonnull(phys);
	*flags = 0;
	while (pos < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = pos;
		fm->fm_length = end - pos;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 64;
		ck_assert_int_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
		if (fm->fm_mapped_extents == 0)
			break;
		for (k = 0; k < fm->fm_mapped_extents; k++) {
			struct fiemap_extent *x = &fm->fm_extents[k];

			for (i = 0; i < nb; i++) {
				uint64_t b = off + i * BLK;

				if (b >= x->fe_logical &&
				    b < x->fe_logical + x->fe_length) {
					phys[i] = x->fe_physical +
						  (b - x->fe_logical);
					*flags |= x->fe_flags;
				}
			}
			pos = x->fe_logical + x->fe_length;
		}
		if (fm->fm_extents[k - 1].fe_flags & FIEMAP_EXTENT_LAST)
			break;
	}
	free(fm);
	close(fd);
	return phys;
}

/* A snapshot of a pinned range: blocks, size and content. */
struct snap {
	const char *mnt, *bk;
	uint64_t off, len;
	uint64_t *phys;
	off_t size;
	uint64_t hash;
};

static struct snap snap_of(const char *rel, uint64_t off, uint64_t len)
{
	struct snap s = { mp(rel), bp(rel), off, len, NULL, 0, 0 };
	uint32_t fl;
	size_t i;

	s.phys = hold(bmap(s.bk, off, len, &fl));
	for (i = 0; i < len / BLK; i++)
		ck_assert_msg(s.phys[i], "%s: block %zu of the pin unmapped",
			      rel, i);
	ck_assert_msg(!(fl & FIEMAP_EXTENT_SHARED), "%s: pinned and shared",
		      rel);
	s.size = size_of(s.bk);
	s.hash = fnv(s.bk);
	return s;
}

/* The pinned blocks never moved and never became shared. */
static void expect_blocks(const struct snap *s)
{
	uint32_t fl;
	uint64_t *now = bmap(s->bk, s->off, s->len, &fl);
	size_t i;

	for (i = 0; i < s->len / BLK; i++)
		ck_assert_msg(now[i] == s->phys[i],
			      "%s: pinned block %zu moved: physical %#" PRIx64
			      " -> %#" PRIx64,
			      s->bk, i, s->phys[i], now[i]);
	ck_assert_msg(!(fl & FIEMAP_EXTENT_SHARED),
		      "%s: pinned range now shared (flags %#x)", s->bk, fl);
	free(now);
}

/* Size, content and pinned blocks all as they were. */
static void expect_unchanged(const struct snap *s)
{
	ck_assert_int_eq(size_of(s->bk), s->size);
	ck_assert_int_eq(size_of(s->mnt), s->size);
	ck_assert_msg(fnv(s->bk) == s->hash, "%s: content changed", s->bk);
	expect_blocks(s);
}

/* ================= the audit log, read back with python3 ================= */

static const char *py_src =
	"import json, sys\n"
	"KEYS = ['time', 'event', 'op', 'path', 'offset', 'length', 'errno',\n"
	"        'waited_ms', 'pins', 'process']\n"
	"PKEYS = ['pid', 'tgid', 'uid', 'gid', 'comm', 'exe', 'cmdline']\n"
	"# Newlines and separators as \\n, \\x1f; backslashes kept as they are.\n"
	"def esc(s):\n"
	"    return s.replace('\\n', '\\\\n').replace('\\x1f', '\\\\x1f')\n"
	"def flat(pre, v, out):\n"
	"    if isinstance(v, dict):\n"
	"        for k, x in v.items():\n"
	"            flat(pre + '.' + k if pre else k, x, out)\n"
	"    elif isinstance(v, list):\n"
	"        out.append((pre + '.n', str(len(v))))\n"
	"        for i, x in enumerate(v):\n"
	"            flat(pre + '.' + str(i), x, out)\n"
	"    elif v is None: out.append((pre, 'null'))\n"
	"    elif v is True: out.append((pre, 'true'))\n"
	"    elif v is False: out.append((pre, 'false'))\n"
	"    else: out.append((pre, esc(str(v))))\n"
	"try:\n"
	"    lines = open(sys.argv[1], 'rb').read().split(b'\\n')\n"
	"except FileNotFoundError:\n"
	"    lines = [b'']\n"
	"for i, raw in enumerate(lines[:-1], 1):\n"
	"    try:\n"
	"        o = json.loads(raw.decode('utf-8'))\n"
	"    except ValueError as e:\n"
	"        print('bad=line %d: %s' % (i, e)); break\n"
	"    k = list(o.keys())\n"
	"    if k[:10] != KEYS or k[10:] not in ([], ['truncated'], ['reason'],\n"
	"                                        ['reason', 'truncated']):\n"
	"        print('bad=line %d: members %s' % (i, k)); break\n"
	"    p = o['process']\n"
	"    if p is not None and list(p.keys()) != PKEYS:\n"
	"        print('bad=line %d: process members %s' % (i, list(p)))\n"
	"        break\n"
	"    if [list(q.keys()) for q in o['pins']] != \\\n"
	"            [['range', 'owner', 'holder']] * len(o['pins']):\n"
	"        print('bad=line %d: pin members' % i); break\n"
	"    out = []\n"
	"    flat('', o, out)\n"
	"    print('\\x1f'.join('%s=%s' % kv for kv in out))\n";

/* The python3 to run: the system's, else the first in PATH. */
static const char *python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3"
						     : "python3";
}

static char *jcache;
static off_t jcache_size = -1;

/*
 * Every event of the running case's log, one per line, its members
 * flattened as key=value separated by \x1f ("process.comm=truncate",
 * "pins.0.range=0+65536", "pins.n=1").  Every line of the log is checked
 * to be JSON with the documented members in order.  Read again only when
 * the log has grown.
 */
static const char *jload(void)
{
	struct stat st;
	char *out, *bad;
	int rc;

	if (stat(logpath, &st) < 0)
		st.st_size = 0;
	if (jcache && st.st_size == jcache_size)
		return jcache;
	out = harness_run(&rc, "%s '%s' '%s'", python(), pyscript, logpath);
	ck_assert_msg(rc == 0, "python3 failed on %s", logpath);
	bad = strncmp(out, "bad=", 4) == 0 ? out : strstr(out, "\nbad=");
	ck_assert_msg(!bad, "audit log %s: %s", logpath, bad);
	free(jcache);
	jcache = out;
	jcache_size = st.st_size;
	return jcache;
}

static char *jv(const char *flat, const char *key);

/*
 * The @nth event (0: first; -1: none, just count) of the running case's
 * log for @path ("-": any), @event and @op ("-": any), as key=value
 * lines after a first line count=N (to free).
 */
static char *jq(const char *path, const char *event, const char *op, int nth)
{
	const char *p = jload(), *nl;
	char *hit = NULL, *res;
	int n = 0;

	for (; *p; p = nl + 1) {
		char *line, *c, *vp, *ve, *vo;
		bool match;

		nl = strchr(p, '\n');
		if (!nl)
			break;
		line = strndup(p, (size_t)(nl - p));
		ck_assert_ptr_nonnull(line);
		for (c = line; *c; c++)
			if (*c == '\x1f')
				*c = '\n';
		vp = jv(line, "path");
		ve = jv(line, "event");
		vo = jv(line, "op");
		match = vp && ve && vo &&
			(strcmp(path, "-") == 0 || strcmp(vp, path) == 0) &&
			(strcmp(event, "-") == 0 || strcmp(ve, event) == 0) &&
			(strcmp(op, "-") == 0 || strcmp(vo, op) == 0);
		free(vp);
		free(ve);
		free(vo);
		if (match && n++ == nth)
			hit = line;
		else
			free(line);
	}
	ck_assert_int_ge(asprintf(&res, "count=%d\n%s", n, hit ? hit : ""), 0);
	free(hit);
	return res;
}

/* The value of @key in a jq() result (to free), or NULL. */
static char *jv(const char *flat, const char *key)
{
	size_t kl = strlen(key);
	const char *p;

	for (p = flat; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strndup(p + kl + 1, strcspn(p + kl + 1, "\n"));
	return NULL;
}

static void jexpect(const char *flat, const char *key, const char *want)
{
	char *v = jv(flat, key);

	ck_assert_msg(v, "audit event without %s:\n%s", key, flat);
	ck_assert_msg(strcmp(v, want) == 0,
		      "audit %s = \"%s\", want \"%s\"\n%s", key, v, want, flat);
	free(v);
}

static long long jnum(const char *flat, const char *key)
{
	char *v = jv(flat, key), *e;
	long long r;

	ck_assert_msg(v, "audit event without %s:\n%s", key, flat);
	r = strtoll(v, &e, 10);
	ck_assert_msg(*v && !*e, "audit %s = \"%s\" is not a number\n%s", key,
		      v, flat);
	free(v);
	return r;
}

static long long jcount(const char *path, const char *event, const char *op)
{
	char *f = jq(path, event, op, -1);
	long long n = strtoll(f + 6, NULL, 10);

	free(f);
	return n;
}

/* Waits (up to 2 s) for the @nth such event and returns it. */
static char *jwait(const char *path, const char *event, const char *op, int nth)
{
	int64_t end = now_ms() + 2000;
	char *f;

	for (;;) {
		f = jq(path, event, op, nth);
		if (strtoll(f + 6, NULL, 10) > nth || now_ms() > end)
			break;
		free(f);
		sleep_ms(50);
	}
	ck_assert_msg(strtoll(f + 6, NULL, 10) > nth,
		      "no audit event %s %s for %s in %s", event, op, path,
		      logpath);
	return f;
}

/*
 * The event of a copy whose pinned end is the source @src (into @dst):
 * named by the source, as the pins it lists are the source's; the daemon
 * names the destination instead, which is accepted with a note.
 */
static char *jwait_src(const char *src, const char *dst, const char *event)
{
	if (jcount(src, event, "reflink") == 0 &&
	    jcount(dst, event, "reflink") > 0) {
		printf("mount-mediate: note: the %s event of a copy out of "
		       "pinned %s names the destination %s\n",
		       event, src, dst);
		return jwait(dst, event, "reflink", 0);
	}
	return jwait(src, event, "reflink", 0);
}

/* A parked request's first event: waited_ms 0 or null. */
static void jexpect_waited0(const char *f)
{
	char *v = jv(f, "waited_ms");

	ck_assert_msg(v && (strcmp(v, "0") == 0 || strcmp(v, "null") == 0),
		      "waited_ms of a defer event: %s\n%s", v, f);
	free(v);
}

/* The process member of an event is @pid, @tid, @uid. */
static void jexpect_proc(const char *f, long tid, long pid, long uid)
{
	ck_assert_int_eq(jnum(f, "process.pid"), tid);
	ck_assert_int_eq(jnum(f, "process.tgid"), pid);
	ck_assert_int_eq(jnum(f, "process.uid"), uid);
	ck_assert_int_eq(jnum(f, "process.gid"), uid);
}

/* ================= operations, run in threads ================= */

enum opk {
	OP_TRUNCATE, /* truncate(path, a) */
	OP_FTRUNCATE, /* ftruncate(fd, a) */
	OP_OTRUNC, /* open(path, O_WRONLY | O_TRUNC) */
	OP_PUNCH, /* fallocate(fd, PUNCH_HOLE | KEEP_SIZE, a, b) */
	OP_ZERO, /* fallocate(fd, ZERO_RANGE, a, b) */
	OP_UNLINK, /* unlink(path) */
	OP_RENAME, /* rename(other, path) */
	OP_CFR, /* copy_file_range(fd of other, a2 -> fd, a, b) */
	OP_CFR_OUT, /* copy_file_range(fd, a -> fd of other, a2, b) */
};

struct op {
	enum opk k;
	const char *path, *other;
	off_t a, b, a2;
	int fd, fd2;
	/* results */
	int err;
	long ret;
	long tid;
	int64_t t0, t1;
	int done;
	pthread_t th;
};

static void op_init(struct op *o, enum opk k, const char *path,
		    const char *other, off_t a, off_t b, off_t a2)
{
	memset(o, 0, sizeof(*o));
	o->k = k;
	o->path = path;
	o->other = other;
	o->a = a;
	o->b = b;
	o->a2 = a2;
	o->fd = o->fd2 = -1;
	/* Opened here: opening is never mediated, the operation is. */
	if (k == OP_FTRUNCATE || k == OP_PUNCH || k == OP_ZERO || k == OP_CFR ||
	    k == OP_CFR_OUT) {
		o->fd = open(path, O_RDWR | O_CLOEXEC);
		ck_assert_msg(o->fd >= 0, "open %s: %s", path, strerror(errno));
	}
	if (k == OP_CFR || k == OP_CFR_OUT) {
		o->fd2 = open(other, O_RDWR | O_CLOEXEC);
		ck_assert_msg(o->fd2 >= 0, "open %s: %s", other,
			      strerror(errno));
	}
}

static void op_do(struct op *o)
{
	loff_t x = o->a, y = o->a2;
	long r = -1;
	int fd;

	o->tid = (long)syscall(SYS_gettid);
	o->t0 = now_ms();
	switch (o->k) {
	case OP_TRUNCATE:
		r = truncate(o->path, o->a);
		break;
	case OP_FTRUNCATE:
		r = ftruncate(o->fd, o->a);
		break;
	case OP_OTRUNC:
		fd = open(o->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		r = fd < 0 ? -1 : 0;
		if (fd >= 0)
			close(fd);
		break;
	case OP_PUNCH:
		r = fallocate(o->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      o->a, o->b);
		break;
	case OP_ZERO:
		r = fallocate(o->fd, FALLOC_FL_ZERO_RANGE, o->a, o->b);
		break;
	/*
	 * As another user: an unlink under the caller's own pins is never
	 * parked (policy.h), and the pins here are root's.
	 */
	case OP_UNLINK:
		setfsgid(TEST_GID);
		setfsuid(TEST_UID);
		r = unlink(o->path);
		setfsuid(0);
		setfsgid(0);
		break;
	case OP_RENAME:
		setfsgid(TEST_GID);
		setfsuid(TEST_UID);
		r = rename(o->other, o->path);
		setfsuid(0);
		setfsgid(0);
		break;
	case OP_CFR:
		r = (long)copy_file_range(o->fd2, &y, o->fd, &x, (size_t)o->b,
					  0);
		break;
	case OP_CFR_OUT:
		r = (long)copy_file_range(o->fd, &x, o->fd2, &y, (size_t)o->b,
					  0);
		break;
	}
	o->err = r < 0 ? errno : 0;
	o->ret = r;
	o->t1 = now_ms();
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
}

static void *op_thread(void *arg)
{
	op_do(arg);
	return NULL;
}

static void op_start(struct op *o)
{
	ck_assert_int_eq(pthread_create(&o->th, NULL, op_thread, o), 0);
}

static bool op_done(struct op *o)
{
	return __atomic_load_n(&o->done, __ATOMIC_ACQUIRE);
}

/* Joins; fails the test when it takes longer than @ms. */
static void op_join(struct op *o, long ms)
{
	int64_t end = now_ms() + ms;

	while (!op_done(o) && now_ms() < end)
		sleep_ms(2);
	ck_assert_msg(op_done(o), "%s: the operation still runs after %ld ms",
		      o->path, ms);
	pthread_join(o->th, NULL);
	if (o->fd >= 0)
		close(o->fd);
	if (o->fd2 >= 0)
		close(o->fd2);
	o->fd = o->fd2 = -1;
}

/* Runs @o in this thread; returns its errno (0: success). */
static int op_now(struct op *o)
{
	op_do(o);
	if (o->fd >= 0)
		close(o->fd);
	if (o->fd2 >= 0)
		close(o->fd2);
	o->fd = o->fd2 = -1;
	return o->err;
}

static int64_t op_ms(const struct op *o)
{
	return o->t1 - o->t0;
}

/* The uid @o ran as (see op_do). */
static long op_uid(const struct op *o)
{
	return o->k == OP_UNLINK || o->k == OP_RENAME ? TEST_UID : 0;
}

/* Convenience wrappers: errno of one call (0: success). */
static int e_truncate(const char *p, off_t n)
{
	return truncate(p, n) < 0 ? errno : 0;
}

static int e_ftruncate(const char *p, off_t n)
{
	int fd = open(p, O_RDWR | O_CLOEXEC), e;

	ck_assert_int_ge(fd, 0);
	e = ftruncate(fd, n) < 0 ? errno : 0;
	close(fd);
	return e;
}

static int e_open(const char *p, int flags)
{
	int fd = open(p, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int e_falloc(const char *p, int mode, off_t off, off_t len)
{
	int fd = open(p, O_RDWR | O_CLOEXEC), e;

	ck_assert_int_ge(fd, 0);
	e = fallocate(fd, mode, off, len) < 0 ? errno : 0;
	close(fd);
	return e;
}

/* copy_file_range of @len bytes, looping over short copies; errno or 0. */
static int e_cfr(const char *src, off_t so, const char *dst, off_t doff,
		 size_t len)
{
	int s = open(src, O_RDONLY | O_CLOEXEC);
	int d = open(dst, O_RDWR | O_CLOEXEC);
	loff_t x = so, y = doff;
	int e = 0;

	ck_assert_int_ge(s, 0);
	ck_assert_int_ge(d, 0);
	while (len > 0) {
		ssize_t n = copy_file_range(s, &x, d, &y, len, 0);

		if (n < 0) {
			e = errno;
			break;
		}
		ck_assert_int_gt(n, 0);
		len -= (size_t)n;
	}
	close(s);
	close(d);
	return e;
}

/* ================= fixtures ================= */

static bool can_pin(void)
{
	const char *p = mp(".probe");
	int err;

	put_file(p, "x", 1, 0644);
	err = pin(p, "0+1");
	if (!err)
		unpin(p, "0+1");
	unlink(p);
	if (err)
		printf("mount-mediate: no pins on this backing (%s)\n",
		       strerror(err));
	return err == 0;
}

static void note_leftover(const struct mnt *m)
{
	FILE *f = fopen(leftovers, "a");

	if (f) {
		fprintf(f, "%s\n", m->scratch);
		fclose(f);
	}
}

/* Why the running case's mount failed, or "". */
static char mount_err[PATH_MAX + 1100];

/*
 * Mounts M with @opts plus audit_log=LOGDIR/@name.jsonl.  A mount that
 * fails (say, an option the daemon does not know yet) fails each test of
 * the case, not the whole run.
 */
static void case_mount(const char *name, const char *opts)
{
	char o[PATH_MAX + 1024];
	int err;

	mount_err[0] = '\0';
	jcache_size = -1;
	snprintf(logpath, sizeof(logpath), "%s/%s.jsonl", logdir, name);
	snprintf(o, sizeof(o), "%s%saudit_log=%s", opts ? opts : "",
		 opts ? "," : "", logpath);
	err = mnt_setup(&M, o, false);
	if (err) {
		snprintf(mount_err, sizeof(mount_err),
			 "mount-mediate %s: mount with -o %s: %s", name, o,
			 strerror(-err));
		M.daemon = -1;
		return;
	}
	note_leftover(&M);
	printf("mount-mediate %s: %s backing, -o %s\n", name,
	       M.xfs ? "xfs" : "tmpdir", o);
	fflush(stdout);
	if (!can_pin()) {
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
}

/* Checked fixture: the case's mount is there. */
static void need_mount(void)
{
	ck_assert_msg(!mount_err[0], "%s", mount_err);
}

static void case_teardown(void)
{
	if (!mount_err[0])
		mnt_teardown(&M);
}

static void refuse_setup(void)
{
	case_mount("refuse", NULL);
}

static void audit_setup(void)
{
	case_mount("audit", "policy=audit,reflink=audit");
}

static void classes_setup(void)
{
	case_mount("classes", "policy=defer,truncate=refuse,punch=audit,"
			      "reflink=refuse,unlink=break,break_timeout=1");
}

static void defer_setup(void)
{
	case_mount("defer", "policy=defer,reflink=defer,break_timeout=2");
}

static void break_setup(void)
{
	case_mount("break", "policy=break,reflink=break,break_timeout=1");
}

/* ================= refuse ================= */

START_TEST(test_refuse_truncate)
{
	const char *f, *g, *u;
	struct snap s, sa;
	int st;
	char *out;

	mkdir_m("rt");
	f = mp("rt/f");
	put_random(f, MIB, 1);
	ck_assert_int_eq(pin(f, "256K+64K"), 0);
	s = snap_of("rt/f", 256 * KIB, 64 * KIB);

	/* Every way of cutting into the pin, refused at once. */
	ck_assert_int_eq(e_truncate(f, 0), ETXTBSY);
	ck_assert_int_eq(e_truncate(f, 300 * KIB), ETXTBSY);
	ck_assert_int_eq(e_truncate(f, 320 * KIB - 1), ETXTBSY);
	ck_assert_int_eq(e_ftruncate(f, 100 * KIB), ETXTBSY);
	ck_assert_int_eq(e_open(f, O_WRONLY | O_TRUNC), ETXTBSY);
	ck_assert_int_eq(e_open(f, O_RDWR | O_TRUNC | O_CREAT), ETXTBSY);
	ck_assert_int_eq(creat(f, 0644) < 0 ? errno : 0, ETXTBSY);
	out = harness_run(&st, "sh -c ': > \"%s\"' 2>&1", f);
	ck_assert_msg(st != 0, "sh > redirection succeeded");
	ck_assert_msg(strstr(out, "busy"), "sh said: %s", out);
	free(out);
	out = harness_run(&st, "/usr/bin/truncate -s 0 '%s' 2>&1", f);
	ck_assert_msg(st != 0, "truncate -s 0 succeeded");
	ck_assert_msg(strstr(out, "Text file busy"), "truncate said: %s", out);
	free(out);
	out = harness_run(&st, "/usr/bin/truncate -s -800K '%s' 2>&1", f);
	ck_assert_msg(st != 0, "truncate -s -800K succeeded");
	free(out);
	/* cp onto it opens it with O_TRUNC. */
	put_random(mp("rt/small"), 4 * KIB, 4);
	out = harness_run(&st, "cp '%s' '%s' 2>&1", mp("rt/small"), f);
	ck_assert_msg(st != 0, "cp over a pinned file succeeded");
	ck_assert_msg(strstr(out, "Text file busy"), "cp said: %s", out);
	free(out);
	expect_unchanged(&s);
	ck_assert(has_pin(f, "262144+65536"));
	ck_assert_uint_eq(npins(f), 1);

	/* What does not cut into it goes through. */
	ck_assert_int_eq(e_truncate(f, MIB), 0); /* same size */
	ck_assert_int_eq(e_truncate(f, 2 * MIB), 0); /* growth */
	ck_assert_int_eq(size_of(f), 2 * MIB);
	ck_assert_int_eq(e_ftruncate(f, MIB), 0); /* the growth again */
	ck_assert_int_eq(e_truncate(f, 512 * KIB), 0);
	ck_assert_int_eq(e_truncate(f, 320 * KIB), 0); /* to the pin's end */
	ck_assert_int_eq(size_of(f), 320 * KIB);
	ck_assert_int_eq(size_of(bp("rt/f")), 320 * KIB);
	ck_assert_uint_eq(fnv_range(f, 256 * KIB, 64 * KIB),
			  fnv_range(s.bk, 256 * KIB, 64 * KIB));
	expect_blocks(&s);
	out = harness_run(&st, "/usr/bin/truncate -s 1M '%s' 2>&1", f);
	ck_assert_msg(st == 0, "truncate -s 1M: %s", out);
	free(out);
	ck_assert_int_eq(e_truncate(f, 320 * KIB - 1), ETXTBSY);

	/* `all` covers the whole file, whatever its size. */
	g = mp("rt/g");
	put_random(g, 256 * KIB, 2);
	ck_assert_int_eq(pin(g, "all"), 0);
	sa = snap_of("rt/g", 0, 256 * KIB);
	ck_assert_int_eq(e_truncate(g, 256 * KIB - 1), ETXTBSY);
	ck_assert_int_eq(e_open(g, O_WRONLY | O_TRUNC), ETXTBSY);
	expect_unchanged(&sa);
	ck_assert_int_eq(e_truncate(g, 512 * KIB), 0);
	ck_assert_int_eq(e_truncate(g, 256 * KIB), ETXTBSY);
	ck_assert_int_eq(size_of(g), 512 * KIB);
	expect_blocks(&sa);

	/* Unpinned files, and a file once its pin is gone: no mediation. */
	u = mp("rt/u");
	put_random(u, MIB, 3);
	ck_assert_int_eq(e_truncate(u, 0), 0);
	put_random(u, MIB, 3);
	ck_assert_int_eq(e_open(u, O_WRONLY | O_TRUNC), 0);
	ck_assert_int_eq(size_of(u), 0);
	ck_assert_int_eq(unpin(f, "256K+64K"), 0);
	ck_assert_int_eq(e_open(f, O_WRONLY | O_TRUNC), 0);
	ck_assert_int_eq(size_of(bp("rt/f")), 0);
}
END_TEST

START_TEST(test_refuse_punch)
{
	const char *f;
	struct snap s;
	uint64_t head;
	int st;
	char *out;

	mkdir_m("rp");
	f = mp("rp/f");
	put_random(f, MIB, 4);
	ck_assert_int_eq(pin(f, "256K+64K"), 0);
	s = snap_of("rp/f", 256 * KIB, 64 * KIB);

	/* Overlapping the pin, at either edge or all of it: refused. */
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  252 * KIB, 8 * KIB),
			 ETXTBSY);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  316 * KIB, 8 * KIB),
			 ETXTBSY);
	ck_assert_int_eq(
		e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, MIB),
		ETXTBSY);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  260 * KIB, 1),
			 ETXTBSY);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_ZERO_RANGE, 256 * KIB, BLK),
			 ETXTBSY);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				  300 * KIB, 64 * KIB),
			 ETXTBSY);
	/* Growing zero range over the pin and past EOF: still refused. */
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_ZERO_RANGE, 256 * KIB, 2 * MIB),
			 ETXTBSY);
	/* COLLAPSE and INSERT: refused by FUSE itself, before rdmafs. */
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_COLLAPSE_RANGE, 0, 64 * KIB),
			 EOPNOTSUPP);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_INSERT_RANGE, 0, 64 * KIB),
			 EOPNOTSUPP);
	out = harness_run(&st, "/usr/bin/fallocate -p -o 256K -l 4K '%s' 2>&1",
			  f);
	ck_assert_msg(st != 0, "fallocate -p succeeded");
	ck_assert_msg(strstr(out, "Text file busy"), "fallocate said: %s", out);
	free(out);
	out = harness_run(&st, "/usr/bin/fallocate -z -o 0 -l 1M '%s' 2>&1", f);
	ck_assert_msg(st != 0, "fallocate -z succeeded");
	free(out);
	expect_unchanged(&s);
	ck_assert_uint_eq(npins(f), 1);

	/* Next to it and outside it: done at once. */
	head = fnv_range(f, 0, 252 * KIB);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  252 * KIB, 4 * KIB),
			 0);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  320 * KIB, 4 * KIB),
			 0);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_ZERO_RANGE, 512 * KIB, 64 * KIB),
			 0);
	ck_assert(all_zero(f, 252 * KIB, 4 * KIB));
	ck_assert(all_zero(f, 320 * KIB, 4 * KIB));
	ck_assert(all_zero(f, 512 * KIB, 64 * KIB));
	ck_assert_uint_eq(fnv_range(f, 0, 252 * KIB), head);
	out = harness_run(&st, "/usr/bin/fallocate -p -o 768K -l 4K '%s' 2>&1",
			  f);
	ck_assert_msg(st == 0, "fallocate -p outside the pin: %s", out);
	free(out);
	/* Allocation neither frees nor moves a block: never mediated. */
	ck_assert_int_eq(e_falloc(f, 0, 0, MIB), 0);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_KEEP_SIZE, 0, 4 * MIB), 0);
	ck_assert_int_eq(e_falloc(f, 0, MIB, MIB), 0);
	ck_assert_int_eq(size_of(f), 2 * MIB);
	ck_assert_uint_eq(fnv_range(f, 256 * KIB, 64 * KIB),
			  fnv_range(s.bk, 256 * KIB, 64 * KIB));
	ck_assert_uint_eq(fnv_range(s.bk, 256 * KIB, 64 * KIB),
			  fnv_range(s.mnt, 256 * KIB, 64 * KIB));
	expect_blocks(&s);
	ck_assert(has_pin(f, "262144+65536"));
}
END_TEST

/* reflink's default is copy, whatever the policy. */
START_TEST(test_refuse_reflink_copy)
{
	const char *src, *dst, *src2, *dst2, *cp;
	struct snap sd, ss;
	uint64_t want;
	int st;
	char *out;

	expect_status("reflink", "copy");
	mkdir_m("rc");
	src = mp("rc/src");
	dst = mp("rc/dst");
	put_random(src, MIB, 5);
	put_random(dst, MIB, 6);
	ck_assert_int_eq(pin(dst, "0+256K"), 0);
	sd = snap_of("rc/dst", 0, 256 * KIB);

	/* Into a pinned range: copied, the pinned blocks stay. */
	ck_assert_int_eq(e_cfr(src, 0, dst, 0, 512 * KIB), 0);
	ck_assert_uint_eq(fnv_range(dst, 0, 512 * KIB),
			  fnv_range(src, 0, 512 * KIB));
	ck_assert_uint_eq(fnv_range(sd.bk, 0, 512 * KIB),
			  fnv_range(src, 0, 512 * KIB));
	ck_assert_int_eq(size_of(dst), MIB);
	expect_blocks(&sd);
	/* Partly, with odd offsets. */
	ck_assert_int_eq(e_cfr(src, 4097, dst, 100 * KIB + 3, 200 * KIB), 0);
	ck_assert_uint_eq(fnv_range(dst, 100 * KIB + 3, 200 * KIB),
			  fnv_range(src, 4097, 200 * KIB));
	expect_blocks(&sd);
	/* Across the pin and past the destination's end: it grows. */
	ck_assert_int_eq(e_cfr(src, 0, dst, 128 * KIB, MIB), 0);
	ck_assert_int_eq(size_of(dst), MIB + 128 * KIB);
	ck_assert_uint_eq(fnv_range(dst, 128 * KIB, MIB), fnv(src));
	expect_blocks(&sd);

	/* Out of a pinned source: copied, the source never shared. */
	src2 = mp("rc/src2");
	dst2 = mp("rc/dst2");
	put_random(src2, MIB, 7);
	put_random(dst2, MIB, 8);
	ck_assert_int_eq(pin(src2, "all"), 0);
	ss = snap_of("rc/src2", 0, MIB);
	want = fnv(src2);
	ck_assert_int_eq(e_cfr(src2, 0, dst2, 0, MIB), 0);
	ck_assert_uint_eq(fnv(dst2), want);
	ck_assert_uint_eq(fnv(bp("rc/dst2")), want);
	expect_unchanged(&ss);
	/* cp uses copy_file_range too. */
	cp = mp("rc/cp");
	out = harness_run(&st, "cp '%s' '%s' 2>&1", src2, cp);
	ck_assert_msg(st == 0, "cp: %s", out);
	free(out);
	ck_assert_uint_eq(fnv(cp), want);
	expect_unchanged(&ss);
	/* Outside the pins: just done. */
	ck_assert_int_eq(e_cfr(src, 0, dst, 768 * KIB, 64 * KIB), 0);
	ck_assert_uint_eq(fnv_range(dst, 768 * KIB, 64 * KIB),
			  fnv_range(src, 0, 64 * KIB));
	expect_blocks(&sd);
	ck_assert(has_pin(dst, "0+262144"));
	ck_assert(has_pin(src2, "all"));
}
END_TEST

START_TEST(test_refuse_unlink)
{
	const char *a, *b, *b2, *b3, *s, *s2, *v, *x, *y;
	int st;
	char *out;

	mkdir_m("ru");
	a = mp("ru/a");
	s = mp("ru/s");
	put_random(a, 64 * KIB, 9);
	put_random(s, 4 * KIB, 10);
	ck_assert_int_eq(pin(a, "0+4K"), 0);

	/* The last name of a pinned file: refused. */
	ck_assert_int_eq(unlink(a) < 0 ? errno : 0, ETXTBSY);
	ck_assert_int_eq(rename(s, a) < 0 ? errno : 0, ETXTBSY);
	ck_assert(exists(s));
	ck_assert_int_eq(size_of(a), 64 * KIB);
	ck_assert_int_eq(size_of(s), 4 * KIB);
	out = harness_run(&st, "rm -f '%s' 2>&1", a);
	ck_assert_msg(st != 0, "rm succeeded");
	ck_assert_msg(strstr(out, "Text file busy"), "rm said: %s", out);
	free(out);
	out = harness_run(&st, "mv -f '%s' '%s' 2>&1", s, a);
	ck_assert_msg(st != 0, "mv over a pinned file succeeded");
	free(out);
	ck_assert(exists(a) && exists(s) && exists(bp("ru/a")));
	ck_assert(has_pin(a, "0+4096"));
	ck_assert_uint_eq(fnv(a), fnv(bp("ru/a")));

	/* Moving the pinned file itself drops no name. */
	v = mp("ru/victim");
	put_random(v, 4 * KIB, 11);
	ck_assert_int_eq(rename(a, v), 0); /* over an unpinned file */
	ck_assert(has_pin(v, "0+4096"));
	ck_assert_int_eq(rename(v, a), 0);
	ck_assert(has_pin(a, "0+4096"));
	out = harness_run(&st, "mv '%s' '%s' && mv '%s' '%s' 2>&1", a, v, v, a);
	ck_assert_msg(st == 0, "mv of the pinned file: %s", out);
	free(out);

	/* With two names, one may go; the last may not. */
	b = mp("ru/b");
	b2 = mp("ru/b2");
	b3 = mp("ru/b3");
	s2 = mp("ru/s2");
	put_random(b, 64 * KIB, 12);
	put_random(s2, 4 * KIB, 13);
	ck_assert_int_eq(pin(b, "all"), 0);
	ck_assert_int_eq(link(b, b2), 0);
	ck_assert_int_eq(unlink(b), 0);
	ck_assert_int_eq(link(b2, b3), 0);
	ck_assert_int_eq(rename(s2, b3), 0); /* b3's inode keeps b2 */
	ck_assert_int_eq(size_of(b3), 4 * KIB);
	ck_assert_int_eq(unlink(b2) < 0 ? errno : 0, ETXTBSY);
	ck_assert(has_pin(b2, "all"));
	ck_assert_int_eq(size_of(b2), 64 * KIB);

	/* RENAME_EXCHANGE drops no name either. */
	x = mp("ru/x");
	put_random(x, 4 * KIB, 14);
	if (renameat2(AT_FDCWD, a, AT_FDCWD, x, RENAME_EXCHANGE) == 0) {
		ck_assert(has_pin(x, "0+4096"));
		ck_assert_int_eq(
			renameat2(AT_FDCWD, a, AT_FDCWD, x, RENAME_EXCHANGE),
			0);
	} else {
		ck_assert_msg(errno == EINVAL || errno == ENOSYS,
			      "RENAME_EXCHANGE: %s", strerror(errno));
	}

	/* Unpinned: gone. */
	ck_assert_int_eq(unpin(a, "0+4K"), 0);
	ck_assert_int_eq(unlink(a), 0);
	y = mp("ru/y");
	put_random(y, 4 * KIB, 15);
	ck_assert_int_eq(unlink(y), 0);
	ck_assert(!exists(bp("ru/a")));
}
END_TEST

START_TEST(test_refuse_status)
{
	const char *f;
	long long r0, d0, b0, a0;

	expect_status("policy", "refuse");
	expect_status("truncate", "refuse");
	expect_status("punch", "refuse");
	expect_status("reflink", "copy");
	expect_status("unlink", "refuse");
	expect_status("break_timeout", "45");
	mkdir_m("rs");
	f = mp("rs/f");
	put_random(f, 64 * KIB, 16);
	ck_assert_int_eq(pin(f, "0+4K"), 0);
	r0 = status_of("refused");
	d0 = status_of("deferred");
	b0 = status_of("broken");
	a0 = status_of("audited");
	ck_assert_int_eq(e_truncate(f, 0), ETXTBSY);
	ck_assert_int_eq(status_of("refused"), r0 + 1);
	ck_assert_int_eq(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  0, 4 * KIB),
			 ETXTBSY);
	ck_assert_int_eq(unlink(f) < 0 ? errno : 0, ETXTBSY);
	ck_assert_int_eq(status_of("refused"), r0 + 3);
	/* Not refused: not counted. */
	ck_assert_int_eq(e_truncate(f, 8 * KIB), 0);
	ck_assert_int_eq(status_of("refused"), r0 + 3);
	ck_assert_int_eq(status_of("deferred"), d0);
	ck_assert_int_eq(status_of("broken"), b0);
	ck_assert_int_eq(status_of("audited"), a0);
	/* The pin status lines are still there. */
	ck_assert_int_ge(status_of("pins"), 1);
}
END_TEST

/* One known offender per class, run as TEST_UID, its event field by field. */
START_TEST(test_refuse_audit_json)
{
	const char *f, *g, *h;
	char *argv[8], *err, *ev, cmdline[PATH_MAX + 64];
	time_t t0 = time(NULL), t1;
	struct tm tm;
	char *tv;
	pid_t pid;
	int efd, st;

	mkdir_m("aud");
	f = mp("aud/t");
	put_random(f, MIB, 17);
	ck_assert_int_eq(chmod(f, 0666), 0);
	ck_assert_int_eq(pin(f, "0+4K"), 0);
	ck_assert_int_eq(pin(f, "64K+64K"), 0);

	/* truncate -s 100K: cuts [100K, 1M), which meets 64K+64K only. */
	argv[0] = "/usr/bin/truncate";
	argv[1] = "-s";
	argv[2] = "102400";
	argv[3] = (char *)f;
	argv[4] = NULL;
	pid = spawn(TEST_UID, argv, &efd);
	err = read_all(efd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
		      "truncate as %d: status %#x: %s", TEST_UID, st, err);
	ck_assert_msg(strstr(err, "Text file busy"), "truncate said: %s", err);
	free(err);
	ck_assert_int_eq(size_of(f), MIB);
	t1 = time(NULL);

	ev = jwait("aud/t", "refuse", "truncate", 0);
	ck_assert_int_eq(jnum(ev, "count"), 1);
	jexpect(ev, "event", "refuse");
	jexpect(ev, "op", "truncate");
	jexpect(ev, "path", "aud/t");
	ck_assert_int_eq(jnum(ev, "offset"), 102400);
	tv = jv(ev, "length");
	ck_assert_msg(tv && (strcmp(tv, "null") == 0 ||
			     strtoll(tv, NULL, 10) == MIB - 102400),
		      "length %s, want %ld (or null: to the end)", tv,
		      MIB - 102400);
	free(tv);
	jexpect(ev, "errno", "ETXTBSY");
	jexpect(ev, "waited_ms", "null");
	ck_assert_int_eq(jnum(ev, "pins.n"), 1);
	jexpect(ev, "pins.0.range", "65536+65536");
	ck_assert_int_eq(jnum(ev, "pins.0.owner"), 0);
	jexpect(ev, "pins.0.holder", "null");
	jexpect_proc(ev, pid, pid, TEST_UID);
	jexpect(ev, "process.comm", "truncate");
	jexpect(ev, "process.exe", "/usr/bin/truncate");
	snprintf(cmdline, sizeof(cmdline), "/usr/bin/truncate -s 102400 %s", f);
	jexpect(ev, "process.cmdline", cmdline);
	/* time: RFC 3339, UTC, milliseconds, now. */
	tv = jv(ev, "time");
	ck_assert_ptr_nonnull(tv);
	ck_assert_msg(strlen(tv) == 24 && tv[10] == 'T' && tv[19] == '.' &&
			      tv[23] == 'Z',
		      "time %s", tv);
	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(strptime(tv, "%Y-%m-%dT%H:%M:%S", &tm));
	ck_assert_int_ge(timegm(&tm), t0 - 1);
	ck_assert_int_le(timegm(&tm), t1 + 1);
	free(tv);
	free(ev);

	/* fallocate -p as TEST_UID. */
	argv[0] = "/usr/bin/fallocate";
	argv[1] = "-p";
	argv[2] = "-o";
	argv[3] = "65536";
	argv[4] = "-l";
	argv[5] = "8192";
	argv[6] = (char *)f;
	argv[7] = NULL;
	pid = spawn(TEST_UID, argv, &efd);
	free(read_all(efd));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ev = jwait("aud/t", "refuse", "punch", 0);
	jexpect(ev, "path", "aud/t");
	ck_assert_int_eq(jnum(ev, "offset"), 65536);
	ck_assert_int_eq(jnum(ev, "length"), 8192);
	jexpect(ev, "errno", "ETXTBSY");
	jexpect(ev, "waited_ms", "null");
	ck_assert_int_eq(jnum(ev, "pins.n"), 1);
	jexpect(ev, "pins.0.range", "65536+65536");
	jexpect_proc(ev, pid, pid, TEST_UID);
	jexpect(ev, "process.comm", "fallocate");
	jexpect(ev, "process.exe", "/usr/bin/fallocate");
	snprintf(cmdline, sizeof(cmdline),
		 "/usr/bin/fallocate -p -o 65536 -l 8192 %s", f);
	jexpect(ev, "process.cmdline", cmdline);
	free(ev);

	/* rm as TEST_UID. */
	g = mp("aud/u");
	put_random(g, 8 * KIB, 18);
	ck_assert_int_eq(chmod(g, 0666), 0);
	ck_assert_int_eq(pin(g, "all"), 0);
	argv[0] = "/usr/bin/rm";
	argv[1] = "-f";
	argv[2] = (char *)g;
	argv[3] = NULL;
	pid = spawn(TEST_UID, argv, &efd);
	free(read_all(efd));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ck_assert(exists(g));
	ev = jwait("aud/u", "refuse", "unlink", 0);
	jexpect(ev, "errno", "ETXTBSY");
	ck_assert_int_eq(jnum(ev, "pins.n"), 1);
	jexpect(ev, "pins.0.range", "all");
	jexpect_proc(ev, pid, pid, TEST_UID);
	jexpect(ev, "process.comm", "rm");
	jexpect(ev, "process.exe", "/usr/bin/rm");
	snprintf(cmdline, sizeof(cmdline), "/usr/bin/rm -f %s", g);
	jexpect(ev, "process.cmdline", cmdline);
	free(ev);

	/* A thread of this process: pid is the thread, tgid the process. */
	h = mp("aud/v");
	put_random(h, 64 * KIB, 19);
	ck_assert_int_eq(pin(h, "0+4K"), 0);
	{
		struct op o;

		op_init(&o, OP_OTRUNC, h, NULL, 0, 0, 0);
		op_start(&o);
		op_join(&o, 1500);
		ck_assert_int_eq(o.err, ETXTBSY);
		ev = jwait("aud/v", "refuse", "truncate", 0);
		jexpect_proc(ev, o.tid, getpid(), 0);
		ck_assert_int_eq(jnum(ev, "offset"), 0);
		free(ev);
	}
	/* Nothing refused was logged as done. */
	ck_assert_int_eq(jcount("aud/t", "done", "-"), 0);
	ck_assert_int_eq(jcount("aud/t", "audit", "-"), 0);
}
END_TEST

/* ================= audit ================= */

START_TEST(test_audit_performs)
{
	const char *t, *o, *p, *c, *src, *u;
	long long a0 = status_of("audited"), r0 = status_of("refused");
	int64_t t0;
	char *ev;

	expect_status("policy", "audit");
	expect_status("truncate", "audit");
	expect_status("reflink", "audit");
	mkdir_m("au");
	t = mp("au/t");
	o = mp("au/o");
	p = mp("au/p");
	c = mp("au/c");
	src = mp("au/src");
	u = mp("au/u");
	put_random(t, MIB, 20);
	put_random(o, MIB, 21);
	put_random(p, MIB, 22);
	put_random(c, MIB, 23);
	put_random(src, MIB, 24);
	put_random(u, 64 * KIB, 25);
	ck_assert_int_eq(pin(t, "0+64K"), 0);
	ck_assert_int_eq(pin(o, "all"), 0);
	ck_assert_int_eq(pin(p, "0+64K"), 0);
	ck_assert_int_eq(pin(c, "0+64K"), 0);
	ck_assert_int_eq(pin(u, "0+4K"), 0);

	t0 = now_ms();
	ck_assert_int_eq(e_truncate(t, 4 * KIB), 0);
	ck_assert_int_eq(e_open(o, O_WRONLY | O_TRUNC), 0);
	ck_assert_int_eq(e_falloc(p, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  0, 8 * KIB),
			 0);
	ck_assert_int_eq(e_cfr(src, 0, c, 0, 128 * KIB), 0);
	ck_assert_int_eq(unlink(u), 0);
	ck_assert_msg(now_ms() - t0 < 1500, "audit delayed: %" PRId64 " ms",
		      now_ms() - t0);

	ck_assert_int_eq(size_of(bp("au/t")), 4 * KIB);
	ck_assert_int_eq(size_of(bp("au/o")), 0);
	ck_assert(all_zero(p, 0, 8 * KIB));
	ck_assert_uint_eq(fnv_range(c, 0, 128 * KIB),
			  fnv_range(src, 0, 128 * KIB));
	ck_assert(!exists(u) && !exists(bp("au/u")));

	ev = jwait("au/t", "audit", "truncate", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 4096);
	jexpect(ev, "errno", "null");
	jexpect(ev, "waited_ms", "null");
	jexpect(ev, "pins.0.range", "0+65536");
	jexpect_proc(ev, getpid(), getpid(), 0);
	free(ev);
	free(jwait("au/o", "audit", "truncate", 0));
	ev = jwait("au/p", "audit", "punch", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 0);
	ck_assert_int_eq(jnum(ev, "length"), 8192);
	free(ev);
	ev = jwait("au/c", "audit", "reflink", 0);
	jexpect(ev, "pins.0.range", "0+65536");
	free(ev);
	free(jwait("au/u", "audit", "unlink", 0));
	ck_assert_int_ge(status_of("audited"), a0 + 5);
	ck_assert_int_eq(status_of("refused"), r0);
	ck_assert_int_eq(jcount("-", "refuse", "-"), 0);
}
END_TEST

/* ================= per-class overrides ================= */

START_TEST(test_class_overrides)
{
	const char *t, *p, *c, *src, *u, *d;
	struct snap st, sc, ss;
	struct op o;
	int64_t t0;
	char *ev;

	expect_status("policy", "defer");
	expect_status("truncate", "refuse");
	expect_status("punch", "audit");
	expect_status("reflink", "refuse");
	expect_status("unlink", "break");
	expect_status("break_timeout", "1");
	mkdir_m("co");
	t = mp("co/t");
	p = mp("co/p");
	c = mp("co/c");
	src = mp("co/src");
	u = mp("co/u");
	d = mp("co/d");
	put_random(t, MIB, 26);
	put_random(p, MIB, 27);
	put_random(c, MIB, 28);
	put_random(src, MIB, 29);
	put_random(u, 64 * KIB, 30);
	put_random(d, MIB, 31);
	ck_assert_int_eq(pin(t, "0+64K"), 0);
	ck_assert_int_eq(pin(p, "0+64K"), 0);
	ck_assert_int_eq(pin(c, "0+64K"), 0);
	ck_assert_int_eq(pin(src, "0+64K"), 0);
	ck_assert_int_eq(pin(u, "all"), 0);
	st = snap_of("co/t", 0, 64 * KIB);
	sc = snap_of("co/c", 0, 64 * KIB);
	ss = snap_of("co/src", 0, 64 * KIB);

	t0 = now_ms();
	/* truncate=refuse */
	ck_assert_int_eq(e_truncate(t, 0), ETXTBSY);
	ck_assert_int_eq(e_open(t, O_WRONLY | O_TRUNC), ETXTBSY);
	/* reflink=refuse: either end pinned */
	ck_assert_int_eq(e_cfr(d, 0, c, 0, 128 * KIB), ETXTBSY);
	ck_assert_int_eq(e_cfr(src, 0, d, 0, 128 * KIB), ETXTBSY);
	/* punch=audit */
	ck_assert_int_eq(e_falloc(p, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  0, 8 * KIB),
			 0);
	ck_assert_msg(now_ms() - t0 < 1000, "refuse/audit took %" PRId64 " ms",
		      now_ms() - t0);
	ck_assert(all_zero(p, 0, 8 * KIB));
	expect_unchanged(&st);
	expect_unchanged(&sc);
	expect_unchanged(&ss);
	/* Outside the pins: the copy is made. */
	ck_assert_int_eq(e_cfr(src, 512 * KIB, c, 512 * KIB, 64 * KIB), 0);

	/* unlink=break, break_timeout=1 */
	op_init(&o, OP_UNLINK, u, NULL, 0, 0, 0);
	op_start(&o);
	op_join(&o, 4000);
	ck_assert_int_eq(o.err, 0);
	ck_assert_msg(op_ms(&o) >= 800 && op_ms(&o) <= 2500,
		      "unlink=break took %" PRId64 " ms", op_ms(&o));
	ck_assert(!exists(bp("co/u")));

	ev = jwait("co/t", "refuse", "truncate", 0);
	free(ev);
	ev = jwait("co/c", "refuse", "reflink", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 0);
	free(ev);
	free(jwait_src("co/src", "co/d", "refuse"));
	free(jwait("co/p", "audit", "punch", 0));
	ev = jwait("co/u", "break", "unlink", 0);
	ck_assert_int_ge(jnum(ev, "waited_ms"), 800);
	jexpect(ev, "pins.0.range", "all");
	free(ev);
	ck_assert_int_ge(status_of("broken"), 1);
	ck_assert_int_ge(status_of("refused"), 4);
	ck_assert_int_ge(status_of("audited"), 1);
}
END_TEST

/* ================= defer ================= */

/* Parked until the pins are gone, then done within 100 ms. */
START_TEST(test_defer_wake_on_unpin)
{
	const char *f, *g;
	struct op o, q;
	long long d0 = status_of("deferred");
	int64_t tu;
	char *ev;

	expect_status("policy", "defer");
	expect_status("break_timeout", "2");
	mkdir_m("dw");
	f = mp("dw/f");
	put_random(f, MIB, 32);
	ck_assert_int_eq(pin(f, "0+64K"), 0);

	/* open(O_TRUNC): FUSE_OPEN holds no inode lock, so unpin can run. */
	op_init(&o, OP_OTRUNC, f, NULL, 0, 0, 0);
	op_start(&o);
	sleep_ms(400);
	ck_assert_msg(!op_done(&o), "O_TRUNC under a pin was not parked: %s",
		      strerror(o.err));
	ck_assert_int_eq(size_of(bp("dw/f")), MIB);
	ck_assert(has_pin(f, "0+65536"));
	ck_assert_int_eq(status_of("deferred"), d0 + 1);
	ev = jwait("dw/f", "defer", "truncate", 0);
	jexpect(ev, "errno", "null");
	jexpect_waited0(ev);
	ck_assert_int_eq(jnum(ev, "offset"), 0);
	jexpect(ev, "pins.0.range", "0+65536");
	jexpect_proc(ev, o.tid, getpid(), 0);
	free(ev);
	tu = now_ms();
	ck_assert_int_eq(unpin(f, "0+64K"), 0);
	ck_assert_msg(now_ms() - tu < wake_limit(), "unpin took %" PRId64 " ms",
		      now_ms() - tu);
	op_join(&o, 1500);
	ck_assert_int_eq(o.err, 0);
	ck_assert_msg(o.t1 - tu < wake_limit(),
		      "the parked op ended %" PRId64 " ms after the unpin",
		      o.t1 - tu);
	ck_assert_int_eq(size_of(bp("dw/f")), 0);
	ev = jwait("dw/f", "done", "truncate", 0);
	jexpect(ev, "errno", "null");
	ck_assert_int_ge(jnum(ev, "waited_ms"), 350);
	ck_assert_int_le(jnum(ev, "waited_ms"), 1500);
	jexpect_proc(ev, o.tid, getpid(), 0);
	free(ev);
	ck_assert_int_eq(jcount("dw/f", "timeout", "-"), 0);

	/* Two overlapping pins: parked until both are gone. */
	g = mp("dw/g");
	put_random(g, MIB, 33);
	ck_assert_int_eq(pin(g, "0+4K"), 0);
	ck_assert_int_eq(pin(g, "8K+4K"), 0);
	ck_assert_int_eq(pin(g, "512K+4K"), 0);
	op_init(&q, OP_OTRUNC, g, NULL, 0, 0, 0);
	op_start(&q);
	sleep_ms(250);
	ck_assert(!op_done(&q));
	ck_assert_int_eq(unpin(g, "0+4K"), 0);
	sleep_ms(250);
	ck_assert_msg(!op_done(&q), "went on with a pin left");
	ck_assert_int_eq(size_of(bp("dw/g")), MIB);
	ck_assert_int_eq(unpin(g, "8K+4K"), 0);
	ck_assert_int_eq(unpin(g, "512K+4K"), 0);
	tu = now_ms();
	op_join(&q, 1500);
	ck_assert_int_eq(q.err, 0);
	ck_assert_msg(q.t1 - tu < wake_limit(),
		      "ended %" PRId64 " ms after the unpin", q.t1 - tu);
	ck_assert_int_eq(size_of(bp("dw/g")), 0);
}
END_TEST

/* A copy out of a pinned source (whose inode the kernel does not lock). */
START_TEST(test_defer_wake_reflink_src)
{
	const char *src, *dst;
	struct op o;
	uint64_t hd;
	int64_t tu;
	char *ev;

	mkdir_m("dr");
	src = mp("dr/src");
	dst = mp("dr/dst");
	put_random(src, MIB, 34);
	put_random(dst, MIB, 35);
	ck_assert_int_eq(pin(src, "0+64K"), 0);
	hd = fnv(dst);
	op_init(&o, OP_CFR_OUT, src, dst, 0, 128 * KIB, 0);
	op_start(&o);
	sleep_ms(400);
	ck_assert_msg(!op_done(&o), "copy out of a pinned range not parked");
	ck_assert_uint_eq(fnv(dst), hd);
	tu = now_ms();
	ck_assert_int_eq(unpin(src, "0+64K"), 0);
	op_join(&o, 1500);
	ck_assert_int_eq(o.err, 0);
	ck_assert_msg(o.t1 - tu < wake_limit(),
		      "ended %" PRId64 " ms after the unpin", o.t1 - tu);
	ck_assert_int_gt(o.ret, 0);
	ck_assert_uint_eq(fnv_range(dst, 0, o.ret), fnv_range(src, 0, o.ret));
	ev = jwait_src("dr/src", "dr/dst", "defer");
	jexpect(ev, "pins.0.range", "0+65536");
	free(ev);
	free(jwait_src("dr/src", "dr/dst", "done"));
}
END_TEST

/*
 * A parked truncate(2), punch, unlink or copy into a file holds that
 * file's inode lock (an unlink: its directory's) in the kernel, so the
 * pins of a file whose operation is parked are removed through the root
 * (doc/pins.md): every class goes on within the wake-up limit of its
 * unpin, and the unpin itself does not wait.
 */
START_TEST(test_defer_wake_root_unpin)
{
	static const char *names[] = { "tr", "ftr", "pu",  "zr",
				       "ul", "rn",  "cfr", "sp" };
	static const char *opn[] = { "truncate", "truncate", "punch",
				     "punch",	 "unlink",   "unlink",
				     "reflink",	 "truncate" };
	struct op o[8];
	char rel[64];
	int64_t tu, took, worst = 0;
	int i;

	mkdir_m("wr");
	for (i = 0; i < 8; i++) {
		snprintf(rel, sizeof(rel), "wr/%s", names[i]);
		mkdir_m(rel);
		/* The last one's name needs escaping in the root unpin. */
		snprintf(rel, sizeof(rel), "wr/%s/%s", names[i],
			 i == 7 ? "a b\\c" : "f");
		put_random(mp(rel), 256 * KIB, 120 + (unsigned int)i);
		ck_assert_int_eq(pin(mp(rel), "0+64K"), 0);
	}
	put_random(mp("wr/rn/src"), 4 * KIB, 130);
	put_random(mp("wr/src"), MIB, 131);
	op_init(&o[0], OP_TRUNCATE, mp("wr/tr/f"), NULL, 0, 0, 0);
	op_init(&o[1], OP_FTRUNCATE, mp("wr/ftr/f"), NULL, 4 * KIB, 0, 0);
	op_init(&o[2], OP_PUNCH, mp("wr/pu/f"), NULL, 0, 4 * KIB, 0);
	op_init(&o[3], OP_ZERO, mp("wr/zr/f"), NULL, 60 * KIB, 8 * KIB, 0);
	op_init(&o[4], OP_UNLINK, mp("wr/ul/f"), NULL, 0, 0, 0);
	op_init(&o[5], OP_RENAME, mp("wr/rn/f"), mp("wr/rn/src"), 0, 0, 0);
	op_init(&o[6], OP_CFR, mp("wr/cfr/f"), mp("wr/src"), 0, 128 * KIB, 0);
	op_init(&o[7], OP_TRUNCATE, mp("wr/sp/a b\\c"), NULL, 0, 0, 0);
	for (i = 0; i < 8; i++)
		op_start(&o[i]);
	sleep_ms(300);
	for (i = 0; i < 8; i++)
		ck_assert_msg(!op_done(&o[i]), "%s was not parked: %s",
			      names[i], strerror(o[i].err));
	for (i = 0; i < 8; i++) {
		if (i == 7)
			snprintf(rel, sizeof(rel), "wr/sp/a\\040b\\134c");
		else
			snprintf(rel, sizeof(rel), "wr/%s/f", names[i]);
		tu = now_ms();
		ck_assert_msg(root_unpin(rel, "0+64K") == 0,
			      "root unpin \"%s 0+64K\": %s", rel,
			      strerror(root_unpin(rel, "0+64K")));
		took = now_ms() - tu;
		ck_assert_msg(took < wake_limit(),
			      "root unpin of %s took %" PRId64 " ms", names[i],
			      took);
		op_join(&o[i], 3000);
		ck_assert_msg(o[i].err == 0, "%s: %s after the root unpin",
			      names[i], strerror(o[i].err));
		ck_assert_msg(o[i].t1 - tu < wake_limit(),
			      "%s ended %" PRId64 " ms after the root unpin",
			      names[i], o[i].t1 - tu);
		if (o[i].t1 - tu > worst)
			worst = o[i].t1 - tu;
	}
	printf("mount-mediate: slowest wake-up after a root unpin: %" PRId64
	       " ms\n",
	       worst);
	ck_assert_int_eq(size_of(bp("wr/tr/f")), 0);
	ck_assert_int_eq(size_of(bp("wr/ftr/f")), 4 * KIB);
	ck_assert(all_zero(mp("wr/pu/f"), 0, 4 * KIB));
	ck_assert(all_zero(mp("wr/zr/f"), 60 * KIB, 8 * KIB));
	ck_assert(!exists(bp("wr/ul/f")));
	ck_assert(!exists(bp("wr/rn/src")));
	ck_assert_int_eq(size_of(bp("wr/rn/f")), 4 * KIB);
	ck_assert_uint_eq(fnv_range(mp("wr/cfr/f"), 0, 128 * KIB),
			  fnv_range(mp("wr/src"), 0, 128 * KIB));
	ck_assert_int_eq(size_of(bp("wr/sp/a b\\c")), 0);
	for (i = 0; i < 7; i++) {
		char *ev;

		snprintf(rel, sizeof(rel), "wr/%s/f", names[i]);
		ev = jwait(rel, "done", opn[i], 0);
		jexpect(ev, "errno", "null");
		ck_assert_int_ge(jnum(ev, "waited_ms"), 250);
		jexpect_proc(ev, o[i].tid, getpid(), op_uid(&o[i]));
		free(ev);
	}
	free(jwait("wr/sp/a b\\c", "done", "truncate", 0));
}
END_TEST

struct unpinner {
	const char *path;
	int err;
	int64_t t0, t1;
	pthread_t th;
};

static void *unpin_thread(void *arg)
{
	struct unpinner *u = arg;

	u->t0 = now_ms();
	u->err = unpin(u->path, "0+64K");
	u->t1 = now_ms();
	return NULL;
}

/*
 * A parked truncate(2), punch, unlink or copy into a file holds the
 * file's inode lock in the kernel (do_truncate, fuse_file_fallocate,
 * vfs_unlink, fuse_copy_file_range), and setxattr (the unpin) on that
 * file takes the same lock: the unpin waits for the timeout, and the op
 * fails.  A known limitation, documented in doc/pins.md (unpin through
 * the root instead, test_defer_wake_root_unpin): this checks that it is
 * exactly that, and nothing worse (the unpin does go through once the
 * operation gave up, and nothing hangs).
 */
START_TEST(test_defer_wake_locked)
{
	static const char *names[] = { "truncate", "ftruncate", "punch",
				       "unlink", "copy-into" };
	struct unpinner u[5];
	struct op o[5];
	char rel[64];
	int i, bad = 0;

	mkdir_m("dl");
	put_random(mp("dl/src"), MIB, 39);
	for (i = 0; i < 5; i++) {
		snprintf(rel, sizeof(rel), "dl/%d", i);
		mkdir_m(rel);
		snprintf(rel, sizeof(rel), "dl/%d/f", i);
		put_random(mp(rel), MIB, 36 + (unsigned int)i);
		ck_assert_int_eq(pin(mp(rel), "0+64K"), 0);
		u[i].path = mp(rel);
	}
	op_init(&o[0], OP_TRUNCATE, u[0].path, NULL, 0, 0, 0);
	op_init(&o[1], OP_FTRUNCATE, u[1].path, NULL, 0, 0, 0);
	op_init(&o[2], OP_PUNCH, u[2].path, NULL, 0, 4 * KIB, 0);
	op_init(&o[3], OP_UNLINK, u[3].path, NULL, 0, 0, 0);
	op_init(&o[4], OP_CFR, u[4].path, mp("dl/src"), 0, 64 * KIB, 0);
	for (i = 0; i < 5; i++)
		op_start(&o[i]);
	sleep_ms(300);
	/* The unpins, from other threads, each of the file a request waits on. */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(
			pthread_create(&u[i].th, NULL, unpin_thread, &u[i]), 0);
	for (i = 0; i < 5; i++) {
		pthread_join(u[i].th, NULL);
		op_join(&o[i], 5000);
		printf("mount-mediate: parked %s: unpin took %" PRId64
		       " ms (%s), the op ended %" PRId64 " ms after (%s)\n",
		       names[i], u[i].t1 - u[i].t0, strerror(u[i].err),
		       o[i].t1 - u[i].t0, strerror(o[i].err));
		/*
		 * The operation gives up at the timeout (ETXTBSY); only then
		 * does the unpin get the lock, and it succeeds.
		 */
		bad += o[i].err != ETXTBSY || u[i].err != 0 ||
		       u[i].t1 + 50 < o[i].t1;
	}
	fflush(stdout);
	ck_assert_msg(!bad,
		      "%d parked requests did not behave as documented: "
		      "time out, then the unpin of their own file goes through",
		      bad);
}
END_TEST

/* Every class, parked at once, gives up at break_timeout; pins stay. */
START_TEST(test_defer_timeout)
{
	static const char *names[] = { "tr", "ftr", "otr", "pu",
				       "zr", "ul",  "rn",  "cfr" };
	static const char *opn[] = { "truncate", "truncate", "truncate",
				     "punch",	 "punch",    "unlink",
				     "unlink",	 "reflink" };
	struct op o[8];
	struct snap s[8];
	long long d0 = status_of("deferred");
	char rel[64], *ev;
	int i;

	mkdir_m("dt");
	for (i = 0; i < 8; i++) {
		snprintf(rel, sizeof(rel), "dt/%s", names[i]);
		mkdir_m(rel);
		snprintf(rel, sizeof(rel), "dt/%s/f", names[i]);
		put_random(mp(rel), 256 * KIB, 40 + (unsigned int)i);
		ck_assert_int_eq(pin(mp(rel), "0+64K"), 0);
		s[i] = snap_of(rel, 0, 64 * KIB);
	}
	put_random(mp("dt/rn/src"), 4 * KIB, 50);
	put_random(mp("dt/src"), MIB, 51);
	op_init(&o[0], OP_TRUNCATE, mp("dt/tr/f"), NULL, 0, 0, 0);
	op_init(&o[1], OP_FTRUNCATE, mp("dt/ftr/f"), NULL, 4 * KIB, 0, 0);
	op_init(&o[2], OP_OTRUNC, mp("dt/otr/f"), NULL, 0, 0, 0);
	op_init(&o[3], OP_PUNCH, mp("dt/pu/f"), NULL, 0, 4 * KIB, 0);
	op_init(&o[4], OP_ZERO, mp("dt/zr/f"), NULL, 60 * KIB, 8 * KIB, 0);
	op_init(&o[5], OP_UNLINK, mp("dt/ul/f"), NULL, 0, 0, 0);
	op_init(&o[6], OP_RENAME, mp("dt/rn/f"), mp("dt/rn/src"), 0, 0, 0);
	op_init(&o[7], OP_CFR, mp("dt/cfr/f"), mp("dt/src"), 0, 128 * KIB, 0);
	for (i = 0; i < 8; i++)
		op_start(&o[i]);
	sleep_ms(500);
	for (i = 0; i < 8; i++)
		ck_assert_msg(!op_done(&o[i]), "%s was not parked: %s",
			      names[i], strerror(o[i].err));
	ck_assert_int_eq(status_of("deferred"), d0 + 8);
	for (i = 0; i < 8; i++)
		op_join(&o[i], 5000);
	for (i = 0; i < 8; i++) {
		ck_assert_msg(o[i].err == ETXTBSY, "%s: %s, want ETXTBSY",
			      names[i], strerror(o[i].err));
		ck_assert_msg(op_ms(&o[i]) >= 1800 && op_ms(&o[i]) <= 3500,
			      "%s: gave up after %" PRId64 " ms, want 2 s",
			      names[i], op_ms(&o[i]));
		expect_unchanged(&s[i]);
		ck_assert_msg(has_pin(s[i].mnt, "0+65536"),
			      "%s: the pin is gone", names[i]);
	}
	ck_assert(exists(mp("dt/rn/src")));
	ck_assert_int_eq(size_of(mp("dt/rn/src")), 4 * KIB);
	for (i = 0; i < 8; i++) {
		snprintf(rel, sizeof(rel), "dt/%s/f", names[i]);
		ev = jwait(rel, "defer", opn[i], 0);
		jexpect(ev, "errno", "null");
		jexpect_waited0(ev);
		jexpect_proc(ev, o[i].tid, getpid(), op_uid(&o[i]));
		free(ev);
		ev = jwait(rel, "timeout", opn[i], 0);
		jexpect(ev, "errno", "ETXTBSY");
		ck_assert_int_ge(jnum(ev, "waited_ms"), 1800);
		ck_assert_int_le(jnum(ev, "waited_ms"), 3500);
		jexpect(ev, "pins.0.range", "0+65536");
		jexpect_proc(ev, o[i].tid, getpid(), op_uid(&o[i]));
		free(ev);
		ck_assert_int_eq(jcount(rel, "done", "-"), 0);
	}
	ev = jwait("dt/pu/f", "timeout", "punch", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 0);
	ck_assert_int_eq(jnum(ev, "length"), 4096);
	free(ev);
	ev = jwait("dt/zr/f", "timeout", "punch", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 60 * KIB);
	ck_assert_int_eq(jnum(ev, "length"), 8 * KIB);
	free(ev);
	ev = jwait("dt/ftr/f", "timeout", "truncate", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 4096);
	free(ev);
}
END_TEST

struct sigres {
	int err;
	int64_t ms;
};

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * In a child: SIGALRM (with a handler, no SA_RESTART) after 300 ms
 * during @k on @path; returns through a pipe the errno and the time.
 */
static pid_t signalled(enum opk k, const char *path, int *rfd)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction sa;
		struct itimerval it = { { 0, 0 }, { 0, 300000 } };
		struct sigres r;
		struct op o;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
		op_init(&o, k, path, NULL, 0, 4 * KIB, 0);
		setitimer(ITIMER_REAL, &it, NULL);
		op_now(&o);
		r.err = o.err;
		r.ms = op_ms(&o);
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static struct sigres signalled_result(pid_t pid, int rfd, long ms)
{
	struct sigres r = { -1, -1 };
	int st = wait_for(pid, ms);

	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ck_assert_msg(st != -1, "the signalled caller still waits after %ld ms",
		      ms);
	ck_assert_int_eq(read(rfd, &r, sizeof(r)), sizeof(r));
	close(rfd);
	return r;
}

/* A signal ends the wait with EINTR; the operation is not done after. */
static void interrupt_case(const char *dir, long total_ms)
{
	static const enum opk ks[] = { OP_TRUNCATE, OP_OTRUNC, OP_PUNCH,
				       OP_UNLINK };
	static const char *names[] = { "tr", "otr", "pu", "ul" };
	struct snap s[4], sk;
	char rel[64], *argv[5];
	pid_t pid[4], tp;
	int rfd[4], efd, i, st;
	int64_t t0 = now_ms(), tk;

	mkdir_m(dir);
	for (i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
		mkdir_m(rel);
		snprintf(rel, sizeof(rel), "%s/%s/f", dir, names[i]);
		put_random(mp(rel), 256 * KIB, 60 + (unsigned int)i);
		ck_assert_int_eq(pin(mp(rel), "0+64K"), 0);
		s[i] = snap_of(rel, 0, 64 * KIB);
	}
	snprintf(rel, sizeof(rel), "%s/k", dir);
	put_random(mp(rel), 256 * KIB, 64);
	ck_assert_int_eq(pin(mp(rel), "all"), 0);
	sk = snap_of(rel, 0, 256 * KIB);

	for (i = 0; i < 4; i++)
		pid[i] = signalled(ks[i], s[i].mnt, &rfd[i]);
	/* And a truncate(1) killed with SIGKILL while parked. */
	argv[0] = "/usr/bin/truncate";
	argv[1] = "-s";
	argv[2] = "0";
	argv[3] = (char *)sk.mnt;
	argv[4] = NULL;
	tp = spawn(0, argv, &efd);
	close(efd);
	sleep_ms(300);
	ck_assert_int_eq(wait_for(tp, 1), -1);
	tk = now_ms();
	kill(tp, SIGKILL);
	st = wait_for(tp, 1000);
	if (st == -1) {
		/* Unkillable: the request waits in the daemon. */
		st = wait_for(tp, 5000);
		ck_assert_msg(0,
			      "a SIGKILLed truncate still waited %d ms later "
			      "(%s then)",
			      1000, st == -1 ? "still running" : "gone");
	}
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	printf("mount-mediate %s: SIGKILLed truncate gone after %" PRId64
	       " ms\n",
	       dir, now_ms() - tk);

	for (i = 0; i < 4; i++) {
		struct sigres r = signalled_result(pid[i], rfd[i], 1500);

		ck_assert_msg(r.err == EINTR,
			      "%s: %s after %" PRId64 " ms, want EINTR",
			      names[i], strerror(r.err), r.ms);
		ck_assert_msg(r.ms >= 250 && r.ms < 1000,
			      "%s: EINTR after %" PRId64 " ms", names[i], r.ms);
	}
	/* Past the timeout: still not done, the pins still there. */
	while (now_ms() - t0 < total_ms)
		sleep_ms(50);
	for (i = 0; i < 4; i++) {
		expect_unchanged(&s[i]);
		ck_assert_msg(has_pin(s[i].mnt, "0+65536"), "%s: pin gone",
			      names[i]);
		snprintf(rel, sizeof(rel), "%s/%s/f", dir, names[i]);
		ck_assert_int_eq(jcount(rel, "done", "-"), 0);
		ck_assert_int_eq(jcount(rel, "break", "-"), 0);
	}
	expect_unchanged(&sk);
	ck_assert(has_pin(sk.mnt, "all"));
	snprintf(rel, sizeof(rel), "%s/k", dir);
	ck_assert_int_eq(jcount(rel, "done", "-"), 0);
	ck_assert_int_eq(jcount(rel, "break", "-"), 0);
}

START_TEST(test_defer_interrupt)
{
	/* break_timeout=2: wait 2.5 s in all. */
	interrupt_case("di", 2500);
}
END_TEST

/* What meets no pin is never parked. */
START_TEST(test_defer_not_overlapping)
{
	const char *f, *f2, *u, *v, *w, *src;
	long long d0 = status_of("deferred");
	int64_t t;

	mkdir_m("dn");
	f = mp("dn/f");
	f2 = mp("dn/f2");
	u = mp("dn/u");
	v = mp("dn/v");
	w = mp("dn/w");
	src = mp("dn/src");
	put_random(f, MIB, 70);
	put_random(u, MIB, 71);
	put_random(v, 4 * KIB, 72);
	put_random(w, 4 * KIB, 73);
	put_random(src, MIB, 74);
	ck_assert_int_eq(pin(f, "256K+64K"), 0);
	ck_assert_int_eq(link(f, f2), 0);

#define PROMPT(expr)                                                       \
	do {                                                               \
		t = now_ms();                                              \
		ck_assert_int_eq((expr), 0);                               \
		ck_assert_msg(now_ms() - t < 700,                          \
			      #expr " took %" PRId64 " ms", now_ms() - t); \
	} while (0)

	PROMPT(e_truncate(f, 2 * MIB));
	PROMPT(e_truncate(f, MIB));
	PROMPT(e_ftruncate(f, 512 * KIB));
	PROMPT(e_truncate(f, 320 * KIB));
	PROMPT(e_falloc(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			4 * KIB));
	PROMPT(e_falloc(f, FALLOC_FL_ZERO_RANGE, 128 * KIB, 4 * KIB));
	PROMPT(e_falloc(f, FALLOC_FL_ZERO_RANGE, 320 * KIB, 64 * KIB));
	PROMPT(e_falloc(f, 0, 0, 2 * MIB));
	PROMPT(e_cfr(src, 0, f, 0, 64 * KIB));
	PROMPT(e_cfr(f, 0, u, 0, 64 * KIB));
	PROMPT(e_cfr(src, 0, u, 0, MIB));
	PROMPT(e_truncate(u, 0));
	PROMPT(e_open(u, O_WRONLY | O_TRUNC));
	PROMPT(unlink(f2) < 0 ? errno : 0); /* one of two names */
	PROMPT(rename(v, w) < 0 ? errno : 0);
	PROMPT(unlink(w) < 0 ? errno : 0);
#undef PROMPT
	ck_assert_int_eq(status_of("deferred"), d0);
	ck_assert_int_eq(jcount("dn/f", "defer", "-"), 0);
	ck_assert_int_eq(jcount("dn/f2", "defer", "-"), 0);
	ck_assert_int_eq(jcount("dn/u", "defer", "-"), 0);
	ck_assert(has_pin(f, "262144+65536"));
}
END_TEST

/*
 * Twenty parked truncates (more than the daemon's 10 worker threads) from
 * twenty processes, while other I/O proceeds; all time out together.
 */
START_TEST(test_defer_many_parked)
{
	enum { N = 20 };
	pid_t pid[N];
	int64_t t0, t, tend[N];
	long long d0 = status_of("deferred");
	char rel[64], *buf;
	const char *o, *q;
	int i, fd, left, st;

	mkdir_m("dm");
	mkdir_m("dm_other");
	for (i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "dm/f%02d", i);
		put_random(mp(rel), 64 * KIB, 80 + (unsigned int)i);
		ck_assert_int_eq(pin(mp(rel), "all"), 0);
	}
	q = mp("dm_other/pinme");
	put_random(q, 64 * KIB, 79);
	t0 = now_ms();
	for (i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "dm/f%02d", i);
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0)
			_exit(truncate(mnt_path(&M, rel), 0) < 0 ? errno : 0);
		tend[i] = 0;
	}
	sleep_ms(500);
	for (i = 0; i < N; i++)
		ck_assert_msg(waitpid(pid[i], &st, WNOHANG) == 0,
			      "truncate %d was not parked", i);
	ck_assert_int_eq(status_of("deferred"), d0 + N);

	/* Meanwhile: create, write, read, fsync, list, pin, unpin. */
	t = now_ms();
	o = mp("dm_other/io");
	buf = malloc(MIB);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 'x', MIB);
	fd = open(o, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, MIB, 0), MIB);
	ck_assert_int_eq(fsync(fd), 0);
	memset(buf, 0, MIB);
	ck_assert_int_eq(pread(fd, buf, MIB, 0), MIB);
	ck_assert(buf[0] == 'x' && buf[MIB - 1] == 'x');
	ck_assert_int_eq(ftruncate(fd, 4 * KIB), 0);
	close(fd);
	free(buf);
	ck_assert_int_eq(size_of(o), 4 * KIB);
	ck_assert_int_eq(pin(q, "0+4K"), 0);
	ck_assert_int_eq(unpin(q, "0+4K"), 0);
	ck_assert_int_eq(unlink(o), 0);
	ck_assert_int_ge(status_of("pins"), N);
	{
		int s2;
		char *out = harness_run(&s2, "ls -l '%s' | wc -l", mp("dm"));

		ck_assert_int_eq(s2, 0);
		ck_assert_int_eq(atoi(out), N + 1);
		free(out);
	}
	ck_assert_msg(now_ms() - t < 1000,
		      "other I/O took %" PRId64 " ms with %d parked",
		      now_ms() - t, N);

	/* All give up at the timeout: together, not one after another. */
	for (left = N; left > 0 && now_ms() - t0 < 8000;) {
		for (i = 0; i < N; i++) {
			if (tend[i] || waitpid(pid[i], &st, WNOHANG) != pid[i])
				continue;
			tend[i] = now_ms();
			left--;
			ck_assert_msg(WIFEXITED(st) &&
					      WEXITSTATUS(st) == ETXTBSY,
				      "truncate %d: status %#x", i, st);
		}
		sleep_ms(5);
	}
	for (i = 0; i < N; i++) {
		if (!tend[i]) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
	}
	ck_assert_msg(left == 0, "%d truncates still parked after 8 s", left);
	for (i = 0; i < N; i++) {
		ck_assert_msg(tend[i] - t0 >= 1800 && tend[i] - t0 <= 3500,
			      "truncate %d gave up after %" PRId64 " ms", i,
			      tend[i] - t0);
		snprintf(rel, sizeof(rel), "dm/f%02d", i);
		ck_assert_int_eq(size_of(bk_path(&M, rel)), 64 * KIB);
		ck_assert(has_pin(mnt_path(&M, rel), "all"));
	}
	ck_assert_int_eq(jcount("-", "timeout", "truncate") >= N, 1);
}
END_TEST

/* ================= break ================= */

START_TEST(test_break_timeout)
{
	const char *p, *t, *u, *c, *src;
	struct op op[4];
	long long b0 = status_of("broken"), pins0;
	char *ev;
	int i;

	expect_status("policy", "break");
	expect_status("break_timeout", "1");
	mkdir_m("bt");
	mkdir_m("bt/ul");
	p = mp("bt/p");
	t = mp("bt/t");
	u = mp("bt/ul/u");
	c = mp("bt/c");
	src = mp("bt/src");
	put_random(p, MIB, 100);
	put_random(t, MIB, 101);
	put_random(u, 64 * KIB, 102);
	put_random(c, MIB, 103);
	put_random(src, MIB, 104);
	/* Only the overlapping pins are revoked. */
	ck_assert_int_eq(pin(p, "0+64K"), 0);
	ck_assert_int_eq(pin(p, "512K+64K"), 0);
	ck_assert_int_eq(pin(t, "all"), 0);
	ck_assert_int_eq(pin(u, "0+4K"), 0);
	ck_assert_int_eq(pin(c, "0+64K"), 0);
	ck_assert_int_eq(pin(c, "768K+4K"), 0);
	pins0 = status_of("pins");

	op_init(&op[0], OP_PUNCH, p, NULL, 512 * KIB, 4 * KIB, 0);
	op_init(&op[1], OP_TRUNCATE, t, NULL, 4 * KIB, 0, 0);
	op_init(&op[2], OP_UNLINK, u, NULL, 0, 0, 0);
	op_init(&op[3], OP_CFR, c, src, 0, 128 * KIB, 0);
	for (i = 0; i < 4; i++)
		op_start(&op[i]);
	sleep_ms(400);
	for (i = 0; i < 4; i++)
		ck_assert_msg(!op_done(&op[i]), "op %d not parked", i);
	ck_assert(has_pin(p, "524288+65536") && has_pin(t, "all"));
	for (i = 0; i < 4; i++) {
		op_join(&op[i], 4000);
		ck_assert_msg(op[i].err == 0, "op %d: %s", i,
			      strerror(op[i].err));
		ck_assert_msg(op_ms(&op[i]) >= 800 && op_ms(&op[i]) <= 2500,
			      "op %d broke after %" PRId64 " ms", i,
			      op_ms(&op[i]));
	}
	/* Performed, the overlapping pins gone, the others kept. */
	ck_assert(all_zero(p, 512 * KIB, 4 * KIB));
	ck_assert(!has_pin(p, "524288+65536"));
	ck_assert(has_pin(p, "0+65536"));
	ck_assert_int_eq(size_of(bp("bt/t")), 4 * KIB);
	ck_assert_uint_eq(npins(t), 0);
	ck_assert(!exists(bp("bt/ul/u")));
	ck_assert_uint_eq(fnv_range(c, 0, 128 * KIB),
			  fnv_range(src, 0, 128 * KIB));
	ck_assert(!has_pin(c, "0+65536"));
	ck_assert(has_pin(c, "786432+4096"));
	ck_assert_int_eq(status_of("broken"), b0 + 4);
	ck_assert_int_eq(status_of("pins"), pins0 - 4);

	ev = jwait("bt/p", "break", "punch", 0);
	ck_assert_int_eq(jnum(ev, "offset"), 512 * KIB);
	ck_assert_int_eq(jnum(ev, "length"), 4 * KIB);
	ck_assert_int_ge(jnum(ev, "waited_ms"), 800);
	ck_assert_int_le(jnum(ev, "waited_ms"), 2500);
	ck_assert_int_eq(jnum(ev, "pins.n"), 1);
	jexpect(ev, "pins.0.range", "524288+65536");
	ck_assert_int_eq(jnum(ev, "pins.0.owner"), 0);
	jexpect(ev, "errno", "null");
	jexpect_proc(ev, op[0].tid, getpid(), 0);
	free(ev);
	ev = jwait("bt/t", "break", "truncate", 0);
	jexpect(ev, "pins.0.range", "all");
	free(ev);
	free(jwait("bt/ul/u", "break", "unlink", 0));
	ev = jwait("bt/c", "break", "reflink", 0);
	jexpect(ev, "pins.0.range", "0+65536");
	ck_assert_int_eq(jnum(ev, "pins.n"), 1);
	free(ev);
	free(jwait("bt/p", "defer", "punch", 0));
	ck_assert_int_eq(jcount("bt/p", "timeout", "-"), 0);
}
END_TEST

/* Pins gone before the timeout: done, nothing broken. */
START_TEST(test_break_early)
{
	const char *f;
	struct op o;
	long long b0 = status_of("broken");
	int64_t tu;

	mkdir_m("be");
	f = mp("be/f");
	put_random(f, MIB, 105);
	ck_assert_int_eq(pin(f, "0+64K"), 0);
	op_init(&o, OP_OTRUNC, f, NULL, 0, 0, 0);
	op_start(&o);
	sleep_ms(300);
	ck_assert(!op_done(&o));
	tu = now_ms();
	ck_assert_int_eq(unpin(f, "0+64K"), 0);
	op_join(&o, 1500);
	ck_assert_int_eq(o.err, 0);
	ck_assert_msg(o.t1 - tu < wake_limit(),
		      "ended %" PRId64 " ms after the unpin", o.t1 - tu);
	ck_assert_int_eq(size_of(bp("be/f")), 0);
	ck_assert_int_eq(status_of("broken"), b0);
	free(jwait("be/f", "done", "truncate", 0));
	ck_assert_int_eq(jcount("be/f", "break", "-"), 0);
}
END_TEST

START_TEST(test_break_interrupt)
{
	/* break_timeout=1: a break after the caller left would show by 2 s. */
	interrupt_case("bi", 2000);
}
END_TEST

/* ================= SIGTERM with parked requests ================= */

START_TEST(test_sigterm_parked)
{
	struct mnt m;
	char o[PATH_MAX + 64];
	pid_t pid[3];
	int i, st;
	int64_t t;

	snprintf(o, sizeof(o), "policy=defer,break_timeout=30");
	ck_assert_int_eq(mnt_setup(&m, o, false), 0);
	note_leftover(&m);
	ck_assert_int_eq(mkdir(mnt_path(&m, "a"), 0755), 0);
	ck_assert_int_eq(mkdir(mnt_path(&m, "b"), 0755), 0);
	ck_assert_int_eq(chmod(mnt_path(&m, "b"), 0777), 0);
	ck_assert_int_eq(mkdir(mnt_path(&m, "c"), 0755), 0);
	put_random(mnt_path(&m, "a/f"), 64 * KIB, 110);
	put_random(mnt_path(&m, "b/f"), 64 * KIB, 111);
	put_random(mnt_path(&m, "c/f"), 64 * KIB, 112);
	for (i = 0; i < 3; i++) {
		char rel[8];

		snprintf(rel, sizeof(rel), "%c/f", 'a' + i);
		if (pin(mnt_path(&m, rel), "all") != 0) {
			mnt_teardown(&m);
			return; /* no pins here: can_pin() said so already */
		}
	}
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			int r;

			if (i == 0) {
				r = truncate(mnt_path(&m, "a/f"), 0);
			} else if (i == 1) {
				/* Not root, whose own pin never parks it. */
				setfsgid(TEST_GID);
				setfsuid(TEST_UID);
				r = unlink(mnt_path(&m, "b/f"));
			} else {
				int fd = open(mnt_path(&m, "c/f"), O_RDWR);

				r = fd < 0 ? -1
					   : fallocate(
						     fd,
						     FALLOC_FL_PUNCH_HOLE |
							     FALLOC_FL_KEEP_SIZE,
						     0, 4096);
			}
			_exit(r < 0 ? (errno & 0x7f) : 0x80);
		}
	}
	sleep_ms(400);
	for (i = 0; i < 3; i++)
		ck_assert_msg(waitpid(pid[i], &st, WNOHANG) == 0,
			      "op %d was not parked", i);
	t = now_ms();
	ck_assert_int_eq(kill(m.daemon, SIGTERM), 0);
	for (i = 0; i < 3; i++) {
		st = wait_for(pid[i], 5000);
		if (st == -1) {
			kill(m.daemon, SIGKILL);
			st = wait_for(pid[i], 5000);
		}
		ck_assert_msg(st != -1, "caller %d hangs after SIGTERM", i);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0x80 &&
				      WEXITSTATUS(st) != 0,
			      "caller %d: status %#x (0x80: succeeded)", i, st);
		printf("mount-mediate sigterm: caller %d got %s after %" PRId64
		       " ms\n",
		       i, strerror(WEXITSTATUS(st)), now_ms() - t);
	}
	st = wait_for(m.daemon, 10000);
	if (st == -1) {
		kill(m.daemon, SIGKILL);
		waitpid(m.daemon, NULL, 0);
	}
	ck_assert_msg(st != -1, "the daemon still runs 10 s after SIGTERM");
	m.daemon = -1;
	/* A clean exit; under ASan, also nothing leaked. */
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the daemon's exit status after SIGTERM: %#x", st);
	{
		struct statfs sf;

		if (statfs(m.mountpoint, &sf) == 0 &&
		    sf.f_type == FUSE_SUPER_MAGIC)
			umount2(m.mountpoint, MNT_DETACH);
		else if (errno == ENOTCONN)
			umount2(m.mountpoint, MNT_DETACH);
	}
	/* Nothing was done, and the pins are still there. */
	ck_assert_int_eq(size_of(bk_path(&m, "a/f")), 64 * KIB);
	ck_assert(exists(bk_path(&m, "b/f")));
	ck_assert(!all_zero(bk_path(&m, "c/f"), 0, 4096));
	ck_assert_int_eq(mnt_start(&m, NULL), 0);
	ck_assert(has_pin(mnt_path(&m, "a/f"), "all"));
	ck_assert(has_pin(mnt_path(&m, "b/f"), "all"));
	ck_assert(has_pin(mnt_path(&m, "c/f"), "all"));
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* ================= bad option values ================= */

START_TEST(test_bad_options)
{
	static const char *bad[][2] = {
		{ "policy=bogus", "policy" },
		{ "policy=", "policy" },
		{ "policy=copy", "policy" },
		{ "truncate=bogus", "truncate" },
		{ "truncate=copy", "truncate" },
		{ "punch=copy", "punch" },
		{ "punch=bogus", "punch" },
		{ "unlink=copy", "unlink" },
		{ "unlink=", "unlink" },
		{ "reflink=bogus", "reflink" },
		{ "break_timeout=-1", "break_timeout" },
		{ "break_timeout=abc", "break_timeout" },
		{ "break_timeout=", "break_timeout" },
		{ "break_timeout=1x", "break_timeout" },
	};
	char dir[] = "/tmp/rdmafs-medopt.XXXXXX", b[PATH_MAX], m[PATH_MAX];
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(m, sizeof(m), "%s/m", dir);
	ck_assert_int_eq(mkdir(b, 0755), 0);
	ck_assert_int_eq(mkdir(m, 0755), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { (char *)harness_rdmafs_bin(),
				 "-f",
				 "-o",
				 (char *)bad[i][0],
				 b,
				 m,
				 NULL };
		char *err, *nl;
		struct statfs sf;
		pid_t pid;
		int efd, st;

		if (argv[0][0] != '/')
			argv[0] = "/usr/local/bin/rdmafs";
		pid = spawn(0, argv, &efd);
		st = wait_for(pid, 5000);
		if (st == -1) {
			kill(pid, SIGTERM);
			waitpid(pid, &st, 0);
		}
		if (statfs(m, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC)
			umount2(m, MNT_DETACH);
		err = read_all(efd);
		ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0,
			      "-o %s: accepted (status %#x)", bad[i][0], st);
		nl = strchr(err, '\n');
		ck_assert_msg(*err && nl && nl[1] == '\0',
			      "-o %s: want one line of error, got \"%s\"",
			      bad[i][0], err);
		ck_assert_msg(strstr(err, bad[i][1]),
			      "-o %s: the error does not name %s: %s",
			      bad[i][0], bad[i][1], err);
		free(err);
	}
	harness_sh("rm -rf '%s'", dir);
}
END_TEST

static TCase *tc(Suite *s, const char *name, void (*setup)(void), int secs)
{
	TCase *t = tcase_create(name);

	if (setup) {
		tcase_add_unchecked_fixture(t, setup, case_teardown);
		tcase_add_checked_fixture(t, need_mount, NULL);
	}
	tcase_set_timeout(t, secs);
	suite_add_tcase(s, t);
	return t;
}

int main(void)
{
	Suite *s = suite_create("mount-mediate");
	const char *tmp = getenv("TMPDIR");
	TCase *t;
	SRunner *sr;
	FILE *f;
	int failed, fd;

	harness_require_root_fuse();
	if (harness_sh("command -v setfattr >/dev/null") != 0 ||
	    harness_sh("%s -c '' 2>/dev/null", python()) != 0 ||
	    access("/usr/bin/truncate", X_OK) != 0 ||
	    access("/usr/bin/fallocate", X_OK) != 0 ||
	    access("/usr/bin/rm", X_OK) != 0) {
		fprintf(stderr, "skip: python3, truncate, fallocate or rm "
				"missing\n");
		return SKIP_CODE;
	}
	umask(022);
	snprintf(logdir, sizeof(logdir), "%s/rdmafs-med.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(logdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	chmod(logdir, 0755);
	snprintf(pyscript, sizeof(pyscript), "%s/jq.py", logdir);
	f = fopen(pyscript, "w");
	if (!f || fputs(py_src, f) < 0 || fclose(f) != 0) {
		perror(pyscript);
		return EXIT_FAILURE;
	}
	snprintf(leftovers, sizeof(leftovers), "%s/rdmafs-med-left.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(leftovers);
	if (fd >= 0)
		close(fd);

	t = tc(s, "options", NULL, 60);
	tcase_add_test(t, test_bad_options);

	t = tc(s, "refuse", refuse_setup, 60);
	tcase_add_test(t, test_refuse_status);
	tcase_add_test(t, test_refuse_truncate);
	tcase_add_test(t, test_refuse_punch);
	tcase_add_test(t, test_refuse_reflink_copy);
	tcase_add_test(t, test_refuse_unlink);
	tcase_add_test(t, test_refuse_audit_json);

	t = tc(s, "audit", audit_setup, 60);
	tcase_add_test(t, test_audit_performs);

	t = tc(s, "classes", classes_setup, 60);
	tcase_add_test(t, test_class_overrides);

	t = tc(s, "defer", defer_setup, 60);
	tcase_add_test(t, test_defer_not_overlapping);
	tcase_add_test(t, test_defer_wake_on_unpin);
	tcase_add_test(t, test_defer_wake_reflink_src);
	tcase_add_test(t, test_defer_wake_root_unpin);
	tcase_add_test(t, test_defer_wake_locked);
	tcase_add_test(t, test_defer_timeout);
	tcase_add_test(t, test_defer_interrupt);
	tcase_add_test(t, test_defer_many_parked);

	t = tc(s, "break", break_setup, 60);
	tcase_add_test(t, test_break_timeout);
	tcase_add_test(t, test_break_early);
	tcase_add_test(t, test_break_interrupt);

	t = tc(s, "sigterm", NULL, 60);
	tcase_add_test(t, test_sigterm_parked);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	harness_sh("rm -rf '%s'", logdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
