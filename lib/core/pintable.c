// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pin table: an RCU hash table from backing inode to pin set.  See
 * pintable.h for the contract and the locking rules.
 *
 * liburcu is used through its library calls (no _LGPL_SOURCE): the inline
 * fast paths are LGPL code that would then be compiled into rdmafs.
 *
 * Removed entries are freed after a grace period by a reclaim thread of
 * the table's own, not by call_rcu(): liburcu before 0.14 never stops its
 * default call_rcu thread, so nothing could be sure the frees were done
 * and the thread gone, and valgrind reports its memory at every exit.
 * The reclaim thread is joined by ptab_free(), and waiting for the grace
 * period there keeps it off the callers' path, as call_rcu() would.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The flavour first: rculfhash.h is written against it. */
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "core/pintable.h"

struct ptab_file {
	uint64_t dev, ino;
	pthread_mutex_t lock;
	struct pset set; /* under lock */
	bool dead; /* under lock: unlinked, to be freed after a grace period */
	/*
	 * The set's size as of the last unlock, read without the lock.
	 * Published at unlock rather than at each change so that a lock-free
	 * reader never sees the middle of a locked update (say, a pin moved
	 * by remove-then-add) as "no pins".
	 */
	uint64_t npins;
	struct cds_lfht_node node;
	struct ptab_file *grave_next; /* on ptab.grave, once dead */
	void *tag; /* under lock: which file of this number; NULL: unknown */
	size_t tag_len;
};

/* Pins of one owner: an open-addressing map, changed under uid_lock. */
struct uid_count {
	uint32_t uid;
	bool used;
	uint64_t n;
};

struct ptab {
	struct cds_lfht *ht;
	struct ptab_limits lim;
	uint64_t pins; /* atomic */
	uint64_t files; /* atomic */

	pthread_mutex_t uid_lock;
	struct uid_count *uids; /* power-of-two sized; NULL until needed */
	size_t nuids, uid_cap;

	pthread_mutex_t reap_lock;
	pthread_cond_t reap_cond;
	struct ptab_file *grave; /* under reap_lock: dead, to free */
	bool stopping; /* under reap_lock: ptab_free() is waiting */
	pthread_t reaper;
};

struct inode_key {
	uint64_t dev, ino;
};

/*
 * Reader registration.  libfuse starts and ends worker threads on its
 * own, so a thread is registered on first use and unregistered by a
 * thread-specific-data destructor when it exits: a thread that exits
 * while still registered would leave liburcu's reader registry pointing
 * at its freed TLS.
 */
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static int reader_key_err;
static __thread bool reader_registered;

static void reader_exit(void *arg)
{
	if (reader_registered) {
		urcu_memb_unregister_thread();
		reader_registered = false;
	}
}

static void reader_key_create(void)
{
	reader_key_err = pthread_key_create(&reader_key, reader_exit);
}

static int reader_init(void)
{
	pthread_once(&reader_once, reader_key_create);
	return -reader_key_err;
}

/*
 * The key cannot be missing here in practice: ptab_new() fails without
 * it, and there is no reason to read a table before creating it.  Setting
 * the value of one of a process's first keys cannot fail in glibc.
 */
static void ensure_registered(void)
{
	if (reader_registered)
		return;
	urcu_memb_register_thread();
	reader_registered = true;
	if (!reader_init())
		pthread_setspecific(reader_key, &reader_registered);
}

int ptab_thread_online(void)
{
	int err = reader_init();

	if (!err)
		ensure_registered();
	return err;
}

void ptab_thread_offline(void)
{
	if (!reader_registered)
		return;
	urcu_memb_unregister_thread();
	reader_registered = false;
	pthread_setspecific(reader_key, NULL);
}

void ptab_read_lock(void)
{
	ensure_registered();
	urcu_memb_read_lock();
}

void ptab_read_unlock(void)
{
	urcu_memb_read_unlock();
}

/* Spreads (dev, ino) over the hash: inode numbers are often sequential. */
static unsigned long inode_hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = ino ^ (dev * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (unsigned long)h;
}

static int inode_match(struct cds_lfht_node *node, const void *key)
{
	const struct ptab_file *f =
		caa_container_of(node, struct ptab_file, node);
	const struct inode_key *k = key;

	return f->dev == k->dev && f->ino == k->ino;
}

