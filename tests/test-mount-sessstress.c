// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * 100 sessions on 100 files under stress (issue 9): 20 holder processes
 * with 5 sessions each, one hold per session on a file of its own;
 * parked truncates (policy=defer, break_timeout=5) on 70 of the files;
 * then, in a random order, holders killed with SIGKILL, holds released,
 * sessions closed, and some left holding until the timeout.  Checked at
 * the end: every parked truncate returned (done where its hold ended,
 * ETXTBSY at the timeout where it did not; a release is followed by its
 * truncate within 1 s), no session pin is left in the listing, the
 * status counts no session and no session pin, and the daemon's open
 * descriptors are back to what they were before (pipes aside: libfuse
 * keeps the worker threads a load started, each with a splice pipe pair,
 * so pipes are held to twice the new threads).
 *
 * The seed is printed (and taken from RDMAFS_STRESS_SEED when set).
 *
 * Also: threads holding and releasing through one session at once, one
 * session holding one range twice (the operation waits for both), and
 * the pin limits: session pins count with the persistent ones
 * (max_pins, max_pins_per_file), and their holders' deaths give the room
 * back, round after round; a holder that is not root reaches the
 * channel, owns its pins and meets its own per-user limit.
 *
 * And the daemon killed: under a live session (the session reports
 * RDMAFS_NOTICE_LOST, holds fail, the new daemon shows the persistent
 * pin and no session pin: nothing of a session is on disk), and 20 times
 * with a hold on its way (it must die at once, never hang in its exit).
 */
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "session-test-util.h"

#define NHOLDERS 20
#define PER 5 /* sessions per holder */
#define NFILES (NHOLDERS * PER)
#define NPARKED 70
#define TIMEOUT_S 5
#define LIMIT_MS 1000
#define FILE_SZ (64 * KIB)

enum fate { F_KILL, F_RELEASE, F_CLOSE, F_KEEP };

/* What @pid's descriptors point to, one "N -> TARGET" a line (to free). */
static char *fd_list(pid_t pid)
{
	int st;

	return harness_run(&st,
			   "cd /proc/%d/fd && for f in *; do "
			   "echo \"$f -> $(readlink $f)\"; done | sort -n",
			   (int)pid);
}

/*
 * @pid's descriptors other than pipes, and its pipes in *@pipes: libfuse
 * gives each worker thread a splice pipe pair, and keeps the threads a
 * load started (idle threads = max_threads), so pipes follow the thread
 * count, not the sessions.
 */
static int fds_but_pipes(pid_t pid, int *pipes)
{
	char dir[64], path[PATH_MAX], to[PATH_MAX];
	struct dirent *e;
	int n = 0;
	DIR *d;

	*pipes = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		ssize_t k;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		k = readlink(path, to, sizeof(to) - 1);
		to[k > 0 ? k : 0] = '\0';
		if (!strncmp(to, "pipe:", 5))
			(*pipes)++;
		else
			n++;
	}
	closedir(d);
	return n;
}

