// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl audit: the ways around the mount.  rdmafs mediates only what
 * passes through it; the raw backing path (when the mount is beside it
 * rather than over it, or the backing filesystem is mounted elsewhere
 * too) and processes that opened backing files before an overmount can
 * truncate or punch pinned blocks unseen.  Processes are found by the
 * device of what they hold (the backing filesystem's st_dev: the FUSE
 * mount has its own), never through the mount, in every thread (one may
 * have a file table of its own), and placed in the backing by the mount
 * their path leads to here; a path that leads elsewhere here (another
 * mount namespace's) makes a possible holder, never none.  /proc entries
 * vanish while they are read: a process gone is skipped, one we may not
 * read makes the scan partial, and the reason says so.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_audit.h"

#define RAW_MAX_SHOWN 8
#define RAW_MAX_UNREAD 4

static bool same_file(const char *path, const struct stat *st)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
		  STATX_INO, &sx))
		return false;
	return makedev(sx.stx_dev_major, sx.stx_dev_minor) == st->st_dev &&
	       sx.stx_ino == st->st_ino;
}

/* The topmost mount at @path is mount @id: what it shows is reachable. */
static bool on_top(const char *path, int id)
{
	struct statx sx;

	return !statx(AT_FDCWD, path,
		      AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT |
			      AT_SYMLINK_NOFOLLOW,
		      STATX_MNT_ID, &sx) &&
	       (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id == (uint64_t)id;
}

static void add_path(char **out, size_t *count, const char *p)
{
	char *s;

	if (*out && strstr(*out, p))
		return;
	if (asprintf(&s, "%s%s%s", *out ? *out : "", *out ? ", " : "", p) < 0)
		return;
	free(*out);
	*out = s;
	(*count)++;
}

/*
 * The paths at which this mount namespace reaches raw backing files:
 * every mount of its filesystem whose root is at or above the backing
 * directory, where its path there leads to the backing (an overmount
 * leads to rdmafs instead), and every one whose root lies below it (a
 * bind mount of a subdirectory), where that mount is not covered.
 */
static char *raw_paths(const struct audit *a, size_t *count)
{
	struct audit_mnt *v;
	char *out = NULL, *cand;
	size_t n, i, k;

	*count = 0;
	if (audit_mountinfo_read(0, &v, &n))
		return NULL;
	for (i = 0; i < n; i++) {
		if (makedev(v[i].major, v[i].minor) != a->bst.st_dev)
			continue;
		if (audit_under(a->rel, v[i].root)) {
			k = strcmp(v[i].root, "/") ? strlen(v[i].root) : 0;
			cand = audit_join(v[i].mountpoint, a->rel + k);
			if (cand && same_file(cand, &a->bst))
				add_path(&out, count, cand);
			free(cand);
		} else if (audit_under(v[i].root, a->rel) &&
			   on_top(v[i].mountpoint, v[i].id)) {
			add_path(&out, count, v[i].mountpoint);
		}
	}
	audit_mountinfo_free(v, n);
	free(v);
	return out;
}

/* ---- the rdmafs mount that serves a plain directory ---- */

#define STATUS_MAX_SECONDS 3
#define MAX_ANCESTORS 4096

struct ids {
	pid_t pid;
	dev_t dev;
	ino_t ino;
};

/*
 * The status keys pid, backing_dev and backing_ino of the rdmafs mount
 * at @mp, read in a child killed after STATUS_MAX_SECONDS: any user can
 * mount a FUSE filesystem of type fuse.rdmafs that never answers.
 */
static int status_ids(const char *mp, struct ids *id)
{
	unsigned int ma, mi, ticks = 0;
	unsigned long long ino;
	struct pollfd pfd;
	char buf[128];
	size_t len = 0;
	ssize_t r = 1;
	int p[2];
	pid_t c;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	c = fork();
	if (c == 0) {
		struct rdmafs_status *st;
		struct rdmafs_mount *m;
		size_t j;

		close(p[0]);
		if (rdmafs_mount_open(mp, &m) || rdmafs_mount_status(m, &st))
			_exit(1);
		for (j = 0; j < st->nfields; j++) {
			const char *k = st->fields[j].key;

			if (!strcmp(k, "pid") || !strcmp(k, "backing_dev") ||
			    !strcmp(k, "backing_ino"))
				dprintf(p[1], "%s ", st->fields[j].value);
		}
		_exit(0);
	}
	close(p[1]);
	if (c < 0) {
		close(p[0]);
		return -EAGAIN;
	}
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (r > 0 && len + 1 < sizeof(buf) &&
	       ticks < STATUS_MAX_SECONDS * 10) {
		if (poll(&pfd, 1, 100) <= 0) {
			ticks++;
			continue;
		}
		r = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (r > 0)
			len += (size_t)r;
	}
	buf[len] = 0;
	close(p[0]);
	/* a child stuck in an uninterruptible wait is left to die later */
	kill(c, SIGKILL);
	for (ticks = 0; ticks < 10 && waitpid(c, NULL, WNOHANG) == 0; ticks++)
		usleep(100000);
	/* the status's order: pid, then backing_dev and backing_ino */
	if (r != 0 ||
	    sscanf(buf, "%d %u:%u %llu", &id->pid, &ma, &mi, &ino) != 4)
		return -ETIMEDOUT;
	id->dev = makedev(ma, mi);
	id->ino = (ino_t)ino;
	return 0;
}

/* The directory and its ancestors on its filesystem, by identity. */
static size_t ancestors(int dfd, struct ids *v, size_t max)
{
	int fd = dup(dfd), up;
	struct stat st;
	size_t n = 0;

	while (fd >= 0 && n < max && !fstat(fd, &st)) {
		/* another mount (its root's "..") or the root itself */
		if (n && (st.st_dev != v[0].dev || st.st_ino == v[n - 1].ino))
			break;
		v[n].dev = st.st_dev;
		v[n++].ino = st.st_ino;
		up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
	}
	if (fd >= 0)
		close(fd);
	return n;
}

static bool by_root(const struct audit_mnt *m)
{
	const char *p = strstr(m->superopts, "user_id=0");

	return p && (p == m->superopts || p[-1] == ',') &&
	       (!p[9] || p[9] == ',');
}

/*
 * The rdmafs mount whose backing (by the status's backing_dev and
 * backing_ino) is the plain directory or one of its ancestors; as root,
 * mounts made by root are asked first.  Its daemon is excluded from the
 * raw-users scan only once seen holding that backing: the status's pid
 * is in the daemon's pid namespace, which may not be ours.
 */
static char *served_at(struct audit *a, char *note, size_t nsz)
{
	struct ids *anc = calloc(MAX_ANCESTORS, sizeof(*anc)), id;
	size_t n = 0, na, i, j, silent = 0;
	struct audit_mnt *v = NULL;
	char *out = NULL, fdp[64 + 256];
	int pass;

	if (!anc || audit_mountinfo_read(0, &v, &n)) {
		free(anc);
		return NULL;
	}
	na = ancestors(a->bfd, anc, MAX_ANCESTORS);
	for (pass = 0; pass < 2 && !out; pass++) {
		for (i = 0; i < n && !out; i++) {
			if (strcmp(v[i].fstype, "fuse.rdmafs") ||
			    (a->root && by_root(&v[i]) != !pass) ||
			    (!a->root && pass))
				continue;
			if (status_ids(v[i].mountpoint, &id)) {
				silent++;
				continue;
			}
			for (j = 0; j < na; j++) {
				if (anc[j].dev == id.dev &&
				    anc[j].ino == id.ino)
					break;
			}
			if (j == na)
				continue;
			out = strdup(v[i].mountpoint);
			if (!audit_pid_holds(id.pid, id.dev, id.ino, fdp,
					     sizeof(fdp))) {
				a->daemon = id.pid;
				a->daemon_ok = true;
			} else {
				snprintf(
					note, nsz,
					"; its status's pid %d holds no descriptor of the backing here (another pid namespace?), so raw-users does not leave it out",
					(int)id.pid);
			}
		}
	}
	if (!out && silent)
		snprintf(
			note, nsz,
			"; %zu fuse.rdmafs mount%s gave no status within %d s: whether %s serves it is not known",
			silent, silent > 1 ? "s" : "", STATUS_MAX_SECONDS,
			silent > 1 ? "one of them" : "it");
	audit_mountinfo_free(v, n);
	free(v);
	free(anc);
	return out;
}

void audit_check_overmount(struct audit *a)
{
	char *raw = NULL, *srv, note[256] = "";
	size_t nraw = 0;

	if (a->bfd < 0) {
		audit_add(
			a, "overmount", AUDIT_WARNING,
			"couldn't reach the backing (%s): raw paths to it not looked for%s",
			a->why_not, a->root ? "" : "; run as root");
		return;
	}
	if (!a->is_mount) {
		srv = served_at(a, note, sizeof(note));
		if (srv)
			audit_add(
				a, "overmount", AUDIT_WARNING,
				"raw path reachable: rdmafs serves %s at %s, beside it, so processes can change the block map behind rdmafs here; mount rdmafs over the backing instead (rdmafs BACKING BACKING)%s",
				a->backing, srv, note);
		else
			audit_add(
				a, "overmount", AUDIT_WARNING,
				"no rdmafs mount serves %s: nothing mediates layout changes of its files; mount rdmafs over it (rdmafs %s %s)%s",
				a->backing, a->backing, a->backing, note);
		audit_fact_bool(a, "overmounted", false);
		audit_fact_str(a, "served_at", srv);
		free(srv);
		return;
	}
	if (!a->mountpoint || !a->rel) {
		audit_add(
			a, "overmount", AUDIT_WARNING,
			"%s: other paths to the backing not looked for",
			a->mountpoint
				? "couldn't place the backing in the mount table"
				: "the daemon's status names no mountpoint (an older rdmafs)");
		return;
	}
	raw = raw_paths(a, &nraw);
	if (nraw)
		audit_add(
			a, "overmount", AUDIT_WARNING,
			"raw path reachable at %s: processes can change the block map behind rdmafs; mount rdmafs over its backing (rdmafs %s %s) and mount the backing filesystem nowhere else",
			raw, a->bpath, a->bpath);
	else if (!strcmp(a->mountpoint, a->backing))
		audit_add(
			a, "overmount", AUDIT_OK,
			"rdmafs is mounted over its backing %s: the raw files are hidden, and no other mount here shows them",
			a->backing);
	else
		audit_add(
			a, "overmount", AUDIT_OK,
			"the backing %s is not reachable by path here, though rdmafs is mounted beside it at %s",
			a->bpath, a->mountpoint);
	audit_fact_bool(a, "overmounted", !strcmp(a->mountpoint, a->backing));
	audit_fact_str(a, "raw_paths", raw);
	free(raw);
}

/* ---- processes on the raw backing ---- */

struct scan {
	dev_t dev;
	const char *rel; /* the backing in its filesystem; NULL: unknown */
	struct audit_mnt *mnts; /* our mountinfo, to place what is held */
	size_t nmnts;
	size_t procs, denied;
	char *shown, *json;
	char *unread; /* "PID(comm)" of the first processes we could not read */
	bool nomem;
};

/*
 * Whether inode @ino of the backing's device, which a process reaches at
 * @text (a path as the process's mount namespace has it), is in the
 * backing: 1 yes, 0 no, 2 not known (the path leads to something else
 * here: another namespace, a deleted file), which counts as a possible
 * holder.  By the mount the path leads to here, so that a bind mount of
 * a part of the backing is placed in it.
 */
static int place(const struct scan *s, const char *text, uint64_t ino)
{
	struct statx sx;
	size_t i, k;
	char *rel;
	int r = 2;

	if (s->rel && !strcmp(s->rel, "/"))
		return 1; /* the whole filesystem is the backing */
	if (!s->rel || text[0] != '/' ||
	    statx(AT_FDCWD, text,
		  AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
		  STATX_INO | STATX_MNT_ID, &sx) ||
	    makedev(sx.stx_dev_major, sx.stx_dev_minor) != s->dev ||
	    sx.stx_ino != ino || !(sx.stx_mask & STATX_MNT_ID))
		return 2;
	for (i = 0; i < s->nmnts && r == 2; i++) {
		if ((uint64_t)s->mnts[i].id != sx.stx_mnt_id ||
		    !audit_under(text, s->mnts[i].mountpoint))
			continue;
		k = strcmp(s->mnts[i].mountpoint, "/")
			    ? strlen(s->mnts[i].mountpoint)
			    : 0;
		rel = audit_join(s->mnts[i].root, text + k);
		if (rel)
			r = audit_under(rel, s->rel);
		free(rel);
	}
	return r;
}

struct hits {
	unsigned int fds, maps, maybe;
	bool cwd, root, denied;
	char maybe_path[160]; /* the first path not placed */
};

static void count(struct hits *h, int r, const char *text, unsigned int *n)
{
	if (r == 1)
		(*n)++;
	if (r == 2 && !h->maybe++) {
		size_t len = strnlen(text, sizeof(h->maybe_path) - 1);

		memcpy(h->maybe_path, text, len);
		h->maybe_path[len] = 0;
	}
}

/* @path, a /proc magic link: 1 to the backing, 2 maybe, 0 not; -errno. */
static int link_on(const struct scan *s, const char *path, char *text,
		   size_t size)
{
	struct statx sx;
	ssize_t n;

	/* DONT_SYNC: never ask a (maybe hung) FUSE daemon for attributes */
	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
		  STATX_INO, &sx)) {
		/*
		 * A link we may read but not follow leads to a filesystem
		 * that refuses us (FUSE without allow_other), not to the
		 * backing: only an unreadable link makes the scan partial.
		 */
		if (readlink(path, text, size) < 0)
			return -errno;
		return 0;
	}
	if (makedev(sx.stx_dev_major, sx.stx_dev_minor) != s->dev)
		return 0;
	n = readlink(path, text, size - 1);
	if (n <= 0)
		return -errno;
	text[n] = 0;
	return place(s, text, sx.stx_ino);
}

