// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl audit: a pre-flight check of an rdmafs mount, or of a
 * directory meant as (or serving as) a backing, for what rdmafs cannot
 * promise by itself: a DAX filesystem underneath, no raw path around the
 * mount, pinned ranges that really are allocated and unshared, the data
 * path, and RDMA devices that can register fsdax memory.  It only reads:
 * the one file it creates (the DAX probe) is an O_TMPFILE, or a hidden
 * name removed at once.  One item per check, worst verdict decides the
 * exit status (0 ok, 1 warnings, 2 a failure).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/jsonesc.h"
#include "core/pathesc.h"
#include "ctl.h"
#include "ctl_audit.h"
#include "ctl_out.h"

const char ctl_audit_help[] =
	"PATH is an rdmafs mount (or a path in one), or a directory meant as\n"
	"a backing.  Runs each check below and prints one line per check:\n"
	"VERDICT (ok, warning, failure), CHECK and a REASON naming the fix.\n\n"
	"  fs-type      the backing's filesystem (xfs or ext4)\n"
	"  dax          a probe file in the backing has DAX; the dax= option\n"
	"  map-sync     MAP_SYNC mappings of the probe work\n"
	"  reflink      shared extents possible (XFS reflink=1)\n"
	"  overmount    rdmafs hides the raw backing path\n"
	"  raw-users    processes holding files on the raw backing\n"
	"  pins         pinned ranges allocated and unshared (FIEMAP)\n"
	"  passthrough  kernel FUSE passthrough of the mount\n"
	"  io-uring     FUSE over io_uring\n"
	"  lease-break  /proc/sys/fs/lease-break-time and break_timeout\n"
	"  rdma         RDMA devices and on-demand paging (ODP)\n\n"
	"The probe is an O_TMPFILE (or a hidden file removed at once): audit\n"
	"leaves nothing behind.  Without root, the backing of a root daemon\n"
	"and other users' processes cannot be examined: the checks say so.\n\n"
	"  -j, --json   print a JSON array of {check, verdict, reason, ...}\n"
	"  -h, --help   show this help\n\n"
	"Exit status: 0 every check ok, 1 a warning and no failure, 2 a\n"
	"failure (or wrong usage, or PATH neither a directory nor on an\n"
	"rdmafs mount).\n";

static const char *const verdict_name[] = { "ok", "warning", "failure" };

void audit_add(struct audit *a, const char *check, enum audit_verdict v,
	       const char *fmt, ...)
{
	struct audit_item *it;
	va_list ap;
	char *r;

	if (a->nitems == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		void *p = realloc(a->items, cap * sizeof(*a->items));

		if (!p) {
			a->nomem = true;
			return;
		}
		a->items = p;
		a->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0) {
		va_end(ap);
		a->nomem = true;
		return;
	}
	va_end(ap);
	it = &a->items[a->nitems++];
	memset(it, 0, sizeof(*it));
	it->check = check;
	it->verdict = v;
	it->reason = r;
}