static int threads_of(pid_t pid)
{
	char path[64], line[256];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Descriptors back to @base (+-2), pipes only for new worker threads. */
static bool fds_back(int base, int base_pipes, int base_thr)
{
	int pipes, n = fds_but_pipes(M.daemon, &pipes);

	return abs(n - base) <= 2 &&
	       pipes - base_pipes <= 2 * (threads_of(M.daemon) - base_thr) + 2;
}

static void stress_setup(void)
{
	own_mount("policy=defer,break_timeout=5", "stress");
}

START_TEST(test_stress)
{
	static struct holder h[NHOLDERS];
	static struct breaker b[NPARKED];
	static uint64_t id[NFILES];
	static int fate[NFILES];
	static int64_t ended[NFILES]; /* mono_ns() when its hold ended */
	static int order[NHOLDERS * PER];
	const char *env = getenv("RDMAFS_STRESS_SEED");
	unsigned int seed =
		env ? (unsigned int)atoi(env) : (unsigned int)time(NULL);
	int64_t start = mono_ns();
	int base_fd, base_pipes, base_thr, pipes, i, j, k, done = 0, busy = 0;
	char *base_list, *end_list;
	long long sess0, sess;
	double worst = 0;
	char rel[32];

	printf("sessstress: seed %u\n", seed);
	ck_assert_int_eq(mkdir(mp("st"), 0777), 0);
	for (i = 0; i < NFILES; i++) {
		snprintf(rel, sizeof(rel), "st/f%03d", i);
		sess_file(rel, 16 * KIB);
	}
	base_fd = fds_but_pipes(M.daemon, &base_pipes);
	base_thr = threads_of(M.daemon);
	base_list = fd_list(M.daemon);
	sess0 = status_num("sessions");

	/* the sessions and their holds; each file's fate */
	for (i = 0; i < NHOLDERS; i++) {
		bool killed = rand_r(&seed) % 10 < 3;

		holder_start(&h[i], "sess-stress");
		for (j = 0; j < PER; j++) {
			k = i * PER + j;
			ck_assert_int_eq(h_open(&h[i], j), 0);
			snprintf(rel, sizeof(rel), "st/f%03d", k);
			id[k] = h_hold(&h[i], j, rel, 0, 4096);
			fate[k] =
				killed ? F_KILL : 1 + (int)(rand_r(&seed) % 3);
		}
	}
	ck_assert_int_eq(listed_holds(0, NULL), NFILES);
	sess = status_num("sessions");
	printf("sessstress: %d sessions held in %.0f ms; status sessions=%lld, "
	       "daemon descriptors %d before, %d now\n",
	       NFILES, ns_ms(mono_ns() - start), sess, base_fd + base_pipes,
	       fd_count(M.daemon));
	if (sess >= 0)
		ck_assert_int_eq(sess, sess0 + NFILES);

	/* truncates parked on the first NPARKED files */
	for (k = 0; k < NPARKED; k++) {
		snprintf(rel, sizeof(rel), "st/f%03d", k);
		breaker_start(&b[k], B_TRUNC, mp(rel), 0, 0, 0, "sess-breaker");
	}
	nap_ms(300);
	for (k = 0; k < NPARKED; k++)
		ck_assert_msg(!breaker_wait(&b[k], 0), "f%03d not parked", k);

	/* holds end in a random order: kills, releases, closes */
	for (i = 0; i < NFILES; i++)
		order[i] = i;
	for (i = NFILES - 1; i > 0; i--) {
		j = (int)(rand_r(&seed) % (unsigned int)(i + 1));
		k = order[i];
		order[i] = order[j];
		order[j] = k;
	}
	for (i = 0; i < NFILES; i++) {
		struct h_rep r;

		k = order[i];
		switch (fate[k]) {
		case F_KILL:
			if (!h[k / PER].dead) {
				int64_t t = mono_ns();

				holder_kill(&h[k / PER]);
				for (j = 0; j < PER; j++)
					ended[k / PER * PER + j] = t;
			}
			break;
		case F_RELEASE:
			r = hcall(&h[k / PER], (struct h_cmd){ .op = H_RELEASE,
							       .sess = k % PER,
							       .hold = id[k] });
			ck_assert_int_eq(r.rc, 0);
			ended[k] = r.t0;
			break;
		case F_CLOSE:
			r = hcall(&h[k / PER],
				  (struct h_cmd){ .op = H_CLOSE,
						  .sess = k % PER });
			ended[k] = r.t0;
			break;
		default:
			break;
		}
		if (rand_r(&seed) % 8 == 0)
			nap_ms(rand_r(&seed) % 20);
	}

	/* every parked truncate returns: done, or ETXTBSY at the timeout */
	for (k = 0; k < NPARKED; k++) {
		ck_assert_msg(breaker_wait(&b[k], (TIMEOUT_S + 10) * 1000),
			      "truncate of f%03d never returned", k);
		if (fate[k] == F_KEEP) {
			ck_assert_int_eq(b[k].err, ETXTBSY);
			busy++;
			continue;
		}
		ck_assert_msg(b[k].err == 0, "f%03d: %s", k,
			      strerror(b[k].err));
		done++;
		if (ns_ms(b[k].t1 - ended[k]) > worst)
			worst = ns_ms(b[k].t1 - ended[k]);
		ck_assert_msg(ns_ms(b[k].t1 - ended[k]) < LIMIT_MS,
			      "f%03d done %.1f ms after its hold ended", k,
			      ns_ms(b[k].t1 - ended[k]));
	}
	printf("sessstress: %d truncates done (worst %.2f ms after the hold "
	       "ended), %d timed out with ETXTBSY\n",
	       done, worst, busy);

	/* the rest end: half exit, half are killed */
	for (i = 0; i < NHOLDERS; i++) {
		if (h[i].dead)
			continue;
		if (i % 2) {
			hcall(&h[i], (struct h_cmd){ .op = H_EXIT });
			holder_reap(&h[i], 5000);
		} else {
			holder_kill(&h[i]);
		}
	}
	ck_assert(wait_holds_gone(0, mono_ns(), 2000) >= 0);
	for (i = 0; i < 200; i++) {
		sess = status_num("sessions");
		if ((sess < 0 || sess == sess0) &&
		    fds_back(base_fd, base_pipes, base_thr))
			break;
		nap_ms(10);
	}
	k = fds_but_pipes(M.daemon, &pipes);
	printf("sessstress: at the end: status sessions=%lld, daemon "
	       "descriptors %d + %d pipes, %d threads (before: %d + %d pipes, "
	       "%d threads); %.1f s in all\n",
	       sess, k, pipes, threads_of(M.daemon), base_fd, base_pipes,
	       base_thr, ns_ms(mono_ns() - start) / 1e3);
	if (sess >= 0)
		ck_assert_int_eq(sess, sess0);
	if (!fds_back(base_fd, base_pipes, base_thr)) {
		end_list = fd_list(M.daemon);
		printf("sessstress: daemon descriptors before:\n%s\nafter:\n%s\n",
		       base_list, end_list);
		fflush(stdout);
		free(end_list);
	}
	ck_assert(fds_back(base_fd, base_pipes, base_thr));
	free(base_list);
	if (status_num("session_pins") >= 0)
		ck_assert_int_eq(status_num("session_pins"), 0);
	/* and the mount works as before */
	ck_assert_int_eq(truncate(mp("st/f099"), 0), 0);
}
END_TEST

/* ================= threads ================= */

#define STORM_THREADS 8
#define STORM_ROUNDS 100

struct storm {
	struct rdmafs_session *s;
	int fd, idx, errors, first;
};

static void *storm_thread(void *arg)
{
	struct storm *t = arg;
	struct rdmafs_range r = R((uint64_t)t->idx * 4096, 4096);
	struct rdmafs_notice n;
	int i, rc;

	for (i = 0; i < STORM_ROUNDS; i++) {
		rdmafs_hold_t h = 0;

		rc = rdmafs_session_hold(t->s, t->fd, &r, &h);
		if (!rc)
			rc = rdmafs_session_release(t->s, h);
		/* a reader of notices among them: there are none */
		if (!rc && rdmafs_session_next_notice(t->s, &n) != -EAGAIN)
			rc = -EPROTO;
		if (rc && !t->errors++)
			t->first = rc;
	}
	return NULL;
}

/* In the holder: threads hold and release through one session at once. */
static void fn_storm(struct h_state *st, const struct h_cmd *c, struct h_rep *r)
{
	struct storm t[STORM_THREADS];
	pthread_t th[STORM_THREADS];
	int fd = open(c->path, O_RDWR | O_CLOEXEC), i;

	for (i = 0; i < STORM_THREADS; i++) {
		t[i] = (struct storm){ st->s[0], fd, i, 0, 0 };
		pthread_create(&th[i], NULL, storm_thread, &t[i]);
	}
	for (i = 0; i < STORM_THREADS; i++) {
		pthread_join(th[i], NULL);
		r->rc += t[i].errors;
		if (!r->rc2)
			r->rc2 = t[i].first;
	}
	close(fd);
}

START_TEST(test_thread_storm)
{
	struct h_cmd c = { .op = H_FN, .fn = fn_storm };
	struct holder h;
	struct h_rep r;

	sess_file("storm", 64 * KIB);
	holder_start(&h, "sess-storm");
	ck_assert_int_eq(h_open(&h, 0), 0);
	snprintf(c.path, sizeof(c.path), "%s", mp("storm"));
	r = hcall(&h, c);
	printf("sessstress: %d threads x %d hold+release on one session: "
	       "%.0f ms, %d errors (first %d)\n",
	       STORM_THREADS, STORM_ROUNDS, ns_ms(r.t1 - r.t0), r.rc, r.rc2);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(listed_holds(h.pid, NULL), 0);
	ck_assert_int_eq(truncate(mp("storm"), 0), 0);
	holder_kill(&h);
}
END_TEST

/* One session holding one range twice: the op waits for both releases. */
START_TEST(test_double_hold)
{
	struct holder h;
	struct breaker b;
	struct h_rep r;
	uint64_t a, x;

	sess_file("twice", 64 * KIB);
	holder_start(&h, "sess-twice");
	ck_assert_int_eq(h_open(&h, 0), 0);
	a = h_hold(&h, 0, "twice", 0, 4096);
	x = h_hold(&h, 0, "twice", 0, 4096);
	ck_assert_uint_ne(a, x);
	ck_assert_int_eq(listed_holds(h.pid, "twice"), 2);
	breaker_start(&b, B_TRUNC, mp("twice"), 0, 0, 0, "sess-breaker");
	ck_assert_int_eq(h_notice(&h, 0, 5000).rc, 0);
	ck_assert_int_eq(h_notice(&h, 0, 1000).rc, 0);
	ck_assert_int_eq(h_release(&h, 0, a), 0);
	ck_assert(!breaker_wait(&b, 300));
	r = hcall(&h, (struct h_cmd){ .op = H_RELEASE, .hold = x });
	ck_assert_int_eq(r.rc, 0);
	ck_assert(breaker_wait(&b, LIMIT_MS));
	ck_assert_int_eq(b.err, 0);
	ck_assert(ns_ms(b.t1 - r.t0) < LIMIT_MS);
	holder_kill(&h);
}
END_TEST

/* ================= limits ================= */

static void limits_setup(void)
{
	own_mount("max_pins=6,max_pins_per_file=3", "limits");
}

/*
 * Session pins count against the mount's pin limits with the persistent
 * ones, and stop counting when their holder dies: a limit never leaks.
 */
START_TEST(test_limits)
{
	struct holder h, h2;
	uint64_t id;
	int round;

	dir_m("lim");
	sess_file("lim/a", 64 * KIB);
	sess_file("lim/b", 64 * KIB);
	sess_file("lim/c", 64 * KIB);
	for (round = 0; round < 3; round++) {
		holder_start(&h, "sess-limits");
		ck_assert_int_eq(h_open(&h, 0), 0);
		h_hold(&h, 0, "lim/a", 0, 4096);
		h_hold(&h, 0, "lim/a", 4096, 4096);
		id = h_hold(&h, 0, "lim/a", 8192, 4096);
		ck_assert_int_eq(
			h_hold_f(&h, 0, "lim/a", 12288, 4096, O_RDWR, NULL),
			-ENOSPC);
		/* a persistent pin meets the same count */
		ck_assert_int_eq(pin(mp("lim/a"), "16384+4096"), ENOSPC);
		ck_assert_int_eq(h_release(&h, 0, id), 0);
		ck_assert_int_eq(pin(mp("lim/a"), "16384+4096"), 0);
		ck_assert_int_eq(
			h_hold_f(&h, 0, "lim/a", 8192, 4096, O_RDWR, NULL),
			-ENOSPC);
		/* the mount-wide limit, across sessions and processes */
		holder_start(&h2, "sess-limits2");
		ck_assert_int_eq(h_open(&h2, 0), 0);
		h_hold(&h2, 0, "lim/b", 0, 4096);
		h_hold(&h2, 0, "lim/b", 4096, 4096);
		h_hold(&h, 0, "lim/b", 8192, 4096);
		ck_assert_int_eq(
			h_hold_f(&h2, 0, "lim/c", 0, 4096, O_RDWR, NULL),
			-ENOSPC);
		/* deaths give the room back: every round starts the same */
		holder_kill(&h);
		holder_kill(&h2);
		ck_assert(wait_holds_gone(0, mono_ns(), 2000) >= 0);
		ck_assert_int_eq(unpin(mp("lim/a"), "all"), 0);
		holder_start(&h, "sess-limits");
		ck_assert_int_eq(h_open(&h, 0), 0);
		h_hold(&h, 0, "lim/c", 0, 4096);
		h_hold(&h, 0, "lim/c", 4096, 4096);
		h_hold(&h, 0, "lim/c", 8192, 4096);
		holder_kill(&h);
		ck_assert(wait_holds_gone(0, mono_ns(), 2000) >= 0);
	}
}
END_TEST

/* ================= another user ================= */

static void user_setup(void)
{
	own_mount("max_pins_per_user=2", "user");
}

/* In the holder: becomes TEST_UID, with no groups. */
static void fn_become_user(struct h_state *st, const struct h_cmd *c,
			   struct h_rep *r)
{
	(void)st;
	(void)c;
	if (setgroups(0, NULL) || setresgid(TEST_GID, TEST_GID, TEST_GID) ||
	    setresuid(TEST_UID, TEST_UID, TEST_UID))
		r->rc = -errno;
}

/*
 * A holder that is not root: the channel is open to it, its pins are
 * its own (owner=UID) and count against its per-user limit, not root's;
 * its death gives the room back.
 */
START_TEST(test_other_user)
{
	struct holder h;
	char want[64], *raw;
	int round;

	dir_m("u");
	sess_file("u/a", 64 * KIB);
	sess_file("u/b", 64 * KIB);
	sess_file("u/c", 64 * KIB);
	for (round = 0; round < 2; round++) {
		holder_start(&h, "sess-user");
		ck_assert_int_eq(
			hcall(&h, (struct h_cmd){ .op = H_FN,
						  .fn = fn_become_user })
				.rc,
			0);
		ck_assert_int_eq(h_open(&h, 0), 0);
		h_hold(&h, 0, "u/a", 0, 4096);
		h_hold(&h, 0, "u/b", 0, 4096);
		ck_assert_int_eq(h_hold_f(&h, 0, "u/c", 0, 4096, O_RDWR, NULL),
				 -ENOSPC);
		/* root's own pins are not counted with the user's */
		ck_assert_int_eq(pin(mp("u/c"), "0+4096"), 0);
		ck_assert_int_eq(pin(mp("u/c"), "4096+4096"), 0);
		raw = root_xattr(PINS);
		snprintf(want, sizeof(want), "u/a 0+4096 owner=%d holder=%d ",
			 TEST_UID, (int)h.pid);
		ck_assert_msg(strstr(raw, want), "no '%s' in %s", want, raw);
		free(raw);
		/* a file it may only read: no hold */
		ck_assert_int_eq(chmod(mp("u/c"), 0644), 0);
		ck_assert_int_eq(h_hold_f(&h, 0, "u/c", 0, 1, O_RDWR, NULL),
				 -1000 - EACCES);
		ck_assert_int_eq(chmod(mp("u/c"), 0666), 0);
		holder_kill(&h);
		ck_assert(wait_holds_gone(0, mono_ns(), 2000) >= 0);
		ck_assert_int_eq(unpin(mp("u/c"), "all"), 0);
	}
}
END_TEST

/* ================= the daemon killed ================= */

/* Aborts FUSE connection @n (fusectl, mounted if it is not). */
static void abort_conn(unsigned int n)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%u/abort", n);
	if (access(path, F_OK) < 0)
		mount("fusectl", "/sys/fs/fuse/connections", "fusectl", 0,
		      NULL);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			perror(path);
		close(fd);
	}
}

