// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the audit trail (lib/audit.c): the exact JSON and text
 * of known events, escaping of hostile names, error names, cutting of
 * oversized events, and the JSON Lines file under concurrent writers and
 * reopening.
 *
 * Every line written is checked by a small strict JSON validator here
 * and, where python3 is installed, also by python's json module, so that
 * the two cannot share a misreading of the grammar.  Syslog itself is
 * left alone unless RDMAFS_TEST_SYSLOG is set: a unit test has no
 * business writing to the machine's log.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/audit.h"

static char tmpdir[] = "/tmp/test-audit-XXXXXX";
static bool have_python;

/* ---- a strict JSON validator (RFC 8259), just enough to say yes/no ---- */

struct jp {
	const unsigned char *p, *e;
};

static void j_ws(struct jp *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
			       *j->p == '\r'))
		j->p++;
}

static bool j_lit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->e - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool j_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* One UTF-8 character by decoding it, not by the library's table. */
static bool j_utf8(struct jp *j)
{
	unsigned char c = *j->p;
	unsigned int cp, n, i;

	if (c < 0x80) {
		j->p++;
		return true;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		cp = c & 0x07;
	} else {
		return false;
	}
	if (j->e - j->p <= n)
		return false;
	for (i = 1; i <= n; i++) {
		if ((j->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (j->p[i] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	j->p += n + 1;
	return true;
}

static bool j_string(struct jp *j)
{
	if (j->p >= j->e || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->e && *j->p != '"') {
		if (*j->p < 0x20)
			return false;
		if (*j->p != '\\') {
			if (!j_utf8(j))
				return false;
			continue;
		}
		j->p++;
		if (j->p >= j->e)
			return false;
		if (*j->p == 'u') {
			if (j->e - j->p < 5 || !j_hex(j->p[1]) ||
			    !j_hex(j->p[2]) || !j_hex(j->p[3]) ||
			    !j_hex(j->p[4]))
				return false;
			j->p += 5;
		} else if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
			j->p++;
		} else {
			return false;
		}
	}
	if (j->p >= j->e)
		return false;
	j->p++;
	return true;
}

static bool j_digits(struct jp *j)
{
	const unsigned char *s = j->p;

	while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool j_number(struct jp *j)
{
	if (j->p < j->e && *j->p == '-')
		j->p++;
	if (j->p < j->e && *j->p == '0')
		j->p++;
	else if (j->p >= j->e || *j->p < '1' || *j->p > '9' || !j_digits(j))
		return false;
	if (j->p < j->e && *j->p == '.') {
		j->p++;
		if (!j_digits(j))
			return false;
	}
	if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!j_digits(j))
			return false;
	}
	return true;
}

static bool j_value(struct jp *j, int depth)
{
	bool first = true;
	char close;

	if (depth > 32)
		return false;
	j_ws(j);
	if (j->p >= j->e)
		return false;
	switch (*j->p) {
	case '"':
		return j_string(j);
	case 't':
		return j_lit(j, "true");
	case 'f':
		return j_lit(j, "false");
	case 'n':
		return j_lit(j, "null");
	case '{':
	case '[':
		close = *j->p == '{' ? '}' : ']';
		j->p++;
		for (;;) {
			j_ws(j);
			if (j->p < j->e && *j->p == close && first) {
				j->p++;
				return true;
			}
			if (close == '}') {
				if (!j_string(j))
					return false;
				j_ws(j);
				if (!j_lit(j, ":"))
					return false;
			}
			if (!j_value(j, depth + 1))
				return false;
			j_ws(j);
			first = false;
			if (j_lit(j, ","))
				continue;
			return j_lit(j, close == '}' ? "}" : "]");
		}
	default:
		return j_number(j);
	}
}

/* True when [s, s + n) is exactly one JSON object. */
static bool json_valid(const char *s, size_t n)
{
	struct jp j = { (const unsigned char *)s,
			(const unsigned char *)s + n };

	j_ws(&j);
	if (j.p >= j.e || *j.p != '{' || !j_value(&j, 0))
		return false;
	j_ws(&j);
	return j.p == j.e;
}

/* ---- helpers ---- */

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int64_t at(int year, int mon, int day, int h, int m, int s, int ms)
{
	struct tm tm = { .tm_year = year - 1900,
			 .tm_mon = mon - 1,
			 .tm_mday = day,
			 .tm_hour = h,
			 .tm_min = m,
			 .tm_sec = s };

	return (int64_t)timegm(&tm) * 1000000000 + (int64_t)ms * 1000000;
}

static char *tmp_path(const char *name)
{
	char *p;

	ck_assert_int_gt(asprintf(&p, "%s/%s", tmpdir, name), 0);
	return p;
}

/* The whole file, NUL-terminated; *n is its length. */
static char *slurp(const char *path, size_t *n)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	buf[st.st_size] = '\0';
	*n = st.st_size;
	return buf;
}

/*
 * Checks that every line of @path is a valid JSON object and returns
 * how many there are; fails on a missing final newline.
 */
static size_t check_lines(const char *path)
{
	size_t n, lines = 0;
	char *buf = slurp(path, &n), *p = buf, *nl;

	while (p < buf + n) {
		nl = memchr(p, '\n', buf + n - p);
		ck_assert_msg(nl, "line %zu has no newline", lines + 1);
		ck_assert_msg(json_valid(p, nl - p), "line %zu: %.*s",
			      lines + 1, (int)(nl - p), p);
		lines++;
		p = nl + 1;
	}
	free(buf);
	return lines;
}

/*
 * python's opinion of @path: strict UTF-8, every line an object with
 * exactly the documented members in order, @lines of them.
 */
static void python_check(const char *path, size_t lines)
{
	static const char script[] =
		"import json,sys\n"
		"keys=['time','event','op','path','offset','length','errno',"
		"'waited_ms','pins','process']\n"
		"n=0\n"
		"for l in open(sys.argv[1],encoding='utf-8',errors='strict'):\n"
		"  d=json.loads(l)\n"
		"  k=list(d)\n"
		"  assert k==keys or k==keys+['truncated'],k\n"
		"  n+=1\n"
		"assert n==int(sys.argv[2]),n\n";
	char *cmd;
	FILE *f;

	if (!have_python)
		return;
	ck_assert_int_gt(asprintf(&cmd, "python3 - '%s' %zu", path, lines), 0);
	f = popen(cmd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(script, f);
	ck_assert_int_eq(pclose(f), 0);
	free(cmd);
}

static void fill_ident(struct ident *id)
{
	memset(id, 0, sizeof(*id));
	id->pid = 123;
	id->tgid = 120;
	id->uid = 1000;
	id->gid = 100;
	id->flags = IDENT_TGID | IDENT_COMM | IDENT_EXE | IDENT_CMDLINE;
	strcpy(id->comm, "truncate");
	strcpy(id->exe, "/usr/bin/truncate");
	strcpy(id->cmdline, "truncate -s 0 a/b");
}

static const struct audit_pin two_pins[] = {
	{ .off = 0, .len = 1048576, .owner = 0, .holder = 0 },
	{ .all = true, .owner = 1000, .holder = 4242 },
};

static struct audit_event known_event(const struct ident *id)
{
	return (struct audit_event){
		.time_ns = at(2026, 11, 25, 9, 40, 0, 123),
		.event = "refuse",
		.op = "truncate",
		.path = "a/b",
		.offset = 0,
		.length = 4096,
		.err = ETXTBSY,
		.waited_ms = -1,
		.pins = two_pins,
		.npins = 2,
		.process = id,
	};
}

/* ---- formatting ---- */

START_TEST(test_json_known_event)
{
	static const char want[] =
		"{\"time\":\"2026-11-25T09:40:00.123Z\",\"event\":\"refuse\","
		"\"op\":\"truncate\",\"path\":\"a/b\",\"offset\":0,"
		"\"length\":4096,\"errno\":\"ETXTBSY\",\"waited_ms\":null,"
		"\"pins\":[{\"range\":\"0+1048576\",\"owner\":0,"
		"\"holder\":null},{\"range\":\"all\",\"owner\":1000,"
		"\"holder\":4242}],\"process\":{\"pid\":123,\"tgid\":120,"
		"\"uid\":1000,\"gid\":100,\"comm\":\"truncate\","
		"\"exe\":\"/usr/bin/truncate\","
		"\"cmdline\":\"truncate -s 0 a/b\"}}";
	struct ident id;
	struct audit_event ev;
	char buf[1024];

	fill_ident(&id);
	ev = known_event(&id);
	ck_assert_int_eq(audit_format_json(&ev, buf, sizeof(buf)),
			 strlen(want));
	ck_assert_str_eq(buf, want);
	ck_assert(json_valid(buf, strlen(buf)));
}
END_TEST

START_TEST(test_text_known_event)
{
	static const char want[] =
		"refuse truncate path=a/b off=0 len=4096 err=ETXTBSY "
		"pins=0+1048576(owner=0,holder=-),all(owner=1000,holder=4242)"
		" by pid=123 tgid=120 uid=1000 gid=100 comm=truncate "
		"exe=/usr/bin/truncate cmdline=truncate -s 0 a/b";
	struct ident id;
	struct audit_event ev;
	char buf[1024];

	fill_ident(&id);
	ev = known_event(&id);
	ck_assert_int_eq(audit_format_text(&ev, buf, sizeof(buf)),
			 strlen(want));
	ck_assert_str_eq(buf, want);
}
END_TEST

/* Fields that do not apply: null in JSON, left out of the text. */
START_TEST(test_missing_fields)
{
	struct audit_event ev = {
		.time_ns = at(2026, 1, 2, 3, 4, 5, 6),
		.event = "pin",
		.op = "setxattr",
		.range = AUDIT_RANGE_NONE,
		.offset = 99,
		.length = 99,
		.waited_ms = -1,
	};
	char buf[1024];

	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"time\":\"2026-01-02T03:04:05.006Z\","
			      "\"event\":\"pin\",\"op\":\"setxattr\","
			      "\"path\":null,\"offset\":null,\"length\":null,"
			      "\"errno\":null,\"waited_ms\":null,\"pins\":[],"
			      "\"process\":null}");
	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "pin setxattr");

	/* An absent event or op is null too, not a crash. */
	ev.event = NULL;
	ev.op = NULL;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":null,\"op\":null,"));
	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "? ?");
}
END_TEST

