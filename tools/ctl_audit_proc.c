// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl audit: the ways around the mount.  rdmafs mediates only what
 * passes through it; the raw backing path (when the mount is beside it
 * rather than over it, or the backing filesystem is mounted elsewhere
 * too) and processes that opened backing files before an overmount can
 * truncate or punch pinned blocks unseen.  Processes are found by the
 * device of what they hold (the backing filesystem's st_dev: the FUSE
 * mount has its own), never through the mount.  /proc entries vanish
 * while they are read: a process gone is skipped, one we may not read
 * makes the scan partial, and the reason says so.  The mountinfo parser
 * the other checks use is here too.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/pathesc.h"
#include "ctl_audit.h"

#define RAW_MAX_SHOWN 8
#define RAW_MAX_UNREAD 4

/* ---- mountinfo ---- */

/* Undoes mountinfo's \ooo escapes in place. */
static char *unoctal(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	return s;
}

static int parse_line(char *line, struct audit_mnt *m)
{
	char *f[6], *save = NULL, *tok, *sep;
	int i;

	memset(m, 0, sizeof(*m));
	sep = strstr(line, " - ");
	if (!sep)
		return -EINVAL;
	*sep = 0;
	tok = strtok_r(line, " ", &save);
	for (i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &save))
		f[i] = tok;
	if (i < 6 || sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2)
		return -EINVAL;
	save = NULL;
	m->root = strdup(unoctal(f[3]));
	m->mountpoint = strdup(unoctal(f[4]));
	m->opts = strdup(f[5]);
	tok = strtok_r(sep + 3, " \n", &save);
	m->fstype = strdup(tok ? tok : "?");
	tok = strtok_r(NULL, " \n", &save);
	m->source = strdup(tok ? unoctal(tok) : "?");
	tok = strtok_r(NULL, " \n", &save);
	m->superopts = strdup(tok ? tok : "");
	if (!m->root || !m->mountpoint || !m->opts || !m->fstype ||
	    !m->source || !m->superopts) {
		audit_mountinfo_free(m, 1);
		return -ENOMEM;
	}
	return 0;
}

void audit_mountinfo_free(struct audit_mnt *mnts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(mnts[i].root);
		free(mnts[i].mountpoint);
		free(mnts[i].fstype);
		free(mnts[i].source);
		free(mnts[i].opts);
		free(mnts[i].superopts);
	}
}

int audit_mountinfo_read(pid_t pid, struct audit_mnt **mnts, size_t *n)
{
	char path[64], *line = NULL;
	struct audit_mnt *v = NULL, m;
	size_t len = 0, cnt = 0;
	FILE *f;
	int err = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &len, f) > 0) {
		void *p;

		if (parse_line(line, &m))
			continue;
		p = realloc(v, (cnt + 1) * sizeof(*v));
		if (!p) {
			audit_mountinfo_free(&m, 1);
			err = -ENOMEM;
			break;
		}
		v = p;
		v[cnt++] = m;
	}
	free(line);
	fclose(f);
	if (err) {
		audit_mountinfo_free(v, cnt);
		free(v);
		return err;
	}
	*mnts = v;
	*n = cnt;
	return 0;
}

/* @dir and @rest ("" or "/..."), without a doubled or trailing '/'. */
static char *join(const char *dir, const char *rest)
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

/*
 * The backing directory's path inside its filesystem ("/" for the
 * filesystem's root), from its line of mountinfo; NULL if not known.
 */
static char *fs_relative(const struct audit *a)
{
	size_t n;

	if (!a->have_mnt || !a->backing)
		return NULL;
	n = strcmp(a->bmnt.mountpoint, "/") ? strlen(a->bmnt.mountpoint) : 0;
	if (strncmp(a->backing, a->bmnt.mountpoint, n) ||
	    (a->backing[n] && a->backing[n] != '/'))
		return NULL;
	return join(a->bmnt.root, a->backing + n);
}

