# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# What the rdmafsctl tests share (test-mount-ctl.sh, test-mount-ctl-pin.sh,
# test-mount-ctl-events.sh), which source this file first: the checks
# that skip (77) without root, /dev/fuse or a tool, a mount namespace of
# their own, a scratch directory $T with backing $B and mount point $M,
# mounting with $MOUNT_OPTS, and running rdmafsctl into $T/out and
# $T/err.  RDMAFS_BIN and RDMAFSCTL name the binaries under test (or pass
# RDMAFSCTL as the first argument).  The sourcing script exits non-zero
# when $failures is not 0.

BIN=${RDMAFS_BIN:-rdmafs}
CTL=${1:-${RDMAFSCTL:-rdmafsctl}}
MOUNT_OPTS=${MOUNT_OPTS:-allow_other}

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root"
	exit 77
fi
if ! [ -c /dev/fuse ] || ! { exec 3<>/dev/fuse; } 2>/dev/null; then
	echo "skip: /dev/fuse is not usable"
	exit 77
fi
exec 3>&-
for tool in fusermount3 findmnt timeout getfattr setfattr; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done
have_python=false
if command -v python3 >/dev/null && python3 -c 'import json' 2>/dev/null; then
	have_python=true
else
	echo "note: no python3: JSON output is checked by eye only"
fi

# One rdmafs per backing filesystem (/run/rdmafs/MAJ:MIN.lock): in a
# mount namespace with a /run/rdmafs of its own, so that daemons that
# other runs keep over /tmp don't refuse ours.
if [ -z "${RDMAFS_TEST_NS:-}" ] && command -v unshare >/dev/null; then
	RDMAFS_TEST_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
if [ -n "${RDMAFS_TEST_NS:-}" ]; then
	[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
	mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-ctl.XXXXXX") || exit 1
# others must reach the mount for the second user's pins
chmod 755 "$T"
B=$T/b
M=$T/m
failures=0

# background rdmafsctl processes of the test, ended on exit
bg_pids=()

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local pid
	for pid in "${bg_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	while findmnt -n -M "$M" >/dev/null 2>&1; do
		fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M" || break
	done
	rm -rf "$T"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

do_mount() {
	if ! timeout 20 "$BIN" -o "$MOUNT_OPTS" "$B" "$M" 2>"$T/err" ||
		! wait_mount; then
		echo "FAIL: couldn't mount: $(cat "$T/err")"
		exit 1
	fi
}

do_umount() {
	fusermount3 -u "$M" && wait_mount gone
}

# ctl NAME ARGS...: runs rdmafsctl into $T/out and $T/err; fails the
# check unless it exits 0 with nothing on stderr.
ctl() {
	local name=$1 rc
	shift
	timeout 60 "$CTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$T/err" ]; then
		fail "$name: rdmafsctl $*: exit $rc: $(head -c 300 "$T/err")"
		return 1
	fi
	return 0
}

# ctl_error NAME STATUS PATTERN ARGS...: rdmafsctl must exit with STATUS
# (2 usage, 3 not an rdmafs mount, 1 other failures) with one line on
# stderr matching PATTERN and print nothing on stdout.
ctl_error() {
	local name=$1 want=$2 pattern=$3 rc
	shift 3
	timeout 60 "$CTL" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit status $rc, not $want: $(head -c 300 "$T/err")"
	elif [ "$(wc -l <"$T/err")" -ne 1 ]; then
		fail "$name: stderr is not one line: $(cat "$T/err")"
	elif ! grep -Eq -- "$pattern" "$T/err"; then
		fail "$name: stderr '$(cat "$T/err")' does not match '$pattern'"
	elif [ -s "$T/out" ]; then
		fail "$name: printed on stdout: $(head -c 200 "$T/out")"
	else
		pass "$name: $(cat "$T/err")"
	fi
}

pin() {
	local err
	if ! err=$(setfattr -n user.rdmafs.pin -v "$2" "$1" 2>&1); then
		fail "pin $2 on $1: $err"
		return 1
	fi
}

# json_check NAME PYTHON [FILE [ARGS...]]: runs PYTHON with `d` bound to
# the JSON in FILE ($T/out by default) and `text` to its text; it raises
# (assert) to fail.  ARGS are sys.argv[2:].  jsonl_check does the same for
# JSON Lines, with `d` the list of the lines' values.
json_check() {
	local name=$1 code=$2
	shift 2
	py_check "$name" "d = json.loads(text)
$code" "${@:-$T/out}"
}

jsonl_check() {
	local name=$1 code=$2
	shift 2
	py_check "$name" "d = [json.loads(l) for l in text.splitlines()]
$code" "${@:-$T/out}"
}

py_check() {
	local name=$1 code=$2 out
	shift 2
	$have_python || return 0
	if out=$(python3 -c "
import json, re, sys
text = open(sys.argv[1], encoding='utf-8', errors='surrogateescape').read()
$code
" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name: $(tail -n 3 <<<"$out")"
	fi
}

# as_nobody CMD...: runs CMD as uid and gid 65534 without groups.  The
# build directory may lie under one only root can enter (a checkout in a
# mktemp -d directory): then $CTL runs as a copy in $T, with the library
# it was built with.
as_nobody() {
	if [ "$1" = "$CTL" ] && [ -n "$nobody_ctl" ]; then
		shift
		set -- "$nobody_ctl" "$@"
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env ${nobody_libs:+LD_LIBRARY_PATH="$nobody_libs"} "$@"
}
nobody_ctl=
nobody_libs=
if command -v setpriv >/dev/null &&
	! setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$CTL" --version >/dev/null 2>&1; then
	mkdir -m 0755 "$T/nobody"
	cp "$(command -v "$CTL")" "$T/nobody/rdmafsctl"
	lib=$(ldd "$(command -v "$CTL")" | awk '$1 ~ /^librdmafs/ { print $3 }')
	[ -z "$lib" ] || cp "$lib" "$T/nobody/"
	chmod -R a+rX "$T/nobody"
	nobody_ctl=$T/nobody/rdmafsctl
	nobody_libs=$T/nobody
fi
