// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-file pin set: an AVL tree keyed by (offset, id), augmented with
 * the largest end in each subtree.  See pinset.h for why.
 *
 * The id makes every key unique, so identical ranges from different
 * owners are simply distinct nodes, and since ids only grow, a new pin
 * sorts after older pins at the same offset (oldest-first removal is a
 * leftmost search).
 */
#include <errno.h>
#include <stdlib.h>

#include "core/pinset.h"

struct pset_node {
	struct pin pin;
	uint64_t end; /* pin_end(&pin), cached */
	uint64_t max_end; /* largest end in this subtree */
	struct pset_node *left, *right;
	int height; /* leaves are 1 */
};

static int height(const struct pset_node *n)
{
	return n ? n->height : 0;
}

static uint64_t max_end(const struct pset_node *n)
{
	return n ? n->max_end : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Recomputes @n's cached fields from its children. */
static void update(struct pset_node *n)
{
	int hl = height(n->left), hr = height(n->right);

	n->height = 1 + (hl > hr ? hl : hr);
	n->max_end =
		max_u64(n->end, max_u64(max_end(n->left), max_end(n->right)));
}

/* Orders keys; returns <0, 0 or >0 as (off, id) sorts before @n's key. */
static int key_cmp(uint64_t off, uint64_t id, const struct pset_node *n)
{
	if (off != n->pin.off)
		return off < n->pin.off ? -1 : 1;
	if (id != n->pin.id)
		return id < n->pin.id ? -1 : 1;
	return 0;
}

static struct pset_node *rotate_right(struct pset_node *n)
{
	struct pset_node *l = n->left;

	n->left = l->right;
	l->right = n;
	update(n);
	update(l);
	return l;
}

static struct pset_node *rotate_left(struct pset_node *n)
{
	struct pset_node *r = n->right;

	n->right = r->left;
	r->left = n;
	update(n);
	update(r);
	return r;
}

/* Restores balance at @n after one of its subtrees changed by one level. */
static struct pset_node *rebalance(struct pset_node *n)
{
	int bal;

	update(n);
	bal = height(n->left) - height(n->right);
	if (bal > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bal < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct pset_node *insert(struct pset_node *n, struct pset_node *new)
{
	if (!n)
		return new;
	if (key_cmp(new->pin.off, new->pin.id, n) < 0)
		n->left = insert(n->left, new);
	else
		n->right = insert(n->right, new);
	return rebalance(n);
}

/* Detaches the leftmost node of @n into *@min; returns the new subtree. */
static struct pset_node *detach_min(struct pset_node *n, struct pset_node **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = detach_min(n->left, min);
	return rebalance(n);
}

/* Detaches the node keyed (@off, @id) into *@found, if there is one. */
static struct pset_node *erase(struct pset_node *n, uint64_t off, uint64_t id,
			       struct pset_node **found)
{
	struct pset_node *succ;
	int c;

	if (!n)
		return NULL;
	c = key_cmp(off, id, n);
	if (c < 0) {
		n->left = erase(n->left, off, id, found);
	} else if (c > 0) {
		n->right = erase(n->right, off, id, found);
	} else {
		*found = n;
		if (!n->right)
			return n->left;
		n->right = detach_min(n->right, &succ);
		succ->left = n->left;
		succ->right = n->right;
		return rebalance(succ);
	}
	return rebalance(n);
}

static void free_tree(struct pset_node *n)
{
	while (n) {
		struct pset_node *right = n->right;

		free_tree(n->left);
		free(n);
		n = right;
	}
}

void pset_init(struct pset *s, size_t max)
{
	*s = (struct pset){ .max = max };
}

void pset_destroy(struct pset *s)
{
	free_tree(s->root);
	s->root = NULL;
	s->count = 0;
}

int pset_add(struct pset *s, const struct pin *p, uint64_t *id)
{
	struct pset_node *n;

	if (!p->all && (p->len == 0 || p->len > UINT64_MAX - p->off))
		return -EINVAL;
	if (s->max && s->count >= s->max)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->pin = *p;
	if (p->all)
		n->pin.off = n->pin.len = 0;
	n->pin.id = ++s->next_id;
	n->end = pin_end(&n->pin);
	n->height = 1;
	n->max_end = n->end;
	s->root = insert(s->root, n);
	s->count++;
	if (id)
		*id = n->pin.id;
	return 0;
}

static bool pin_matches(const struct pin *p, const struct pin *key,
			unsigned int flags)
{
	if (key->all != p->all)
		return false;
	if (!key->all && (p->off != key->off || p->len != key->len))
		return false;
	if (!(flags & PSET_ANY_OWNER) && p->owner != key->owner)
		return false;
	if (!(flags & PSET_ANY_HOLDER) && p->holder != key->holder)
		return false;
	return true;
}

/* The lowest-id pin at offset @off that matches @key, or NULL. */
static struct pset_node *find_first_match(struct pset_node *n, uint64_t off,
					  const struct pin *key,
					  unsigned int flags)
{
	while (n) {
		struct pset_node *m;

		if (n->pin.off < off) {
			n = n->right;
			continue;
		}
		if (n->pin.off > off) {
			n = n->left;
			continue;
		}
		/* Older pins at the same offset sort to the left. */
		m = find_first_match(n->left, off, key, flags);
		if (m)
			return m;
		if (pin_matches(&n->pin, key, flags))
			return n;
		n = n->right;
	}
	return NULL;
}

static int remove_node(struct pset *s, uint64_t off, uint64_t id,
		       struct pin *removed)
{
	struct pset_node *found = NULL;

	s->root = erase(s->root, off, id, &found);
	if (!found)
		return -ENOENT;
	if (removed)
		*removed = found->pin;
	free(found);
	s->count--;
	return 0;
}

int pset_remove_exact(struct pset *s, const struct pin *key, unsigned int flags,
		      struct pin *removed)
{
	uint64_t off = key->all ? 0 : key->off;
	struct pset_node *n = find_first_match(s->root, off, key, flags);

	if (!n)
		return -ENODATA;
	return remove_node(s, n->pin.off, n->pin.id, removed);
}

int pset_remove_id(struct pset *s, uint64_t off, uint64_t id,
		   struct pin *removed)
{
	return remove_node(s, off, id, removed);
}

struct prune {
	pset_pred_fn pred;
	void *arg;
	struct pset_node **tail; /* where the next kept node is linked */
	size_t removed;
};

/*
 * Threads the kept nodes of @n, in order, onto a list through their right
 * pointers and frees the others.  Recursing only to the left keeps the
 * depth at the tree's height.
 */
static void prune_to_list(struct pset_node *n, struct prune *pr)
{
	while (n) {
		struct pset_node *right = n->right;

		prune_to_list(n->left, pr);
		if (pr->pred(&n->pin, pr->arg)) {
			free(n);
			pr->removed++;
		} else {
			n->left = NULL;
			*pr->tail = n;
			pr->tail = &n->right;
		}
		n = right;
	}
}

/*
 * Builds a balanced tree from the first @count nodes of the sorted *@list,
 * advancing *@list past them.  Sibling subtrees differ in size by at most
 * one, so the result is a valid AVL tree.
 */
static struct pset_node *build_from_list(struct pset_node **list, size_t count)
{
	struct pset_node *left, *root;

	if (!count)
		return NULL;
	left = build_from_list(list, count / 2);
	root = *list;
	*list = root->right;
	root->left = left;
	root->right = build_from_list(list, count - count / 2 - 1);
	update(root);
	return root;
}

size_t pset_remove_if(struct pset *s, pset_pred_fn pred, void *arg)
{
	struct pset_node *list = NULL;
	struct prune pr = { .pred = pred, .arg = arg, .tail = &list };

	prune_to_list(s->root, &pr);
	*pr.tail = NULL;
	s->count -= pr.removed;
	s->root = build_from_list(&list, s->count);
	return pr.removed;
}

static bool owner_is(const struct pin *p, void *arg)
{
	return p->owner == *(const uint32_t *)arg;
}

static bool holder_is(const struct pin *p, void *arg)
{
	return p->holder == *(const int32_t *)arg;
}

size_t pset_remove_owner(struct pset *s, uint32_t owner)
{
	return pset_remove_if(s, owner_is, &owner);
}

size_t pset_remove_holder(struct pset *s, int32_t pid)
{
	return pset_remove_if(s, holder_is, &pid);
}

/*
 * Walks the pins overlapping [qoff, qend): a subtree whose largest end is
 * at or before qoff holds none, and nothing to the right of a node that
 * starts at or after qend can either.
 */
static int visit_overlaps(const struct pset_node *n, uint64_t qoff,
			  uint64_t qend, pset_visit_fn fn, void *arg)
{
	while (n && n->max_end > qoff) {
		int rc = visit_overlaps(n->left, qoff, qend, fn, arg);

		if (rc)
			return rc;
		if (n->pin.off >= qend)
			return 0;
		if (n->end > qoff) {
			rc = fn(&n->pin, arg);
			if (rc)
				return rc;
		}
		n = n->right;
	}
	return 0;
}

int pset_overlaps(const struct pset *s, uint64_t off, uint64_t len,
		  pset_visit_fn fn, void *arg)
{
	uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;

	if (!len)
		return 0;
	return visit_overlaps(s->root, off, end, fn, arg);
}

bool pset_any_overlap(const struct pset *s, uint64_t off, uint64_t len)
{
	uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;
	const struct pset_node *n = s->root;

	if (!len)
		return false;
	/*
	 * One path down: if the left subtree has a pin ending after @off
	 * but it does not overlap, it starts at or after @end, and so does
	 * everything to its right; so the answer is on the left or nowhere.
	 */
	while (n) {
		if (n->pin.off < end && n->end > off)
			return true;
		if (n->left && n->left->max_end > off)
			n = n->left;
		else
			n = n->right;
	}
	return false;
}

static int walk(const struct pset_node *n, pset_visit_fn fn, void *arg)
{
	while (n) {
		int rc = walk(n->left, fn, arg);

		if (rc)
			return rc;
		rc = fn(&n->pin, arg);
		if (rc)
			return rc;
		n = n->right;
	}
	return 0;
}

int pset_foreach(const struct pset *s, pset_visit_fn fn, void *arg)
{
	return walk(s->root, fn, arg);
}

struct verify {
	const struct pset_node *prev;
	size_t count;
	bool bad;
};

/* Returns the height of @n as recomputed, flagging any broken invariant. */
static int verify_node(const struct pset_node *n, struct verify *v)
{
	int hl, hr;
	uint64_t me;

	if (!n)
		return 0;
	hl = verify_node(n->left, v);
	if (v->prev && key_cmp(n->pin.off, n->pin.id, v->prev) <= 0)
		v->bad = true;
	v->prev = n;
	v->count++;
	hr = verify_node(n->right, v);
	me = max_u64(n->end, max_u64(max_end(n->left), max_end(n->right)));
	if (n->end != pin_end(&n->pin) || n->max_end != me ||
	    n->height != 1 + (hl > hr ? hl : hr) || hl - hr > 1 || hr - hl > 1)
		v->bad = true;
	return n->height;
}

int pset_verify(const struct pset *s)
{
	struct verify v = { 0 };

	verify_node(s->root, &v);
	return v.bad || v.count != s->count ? -EUCLEAN : 0;
}