/*
 * Kills the daemon (SIGKILL), reaps it and detaches its dead mount; *@ms
 * how long it took to die.  A daemon that dies with a descriptor of a
 * file of its own mount open never finishes dying: its exit closes that
 * file, and the kernel's FLUSH (fuse_flush in do_exit) waits for an
 * answer from the dying daemon itself, while the FUSE device that would
 * abort the connection is released only after it.  Then (after 2 s) the
 * daemon's stacks are printed, the connection is aborted through fusectl
 * so that nothing stays stuck, and -EDEADLK is returned.
 */
static int crash_daemon(double *ms)
{
	int64_t t0 = mono_ns();
	struct stat st;
	int status, err = 0;

	ck_assert_int_eq(stat(M.mountpoint, &st), 0);
	ck_assert_int_eq(kill(M.daemon, SIGKILL), 0);
	while (waitpid(M.daemon, &status, WNOHANG) == 0) {
		if (ns_ms(mono_ns() - t0) > 2000) {
			char *stack = harness_run(
				&status,
				"for t in /proc/%d/task/*; do cat $t/comm "
				"$t/stack; done 2>&1 | head -40",
				(int)M.daemon);

			printf("sessstress: the killed daemon is stuck:\n%s",
			       stack);
			fflush(stdout);
			free(stack);
			abort_conn(minor(st.st_dev));
			waitpid(M.daemon, &status, 0);
			err = -EDEADLK;
			break;
		}
		nap_ms(1);
	}
	*ms = ns_ms(mono_ns() - t0);
	M.daemon = -1;
	umount2(M.mountpoint, MNT_DETACH);
	return err;
}

