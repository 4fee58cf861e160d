#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rdmafsctl metrics against a real mount: its output parsed by
# prometheus_client's own parser (python3-prometheus-client), every
# sample checked against the status it comes from (rdmafsctl status
# --json): the gauges, the decisions by class and action after a truncate
# and a punch refused (policy=refuse), then on a second mount
# (policy=defer) a truncate parked (scraped while it waits) and released
# by an unpin, one released by a holder told by a notice, and a punch
# that times out: the outcomes and the wait histogram (buckets
# cumulative, +Inf the count, the count the parked requests answered).
# The mount point's name has a space, a double quote and a backslash, so
# the mountpoint label must be escaped; a path that is not an rdmafs
# mount gives rdmafs_up 0 alone, with exit status 3 (1 for a missing
# one), and a newline in its name escaped too.
#
# Needs root, /dev/fuse and python3 with prometheus_client (exit 77
# otherwise).  RDMAFS_BIN and RDMAFSCTL name the binaries under test (or
# pass RDMAFSCTL as the first argument).

set -uo pipefail

# shellcheck source=tests/ctl-test-lib.sh
. "$(dirname "$0")/ctl-test-lib.sh"

# pyenv's python3 may come first in PATH without Debian's modules.
PY=
for py in python3 /usr/bin/python3; do
	if command -v "$py" >/dev/null &&
		"$py" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$py
		break
	fi
done
if [ -z "$PY" ]; then
	echo "skip: python3's prometheus_client is missing (python3-prometheus-client)"
	exit 77
fi
for tool in truncate fallocate; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done

M="$T/mnt \"q\" \\b"
mkdir "$B" "$M"

# The checks, in one script: argv[1] the metrics, argv[2] the status
# JSON, argv[3] the mount point, argv[4] a Python expression over the
# dicts `m` (metric name -> {labels minus mountpoint, as a sorted tuple:
# value}) and `st` (the status) that must hold.
cat >"$T/check.py" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding='utf-8').read()
st = json.load(open(sys.argv[2])) if sys.argv[2] != '-' else {}
mnt = sys.argv[3]
m = {}
types = {}
for fam in text_string_to_metric_families(text):
    types[fam.name] = fam.type
    for s in fam.samples:
        labels = dict(s.labels)
        assert labels.pop('mountpoint', None) == mnt, (s, mnt)
        key = tuple(sorted(labels.items()))
        assert key not in m.setdefault(s.name, {}), ('repeated', s)
        m[s.name][key] = s.value

def one(name, **labels):
    return m[name][tuple(sorted(labels.items()))]

# Whatever the scrape, rdmafs_up is there, and exactly once.
assert list(m['rdmafs_up']) == [()], m['rdmafs_up']
if st:
    assert one('rdmafs_up') == 1
    assert one('rdmafs_info', version=st['version'], libfuse=st['libfuse'],
               data_path=st['data_path'], transport=st['transport']) == 1
    gauges = {'pins': 'rdmafs_pins', 'files_pinned': 'rdmafs_files_pinned',
              'sessions': 'rdmafs_sessions',
              'session_pins': 'rdmafs_session_pins',
              'holders': 'rdmafs_holders',
              'parked': 'rdmafs_parked_requests',
              'max_pins': 'rdmafs_max_pins',
              'max_pins_per_file': 'rdmafs_max_pins_per_file',
              'max_pins_per_user': 'rdmafs_max_pins_per_user',
              'break_timeout': 'rdmafs_break_timeout_seconds',
              'break_kill': 'rdmafs_break_kill'}
    for k, name in gauges.items():
        assert types[name] == 'gauge', (name, types[name])
        assert one(name) == st[k], (name, one(name), k, st[k])
    assert one('rdmafs_pins_unknown') == 0
    for k, name in {'notified': 'rdmafs_notices', 'killed': 'rdmafs_kills',
                    'passthrough_files': 'rdmafs_passthrough_files',
                    'passthrough_refused': 'rdmafs_passthrough_refused'}.items():
        assert types[name] == 'counter', (name, types[name])
        assert one(name + '_total') == st[k], (name, k, st[k])
    for c in ('truncate', 'punch', 'reflink', 'unlink'):
        assert one('rdmafs_policy', **{'class': c, 'action': st[c]}) == 1
    # decided.C.A, each one sample; no decision the status lacks
    dec = {k: v for k, v in st.items() if k.startswith('decided.')}
    assert len(dec) == 17, dec
    got = m['rdmafs_decisions_total']
    assert len(got) == len(dec), got
    for k, v in dec.items():
        _, c, a = k.split('.')
        assert one('rdmafs_decisions_total', **{'class': c, 'action': a}) == v
    out = {k[len('deferred.'):]: v for k, v in st.items()
           if k.startswith('deferred.')}
    assert set(out) == {'done', 'timeout', 'break', 'interrupted', 'error',
                        'shutdown'}, out
    for o, v in out.items():
        assert one('rdmafs_deferred_outcomes_total', outcome=o) == v
    # the totals agree with the decisions (no refusal after parking here)
    assert out['error'] == 0
    assert st['refused'] == sum(v for k, v in dec.items()
                                if k.endswith('.refuse')), st
    assert st['deferred'] == sum(v for k, v in dec.items()
                                 if k.endswith('.defer') or k.endswith('.break'))
    assert st['audited'] == sum(v for k, v in dec.items() if k.endswith('.audit'))
    assert st['copied'] == sum(v for k, v in dec.items() if k.endswith('.copy'))
    # the histogram: buckets cumulative, +Inf == count == answered
    assert types['rdmafs_wait_seconds'] == 'histogram'
    b = sorted((float(dict(k)['le']), v)
               for k, v in m['rdmafs_wait_seconds_bucket'].items())
    assert [le for le, _ in b] == [0.001, 0.01, 0.1, 1, 10, 60,
                                   float('inf')], b
    assert all(x[1] <= y[1] for x, y in zip(b, b[1:])), b
    cnt = one('rdmafs_wait_seconds_count')
    assert b[-1][1] == cnt == st['wait_ms_count'], (b, cnt, st)
    assert cnt == sum(out.values()) == st['deferred'] - st['parked'], (cnt, st)
    for le, v in b[:-1]:
        assert v == st['wait_ms_bucket.%d' % round(le * 1000)], (le, v)
    assert abs(one('rdmafs_wait_seconds_sum') - st['wait_ms_sum'] / 1000) < 1e-9