static bool same_file(const char *path, const struct stat *st)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
		  STATX_INO, &sx))
		return false;
	return makedev(sx.stx_dev_major, sx.stx_dev_minor) == st->st_dev &&
	       sx.stx_ino == st->st_ino;
}

/*
 * The paths at which this mount namespace reaches the backing raw:
 * every mount of its filesystem that shows the backing directory, as
 * far as that path leads to it (an overmount leads to rdmafs instead).
 */
static char *raw_paths(const struct audit *a, size_t *count)
{
	struct audit_mnt *v;
	char *rel = fs_relative(a), *out = NULL, *s, *cand;
	size_t n, i, k;

	*count = 0;
	if (!rel || audit_mountinfo_read(0, &v, &n)) {
		free(rel);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (makedev(v[i].major, v[i].minor) != a->bst.st_dev)
			continue;
		k = strcmp(v[i].root, "/") ? strlen(v[i].root) : 0;
		if (strncmp(rel, v[i].root, k) || (rel[k] && rel[k] != '/'))
			continue;
		cand = join(v[i].mountpoint, rel + k);
		if (!cand)
			continue;
		if (same_file(cand, &a->bst) && (!out || !strstr(out, cand)) &&
		    asprintf(&s, "%s%s%s", out ? out : "", out ? ", " : "",
			     cand) >= 0) {
			free(out);
			out = s;
			(*count)++;
		}
		free(cand);
	}
	audit_mountinfo_free(v, n);
	free(v);
	free(rel);
	return out;
}

/* The rdmafs mount (and its daemon) that serves the plain dir @a->backing. */
static char *served_at(struct audit *a)
{
	struct audit_mnt *v;
	struct rdmafs_status *st;
	struct rdmafs_mount *m;
	char *out = NULL, *b;
	size_t n, i, j;

	if (audit_mountinfo_read(0, &v, &n))
		return NULL;
	for (i = 0; i < n && !out; i++) {
		if (strcmp(v[i].fstype, "fuse.rdmafs"))
			continue;
		if (rdmafs_mount_open(v[i].mountpoint, &m))
			continue;
		if (!rdmafs_mount_status(m, &st)) {
			for (j = 0; j < st->nfields; j++) {
				const char *k = st->fields[j].key;
				const char *val = st->fields[j].value;

				if (!strcmp(k, "pid"))
					a->daemon = (pid_t)atoi(val);
				if (strcmp(k, "backing") ||
				    pesc_unescape(val, strlen(val), &b, NULL))
					continue;
				if (!strncmp(a->backing, b, strlen(b)) &&
				    (a->backing[strlen(b)] == '/' ||
				     !a->backing[strlen(b)]))
					out = strdup(v[i].mountpoint);
				free(b);
			}
			rdmafs_status_free(st);
		}
		if (!out)
			a->daemon = 0;
		rdmafs_mount_close(m);
	}
	audit_mountinfo_free(v, n);
	free(v);
	return out;
}