static struct ptab_file *node_file(struct cds_lfht_node *node)
{
	return node ? caa_container_of(node, struct ptab_file, node) : NULL;
}

/*
 * Table walks, in a read section.  Not cds_lfht_for_each_entry(): it
 * applies container_of to the NULL that ends the walk, which is undefined
 * behaviour (UBSan reports it).
 */
static struct ptab_file *first_file(struct ptab *t, struct cds_lfht_iter *iter)
{
	cds_lfht_first(t->ht, iter);
	return node_file(cds_lfht_iter_get_node(iter));
}

static struct ptab_file *next_file(struct ptab *t, struct cds_lfht_iter *iter)
{
	cds_lfht_next(t->ht, iter);
	return node_file(cds_lfht_iter_get_node(iter));
}

static void file_free(struct ptab_file *f)
{
	free(f->tag);
	pset_destroy(&f->set);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Queues a dead, unlinked entry for freeing after a grace period. */
static void bury(struct ptab *t, struct ptab_file *f)
{
	pthread_mutex_lock(&t->reap_lock);
	f->grave_next = t->grave;
	t->grave = f;
	pthread_cond_signal(&t->reap_cond);
	pthread_mutex_unlock(&t->reap_lock);
}

/*
 * The reclaim thread.  Entries buried while it waits for one grace period
 * are freed after the next, so a burst of removals costs a few grace
 * periods, not one each.  It is not an RCU reader and holds no lock while
 * it waits, so the wait always ends.
 */
static void *reaper(void *arg)
{
	struct ptab *t = arg;
	bool stop;

	do {
		struct ptab_file *batch;

		pthread_mutex_lock(&t->reap_lock);
		while (!t->grave && !t->stopping)
			pthread_cond_wait(&t->reap_cond, &t->reap_lock);
		batch = t->grave;
		t->grave = NULL;
		stop = t->stopping && !batch;
		pthread_mutex_unlock(&t->reap_lock);
		if (!batch)
			continue;
		urcu_memb_synchronize_rcu();
		while (batch) {
			struct ptab_file *next = batch->grave_next;

			file_free(batch);
			batch = next;
		}
	} while (!stop);
	return NULL;
}

/*
 * Starts the reclaim thread with every signal blocked, so that the
 * daemon's SIGINT/SIGTERM go to threads that act on them (a signal taken
 * by this thread would not interrupt libfuse's session loop).
 */
static int start_reaper(struct ptab *t)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t->reaper, NULL, reaper, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!err)
		pthread_setname_np(t->reaper, "rdmafs-reclaim");
	return err;
}

struct ptab *ptab_new(const struct ptab_limits *lim)
{
	struct ptab *t;
	int err = reader_init();

	if (err) {
		errno = -err;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (lim)
		t->lim = *lim;
	err = pthread_mutex_init(&t->uid_lock, NULL);
	if (err)
		goto err_free;
	err = pthread_mutex_init(&t->reap_lock, NULL);
	if (err)
		goto err_uid;
	err = pthread_cond_init(&t->reap_cond, NULL);
	if (err)
		goto err_lock;
	/* Auto-resize: the table may grow from a few files to millions. */
	t->ht = cds_lfht_new_flavor(1024, 1024, 0,
				    CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
				    &urcu_memb_flavor, NULL);
	if (!t->ht) {
		err = ENOMEM;
		goto err_cond;
	}
	err = start_reaper(t);
	if (err)
		goto err_ht;
	return t;

err_ht:
	cds_lfht_destroy(t->ht, NULL);
err_cond:
	pthread_cond_destroy(&t->reap_cond);
err_lock:
	pthread_mutex_destroy(&t->reap_lock);
err_uid:
	pthread_mutex_destroy(&t->uid_lock);
err_free:
	free(t);
	errno = err;
	return NULL;
}

void ptab_free(struct ptab *t)
{
	struct cds_lfht_iter iter;
	struct ptab_file *f;

	if (!t)
		return;
	ensure_registered();
	urcu_memb_read_lock();
	for (f = first_file(t, &iter); f; f = next_file(t, &iter)) {
		cds_lfht_del(t->ht, &f->node);
		bury(t, f);
	}
	urcu_memb_read_unlock();
	/* The reaper frees everything buried, then exits. */
	pthread_mutex_lock(&t->reap_lock);
	t->stopping = true;
	pthread_cond_signal(&t->reap_cond);
	pthread_mutex_unlock(&t->reap_lock);
	pthread_join(t->reaper, NULL);
	cds_lfht_destroy(t->ht, NULL);
	pthread_cond_destroy(&t->reap_cond);
	pthread_mutex_destroy(&t->reap_lock);
	pthread_mutex_destroy(&t->uid_lock);
	free(t->uids);
	free(t);
}

static struct ptab_file *lookup(struct ptab *t, uint64_t dev, uint64_t ino)
{
	struct inode_key k = { dev, ino };
	struct cds_lfht_iter iter;