START_TEST(test_daemon_restart)
{
	struct rdmafs_range pr = R(8192, 4096);
	struct h_cmd reopen = { .op = H_OPEN, .sess = 1, .flags = 1 };
	struct holder h;
	struct h_rep r;
	uint64_t id;
	double ms;
	int fd;

	own_mount(NULL, "restart");
	sess_file("f", FILE_SZ);
	fd = open_m("f", O_RDWR);
	ck_assert_int_eq(rdmafs_pin(fd, &pr, 1, 0), 0);
	close(fd);
	holder_start(&h, "sess-holder");
	ck_assert_int_eq(h_open(&h, 0), 0);
	id = h_hold(&h, 0, "f", 0, 4096);
	ck_assert_int_eq(listed_holds(h.pid, "f"), 1);

	ck_assert_int_eq(crash_daemon(&ms), 0);
	printf("sessstress: daemon killed: reaped after %.2f ms\n", ms);
	r = h_notice(&h, 0, 5000);
	ck_assert_msg(r.rc == 0, "no notice of the loss: %s", strerror(-r.rc));
	printf("sessstress: daemon killed -> holder told after %.2f ms, flags %#x\n",
	       ns_ms(r.t1 - r.t0), r.nt.flags);
	ck_assert(r.nt.flags & RDMAFS_NOTICE_LOST);
	ck_assert_int_lt(h_release(&h, 0, id), 0);

	ck_assert_int_eq(mnt_start(&M, NULL), 0);
	ck_assert_int_lt(h_hold_f(&h, 0, "f", 0, 4096, O_RDWR, &id), 0);
	/* not on disk: the persistent pin came back, the session pin didn't */
	ck_assert_int_eq(listed_persistent("f"), 1);
	ck_assert_int_eq(listed_holds(0, NULL), 0);
	ck_assert_int_eq(truncate(mp("f"), 16 * KIB), 0);
	/* a new session on the new daemon works */
	snprintf(reopen.path, sizeof(reopen.path), "%s", M.mountpoint);
	ck_assert_int_eq(hcall(&h, reopen).rc, 0);
	h_hold(&h, 1, "f", 0, 4096);
	ck_assert_int_eq(listed_holds(h.pid, "f"), 1);
	ck_assert_int_eq(truncate(mp("f"), 2048), -1);
	ck_assert_int_eq(errno, ETXTBSY);
	holder_kill(&h);
	mnt_teardown(&M);
}
END_TEST

