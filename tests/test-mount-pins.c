// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pins through a real mount: every sentence of DESIGN.md §4 and
 * doc/pins.md, as root and as an unprivileged user, through the
 * syscalls and through the real setfattr/getfattr/cp tools.
 *
 *  - "ctl": formats, errors, invisibility and block-map stabilisation on
 *    one shared mount (each test uses its own files);
 *  - "limits", "listing", "paging", "enospc": one mount each, set up with
 *    the options or the emptiness the case needs;
 *  - "persist", "store": mounts of their own, unmounted, killed and
 *    mounted again on the same backing directory from the test itself.
 *
 * test_file_pins_fit_one_value checks that a file's longest possible pin
 * list (512 pins) still fits one xattr value (XFS backing only).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hash-test-util.h"
#include "pin-test-util.h"

#define PIN "user.rdmafs.pin"
#define UNPIN "user.rdmafs.unpin"
#define PINS "user.rdmafs.pins"
#define STATUS "user.rdmafs.status"
#define STORE "trusted.rdmafs.pins"
#define KIB 1024L
#define MIB (1024L * 1024L)
#define XATTR_MAX (64 * 1024)

/* The shared mount of the "ctl" case. */
static struct mnt M;
/* The mount of the case being run ("limits", "listing", ...). */
static struct mnt C;
/* Where own mounts record their scratch dirs, for cleanup after a crash. */
static char leftovers[PATH_MAX];

/* ---- small helpers ---- */

static void put_sparse(const char *path, off_t size)
{
	put_file(path, "", 0, 0644);
	ck_assert_int_eq(truncate(path, size), 0);
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

/*
 * A copy of a mnt_path()/bk_path() result, which lives only until the
 * fourth next call.  Copies stay until the (short-lived) test process
 * exits, listed here so that they are never taken for leaks.
 */
static char **kept;
static size_t nkept;

static const char *keep(const char *p)
{
	char **grown = realloc(kept, (nkept + 1) * sizeof(*kept));
	char *c = strdup(p);

	ck_assert_ptr_nonnull(grown);
	ck_assert_ptr_nonnull(c);
	kept = grown;
	kept[nkept++] = c;
	return c;
}

/* 0 or the errno of one xattr call. */
static int set_n(const char *path, const char *name, const void *v, size_t n)
{
	return setxattr(path, name, v, n, 0) < 0 ? errno : 0;
}

static int set(const char *path, const char *name, const char *v)
{
	return set_n(path, name, v, strlen(v));
}

static int rm(const char *path, const char *name)
{
	return removexattr(path, name) < 0 ? errno : 0;
}

static int get_err(const char *path, const char *name)
{
	char b[XATTR_MAX];

	return getxattr(path, name, b, sizeof(b)) < 0 ? errno : 0;
}

/* The value of @name (NUL-terminated, to free), or NULL and errno. */
static char *get(const char *path, const char *name)
{
	ssize_t n = getxattr(path, name, NULL, 0), m;
	char *b;

	if (n < 0)
		return NULL;
	b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	m = getxattr(path, name, b, (size_t)n);
	if (m < 0) {
		free(b);
		return NULL;
	}
	ck_assert_int_eq(m, n);
	b[m] = '\0';
	ck_assert_msg(strlen(b) == (size_t)m, "a NUL inside %s", name);
	return b;
}

/* ---- one pin line ---- */

struct pline {
	char path[PATH_MAX]; /* as listed (escaped); "" in a file's get */
	char range[48];
	bool all;
	uint64_t off, len;
	unsigned int owner;
	char holder[16];
	time_t since;
};

static regex_t line_re, path_line_re;

static void compile_res(void)
{
	static const char *body =
		"(all|(0|[1-9][0-9]*)\\+([1-9][0-9]*)) owner=(0|[1-9][0-9]*) "
		"holder=(-|[1-9][0-9]*) "
		"since=([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$";
	char re[512];

	/* Called before the tests run: no ck_assert here. */
	snprintf(re, sizeof(re), "^%s", body);
	if (regcomp(&line_re, re, REG_EXTENDED) != 0)
		abort();
	/* The path: no blank (they are escaped), never empty. */
	snprintf(re, sizeof(re), "^([^ \t\n]+) %s", body);
	if (regcomp(&path_line_re, re, REG_EXTENDED) != 0)
		abort();
}

static void sub(const char *s, const regmatch_t *m, char *out, size_t size)
{
	size_t n = (size_t)(m->rm_eo - m->rm_so);

	ck_assert_uint_lt(n, size);
	memcpy(out, s + m->rm_so, n);
	out[n] = '\0';
}

/* Parses one line (no newline), checking the documented format. */
static void parse_line(const char *s, bool with_path, struct pline *p)
{
	regmatch_t m[8];
	char num[32], since[32];
	struct tm tm;
	int k = with_path ? 1 : 0;

	memset(p, 0, sizeof(*p));
	ck_assert_msg(
		regexec(with_path ? &path_line_re : &line_re, s, 8, m, 0) == 0,
		"malformed pin line \"%s\"", s);
	if (with_path)
		sub(s, &m[1], p->path, sizeof(p->path));
	sub(s, &m[1 + k], p->range, sizeof(p->range));
	p->all = strcmp(p->range, "all") == 0;
	if (!p->all) {
		sub(s, &m[2 + k], num, sizeof(num));
		p->off = strtoull(num, NULL, 10);
		sub(s, &m[3 + k], num, sizeof(num));
		p->len = strtoull(num, NULL, 10);
	}
	sub(s, &m[4 + k], num, sizeof(num));
	p->owner = (unsigned int)strtoul(num, NULL, 10);
	sub(s, &m[5 + k], p->holder, sizeof(p->holder));
	sub(s, &m[6 + k], since, sizeof(since));
	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(strptime(since, "%Y-%m-%dT%H:%M:%SZ", &tm));
	p->since = timegm(&tm);
}

/* Splits a listing into parsed lines; returns how many. */
static size_t parse_value(const char *v, bool with_path, struct pline *out,
			  size_t max)
{
	const char *p = v;
	size_t n = 0;
	char line[PATH_MAX + 256];

	while (*p) {
		const char *nl = strchr(p, '\n');

		ck_assert_msg(nl, "a line without its newline: \"%s\"", p);
		ck_assert_uint_lt((size_t)(nl - p), sizeof(line));
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		ck_assert_uint_lt(n, max);
		parse_line(line, with_path, &out[n++]);
		p = nl + 1;
	}
	return n;
}

/* The pins of a file, parsed; 0 when it has none (ENODATA). */
static size_t file_pins(const char *path, struct pline *out, size_t max)
{
	char *v = get(path, PIN);
	size_t n;

	if (!v) {
		ck_assert_msg(errno == ENODATA, "get %s: %s", path,
			      strerror(errno));
		return 0;
	}
	ck_assert_msg(*v, "an empty pin value instead of ENODATA");
	n = parse_value(v, false, out, max);
	free(v);
	return n;
}

/* Asserts that line @i of a file's pins is RANGE with owner @owner. */
static void expect_pin(const struct pline *p, const char *range,
		       unsigned int owner)
{
	time_t now = time(NULL);

	ck_assert_str_eq(p->range, range);
	ck_assert_uint_eq(p->owner, owner);
	ck_assert_str_eq(p->holder, "-");
	ck_assert_msg(p->since <= now + 5 && p->since >= now - 300,
		      "since %ld is not close to now %ld", (long)p->since,
		      (long)now);
}

/* The key=value of a status line, or -1. */
static long long status_of(const char *root, const char *key)
{
	char *v = get(root, STATUS), *p;
	size_t kl = strlen(key);
	long long r = -1;

	ck_assert_ptr_nonnull(v);
	for (p = v; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			r = strtoll(p + kl + 1, NULL, 10);
			break;
		}
	}
	free(v);
	return r;
}

/* The whole mount-wide listing, all pages joined (to free); *@pages. */
static char *listing(const struct mnt *m, int *pages)
{
	char name[64], *all = NULL, *v, *more;
	size_t len = 0;
	int page = 0;

	for (;;) {
		if (page == 0)
			snprintf(name, sizeof(name), "%s", PINS);
		else
			snprintf(name, sizeof(name), "%s.%d", PINS, page);
		v = get(m->mountpoint, name);
		ck_assert_msg(v, "get %s: %s", name, strerror(errno));
		ck_assert_uint_le(strlen(v), XATTR_MAX);
		more = strstr(v, "#more ");
		if (more) {
			char want[80];

			snprintf(want, sizeof(want), "#more %s.%d\n", PINS,
				 page + 1);
			ck_assert_str_eq(more, want);
			ck_assert(more == v || more[-1] == '\n');
			*more = '\0';
		}
		all = realloc(all, len + strlen(v) + 1);
		ck_assert_ptr_nonnull(all);
		memcpy(all + len, v, strlen(v) + 1);
		len += strlen(v);
		free(v);
		page++;
		if (!more)
			break;
	}
	if (pages)
		*pages = page;
	return all;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- as another user ---- */

static int ufail;

#define UCHECK(cond)                                                   \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "%s:%d: as uid %d: %s (%s)\n", \
				__FILE__, __LINE__, TEST_UID, #cond,   \
				strerror(errno));                      \
			ufail++;                                       \
		}                                                      \
	} while (0)

/* Runs @fn as TEST_UID in a child; returns its failure count. */
static int as_user(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(TEST_GID, TEST_GID, TEST_GID) < 0 ||
		    setresuid(TEST_UID, TEST_UID, TEST_UID) < 0)
			_exit(99);
		ufail = 0;
		fn(arg);
		_exit(ufail > 90 ? 90 : ufail);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#define AS_USER "setpriv --reuid=4242 --regid=4242 --clear-groups "