	cds_lfht_lookup(t->ht, inode_hash(dev, ino), inode_match, &k, &iter);
	return node_file(cds_lfht_iter_get_node(&iter));
}

struct ptab_file *ptab_find(struct ptab *t, uint64_t dev, uint64_t ino)
{
	return lookup(t, dev, ino);
}

int ptab_file_lock(struct ptab_file *f)
{
	pthread_mutex_lock(&f->lock);
	if (f->dead) {
		pthread_mutex_unlock(&f->lock);
		return -ENOENT;
	}
	return 0;
}

static struct ptab_file *file_new(struct ptab *t, uint64_t dev, uint64_t ino)
{
	struct ptab_file *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return NULL;
	err = pthread_mutex_init(&f->lock, NULL);
	if (err) {
		free(f);
		errno = err;
		return NULL;
	}
	f->dev = dev;
	f->ino = ino;
	/* The table enforces the per-file limit: loads must pass it. */
	pset_init(&f->set, 0);
	cds_lfht_node_init(&f->node);
	return f;
}

struct ptab_file *ptab_get_or_create(struct ptab *t, uint64_t dev, uint64_t ino)
{
	struct inode_key k = { dev, ino };
	struct ptab_file *f, *new = NULL;

	ensure_registered();
	for (;;) {
		urcu_memb_read_lock();
		f = lookup(t, dev, ino);
		if (!f) {
			struct cds_lfht_node *node;

			if (!new)
				new = file_new(t, dev, ino);
			if (!new) {
				urcu_memb_read_unlock();
				return NULL;
			}
			/* Locked before it is visible: it is empty. */
			pthread_mutex_lock(&new->lock);
			node = cds_lfht_add_unique(t->ht, inode_hash(dev, ino),
						   inode_match, &k, &new->node);
			if (node == &new->node) {
				__atomic_add_fetch(&t->files, 1,
						   __ATOMIC_RELAXED);
				urcu_memb_read_unlock();
				return new;
			}
			pthread_mutex_unlock(&new->lock);
			f = node_file(node);
		}
		pthread_mutex_lock(&f->lock);
		if (!f->dead) {
			urcu_memb_read_unlock();
			/* Never published: no grace period needed. */
			if (new)
				file_free(new);
			return f;
		}
		/* Removed under us; the read section keeps it allocated. */
		pthread_mutex_unlock(&f->lock);
		urcu_memb_read_unlock();
	}
}

void ptab_file_unlock(struct ptab *t, struct ptab_file *f)
{
	size_t n = pset_count(&f->set);

	__atomic_store_n(&f->npins, n, __ATOMIC_RELEASE);
	if (n) {
		pthread_mutex_unlock(&f->lock);
		return;
	}
	/*
	 * Unlinked and marked under the lock, so a thread waiting for the
	 * lock learns it lost the entry; freed only after every reader that
	 * may have found it is done.
	 */
	ensure_registered();
	urcu_memb_read_lock();
	f->dead = true;
	cds_lfht_del(t->ht, &f->node);
	pthread_mutex_unlock(&f->lock);
	urcu_memb_read_unlock();
	__atomic_sub_fetch(&t->files, 1, __ATOMIC_RELAXED);
	bury(t, f);
}

void ptab_file_publish(struct ptab_file *f)
{
	__atomic_store_n(&f->npins, pset_count(&f->set), __ATOMIC_RELEASE);
}

void ptab_file_inode(const struct ptab_file *f, uint64_t *dev, uint64_t *ino)
{
	*dev = f->dev;
	*ino = f->ino;
}

bool ptab_file_tag_differs(const struct ptab_file *f, const void *tag,
			   size_t len)
{
	return f->tag && tag &&
	       (f->tag_len != len || memcmp(f->tag, tag, len) != 0);
}

int ptab_file_set_tag(struct ptab_file *f, const void *tag, size_t len)
{
	void *copy;

	if (!tag || (f->tag && !ptab_file_tag_differs(f, tag, len)))
		return 0;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, tag, len);
	free(f->tag);
	f->tag = copy;
	f->tag_len = len;
	return 0;
}

