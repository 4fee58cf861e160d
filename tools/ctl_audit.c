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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
	"The probe is an O_TMPFILE (where that is not offered, a file with a\n"
	"random hidden name for a moment): audit leaves nothing behind.  The\n"
	"backing is the daemon's own directory, found by its identity\n"
	"(backing_dev, backing_ino): a path renamed or replaced since the mount\n"
	"is never examined in its place.  Without root, the backing of a root\n"
	"daemon and other users' processes cannot be examined: the checks say\n"
	"so.  An audit that does not finish in 60 s (a hung filesystem or FUSE\n"
	"mount) ends with one failure line, check \"audit\".\n\n"
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

/* ---- reaching the backing: by its identity, never by a name alone ---- */

bool audit_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (!path[n] || path[n] == '/');
}

char *audit_join(const char *dir, const char *rest)
{
	char *s = NULL;

	if (!*rest || !strcmp(rest, "/"))
		return strdup(dir);
	if (!strcmp(dir, "/"))
		return strdup(rest);
	if (asprintf(&s, "%s%s", dir, rest) < 0)
		return NULL;
	return s;
}

int audit_pid_holds(pid_t pid, dev_t dev, ino_t ino, char *out, size_t size)
{
	char dir[64], path[64 + 256];
	struct dirent *d;
	struct statx sx;
	DIR *dp;
	int ret = -ENOENT;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while (ret && (d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		/* DONT_SYNC: never ask a (maybe hung) FUSE daemon */
		if (!statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
			   STATX_INO, &sx) &&
		    makedev(sx.stx_dev_major, sx.stx_dev_minor) == dev &&
		    sx.stx_ino == ino) {
			snprintf(out, size, "%s", path);
			ret = 0;
		}
	}
	closedir(dp);
	return ret;
}

static void why(struct audit *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void why(struct audit *a, const char *fmt, ...)
{
	size_t n = strlen(a->why_not);
	va_list ap;

	if (n && n + 2 < sizeof(a->why_not))
		n += (size_t)snprintf(a->why_not + n, sizeof(a->why_not) - n,
				      "; ");
	va_start(ap, fmt);
	if (n < sizeof(a->why_not))
		vsnprintf(a->why_not + n, sizeof(a->why_not) - n, fmt, ap);
	va_end(ap);
}

/*
 * Takes @fd as the backing when it is the daemon's (the status's
 * backing_dev and backing_ino) or, from an older daemon that does not
 * say, at least not the FUSE mount itself.
 */
static bool take(struct audit *a, int fd, const char *via)
{
	struct stat st;

	if (fd < 0) {
		why(a, "%s: %s%s", via, strerror(errno),
		    errno == ELOOP
			    ? " (a symbolic link now: the backing was renamed or replaced since the mount)"
			    : "");
		return false;
	}
	if (fstat(fd, &st) || (a->is_mount && st.st_dev == a->fuse_dev)) {
		why(a, "%s is the rdmafs mount, not its backing", via);
		close(fd);
		return false;
	}
	if (a->have_id &&
	    (st.st_dev != a->want_dev || st.st_ino != a->want_ino)) {
		why(a,
		    "%s is another directory (%u:%u inode %llu) than the daemon's backing (%u:%u inode %llu): renamed or replaced since the mount, not examined",
		    via, major(st.st_dev), minor(st.st_dev),
		    (unsigned long long)st.st_ino, major(a->want_dev),
		    minor(a->want_dev), (unsigned long long)a->want_ino);
		close(fd);
		return false;
	}
	a->bfd = fd;
	a->bst = st;
	snprintf(a->via, sizeof(a->via), "%s", via);
	return true;
}

/* A directory, with no symbolic link on the way (@root: in that root). */
static int open_nolinks(int dirfd, const char *path, bool in_root)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve =
			RESOLVE_NO_SYMLINKS | (in_root ? RESOLVE_IN_ROOT : 0),
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static bool by_daemon_fd(struct audit *a)
{
	char path[64 + 256], via[64 + 300];
	int ret;

	if (a->have_id) {
		ret = audit_pid_holds(a->daemon, a->want_dev, a->want_ino, path,
				      sizeof(path));
	} else {
		/* an older daemon: the descriptor whose link names it */
		char dir[64], link[PATH_MAX];
		struct dirent *d;
		ssize_t n;
		DIR *dp;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)a->daemon);
		dp = opendir(dir);
		ret = dp ? -ENOENT : -errno;
		while (dp && ret && (d = readdir(dp))) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (!strcmp(link, a->backing))
				ret = 0;
		}
		if (dp)
			closedir(dp);
	}
	if (ret) {
		why(a, "the daemon's pid %d holds no descriptor of it (%s)",
		    (int)a->daemon, strerror(-ret));
		return false;
	}
	a->daemon_ok = a->have_id;
	snprintf(via, sizeof(via), "the daemon's descriptor %s", path);
	return take(a, open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), via);
}

/*
 * Places the backing: its mount (by the descriptor's mount id) and its
 * path inside its filesystem.  Our own mountinfo first, where paths are
 * ours; the daemon's when its mount is not in ours.
 */
