// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Breaks of session pins against a real mount (DESIGN §3 break and
 * break_kill, §5 holders in the audit trail, §6; issue 9), with real
 * holder processes and real signals:
 *
 *  break (break_timeout=2): a holder that ignores its notice has its hold
 *  revoked at the timeout (a REVOKED notice naming it), and the truncate
 *  is performed; a holder that releases on the notice lets it proceed at
 *  once.
 *
 *  kill (break, break_timeout=2, break_kill, audit_log): of two holders
 *  of one range, the one that ignores is SIGKILLed at the timeout (its
 *  wait status says so) and its pins are gone, the one that released in
 *  time lives; the ignorer's own child, which shares nothing with its
 *  session, and a holder of another file live on; the audit trail's
 *  break record names the truncating process, the holders told, the one
 *  released and the one killed (pid, comm, why), read with json-c; a
 *  holder whose forked child kept the session's descriptor is killed
 *  alone, and its session ends with it; a stopped holder is killed too.
 *
 *  The break case also breaks a hold for an unlink of the file's last
 *  name (REVOKED notice with op unlink), tells a punch with its class and
 *  range, and checks that a session's owner is its process: the thread
 *  that opened it may exit, the session lives on until the process dies;
 *  and that EDEADLK is for the holder's thread group only: its forked
 *  child's truncate parks and is told like anyone's.
 */
#include <json-c/json.h>

#include "session-test-util.h"

#define LIMIT_MS 1000
#define FILE_SZ (64 * KIB)

static char logdir[] = "/tmp/rdmafs-sessbreak.XXXXXX";
static char logpath[PATH_MAX];

static void break_setup(void)
{
	own_mount("policy=break,break_timeout=2", "break");
}

static void kill_setup(void)
{
	char opts[PATH_MAX + 64];

	ck_assert_ptr_nonnull(mkdtemp(logdir));
	snprintf(logpath, sizeof(logpath), "%s/audit.jsonl", logdir);
	snprintf(opts, sizeof(opts),
		 "policy=break,break_timeout=2,break_kill,audit_log=%s",
		 logpath);
	own_mount(opts, "kill");
}

static void kill_teardown(void)
{
	teardown();
	unlink(logpath);
	rmdir(logdir);
}

/* ================= break ================= */

START_TEST(test_break_revokes)
{
	struct holder h;
	struct breaker b;
	struct h_rep r;
	uint64_t id;
	double ms;

	dir_m("rv");
	sess_file("rv/f", FILE_SZ);
	holder_start(&h, "sess-ignorer");
	ck_assert_int_eq(h_open(&h, 0), 0);
	id = h_hold(&h, 0, "rv/f", 0, 8192);
	breaker_start(&b, B_TRUNC, mp("rv/f"), 4096, 0, 0, "sess-breaker");
	ck_assert(!breaker_wait(&b, 1000));
	ck_assert(breaker_wait(&b, 10000));
	ms = ns_ms(b.t1 - b.t0);
	printf("sessbreak: ignored notice: truncate performed after %.0f ms "
	       "(break_timeout 2 s)\n",
	       ms);
	ck_assert_int_eq(b.err, 0);
	ck_assert(ms >= 1500 && ms < 2000 + 3000);
	ck_assert(holder_alive(&h));
	ck_assert_int_eq(listed_holds(h.pid, NULL), 0);

	/* the notice, then the revocation of the same hold */
	r = h_notice(&h, 0, 1000);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.nt.hold, id);
	ck_assert_uint_eq(r.nt.flags, 0);
	ck_assert_int_eq(r.nt.op, RDMAFS_TRUNCATE);
	r = h_notice(&h, 0, 1000);
	ck_assert_msg(r.rc == 0, "no REVOKED notice: %s", strerror(-r.rc));
	printf("sessbreak: revoked notice: hold %" PRIu64 " flags %#x pid %d "
	       "comm '%s'\n",
	       r.nt.hold, r.nt.flags, (int)r.nt.pid, r.nt.comm);
	ck_assert_uint_eq(r.nt.hold, id);
	ck_assert(r.nt.flags & RDMAFS_NOTICE_REVOKED);
	ck_assert(!(r.nt.flags & RDMAFS_NOTICE_LOST));
	ck_assert_int_eq(r.nt.pid, b.pid);
	/* the hold is gone; the session goes on */
	ck_assert_int_lt(h_release(&h, 0, id), 0);
	sess_file("rv/g", FILE_SZ);
	id = h_hold(&h, 0, "rv/g", 0, 4096);
	ck_assert_int_eq(h_release(&h, 0, id), 0);
	holder_kill(&h);
}
END_TEST