/* An error reading /proc: access denied makes the scan partial. */
static void denied_if(struct hits *h, int err)
{
	if (err == EACCES || err == EPERM)
		h->denied = true;
}

static void scan_link(const struct scan *s, const char *dir, const char *name,
		      struct hits *h, bool *flag)
{
	char path[96], text[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = link_on(s, path, text, sizeof(text));
	denied_if(h, -r);
	if (r == 1)
		*flag = true;
	if (r == 2)
		count(h, r, text, NULL);
}

static void scan_fds(const struct scan *s, const char *pdir, struct hits *h)
{
	struct dirent *d;
	char dir[96], path[96 + sizeof(d->d_name)], text[PATH_MAX];
	DIR *dp;
	int r;

	snprintf(dir, sizeof(dir), "%s/fd", pdir);
	dp = opendir(dir);
	if (!dp) {
		denied_if(h, errno);
		return;
	}
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		r = link_on(s, path, text, sizeof(text));
		denied_if(h, -r);
		count(h, r, text, &h->fds);
	}
	closedir(dp);
}

static void scan_maps(const struct scan *s, const char *pdir, struct hits *h)
{
	char path[64], *line = NULL, *p;
	unsigned int ma, mi;
	unsigned long long ino;
	size_t len = 0;
	int off = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/maps", pdir);
	f = fopen(path, "re");
	if (!f) {
		denied_if(h, errno);
		return;
	}
	/* "start-end perms offset MAJ:MIN inode   path" */
	while (getline(&line, &len, f) > 0) {
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &ma, &mi, &ino,
			   &off) < 3 ||
		    makedev(ma, mi) != s->dev)
			continue;
		p = line + off;
		p[strcspn(p, "\n")] = 0;
		count(h, place(s, p, ino), p, &h->maps);
	}
	free(line);
	fclose(f);
}

