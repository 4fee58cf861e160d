// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmafsctl events: the audit trail (the JSON Lines of audit_log=, whose
 * members lib/core/audit.h lists) as a table for people, or as one
 * normalized JSON object per line for scripts.
 *
 * Lines are parsed with json-c.  Before that, the byte escapes of the one
 * JSON escape (core/jsonesc.h) are turned back into the bytes they stand
 * for, so that a file name that is not UTF-8 is shown as its own bytes
 * (\351 in the table, the same \u00e9 in JSON) and never as the Latin-1
 * character json-c would make of it.
 *
 * A line that is not an event (not JSON, not an object, no time or
 * event, a member of the wrong type) is reported on stderr with its line
 * number and skipped; the exit status then says so.  Missing members are
 * taken as null, so that a trail of an older or newer daemon still reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/jsonesc.h"
#include "ctl.h"
#include "ctl_out.h"
#include "ctl_tail.h"

struct str {
	const char *s; /* NULL: null or absent */
	size_t n;
};

struct num {
	bool has; /* false: null or absent */
	uint64_t v;
};

struct ev_pin {
	struct str range;
	struct num owner, holder;
};

/* A holder a request met (DESIGN §6), in one of the HOLDER_GROUPS. */
struct ev_holder {
	struct num pid;
	struct str comm, why;
};

/* The groups of the trail's "holders" member, in its order. */
#define HOLDER_GROUPS AUDIT_NFATES

struct event {
	struct str time, event, op, path, errname, reason;
	struct num offset, length, waited_ms;
	struct ev_pin *pins;
	size_t npins;
	bool has_holders;
	struct ev_holder *holders[HOLDER_GROUPS];
	size_t nholders[HOLDER_GROUPS];
	bool has_process;
	struct num pid, tgid, uid, gid;
	struct str comm, exe, cmdline;
	bool truncated;
};

/* Why a line is not an event, for the message. */
struct why {
	char msg[160];
};

static int bad(struct why *w, const char *key, const char *want)
{
	snprintf(w->msg, sizeof(w->msg), "member \"%s\" is not %s", key, want);
	return -1;
}

static int get_str(json_object *o, const char *key, struct str *out,
		   struct why *w)
{
	json_object *v;

	out->s = NULL;
	out->n = 0;
	/* a JSON null gives true with v NULL: null and absent are one */
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return bad(w, key, "a string");
	out->s = json_object_get_string(v);
	out->n = (size_t)json_object_get_string_len(v);
	return 0;
}

static int get_num(json_object *o, const char *key, struct num *out,
		   struct why *w)
{
	json_object *v;

	out->has = false;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	/* every number of the trail is a count, an id or a byte offset */
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return bad(w, key, "a whole number >= 0");
	out->has = true;
	out->v = json_object_get_uint64(v);
	return 0;
}