void audit_check_overmount(struct audit *a)
{
	size_t nraw = 0;
	char *raw = NULL, *srv;
	struct stat st;

	if (!a->is_mount) {
		srv = served_at(a);
		if (srv)
			audit_add(
				a, "overmount", AUDIT_WARNING,
				"raw path reachable: rdmafs serves %s at %s, beside it, so processes can change the block map behind rdmafs here; mount rdmafs over the backing instead (rdmafs %s %s)",
				a->backing, srv, a->backing, a->backing);
		else
			audit_add(
				a, "overmount", AUDIT_WARNING,
				"no rdmafs mount serves %s: nothing mediates layout changes of its files; mount rdmafs over it (rdmafs %s %s)",
				a->backing, a->backing, a->backing);
		audit_fact_bool(a, "overmounted", false);
		audit_fact_str(a, "served_at", srv);
		free(srv);
		return;
	}
	if (!a->backing || !a->mountpoint) {
		audit_add(
			a, "overmount", AUDIT_WARNING,
			"the daemon's status names no backing or mountpoint (an older rdmafs): not checked");
		return;
	}
	if (a->bfd >= 0)
		raw = raw_paths(a, &nraw);
	else if (!stat(a->backing, &st) && st.st_dev != a->fuse_dev)
		raw = strdup(a->backing), nraw = 1;
	if (nraw)
		audit_add(
			a, "overmount", AUDIT_WARNING,
			"raw path reachable at %s: processes can change the block map behind rdmafs; mount rdmafs over its backing (rdmafs %s %s) and mount the backing filesystem nowhere else",
			raw, a->backing, a->backing);
	else if (!strcmp(a->mountpoint, a->backing))
		audit_add(
			a, "overmount", AUDIT_OK,
			"rdmafs is mounted over its backing %s: the raw files are hidden%s",
			a->backing,
			a->bfd >= 0
				? ""
				: " (other mounts of the backing filesystem not checked)");
	else
		audit_add(
			a, "overmount", AUDIT_OK,
			"the backing %s is not reachable by path here, though rdmafs is mounted beside it at %s",
			a->backing, a->mountpoint);
	audit_fact_bool(a, "overmounted", !strcmp(a->mountpoint, a->backing));
	audit_fact_str(a, "raw_paths", raw);
	free(raw);
}

/* ---- processes on the raw backing ---- */

struct scan {
	dev_t dev;
	const char *prefix; /* NULL: the whole filesystem is the backing */
	size_t procs, denied;
	char *shown, *json;
	char *unread; /* "PID(comm)" of the first processes we could not read */
	bool nomem;
};

static bool in_prefix(const struct scan *s, const char *path)
{
	size_t n;

	if (!s->prefix)
		return true;
	n = strlen(s->prefix);
	return !strncmp(path, s->prefix, n) && (!path[n] || path[n] == '/');
}

/* 1: @path (a /proc magic link) leads to the backing; 0 not; -errno. */
static int link_on(const struct scan *s, const char *path)
{
	char link[PATH_MAX];
	struct statx sx;
	ssize_t n;

	/* DONT_SYNC: never ask a (maybe hung) FUSE daemon for attributes */
	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO, &sx)) {
		/*
		 * A link we may read but not follow leads to a filesystem
		 * that refuses us (FUSE without allow_other), not to the
		 * backing: only an unreadable link makes the scan partial.
		 */
		if (readlink(path, link, sizeof(link)) < 0)
			return -errno;
		return 0;
	}
	if (makedev(sx.stx_dev_major, sx.stx_dev_minor) != s->dev)
		return 0;
	if (!s->prefix)
		return 1;
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -errno;
	link[n] = 0;
	return in_prefix(s, link);
}

struct hits {
	unsigned int fds, maps;
	bool cwd, root, denied;
};

static void scan_fds(const struct scan *s, const char *pdir, struct hits *h)
{
	struct dirent *d;
	char dir[64], path[64 + sizeof(d->d_name)];
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/fd", pdir);
	dp = opendir(dir);
	if (!dp) {
		if (errno == EACCES || errno == EPERM)
			h->denied = true;
		return;
	}
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (link_on(s, path) == 1)
			h->fds++;
	}
	closedir(dp);
}

static void scan_maps(const struct scan *s, const char *pdir, struct hits *h)
{
	char path[64], *line = NULL, *p;
	unsigned int ma, mi;
	size_t len = 0;
	int off = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/maps", pdir);
	f = fopen(path, "re");
	if (!f) {
		if (errno == EACCES || errno == EPERM)
			h->denied = true;
		return;
	}
	/* "start-end perms offset MAJ:MIN inode   path" */
	while (getline(&line, &len, f) > 0) {
		if (sscanf(line, "%*s %*s %*s %x:%x %*u %n", &ma, &mi, &off) <
			    2 ||
		    makedev(ma, mi) != s->dev)
			continue;
		p = line + off;
		p[strcspn(p, "\n")] = 0;
		if (in_prefix(s, p))
			h->maps++;
	}
	free(line);
	fclose(f);
}