static void note(struct scan *s, pid_t pid, const char *comm,
		 const struct hits *h)
{
	char what[320], *t, *js = NULL, *mp = NULL;
	int n = 0;

	what[0] = 0;
	if (h->cwd)
		n += snprintf(what + n, sizeof(what) - n, "cwd, ");
	if (h->root)
		n += snprintf(what + n, sizeof(what) - n, "root, ");
	if (h->fds)
		n += snprintf(what + n, sizeof(what) - n, "%u fd%s, ", h->fds,
			      h->fds > 1 ? "s" : "");
	if (h->maps)
		n += snprintf(what + n, sizeof(what) - n, "%u mapping%s, ",
			      h->maps, h->maps > 1 ? "s" : "");
	if (h->maybe)
		n += snprintf(
			what + n, sizeof(what) - n,
			"%u possibly (on the backing's device, path not resolvable here: %s), ",
			h->maybe, h->maybe_path);
	if (n >= 2 && (size_t)n < sizeof(what))
		what[n - 2] = 0;
	if (s->procs++ < RAW_MAX_SHOWN &&
	    asprintf(&t, "%s%s%d(%s): %s", s->shown ? s->shown : "",
		     s->shown ? "; " : "", (int)pid, comm, what) >= 0) {
		free(s->shown);
		s->shown = t;
	}
	js = audit_json_str(comm);
	mp = h->maybe ? audit_json_str(h->maybe_path) : strdup("null");
	if (!js || !mp ||
	    asprintf(
		    &t,
		    "%s%s{\"pid\": %d, \"comm\": %s, \"fds\": %u, \"maps\": %u, \"cwd\": %s, \"root\": %s, \"possible\": %u, \"unresolved\": %s}",
		    s->json ? s->json : "[", s->json ? ", " : "", (int)pid, js,
		    h->fds, h->maps, h->cwd ? "true" : "false",
		    h->root ? "true" : "false", h->maybe, mp) < 0) {
		s->nomem = true;
	} else {
		free(s->json);
		s->json = t;
	}
	free(js);
	free(mp);
}