char *audit_json_str(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	jesc_fputs(f, s, strlen(s));
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void add_fact(struct audit *a, const char *key, char *json)
{
	struct audit_item *it;
	void *p;

	if (!a->nitems || !json) {
		if (!json)
			a->nomem = true;
		free(json);
		return;
	}
	it = &a->items[a->nitems - 1];
	p = realloc(it->facts, (it->nfacts + 1) * sizeof(*it->facts));
	if (!p) {
		free(json);
		a->nomem = true;
		return;
	}
	it->facts = p;
	it->facts[it->nfacts].key = strdup(key);
	it->facts[it->nfacts].json = json;
	if (!it->facts[it->nfacts].key) {
		free(json);
		a->nomem = true;
		return;
	}
	it->nfacts++;
}

void audit_fact_str(struct audit *a, const char *key, const char *val)
{
	add_fact(a, key, val ? audit_json_str(val) : strdup("null"));
}

void audit_fact_num(struct audit *a, const char *key, int64_t val)
{
	char *s = NULL;

	if (asprintf(&s, "%lld", (long long)val) < 0)
		s = NULL;
	add_fact(a, key, s);
}

void audit_fact_bool(struct audit *a, const char *key, bool val)
{
	add_fact(a, key, strdup(val ? "true" : "false"));
}

void audit_fact_json(struct audit *a, const char *key, const char *json)
{
	add_fact(a, key, strdup(json));
}

const char *audit_status(const struct audit *a, const char *key)
{
	size_t i;

	if (!a->st)
		return NULL;
	for (i = 0; i < a->st->nfields; i++) {
		if (!strcmp(a->st->fields[i].key, key))
			return a->st->fields[i].value;
	}
	return NULL;
}

/* ---- the checks that read only the status and /proc/sys ---- */

static void check_passthrough(struct audit *a)
{
	const char *dp = audit_status(a, "data_path");
	const char *why = audit_status(a, "data_path_why");
	struct utsname u;
	int maj = 0, min = 0;

	if (!a->is_mount) {
		if (!uname(&u))
			sscanf(u.release, "%d.%d", &maj, &min);
		if (maj > 6 || (maj == 6 && min >= 9))
			audit_add(
				a, "passthrough", AUDIT_OK,
				"not a mount; kernel %s offers FUSE passthrough (6.9 or later): mount rdmafs with a libfuse of 3.17 or later, as root",
				u.release);
		else
			audit_add(
				a, "passthrough", AUDIT_WARNING,
				"not a mount; kernel %s has no FUSE passthrough (needs 6.9): reads, writes and mmap through rdmafs will go through the daemon, without DAX",
				u.release);
		return;
	}
	if (dp && !strcmp(dp, "passthrough")) {
		audit_add(
			a, "passthrough", AUDIT_OK,
			"kernel passthrough: reads, writes and mmap go straight to the backing files (DAX mappings through the mount)");
	} else {
		audit_add(
			a, "passthrough", AUDIT_WARNING,
			"passthrough off (%s): reads and writes go through the daemon and mmap through the mount uses FUSE's page cache, not DAX; run a build with libfuse 3.17 or later as root (CAP_SYS_ADMIN) on kernel 6.9 or later",
			why  ? why
			: dp ? dp
			     : "the daemon does not say");
	}
	audit_fact_str(a, "data_path", dp);
}

static void check_uring(struct audit *a)
{
	const char *tp = audit_status(a, "transport");
	const char *why = audit_status(a, "transport_why");
	char param[8] = "";
	FILE *f = fopen("/sys/module/fuse/parameters/enable_uring", "re");

	if (f) {
		if (!fgets(param, sizeof(param), f))
			param[0] = 0;
		fclose(f);
		param[strcspn(param, "\n")] = 0;
	}
	if (tp && !strcmp(tp, "io_uring"))
		audit_add(a, "io-uring", AUDIT_OK,
			  "requests that reach the daemon come over io_uring");
	else if (!f)
		audit_add(
			a, "io-uring", AUDIT_OK,
			"%s%s%sthe kernel has no FUSE over io_uring (6.14 or later): requests use /dev/fuse, which is fine, only slower for metadata",
			a->is_mount ? "transport /dev/fuse (" : "",
			a->is_mount ? (why ? why : "no reason given") : "",
			a->is_mount ? "); " : "");
	else if (strcmp(param, "Y"))
		audit_add(
			a, "io-uring", AUDIT_OK,
			"%s%s%sfuse.enable_uring=%s; for faster metadata, echo Y > /sys/module/fuse/parameters/enable_uring and mount with -o io_uring",
			a->is_mount ? "transport /dev/fuse (" : "",
			a->is_mount ? (why ? why : "no reason given") : "",
			a->is_mount ? "); " : "", param);
	else if (a->is_mount)
		audit_add(
			a, "io-uring", AUDIT_OK,
			"transport /dev/fuse (%s), though fuse.enable_uring=Y: mount with -o io_uring to use it",
			why ? why : "no reason given");
	else
		audit_add(
			a, "io-uring", AUDIT_OK,
			"fuse.enable_uring=Y: mount rdmafs with -o io_uring to use it");
	audit_fact_str(a, "transport", tp);
	audit_fact_str(a, "enable_uring", f ? param : NULL);
}

/*
 * lease-break-time is what the kernel gives a lease holder to let go;
 * break_timeout is rdmafs's same promise to pin holders.  A shorter
 * break_timeout breaks holders written to the kernel's budget before they
 * expect it; a much longer one keeps a deferred truncate or unlink (and
 * the inode lock the kernel holds meanwhile, which stalls everyone else
 * on that file or directory) waiting for minutes.
 */
#define LEASE_LONG_FACTOR 4
#define LEASE_LONG_MIN 300

static void check_lease(struct audit *a)
{
	long lbt = -1;
	FILE *f = fopen("/proc/sys/fs/lease-break-time", "re");
	uint64_t bt;

	if (f) {
		if (fscanf(f, "%ld", &lbt) != 1)
			lbt = -1;
		fclose(f);
	}
	if (lbt < 0) {
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"couldn't read /proc/sys/fs/lease-break-time: break_timeout not compared");
		return;
	}
	if (!a->is_mount) {
		audit_add(
			a, "lease-break", AUDIT_OK,
			"lease-break-time is %ld s; rdmafs's break_timeout defaults to 45 s, the kernel's default: holders get what lease holders get",
			lbt);
		audit_fact_num(a, "lease_break_time", lbt);
		return;
	}
	bt = a->st->break_timeout;
	if (bt == 0)
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"break_timeout=0: deferred operations give up and breaks revoke at once, holders get no time to release (lease-break-time is %ld s); mount with break_timeout=%ld",
			lbt, lbt);
	else if ((long)bt < lbt)
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"break_timeout=%llu s is shorter than lease-break-time (%ld s): holders that budget the kernel's lease time may be broken before they release; mount with break_timeout=%ld",
			(unsigned long long)bt, lbt, lbt);
	else if (bt > (uint64_t)LEASE_LONG_FACTOR * lbt && bt > LEASE_LONG_MIN)
		audit_add(
			a, "lease-break", AUDIT_WARNING,
			"break_timeout=%llu s is far above lease-break-time (%ld s): a deferred truncate or unlink keeps its file (or directory) locked that long and stalls other users of it; consider break_timeout=%ld",
			(unsigned long long)bt, lbt, lbt);
	else
		audit_add(
			a, "lease-break", AUDIT_OK,
			"break_timeout=%llu s against lease-break-time %ld s: holders get at least the kernel's lease time to release",
			(unsigned long long)bt, lbt);
	audit_fact_num(a, "lease_break_time", lbt);
	audit_fact_num(a, "break_timeout", (int64_t)bt);
}

