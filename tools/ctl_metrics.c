// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl metrics: the mount's status (rdmafs_mount_status()) as
 * Prometheus metrics, text exposition format 0.0.4, for node_exporter's
 * textfile collector (doc/rdmafsctl.1.rst lists them).
 *
 * Every sample is one status key's value, never a number made up here:
 * a key the daemon does not send (an older daemon, or pins=unknown)
 * leaves its metric out, and keys this command does not know are
 * ignored.  The text is built in memory and written in one go, so what
 * reaches the output is whole or nothing; a timer moves it into the
 * collector's directory with a rename.  When the status cannot be read,
 * the text is rdmafs_up 0 alone, and the exit status says why (1, or 3
 * when MOUNT is not on an rdmafs mount), so that a scrape still sees
 * the mount and that it is down.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdmafs/rdmafs.h"
#include "ctl.h"
#include "core/strbuf.h"

const char ctl_metrics_help[] =
	"Prints the status of the rdmafs mount MOUNT as Prometheus metrics\n"
	"(text format 0.0.4), every sample labelled mountpoint=\"MOUNT\" (as\n"
	"given), for node_exporter's textfile collector.  The output is\n"
	"complete or empty: write it to a temporary file and rename it into\n"
	"the collector's directory.  When the status cannot be read it is\n"
	"rdmafs_up 0 alone, and the exit status is 1 (3: not on an rdmafs\n"
	"mount).\n\n"
	"  -h, --help   show this help\n";

static const char up_help[] =
	"Whether the mount's status could be read (1) or not (0).";

/* A plain status key read as one sample of its own family. */
struct simple {
	const char *key;
	const char *name;
	const char *type;
	const char *help;
};

static const struct simple gauges[] = {
	{ "pins", "rdmafs_pins", "gauge",
	  "Pins in the mount that the reader may see (root: all)." },
	{ "files_pinned", "rdmafs_files_pinned", "gauge",
	  "Files with at least one pin that the reader may see." },
	{ "session_pins", "rdmafs_session_pins", "gauge",
	  "Pins held by live sessions." },
	{ "sessions", "rdmafs_sessions", "gauge", "Open sessions." },
	{ "holders", "rdmafs_holders", "gauge",
	  "Sessions holding at least one pin." },
	{ "parked", "rdmafs_parked_requests", "gauge",
	  "Layout changes waiting for pins to go (defer, break)." },
	{ "max_pins", "rdmafs_max_pins", "gauge",
	  "Limit: pins in the mount (0: none)." },
	{ "max_pins_per_file", "rdmafs_max_pins_per_file", "gauge",
	  "Limit: pins per file (0: none)." },
	{ "max_pins_per_user", "rdmafs_max_pins_per_user", "gauge",
	  "Limit: pins per user (0: none)." },
	{ "break_timeout", "rdmafs_break_timeout_seconds", "gauge",
	  "How long a deferred or breaking request waits at most." },
	{ "break_kill", "rdmafs_break_kill", "gauge",
	  "Whether holders that do not release in time are killed (1)." },
};

static const struct simple counters[] = {
	{ "notified", "rdmafs_notices_total", "counter",
	  "Holders told that a request wants their range." },
	{ "killed", "rdmafs_kills_total", "counter",
	  "Holders killed by break_kill." },
	{ "passthrough_files", "rdmafs_passthrough_files_total", "counter",
	  "Backing files registered for kernel passthrough." },
	{ "passthrough_refused", "rdmafs_passthrough_refused_total", "counter",
	  "Passthrough registrations the kernel refused." },
};

/* What every sample carries: the mountpoint label, escaped. */
struct out {
	struct sbuf b;
	char *mnt;
};

/*
 * Plain decimal, as the daemon writes its counts: no sign, no leading
 * zero (two spellings of one bucket would be two series), and within 64
 * bits (strtoull() would saturate).
 */
static bool is_count(const char *s)
{
	size_t n = strlen(s);
	char *end;

	if (!n || n > 20 || strspn(s, "0123456789") != n ||
	    (n > 1 && s[0] == '0'))
		return false;
	errno = 0;
	strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static uint64_t count_of(const char *s)
{
	return strtoull(s, NULL, 10);
}

/*
 * The length of the valid UTF-8 character at @s (of @n bytes), or 0: the
 * format wants UTF-8 label values, and a path may be any bytes.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return len;
}

/*
 * A label value: backslash, double quote and newline escaped as the
 * format says; a byte that is not UTF-8 becomes U+FFFD.
 */
static void put_label_value(struct sbuf *b, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v), k;

	while (n) {
		if (*s == '\\' || *s == '"') {
			sbuf_add(b, "\\", 1);
			sbuf_add(b, s, 1);
			k = 1;
		} else if (*s == '\n') {
			sbuf_puts(b, "\\n");
			k = 1;
		} else if ((k = utf8_len(s, n))) {
			sbuf_add(b, s, k);
		} else {
			sbuf_puts(b, "\xef\xbf\xbd");
			k = 1;
		}
		s += k;
		n -= k;
	}
}