/* A refusal that could not check the pins says why, after process. */
START_TEST(test_reason)
{
	struct audit_event ev = {
		.time_ns = at(2026, 1, 2, 3, 4, 5, 6),
		.event = "refuse",
		.op = "unlink",
		.path = "a b",
		.range = AUDIT_RANGE_ALL,
		.err = EMFILE,
		.waited_ms = -1,
		.reason = "couldn't open \"it\"",
	};
	char buf[1024];

	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"time\":\"2026-01-02T03:04:05.006Z\","
			      "\"event\":\"refuse\",\"op\":\"unlink\","
			      "\"path\":\"a b\",\"offset\":0,\"length\":null,"
			      "\"errno\":\"EMFILE\",\"waited_ms\":null,"
			      "\"pins\":[],\"process\":null,"
			      "\"reason\":\"couldn't open \\\"it\\\"\"}");
	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "refuse unlink path=a\\040b off=0 len=all "
			      "err=EMFILE reason=couldn't\\040open\\040\"it\"");
}
END_TEST

START_TEST(test_all_range_wait_and_negative_err)
{
	struct audit_event ev = {
		.time_ns = at(2026, 1, 2, 3, 4, 5, 6),
		.event = "done",
		.op = "unlink",
		.path = "x",
		.range = AUDIT_RANGE_ALL,
		.offset = 5,
		.length = 5,
		.err = -EDEADLK,
		.waited_ms = 1500,
	};
	char buf[1024];

	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, ",\"offset\":0,\"length\":null,"
					  "\"errno\":\"EDEADLK\","
					  "\"waited_ms\":1500,"));
	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "done unlink path=x off=0 len=all err=EDEADLK "
			      "waited_ms=1500");

	ev.range = AUDIT_RANGE_SPAN;
	ev.offset = UINT64_MAX - 1;
	ev.length = UINT64_MAX;
	ev.waited_ms = 0;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"offset\":18446744073709551614,"
					  "\"length\":18446744073709551615,"));
	ck_assert_ptr_nonnull(strstr(buf, "\"waited_ms\":0,"));
}
END_TEST

