#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rdmafsctl pin and unpin against a real mount (through librdmafs):
# pins made and removed as the listing and getfattr show them, all or
# nothing, the exit statuses (2 for a malformed RANGE, 3 for a file not
# on rdmafs, 1 for what the daemon refuses: beyond the file, no such pin,
# another user's pin), and the reason it exists: a truncate parked under
# policy=defer is released by `rdmafsctl unpin` within 100 ms, where a
# setfattr on the file itself would wait for the truncate.
#
# Needs root and /dev/fuse (exit 77 otherwise).  RDMAFS_BIN and RDMAFSCTL
# name the binaries under test (or pass RDMAFSCTL as the first argument).

set -uo pipefail

# defer: a truncate into a pin waits (up to 30 s) instead of failing
MOUNT_OPTS=allow_other,policy=defer,break_timeout=30

# shellcheck source=tests/ctl-test-lib.sh
. "$(dirname "$0")/ctl-test-lib.sh"

mkdir "$B" "$M"
do_mount

# the pins of $1 as "OFFSET+LENGTH OWNER" lines, sorted
pins_of() {
	getfattr --only-values -n user.rdmafs.pin "$1" 2>/dev/null |
		sed -E 's/^([^ ]+) owner=([0-9]+).*/\1 \2/' | sort
}

# expect_pins NAME FILE LINES...: the pins of FILE are exactly LINES
expect_pins() {
	local name=$1 f=$2 got want
	shift 2
	got=$(pins_of "$f")
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name: pins of $f are '$got', want '$want'"
	fi
}

f=$M/data
truncate -s 8M "$f"

# ---- pin ----
if ctl "pin two ranges" pin "$f" 0+1M 0x100000+4K && [ ! -s "$T/out" ]; then
	expect_pins "pin: both ranges, silently" "$f" "0+1048576 0" \
		"1048576+4096 0"
fi
ctl "pin a list" pin "$f" 2M+4K,3M+4K &&
	expect_pins "pin: a comma-separated RANGE" "$f" "0+1048576 0" \
		"1048576+4096 0" "2097152+4096 0" "3145728+4096 0"
ctl "pin again" pin "$f" 0+1M &&
	expect_pins "pin of a pinned range: no-op" "$f" "0+1048576 0" \
		"1048576+4096 0" "2097152+4096 0" "3145728+4096 0"
if ctl "pins --json" pins --json "$M"; then
	json_check "pins --json: the four pins of data" "
got = sorted((p['path'], p['offset'], p['length'], p['owner']) for p in d)
assert got == [('data', 0, 1048576, 0), ('data', 1048576, 4096, 0),
               ('data', 2097152, 4096, 0), ('data', 3145728, 4096, 0)], got"
fi

truncate -s 1M "$M/other"
ctl_error "pin: malformed RANGE" 2 \
	"^rdmafsctl pin: malformed RANGE '0\+': want OFFSET\+LENGTH or all" \
	pin "$M/other" 0+4K 0+
ctl_error "pin: a leading zero" 2 "malformed RANGE '010\+1'" \
	pin "$M/other" 010+1
ctl_error "pin: no RANGE" 2 \
	"^rdmafsctl pin: need a FILE and at least one RANGE" pin "$M/other"
ctl_error "pin: beyond the end of the file" 1 \
	"^rdmafsctl: Couldn't pin 0\+4K,1M\+1 of $M/other: .*beyond the end" \
	pin "$M/other" 0+4K 1M+1
# all or nothing: neither the malformed nor the refused call pinned 0+4K
expect_pins "pin: all or nothing" "$M/other" ""
: >"$T/plain"
ctl_error "pin: not on rdmafs" 3 \
	"^rdmafsctl: Couldn't pin 0\+1 of $T/plain: not on an rdmafs mount" \
	pin "$T/plain" 0+1
if getfattr -n user.rdmafs.pin "$T/plain" >/dev/null 2>&1; then
	fail "pin: a plain user.rdmafs.pin xattr was written outside rdmafs"
else
	pass "pin: nothing written to a file outside rdmafs"
fi
mkdir "$M/dir"
ctl_error "pin: a directory" 1 "^rdmafsctl: Couldn't pin all of $M/dir: " \
	pin "$M/dir" all
ctl_error "pin: a missing file" 1 \
	"^rdmafsctl: Couldn't open $M/nothing: No such file" pin "$M/nothing" all

# ---- unpin ----
ctl "unpin one" unpin "$f" 0x100000+4K &&
	expect_pins "unpin: exactly that pin" "$f" "0+1048576 0" \
		"2097152+4096 0" "3145728+4096 0"