static int get_pins(json_object *o, struct event *ev, struct why *w)
{
	json_object *a, *p;
	size_t i, n;

	if (!json_object_object_get_ex(o, "pins", &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return bad(w, "pins", "an array");
	n = json_object_array_length(a);
	if (!n)
		return 0;
	ev->pins = calloc(n, sizeof(*ev->pins));
	if (!ev->pins) {
		snprintf(w->msg, sizeof(w->msg), "out of memory");
		return -1;
	}
	ev->npins = n;
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(a, i);
		if (!p || !json_object_is_type(p, json_type_object))
			return bad(w, "pins", "an array of objects");
		if (get_str(p, "range", &ev->pins[i].range, w) ||
		    get_num(p, "owner", &ev->pins[i].owner, w) ||
		    get_num(p, "holder", &ev->pins[i].holder, w))
			return -1;
	}
	return 0;
}

/* One group of "holders": an array of {pid, comm, why}. */
static int get_holder_group(json_object *h, size_t g, struct event *ev,
			    struct why *w)
{
	json_object *a, *p;
	size_t i, n;

	if (!json_object_object_get_ex(h, audit_holder_group(g), &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return bad(w, audit_holder_group(g), "an array");
	n = json_object_array_length(a);
	if (!n)
		return 0;
	ev->holders[g] = calloc(n, sizeof(*ev->holders[g]));
	if (!ev->holders[g]) {
		snprintf(w->msg, sizeof(w->msg), "out of memory");
		return -1;
	}
	ev->nholders[g] = n;
	for (i = 0; i < n; i++) {
		struct ev_holder *e = &ev->holders[g][i];

		p = json_object_array_get_idx(a, i);
		if (!p || !json_object_is_type(p, json_type_object))
			return bad(w, audit_holder_group(g),
				   "an array of objects");
		if (get_num(p, "pid", &e->pid, w) ||
		    get_str(p, "comm", &e->comm, w) ||
		    get_str(p, "why", &e->why, w))
			return -1;
	}
	return 0;
}

static int get_holders(json_object *o, struct event *ev, struct why *w)
{
	json_object *h;
	size_t g;

	if (!json_object_object_get_ex(o, "holders", &h) || !h)
		return 0;
	if (!json_object_is_type(h, json_type_object))
		return bad(w, "holders", "an object");
	ev->has_holders = true;
	for (g = 0; g < HOLDER_GROUPS; g++)
		if (get_holder_group(h, g, ev, w))
			return -1;
	return 0;
}

static void free_event(struct event *ev)
{
	size_t g;

	free(ev->pins);
	for (g = 0; g < HOLDER_GROUPS; g++)
		free(ev->holders[g]);
}

static int get_process(json_object *o, struct event *ev, struct why *w)
{
	json_object *p;

	if (!json_object_object_get_ex(o, "process", &p) || !p)
		return 0;
	if (!json_object_is_type(p, json_type_object))
		return bad(w, "process", "an object");
	ev->has_process = true;
	if (get_num(p, "pid", &ev->pid, w) ||
	    get_num(p, "tgid", &ev->tgid, w) ||
	    get_num(p, "uid", &ev->uid, w) || get_num(p, "gid", &ev->gid, w) ||
	    get_str(p, "comm", &ev->comm, w) ||
	    get_str(p, "exe", &ev->exe, w) ||
	    get_str(p, "cmdline", &ev->cmdline, w))
		return -1;
	return 0;
}

/* Fills @ev from the object @o; 0, or -1 with @w saying why not. */
static int get_event(json_object *o, struct event *ev, struct why *w)
{
	json_object *t;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(w->msg, sizeof(w->msg), "not a JSON object");
		return -1;
	}
	if (get_str(o, "time", &ev->time, w) ||
	    get_str(o, "event", &ev->event, w) ||
	    get_str(o, "op", &ev->op, w) || get_str(o, "path", &ev->path, w) ||
	    get_num(o, "offset", &ev->offset, w) ||
	    get_num(o, "length", &ev->length, w) ||
	    get_str(o, "errno", &ev->errname, w) ||
	    get_num(o, "waited_ms", &ev->waited_ms, w) || get_pins(o, ev, w) ||
	    get_process(o, ev, w) || get_holders(o, ev, w) ||
	    get_str(o, "reason", &ev->reason, w))
		return -1;
	if (!ev->time.s || !ev->event.s) {
		snprintf(w->msg, sizeof(w->msg), "no \"%s\" member",
			 ev->time.s ? "event" : "time");
		return -1;
	}
	if (json_object_object_get_ex(o, "truncated", &t) && t) {
		if (!json_object_is_type(t, json_type_boolean))
			return bad(w, "truncated", "true or false");
		ev->truncated = json_object_get_boolean(t);
	}
	return 0;
}

/* ---- the table ---- */

/* Fixed widths, so that --follow can print each row as it comes. */
#define W_TIME 24
#define W_EVENT 11 /* "interrupted" */
#define W_OP 8 /* "truncate", "setxattr" */
#define W_ERRNO 9 /* "ESHUTDOWN" */
#define W_WAITED 9
#define W_PID 7
#define W_COMM 15 /* TASK_COMM_LEN - 1 */
#define W_UID 5
#define W_RANGE 21
#define W_PINS 4

static void print_header(void)
{
	printf("%-*s  %-*s  %-*s  %-*s  %*s  %*s  %-*s  %*s  %-*s  %*s  PATH\n",
	       W_TIME, "TIME", W_EVENT, "EVENT", W_OP, "OP", W_ERRNO, "ERRNO",
	       W_WAITED, "WAITED_MS", W_PID, "PID", W_COMM, "COMM", W_UID,
	       "UID", W_RANGE, "RANGE", W_PINS, "PINS");
}

/* A string cell: rendered, "-" for null, padded to @w columns. */
static void cell(const struct str *s, size_t w)
{
	if (s->s)
		out_cell(s->s, s->n, w);
	else
		out_cell("-", 1, w);
	printf("  ");
}

static void num_cell(const struct num *n, int w)
{
	if (n->has)
		printf("%*" PRIu64 "  ", w, n->v);
	else
		printf("%*s  ", w, "-");
}

/* After the path: "  killed: PID(COMM) ..." for each group with holders. */
static void print_holders(const struct event *ev)
{
	size_t g, i;

	for (g = 0; g < HOLDER_GROUPS; g++) {
		if (!ev->nholders[g])
			continue;
		printf("  %s:", audit_holder_group(g));
		for (i = 0; i < ev->nholders[g]; i++) {
			const struct ev_holder *e = &ev->holders[g][i];

			if (e->pid.has)
				printf(" %" PRIu64, e->pid.v);
			else
				printf(" -");
			putchar('(');
			if (e->comm.s)
				out_cell(e->comm.s, e->comm.n, 0);
			putchar(')');
		}
	}
}

static void print_row(const struct event *ev)
{
	char range[48];

	cell(&ev->time, W_TIME);
	cell(&ev->event, W_EVENT);
	cell(&ev->op, W_OP);
	cell(&ev->errname, W_ERRNO);
	num_cell(&ev->waited_ms, W_WAITED);
	num_cell(&ev->pid, W_PID);
	cell(&ev->comm, W_COMM);
	num_cell(&ev->uid, W_UID);
	/* audit.h: offset 0 and length null is the whole file */
	if (ev->offset.has && ev->length.has)
		snprintf(range, sizeof(range), "%" PRIu64 "+%" PRIu64,
			 ev->offset.v, ev->length.v);
	else if (ev->offset.has && !ev->offset.v)
		snprintf(range, sizeof(range), "all");
	else
		snprintf(range, sizeof(range), "-");
	printf("%-*s  %*zu  ", W_RANGE, range, W_PINS, ev->npins);
	if (ev->path.s)
		out_cell(ev->path.s, ev->path.n, 0);
	else
		putchar('-');
	print_holders(ev);
	if (ev->reason.s) {
		printf("  reason: ");
		out_cell(ev->reason.s, ev->reason.n, 0);
	}
	if (ev->truncated)
		printf("  [truncated]");
	putchar('\n');
}

/* ---- normalized JSON ---- */

static void json_str(const char *key, const struct str *s)
{
	printf("\"%s\":", key);
	if (s->s)
		out_json_str(s->s, s->n);
	else
		printf("null");
}

static void json_num(const char *key, const struct num *n)
{
	if (n->has)
		printf("\"%s\":%" PRIu64, key, n->v);
	else
		printf("\"%s\":null", key);
}

/* ,"holders":null, or every group with {pid, comm, why} for each. */
static void print_json_holders(const struct event *ev)
{
	size_t g, i;

	printf(",\"holders\":");
	if (!ev->has_holders) {
		printf("null");
		return;
	}
	putchar('{');
	for (g = 0; g < HOLDER_GROUPS; g++) {
		printf("%s\"%s\":[", g ? "," : "", audit_holder_group(g));
		for (i = 0; i < ev->nholders[g]; i++) {
			const struct ev_holder *e = &ev->holders[g][i];

			printf("%s{", i ? "," : "");
			json_num("pid", &e->pid);
			putchar(',');
			json_str("comm", &e->comm);
			putchar(',');
			json_str("why", &e->why);
			putchar('}');
		}
		putchar(']');
	}
	putchar('}');
}

/*
 * The trail's members in the trail's order, every one present (null
 * when the line had none), and reason and truncated always: one shape
 * for every line, whichever daemon wrote it.  Other members are dropped.
 */
static void print_json(const struct event *ev)
{
	size_t i;

	putchar('{');
	json_str("time", &ev->time);
	putchar(',');
	json_str("event", &ev->event);
	putchar(',');
	json_str("op", &ev->op);
	putchar(',');
	json_str("path", &ev->path);
	putchar(',');
	json_num("offset", &ev->offset);
	putchar(',');
	json_num("length", &ev->length);
	putchar(',');
	json_str("errno", &ev->errname);
	putchar(',');
	json_num("waited_ms", &ev->waited_ms);
	printf(",\"pins\":[");
	for (i = 0; i < ev->npins; i++) {
		printf("%s{", i ? "," : "");
		json_str("range", &ev->pins[i].range);
		putchar(',');
		json_num("owner", &ev->pins[i].owner);
		putchar(',');
		json_num("holder", &ev->pins[i].holder);
		putchar('}');
	}
	printf("],\"process\":");
	if (ev->has_process) {
		putchar('{');
		json_num("pid", &ev->pid);
		putchar(',');
		json_num("tgid", &ev->tgid);
		putchar(',');
		json_num("uid", &ev->uid);
		putchar(',');
		json_num("gid", &ev->gid);
		putchar(',');
		json_str("comm", &ev->comm);
		putchar(',');
		json_str("exe", &ev->exe);
		putchar(',');
		json_str("cmdline", &ev->cmdline);
		putchar('}');
	} else {
		printf("null");
	}
	print_json_holders(ev);
	putchar(',');
	json_str("reason", &ev->reason);
	printf(",\"truncated\":%s}\n", ev->truncated ? "true" : "false");
}

/* ---- the command ---- */

static bool blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strchr(" \t\r", s[i]))
			return false;
	}
	return true;
}