/* 1: thread @tid of @pid shares its @type (KCMP_FILES, KCMP_FS) with it. */
static int shares(pid_t pid, pid_t tid, int type)
{
	return syscall(SYS_kcmp, pid, tid, type, 0, 0) == 0;
}

/*
 * A thread that unshared its file table (CLONE_FILES) or its cwd and root
 * (CLONE_FS) holds its own: /proc/PID shows the leader's only.
 */
static void scan_tasks(const struct scan *s, pid_t pid, const char *pdir,
		       struct hits *h)
{
	char dir[64], tdir[64 + 256];
	struct dirent *d;
	pid_t tid;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/task", pdir);
	dp = opendir(dir);
	if (!dp) {
		denied_if(h, errno);
		return;
	}
	while ((d = readdir(dp))) {
		tid = (pid_t)atoi(d->d_name);
		if (tid <= 0 || tid == pid)
			continue;
		snprintf(tdir, sizeof(tdir), "%s/%s", dir, d->d_name);
		if (!shares(pid, tid, KCMP_FS)) {
			scan_link(s, tdir, "cwd", h, &h->cwd);
			scan_link(s, tdir, "root", h, &h->root);
		}
		if (!shares(pid, tid, KCMP_FILES))
			scan_fds(s, tdir, h);
	}
	closedir(dp);
}