else:
    # not readable: rdmafs_up 0 and nothing else
    assert one('rdmafs_up') == 0 and list(m) == ['rdmafs_up'], m
ok = eval('(' + sys.argv[4] + ')', {'m': m, 'st': st, 'one': one})
assert ok, sys.argv[4]
EOF

# scrape NAME EXPR: metrics and status --json now; the checks and EXPR.
scrape() {
	local name=$1 expr=${2:-True} out
	if ! timeout 60 "$CTL" metrics "$M" >"$T/prom" 2>"$T/err" ||
		[ -s "$T/err" ]; then
		fail "$name: rdmafsctl metrics: $(head -c 300 "$T/err")"
		return 1
	fi
	ctl "$name: status --json" status --json "$M" || return 1
	cp "$T/out" "$T/status.json"
	if out=$("$PY" "$T/check.py" "$T/prom" "$T/status.json" "$M" \
		"$expr" 2>&1); then
		pass "$name"
	else
		fail "$name: $(tail -n 3 <<<"$out")"
		return 1
	fi
}

# wait_parked N: up to 5 s for the status to show N parked requests
wait_parked() {
	local _
	for _ in $(seq 500); do
		getfattr --absolute-names --only-values -n user.rdmafs.status \
			"$M" 2>/dev/null | grep -qx "parked=$1" && return 0
		sleep 0.01
	done
	return 1
}

# ---- a mount that refuses: a truncate and a punch refused ----
MOUNT_OPTS=allow_other,policy=refuse
do_mount
scrape "empty mount" "one('rdmafs_pins') == 0 and
    one('rdmafs_wait_seconds_count') == 0 and
    sum(m['rdmafs_decisions_total'].values()) == 0"

truncate -s 1M "$M/f" "$M/g"
pin "$M/f" 0+64K
pin "$M/g" all
if truncate -s 0 "$M/f" 2>"$T/terr"; then
	fail "truncate over a pin succeeded under policy=refuse"
elif grep -q "Text file busy" "$T/terr"; then
	pass "truncate refused: $(cat "$T/terr")"
else
	fail "truncate refused with the wrong error: $(cat "$T/terr")"
fi
if fallocate -p -o 0 -l 4096 "$M/g" 2>"$T/terr"; then
	fail "punch over a pin succeeded under policy=refuse"
else
	pass "punch refused: $(cat "$T/terr")"
fi
# a truncate past the pins and a growth meet no decision
truncate -s 2M "$M/f" && truncate -s 1M "$M/f" ||
	fail "truncates outside the pins failed"
scrape "refused truncate and punch" "one('rdmafs_pins') == 2 and
    one('rdmafs_files_pinned') == 2 and
    one('rdmafs_decisions_total', **{'class': 'truncate', 'action': 'refuse'}) == 1 and
    one('rdmafs_decisions_total', **{'class': 'punch', 'action': 'refuse'}) == 1 and
    sum(m['rdmafs_decisions_total'].values()) == 2 and st['refused'] == 2 and
    one('rdmafs_wait_seconds_count') == 0"

# the escaped label, as the raw text has it
if grep -Fq "rdmafs_up{mountpoint=\"$T/mnt \\\"q\\\" \\\\b\"} 1" "$T/prom"; then
	pass "mountpoint label escaped: $(grep -F 'rdmafs_up{' "$T/prom")"
else
	fail "mountpoint label not escaped as expected: $(grep -F 'rdmafs_up{' "$T/prom")"
