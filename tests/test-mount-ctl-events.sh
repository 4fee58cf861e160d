#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rdmafsctl events on the audit trail of a real mount (audit_log=): pins
# and refusals as table rows, a file name that is not UTF-8 shown as its
# bytes, --json lines that are the trail's own (same text, plus reason
# and truncated), malformed lines reported with their number and exit
# status 4, and --follow: a line appended later, a file replaced (rename
# and create) or truncated in place (copytruncate), --new, and exit 0 on
# SIGINT and SIGTERM; the daemon's SIGHUP reopens the log after a move.
#
# Needs root and /dev/fuse (exit 77 otherwise).  RDMAFS_BIN and RDMAFSCTL
# name the binaries under test (or pass RDMAFSCTL as the first argument).

set -uo pipefail

# shellcheck source=tests/ctl-test-lib.sh
. "$(dirname "$0")/ctl-test-lib.sh"

LOG=$T/log/audit.json
mkdir -m 0755 "$T/log"
MOUNT_OPTS=allow_other,audit_log=$LOG
mkdir "$B" "$M"
do_mount

# wait_for FILE PATTERN [COUNT]: up to 10 s until FILE has COUNT (1)
# lines matching the extended regex PATTERN.
wait_for() {
	local _ n
	for _ in $(seq 200); do
		n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
		[ "${n:-0}" -ge "${3:-1}" ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- a trail with pins and refusals ----
odd=$'caf\351\tx'
truncate -s 2M "$M/data" && : >"$M/$odd"
ctl "pin data" pin "$M/data" 0+1M
ctl "pin the odd name" pin "$M/$odd" all
truncate -s 0 "$M/data" 2>/dev/null && fail "truncate under a pin succeeded"
nref=1
if command -v fallocate >/dev/null; then
	fallocate -p -o 0 -l 4096 "$M/data" 2>/dev/null &&
		fail "punch under a pin succeeded"
	nref=$((nref + 1))
fi
rm -f "$M/data" 2>/dev/null
[ -e "$M/data" ] || fail "unlink of a pinned file succeeded"
nref=$((nref + 1))
if ! wait_for "$LOG" '"event":"refuse"' "$nref"; then
	fail "the trail has no $nref refusals: $(cat "$LOG")"
fi
nlines=$(wc -l <"$LOG")

if ctl "events" events "$LOG"; then
	cp "$T/out" "$T/table"
	if ! head -n 1 "$T/table" | grep -Eq \
		'^TIME +EVENT +OP +ERRNO +WAITED_MS +PID +COMM +UID +RANGE +PINS +PATH$'; then
		fail "events: header: $(head -n 1 "$T/table")"
	fi
	ts='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z +'
	while IFS='|' read -r what re; do
		if ! grep -Eq -- "$ts$re" "$T/table"; then
			fail "events: no row for $what: $(cat "$T/table")"
		fi
	done <<'EOF'
pin data|pin +setxattr +- +- +[0-9]+ +rdmafsctl +0 +0\+1048576 +1 +data$
pin of the odd name|pin +setxattr +- +- +[0-9]+ +rdmafsctl +0 +all +1 +caf\\351\\011x$
truncate refused|refuse +truncate +ETXTBSY +- +[0-9]+ +truncate +0 +0\+2097152 +1 +data$
unlink refused|refuse +unlink +ETXTBSY +- +[0-9]+ +rm +0 +all +1 +data$
EOF
	if [ "$(wc -l <"$T/table")" -ne $((nlines + 1)) ]; then
		fail "events: $(wc -l <"$T/table") lines for $nlines events"
	else
		pass "events: a row for each of $nlines events, the odd name as bytes"
	fi
fi

if ctl "events --json" events --json "$LOG"; then
	cp "$T/out" "$T/events.json"
	jsonl_check "events --json: the trail's lines, normalized" "
keys = ['time', 'event', 'op', 'path', 'offset', 'length', 'errno',
        'waited_ms', 'pins', 'process', 'holders', 'reason', 'truncated']
log = open(sys.argv[2], encoding='utf-8', errors='surrogateescape').read().splitlines()
out = text.splitlines()
assert len(out) == len(log) == $nlines, (len(out), len(log))
for o, l in zip(out, log):
    assert list(json.loads(o)) == keys, o
    # the same text: the same escapes, bytes and order
    if '\"reason\"' not in l and '\"truncated\"' not in l and '\"holders\"' not in l:
        assert o == l[:-1] + ',\"holders\":null,\"reason\":null,\"truncated\":false}', (o, l)
    else:
        assert json.loads(o)['time'] == json.loads(l)['time']
assert any('\"path\":\"caf\\\\u00e9\\\\tx\"' in o for o in out), out
ev = [(e['event'], e['op'], e['errno']) for e in d]
assert ('refuse', 'truncate', 'ETXTBSY') in ev, ev
assert ('refuse', 'unlink', 'ETXTBSY') in ev, ev
" "$T/events.json" "$LOG"
fi

# ---- malformed lines ----
{
	sed -n 1p "$LOG"
	echo 'not json'
	echo '{"time":"2026-11-30T00:00:00.000Z"}'
	echo '[1,2]'
	echo '{"time":"t","event":"e","offset":-1}'
	echo ''
	sed -n 2p "$LOG"
	echo '{"time":"t","event":"e"} trailing'
	printf '{"time":"t","event":"cut'
} >"$T/bad.json"
timeout 10 "$CTL" events "$T/bad.json" >"$T/out" 2>"$T/err"
rc=$?
bad=0
i=0
while IFS= read -r re; do
	i=$((i + 1))
	line=$(sed -n "${i}p" "$T/err")
	if ! [[ $line =~ ^rdmafsctl:\ $re$ ]]; then
		fail "malformed lines: stderr line $i: '$line', want '$re'"
		bad=1
	fi
done <<EOF
$T/bad.json:2: not an audit event: .+
$T/bad.json:3: not an audit event: no "event" member
$T/bad.json:4: not an audit event: not a JSON object
$T/bad.json:5: not an audit event: member "offset" is not a whole number >= 0
$T/bad.json:8: not an audit event: text after the JSON object
$T/bad.json:9: not an audit event: the JSON ends before the line
EOF
if [ "$rc" -ne 4 ]; then
	fail "malformed lines: exit $rc, not 4: $(cat "$T/err")"
elif [ "$(wc -l <"$T/err")" -ne 6 ] || [ "$bad" -ne 0 ]; then
	fail "malformed lines: stderr: $(cat "$T/err")"
elif [ "$(wc -l <"$T/out")" -ne 3 ]; then
	fail "malformed lines: not the header and 2 rows: $(cat "$T/out")"
else
	pass "malformed lines: 6 reported by number, 2 rows shown, exit 4"
fi
ctl_error "events of a missing file" 1 \
	"^rdmafsctl: Couldn't read $T/none: No such file" events "$T/none"
ctl_error "--new without --follow" 2 "^rdmafsctl events: --new needs --follow" \
	events --new "$LOG"

# ---- --follow ----
# Job control, so that the background job does not ignore SIGINT.
set -m
"$CTL" events --follow --json "$LOG" >"$T/f.out" 2>"$T/f.err" &
fpid=$!
bg_pids+=("$fpid")
set +m
if wait_for "$T/f.out" '"time"' "$nlines"; then
	pass "--follow: the $nlines events there already"
else
	fail "--follow: $(wc -l <"$T/f.out") lines, not $nlines: $(cat "$T/f.err")"
fi
truncate -s 64K "$M/later" && ctl "pin later" pin "$M/later" 0+4K
truncate -s 0 "$M/later" 2>/dev/null
if wait_for "$T/f.out" '"event":"refuse","op":"truncate","path":"later"'; then
	pass "--follow: a refusal appended later"
else
	fail "--follow: no refusal of later: $(tail -n 2 "$T/f.out")"
fi

# logrotate's copytruncate: the daemon keeps its descriptor (O_APPEND)
cp "$LOG" "$LOG.1" && : >"$LOG"
wait_for "$T/f.err" 'truncated; reading it from the start' ||
	fail "--follow: no note of the truncation: $(cat "$T/f.err")"
truncate -s 64K "$M/third" && ctl "pin third" pin "$M/third" 0+4K
if wait_for "$T/f.out" '"path":"third"'; then
	pass "--follow: after copytruncate, the daemon's next events"
else
	fail "--follow, copytruncate: $(tail -n 2 "$T/f.out")"
fi

# rename and create: the old file to its end, then the new one
mv "$LOG" "$LOG.2" &&
	sed -n 1p "$LOG.2" | sed 's/"event":"[a-z]*"/"event":"rotated"/' >"$LOG"
if wait_for "$T/f.out" '"event":"rotated"' &&
	grep -q 'replaced (rotated); reading it from the start' "$T/f.err"; then
	pass "--follow: a replaced file is followed from its start"
else
	fail "--follow, rotated: $(tail -n 2 "$T/f.out") / $(cat "$T/f.err")"
fi
kill -INT "$fpid"
wait "$fpid"
rc=$?
if [ "$rc" -eq 0 ] && ! grep -q 'not an audit event' "$T/f.err"; then
	pass "--follow: SIGINT ends it with exit 0"
else
	fail "--follow: exit $rc after SIGINT: $(cat "$T/f.err")"
fi

# --new, as a table: only what comes later; a malformed line sets exit 4
"$CTL" events --follow --new "$LOG" >"$T/n.out" 2>"$T/n.err" &
npid=$!
bg_pids+=("$npid")
wait_for "$T/n.out" '^TIME ' || fail "--new: no header: $(cat "$T/n.err")"
echo 'garbage' >>"$LOG"
sed -n 1p "$LOG" | sed 's/"event":"[a-z]*"/"event":"fresh"/' >>"$LOG"
if wait_for "$T/n.out" ' fresh ' && [ "$(wc -l <"$T/n.out")" -eq 2 ] &&
	wait_for "$T/n.err" "$LOG:2: not an audit event"; then
	pass "--follow --new: only the new event, the bad line reported"
else
	fail "--follow --new: $(cat "$T/n.out") / $(cat "$T/n.err")"
fi
kill -TERM "$npid"
wait "$npid"
rc=$?
if [ "$rc" -eq 4 ]; then
	pass "--follow: SIGTERM ends it, exit 4 after a malformed line"
else
	fail "--follow: exit $rc after SIGTERM, not 4: $(cat "$T/n.err")"
fi

# SIGHUP after logrotate moved the file away (no copytruncate): the daemon
# writes to a new file at the path, and the mount keeps serving.
dpid=$(getfattr --only-values -n user.rdmafs.status "$M" 2>/dev/null |
	sed -n 's/^pid=//p')
if [ -z "$dpid" ] || ! kill -0 "$dpid" 2>/dev/null; then
	fail "SIGHUP: no daemon pid in the status"
else
	mv "$LOG" "$LOG.moved"
	kill -HUP "$dpid"
	sleep 0.2
	truncate -s 2M "$M/hup" && ctl "pin hup" pin "$M/hup" 0+4096
	truncate -s 0 "$M/hup" 2>/dev/null && fail "truncate under a pin succeeded"
	if wait_for "$LOG" '"event":"refuse".*"path":"hup"' &&
		! grep -q '"path":"hup"' "$LOG.moved" && kill -0 "$dpid" &&
		grep -q fuse.rdmafs <<<"$(stat -f -c %T "$M" 2>&1)$(findmnt -n -o FSTYPE -M "$M")"; then
		pass "SIGHUP reopens the audit log; the mount keeps serving"
	else
		fail "SIGHUP: $(cat "$LOG" 2>&1 | tail -n 2) / moved: $(tail -n 1 "$LOG.moved")"
	fi
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