/* What could not be read from /proc is null (JSON) or ? (text). */
START_TEST(test_partial_process)
{
	struct audit_event ev = { .time_ns = 1,
				  .event = "refuse",
				  .op = "punch",
				  .range = AUDIT_RANGE_NONE,
				  .waited_ms = -1 };
	struct ident id;
	char buf[1024];

	fill_ident(&id);
	id.flags = IDENT_COMM;
	ev.process = &id;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"process\":{\"pid\":123,"
					  "\"tgid\":null,\"uid\":1000,"
					  "\"gid\":100,\"comm\":\"truncate\","
					  "\"exe\":null,\"cmdline\":null}}"));
	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "refuse punch by pid=123 tgid=? uid=1000 "
			      "gid=100 comm=truncate exe=? cmdline=?");

	/* /proc's own cut is reported, though nothing is cut here. */
	id.flags = IDENT_CMDLINE | IDENT_CMDLINE_TRUNC;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"cmdline\":\"truncate -s 0 a/b\"}"
					  ",\"truncated\":true}"));
}
END_TEST

/* Bytes a name may hold, and what each becomes. */
#define HOSTILE                                      \
	"q\"b\\s\n\t\x01\x7f"                        \
	"\xc3\xa9" /* é, valid */                   \
	"\xff" /* never valid */                     \
	"\xc3" /* a sequence cut short */            \
	"!"                                          \
	"\xe0\x80\x80" /* overlong NUL */            \
	"\xed\xa0\x80" /* a surrogate */             \
	"\xf4\x90\x80\x80" /* past U+10FFFF */       \
	"\xf0\x9f\x98\x80" /* U+1F600, valid */      \
	"\xc2\x85" /* U+0085, a C1 control, valid */ \
	" sp"