static void place_backing(struct audit *a)
{
	char link[PATH_MAX], fdp[64];
	struct audit_mnt *v;
	struct statx sx;
	size_t n, i;
	ssize_t len;
	int pass;

	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", a->bfd);
	len = readlink(fdp, link, sizeof(link) - 1);
	if (len <= 0 || statx(a->bfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return;
	link[len] = 0;
	a->bpath = strdup(link);
	for (pass = 0; pass < 2 && !a->have_mnt; pass++) {
		if (pass && !a->daemon_ok)
			break;
		if (audit_mountinfo_read(pass ? a->daemon : 0, &v, &n))
			continue;
		for (i = 0; i < n && !a->have_mnt; i++) {
			if ((uint64_t)v[i].id != sx.stx_mnt_id ||
			    !audit_under(link, v[i].mountpoint))
				continue;
			a->rel = audit_join(
				v[i].root,
				link + (strcmp(v[i].mountpoint, "/")
						? strlen(v[i].mountpoint)
						: 0));
			a->bmnt = v[i];
			a->have_mnt = true;
			memset(&v[i], 0, sizeof(v[i]));
		}
		audit_mountinfo_free(v, n);
		free(v);
	}
}

void audit_reach_backing(struct audit *a)
{
	char path[64];
	int root;

	if (!a->is_mount) {
		take(a, open_nolinks(AT_FDCWD, a->backing, false), a->backing);
	} else if (!a->backing || !a->daemon) {
		why(a,
		    "the daemon's status names no backing or pid (an older rdmafs)");
		return;
	} else if (!by_daemon_fd(a)) {
		/* the paths: the identity check refuses whatever is there now */
		snprintf(path, sizeof(path), "/proc/%d/root", (int)a->daemon);
		root = a->have_id ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)
				  : -1;
		if (!a->have_id)
			why(a,
			    "the status has no backing_dev (an older rdmafs): the path %s is not trusted",
			    a->backing);
		else if (root < 0)
			why(a, "%s: %s", path, strerror(errno));
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
			 " + the backing path");
		if (a->have_id &&
		    (root < 0 ||
		     !take(a, open_nolinks(root, a->backing, true), path)))
			take(a, open_nolinks(AT_FDCWD, a->backing, false),
			     a->backing);
		if (root >= 0)
			close(root);
	}
	if (a->bfd >= 0)
		place_backing(a);
}

/* ---- setup and output ---- */

static int unescape_key(struct audit *a, const char *key, char **out)
{
	const char *v = audit_status(a, key);

	if (!v)
		return -ENOENT;
	return pesc_unescape(v, strlen(v), out, NULL);
}

/* The daemon's fstat of its backing, from its status. */
static int parse_id(struct audit *a)
{
	const char *d = audit_status(a, "backing_dev");
	const char *i = audit_status(a, "backing_ino");
	unsigned int ma, mi;
	unsigned long long ino;
	char c;

	if (!d || !i || sscanf(d, "%u:%u%c", &ma, &mi, &c) != 2 ||
	    sscanf(i, "%llu%c", &ino, &c) != 1)
		return -EINVAL;
	a->want_dev = makedev(ma, mi);
	a->want_ino = (ino_t)ino;
	a->have_id = true;
	return 0;
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
	if (parse_id(a))
		a->have_id = false;
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
	free(a->bpath);
	free(a->rel);
}

static int run_audit(const struct ctl_args *args)
{
	struct audit a = { .bfd = -1, .probe = -1 };
	enum audit_verdict worst = AUDIT_OK;
	size_t i;
	int ret;

	a.path = args->pos[0];
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
	audit_check_passthrough(&a);
	audit_check_uring(&a);
	audit_check_lease(&a);
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
	if (args->json)
		print_json(&a);
	else
		print_table(&a);
	audit_free(&a);
	if (ctl_finish_output())
		return CTL_USAGE;
	/* the worst verdict: 0 ok, 1 warning, 2 failure */
	return (int)worst;
}

/*
 * A hung filesystem or a hostile FUSE mount can block a stat or a read
 * anywhere, in a wait that only a fatal signal ends.  So the audit runs
 * in a child: past AUDIT_MAX_SECONDS it is killed, and the verdict is a
 * failure line and exit status 2, never a silence that looks like
 * success.
 */
#define AUDIT_MAX_SECONDS 60

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

int ctl_cmd_audit(const struct subcommand *cmd, int argc, char **argv)
{
	static const char reason[] =
		"audit did not finish in 60 s (a hung filesystem, FUSE mount or process?): no verdict";
	struct sigaction sa = { .sa_handler = on_alarm };
	struct ctl_args args;
	pid_t child;
	int ret, st;

	ret = ctl_parse_args(cmd, argc, argv, CTL_OPT_JSON, 1, 1, "one PATH",
			     &args);
	if (ret >= 0)
		return ret == CTL_OK ? ret : CTL_USAGE;
	fflush(NULL);
	child = fork();
	if (child == 0)
		exit(run_audit(&args));
	if (child < 0)
		return run_audit(&args); /* without the time limit */
	/* no SA_RESTART: the alarm ends the wait */
	sigaction(SIGALRM, &sa, NULL);
	alarm(AUDIT_MAX_SECONDS);
	while (waitpid(child, &st, 0) < 0) {
		if (errno == EINTR && !timed_out)
			continue;
		if (!timed_out) {
			fprintf(stderr, PROG ": Couldn't audit %s: %s\n",
				args.pos[0], strerror(errno));
			return CTL_USAGE;
		}
		/* never waited for: it may be stuck for good */
		kill(child, SIGKILL);
		if (args.json)
			printf("[\n  {\"check\": \"audit\", \"verdict\": \"failure\", \"reason\": \"%s\"}\n]\n",
			       reason);
		else
			printf("VERDICT  CHECK  REASON\nfailure  audit  %s\n",
			       reason);
		fprintf(stderr,
			PROG ": Couldn't audit %s: timed out after %d s\n",
			args.pos[0], AUDIT_MAX_SECONDS);
		ctl_finish_output();
		return CTL_USAGE;
	}
	alarm(0);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, PROG ": Couldn't audit %s: killed by signal %d\n",
		args.pos[0], WTERMSIG(st));
	return CTL_USAGE;
}