static char *escape_label(const char *v)
{
	struct sbuf b = SBUF_INIT;

	put_label_value(&b, v);
	if (sbuf_err(&b)) {
		sbuf_free(&b);
		return NULL;
	}
	return b.buf ? b.buf : strdup("");
}

static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	sbuf_printf(&o->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		    type);
}

/*
 * One sample: NAME{mountpoint="...",LABELS} VALUE, where @labels is
 * NULL or pairs of name and (raw) value ending with a NULL name.
 */
static void sample(struct out *o, const char *name, const char *const *labels,
		   const char *value)
{
	sbuf_printf(&o->b, "%s{mountpoint=\"%s\"", name, o->mnt);
	for (; labels && labels[0]; labels += 2) {
		sbuf_printf(&o->b, ",%s=\"", labels[0]);
		put_label_value(&o->b, labels[1]);
		sbuf_puts(&o->b, "\"");
	}
	sbuf_printf(&o->b, "} %s\n", value);
}

static const char *get(const struct rdmafs_status *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->nfields; i++)
		if (!strcmp(st->fields[i].key, key))
			return st->fields[i].value;
	return NULL;
}

static void simple(struct out *o, const struct rdmafs_status *st,
		   const struct simple *s)
{
	const char *v = get(st, s->key);

	if (!v || !is_count(v))
		return;
	family(o, s->name, s->type, s->help);
	sample(o, s->name, NULL, v);
}

static void info(struct out *o, const struct rdmafs_status *st)
{
	static const char *const keys[] = { "version", "libfuse", "data_path",
					    "transport" };
	const char *labels[2 * 4 + 1];
	size_t i, n = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = get(st, keys[i]);

		if (v) {
			labels[n++] = keys[i];
			labels[n++] = v;
		}
	}
	labels[n] = NULL;
	family(o, "rdmafs_info", "gauge",
	       "The daemon's version, its libfuse, data path and transport.");
	sample(o, "rdmafs_info", labels, "1");
}

/* The action of each class (status keys truncate=, punch=, ...). */
static void policy(struct out *o, const struct rdmafs_status *st)
{
	const char *labels[5] = { "class", NULL, "action", NULL, NULL };
	bool head = false;
	int c;

	for (c = 0; c < RDMAFS_NCLASSES; c++) {
		labels[1] = rdmafs_class_name((enum rdmafs_class)c);
		labels[3] = get(st, labels[1]);
		if (!labels[3])
			continue;
		if (!head)
			family(o, "rdmafs_policy", "gauge",
			       "The action of each operation class (1).");
		head = true;
		sample(o, "rdmafs_policy", labels, "1");
	}
}

/*
 * A counter labelled from keys PREFIX.A[.B]: decided.CLASS.ACTION
 * (two labels) or deferred.OUTCOME (one).
 */
static int labelled(struct out *o, const struct rdmafs_status *st,
		    const char *prefix, const char *l1, const char *l2,
		    const char *name, const char *help)
{
	size_t plen = strlen(prefix), i;
	bool head = false;

	for (i = 0; i < st->nfields; i++) {
		const struct rdmafs_field *f = &st->fields[i];
		const char *labels[5] = { l1, NULL, l2, NULL, NULL };
		char *a, *dot;

		if (strncmp(f->key, prefix, plen) || !f->key[plen] ||
		    !is_count(f->value))
			continue;
		a = strdup(f->key + plen);
		if (!a)
			return -ENOMEM;
		dot = strchr(a, '.');
		labels[1] = a;
		if (l2 && dot && dot[1] && !strchr(dot + 1, '.')) {
			*dot = '\0';
			labels[3] = dot + 1;
		} else if (l2 || dot) {
			free(a);
			continue; /* not of this family's form */
		}
		if (!head)
			family(o, name, "counter", help);
		head = true;
		sample(o, name, labels, f->value);
		free(a);
	}
	return 0;
}

/* Milliseconds as seconds in decimal ("0.001", "60", "1.5"). */
static void seconds(uint64_t ms, char *buf, size_t size)
{
	char frac[8];
	int i;

	snprintf(frac, sizeof(frac), "%03u", (unsigned int)(ms % 1000));
	for (i = 2; i >= 0 && frac[i] == '0'; i--)
		frac[i] = '\0';
	snprintf(buf, size, "%llu%s%s", (unsigned long long)(ms / 1000),
		 frac[0] ? "." : "", frac);
}

struct bucket {
	uint64_t le_ms;
	const char *count;
};

static int by_le(const void *a, const void *b)
{
	const struct bucket *x = a, *y = b;

	return x->le_ms < y->le_ms ? -1 : x->le_ms > y->le_ms;
}

/*
 * rdmafs_wait_seconds from wait_ms_bucket.LE (cumulative already),
 * wait_ms_sum and wait_ms_count; left out whole unless all are there
 * with the +Inf bucket ("inf"): never half a histogram.
 */