/* The file's last name wanted: an unlink breaks the hold the same way. */
START_TEST(test_break_unlink)
{
	struct holder h;
	struct breaker b;
	struct h_rep r;
	uint64_t id;

	dir_m("ul");
	sess_file("ul/f", FILE_SZ);
	holder_start(&h, "sess-ignorer");
	ck_assert_int_eq(h_open(&h, 0), 0);
	id = h_hold(&h, 0, "ul/f", 0, 0);
	breaker_start(&b, B_UNLINK, mp("ul/f"), 0, 0, 0, "sess-unlinker");
	ck_assert(!breaker_wait(&b, 1000));
	ck_assert(breaker_wait(&b, 10000));
	printf("sessbreak: ignored notice: unlink performed after %.0f ms\n",
	       ns_ms(b.t1 - b.t0));
	ck_assert_int_eq(b.err, 0);
	ck_assert_int_eq(access(mp("ul/f"), F_OK), -1);
	ck_assert_int_eq(listed_holds(h.pid, NULL), 0);
	r = h_notice(&h, 0, 1000);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.nt.op, RDMAFS_UNLINK);
	ck_assert_uint_eq(r.nt.flags, 0);
	r = h_notice(&h, 0, 1000);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(r.nt.hold, id);
	ck_assert(r.nt.flags & RDMAFS_NOTICE_REVOKED);
	ck_assert_int_eq(r.nt.op, RDMAFS_UNLINK);
	ck_assert(holder_alive(&h));
	holder_kill(&h);
}
END_TEST

START_TEST(test_break_release_in_time)
{
	struct holder h;
	struct breaker b;
	struct h_rep r;
	double ms;

	dir_m("rt");
	sess_file("rt/f", FILE_SZ);
	holder_start(&h, "sess-releaser");
	ck_assert_int_eq(h_open(&h, 0), 0);
	h_hold(&h, 0, "rt/f", 0, 8192);
	breaker_start(&b, B_TRUNC, mp("rt/f"), 0, 0, 0, "sess-breaker");
	r = hcall(&h, (struct h_cmd){ .op = H_ON_NOTICE, .timeout_ms = 5000 });
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.rc2, 0);
	ck_assert(breaker_wait(&b, 5000));
	ms = ns_ms(b.t1 - r.t0);
	printf("sessbreak: release -> breaking truncate done: %.2f ms\n", ms);
	ck_assert_int_eq(b.err, 0);
	ck_assert(ms < LIMIT_MS);
	/* no revocation for a hold released in time */
	ck_assert_int_eq(h_notice(&h, 0, 300).rc, -EAGAIN);
	ck_assert(holder_alive(&h));
	holder_kill(&h);
}
END_TEST

/* A punch is told with its own class and range. */
START_TEST(test_break_punch_notice)
{
	struct holder h;
	struct breaker b;
	struct h_rep r;

	dir_m("pn");
	sess_file("pn/f", FILE_SZ);
	holder_start(&h, "sess-releaser");
	ck_assert_int_eq(h_open(&h, 0), 0);
	h_hold(&h, 0, "pn/f", 0, 16384);
	breaker_start(&b, B_PUNCH, mp("pn/f"), 4096, 8192, 0, "sess-puncher");
	r = hcall(&h, (struct h_cmd){ .op = H_ON_NOTICE, .timeout_ms = 5000 });
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.nt.op, RDMAFS_PUNCH);
	ck_assert_uint_eq(r.nt.range.offset, 4096);
	ck_assert_uint_eq(r.nt.range.length, 8192);
	ck_assert_str_eq(r.nt.comm, "sess-puncher");
	ck_assert_int_eq(r.rc2, 0);
	ck_assert(breaker_wait(&b, LIMIT_MS));
	ck_assert_int_eq(b.err, 0);
	holder_kill(&h);
}
END_TEST