#define HOSTILE_JSON                                               \
	"\"q\\\"b\\\\s\\n\\t\\u0001\\u007f\xc3\xa9\\u00ff\\u00c3!" \
	"\\u00e0\\u0080\\u0080\\u00ed\\u00a0\\u0080"               \
	"\\u00f4\\u0090\\u0080\\u0080\xf0\x9f\x98\x80\xc2\x85 sp\""

/* In text, C1 controls are escaped too: some terminals obey them. */
#define HOSTILE_TEXT                                         \
	"q\"b\\134s\\012\\011\\001\\177\xc3\xa9\\377\\303!"  \
	"\\340\\200\\200\\355\\240\\200\\364\\220\\200\\200" \
	"\xf0\x9f\x98\x80\\302\\205"

START_TEST(test_escaping)
{
	struct audit_event ev = { .time_ns = 1,
				  .event = "audit",
				  .op = "punch",
				  .path = HOSTILE,
				  .waited_ms = -1 };
	struct ident id;
	char buf[2048];

	fill_ident(&id);
	strcpy(id.comm, HOSTILE);
	strcpy(id.exe, HOSTILE);
	strcpy(id.cmdline, HOSTILE);
	ev.process = &id;

	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert(json_valid(buf, strlen(buf)));
	ck_assert_ptr_nonnull(strstr(buf, "\"path\":" HOSTILE_JSON ","));
	ck_assert_ptr_nonnull(strstr(buf, "\"comm\":" HOSTILE_JSON ","));
	ck_assert_ptr_nonnull(strstr(buf, "\"exe\":" HOSTILE_JSON ","));
	ck_assert_ptr_nonnull(strstr(buf, "\"cmdline\":" HOSTILE_JSON "}}"));

	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_str_eq(
		buf, "audit punch path=" HOSTILE_TEXT "\\040sp off=0 len=0"
		     " by pid=123 tgid=120 uid=1000 gid=100 comm=" HOSTILE_TEXT
		     "\\040sp exe=" HOSTILE_TEXT "\\040sp cmdline=" HOSTILE_TEXT
		     " sp");
}
END_TEST