static void note(struct scan *s, pid_t pid, const char *comm,
		 const struct hits *h)
{
	char what[128], *t, *js;
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
	if (n >= 2)
		what[n - 2] = 0;
	if (s->procs++ < RAW_MAX_SHOWN &&
	    asprintf(&t, "%s%s%d(%s): %s", s->shown ? s->shown : "",
		     s->shown ? "; " : "", (int)pid, comm, what) >= 0) {
		free(s->shown);
		s->shown = t;
	}
	js = audit_json_str(comm);
	if (!js ||
	    asprintf(
		    &t,
		    "%s%s{\"pid\": %d, \"comm\": %s, \"fds\": %u, \"maps\": %u, \"cwd\": %s, \"root\": %s}",
		    s->json ? s->json : "[", s->json ? ", " : "", (int)pid, js,
		    h->fds, h->maps, h->cwd ? "true" : "false",
		    h->root ? "true" : "false") < 0) {
		s->nomem = true;
	} else {
		free(s->json);
		s->json = t;
	}
	free(js);
}

static void scan_proc(struct scan *s, pid_t pid)
{
	char pdir[32], path[64], comm[64] = "?";
	struct hits h = { 0 };
	FILE *f;
	int r;

	snprintf(pdir, sizeof(pdir), "/proc/%d", (int)pid);
	snprintf(path, sizeof(path), "%s/comm", pdir);
	f = fopen(path, "re");
	if (!f)
		return; /* gone */
	if (fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
	snprintf(path, sizeof(path), "%s/cwd", pdir);
	r = link_on(s, path);
	h.cwd = r == 1;
	if (r == -EACCES || r == -EPERM)
		h.denied = true;
	snprintf(path, sizeof(path), "%s/root", pdir);
	r = link_on(s, path);
	h.root = r == 1;
	if (r == -EACCES || r == -EPERM)
		h.denied = true;
	scan_fds(s, pdir, &h);
	scan_maps(s, pdir, &h);
	if (h.denied && s->denied++ < RAW_MAX_UNREAD) {
		char *t;

		if (asprintf(&t, "%s%s%d(%s)", s->unread ? s->unread : "",
			     s->unread ? " " : "", (int)pid, comm) >= 0) {
			free(s->unread);
			s->unread = t;
		}
	}
	if (h.cwd || h.root || h.fds || h.maps)
		note(s, pid, comm, &h);
}

void audit_check_raw_users(struct audit *a)
{
	struct scan s = { .dev = a->bst.st_dev };
	char *rel = NULL, *closed = NULL, partial[256];
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
	/* a subdirectory: only what lies under its path counts */
	rel = fs_relative(a);
	if (!rel || strcmp(rel, "/"))
		s.prefix = a->backing;
	dp = opendir("/proc");
	if (!dp) {
		audit_add(a, "raw-users", AUDIT_WARNING,
			  "couldn't read /proc: %s; processes not looked for",
			  strerror(errno));
		free(rel);
		return;
	}
	while ((d = readdir(dp))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (pid_t)atoi(d->d_name);
		if (pid == self || pid == a->daemon)
			continue;
		scan_proc(&s, pid);
	}
	closedir(dp);
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
			"%zu process%s hold%s files on the raw backing%s, unseen by rdmafs (opened before the mount or through a raw path): %s%s; they can change the block map behind rdmafs: restart them so they use the mount%s%s",
			s.procs, s.procs > 1 ? "es" : "",
			s.procs > 1 ? "" : "s", a->is_mount ? "" : " directory",
			s.shown ? s.shown : "",
			s.procs > RAW_MAX_SHOWN ? "; ..." : "",
			s.denied ? "; " : "", partial);
	else if (s.denied)
		audit_add(
			a, "raw-users", AUDIT_WARNING,
			"no process found holding files on the raw backing, but %s",
			partial);
	else
		audit_add(
			a, "raw-users", AUDIT_OK,
			"no process%s holds files on the raw backing (device %u:%u)",
			a->daemon ? " but the daemon" : "", major(s.dev),
			minor(s.dev));
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
	free(rel);
}