const struct pset *ptab_file_pins(const struct ptab_file *f)
{
	return &f->set;
}

static struct uid_count *uid_slot(struct uid_count *m, size_t cap, uint32_t uid)
{
	size_t i = (uid * 0x9e3779b1u) & (cap - 1);

	while (m[i].used && m[i].uid != uid)
		i = (i + 1) & (cap - 1);
	return &m[i];
}

/* The count of @uid, created if needed; with uid_lock held. */
static struct uid_count *uid_get(struct ptab *t, uint32_t uid)
{
	struct uid_count *c;
	size_t i;

	if (t->uids) {
		c = uid_slot(t->uids, t->uid_cap, uid);
		if (c->used)
			return c;
	}
	if (!t->uids || 2 * (t->nuids + 1) > t->uid_cap) {
		size_t cap = t->uid_cap ? 2 * t->uid_cap : 16;
		struct uid_count *m = calloc(cap, sizeof(*m));

		if (!m)
			return NULL;
		for (i = 0; i < t->uid_cap; i++)
			if (t->uids[i].used)
				*uid_slot(m, cap, t->uids[i].uid) = t->uids[i];
		free(t->uids);
		t->uids = m;
		t->uid_cap = cap;
	}
	c = uid_slot(t->uids, t->uid_cap, uid);
	c->used = true;
	c->uid = uid;
	c->n = 0;
	t->nuids++;
	return c;
}

/*
 * Counts a pin of @uid about to be added; with @limit, refuses one over
 * the per-user limit (root is exempt).  Returns 0, -ENOSPC or -ENOMEM.
 */
static int uid_charge(struct ptab *t, uint32_t uid, bool limit)
{
	struct uid_count *c;
	int err = 0;

	pthread_mutex_lock(&t->uid_lock);
	c = uid_get(t, uid);
	if (!c)
		err = -ENOMEM;
	else if (limit && uid != 0 && t->lim.pins_per_user &&
		 c->n >= t->lim.pins_per_user)
		err = -ENOSPC;
	else
		c->n++;
	pthread_mutex_unlock(&t->uid_lock);
	return err;
}

static void uid_uncharge(struct ptab *t, uint32_t uid)
{
	struct uid_count *c;

	pthread_mutex_lock(&t->uid_lock);
	c = t->uids ? uid_slot(t->uids, t->uid_cap, uid) : NULL;
	if (c && c->used && c->n)
		c->n--;
	pthread_mutex_unlock(&t->uid_lock);
}

uint64_t ptab_user_pins(struct ptab *t, uint32_t uid)
{
	struct uid_count *c;
	uint64_t n = 0;

	pthread_mutex_lock(&t->uid_lock);
	c = t->uids ? uid_slot(t->uids, t->uid_cap, uid) : NULL;
	if (c && c->used)
		n = c->n;
	pthread_mutex_unlock(&t->uid_lock);
	return n;
}

static int pin_add(struct ptab *t, struct ptab_file *f, const struct pin *p,
		   uint64_t *id, bool limit)
{
	uint64_t n;
	int err;

	if (limit && t->lim.pins_per_file &&
	    pset_count(&f->set) >= t->lim.pins_per_file)
		return -ENOSPC;
	err = uid_charge(t, p->owner, limit);
	if (err)
		return err;
	/* Reserve first, so that concurrent adds never overshoot. */
	n = __atomic_add_fetch(&t->pins, 1, __ATOMIC_RELAXED);
	if (limit && t->lim.pins && n > t->lim.pins)
		err = -ENOSPC;
	else
		err = pset_add(&f->set, p, id);
	if (err) {
		__atomic_sub_fetch(&t->pins, 1, __ATOMIC_RELAXED);
		uid_uncharge(t, p->owner);
	}
	return err;
}