START_TEST(test_errnames)
{
	char buf[16];

	ck_assert_str_eq(audit_errname(ETXTBSY, buf, sizeof(buf)), "ETXTBSY");
	ck_assert_str_eq(audit_errname(-ETXTBSY, buf, sizeof(buf)), "ETXTBSY");
	ck_assert_str_eq(audit_errname(EDEADLK, buf, sizeof(buf)), "EDEADLK");
	ck_assert_str_eq(audit_errname(EINTR, buf, sizeof(buf)), "EINTR");
	ck_assert_str_eq(audit_errname(ENOSPC, buf, sizeof(buf)), "ENOSPC");
	ck_assert_str_eq(audit_errname(ENODATA, buf, sizeof(buf)), "ENODATA");
	ck_assert_str_eq(audit_errname(EPERM, buf, sizeof(buf)), "EPERM");
	ck_assert_str_eq(audit_errname(EINVAL, buf, sizeof(buf)), "EINVAL");
	ck_assert_str_eq(audit_errname(ETIMEDOUT, buf, sizeof(buf)),
			 "ETIMEDOUT");
	/* The same numbers as EWOULDBLOCK and ENOTSUP on Linux. */
	ck_assert_str_eq(audit_errname(EAGAIN, buf, sizeof(buf)), "EAGAIN");
	ck_assert_str_eq(audit_errname(EOPNOTSUPP, buf, sizeof(buf)),
			 "EOPNOTSUPP");
	ck_assert_str_eq(audit_errname(0, buf, sizeof(buf)), "E0");
	ck_assert_str_eq(audit_errname(9999, buf, sizeof(buf)), "E9999");
	ck_assert_str_eq(audit_errname(-9999, buf, sizeof(buf)), "E9999");
	ck_assert_str_eq(audit_errname(INT_MIN, buf, sizeof(buf)),
			 "E2147483648");
}
END_TEST

START_TEST(test_rare_errno_in_json)
{
	struct audit_event ev = { .time_ns = 1,
				  .event = "refuse",
				  .op = "x",
				  .err = 4000,
				  .waited_ms = -1 };
	char buf[512];

	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"errno\":\"E4000\","));
	ck_assert_int_gt(audit_format_text(&ev, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, " err=E4000"));
}
END_TEST

/* Exactly the length plus the NUL fits; one byte less does not. */
START_TEST(test_enospc)
{
	struct ident id;
	struct audit_event ev;
	char big[1024], small[1024];
	int n, t;

	fill_ident(&id);
	ev = known_event(&id);
	n = audit_format_json(&ev, big, sizeof(big));
	ck_assert_int_gt(n, 0);
	memset(small, '#', sizeof(small));
	ck_assert_int_eq(audit_format_json(&ev, small, n + 1), n);
	ck_assert_str_eq(small, big);
	memset(small, '#', sizeof(small));
	ck_assert_int_eq(audit_format_json(&ev, small, n), -ENOSPC);
	ck_assert_int_eq(small[n], '#');
	memset(small, '#', sizeof(small));
	ck_assert_int_eq(audit_format_json(&ev, small, 0), -ENOSPC);
	ck_assert_int_eq(small[0], '#');

	t = audit_format_text(&ev, big, sizeof(big));
	ck_assert_int_gt(t, 0);
	ck_assert_int_eq(audit_format_text(&ev, small, t + 1), t);
	ck_assert_int_eq(audit_format_text(&ev, small, t), -ENOSPC);
}
END_TEST

START_TEST(test_time)
{
	struct audit_event ev = { .event = "pin",
				  .op = "setxattr",
				  .waited_ms = -1 };
	char buf[512], year[16];
	time_t now = time(NULL);
	struct tm tm;

	/* Before 1970, milliseconds still count up within the second. */
	ev.time_ns = -1;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert(starts_with(buf, "{\"time\":\"1969-12-31T23:59:59.999Z\","));
	ev.time_ns = at(2000, 2, 29, 23, 59, 59, 999) + 999999;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	ck_assert(starts_with(buf, "{\"time\":\"2000-02-29T23:59:59.999Z\","));

	/* 0: now. */
	ev.time_ns = 0;
	ck_assert_int_gt(audit_format_json(&ev, buf, sizeof(buf)), 0);
	gmtime_r(&now, &tm);
	snprintf(year, sizeof(year), "%04d-", tm.tm_year + 1900);
	ck_assert_int_eq(strncmp(buf + 9, year, 5), 0);
	ck_assert_int_eq(buf[9 + 10], 'T');
	ck_assert_int_eq(buf[9 + 19], '.');
	ck_assert_int_eq(buf[9 + 23], 'Z');
	ck_assert_int_eq(buf[9 + 24], '"');
}
END_TEST

/* ---- the sinks ---- */