static void *thread_open(void *arg)
{
	struct h_state *st = arg;
	intptr_t rc = rdmafs_mount_open(M.mountpoint, &st->m);

	if (!rc)
		rc = rdmafs_session_open(st->m, 0, &st->s[0]);
	return (void *)rc;
}

/* In the holder: opens session 0 in a thread, which then exits. */
static void fn_thread_open(struct h_state *st, const struct h_cmd *c,
			   struct h_rep *r)
{
	pthread_t t;
	void *rc;

	(void)c;
	r->rc = -pthread_create(&t, NULL, thread_open, st);
	if (!r->rc && !pthread_join(t, &rc))
		r->rc = (int)(intptr_t)rc;
}

/*
 * The session's owner is the process, not the thread that opened it:
 * that thread's exit ends nothing; the process's does.
 */
START_TEST(test_thread_owner)
{
	struct holder h;
	uint64_t id;
	double ms;

	dir_m("th");
	sess_file("th/f", FILE_SZ);
	holder_start(&h, "sess-threads");
	ck_assert_int_eq(
		hcall(&h, (struct h_cmd){ .op = H_FN, .fn = fn_thread_open })
			.rc,
		0);
	id = h_hold(&h, 0, "th/f", 0, 4096);
	nap_ms(300);
	ck_assert_int_eq(listed_holds(h.pid, "th/f"), 1);
	ck_assert_int_eq(h_release(&h, 0, id), 0);
	h_hold(&h, 0, "th/f", 0, 4096);
	kill(h.pid, SIGKILL);
	ms = wait_holds_gone(h.pid, mono_ns(), 5000);
	ck_assert(ms >= 0 && ms < LIMIT_MS);
	holder_reap(&h, 5000);
}
END_TEST

/*
 * In the holder: a forked child truncates .path to .a while the holder
 * waits for the notice and releases.  rc: the notice's, rc2: the child's
 * errno, pid2: the child, t0: the release, t1: the child's return.
 */
static void fn_child_truncate(struct h_state *st, const struct h_cmd *c,
			      struct h_rep *r)
{
	int64_t res[2] = { -1, 0 };
	int p[2];

	if (pipe(p) < 0) {
		r->rc = -errno;
		return;
	}
	r->pid2 = fork();
	if (r->pid2 == 0) {
		res[0] = truncate(c->path, c->a) < 0 ? errno : 0;
		res[1] = mono_ns();
		h_writeall(p[1], res, sizeof(res));
		_exit(0);
	}
	close(p[1]);
	r->rc = h_wait_notice(st->s[0], 5000, &r->nt);
	r->t0 = mono_ns();
	if (!r->rc)
		rdmafs_session_release(st->s[0], r->nt.hold);
	h_readall(p[0], res, sizeof(res));
	close(p[0]);
	waitpid(r->pid2, NULL, 0);
	r->rc2 = (int)res[0];
	r->t1 = res[1];
}

/* EDEADLK is for the holder's own thread group: its child just waits. */
START_TEST(test_child_not_deadlock)
{
	struct h_cmd c = { .op = H_FN, .fn = fn_child_truncate, .a = 0 };
	struct holder h;
	struct h_rep r;

	dir_m("cd");
	sess_file("cd/f", FILE_SZ);
	holder_start(&h, "sess-parent");
	ck_assert_int_eq(h_open(&h, 0), 0);
	h_hold(&h, 0, "cd/f", 0, 4096);
	snprintf(c.path, sizeof(c.path), "%s", mp("cd/f"));
	r = hcall(&h, c);
	ck_assert_msg(r.rc == 0, "no notice of the child's truncate: %s",
		      strerror(-r.rc));
	ck_assert_int_eq(r.nt.pid, r.pid2);
	ck_assert_int_eq(r.rc2, 0);
	printf("sessbreak: the holder's child's truncate: done %.2f ms after "
	       "the release\n",
	       ns_ms(r.t1 - r.t0));
	ck_assert(r.t1 >= r.t0 && ns_ms(r.t1 - r.t0) < LIMIT_MS);
	holder_kill(&h);
}
END_TEST