/*
 * Parses @line (modified in place) and prints it: 1 printed, 0 a blank
 * line, -1 malformed (@w says why).
 */
static int one_line(json_tokener *tok, char *line, size_t len, bool json,
		    bool *need_header, struct why *w)
{
	struct event ev = { 0 };
	enum json_tokener_error jerr;
	json_object *o;
	size_t end;
	int ret = -1;

	if (blank(line, len))
		return 0;
	len = jesc_restore_bytes(line, len);
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!o) {
		snprintf(w->msg, sizeof(w->msg), "%s",
			 jerr == json_tokener_continue
				 ? "the JSON ends before the line"
				 : json_tokener_error_desc(jerr));
		return -1;
	}
	end = json_tokener_get_parse_end(tok);
	if (end < len && !blank(line + end, len - end)) {
		snprintf(w->msg, sizeof(w->msg), "text after the JSON object");
		goto out_put;
	}
	if (get_event(o, &ev, w))
		goto out_put;
	if (*need_header) {
		print_header();
		*need_header = false;
	}
	if (json)
		print_json(&ev);
	else
		print_row(&ev);
	ret = 1;
out_put:
	free_event(&ev);
	json_object_put(o);
	return ret;
}

int ctl_cmd_events(const struct subcommand *cmd, int argc, char **argv)
{
	unsigned long lineno, malformed = 0, shown = 0;
	json_tokener *tok;
	struct ctl_args a;
	struct tail *t;
	bool need_header;
	struct why w;
	const char *path;
	size_t len;
	char *line;
	int ret;

	ret = ctl_parse_args(cmd, argc, argv,
			     CTL_OPT_JSON | CTL_OPT_FOLLOW | CTL_OPT_NEW, 1, 1,
			     "one LOGFILE", &a);
	if (ret >= 0)
		return ret;
	if (a.new_only && !a.follow)
		return ctl_usage_error(cmd, "--new needs --follow");
	path = a.pos[0];
	tok = json_tokener_new();
	if (!tok)
		return ctl_fail(-ENOMEM, "read %s", path);
	ret = tail_open(path, a.follow, a.new_only, &t);
	if (ret) {
		json_tokener_free(tok);
		fprintf(stderr, PROG ": Couldn't read %s: %s\n", path,
			strerror(-ret));
		return CTL_FAILED;
	}
	/* with --follow at once; else once there is a row under it */
	need_header = !a.json;
	if (a.follow && !a.json) {
		print_header();
		need_header = false;
	}
	if (a.follow)
		/* rows show as they come, also through a pipe */
		setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ret = tail_next(t, &line, &len, &lineno)) > 0) {
		if (ret == TAIL_TOO_LONG) {
			snprintf(w.msg, sizeof(w.msg),
				 "longer than %d bytes, not an audit line",
				 TAIL_LINE_MAX);
			ret = -1;
		} else {
			ret = one_line(tok, line, len, a.json, &need_header,
				       &w);
			if (ret > 0)
				shown++;
		}
		if (ret < 0) {
			malformed++;
			fflush(stdout);
			fprintf(stderr,
				PROG ": %s:%lu: not an audit event: %s\n", path,
				lineno, w.msg);
		}
	}
	tail_close(t);
	json_tokener_free(tok);
	if (ret < 0) {
		fprintf(stderr, PROG ": Couldn't read %s: %s\n", path,
			strerror(-ret));
		return CTL_FAILED;
	}
	if (!a.follow && !a.json && !shown)
		printf("no events\n");
	ret = ctl_finish_output();
	if (ret)
		return ret;
	return malformed ? CTL_MALFORMED : CTL_OK;
}