/* ---- setup and output ---- */

static int unescape_key(struct audit *a, const char *key, char **out)
{
	const char *v = audit_status(a, key);

	if (!v)
		return -ENOENT;
	return pesc_unescape(v, strlen(v), out, NULL);
}

/* Returns -1 to go on, else the exit status. */
static int setup(struct audit *a)
{
	struct rdmafs_mount *m;
	struct stat st;
	const char *pid;
	char *end;
	int ret;

	ret = rdmafs_mount_open(a->path, &m);
	if (ret == -ENOTSUP) {
		if (stat(a->path, &st)) {
			fprintf(stderr, PROG ": Couldn't audit %s: %s\n",
				a->path, strerror(errno));
			return CTL_USAGE;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr,
				PROG
				": Couldn't audit %s: neither a directory nor on an rdmafs mount\n",
				a->path);
			return CTL_USAGE;
		}
		a->backing = realpath(a->path, NULL);
		if (!a->backing) {
			fprintf(stderr, PROG ": Couldn't audit %s: %s\n",
				a->path, strerror(errno));
			return CTL_USAGE;
		}
		return -1;
	}
	if (ret) {
		fprintf(stderr, PROG ": Couldn't audit %s: %s\n", a->path,
			rdmafs_strerror(ret));
		return CTL_USAGE;
	}
	a->is_mount = true;
	if (!stat(rdmafs_mount_path(m), &st))
		a->fuse_dev = st.st_dev;
	ret = rdmafs_mount_status(m, &a->st);
	if (!ret) {
		a->pins_err = rdmafs_mount_pins(m, &a->pins, &a->npins);
		if (a->pins_err)
			a->pins = NULL, a->npins = 0;
	}
	rdmafs_mount_close(m);
	if (ret) {
		fprintf(stderr, PROG ": Couldn't read the status of %s: %s\n",
			a->path, rdmafs_strerror(ret));
		return CTL_USAGE;
	}
	pid = audit_status(a, "pid");
	if (pid) {
		errno = 0;
		a->daemon = (pid_t)strtol(pid, &end, 10);
		if (errno || *end || a->daemon <= 0)
			a->daemon = 0;
	}
	if (unescape_key(a, "backing", &a->backing))
		a->backing = NULL;
	if (unescape_key(a, "mountpoint", &a->mountpoint))
		a->mountpoint = NULL;
	return -1;
}

