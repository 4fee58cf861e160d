// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reqcount: how many FUSE requests each file operation costs.
 *
 *   reqcount -t TRACEDIR [-n N] [-p SECONDS] [-o PHASES] DIR
 *   reqcount -l LOGFILE  [-n N] [-p SECONDS] [-o PHASES] DIR
 *
 * Runs each phase N times in DIR (a directory on a FUSE mount) and prints
 * one line per phase:
 *
 *   PHASE N TOTAL_PER_OP OPCODE=PER_OP ...
 *
 * Counting, only around the operations themselves (the set-up of a phase
 * is not counted):
 *
 *   -t: a tracefs instance (reqcount.sh makes it) whose fuse_request_send
 *       event is filtered to the mount's connection: tracing is switched
 *       on and off around the phase and the events are read back.  The
 *       kernel traces every request it queues, except FORGET and
 *       BATCH_FORGET, which take a queue of their own.
 *   -l: the daemon's -d output, appended to LOGFILE: the lines libfuse
 *       prints for each request it reads ("unique: 5, opcode: LOOKUP
 *       (1), ...") between the file's sizes before and after the phase,
 *       each taken once the file has stopped growing.  FORGETs included.
 *
 * -p sleeps SECONDS (untimed, uncounted) before the phases marked
 * "pause" below, longer than a default entry and attribute timeout of
 * 1 s, so that those operations see what a cold kernel cache costs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPCODES 64
#define IO_SIZE 4096
#define LIST_ENTRIES 1000

static const char *tracedir, *logfile;
static unsigned long n_ops = 1000;
static double pause_s = 1.5;
static int dfd = -1;
static unsigned long counts[MAX_OPCODES];
static char names[MAX_OPCODES][24];
static off_t log_start;

static void die(const char *what)
{
	fprintf(stderr, "reqcount: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		die(path);
	if (write(fd, val, strlen(val)) < 0)
		die(path);
	close(fd);
}

static off_t log_size(void)
{
	struct stat st;

	if (stat(logfile, &st) < 0)
		die(logfile);
	return st.st_size;
}

/* The log's size once it stopped growing for 300 ms. */
static off_t log_settled(void)
{
	off_t a = log_size(), b;

	for (;;) {
		sleep_s(0.3);
		b = log_size();
		if (a == b)
			return b;
		a = b;
	}
}

static void count_begin(void)
{
	memset(counts, 0, sizeof(counts));
	if (tracedir) {
		write_file(tracedir, "trace", "");
		write_file(tracedir, "tracing_on", "1");
	} else {
		log_start = log_settled();
	}
}

static void count_one(unsigned int op, const char *name, size_t len)
{
	if (op >= MAX_OPCODES)
		return;
	counts[op]++;
	if (!names[op][0]) {
		if (len >= sizeof(names[op]))
			len = sizeof(names[op]) - 1;
		memcpy(names[op], name, len);
	}
}

/* "... opcode 1 (FUSE_LOOKUP) len 44" */
static void parse_trace_line(const char *line)
{
	const char *p = strstr(line, "opcode "), *q;
	unsigned int op;

	if (!p || sscanf(p, "opcode %u (", &op) != 1)
		return;
	p = strchr(p, '(');
	q = p ? strchr(p, ')') : NULL;
	if (!q)
		return;
	p++;
	if (strncmp(p, "FUSE_", 5) == 0)
		p += 5;
	count_one(op, p, (size_t)(q - p));
}

/* "unique: 5, opcode: LOOKUP (1), nodeid: 1, ..." */
static void parse_log_line(const char *line)
{
	const char *p = strstr(line, "opcode: "), *q;
	unsigned int op;

	if (!p)
		return;
	p += 8;
	q = strchr(p, ' ');
	if (!q || sscanf(q, " (%u)", &op) != 1)
		return;
	count_one(op, p, (size_t)(q - p));
}

static void count_end(void)
{
	char *line = NULL, path[512];
	size_t cap = 0;
	FILE *f;

	if (tracedir) {
		/* Releases and the like are sent after the call returns. */
		sleep_s(0.3);
		write_file(tracedir, "tracing_on", "0");
		snprintf(path, sizeof(path), "%s/trace", tracedir);
		f = fopen(path, "re");
		if (!f)
			die(path);
		while (getline(&line, &cap, f) > 0) {
			unsigned long in, written;

			if (sscanf(line,
				   "# entries-in-buffer/entries-written: %lu/%lu",
				   &in, &written) == 2 &&
			    in != written)
				fprintf(stderr,
					"reqcount: trace buffer overran (%lu of %lu kept): raise buffer_size_kb\n",
					in, written);
			if (line[0] != '#')
				parse_trace_line(line);
		}
	} else {
		off_t end = log_settled(), pos;

		f = fopen(logfile, "re");
		if (!f || fseeko(f, log_start, SEEK_SET) < 0)
			die(logfile);
		pos = log_start;
		while (pos < end && getline(&line, &cap, f) > 0) {
			pos += (off_t)strlen(line);
			parse_log_line(line);
		}
	}
	free(line);
	fclose(f);
}

static void report(const char *phase, unsigned long ops)
{
	unsigned long total = 0;
	int i;

	for (i = 0; i < MAX_OPCODES; i++)
		total += counts[i];
	printf("%s %lu %.2f", phase, ops, (double)total / ops);
	for (i = 0; i < MAX_OPCODES; i++)
		if (counts[i])
			printf(" %s=%.2f", names[i], (double)counts[i] / ops);
	printf("\n");
	fflush(stdout);
}

static void name_of(char *buf, size_t len, const char *prefix, unsigned long i)
{
	snprintf(buf, len, "%s%06lu", prefix, i);
}

/* One operation of a phase on item @i; 0 or -errno. */
typedef int (*op_fn)(unsigned long i);

static int op_create(unsigned long i)
{
	char n[32];
	int fd;

	name_of(n, sizeof(n), "c/f", i);
	fd = openat(dfd, n, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

static int op_stat(unsigned long i)
{
	struct stat st;
	char n[32];

	name_of(n, sizeof(n), "c/f", i);
	return fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int op_chmod(unsigned long i)
{
	char n[32];

	name_of(n, sizeof(n), "c/f", i);
	return fchmodat(dfd, n, 0600, 0) < 0 ? -errno : 0;
}

static int op_touch(unsigned long i)
{
	char n[32];

	name_of(n, sizeof(n), "c/f", i);
	return utimensat(dfd, n, NULL, 0) < 0 ? -errno : 0;
}

static int op_open(unsigned long i)
{
	char n[32];
	int fd;

	name_of(n, sizeof(n), "c/f", i);
	fd = openat(dfd, n, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

static int op_rename(unsigned long i)
{
	char a[32], b[32];

	name_of(a, sizeof(a), "c/f", i);
	name_of(b, sizeof(b), "c/g", i);
	return renameat(dfd, a, dfd, b) < 0 ? -errno : 0;
}

static int op_unlink(unsigned long i)
{
	char n[32];

	name_of(n, sizeof(n), "c/g", i);
	return unlinkat(dfd, n, 0) < 0 ? -errno : 0;
}

static int op_mkdir(unsigned long i)
{
	char n[32];

	name_of(n, sizeof(n), "c/d", i);
	return mkdirat(dfd, n, 0755) < 0 ? -errno : 0;
}

static int op_rmdir(unsigned long i)
{
	char n[32];

	name_of(n, sizeof(n), "c/d", i);
	return unlinkat(dfd, n, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int io_fd = -1;
static char io_buf[IO_SIZE];

static int op_write(unsigned long i)
{
	ssize_t n = pwrite(io_fd, io_buf, IO_SIZE, (off_t)(i * IO_SIZE));

	return n == IO_SIZE ? 0 : n < 0 ? -errno : -EIO;
}

static int op_read(unsigned long i)
{
	ssize_t n = pread(io_fd, io_buf, IO_SIZE, (off_t)(i * IO_SIZE));

	return n == IO_SIZE ? 0 : n < 0 ? -errno : -EIO;
}

/* Lists r/ (LIST_ENTRIES files); with @stat_each, stats each (ls -l). */
static int list_dir(bool stat_each)
{
	int fd = openat(dfd, "r", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned long seen = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		seen++;
		if (stat_each &&
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			closedir(d);
			return -errno;
		}
	}
	closedir(d);
	return seen == LIST_ENTRIES ? 0 : -EIO;
}

static int op_list(unsigned long i)
{
	return list_dir(false);
}

static int op_list_stat(unsigned long i)
{
	return list_dir(true);
}

static int run(const char *phase, op_fn fn, unsigned long ops, bool pause)
{
	unsigned long i;
	int err;

	if (pause)
		sleep_s(pause_s);
	count_begin();
	for (i = 0; i < ops; i++) {
		err = fn(i);
		if (err) {
			fprintf(stderr, "reqcount: %s %lu: %s\n", phase, i,
				strerror(-err));
			exit(2);
		}
	}
	count_end();
	report(phase, ops);
	return 0;
}

static bool wanted(const char *list, const char *phase)
{
	size_t len = strlen(phase);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, phase))) {
		if ((p == list || p[-1] == ',') &&
		    (p[len] == ',' || p[len] == '\0'))
			return true;
		p += len;
	}
	return false;
}

static void setup_list_dir(void)
{
	unsigned long i;
	char n[32];
	int fd;

	if (mkdirat(dfd, "r", 0755) < 0 && errno != EEXIST)
		die("mkdir r");
	for (i = 0; i < LIST_ENTRIES; i++) {
		name_of(n, sizeof(n), "r/e", i);
		fd = openat(dfd, n, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			die(n);
		close(fd);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: reqcount (-t TRACEDIR | -l LOGFILE) [-n N] [-p SECONDS] [-o PHASES] DIR\n");
	exit(1);
}

int main(int argc, char *argv[])
{
	const char *only = NULL;
	unsigned long lists;
	int c;

	while ((c = getopt(argc, argv, "t:l:n:p:o:")) != -1) {
		switch (c) {
		case 't':
			tracedir = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'n':
			n_ops = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			pause_s = strtod(optarg, NULL);
			break;
		case 'o':
			only = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || !tracedir == !logfile || !n_ops)
		usage();
	dfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die(argv[optind]);
	if (mkdirat(dfd, "c", 0755) < 0)
		die("mkdir c (use an empty directory)");
	setup_list_dir();
	lists = n_ops / 100 ? n_ops / 100 : 1;

	/* In this order: each phase works on what the one before left. */
	if (wanted(only, "create"))
		run("create", op_create, n_ops, false);
	if (wanted(only, "stat"))
		run("stat", op_stat, n_ops, false);
	if (wanted(only, "stat_pause"))
		run("stat_pause", op_stat, n_ops, true);
	if (wanted(only, "chmod"))
		run("chmod", op_chmod, n_ops, true);
	if (wanted(only, "touch"))
		run("touch", op_touch, n_ops, false);
	if (wanted(only, "open_close"))
		run("open_close", op_open, n_ops, false);
	if (wanted(only, "rename"))
		run("rename", op_rename, n_ops, true);
	if (wanted(only, "unlink"))
		run("unlink", op_unlink, n_ops, true);
	if (wanted(only, "mkdir"))
		run("mkdir", op_mkdir, n_ops, false);
	if (wanted(only, "rmdir"))
		run("rmdir", op_rmdir, n_ops, true);

	io_fd = openat(dfd, "io", O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (io_fd < 0)
		die("io");
	memset(io_buf, 'x', sizeof(io_buf));
	if (wanted(only, "write_4k"))
		run("write_4k", op_write, n_ops, false);
	close(io_fd);
	io_fd = openat(dfd, "io", O_RDONLY | O_CLOEXEC);
	if (io_fd < 0)
		die("io");
	if (wanted(only, "read_4k"))
		run("read_4k", op_read, n_ops, false);
	close(io_fd);

	if (wanted(only, "readdir"))
		run("readdir", op_list, lists, true);
	if (wanted(only, "readdir_stat"))
		run("readdir_stat", op_list_stat, 1, true);
	return 0;
}