/* ---- own mounts ---- */

static void own_mount(struct mnt *m, const char *opts, const char *what)
{
	FILE *f;

	ck_assert_int_eq(mnt_setup(m, opts, false), 0);
	printf("mount-pins %s: %s backing\n", what, m->xfs ? "xfs" : "tmpdir");
	fflush(stdout);
	f = fopen(leftovers, "a");
	if (f) {
		fprintf(f, "%s\n", m->scratch);
		fclose(f);
	}
}

/*
 * Pins need FIEMAP on the backing filesystem: a tmp-dir backing on tmpfs
 * has none, and every pin fails there by design. The probe's pin is
 * removed before the probe: unlinking the last name of a pinned file is
 * refused (ETXTBSY) under the default policy, and a pin left behind
 * would count in every check of the mount's pins.
 */
static bool can_pin(const struct mnt *m)
{
	const char *p = keep(mnt_path(m, ".probe"));
	int err;

	put_file(p, "x", 1, 0644);
	err = pin(p, "0+1");
	if (!err)
		ck_assert_int_eq(unpin(p, "0+1"), 0);
	ck_assert_msg(unlink(p) == 0, "unlink %s: %s", p, strerror(errno));
	if (err)
		printf("mount-pins: no pins on this backing (%s)\n",
		       strerror(err));
	return err == 0;
}

static void ctl_setup(void)
{
	own_mount(&M, NULL, "ctl");
	if (!can_pin(&M)) {
		mnt_teardown(&M);
		exit(SKIP_CODE);
	}
}

static void ctl_teardown(void)
{
	mnt_teardown(&M);
}

static void case_teardown(void)
{
	mnt_teardown(&C);
}

/* ================= formats ================= */