/* ================= break_kill ================= */

/* A stopped holder is killed all the same (SIGKILL needs no running). */
START_TEST(test_kill_stopped)
{
	struct holder h;
	struct breaker b;
	int st;

	dir_m("sp");
	sess_file("sp/f", FILE_SZ);
	holder_start(&h, "sess-stopped");
	ck_assert_int_eq(h_open(&h, 0), 0);
	h_hold(&h, 0, "sp/f", 0, 4096);
	ck_assert_int_eq(kill(h.pid, SIGSTOP), 0);
	breaker_start(&b, B_TRUNC, mp("sp/f"), 0, 0, 0, "sess-breaker");
	ck_assert(breaker_wait(&b, 10000));
	ck_assert_int_eq(b.err, 0);
	st = holder_reap(&h, 5000);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "stopped holder's wait status %#x", st);
	ck_assert_int_eq(listed_holds(0, NULL), 0);
}
END_TEST

static bool proc_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		alive = p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return alive;
}

/* The first JSON line of @path whose event, op and path match. */
static json_object *audit_find(const char *event, const char *op,
			       const char *rel)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(logpath, "re");
	json_object *hit = NULL;

	if (!f)
		return NULL;
	while (!hit && getline(&line, &cap, f) > 0) {
		json_object *o = json_tokener_parse(line), *v;

		if (o && json_object_object_get_ex(o, "event", &v) &&
		    !strcmp(json_object_get_string(v), event) &&
		    json_object_object_get_ex(o, "op", &v) &&
		    !strcmp(json_object_get_string(v), op) &&
		    json_object_object_get_ex(o, "path", &v) &&
		    json_object_get_string(v) &&
		    !strcmp(json_object_get_string(v), rel)) {
			hit = o;
			printf("sessbreak: audit: %s", line);
		} else if (o) {
			json_object_put(o);
		}
	}
	free(line);
	fclose(f);
	return hit;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(o && json_object_object_get_ex(o, key, &v),
		      "no member %s", key);
	return v;
}

/* The entry of @pid in holders.@list, or NULL. */
static json_object *holder_in(json_object *rec, const char *list, pid_t pid)
{
	json_object *a = member(member(rec, "holders"), list);
	size_t i;

	ck_assert(json_object_is_type(a, json_type_array));
	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (json_object_get_int(member(e, "pid")) == pid)
			return e;
	}
	return NULL;
}