static void print_table(const struct audit *a)
{
	size_t i, w = strlen("CHECK");

	for (i = 0; i < a->nitems; i++) {
		if (strlen(a->items[i].check) > w)
			w = strlen(a->items[i].check);
	}
	printf("%-7s  %-*s  REASON\n", "VERDICT", (int)w, "CHECK");
	for (i = 0; i < a->nitems; i++) {
		const struct audit_item *it = &a->items[i];

		printf("%-7s  %-*s  ", verdict_name[it->verdict], (int)w,
		       it->check);
		out_cell(it->reason, strlen(it->reason), 0);
		printf("\n");
	}
}

static void print_json(const struct audit *a)
{
	size_t i, j;

	printf("[\n");
	for (i = 0; i < a->nitems; i++) {
		const struct audit_item *it = &a->items[i];

		printf("  {\"check\": \"%s\", \"verdict\": \"%s\", \"reason\": ",
		       it->check, verdict_name[it->verdict]);
		out_json_str(it->reason, strlen(it->reason));
		for (j = 0; j < it->nfacts; j++) {
			printf(", ");
			out_json_str(it->facts[j].key,
				     strlen(it->facts[j].key));
			printf(": %s", it->facts[j].json);
		}
		printf("}%s\n", i + 1 < a->nitems ? "," : "");
	}
	printf("]\n");
}

static void audit_free(struct audit *a)
{
	size_t i, j;

	for (i = 0; i < a->nitems; i++) {
		for (j = 0; j < a->items[i].nfacts; j++) {
			free(a->items[i].facts[j].key);
			free(a->items[i].facts[j].json);
		}
		free(a->items[i].facts);
		free(a->items[i].reason);
	}
	free(a->items);
	if (a->probe >= 0)
		close(a->probe);
	if (a->bfd >= 0)
		close(a->bfd);
	if (a->have_mnt)
		audit_mountinfo_free(&a->bmnt, 1);
	if (a->pins)
		rdmafs_pins_free(a->pins, a->npins);
	if (a->st)
		rdmafs_status_free(a->st);
	free(a->backing);
	free(a->mountpoint);
}

int ctl_cmd_audit(const struct subcommand *cmd, int argc, char **argv)
{
	struct audit a = { .bfd = -1, .probe = -1 };
	enum audit_verdict worst = AUDIT_OK;
	struct ctl_args args;
	size_t i;
	int ret;

	ret = ctl_parse_args(cmd, argc, argv, CTL_OPT_JSON, 1, 1, "one PATH",
			     &args);
	if (ret >= 0)
		return ret == CTL_OK ? ret : CTL_USAGE;
	a.path = args.pos[0];
	a.root = geteuid() == 0;
	ret = setup(&a);
	if (ret >= 0) {
		audit_free(&a);
		return ret;
	}
	audit_reach_backing(&a);
	audit_check_fstype(&a);
	audit_check_dax(&a);
	audit_check_map_sync(&a);
	audit_check_reflink(&a);
	audit_check_overmount(&a);
	audit_check_raw_users(&a);
	audit_check_pins(&a);
	check_passthrough(&a);
	check_uring(&a);
	check_lease(&a);
	audit_check_rdma(&a);
	if (a.nomem) {
		audit_free(&a);
		fprintf(stderr, PROG ": Couldn't audit %s: %s\n", a.path,
			strerror(ENOMEM));
		return CTL_USAGE;
	}
	for (i = 0; i < a.nitems; i++) {
		if (a.items[i].verdict > worst)
			worst = a.items[i].verdict;
	}
	if (args.json)
		print_json(&a);
	else
		print_table(&a);
	audit_free(&a);
	if (ctl_finish_output())
		return CTL_USAGE;
	/* the worst verdict: 0 ok, 1 warning, 2 failure */
	return (int)worst;
}