START_TEST(test_file_one_line_per_event)
{
	char *path = tmp_path("lines.jsonl");
	struct audit_event ev;
	struct ident id;
	struct audit *a;
	struct stat st;
	char want[4096];
	size_t n, len = 0;
	char *got;
	int i, k;

	fill_ident(&id);
	ev = known_event(&id);
	umask(022);
	a = audit_open(path, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	for (i = 0; i < 3; i++) {
		ev.offset = i;
		ck_assert_int_eq(audit_log(a, &ev), 0);
		k = audit_format_json(&ev, want + len, sizeof(want) - len - 1);
		ck_assert_int_gt(k, 0);
		len += k;
		want[len++] = '\n';
	}
	want[len] = '\0';
	audit_close(a);

	got = slurp(path, &n);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(check_lines(path), 3);
	python_check(path, 3);

	/* Appends rather than truncates. */
	a = audit_open(path, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	ck_assert_uint_eq(check_lines(path), 4);

	free(got);
	unlink(path);
	free(path);
}
END_TEST

struct writer {
	struct audit *a;
	int no;
	struct ident id;
};

enum { WRITERS = 4, EVENTS = 1000 };

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct audit_pin pins[3] = {
		{ .off = 0, .len = 4096, .owner = 1 },
		{ .off = 8192, .len = 4096, .owner = 2, .holder = 77 },
		{ .all = true, .owner = 3 },
	};
	char path[32];
	struct audit_event ev = { .event = "refuse",
				  .op = "punch",
				  .path = path,
				  .err = ETXTBSY,
				  .waited_ms = -1,
				  .pins = pins,
				  .npins = 3,
				  .process = &w->id,
				  .length = 1 };
	int i;

	snprintf(path, sizeof(path), "writer-%d", w->no);
	for (i = 0; i < EVENTS; i++) {
		ev.offset = i;
		if (audit_log(w->a, &ev))
			return (void *)1;
	}
	return NULL;
}

static volatile bool writers_done;

static void *reopener_main(void *arg)
{
	struct audit *a = arg;

	while (!writers_done) {
		if (audit_reopen(a))
			return (void *)1;
		usleep(100);
	}
	return NULL;
}

/*
 * Four writers and a thread that keeps reopening the file: every event
 * arrives whole, once.
 */
START_TEST(test_concurrent_writers)
{
	char *path = tmp_path("concurrent.jsonl");
	static struct writer w[WRITERS];
	static bool seen[WRITERS][EVENTS];
	pthread_t t[WRITERS], r;
	char *buf, *p, *nl, *s;
	size_t n, lines = 0;
	struct audit *a;
	void *ret;
	int i, no, off;

	a = audit_open(path, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	writers_done = false;
	memset(seen, 0, sizeof(seen));
	ck_assert_int_eq(pthread_create(&r, NULL, reopener_main, a), 0);
	for (i = 0; i < WRITERS; i++) {
		w[i].a = a;
		w[i].no = i;
		fill_ident(&w[i].id);
		/* Long enough that a torn write would show. */
		memset(w[i].id.cmdline, 'a' + i, 3000);
		w[i].id.cmdline[3000] = '\0';
		ck_assert_int_eq(
			pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	writers_done = true;
	ck_assert_int_eq(pthread_join(r, &ret), 0);
	ck_assert_ptr_null(ret);
	audit_close(a);

	ck_assert_uint_eq(check_lines(path), WRITERS * EVENTS);
	buf = slurp(path, &n);
	for (p = buf; p < buf + n; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		s = strstr(p, "\"path\":\"writer-");
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(sscanf(s,
					"\"path\":\"writer-%d\",\"offset\":%d",
					&no, &off),
				 2);
		ck_assert(no >= 0 && no < WRITERS && off >= 0 && off < EVENTS);
		ck_assert(!seen[no][off]);
		seen[no][off] = true;
		/* The writer's own command line, uncut and unmixed. */
		s = strstr(p, "\"cmdline\":\"");
		ck_assert_ptr_nonnull(s);
		s += strlen("\"cmdline\":\"");
		ck_assert_uint_eq(strspn(s, (char[]){ 'a' + no, 0 }), 3000);
		ck_assert_str_eq(s + 3000, "\"}}");
		lines++;
	}
	ck_assert_uint_eq(lines, WRITERS * EVENTS);
	python_check(path, WRITERS * EVENTS);
	free(buf);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_reopen_after_rotation)
{
	char *path = tmp_path("rotate.jsonl"), *old = tmp_path("rotate.1");
	struct audit_event ev = { .event = "pin",
				  .op = "setxattr",
				  .waited_ms = -1 };
	struct audit *a;

	a = audit_open(path, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	ck_assert_int_eq(audit_reopen(a), 0);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	ck_assert_uint_eq(check_lines(old), 2);
	ck_assert_uint_eq(check_lines(path), 1);

	/* A failed reopen keeps the old file. */
	ck_assert_int_eq(rename(path, old), 0);
	a = audit_open(old, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(rename(old, path), 0);
	ck_assert_int_eq(mkdir(old, 0700), 0);
	ck_assert_int_eq(audit_reopen(a), -EISDIR);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	ck_assert_int_eq(rmdir(old), 0);
	ck_assert_uint_eq(check_lines(path), 2);

	/* So does a failed open. */
	ck_assert_int_eq(mkdir(old, 0700), 0);
	errno = 0;
	ck_assert_ptr_null(audit_open(old, AUDIT_NO_SYSLOG));
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_int_eq(rmdir(old), 0);

	unlink(path);
	unlink(old);
	free(old);
	free(path);
}
END_TEST

/* A relative path is fixed at open, so rotation survives a chdir. */
START_TEST(test_relative_path)
{
	char cwd[PATH_MAX], *path = tmp_path("relative.jsonl");
	struct audit_event ev = { .event = "pin",
				  .op = "setxattr",
				  .waited_ms = -1 };
	struct audit *a;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	a = audit_open("relative.jsonl", AUDIT_NO_SYSLOG);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(audit_reopen(a), 0);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	ck_assert_uint_eq(check_lines(path), 1);
	ck_assert_int_eq(chdir(cwd), 0);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_open_errors_and_null)
{
	struct audit_event ev = { .event = "pin",
				  .op = "setxattr",
				  .waited_ms = -1 };
	struct audit *a;

	errno = 0;
	ck_assert_ptr_null(audit_open("/nonexistent-dir/x", AUDIT_NO_SYSLOG));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(audit_log(NULL, &ev), 0);
	ck_assert_int_eq(audit_reopen(NULL), 0);
	audit_close(NULL);

	/* No file, no syslog: a valid sink that records nothing. */
	a = audit_open(NULL, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	ck_assert_int_eq(audit_reopen(a), 0);
	audit_close(a);
}
END_TEST

/* Runs @fn with stderr sent to a file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char *path = tmp_path("stderr.txt"), *out;
	int fd, saved;
	size_t n;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	fn(arg);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	out = slurp(path, &n);
	unlink(path);
	free(path);
	return out;
}

static void log_to_stderr(void *arg)
{
	struct audit *a = audit_open(NULL, AUDIT_NO_SYSLOG | AUDIT_STDERR);

	if (!a || audit_log(a, arg))
		abort();
	audit_close(a);
}

START_TEST(test_stderr_line)
{
	struct ident id;
	struct audit_event ev;
	char text[1024], want[1100];
	char *got;

	fill_ident(&id);
	ev = known_event(&id);
	ck_assert_int_gt(audit_format_text(&ev, text, sizeof(text)), 0);
	snprintf(want, sizeof(want), "rdmafs: audit: %s\n", text);
	got = capture_stderr(log_to_stderr, &ev);
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

/*
 * An event far over the line limits: the file still gets one valid line
 * within AUDIT_LINE_MAX, marked truncated, and syslog one within
 * AUDIT_TEXT_MAX; a cut never splits a UTF-8 character.
 */
START_TEST(test_oversized_event)
{
	enum { NPINS = 5000 };
	char *path = tmp_path("big.jsonl"), *big, *line, *got;
	struct audit_pin *pins = calloc(NPINS, sizeof(*pins));
	char euro[4501];
	struct audit_event ev;
	struct ident *id = malloc(sizeof(*id));
	struct audit *a;
	size_t n, i;
	int k;

	ck_assert_ptr_nonnull(pins);
	ck_assert_ptr_nonnull(id);
	for (i = 0; i < NPINS; i++) {
		pins[i].off = i * 4096;
		pins[i].len = 4096;
		pins[i].owner = i;
		pins[i].holder = i % 2 ? (int32_t)i : 0;
	}
	for (i = 0; i < 1500; i++)
		memcpy(euro + 3 * i, "\xe2\x82\xac", 3);
	euro[4500] = '\0';
	fill_ident(id);
	memset(id->exe, '\x01', 4000);
	id->exe[4000] = '\0';
	memset(id->cmdline, '\x01', IDENT_CMDLINE_MAX - 1);
	id->cmdline[IDENT_CMDLINE_MAX - 1] = '\0';
	ev = known_event(id);
	ev.path = euro;
	ev.pins = pins;
	ev.npins = NPINS;

	/* The pure formatter cuts nothing: it reports the size instead. */
	big = malloc(1 << 20);
	ck_assert_ptr_nonnull(big);
	k = audit_format_json(&ev, big, 1 << 20);
	ck_assert_int_gt(k, AUDIT_LINE_MAX);
	ck_assert(json_valid(big, k));
	ck_assert_ptr_null(strstr(big, "truncated"));
	ck_assert_int_eq(audit_format_json(&ev, big, AUDIT_LINE_MAX), -ENOSPC);
	free(big);

	a = audit_open(path, AUDIT_NO_SYSLOG);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
	ck_assert_uint_eq(check_lines(path), 1);
	python_check(path, 1);
	line = slurp(path, &n);
	ck_assert_uint_le(n, AUDIT_LINE_MAX);
	ck_assert_int_eq(line[n - 1], '\n');
	ck_assert_int_eq(strncmp(line + n - 19, ",\"truncated\":true}\n", 19),
			 0);
	/* The path lost whole euro signs, never a part of one. */
	ck_assert_ptr_null(strstr(line, "\\u00e2"));
	ck_assert_ptr_null(strstr(line, "\\u0082"));
	ck_assert_ptr_nonnull(strstr(line, "\"pins\":[{\"range\":\"0+4096\""));
	free(line);

	got = capture_stderr(log_to_stderr, &ev);
	n = strlen(got);
	ck_assert_uint_le(n, strlen("rdmafs: audit: ") + AUDIT_TEXT_MAX);
	ck_assert_int_eq(got[n - 1], '\n');
	ck_assert_ptr_eq(strchr(got, '\n'), got + n - 1);
	ck_assert_ptr_nonnull(strstr(got, " more) by pid=123 "));
	ck_assert_ptr_nonnull(strstr(got, "...\n"));
	free(got);

	unlink(path);
	free(path);
	free(pins);
	free(id);
}
END_TEST

/* Only on request: it writes to the machine's log. */
START_TEST(test_syslog)
{
	struct audit_event ev = { .event = "test",
				  .op = "selftest",
				  .path = "test-audit",
				  .waited_ms = -1 };
	struct audit *a;

	if (!getenv("RDMAFS_TEST_SYSLOG"))
		return;
	a = audit_open(NULL, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(audit_log(a, &ev), 0);
	audit_close(a);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *fmt = tcase_create("format");
	TCase *sink = tcase_create("sink");

	tcase_add_test(fmt, test_json_known_event);
	tcase_add_test(fmt, test_text_known_event);
	tcase_add_test(fmt, test_missing_fields);
	tcase_add_test(fmt, test_reason);
	tcase_add_test(fmt, test_all_range_wait_and_negative_err);
	tcase_add_test(fmt, test_partial_process);
	tcase_add_test(fmt, test_escaping);
	tcase_add_test(fmt, test_errnames);
	tcase_add_test(fmt, test_rare_errno_in_json);
	tcase_add_test(fmt, test_enospc);
	tcase_add_test(fmt, test_time);
	suite_add_tcase(s, fmt);

	tcase_add_test(sink, test_file_one_line_per_event);
	tcase_add_test(sink, test_concurrent_writers);
	tcase_add_test(sink, test_reopen_after_rotation);
	tcase_add_test(sink, test_relative_path);
	tcase_add_test(sink, test_open_errors_and_null);
	tcase_add_test(sink, test_stderr_line);
	tcase_add_test(sink, test_oversized_event);
	tcase_add_test(sink, test_syslog);
	/* valgrind formats and checks 4000 lines slowly */
	tcase_set_timeout(sink, 600);
	suite_add_tcase(s, sink);
	return s;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!mkdtemp(tmpdir)) {
		perror("test-audit: couldn't create a temporary directory");
		return EXIT_FAILURE;
	}
	have_python = system("command -v python3 >/dev/null 2>&1") == 0;
	if (!have_python)
		fprintf(stderr,
			"test-audit: no python3, "
			"lines are checked by the built-in validator only\n");

	sr = srunner_create(audit_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