fi
# every sample line has its HELP and TYPE first
if awk '/^# HELP /{h[$3]=1; next} /^# TYPE /{t[$3]=$4; next}
	{n=$1; sub(/\{.*/, "", n); f=n
	 if (!(f in t)) sub(/_(bucket|sum|count)$/, "", f)
	 if (!(f in t) || !(f in h)) { print "no HELP/TYPE: " $0; bad=1 } }
	END {exit bad}' "$T/prom"; then
	pass "every family has HELP and TYPE"
else
	fail "a family lacks HELP or TYPE"
fi
# the status is whole, however long (no fixed 1024-byte buffer)
len=$(getfattr --absolute-names --only-values -n user.rdmafs.status "$M" | wc -c)
if [ "$len" -gt 1024 ] &&
	getfattr --absolute-names --only-values -n user.rdmafs.status "$M" |
	tail -n 1 | grep -q '^holders=[0-9]'; then
	pass "status of $len bytes, whole"
else
	fail "status of $len bytes, or cut: $(getfattr --absolute-names --only-values -n user.rdmafs.status "$M" | tail -n 2)"
fi

if ! do_umount; then
	fail "couldn't unmount $M"
	exit 1
fi

# ---- a mount that defers: parked, released by an unpin ----
MOUNT_OPTS=allow_other,policy=defer,break_timeout=2
do_mount
truncate -s 1M "$M/d" "$M/h" "$M/p"
pin "$M/d" 0+4K
pin "$M/p" 0+4K
truncate -s 0 "$M/d" 2>"$T/derr" &
tpid=$!
bg_pids+=("$tpid")
if wait_parked 1; then
	sleep 0.2
	scrape "a truncate parked" "one('rdmafs_parked_requests') == 1 and
    one('rdmafs_decisions_total', **{'class': 'truncate', 'action': 'defer'}) == 1 and
    one('rdmafs_wait_seconds_count') == 0"
	ctl "unpin releases it" unpin "$M/d" all
	if wait "$tpid"; then
		pass "the parked truncate went on after the unpin"
	else
		fail "the parked truncate failed: $(cat "$T/derr")"
	fi
else
	fail "the truncate did not park"
	kill "$tpid" 2>/dev/null
fi

# a holder told: it releases, the truncate goes on
"$CTL" hold --release-on-break "$M/h" 0+4K >"$T/hold" 2>"$T/hold.err" &
hpid=$!
bg_pids+=("$hpid")
for _ in $(seq 500); do
	grep -q '^holding ' "$T/hold" 2>/dev/null && break
	sleep 0.01
done
scrape "a session holds" "one('rdmafs_holders') == 1 and
    one('rdmafs_sessions') == 1 and one('rdmafs_session_pins') == 1"
if timeout 10 truncate -s 0 "$M/h" 2>"$T/herr"; then
	pass "the holder released at the notice: $(tail -n 1 "$T/hold")"
else
	fail "the truncate under a hold failed: $(cat "$T/herr" "$T/hold.err")"
fi
wait "$hpid" || fail "rdmafsctl hold --release-on-break did not exit 0"

# a punch that times out (break_timeout=2): ETXTBSY, the pin stays
if timeout 10 fallocate -p -o 0 -l 4096 "$M/p" 2>"$T/perr"; then
	fail "a deferred punch went on though its pin stayed"
else
	pass "deferred punch timed out: $(cat "$T/perr")"
fi
scrape "deferred outcomes and waits" "one('rdmafs_parked_requests') == 0 and
    one('rdmafs_deferred_outcomes_total', outcome='done') == 2 and
    one('rdmafs_deferred_outcomes_total', outcome='timeout') == 1 and
    one('rdmafs_wait_seconds_count') == 3 and st['deferred'] == 3 and
    one('rdmafs_notices_total') >= 1 and one('rdmafs_holders') == 0 and
    one('rdmafs_wait_seconds_bucket', le='1') >= 1 and
    one('rdmafs_wait_seconds_bucket', le='0.1') <= 2 and
    one('rdmafs_wait_seconds_sum') >= 2"

# ---- not an rdmafs mount: rdmafs_up 0 alone, exit 3 (missing: 1) ----
# not_up NAME STATUS PATH
not_up() {
	local name=$1 want=$2 path=$3 rc out
	timeout 60 "$CTL" metrics "$path" >"$T/prom" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit status $rc, not $want: $(cat "$T/err")"
	elif ! grep -q "^rdmafsctl: Couldn't read the status of " "$T/err"; then
		fail "$name: stderr: $(cat "$T/err")"
	elif ! out=$("$PY" "$T/check.py" "$T/prom" - "$path" True 2>&1); then
		fail "$name: $(tail -n 3 <<<"$out")"
	else
		pass "$name: rdmafs_up 0, exit $rc: $(cat "$T/err")"
	fi
}
not_up "a plain directory" 3 "$T"
not_up "a missing path" 1 "$T/none"
nl_path="$T/new"$'\n'"line"
mkdir "$nl_path"
not_up "a name with a newline" 3 "$nl_path"
if grep -Fqx "rdmafs_up{mountpoint=\"$T/new\\nline\"} 0" "$T/prom"; then
	pass "newline escaped as \\n"
else
	fail "newline not escaped: $(cat "$T/prom")"
fi
ctl_error "no MOUNT" 2 "need exactly one MOUNT" metrics

do_umount || fail "couldn't unmount $M"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