START_TEST(test_kill_ignorer)
{
	struct holder ig, rl, by;
	struct breaker b;
	struct h_rep r, child;
	json_object *rec = NULL, *e;
	int64_t t, t0;
	int st, i;

	dir_m("k");
	sess_file("k/f", FILE_SZ);
	sess_file("k/other", FILE_SZ);
	holder_start(&ig, "sess-ignorer");
	holder_start(&rl, "sess-releaser");
	holder_start(&by, "sess-bystander");
	/* a child forked before any session: it shares none of it */
	child = hcall(&ig, (struct h_cmd){ .op = H_CHILD });
	ck_assert_int_gt(child.pid2, 0);
	ck_assert_int_eq(h_open(&ig, 0), 0);
	ck_assert_int_eq(h_open(&rl, 0), 0);
	ck_assert_int_eq(h_open(&by, 0), 0);
	h_hold(&ig, 0, "k/f", 8192, 8192);
	h_hold(&ig, 0, "k/f", 32 * KIB, 4096);
	h_hold(&rl, 0, "k/f", 8192, 8192);
	h_hold(&by, 0, "k/other", 0, 8192);

	t0 = mono_ns();
	breaker_start(&b, B_TRUNC, mp("k/f"), 4096, 0, TEST_UID,
		      "sess-breaker");
	hsend(&rl, &(struct h_cmd){ .op = H_ON_NOTICE, .timeout_ms = 5000 });
	r = hwait(&rl, 10000);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(r.rc2, 0);
	ck_assert(!breaker_wait(&b, 500));

	/* the ignorer dies by SIGKILL at the timeout; the truncate goes on */
	st = holder_reap(&ig, 10000);
	t = mono_ns();
	printf("sessbreak: ignorer killed %.0f ms after the truncate began "
	       "(break_timeout 2 s)\n",
	       ns_ms(t - t0));
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "ignorer's wait status %#x", st);
	ck_assert(ns_ms(t - t0) >= 1500);
	ck_assert(breaker_wait(&b, 5000));
	printf("sessbreak: truncate performed %.0f ms after it began, %.2f ms "
	       "after the kill was seen\n",
	       ns_ms(b.t1 - b.t0), ns_ms(b.t1 - t));
	ck_assert_int_eq(b.err, 0);
	ck_assert_int_eq(listed_holds(ig.pid, NULL), 0);
	ck_assert_int_eq(listed_holds(0, "k/f"), 0);

	/* nobody else died */
	ck_assert(holder_alive(&rl));
	ck_assert(holder_alive(&by));
	ck_assert(proc_alive(child.pid2));
	ck_assert_int_eq(listed_holds(by.pid, "k/other"), 1);
	ck_assert_int_eq(hcall(&rl, (struct h_cmd){ .op = H_DRAIN }).rc, 0);
	kill(child.pid2, SIGKILL);

	/* the audit trail: who broke it, who was told, released, killed */
	for (i = 0; i < 200 && !rec; i++) {
		rec = audit_find("break", "truncate", "k/f");
		if (!rec)
			nap_ms(10);
	}
	ck_assert_msg(rec, "no break record for k/f in %s", logpath);
	ck_assert_int_eq(
		json_object_get_int(member(member(rec, "process"), "pid")),
		b.pid);
	ck_assert_str_eq(
		json_object_get_string(member(member(rec, "process"), "comm")),
		"sess-breaker");
	ck_assert_int_eq(
		json_object_get_int(member(member(rec, "process"), "uid")),
		TEST_UID);
	ck_assert_ptr_nonnull(holder_in(rec, "told", ig.pid));
	ck_assert_ptr_nonnull(holder_in(rec, "told", rl.pid));
	ck_assert_ptr_null(holder_in(rec, "told", by.pid));
	e = holder_in(rec, "released", rl.pid);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_object_get_string(member(e, "comm")),
			 "sess-releaser");
	ck_assert_ptr_null(holder_in(rec, "killed", rl.pid));
	e = holder_in(rec, "killed", ig.pid);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_object_get_string(member(e, "comm")),
			 "sess-ignorer");
	ck_assert_ptr_nonnull(json_object_get_string(member(e, "why")));
	ck_assert_int_gt(strlen(json_object_get_string(member(e, "why"))), 0);
	ck_assert_ptr_null(holder_in(rec, "released", ig.pid));
	json_object_put(rec);
	holder_kill(&rl);
	holder_kill(&by);
}
END_TEST

/* In the holder: a truncate of .path to .a on a thread of its own. */
static volatile int self_trunc_rc = 1;

static void *self_trunc(void *arg)
{
	const char *path = arg;

	self_trunc_rc = truncate(path, 4096) < 0 ? -errno : 0;
	return NULL;
}

static void fn_self_trunc(struct h_state *st, const struct h_cmd *c,
			  struct h_rep *r)
{
	static char path[PATH_MAX];
	pthread_t t;

	(void)st;
	snprintf(path, sizeof(path), "%s", c->path);
	r->rc = -pthread_create(&t, NULL, self_trunc, path);
	if (!r->rc)
		pthread_detach(t);
}

static void fn_self_result(struct h_state *st, const struct h_cmd *c,
			   struct h_rep *r)
{
	(void)st;
	(void)c;
	r->rc = self_trunc_rc;
}

