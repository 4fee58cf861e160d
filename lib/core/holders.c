// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The holders a request met; see holders.h.  Lists are short (one entry
 * per session holding a pin over one request's range), so lookups are
 * linear scans.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/holders.h"
#include "core/policy.h"

/* Where session @sess is in @l, or @l->n. */
static size_t index_of(const struct holders *l, uint64_t sess)
{
	size_t i;

	for (i = 0; i < l->n && l->h[i].sess != sess; i++)
		;
	return i;
}

struct audit_holder *holders_find(struct holders *l, uint64_t sess)
{
	size_t i = index_of(l, sess);

	return i < l->n ? &l->h[i] : NULL;
}

/* Whether an earlier pin of @pins[0..@i) is of the same session as @i's. */
static bool seen_before(const struct pin *pins, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (pins[j].sess == pins[i].sess)
			return true;
	return false;
}

size_t holders_count_new(const struct holders *l, const struct pin *pins,
			 size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (holders_is_session(&pins[i]) &&
		    index_of(l, pins[i].sess) == l->n && !seen_before(pins, i))
			k++;
	return k;
}

int holders_reserve(struct holders *l, size_t more)
{
	struct audit_holder *h;
	size_t cap;

	if (l->cap - l->n >= more)
		return 0;
	if (more > SIZE_MAX / sizeof(*h) - l->n)
		return -ENOMEM;
	cap = l->n + more;
	h = realloc(l->h, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	l->h = h;
	l->cap = cap;
	return 0;
}

struct audit_holder *holders_add(struct holders *l, uint64_t sess, int32_t pid,
				 uint32_t uid, const char *comm)
{
	struct audit_holder *h = holders_find(l, sess);

	if (h)
		return h;
	if (l->n == l->cap)
		return NULL;
	h = &l->h[l->n++];
	memset(h, 0, sizeof(*h));
	h->sess = sess;
	h->pid = pid;
	h->uid = uid;
	if (comm)
		strncpy(h->comm, comm, sizeof(h->comm) - 1);
	return h;
}

size_t holders_untold(const struct holders *l, struct pin *pins, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!holders_is_session(&pins[i]) ||
		    index_of(l, pins[i].sess) < l->n)
			continue;
		pins[k++] = pins[i];
	}
	return k;
}

bool holders_in_pins(uint64_t sess, const struct pin *pins, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (holders_is_session(&pins[i]) && pins[i].sess == sess)
			return true;
	return false;
}

size_t holders_settle(struct holders *l, holders_holds_fn holds, void *arg)
{
	size_t i, k = 0;

	for (i = 0; i < l->n; i++) {
		struct audit_holder *h = &l->h[i];

		if (h->fate == AUDIT_HOLDER_WAITING)
			h->fate = holds(h->sess, arg) ? AUDIT_HOLDER_HOLDING
						      : AUDIT_HOLDER_RELEASED;
		k += h->fate == AUDIT_HOLDER_HOLDING;
	}
	return k;
}

int holders_revoked(struct holders *l, const struct pin *pins, size_t n)
{
	struct audit_holder *h;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!holders_is_session(&pins[i]))
			continue;
		h = holders_add(l, pins[i].sess, pins[i].holder, pins[i].owner,
				NULL);
		if (!h)
			return -ENOMEM;
		if (h->fate != AUDIT_HOLDER_KILLED)
			h->fate = AUDIT_HOLDER_REVOKED;
	}
	return 0;
}

void holders_free(struct holders *l)
{
	free(l->h);
	l->h = NULL;
	l->n = l->cap = 0;
}

/* The range a notice of @cls over [@off, @off + @len) says (holders.h). */
static void notice_range(uint32_t cls, uint64_t off, uint64_t len,
			 uint64_t *noff, uint64_t *nlen)
{
	/* An unlink takes the whole file, whatever its range says. */
	if (cls == POL_UNLINK || (off == 0 && len == UINT64_MAX)) {
		*noff = 0;
		*nlen = PROTO_NOTICE_WHOLE;
		return;
	}
	/* A notice's range ends at UINT64_MAX at most and is never empty. */
	if (off == UINT64_MAX)
		off = UINT64_MAX - 1;
	if (len > UINT64_MAX - off)
		len = UINT64_MAX - off;
	*noff = off;
	*nlen = len ? len : 1;
}

void holders_notice(struct proto_notice *n, uint32_t cls, uint64_t off,
		    uint64_t len, int32_t pid, uint32_t uid, const char *comm,
		    const struct timespec *deadline)
{
	memset(n, 0, sizeof(*n));
	n->cls = cls;
	notice_range(cls, off, len, &n->off, &n->len);
	n->pid = pid > 0 ? pid : 0;
	n->uid = uid;
	if (comm)
		strncpy(n->comm, comm, sizeof(n->comm) - 1);
	n->deadline_sec = deadline->tv_sec > 0 ? deadline->tv_sec : 0;
	n->deadline_nsec =
		deadline->tv_nsec >= 0 && deadline->tv_nsec < 1000000000
			? (uint32_t)deadline->tv_nsec
			: 0;
}