static int histogram(struct out *o, const struct rdmafs_status *st)
{
	static const char prefix[] = "wait_ms_bucket.";
	const char *sum = get(st, "wait_ms_sum");
	const char *cnt = get(st, "wait_ms_count");
	const char *inf = NULL, *labels[3] = { "le", NULL, NULL };
	struct bucket *bk;
	size_t i, n = 0;
	char le[32];

	if (!sum || !cnt || !is_count(sum) || !is_count(cnt))
		return 0;
	bk = calloc(st->nfields, sizeof(*bk));
	if (!bk)
		return -ENOMEM;
	for (i = 0; i < st->nfields; i++) {
		const struct rdmafs_field *f = &st->fields[i];
		const char *k = f->key + strlen(prefix);

		if (strncmp(f->key, prefix, strlen(prefix)) ||
		    !is_count(f->value))
			continue;
		if (!strcmp(k, "inf")) {
			inf = f->value;
		} else if (is_count(k)) {
			bk[n].le_ms = count_of(k);
			bk[n++].count = f->value;
		}
	}
	if (!inf) {
		free(bk);
		return 0;
	}
	qsort(bk, n, sizeof(*bk), by_le);
	/*
	 * A histogram the format's readers reject (a bucket repeated, counts
	 * going down, +Inf not the count) is left out, not passed on.
	 */
	for (i = 0; i < n; i++) {
		if ((i && bk[i].le_ms == bk[i - 1].le_ms) ||
		    count_of(bk[i].count) > (i + 1 < n
						     ? count_of(bk[i + 1].count)
						     : count_of(inf))) {
			free(bk);
			return 0;
		}
	}
	if (count_of(inf) != count_of(cnt)) {
		free(bk);
		return 0;
	}
	family(o, "rdmafs_wait_seconds", "histogram",
	       "How long parked requests waited, until answered.");
	for (i = 0; i < n; i++) {
		seconds(bk[i].le_ms, le, sizeof(le));
		labels[1] = le;
		sample(o, "rdmafs_wait_seconds_bucket", labels, bk[i].count);
	}
	labels[1] = "+Inf";
	sample(o, "rdmafs_wait_seconds_bucket", labels, inf);
	seconds(count_of(sum), le, sizeof(le));
	sample(o, "rdmafs_wait_seconds_sum", NULL, le);
	sample(o, "rdmafs_wait_seconds_count", NULL, cnt);
	free(bk);
	return 0;
}

static int metrics(struct out *o, const struct rdmafs_status *st)
{
	const char *pins = get(st, "pins");
	size_t i;
	int err;

	family(o, "rdmafs_up", "gauge", up_help);
	sample(o, "rdmafs_up", NULL, "1");
	info(o, st);
	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		simple(o, st, &gauges[i]);
	if (pins) {
		family(o, "rdmafs_pins_unknown", "gauge",
		       "1 when the daemon could not count the pins.");
		sample(o, "rdmafs_pins_unknown", NULL,
		       strcmp(pins, "unknown") ? "0" : "1");
	}
	policy(o, st);
	err = labelled(
		o, st, "decided.", "class", "action", "rdmafs_decisions_total",
		"Layout changes that met a pin (or could not be checked: refused), by class and action.");
	if (!err)
		err = labelled(o, st, "deferred.", "outcome", NULL,
			       "rdmafs_deferred_outcomes_total",
			       "What became of parked requests.");
	for (i = 0; !err && i < sizeof(counters) / sizeof(counters[0]); i++)
		simple(o, st, &counters[i]);
	if (!err)
		err = histogram(o, st);
	return err ? err : sbuf_err(&o->b);
}

/* All of it at once, or nothing (a failed write: ferror, then exit 1). */
static int emit(struct out *o)
{
	if (sbuf_err(&o->b))
		return ctl_fail(sbuf_err(&o->b), "format the metrics");
	fwrite(sbuf_str(&o->b), 1, o->b.len, stdout);
	return ctl_finish_output();
}

int ctl_cmd_metrics(const struct subcommand *cmd, int argc, char **argv)
{
	struct out o = { SBUF_INIT, NULL };
	struct rdmafs_status *st = NULL;
	struct rdmafs_mount *m;
	const char *mnt;
	struct ctl_args a;
	int ret, err;

	ret = ctl_parse_args(cmd, argc, argv, 0, 1, 1, "one MOUNT", &a);
	if (ret >= 0)
		return ret;
	mnt = a.pos[0];
	o.mnt = escape_label(mnt);
	if (!o.mnt)
		return ctl_fail(-ENOMEM, "format the metrics");
	err = rdmafs_mount_open(mnt, &m);
	if (!err) {
		err = rdmafs_mount_status(m, &st);
		rdmafs_mount_close(m);
	}
	if (!err) {
		ret = metrics(&o, st);
		rdmafs_status_free(st);
		ret = ret ? ctl_fail(ret, "format the metrics") : emit(&o);
	} else {
		/* Still a scrape's worth: the mount, and that it is down. */
		family(&o, "rdmafs_up", "gauge", up_help);
		sample(&o, "rdmafs_up", NULL, "0");
		ret = emit(&o);
		err = ctl_fail(err, "read the status of %s", mnt);
		ret = ret ? ret : err;
	}
	sbuf_free(&o.b);
	free(o.mnt);
	return ret;
}