/*
 * A process whose truncate parked behind another holder, and that then
 * holds the range itself (too late for EDEADLK): at the timeout it is
 * not killed for waiting on itself; its pin is revoked and its own
 * truncate goes on.
 */
START_TEST(test_kill_not_self)
{
	struct h_cmd c = { .op = H_FN, .fn = fn_self_trunc };
	struct holder self, other;
	struct h_rep r;
	uint64_t oid;
	int i;

	dir_m("ns");
	sess_file("ns/f", FILE_SZ);
	holder_start(&self, "sess-self");
	holder_start(&other, "sess-other");
	ck_assert_int_eq(h_open(&self, 0), 0);
	ck_assert_int_eq(h_open(&other, 0), 0);
	oid = h_hold(&other, 0, "ns/f", 8192, 8192);
	snprintf(c.path, sizeof(c.path), "%s", mp("ns/f"));
	ck_assert_int_eq(hcall(&self, c).rc, 0);
	nap_ms(200); /* parked behind the other holder */
	h_hold(&self, 0, "ns/f", 8192, 4096);
	/* the other releases: only the process's own late pin is left */
	ck_assert_int_eq(h_release(&other, 0, oid), 0);
	holder_kill(&other);
	for (i = 0; i < 500; i++) {
		r = hcall(&self,
			  (struct h_cmd){ .op = H_FN, .fn = fn_self_result });
		if (r.rc != 1)
			break;
		nap_ms(10);
	}
	printf("sessbreak: own late hold: truncate %d, holder alive %d\n", r.rc,
	       holder_alive(&self));
	ck_assert_int_eq(r.rc, 0);
	ck_assert(holder_alive(&self));
	ck_assert_int_eq(listed_holds(self.pid, "ns/f"), 0);
	holder_kill(&self);
}
END_TEST

/*
 * The owner is killed, not the child that inherited its session's
 * descriptor (a pidfd names the owner); the session ends with the owner.
 */
START_TEST(test_kill_owner_not_child)
{
	struct h_cmd c = { .op = H_FORKTRY, .a = 0, .b = 4096 };
	struct holder h;
	struct breaker b;
	struct h_rep r;
	int st;

	dir_m("oc");
	sess_file("oc/f", FILE_SZ);
	holder_start(&h, "sess-owner");
	ck_assert_int_eq(h_open(&h, 0), 0);
	c.hold = h_hold(&h, 0, "oc/f", 0, 8192);
	snprintf(c.path, sizeof(c.path), "%s", mp("oc/f"));
	r = hcall(&h, c);
	ck_assert_int_gt(r.pid2, 0);
	ck_assert_int_eq(r.rc, -EPERM);
	breaker_start(&b, B_TRUNC, mp("oc/f"), 0, 0, 0, "sess-breaker");
	st = holder_reap(&h, 10000);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert(breaker_wait(&b, 5000));
	ck_assert_int_eq(b.err, 0);
	ck_assert_int_eq(listed_holds(0, NULL), 0);
	ck_assert_msg(proc_alive(r.pid2), "the owner's child died too");
	kill(r.pid2, SIGKILL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-sessbreak");
	TCase *br = tcase_create("break"), *kl = tcase_create("kill");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	leftovers_init("sessbreak");

	tcase_add_unchecked_fixture(br, break_setup, teardown);
	tcase_add_test(br, test_break_revokes);
	tcase_add_test(br, test_break_unlink);
	tcase_add_test(br, test_break_release_in_time);
	tcase_add_test(br, test_break_punch_notice);
	tcase_add_test(br, test_thread_owner);
	tcase_add_test(br, test_child_not_deadlock);
	tcase_set_timeout(br, 60);
	suite_add_tcase(s, br);

	tcase_add_unchecked_fixture(kl, kill_setup, kill_teardown);
	tcase_add_test(kl, test_kill_ignorer);
	tcase_add_test(kl, test_kill_owner_not_child);
	tcase_add_test(kl, test_kill_not_self);
	tcase_add_test(kl, test_kill_stopped);
	tcase_set_timeout(kl, 60);
	suite_add_tcase(s, kl);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