ctl_error "unpin: no such pin" 1 \
	"^rdmafsctl: Couldn't unpin 0\+4K of $f: no such pin" unpin "$f" 0+4K
ctl_error "unpin: malformed" 2 "^rdmafsctl unpin: malformed RANGE 'x'" \
	unpin "$f" x
ctl_error "unpin: two ranges" 2 "need exactly a FILE and one RANGE" \
	unpin "$f" 0+1M 2M+4K
ctl "unpin all" unpin "$f" all && expect_pins "unpin all: none left" "$f" ""

# ---- another user ----
if command -v setpriv >/dev/null; then
	truncate -s 1M "$M/shared" && chmod 666 "$M/shared"
	if as_nobody "$CTL" pin "$M/shared" 0+64K 2>"$T/err"; then
		pass "pin as uid 65534 through rdmafsctl"
	else
		fail "pin as uid 65534: $(cat "$T/err")"
	fi
	ctl "root pins the same file" pin "$M/shared" 64K+64K
	expect_pins "two owners" "$M/shared" "0+65536 65534" "65536+65536 0"
	as_nobody "$CTL" unpin "$M/shared" 64K+64K >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "the pin is another user's" "$T/err"; then
		pass "unpin of root's pin as uid 65534: exit 1, $(cat "$T/err")"
	else
		fail "unpin of root's pin as uid 65534: exit $rc: $(cat "$T/err")"
	fi
	# all: every pin of the caller's own, not root's
	as_nobody "$CTL" unpin "$M/shared" all 2>"$T/err" ||
		fail "unpin all as uid 65534: $(cat "$T/err")"
	expect_pins "unpin all as uid 65534: root's pin stays" "$M/shared" \
		"65536+65536 0"
	ctl "root unpins" unpin "$M/shared" 64K+64K
else
	echo "note: no setpriv: no other user"
fi

# ---- a parked truncate, released by rdmafsctl unpin ----
deferred() {
	timeout 10 "$CTL" status --json "$M" |
		sed -nE 's/^ *"deferred": ([0-9]+).*/\1/p'
}

# One trial: pins p, parks a truncate of it, unpins; prints the
# milliseconds from unpin's exit to the truncate's return.
parked_trial() {
	local p=$M/parked before t_unpin _
	truncate -s 2M "$p" && "$CTL" pin "$p" 0+1M || return 1
	before=$(deferred)
	rm -f "$T/done"
	(
		truncate -s 0 "$p"
		echo "$? $EPOCHREALTIME" >"$T/done.tmp"
		mv "$T/done.tmp" "$T/done"
	) &
	# parked: the daemon counted a deferral, and the truncate still waits
	for _ in $(seq 200); do
		[ "$(deferred)" -gt "$before" ] && break
		sleep 0.05
	done
	sleep 0.2
	if [ -e "$T/done" ] || [ "$(stat -c %s "$p")" -ne 2097152 ]; then
		echo "the truncate did not wait: $(cat "$T/done" 2>/dev/null)" >&2
		wait
		return 1
	fi
	timeout 5 "$CTL" unpin "$p" 0+1M || return 1
	t_unpin=$EPOCHREALTIME
	for _ in $(seq 200); do
		[ -e "$T/done" ] && break
		sleep 0.05
	done
	wait
	if ! [ -e "$T/done" ]; then
		echo "the truncate did not return within 10 s of the unpin" >&2
		return 1
	fi
	read -r rc t_done <"$T/done"
	if [ "$rc" -ne 0 ] || [ "$(stat -c %s "$p")" -ne 0 ]; then
		echo "truncate: exit $rc, size $(stat -c %s "$p")" >&2
		return 1
	fi
	python3 -c "print(round((float('$t_done') - float('$t_unpin')) * 1000, 1))"
}

if [ -z "${EPOCHREALTIME:-}" ] || ! $have_python; then
	echo "note: no \$EPOCHREALTIME or python3: parked release not timed"
else
	# Best of three: the machine running the tests may be busy; each
	# trial must still release the truncate, not time it out.
	times=()
	best=
	for trial in 1 2 3; do
		if ! ms=$(parked_trial 2>"$T/trial.err"); then
			fail "parked truncate, trial $trial: $(cat "$T/trial.err")"
			break
		fi
		times+=("$ms")
		if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $ms < $best)"; then
			best=$ms
		fi
	done
	if [ -n "$best" ] && python3 -c "import sys; sys.exit(not $best < 100)"; then
		pass "rdmafsctl unpin released a parked truncate ${best} ms after it exited (trials: ${times[*]} ms)"
	elif [ -n "$best" ]; then
		fail "parked truncate returned ${best} ms after rdmafsctl unpin (trials: ${times[*]} ms), not within 100 ms"
	fi
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