/*
 * The daemon killed while holds are on their way (a HOLD carries a
 * descriptor of a file of the mount into the daemon), 20 times: it must
 * die at once every time, and the holder be told of the loss.
 */
START_TEST(test_crash_during_hold)
{
	struct h_cmd hold = { .op = H_HOLD, .flags = O_RDWR, .b = 4096 };
	struct h_cmd reopen = { .op = H_OPEN, .flags = 1 };
	unsigned int seed = (unsigned int)getpid();
	struct holder h;
	struct h_rep r;
	int i, n = 0, stuck = 0, held = 0;
	double ms, worst = 0;

	own_mount(NULL, "crash");
	sess_file("f", 64 * KIB);
	holder_start(&h, "sess-holder");
	for (i = 0; i < 20; i++) {
		n++;
		snprintf(reopen.path, sizeof(reopen.path), "%s", M.mountpoint);
		ck_assert_int_eq(hcall(&h, reopen).rc, 0);
		snprintf(hold.path, sizeof(hold.path), "%s", mp("f"));
		hsend(&h, &hold);
		usleep(rand_r(&seed) % 1500);
		/* the stacks of three stuck daemons say enough */
		if (crash_daemon(&ms) && ++stuck == 3)
			i = 19;
		worst = ms > worst ? ms : worst;
		r = hwait(&h, 10000);
		held += r.rc == 0;
		r = h_notice(&h, 0, 5000);
		ck_assert_int_eq(r.rc, 0);
		ck_assert(r.nt.flags & RDMAFS_NOTICE_LOST);
		ck_assert_int_eq(mnt_start(&M, NULL), 0);
	}
	printf("sessstress: daemon killed with a hold on its way: %d kills "
	       "(%d held before the kill), %d stuck in their exit, slowest "
	       "death %.1f ms\n",
	       n, held, stuck, worst);
	fflush(stdout);
	ck_assert_int_eq(stuck, 0);
	ck_assert_int_eq(listed_holds(0, NULL), 0);
	holder_kill(&h);
	mnt_teardown(&M);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount-sessstress");
	TCase *tc = tcase_create("stress");
	SRunner *sr;
	int failed;

	harness_require_root_fuse();
	umask(022);
	leftovers_init("sessstress");
	tcase_add_unchecked_fixture(tc, stress_setup, teardown);
	tcase_add_test(tc, test_stress);
	tcase_add_test(tc, test_thread_storm);
	tcase_add_test(tc, test_double_hold);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_unchecked_fixture(tc, limits_setup, teardown);
	tcase_add_test(tc, test_limits);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("user");
	tcase_add_unchecked_fixture(tc, user_setup, teardown);
	tcase_add_test(tc, test_other_user);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("crash");
	tcase_add_test(tc, test_daemon_restart);
	tcase_add_test(tc, test_crash_during_hold);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup_leftovers(leftovers);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