START_TEST(test_get_format)
{
	const char *f = keep(mnt_path(&M, "fmt"));
	struct pline p[8];
	char small[8];

	put_random(f, MIB, 1);
	ck_assert_int_eq(get_err(f, PIN), ENODATA);
	ck_assert_int_eq(pin(f, "0+4096"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 1);
	expect_pin(&p[0], "0+4096", 0);

	/* Several ranges in one value, blanks and a newline around them. */
	ck_assert_int_eq(pin(f, " 65536+64K,0x1000+0x1000 ,\t512K+1K\n"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 4);
	/* In offset order, plain decimal bytes. */
	expect_pin(&p[0], "0+4096", 0);
	expect_pin(&p[1], "4096+4096", 0);
	expect_pin(&p[2], "65536+65536", 0);
	expect_pin(&p[3], "524288+1024", 0);
	ck_assert_uint_eq(p[3].off, 524288);
	ck_assert_uint_eq(p[3].len, 1024);

	/* The whole file. */
	ck_assert_int_eq(pin(f, "all"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 5);
	ck_assert(p[0].all || p[1].all);

	/* The caller's buffer too small: ERANGE, as for any xattr. */
	ck_assert_int_eq(getxattr(f, PIN, small, sizeof(small)), -1);
	ck_assert_int_eq(errno, ERANGE);

	/* Programs that pass strlen() + 1 send a trailing NUL. */
	ck_assert_int_eq(set_n(f, PIN, "8K+4K", 6), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 6);
}
END_TEST

START_TEST(test_suffixes_and_hex)
{
	const char *f = keep(mnt_path(&M, "suffix"));
	struct pline p[16];

	/* Sparse: only the pinned bytes get allocated. */
	put_sparse(f, (off_t)(1ull << 40) + 64 * KIB);
	ck_assert_int_eq(pin(f, "1T+4K"), 0);
	ck_assert_int_eq(pin(f, "1t+1k"), 0);
	ck_assert_int_eq(pin(f, "1G+2k,1g+2K"), 0); /* the same twice */
	ck_assert_int_eq(pin(f, "3m+1M"), 0);
	ck_assert_int_eq(pin(f, "0x10+1"), 0);
	ck_assert_int_eq(pin(f, "0X20+0X10"), 0);
	ck_assert_int_eq(pin(f, "0x200000+2M"), 0);
	ck_assert_int_eq(pin(f, "0x1k+0xAk"), 0);
	ck_assert_uint_eq(file_pins(f, p, 16), 8);
	expect_pin(&p[0], "16+1", 0);
	expect_pin(&p[1], "32+16", 0);
	expect_pin(&p[2], "1024+10240", 0);
	expect_pin(&p[3], "2097152+2097152", 0);
	expect_pin(&p[4], "3145728+1048576", 0);
	expect_pin(&p[5], "1073741824+2048", 0);
	expect_pin(&p[6], "1099511627776+4096", 0);
	expect_pin(&p[7], "1099511627776+1024", 0);
	/* Through setfattr, quoted so that it does not read 0x as hex. */
	ck_assert_int_eq(
		harness_sh("setfattr -n %s -v '\"0x400000+4M\"' '%s'", PIN, f),
		0);
	ck_assert_uint_eq(file_pins(f, p, 16), 9);
	expect_pin(&p[5], "4194304+4194304", 0);
}
END_TEST

START_TEST(test_idempotent)
{
	const char *f = keep(mnt_path(&M, "idem"));
	struct pline p[8];

	put_random(f, 64 * KIB, 2);
	ck_assert_int_eq(pin(f, "0+4096"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 1);
	ck_assert_int_eq(pin(f, "0+4096"), 0);
	ck_assert_int_eq(pin(f, "0+4K"),
			 0); /* the same range spelt otherwise */
	ck_assert_int_eq(pin(f, "0x0+0x1000"), 0);
	ck_assert_int_eq(pin(f, "0+4K,0+4K"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 1);
	/* One unpin then removes it. */
	ck_assert_int_eq(unpin(f, "0+4096"), 0);
	ck_assert_int_eq(get_err(f, PIN), ENODATA);
	ck_assert_int_eq(pin(f, "all"), 0);
	ck_assert_int_eq(pin(f, "all"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 1);
	expect_pin(&p[0], "all", 0);
	/* A different but overlapping range is another pin. */
	ck_assert_int_eq(pin(f, "0+8K"), 0);
	ck_assert_int_eq(pin(f, "4K+4K"), 0);
	ck_assert_uint_eq(file_pins(f, p, 8), 3);
}
END_TEST

/* ================= two owners, EPERM, ENODATA, unpin all ================= */

static const char *shared_path;

static void user_pins_shared(void *arg)
{
	UCHECK(pin(shared_path, "4K+8K") == 0);
	/* The very range root pinned: another owner, another pin. */
	UCHECK(pin(shared_path, "0+8K") == 0);
}

static void user_pins_shared_at(void *arg)
{
	UCHECK(pin(arg, "all") == 0);
	UCHECK(pin(arg, "0+4K") == 0);
}

static void user_unpins_shared(void *arg)
{
	char *v = get(shared_path, PIN);

	/* Everyone who may read the file sees every pin. */
	UCHECK(v && strstr(v, "owner=0 ") && strstr(v, "owner=4242 "));
	free(v);
	UCHECK(unpin(shared_path, "0+8K") == 0); /* the user's own */
	errno = 0;
	UCHECK(unpin(shared_path, "0+8K") == EPERM); /* root's */
	UCHECK(unpin(shared_path, "4K+8K") == 0);
	UCHECK(unpin(shared_path, "4K+8K") == ENODATA);
	UCHECK(unpin(shared_path, "1+1") == ENODATA);
	UCHECK(pin(shared_path, "32K+4K") == 0);
	UCHECK(pin(shared_path, "all") == 0);
}

static void user_has_none(void *arg)
{
	UCHECK(unpin(shared_path, "all") == ENODATA);
	UCHECK(rm(shared_path, PIN) == ENODATA);
	UCHECK(unpin(shared_path, "0+8K") == EPERM);
	UCHECK(pin(shared_path, "all") == 0);
	UCHECK(pin(shared_path, "0+4K") == 0);
}

/* The owner of the pin of @range among @n lines, or -1. */
static long owner_of(const struct pline *p, size_t n, const char *range)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(p[i].range, range) == 0)
			return p[i].owner;
	return -1;
}

START_TEST(test_two_owners)
{
	struct pline p[8];
	int st;
	char *out;

	ck_assert_int_eq(mkdir(mnt_path(&M, "u"), 0755), 0);
	ck_assert_int_eq(chown(mnt_path(&M, "u"), TEST_UID, TEST_GID), 0);
	shared_path = keep(mnt_path(&M, "u/shared"));
	put_random(shared_path, 64 * KIB, 3);
	ck_assert_int_eq(chown(shared_path, TEST_UID, TEST_GID), 0);

	ck_assert_int_eq(pin(shared_path, "0+8K"), 0);
	ck_assert_int_eq(as_user(user_pins_shared, NULL), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 3);
	expect_pin(&p[0], "0+8192", 0);
	expect_pin(&p[1], "0+8192", TEST_UID);
	expect_pin(&p[2], "4096+8192", TEST_UID);

	ck_assert_int_eq(as_user(user_unpins_shared, NULL), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 3);
	/* Offset order; at one offset, the older pin first. */
	expect_pin(&p[0], "0+8192", 0);
	expect_pin(&p[1], "all", TEST_UID);
	expect_pin(&p[2], "32768+4096", TEST_UID);

	/* `setfattr -x` as the user removes only the user's pins. */
	ck_assert_int_eq(pin(shared_path, "16K+4K"), 0);
	ck_assert_int_eq(
		harness_sh(AS_USER "setfattr -x %s '%s'", PIN, shared_path), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 2);
	expect_pin(&p[0], "0+8192", 0);
	expect_pin(&p[1], "16384+4096", 0);
	/* And, having none left, the user gets ENODATA. */
	ck_assert_int_eq(as_user(user_has_none, NULL), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 4);

	/*
	 * The user's 0+4K is older than root's: root's unpin of that range
	 * takes root's own pin, then (root may remove anyone's) the user's.
	 */
	ck_assert_int_eq(pin(shared_path, "0+4K"), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 5);
	ck_assert_int_eq(unpin(shared_path, "0+4K"), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 4);
	ck_assert_uint_eq(owner_of(p, 4, "0+4096"), TEST_UID);
	ck_assert_int_eq(unpin(shared_path, "0+4K"), 0);
	ck_assert_uint_eq(file_pins(shared_path, p, 8), 3);
	ck_assert_int_eq(owner_of(p, 3, "0+4096"), -1);
	ck_assert_int_eq(unpin(shared_path, "0+4K"), ENODATA);

	/* Root's `setfattr -x` removes every pin, the user's too. */
	out = harness_run(&st, "setfattr -x %s '%s' 2>&1", PIN, shared_path);
	ck_assert_msg(st == 0, "setfattr -x: %s", out);
	free(out);
	ck_assert_int_eq(get_err(shared_path, PIN), ENODATA);
	ck_assert_int_eq(rm(shared_path, PIN), ENODATA);
	ck_assert_int_eq(unpin(shared_path, "all"), ENODATA);
	out = harness_run(&st, "setfattr -x %s '%s' 2>&1", PIN, shared_path);
	ck_assert_int_ne(st, 0);
	ck_assert_msg(strstr(out, "No such attribute"), "%s", out);
	free(out);

	/* Root's "unpin all" also removes everyone's. */
	ck_assert_int_eq(as_user(user_pins_shared, NULL), 0);
	ck_assert_int_eq(unpin(shared_path, "all"), 0);
	ck_assert_int_eq(get_err(shared_path, PIN), ENODATA);
}
END_TEST

static const char *order_path;

static void user_fails_unpin(void *arg)
{
	UCHECK(unpin(order_path, "0+8K") == EPERM);
	UCHECK(unpin(order_path, "4K+4K") == EPERM);
}

START_TEST(test_refused_unpin_changes_nothing)
{
	char *before, *after;

	order_path = keep(mnt_path(&M, "u_order"));
	put_random(order_path, 64 * KIB, 15);
	ck_assert_int_eq(chown(order_path, TEST_UID, TEST_GID), 0);
	/* At one offset: root's older pin, then others. */
	ck_assert_int_eq(pin(order_path, "0+8K"), 0);
	ck_assert_int_eq(as_user(user_pins_shared_at, (void *)order_path), 0);
	ck_assert_int_eq(pin(order_path, "4K+4K"), 0);
	before = get(order_path, PIN);
	ck_assert_ptr_nonnull(before);
	ck_assert_int_eq(as_user(user_fails_unpin, NULL), 0);
	after = get(order_path, PIN);
	ck_assert_ptr_nonnull(after);
	/* Not a pin removed, added, reordered or re-dated. */
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}
END_TEST

/*
 * A file's pins are one value of at most 64 KiB: the most pins a file may
 * have (512), with long lines, must still fit.
 */
START_TEST(test_file_pins_fit_one_value)
{
	const char *f = keep(mnt_path(&M, "longlines"));
	const uint64_t base = 100ull << 40; /* 15-digit offsets */
	char v[64 * 32];
	int b, i, n;

	if (!M.xfs)
		return;
	put_sparse(f, (off_t)(base + (1ull << 30)));
	for (b = 0; b < 8; b++) {
		for (i = 0, n = 0; i < 64; i++)
			n += snprintf(v + n, sizeof(v) - (size_t)n,
				      "%s%" PRIu64 "+4K", i ? "," : "",
				      base + (uint64_t)(b * 64 + i) * 8192);
		ck_assert_int_eq(pin(f, v), 0);
	}
	/* 512 lines of 65 bytes and more. */
	ck_assert_msg(get_err(f, PIN) == 0, "getxattr %s: %s", PIN,
		      strerror(get_err(f, PIN)));
	ck_assert_int_eq(unpin(f, "all"), 0);
}
END_TEST

/* ================= EINVAL ================= */

START_TEST(test_einval)
{
	static const char *const bad[] = {
		"",
		" ",
		"\n",
		"+",
		"1M",
		"0+0",
		"-1+1",
		"0+-1",
		"0+1Q",
		"0x+1",
		"0+0x",
		"1,,2",
		"0+1M,",
		",0+1",
		"0+1,,1+1",
		"0++1",
		"+1",
		"0+",
		"01+1",
		"0+01",
		"0+1KK",
		"0+1K1",
		"K+1",
		"0+K",
		"1e3+1",
		"0+1 2",
		"0 +1",
		"0+ 1",
		"all,",
		"all+1",
		"ALL",
		"0+1;1+1",
		"0.5+1",
		"0+9223372036854775808",
		"0+18446744073709551615",
		"9223372036854775807+1",
		"0+8388608T",
		"0+4096\n\n",
		"0+4096\nx",
		"0+1\r",
	};
	const char *f = keep(mnt_path(&M, "inval"));
	char many[2048];
	size_t i, n;

	put_random(f, MIB, 4);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(pin(f, bad[i]) == EINVAL, "pin \"%s\" gave %s",
			      bad[i], strerror(pin(f, bad[i])));
		ck_assert_msg(unpin(f, bad[i]) == EINVAL,
			      "unpin \"%s\" gave %s", bad[i],
			      strerror(unpin(f, bad[i])));
	}
	/* A NUL inside the value, not just at its end. */
	ck_assert_int_eq(set_n(f, PIN, "0+1\0x", 5), EINVAL);
	/* unpin takes one range, not a list. */
	ck_assert_int_eq(unpin(f, "0+1,1+1"), EINVAL);

	/* Ranges beyond the 1 MiB file. */
	ck_assert_int_eq(pin(f, "0+2M"), EINVAL);
	ck_assert_int_eq(pin(f, "1M+1"), EINVAL);
	ck_assert_int_eq(pin(f, "1048575+2"), EINVAL);
	ck_assert_int_eq(pin(f, "2M+1"), EINVAL);
	/* A bad range anywhere in the list: nothing is pinned. */
	ck_assert_int_eq(pin(f, "0+4K,1M+1"), EINVAL);
	ck_assert_int_eq(pin(f, "0+4K,0+1Q"), EINVAL);
	ck_assert_int_eq(get_err(f, PIN), ENODATA);

	/* Up to the limit of one value: 64 ranges. */
	for (i = 0, n = 0; i < 65; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%zu+1",
				      i ? "," : "", i);
	ck_assert_int_eq(pin(f, many), EINVAL);
	ck_assert_int_eq(get_err(f, PIN), ENODATA);
	*strrchr(many, ',') = '\0';
	ck_assert_int_eq(pin(f, many), 0);
	ck_assert_int_eq(unpin(f, "all"), 0);

	/* The last byte and the whole file are within it. */
	ck_assert_int_eq(pin(f, "1048575+1"), 0);
	ck_assert_int_eq(pin(f, "0+1M"), 0);
	ck_assert_int_eq(unpin(f, "all"), 0);

	/* Unknown control names. */
	ck_assert_int_eq(set(f, "user.rdmafs.pinn", "0+1"), EINVAL);
	ck_assert_int_eq(set(f, PINS, "0+1"), EINVAL);
	ck_assert_int_eq(set(M.mountpoint, PINS, "x"), EINVAL);
	ck_assert_int_eq(set(M.mountpoint, STATUS, "x"), EINVAL);
	ck_assert_int_eq(get_err(f, "user.rdmafs.unpin"), ENODATA);
	ck_assert_int_eq(get_err(f, STATUS), ENODATA);
	ck_assert_int_eq(get_err(f, PINS), ENODATA);
}
END_TEST

START_TEST(test_not_regular)
{
	const char *d = keep(mnt_path(&M, "nreg_dir"));
	const char *l = keep(mnt_path(&M, "nreg_link"));
	const char *p = keep(mnt_path(&M, "nreg_fifo"));
	const char *fl = keep(mnt_path(&M, "nreg_flink"));
	struct pline pl[4];

	ck_assert_int_eq(mkdir(d, 0755), 0);
	ck_assert_int_eq(symlink("nreg_dir", l), 0);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	ck_assert_int_eq(pin(d, "all"), EINVAL);
	ck_assert_int_eq(pin(d, "0+1"), EINVAL);
	ck_assert_int_eq(unpin(d, "all"), EINVAL);
	ck_assert_int_eq(rm(d, PIN), EINVAL);
	ck_assert_int_eq(get_err(d, PIN), ENODATA);
	/* setxattr follows the link to the directory. */
	ck_assert_int_eq(pin(l, "all"), EINVAL);
	/*
	 * The kernel itself refuses user.* names on anything but regular
	 * files and directories (EPERM to set, ENODATA to get) before the
	 * daemon is asked: a FIFO, or the symlink itself.
	 */
	ck_assert_int_eq(pin(p, "all"), EPERM);
	ck_assert_int_eq(get_err(p, PIN), ENODATA);
	ck_assert_int_eq(lsetxattr(l, PIN, "all", 3, 0), -1);
	ck_assert_int_eq(errno, EPERM);

	/* Through a symlink to a regular file, the file is pinned. */
	put_random(mnt_path(&M, "nreg_file"), 8 * KIB, 5);
	ck_assert_int_eq(symlink("nreg_file", fl), 0);
	ck_assert_int_eq(pin(fl, "0+1K"), 0);
	ck_assert_uint_eq(file_pins(mnt_path(&M, "nreg_file"), pl, 4), 1);
}
END_TEST

/* ================= EACCES ================= */

static const char *ro_root, *secret_root, *ro_own;

static void user_no_write(void *arg)
{
	char *v;

	UCHECK(pin(ro_root, "0+1") == EACCES);
	UCHECK(unpin(ro_root, "0+4K") == EACCES);
	UCHECK(unpin(ro_root, "all") == EACCES);
	UCHECK(rm(ro_root, PIN) == EACCES);
	/* Reading the pins needs only read permission. */
	v = get(ro_root, PIN);
	UCHECK(v && strncmp(v, "0+4096 owner=0 holder=- since=", 30) == 0);
	free(v);
	UCHECK(get_err(secret_root, PIN) == EACCES);
	/* The user's own file without write permission. */
	UCHECK(pin(ro_own, "0+1") == EACCES);
	/* The trusted names are the kernel's to refuse first. */
	UCHECK(set(ro_own, STORE, "x") == EPERM);
	UCHECK(rm(ro_own, STORE) == EPERM);
	UCHECK(get_err(ro_own, STORE) == ENODATA);
}

START_TEST(test_eacces)
{
	struct pline p[4];

	ck_assert_int_eq(mkdir(mnt_path(&M, "acc"), 0777), 0);
	ck_assert_int_eq(chmod(mnt_path(&M, "acc"), 0777), 0);
	ro_root = keep(mnt_path(&M, "acc/ro_root"));
	secret_root = keep(mnt_path(&M, "acc/secret_root"));
	ro_own = keep(mnt_path(&M, "acc/ro_own"));
	put_random(ro_root, 8 * KIB, 6);
	put_random(secret_root, 8 * KIB, 7);
	ck_assert_int_eq(chmod(secret_root, 0600), 0);
	put_random(ro_own, 8 * KIB, 8);
	ck_assert_int_eq(chown(ro_own, TEST_UID, TEST_GID), 0);
	ck_assert_int_eq(chmod(ro_own, 0444), 0);
	ck_assert_int_eq(pin(ro_root, "0+4K"), 0);
	ck_assert_int_eq(pin(secret_root, "0+4K"), 0);
	ck_assert_int_eq(as_user(user_no_write, NULL), 0);
	ck_assert_uint_eq(file_pins(ro_root, p, 4), 1);
	ck_assert_uint_eq(file_pins(ro_own, p, 4), 0);
	/* Root may pin the read-only file. */
	ck_assert_int_eq(pin(ro_own, "0+1"), 0);
}
END_TEST

/* ================= the real tools ================= */

START_TEST(test_tools)
{
	const char *f = keep(mnt_path(&M, "tools"));
	struct pline p[4];
	char *out;
	int st;

	put_random(f, 4 * MIB, 9);
	out = harness_run(&st, "setfattr -n %s -v 0+1M '%s' 2>&1", PIN, f);
	ck_assert_msg(st == 0, "setfattr: %s", out);
	free(out);
	out = harness_run(&st, "setfattr -n %s -v '\"0x200000+2M\"' '%s' 2>&1",
			  PIN, f);
	ck_assert_msg(st == 0, "setfattr: %s", out);
	free(out);
	/* The raw value, as getxattr gives it. */
	out = harness_run(&st, "getfattr --only-values -n %s '%s'", PIN, f);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_eq(parse_value(out, false, p, 4), 2);
	expect_pin(&p[0], "0+1048576", 0);
	expect_pin(&p[1], "2097152+2097152", 0);
	free(out);
	/* getfattr -n prints the name, as an explicit request. */
	out = harness_run(&st, "getfattr -n %s '%s'", PIN, f);
	ck_assert_int_eq(st, 0);
	ck_assert_ptr_nonnull(strstr(out, PIN "=\"0+1048576 owner=0 "));
	free(out);
	/* Errors as the tools report them. */
	out = harness_run(&st, "setfattr -n %s -v 0+8M '%s' 2>&1", PIN, f);
	ck_assert_int_ne(st, 0);
	ck_assert_msg(strstr(out, "Invalid argument"), "%s", out);
	free(out);
	/* setfattr words ENODATA its own way. */
	out = harness_run(&st, "setfattr -n %s -v 1+1 '%s' 2>&1", UNPIN, f);
	ck_assert_int_ne(st, 0);
	ck_assert_msg(strstr(out, "No such attribute"), "%s", out);
	free(out);
	out = harness_run(&st, "setfattr -n %s -v 0+1M '%s' 2>&1", UNPIN, f);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	out = harness_run(&st, "setfattr -x %s '%s' 2>&1", PIN, f);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	out = harness_run(&st, "getfattr --only-values -n %s '%s' 2>&1", PIN,
			  f);
	ck_assert_int_ne(st, 0);
	ck_assert_msg(strstr(out, "No such attribute"), "%s", out);
	free(out);
}
END_TEST

/* ================= invisibility ================= */

static bool list_has(const char *list, ssize_t n, const char *name)
{
	ssize_t i;

	for (i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		if (strcmp(list + i, name) == 0)
			return true;
	return false;
}

static bool list_has_prefix(const char *list, ssize_t n, const char *pre)
{
	ssize_t i;

	for (i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		if (strncmp(list + i, pre, strlen(pre)) == 0)
			return true;
	return false;
}

START_TEST(test_invisible)
{
	const char *f = keep(mnt_path(&M, "inv"));
	char list[4096], val[256];
	ssize_t n, want;
	char *out;
	int st;

	put_random(f, 64 * KIB, 10);
	ck_assert_int_eq(set(f, "user.foo", "bar"), 0);
	ck_assert_int_eq(pin(f, "0+4K,all"), 0);

	n = listxattr(f, list, sizeof(list));
	ck_assert_int_gt(n, 0);
	ck_assert(list_has(list, n, "user.foo"));
	ck_assert(!list_has_prefix(list, n, "user.rdmafs."));
	ck_assert(!list_has_prefix(list, n, "trusted.rdmafs."));
	/* The size query agrees with the filtered list. */
	want = listxattr(f, NULL, 0);
	ck_assert_int_eq(want, n);
	ck_assert_int_eq(listxattr(f, list, (size_t)n - 1), -1);
	ck_assert_int_eq(errno, ERANGE);
	n = listxattr(M.mountpoint, list, sizeof(list));
	ck_assert_int_ge(n, 0);
	ck_assert(!list_has_prefix(list, n, "user.rdmafs."));
	ck_assert(!list_has_prefix(list, n, "trusted.rdmafs."));

	out = harness_run(&st, "getfattr -d -m - '%s' 2>&1", f);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strstr(out, "user.foo=\"bar\""), "%s", out);
	ck_assert_msg(!strstr(out, "user.rdmafs"), "%s", out);
	ck_assert_msg(!strstr(out, "trusted.rdmafs"), "%s", out);
	free(out);

	/* Copies carry user.foo but never a pin. */
	ck_assert_int_eq(
		harness_sh("cp -a '%s' '%s'", f, mnt_path(&M, "inv_cp_a")), 0);
	ck_assert_int_eq(harness_sh("cp --preserve=xattr '%s' '%s'", f,
				    mnt_path(&M, "inv_cp_x")),
			 0);
	ck_assert_int_eq(get_err(mnt_path(&M, "inv_cp_a"), PIN), ENODATA);
	ck_assert_int_eq(get_err(mnt_path(&M, "inv_cp_x"), PIN), ENODATA);
	ck_assert_int_eq(getxattr(mnt_path(&M, "inv_cp_a"), "user.foo", val,
				  sizeof(val)),
			 3);
	ck_assert_int_eq(
		getxattr(bk_path(&M, "inv_cp_a"), STORE, val, sizeof(val)), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(fnv(mnt_path(&M, "inv_cp_a")), fnv(f));

	/* The stored record: on the backing file only. */
	ck_assert_int_eq(get_err(f, STORE), ENODATA);
	ck_assert_int_eq(getxattr(f, STORE, NULL, 0), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(set(f, STORE, "RDPN"), EPERM);
	ck_assert_int_eq(set(f, "trusted.rdmafs.other", "x"), EPERM);
	ck_assert_int_eq(rm(f, STORE), EPERM);
	ck_assert_int_eq(get_err(M.mountpoint, STORE), ENODATA);
	n = getxattr(bk_path(&M, "inv"), STORE, val, sizeof(val));
	ck_assert_int_eq(n, 16 + 2 * 32);
	ck_assert_int_eq(memcmp(val, "RDPN", 4), 0);
	/* Still pinned, untouched by all that. */
	ck_assert_int_eq(get_err(f, PIN), 0);
	/* Ordinary trusted.* names pass through for root. */
	ck_assert_int_eq(set(f, "trusted.other", "y"), 0);
	ck_assert_int_eq(
		getxattr(bk_path(&M, "inv"), "trusted.other", val, sizeof(val)),
		1);
}
END_TEST

/* ================= the hidden .rdmafs ================= */

static bool dir_lists(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		found |= strcmp(e->d_name, name) == 0;
	closedir(d);
	return found;
}

START_TEST(test_hidden_dir)
{
	const char *h = keep(mnt_path(&M, ".rdmafs"));
	const char *x = keep(mnt_path(&M, "hid_file"));
	struct stat st;
	char *out;
	int ret;

	ck_assert_int_eq(stat(bk_path(&M, ".rdmafs"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert(!dir_lists(M.mountpoint, ".rdmafs"));
	out = harness_run(&ret, "ls -a '%s'", M.mountpoint);
	ck_assert_int_eq(ret, 0);
	ck_assert_msg(!strstr(out, ".rdmafs"), "%s", out);
	free(out);

	ck_assert_int_eq(stat(h, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(lstat(mnt_path(&M, ".rdmafs/index"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(open(h, O_RDONLY), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(open(mnt_path(&M, ".rdmafs/index"), O_RDONLY), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(rmdir(h), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(unlink(h), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(rename(h, mnt_path(&M, "hid_stolen")), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* Nothing can take the name. */
	ck_assert_int_eq(mkdir(h, 0755), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(creat(h, 0644), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(open(h, O_CREAT | O_EXCL | O_WRONLY, 0644), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(mkfifo(h, 0644), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(symlink("x", h), -1);
	ck_assert_int_eq(errno, EPERM);
	put_random(x, 100, 11);
	ck_assert_int_eq(link(x, h), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(rename(x, h), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(mkdir(mnt_path(&M, "hid_dir"), 0755), 0);
	ck_assert_int_eq(rename(mnt_path(&M, "hid_dir"), h), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(renameat2(AT_FDCWD, x, AT_FDCWD, h, RENAME_EXCHANGE),
			 -1);
	ck_assert(errno == EPERM || errno == ENOENT);
	/* Nothing happened to the backing directory. */
	ck_assert_int_eq(stat(bk_path(&M, ".rdmafs"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(stat(x, &st), 0);

	/* Anywhere else it is an ordinary name. */
	ck_assert_int_eq(mkdir(mnt_path(&M, "hid_dir/.rdmafs"), 0755), 0);
	ck_assert(dir_lists(mnt_path(&M, "hid_dir"), ".rdmafs"));
	put_random(mnt_path(&M, "hid_dir/.rdmafs/f"), 4096, 12);
	ck_assert_int_eq(pin(mnt_path(&M, "hid_dir/.rdmafs/f"), "0+1"), 0);
	ck_assert_int_eq(rename(mnt_path(&M, "hid_dir/.rdmafs"),
				mnt_path(&M, "hid_dir/.rdmafs2")),
			 0);
	ck_assert_int_eq(rename(x, mnt_path(&M, "hid_dir/.rdmafs")), 0);
	ck_assert_int_eq(stat(mnt_path(&M, "hid_dir/.rdmafs"), &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(get_err(mnt_path(&M, "hid_dir/.rdmafs2/f"), PIN), 0);
}
END_TEST

/* ================= stabilisation ================= */

#define UNSTABLE                                                 \
	(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |        \
	 FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_SHARED |        \
	 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_NOT_ALIGNED | \
	 FIEMAP_EXTENT_ENCODED)

struct fmap {
	uint64_t mapped; /* bytes of the range covered by extents */
	uint32_t flags; /* the flags of those extents, or'ed */
};

/* FIEMAP of [off, off + len) of a BACKING file. */
static struct fmap fiemap_of(const char *path, uint64_t off, uint64_t len)
{
	struct fmap r = { 0, 0 };
	struct fiemap *fm =
		calloc(1, sizeof(*fm) + 64 * sizeof(fm->fm_extents[0]));
	uint64_t pos = off, end = off + len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned int i;

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(fm);
	while (pos < end) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = pos;
		fm->fm_length = end - pos;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 64;
		ck_assert_int_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0);
		if (fm->fm_mapped_extents == 0)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *x = &fm->fm_extents[i];
			uint64_t s = x->fe_logical, e = s + x->fe_length;

			if (s < off)
				s = off;
			if (e > end)
				e = end;
			if (e > s) {
				r.mapped += e - s;
				r.flags |= x->fe_flags;
			}
			pos = x->fe_logical + x->fe_length;
		}
		if (fm->fm_extents[i - 1].fe_flags & FIEMAP_EXTENT_LAST)
			break;
	}
	free(fm);
	close(fd);
	return r;
}

static void expect_stable(const char *bk, uint64_t off, uint64_t len)
{
	struct fmap r = fiemap_of(bk, off, len);

	ck_assert_msg(r.mapped == len,
		      "%s [%" PRIu64 ", +%" PRIu64 "): %" PRIu64 " mapped", bk,
		      off, len, r.mapped);
	ck_assert_msg(!(r.flags & UNSTABLE), "%s: extent flags %#x", bk,
		      r.flags);
}

START_TEST(test_stabilize_sparse)
{
	const char *f = keep(mnt_path(&M, "stab_sparse"));
	const char *bk = keep(bk_path(&M, "stab_sparse"));
	struct stat st;

	if (!M.xfs)
		return;
	put_sparse(f, 8 * MIB);
	ck_assert_uint_eq(fiemap_of(bk, 0, 8 * MIB).mapped, 0);
	ck_assert_int_eq(pin(f, "1M+2M"), 0);
	expect_stable(bk, MIB, 2 * MIB);
	ck_assert(all_zero(f, 0, 8 * MIB));
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_int_eq(st.st_size, 8 * MIB);
	/* Outside the range nothing had to be written. */
	ck_assert_uint_eq(fiemap_of(bk, 4 * MIB, 4 * MIB).mapped, 0);
	/* `all` takes the file as it is now. */
	ck_assert_int_eq(pin(f, "all"), 0);
	expect_stable(bk, 0, 8 * MIB);
	ck_assert(all_zero(f, 0, 8 * MIB));
	ck_assert(all_zero(bk, 0, 8 * MIB));
}
END_TEST

START_TEST(test_stabilize_unwritten)
{
	const char *f = keep(mnt_path(&M, "stab_unwr"));
	const char *bk = keep(bk_path(&M, "stab_unwr"));
	struct fmap r;
	int fd;

	if (!M.xfs)
		return;
	fd = open(bk, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fallocate(fd, 0, 0, 4 * MIB), 0);
	close(fd);
	r = fiemap_of(bk, 0, 4 * MIB);
	ck_assert_uint_eq(r.mapped, 4 * MIB);
	ck_assert(r.flags & FIEMAP_EXTENT_UNWRITTEN);
	ck_assert_int_eq(pin(f, "0+4M"), 0);
	expect_stable(bk, 0, 4 * MIB);
	ck_assert(all_zero(f, 0, 4 * MIB));
	ck_assert(all_zero(bk, 0, 4 * MIB));

	/* Through the mount too: fallocate passes through FUSE. */
	f = keep(mnt_path(&M, "stab_unwr2"));
	bk = keep(bk_path(&M, "stab_unwr2"));
	fd = open(f, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fallocate(fd, 0, 0, 2 * MIB), 0);
	close(fd);
	ck_assert(fiemap_of(bk, 0, 2 * MIB).flags & FIEMAP_EXTENT_UNWRITTEN);
	ck_assert_int_eq(pin(f, "512K+1M"), 0);
	expect_stable(bk, 512 * KIB, MIB);
	ck_assert(all_zero(f, 0, 2 * MIB));
}
END_TEST

START_TEST(test_stabilize_reflink)
{
	const char *src = keep(bk_path(&M, "stab_src"));
	const char *dst = keep(bk_path(&M, "stab_dst"));
	uint64_t hs, hd;
	struct fmap r;
	int s, d;

	if (!M.xfs)
		return;
	put_random(src, 4 * MIB, 13);
	s = open(src, O_RDONLY | O_CLOEXEC);
	d = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ck_assert_int_ge(s, 0);
	ck_assert_int_ge(d, 0);
	if (ioctl(d, FICLONE, s) < 0) {
		printf("mount-pins: no reflink on this XFS (%s)\n",
		       strerror(errno));
		close(s);
		close(d);
		return;
	}
	close(s);
	close(d);
	hs = fnv(src);
	hd = fnv(mnt_path(&M, "stab_dst"));
	ck_assert_uint_eq(hs, hd);
	r = fiemap_of(dst, 0, 4 * MIB);
	ck_assert_uint_eq(r.mapped, 4 * MIB);
	ck_assert(r.flags & FIEMAP_EXTENT_SHARED);

	/* A part: that part is unshared. */
	ck_assert_int_eq(pin(mnt_path(&M, "stab_dst"), "1M+1M"), 0);
	expect_stable(dst, MIB, MIB);
	ck_assert(fiemap_of(dst, 0, MIB).flags & FIEMAP_EXTENT_SHARED);
	ck_assert_int_eq(pin(mnt_path(&M, "stab_dst"), "0+4M"), 0);
	expect_stable(dst, 0, 4 * MIB);
	/* The source does not change, nor does the pinned file. */
	ck_assert_uint_eq(fnv(src), hs);
	ck_assert_uint_eq(fnv(dst), hs);
	ck_assert_uint_eq(fnv(mnt_path(&M, "stab_dst")), hs);
	ck_assert_uint_eq(fnv(mnt_path(&M, "stab_src")), hs);
	/* Nor is the source pinned. */
	ck_assert_int_eq(get_err(mnt_path(&M, "stab_src"), PIN), ENODATA);
}
END_TEST

START_TEST(test_stabilize_keeps_content)
{
	const char *f = keep(mnt_path(&M, "stab_mixed"));
	const char *bk = keep(bk_path(&M, "stab_mixed"));
	char *b = malloc(MIB);
	uint64_t h;
	unsigned int seed = 14;
	size_t i;
	int fd;

	if (!M.xfs)
		return;
	for (i = 0; i < MIB; i++)
		b[i] = (char)(rand_r(&seed) >> 5);
	/* Data, hole, data, unwritten, hole; written on the backing. */
	fd = open(bk, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, b, MIB, 0), MIB);
	ck_assert_int_eq(pwrite(fd, b + 17, MIB - 17, 2 * MIB), MIB - 17);
	ck_assert_int_eq(fallocate(fd, 0, 3 * MIB, MIB), 0);
	ck_assert_int_eq(ftruncate(fd, 5 * MIB + 123), 0);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
	/* And a little through the mount, into the last hole. */
	fd = open(f, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "through", 7, 4 * MIB + 4000), 7);
	close(fd);
	h = fnv(f);

	ck_assert_int_eq(pin(f, "all"), 0);
	expect_stable(bk, 0, 5 * MIB + 123);
	ck_assert_uint_eq(fnv(f), h);
	ck_assert_uint_eq(fnv(bk), h);
	free(b);
}
END_TEST

/* ================= limits ================= */

static void limits_setup(void)
{
	own_mount(&C, "max_pins_per_file=4,max_pins=6", "limits");
}

START_TEST(test_limits)
{
	const char *a = keep(mnt_path(&C, "a")), *b = keep(mnt_path(&C, "b"));
	const char *c = keep(mnt_path(&C, "c"));
	struct pline p[8];

	ck_assert_int_eq(status_of(C.mountpoint, "max_pins"), 6);
	ck_assert_int_eq(status_of(C.mountpoint, "max_pins_per_file"), 4);
	put_random(a, 64 * KIB, 20);
	put_random(b, 64 * KIB, 21);
	put_random(c, 64 * KIB, 22);
	ck_assert_int_eq(pin(a, "0+1,1+1,2+1,3+1"), 0);
	ck_assert_int_eq(pin(a, "4+1"), ENOSPC);
	ck_assert_int_eq(pin(a, "all"), ENOSPC);
	/* Pinning what is already pinned adds nothing, so it fits. */
	ck_assert_int_eq(pin(a, "2+1"), 0);
	ck_assert_uint_eq(file_pins(a, p, 8), 4);
	/* A value is all or nothing. */
	ck_assert_int_eq(pin(b, "0+1,1+1,2+1"), ENOSPC);
	ck_assert_int_eq(get_err(b, PIN), ENODATA);
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), 4);
	ck_assert_int_eq(pin(b, "0+1,1+1"), 0);
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), 6);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"), 2);
	ck_assert_int_eq(pin(c, "0+1"), ENOSPC);
	ck_assert_int_eq(get_err(c, PIN), ENODATA);
	/* Room again after an unpin. */
	ck_assert_int_eq(unpin(a, "3+1"), 0);
	ck_assert_int_eq(pin(c, "0+1"), 0);
	ck_assert_int_eq(pin(a, "3+1"), ENOSPC);
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), 6);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"), 3);
	ck_assert_int_eq(unpin(c, "all"), 0);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"), 2);
}
END_TEST

/* ================= what one xattr value can store ================= */

/* Pins "i+1" for i from *@next on, as long as they fit; returns errno. */
static int pin_ones(const char *f, int *next, int batch)
{
	char v[64 * 24];
	int i, n, err;

	for (;;) {
		for (i = 0, n = 0; i < batch; i++)
			n += snprintf(v + n, sizeof(v) - (size_t)n, "%s%d+1",
				      i ? "," : "", *next + i);
		err = pin(f, v);
		if (err)
			return err;
		*next += batch;
	}
}

#define STORE_OPTS "max_pins_per_file=512,max_pins=8192"

START_TEST(test_store_limit)
{
	const char *f;
	int next = 0;
	long long stored;
	struct mnt m;

	/* Its own mount, to be remounted from this process. */
	own_mount(&m, STORE_OPTS, "store");
	if (!can_pin(&m)) {
		mnt_teardown(&m);
		return;
	}
	f = keep(mnt_path(&m, "many_pins"));
	put_random(f, 8 * KIB, 50);
	/* All or nothing per value, then one at a time up to the limit. */
	ck_assert_int_eq(pin_ones(f, &next, 64), ENOSPC);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), next);
	ck_assert_int_eq(pin_ones(f, &next, 1), ENOSPC);
	stored = status_of(m.mountpoint, "pins");
	ck_assert_int_eq(stored, next);
	ck_assert_int_gt(stored, 0);
	/*
	 * XFS stores all 512 (the most a file may have, so that its list
	 * fits one value); a filesystem with smaller xattr values stops
	 * earlier, with the same ENOSPC.
	 */
	if (m.xfs)
		ck_assert_int_eq(stored, 512);
	ck_assert_int_le(stored, 512);
	ck_assert_int_eq(getxattr(bk_path(&m, "many_pins"), STORE, NULL, 0),
			 16 + 32 * stored);
	/* What was stored is what a new daemon finds. */
	ck_assert_int_eq(mnt_stop(&m, false), 0);
	ck_assert_int_eq(mnt_start(&m, STORE_OPTS), 0);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), stored);
	ck_assert_int_eq(unpin(f, "0+1"), 0);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), stored - 1);
	ck_assert_int_eq(pin(f, "0+1"), 0);
	ck_assert_int_eq(pin(f, "all"), ENOSPC);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

/* ================= listing and status ================= */

static void listing_setup(void)
{
	own_mount(&C, NULL, "listing");
	if (!can_pin(&C)) {
		mnt_teardown(&C);
		exit(SKIP_CODE);
	}
}

/* Undoes the /proc/mounts escapes. */
static void unescape(const char *in, char *out)
{
	while (*in) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '7' &&
		    in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
		    in[3] <= '7') {
			*out++ = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 +
					(in[3] - '0'));
			in += 4;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

START_TEST(test_listing)
{
	static const struct {
		const char *name, *listed;
	} files[] = {
		{ "plain", "plain" },
		{ "sp ace", "sp\\040ace" },
		{ "tab\there", "tab\\011here" },
		{ "nl\nhere", "nl\\012here" },
		{ "back\\slash", "back\\134slash" },
		{ "#hash", "\\043hash" },
		{ "mid#hash", "mid#hash" },
		{ "sub/dir/deep file", "sub/dir/deep\\040file" },
		{ "sub/#x", "sub/#x" },
	};
	const size_t nf = sizeof(files) / sizeof(files[0]);
	struct pline p[32];
	char *v, path[PATH_MAX];
	bool seen[16] = { false };
	size_t i, j, n;
	struct stat st;
	int pages;

	/* No pins: an empty value, not an error. */
	ck_assert_int_eq(getxattr(C.mountpoint, PINS, NULL, 0), 0);
	ck_assert_int_eq(getxattr(C.mountpoint, PINS, path, sizeof(path)), 0);
	ck_assert_int_eq(get_err(C.mountpoint, PINS ".1"), ENODATA);
	v = get(C.mountpoint, STATUS);
	ck_assert_ptr_nonnull(v);
	ck_assert_msg(strncmp(v, "version=", 8) == 0, "%s", v);
	ck_assert_ptr_nonnull(strstr(v, "\npins=0\n"));
	ck_assert_ptr_nonnull(strstr(v, "\nfiles_pinned=0\n"));
	ck_assert_ptr_nonnull(strstr(v, "\nmax_pins=65536\n"));
	ck_assert_ptr_nonnull(strstr(v, "\nmax_pins_per_file=512\n"));
	ck_assert(v[strlen(v) - 1] == '\n');
	free(v);

	ck_assert_int_eq(mkdir(mnt_path(&C, "sub"), 0755), 0);
	ck_assert_int_eq(mkdir(mnt_path(&C, "sub/dir"), 0755), 0);
	for (i = 0; i < nf; i++) {
		put_random(mnt_path(&C, files[i].name), 8 * KIB, 30 + i);
		ck_assert_int_eq(pin(mnt_path(&C, files[i].name), "0+1"), 0);
	}
	ck_assert_int_eq(pin(mnt_path(&C, "plain"), "4K+4K,all"), 0);

	v = listing(&C, &pages);
	ck_assert_int_eq(pages, 1);
	n = parse_value(v, true, p, 32);
	ck_assert_uint_eq(n, nf + 2);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nf; j++)
			if (strcmp(p[i].path, files[j].listed) == 0)
				break;
		ck_assert_msg(j < nf, "unexpected path \"%s\"", p[i].path);
		if (j == 0)
			continue;
		ck_assert_msg(!seen[j], "%s listed twice", files[j].listed);
		seen[j] = true;
		expect_pin(&p[i], "0+1", 0);
		/* The escaped path leads back to the file. */
		unescape(p[i].path, path);
		ck_assert_str_eq(path, files[j].name);
		ck_assert_int_eq(stat(mnt_path(&C, path), &st), 0);
	}
	free(v);
	for (j = 1; j < nf; j++)
		ck_assert_msg(seen[j], "%s not listed", files[j].listed);
	/* The same lines as the file's own listing, path prefixed. */
	v = get(C.mountpoint, PINS);
	ck_assert_ptr_nonnull(strstr(v, "plain all owner=0 holder=- since="));
	ck_assert_ptr_nonnull(strstr(v, "plain 4096+4096 owner=0 holder=-"));
	free(v);

	ck_assert_int_eq(status_of(C.mountpoint, "pins"), (long long)nf + 2);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"),
			 (long long)nf);

	/* Only on the mount's root. */
	ck_assert_int_eq(get_err(mnt_path(&C, "sub"), PINS), ENODATA);
	ck_assert_int_eq(get_err(mnt_path(&C, "sub"), STATUS), ENODATA);
	ck_assert_int_eq(get_err(mnt_path(&C, "sub"), PINS ".1"), ENODATA);
	ck_assert_int_eq(get_err(mnt_path(&C, "plain"), PINS), ENODATA);
	ck_assert_int_eq(get_err(mnt_path(&C, "plain"), STATUS), ENODATA);
	/* No page 0 (the first page is the bare name) and no page 1 yet. */
	ck_assert_int_eq(get_err(C.mountpoint, PINS ".0"), ENODATA);
	ck_assert_int_eq(get_err(C.mountpoint, PINS ".1"), ENODATA);
	ck_assert_int_eq(get_err(C.mountpoint, PINS ".01"), ENODATA);
	ck_assert_int_eq(get_err(C.mountpoint, PINS ".x"), ENODATA);
	ck_assert_int_eq(getxattr(C.mountpoint, PINS, path, 10), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(getxattr(C.mountpoint, STATUS, path, 4), -1);
	ck_assert_int_eq(errno, ERANGE);

	/* Unpinned files leave the listing; renamed ones show their name. */
	ck_assert_int_eq(unpin(mnt_path(&C, "mid#hash"), "0+1"), 0);
	ck_assert_int_eq(
		rename(mnt_path(&C, "sp ace"), mnt_path(&C, "sub/moved here")),
		0);
	v = listing(&C, NULL);
	ck_assert_msg(!strstr(v, "mid#hash"), "%s", v);
	ck_assert_msg(!strstr(v, "sp\\040ace"), "%s", v);
	ck_assert_msg(strstr(v, "sub/moved\\040here 0+1 owner=0"), "%s", v);
	free(v);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"),
			 (long long)nf - 1);

	/* Remove every pin: an empty listing again. */
	for (i = 0; i < nf; i++)
		rm(mnt_path(&C, files[i].name), PIN);
	rm(mnt_path(&C, "sub/moved here"), PIN);
	ck_assert_int_eq(getxattr(C.mountpoint, PINS, NULL, 0), 0);
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), 0);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"), 0);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define NPAGED 1200

START_TEST(test_paging)
{
	char **want = calloc(NPAGED * 2, sizeof(char *));
	char **got = calloc(NPAGED * 3, sizeof(char *));
	const char *tail = "\n#more " PINS ".1\n";
	char name[80], *v, *line, *save = NULL, *out;
	size_t nw = 0, ng = 0, i;
	int pages, st, k;
	struct pline p;

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(mkdir(mnt_path(&C, "many"), 0755), 0);
	for (i = 0; i < NPAGED; i++) {
		/* 60-character names. */
		snprintf(name, sizeof(name), "many/f%04zu_", i);
		while (strlen(name) < 5 + 60)
			strcat(name, "x");
		if (i % 10 == 0) {
			put_file(mnt_path(&C, name), "xy", 2, 0644);
			ck_assert_int_eq(pin(mnt_path(&C, name), "0+1,1+1"), 0);
			ck_assert_int_ge(asprintf(&want[nw++], "%s 0+1", name),
					 0);
			ck_assert_int_ge(asprintf(&want[nw++], "%s 1+1", name),
					 0);
		} else {
			put_file(mnt_path(&C, name), "", 0, 0644);
			ck_assert_int_eq(pin(mnt_path(&C, name), "all"), 0);
			ck_assert_int_ge(asprintf(&want[nw++], "%s all", name),
					 0);
		}
	}
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), (long long)nw);
	ck_assert_int_eq(status_of(C.mountpoint, "files_pinned"), NPAGED);

	/* The first page ends by naming the second. */
	v = get(C.mountpoint, PINS);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_le(strlen(v), XATTR_MAX);
	ck_assert_uint_gt(strlen(v), XATTR_MAX / 2);
	ck_assert_msg(strcmp(v + strlen(v) - strlen(tail), tail) == 0,
		      "page 0 ends \"%s\"", v + strlen(v) - 40);
	free(v);

	v = listing(&C, &pages);
	ck_assert_int_ge(pages, 2);
	for (line = strtok_r(v, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		parse_line(line, true, &p);
		ck_assert_uint_lt(ng, NPAGED * 3);
		ck_assert_int_ge(asprintf(&got[ng++], "%s %s", p.path, p.range),
				 0);
	}
	free(v);
	ck_assert_uint_eq(ng, nw);
	qsort(want, nw, sizeof(*want), cmp_str);
	qsort(got, ng, sizeof(*got), cmp_str);
	for (i = 0; i < nw; i++)
		ck_assert_str_eq(got[i], want[i]);

	/* Past the last page. */
	snprintf(name, sizeof(name), "%s.%d", PINS, pages);
	ck_assert_int_eq(get_err(C.mountpoint, name), ENODATA);
	snprintf(name, sizeof(name), "%s.%d", PINS, pages + 10);
	ck_assert_int_eq(get_err(C.mountpoint, name), ENODATA);
	/* Every page fits in one value, as the tools read it. */
	for (k = 1; k < pages; k++) {
		char *raw;

		snprintf(name, sizeof(name), "%s.%d", PINS, k);
		raw = get(C.mountpoint, name);
		ck_assert_ptr_nonnull(raw);
		out = harness_run(&st, "getfattr --only-values -n %s '%s'",
				  name, C.mountpoint);
		ck_assert_int_eq(st, 0);
		ck_assert_str_eq(out, raw);
		free(out);
		free(raw);
	}
	for (i = 0; i < nw; i++)
		free(want[i]);
	for (i = 0; i < ng; i++)
		free(got[i]);
	free(want);
	free(got);
}
END_TEST

/* ================= ENOSPC while stabilising ================= */

static void enospc_setup(void)
{
	own_mount(&C, NULL, "enospc");
}

START_TEST(test_enospc)
{
	const char *f = keep(mnt_path(&C, "huge"));
	struct statvfs sv;
	struct stat st;
	char val[64];
	uint64_t size;

	if (!C.xfs)
		return;
	ck_assert_int_eq(statvfs(C.backing, &sv), 0);
	size = (uint64_t)sv.f_bavail * sv.f_frsize + 64 * MIB;
	size &= ~((uint64_t)MIB - 1);
	put_sparse(f, (off_t)size);
	snprintf(val, sizeof(val), "0+%" PRIu64, size);
	ck_assert_int_eq(pin(f, val), ENOSPC);
	ck_assert_int_eq(get_err(f, PIN), ENODATA);
	ck_assert_int_eq(pin(f, "all"), ENOSPC);
	ck_assert_int_eq(get_err(f, PIN), ENODATA);
	ck_assert_int_eq(getxattr(bk_path(&C, "huge"), STORE, NULL, 0), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(getxattr(C.mountpoint, PINS, NULL, 0), 0);
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), 0);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, size);
	ck_assert_int_eq(stat(bk_path(&C, "huge"), &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, size);
	printf("mount-pins: after the failed pin the file holds %lld MiB\n",
	       (long long)st.st_blocks * 512 / MIB);
	/* Still all zeros where it was read. */
	ck_assert(all_zero(f, 0, MIB));
	ck_assert(all_zero(f, (off_t)size - MIB, MIB));

	/* A pin that fits still works once the space is back. */
	ck_assert_int_eq(unlink(f), 0);
	put_sparse(mnt_path(&C, "small"), 4 * MIB);
	ck_assert_int_eq(pin(mnt_path(&C, "small"), "all"), 0);
	ck_assert_int_eq(status_of(C.mountpoint, "pins"), 1);
}
END_TEST

/* ================= persistence ================= */

/* A file's pin value (to free), "" when none. */
static char *pins_text(const struct mnt *m, const char *rel)
{
	char *v = get(mnt_path(m, rel), PIN);

	if (!v) {
		ck_assert_msg(errno == ENODATA, "%s: %s", rel, strerror(errno));
		v = strdup("");
	}
	return v;
}

/*
 * Lets the kernel forget unlinked inodes and XFS free them (its inode
 * reclaim runs in the background; sync pushes it).
 */
static void settle(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	sync();
	nanosleep(&ts, NULL);
	sync();
}

/*
 * The persistence checks drop the last name of pinned files (the pins go
 * with the inode), which the default policy refuses (DESIGN §3, checked
 * by the mediation tests): these mounts let it through and only audit it.
 */
#define PERSIST_OPTS "policy=audit"

static void restart(struct mnt *m, bool crash)
{
	int r = mnt_stop(m, crash);

	ck_assert_msg(r == 0, "stopping the daemon: %d", r);
	ck_assert_int_eq(mnt_start(m, PERSIST_OPTS), 0);
}

static void user_pins_a(void *arg)
{
	UCHECK(pin(arg, "16K+4K") == 0);
}

START_TEST(test_persistence)
{
	struct mnt m;
	char *va, *vb, *vc, *l1, *l2, *v;
	struct stat st, st2;
	struct pline p[8];
	ino_t old_ino;

	own_mount(&m, PERSIST_OPTS, "persist");
	if (!can_pin(&m)) {
		mnt_teardown(&m);
		return;
	}
	ck_assert_int_eq(mkdir(mnt_path(&m, "d1"), 0777), 0);
	ck_assert_int_eq(mkdir(mnt_path(&m, "d2"), 0777), 0);
	put_random(mnt_path(&m, "a"), 64 * KIB, 40);
	put_random(mnt_path(&m, "d1/b"), 64 * KIB, 41);
	put_random(mnt_path(&m, "d1/c"), 64 * KIB, 42);
	put_random(mnt_path(&m, "d1/d"), 64 * KIB, 43);
	put_random(mnt_path(&m, "d1/e"), 64 * KIB, 44);
	put_random(mnt_path(&m, "d1/x"), 64 * KIB, 45);
	ck_assert_int_eq(chmod(mnt_path(&m, "a"), 0666), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "a"), "0+4K,8K+4K"), 0);
	ck_assert_int_eq(as_user(user_pins_a, (void *)mnt_path(&m, "a")), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "d1/b"), "0+64K"), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "d1/c"), "all"), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "d1/d"), "0+1"), 0);
	ck_assert_int_eq(pin(mnt_path(&m, "d1/e"), "4K+4K"), 0);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), 7);

	/* Renamed, across directories: the pins go along. */
	vc = pins_text(&m, "d1/c");
	ck_assert_int_eq(rename(mnt_path(&m, "d1/c"), mnt_path(&m, "d2/c2")),
			 0);
	v = pins_text(&m, "d2/c2");
	ck_assert_str_eq(v, vc);
	free(v);
	/* Hard-linked: the same pins under both names. */
	vb = pins_text(&m, "d1/b");
	ck_assert_int_eq(link(mnt_path(&m, "d1/b"), mnt_path(&m, "d2/b2")), 0);
	v = pins_text(&m, "d2/b2");
	ck_assert_str_eq(v, vb);
	free(v);
	/* A pin made through one name shows through the other. */
	ck_assert_int_eq(pin(mnt_path(&m, "d2/b2"), "4K+4K"), 0);
	free(vb);
	vb = pins_text(&m, "d1/b");
	ck_assert_uint_eq(file_pins(mnt_path(&m, "d2/b2"), p, 8), 2);
	ck_assert_int_eq(unpin(mnt_path(&m, "d1/b"), "4K+4K"), 0);
	free(vb);
	vb = pins_text(&m, "d2/b2");
	ck_assert_uint_eq(file_pins(mnt_path(&m, "d1/b"), p, 8), 1);
	/* Dropping one name keeps them. */
	ck_assert_int_eq(unlink(mnt_path(&m, "d1/b")), 0);
	v = pins_text(&m, "d2/b2");
	ck_assert_str_eq(v, vb);
	free(v);
	v = listing(&m, NULL);
	ck_assert_msg(strstr(v, "\nd2/b2 0+65536 owner=0 holder=- since="),
		      "the remaining name is not listed:\n%s", v);
	ck_assert_msg(strstr(v, "\nd2/c2 all owner=0 holder=- since="),
		      "the renamed file is not listed:\n%s", v);
	free(v);

	/* The last name gone: the pins go with the inode. */
	ck_assert_int_eq(stat(mnt_path(&m, "d1/d"), &st), 0);
	old_ino = st.st_ino;
	ck_assert_int_eq(unlink(mnt_path(&m, "d1/d")), 0);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), 6);
	/* Let XFS free the inode, so that the next file may reuse it. */
	settle();
	put_random(mnt_path(&m, "d1/new"), 64 * KIB, 46);
	ck_assert_int_eq(stat(mnt_path(&m, "d1/new"), &st), 0);
	if (st.st_ino == old_ino)
		printf("mount-pins: the new file reuses the inode number\n");
	ck_assert_int_eq(get_err(mnt_path(&m, "d1/new"), PIN), ENODATA);
	/* Renamed over: the same. */
	ck_assert_int_eq(rename(mnt_path(&m, "d1/x"), mnt_path(&m, "d1/e")), 0);
	ck_assert_int_eq(get_err(mnt_path(&m, "d1/e"), PIN), ENODATA);
	put_random(mnt_path(&m, "d1/new2"), 64 * KIB, 47);
	ck_assert_int_eq(get_err(mnt_path(&m, "d1/new2"), PIN), ENODATA);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), 5);
	ck_assert_int_eq(status_of(m.mountpoint, "files_pinned"), 3);
	l1 = listing(&m, NULL);
	ck_assert_uint_eq(count_lines(l1), 5);
	ck_assert_msg(!strstr(l1, "d1/new") && !strstr(l1, "d1/e ") &&
			      !strstr(l1, "d1/d "),
		      "%s", l1);
	va = pins_text(&m, "a");

	/* A clean remount: the listing comes from the index at once. */
	restart(&m, false);
	v = listing(&m, NULL);
	ck_assert_str_eq(v, l1);
	free(v);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), 5);
	ck_assert_int_eq(status_of(m.mountpoint, "files_pinned"), 3);
	v = pins_text(&m, "a");
	ck_assert_str_eq(v, va); /* since= included */
	free(v);
	v = pins_text(&m, "d2/b2");
	ck_assert_str_eq(v, vb);
	free(v);
	v = pins_text(&m, "d2/c2");
	ck_assert_str_eq(v, vc);
	free(v);
	free(vc);
	v = pins_text(&m, "d1/new");
	ck_assert_str_eq(v, "");
	free(v);

	/* kill -9: what was set before survives. */
	ck_assert_int_eq(pin(mnt_path(&m, "d1/new"), "0+4K"), 0);
	ck_assert_int_eq(unpin(mnt_path(&m, "a"), "8K+4K"), 0);
	free(va);
	va = pins_text(&m, "a");
	l2 = listing(&m, NULL);
	ck_assert_uint_eq(count_lines(l2), 5);
	restart(&m, true);
	v = listing(&m, NULL);
	ck_assert_str_eq(v, l2);
	free(v);
	v = pins_text(&m, "a");
	ck_assert_str_eq(v, va);
	free(v);
	ck_assert_uint_eq(file_pins(mnt_path(&m, "d1/new"), p, 8), 1);
	expect_pin(&p[0], "0+4096", 0);

	/*
	 * Deleted behind the daemon's back while unmounted, its inode
	 * number perhaps reused at once: the stale entry is dropped.
	 */
	ck_assert_int_eq(mnt_stop(&m, false), 0);
	ck_assert_int_eq(stat(bk_path(&m, "d2/c2"), &st), 0);
	ck_assert_int_eq(unlink(bk_path(&m, "d2/c2")), 0);
	settle();
	put_random(bk_path(&m, "d2/c3"), 4096, 48);
	ck_assert_int_eq(stat(bk_path(&m, "d2/c3"), &st2), 0);
	if (st.st_ino == st2.st_ino)
		printf("mount-pins: d2/c3 reuses the inode number of d2/c2\n");
	ck_assert_int_eq(mnt_start(&m, PERSIST_OPTS), 0);
	v = listing(&m, NULL);
	ck_assert_uint_eq(count_lines(v), 4);
	ck_assert_msg(!strstr(v, "d2/c"), "%s", v);
	free(v);
	ck_assert_int_eq(get_err(mnt_path(&m, "d2/c3"), PIN), ENODATA);
	ck_assert_int_eq(status_of(m.mountpoint, "pins"), 4);

	/* The index lost: files come back as they are looked up. */
	ck_assert_int_eq(mnt_stop(&m, false), 0);
	ck_assert_int_eq(unlink(bk_path(&m, ".rdmafs/index")), 0);
	ck_assert_int_eq(mnt_start(&m, PERSIST_OPTS), 0);
	ck_assert_int_eq(stat(mnt_path(&m, "a"), &st), 0);
	ck_assert_int_eq(stat(mnt_path(&m, "d2/b2"), &st), 0);
	ck_assert_int_eq(stat(mnt_path(&m, "d1/new"), &st), 0);
	free(l2);
	l2 = listing(&m, NULL);
	ck_assert_uint_eq(count_lines(l2), 4);
	ck_assert_ptr_nonnull(strstr(l2, "d1/new 0+4096 owner=0"));
	ck_assert_ptr_nonnull(strstr(l2, "d2/b2 0+65536 owner=0"));
	ck_assert_ptr_nonnull(strstr(l2, "\na 16384+4096 owner=4242"));
	/* ... and are in the index again for the next mount. */
	restart(&m, false);
	v = listing(&m, NULL);
	ck_assert_str_eq(v, l2);
	free(v);

	free(va);
	free(vb);
	free(l1);
	free(l2);
	ck_assert_int_eq(mnt_teardown(&m), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-pins");
	TCase *ctl = tcase_create("ctl");
	TCase *lim = tcase_create("limits");
	TCase *sto = tcase_create("store");
	TCase *lst = tcase_create("listing");
	TCase *pg = tcase_create("paging");
	TCase *nsp = tcase_create("enospc");
	TCase *per = tcase_create("persist");
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed, fd;

	harness_require_root_fuse();
	if (harness_sh("command -v setfattr getfattr setpriv >/dev/null") !=
	    0) {
		fprintf(stderr,
			"skip: setfattr, getfattr or setpriv missing\n");
		return SKIP_CODE;
	}
	umask(022);
	compile_res();
	snprintf(leftovers, sizeof(leftovers), "%s/rdmafs-pins-left.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(leftovers);
	if (fd >= 0)
		close(fd);

	tcase_add_unchecked_fixture(ctl, ctl_setup, ctl_teardown);
	tcase_add_test(ctl, test_get_format);
	tcase_add_test(ctl, test_suffixes_and_hex);
	tcase_add_test(ctl, test_idempotent);
	tcase_add_test(ctl, test_two_owners);
	tcase_add_test(ctl, test_refused_unpin_changes_nothing);
	tcase_add_test(ctl, test_file_pins_fit_one_value);
	tcase_add_test(ctl, test_einval);
	tcase_add_test(ctl, test_not_regular);
	tcase_add_test(ctl, test_eacces);
	tcase_add_test(ctl, test_tools);
	tcase_add_test(ctl, test_invisible);
	tcase_add_test(ctl, test_hidden_dir);
	tcase_add_test(ctl, test_stabilize_sparse);
	tcase_add_test(ctl, test_stabilize_unwritten);
	tcase_add_test(ctl, test_stabilize_reflink);
	tcase_add_test(ctl, test_stabilize_keeps_content);
	tcase_set_timeout(ctl, 60);
	suite_add_tcase(s, ctl);

	tcase_add_unchecked_fixture(lim, limits_setup, case_teardown);
	tcase_add_test(lim, test_limits);
	tcase_set_timeout(lim, 30);
	suite_add_tcase(s, lim);

	tcase_add_test(sto, test_store_limit);
	tcase_set_timeout(sto, 60);
	suite_add_tcase(s, sto);

	tcase_add_unchecked_fixture(lst, listing_setup, case_teardown);
	tcase_add_test(lst, test_listing);
	tcase_set_timeout(lst, 30);
	suite_add_tcase(s, lst);

	tcase_add_unchecked_fixture(pg, listing_setup, case_teardown);
	tcase_add_test(pg, test_paging);
	tcase_set_timeout(pg, 60);
	suite_add_tcase(s, pg);

	tcase_add_unchecked_fixture(nsp, enospc_setup, case_teardown);
	tcase_add_test(nsp, test_enospc);
	tcase_set_timeout(nsp, 60);
	suite_add_tcase(s, nsp);

	tcase_add_test(per, test_persistence);
	tcase_set_timeout(per, 60);
	suite_add_tcase(s, per);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