int ptab_pin_add(struct ptab *t, struct ptab_file *f, const struct pin *p,
		 uint64_t *id)
{
	return pin_add(t, f, p, id, true);
}

int ptab_pin_load(struct ptab *t, struct ptab_file *f, const struct pin *p,
		  uint64_t *id)
{
	return pin_add(t, f, p, id, false);
}

int ptab_pin_remove_exact(struct ptab *t, struct ptab_file *f,
			  const struct pin *key, unsigned int flags,
			  struct pin *removed)
{
	struct pin gone;
	int err = pset_remove_exact(&f->set, key, flags, &gone);

	if (!err) {
		__atomic_sub_fetch(&t->pins, 1, __ATOMIC_RELAXED);
		uid_uncharge(t, gone.owner);
		if (removed)
			*removed = gone;
	}
	return err;
}

int ptab_pin_remove_id(struct ptab *t, struct ptab_file *f, uint64_t off,
		       uint64_t id, struct pin *removed)
{
	struct pin gone;
	int err = pset_remove_id(&f->set, off, id, &gone);

	if (!err) {
		__atomic_sub_fetch(&t->pins, 1, __ATOMIC_RELAXED);
		uid_uncharge(t, gone.owner);
		if (removed)
			*removed = gone;
	}
	return err;
}

struct remove_if_ctx {
	struct ptab *t;
	pset_pred_fn pred;
	void *arg;
};

/* The caller's predicate, uncharging each owner whose pin it selects. */
static bool remove_if_pred(const struct pin *p, void *arg)
{
	struct remove_if_ctx *c = arg;

	if (!c->pred(p, c->arg))
		return false;
	uid_uncharge(c->t, p->owner);
	return true;
}

size_t ptab_pin_remove_if(struct ptab *t, struct ptab_file *f,
			  pset_pred_fn pred, void *arg)
{
	struct remove_if_ctx c = { .t = t, .pred = pred, .arg = arg };
	size_t n = pset_remove_if(&f->set, remove_if_pred, &c);

	__atomic_sub_fetch(&t->pins, n, __ATOMIC_RELAXED);
	return n;
}

bool ptab_has_overlap(struct ptab *t, uint64_t dev, uint64_t ino, uint64_t off,
		      uint64_t len)
{
	struct ptab_file *f;
	bool hit = false;

	ensure_registered();
	urcu_memb_read_lock();
	f = lookup(t, dev, ino);
	if (f && __atomic_load_n(&f->npins, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&f->lock);
		hit = !f->dead && pset_any_overlap(&f->set, off, len);
		pthread_mutex_unlock(&f->lock);
	}
	urcu_memb_read_unlock();
	return hit;
}

int ptab_foreach_file(struct ptab *t, ptab_file_fn fn, void *arg)
{
	struct cds_lfht_iter iter;
	struct ptab_file *f;
	int rc = 0;

	ensure_registered();
	urcu_memb_read_lock();
	/* Removing the current node is safe: the section keeps it linked. */
	for (f = first_file(t, &iter); f; f = next_file(t, &iter)) {
		if (ptab_file_lock(f))
			continue;
		rc = fn(t, f, arg);
		ptab_file_unlock(t, f);
		if (rc)
			break;
	}
	urcu_memb_read_unlock();
	return rc;
}

struct holder_sweep {
	int32_t pid;
	uint64_t removed;
};

static bool pin_held_by(const struct pin *p, void *arg)
{
	return p->holder == *(const int32_t *)arg;
}

static int sweep_file(struct ptab *t, struct ptab_file *f, void *arg)
{
	struct holder_sweep *hs = arg;

	hs->removed += ptab_pin_remove_if(t, f, pin_held_by, &hs->pid);
	return 0;
}

uint64_t ptab_remove_holder(struct ptab *t, int32_t pid)
{
	struct holder_sweep hs = { .pid = pid };

	/* 0 is "persistent", not a process: never sweep those. */
	if (pid <= 0)
		return 0;
	ptab_foreach_file(t, sweep_file, &hs);
	return hs.removed;
}

void ptab_get_stats(struct ptab *t, struct ptab_stats *st)
{
	st->pins = __atomic_load_n(&t->pins, __ATOMIC_RELAXED);
	st->files = __atomic_load_n(&t->files, __ATOMIC_RELAXED);
}
