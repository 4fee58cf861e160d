// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snapshot of the pins a mediated request would touch; see
 * med_snap.h.  One snapshot per attempt: the decision (pol_decide), the
 * audit record and the holders' notices all read the pins copied here
 * under the file's lock, so they cannot disagree about which pins there
 * were, and the table is asked once per inode, not once per question.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "med_snap.h"
#include "pinsvc.h"
#include "core/audit.h"
#include "core/holders.h"
#include "core/identity.h"
#include "core/pinindex.h"
#include "core/pintable.h"

bool rfs_med_pins_maybe(struct rfs *fs)
{
	struct ptab_stats st;

	if (fs->pins) {
		ptab_get_stats(fs->pins, &st);
		if (st.pins)
			return true;
	}
	return fs->pidx && pidx_any(fs->pidx);
}

static int snap_add(const struct pin *p, void *arg)
{
	struct rfs_med_snap *s = arg;
	struct pin *bigger;
	size_t cap;

	if (s->n == s->cap) {
		/*
		 * Under the file's lock, which is a leaf lock: malloc waits
		 * for no grace period.  Failing, the snapshot is unusable
		 * (a decision over part of the pins could be wrong).
		 */
		cap = s->cap * 2;
		bigger = malloc(cap * sizeof(*bigger));
		if (!bigger)
			return -ENOMEM;
		memcpy(bigger, s->pins, s->n * sizeof(*bigger));
		if (s->pins != s->few)
			free(s->pins);
		s->pins = bigger;
		s->cap = cap;
	}
	s->pins[s->n++] = *p;
	return 0;
}

/* Appends the pins of (@dev, @ino) overlapping the range to @s. */
static int snap_file(struct rfs *fs, struct rfs_med_snap *s, uint64_t dev,
		     uint64_t ino, uint64_t off, uint64_t len)
{
	struct ptab_file *f;
	int err;

	if (!fs->pins)
		return 0;
	ptab_read_lock();
	f = ptab_find(fs->pins, dev, ino);
	/* No entry: the file has no pins, and no lock was taken. */
	if (!f || ptab_file_lock(f) < 0) {
		ptab_read_unlock();
		return 0;
	}
	ptab_read_unlock();
	err = pset_overlaps(ptab_file_pins(f), off, len, snap_add, s);
	ptab_file_unlock(fs->pins, f);
	return err;
}

void rfs_med_snap_free(struct rfs_med_snap *s)
{
	if (s->pins && s->pins != s->few)
		free(s->pins);
	s->pins = s->few;
	s->cap = sizeof(s->few) / sizeof(s->few[0]);
	s->n = s->n1 = 0;
	s->taken = false;
}

void rfs_med_snap_move(struct rfs_med_snap *to, struct rfs_med_snap *from)
{
	*to = *from;
	if (from->pins == from->few)
		to->pins = to->few;
	from->pins = NULL; /* as new: rfs_med_snap_free() resets it */
	rfs_med_snap_free(from);
}

int rfs_med_snap(struct rfs *fs, struct rfs_med *m)
{
	struct rfs_med_snap *s = &m->snap;
	int err;

	rfs_med_snap_free(s);
	err = snap_file(fs, s, m->dev, m->ino, m->off, m->len);
	s->n1 = s->n;
	if (!err && m->has2)
		err = snap_file(fs, s, m->dev2, m->ino2, m->off2, m->len2);
	if (err) {
		rfs_med_snap_free(s);
		return err;
	}
	s->taken = true;
	return 0;
}

/* Whether @p shares a byte with [off, off + len), len saturating. */
static bool pin_hits(const struct pin *p, uint64_t off, uint64_t len)
{
	uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;

	return len && p->off < end && (p->all || pin_end(p) > off);
}

void rfs_med_snap_narrow(struct rfs_med *m)
{
	struct rfs_med_snap *s = &m->snap;
	size_t i, n = 0, n1 = 0;

	for (i = 0; i < s->n; i++) {
		bool first = i < s->n1;

		if (first ? !pin_hits(&s->pins[i], m->off, m->len)
			  : !pin_hits(&s->pins[i], m->off2, m->len2))
			continue;
		s->pins[n++] = s->pins[i];
		n1 += first;
	}
	s->n = n;
	s->n1 = n1;
}

static void reverse(struct pin *p, size_t from, size_t to)
{
	struct pin t;

	while (from + 1 < to) {
		t = p[from];
		p[from++] = p[--to];
		p[to] = t;
	}
}