static void scan_proc(struct scan *s, pid_t pid)
{
	char pdir[32], path[64], comm[64] = "?";
	struct hits h = { 0 };
	FILE *f;

	snprintf(pdir, sizeof(pdir), "/proc/%d", (int)pid);
	snprintf(path, sizeof(path), "%s/comm", pdir);
	f = fopen(path, "re");
	if (!f)
		return; /* gone */
	if (fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
	scan_link(s, pdir, "cwd", &h, &h.cwd);
	scan_link(s, pdir, "root", &h, &h.root);
	scan_fds(s, pdir, &h);
	scan_maps(s, pdir, &h);
	scan_tasks(s, pid, pdir, &h);
	if (h.denied && s->denied++ < RAW_MAX_UNREAD) {
		char *t;

		if (asprintf(&t, "%s%s%d(%s)", s->unread ? s->unread : "",
			     s->unread ? " " : "", (int)pid, comm) >= 0) {
			free(s->unread);
			s->unread = t;
		}
	}
	if (h.cwd || h.root || h.fds || h.maps || h.maybe)
		note(s, pid, comm, &h);
}

#define UNSEEN                                                                   \
	"; not visible in /proc, so never seen: files registered with io_uring " \
	"and descriptors in flight in SCM_RIGHTS messages"

void audit_check_raw_users(struct audit *a)
{
	struct scan s = { .dev = a->bst.st_dev, .rel = a->rel };
	char *closed = NULL, partial[256];
	struct dirent *d;
	pid_t self = getpid(), pid;
	DIR *dp;

	if (a->bfd < 0) {
		audit_add(
			a, "raw-users", AUDIT_WARNING,
			"couldn't reach the backing (%s): processes on it not looked for%s",
			a->why_not, a->root ? "" : "; run as root");
		return;
	}
	if (audit_mountinfo_read(0, &s.mnts, &s.nmnts))
		s.mnts = NULL, s.nmnts = 0;
	dp = opendir("/proc");
	if (!dp) {
		audit_add(a, "raw-users", AUDIT_WARNING,
			  "couldn't read /proc: %s; processes not looked for",
			  strerror(errno));
		audit_mountinfo_free(s.mnts, s.nmnts);
		free(s.mnts);
		return;
	}
	while ((d = readdir(dp))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (pid_t)atoi(d->d_name);
		/* the daemon only once seen holding the backing */
		if (pid == self || (pid == a->daemon && a->daemon_ok))
			continue;
		scan_proc(&s, pid);
	}
	closedir(dp);
	audit_mountinfo_free(s.mnts, s.nmnts);
	free(s.mnts);
	if (s.nomem)
		a->nomem = true;
	partial[0] = 0;
	if (s.denied)
		snprintf(
			partial, sizeof(partial),
			"scan partial: %zu process%s could not be read (%s%s)%s",
			s.denied, s.denied > 1 ? "es" : "",
			s.unread ? s.unread : "",
			s.denied > RAW_MAX_UNREAD ? " ..." : "",
			a->root ? "" : "; run as root");
	if (s.procs)
		audit_add(
			a, "raw-users", AUDIT_WARNING,
			"%zu process%s hold%s (or may hold) files on the raw backing%s, unseen by rdmafs (opened before the mount or through a raw path): %s%s; they can change the block map behind rdmafs: restart them so they use the mount%s%s%s%s",
			s.procs, s.procs > 1 ? "es" : "",
			s.procs > 1 ? "" : "s", a->is_mount ? "" : " directory",
			s.shown ? s.shown : "",
			s.procs > RAW_MAX_SHOWN ? "; ..." : "",
			s.denied ? "; " : "", partial,
			a->rel ? ""
			       : "; the backing could not be placed in its filesystem, so everything on its device counts",
			UNSEEN);
	else if (s.denied)
		audit_add(
			a, "raw-users", AUDIT_WARNING,
			"no process found holding files on the raw backing, but %s%s",
			partial, UNSEEN);
	else
		audit_add(
			a, "raw-users", AUDIT_OK,
			"no process%s holds files on the raw backing (device %u:%u)%s",
			a->daemon_ok ? " but the daemon" : "", major(s.dev),
			minor(s.dev), UNSEEN);
	if (s.json && asprintf(&closed, "%s]", s.json) >= 0) {
		audit_fact_json(a, "processes", closed);
		free(closed);
	} else {
		audit_fact_json(a, "processes", "[]");
	}
	audit_fact_bool(a, "partial", s.denied > 0);
	free(s.json);
	free(s.shown);
	free(s.unread);
}