void rfs_med_swap_ends(struct rfs_med *m)
{
	dev_t dev = m->dev;
	ino_t ino = m->ino;
	uint64_t off = m->off, len = m->len;
	int fd = m->path_fd;

	m->dev = m->dev2;
	m->ino = m->ino2;
	m->off = m->off2;
	m->len = m->len2;
	m->path_fd = m->path_fd2;
	m->dev2 = dev;
	m->ino2 = ino;
	m->off2 = off;
	m->len2 = len;
	m->path_fd2 = fd;
	/* The new first inode's pins lead: rotate by three reversals. */
	reverse(m->snap.pins, 0, m->snap.n1);
	reverse(m->snap.pins, m->snap.n1, m->snap.n);
	reverse(m->snap.pins, 0, m->snap.n);
	m->snap.n1 = m->snap.n - m->snap.n1;
}

bool rfs_med_pinned_now(struct rfs *fs, const struct rfs_med *m)
{
	return ptab_has_overlap(fs->pins, m->dev, m->ino, m->off, m->len) ||
	       (m->has2 &&
		ptab_has_overlap(fs->pins, m->dev2, m->ino2, m->off2, m->len2));
}

void rfs_med_audit_pin(const struct pin *p, struct audit_pin *a)
{
	a->off = p->off;
	a->len = p->len;
	a->all = p->all;
	a->owner = p->owner;
	a->holder = p->holder;
}

void rfs_med_record(struct rfs *fs, const struct rfs_med *m, const char *event,
		    int err, int64_t waited_ms, const struct audit_pin *pins,
		    size_t npins)
{
	struct audit_pin found[RFS_MED_AUDIT_PINS];
	struct audit_event ev = {
		.event = event,
		.op = m->op->name,
		.range = m->op->cls == POL_UNLINK ? AUDIT_RANGE_ALL
						  : AUDIT_RANGE_SPAN,
		.offset = m->off,
		.length = m->len,
		.err = err,
		.waited_ms = waited_ms,
		.process = m->who,
		.reason = m->reason,
		.holders = m->holders.h,
		.nholders = m->holders.n,
	};
	char path[PATH_MAX], dir[PATH_MAX];
	size_t i;

	if (!pins) {
		npins = m->snap.n;
		for (i = 0; i < npins && i < RFS_MED_AUDIT_PINS; i++)
			rfs_med_audit_pin(&m->snap.pins[i], &found[i]);
		pins = found;
	}
	ev.pins = pins;
	ev.npins = npins < RFS_MED_AUDIT_PINS ? npins : RFS_MED_AUDIT_PINS;
	if (m->path_fd >= 0 &&
	    rfs_rel_path(fs, m->path_fd, path, sizeof(path)) == 0)
		ev.path = path;
	else if (m->path_fd < 0 && m->name && m->dir_fd >= 0 &&
		 rfs_rel_path(fs, m->dir_fd, dir, sizeof(dir)) == 0 &&
		 snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "",
			  m->name) < (int)sizeof(path))
		ev.path = path;
	audit_log(fs->audit, &ev);
}

void rfs_med_notice(const struct rfs_med *m, int end,
		    const struct timespec *deadline, struct proto_notice *n)
{
	const struct ident *w = m->who;
	int32_t pid = 0;

	/* The breaker is the process (its tgid), not the FUSE thread id. */
	if (w)
		pid = (w->flags & IDENT_TGID) ? w->tgid : w->pid;
	holders_notice(n, m->op->cls, end ? m->off2 : m->off,
		       end ? m->len2 : m->len, pid, fuse_req_ctx(m->req)->uid,
		       w && (w->flags & IDENT_COMM) ? w->comm : NULL, deadline);
}

size_t rfs_med_break(struct rfs *fs, const struct rfs_med *m,
		     struct audit_pin *out, size_t max)
{
	struct proto_notice what;
	struct timespec now;
	size_t n;

	/* A revoked notice's deadline is the moment it happened. */
	clock_gettime(CLOCK_REALTIME, &now);
	rfs_med_notice(m, 0, &now, &what);
	n = rfs_pins_revoke_what(fs, m->dev, m->ino, m->path_fd, m->off, m->len,
				 out, max, &what);
	if (m->has2) {
		rfs_med_notice(m, 1, &now, &what);
		n += rfs_pins_revoke_what(fs, m->dev2, m->ino2, m->path_fd2,
					  m->off2, m->len2,
					  out + (n < max ? n : max),
					  n < max ? max - n : 0, &what);
	}
	return n;
}
