#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A start-up failure after mounting reaches the caller (issue 8): the
# pin table and the mediator run threads, so they start in the
# daemonised process, after the fork.  With fuse_daemonize() the parent
# had exited 0 by then and the child's "couldn't start the pin table"
# went to /dev/null.  Now the parent waits for the child's start-up and
# exits with its status, and the message is on the caller's stderr.
#
# The trigger is a real one: a task limit (a pids cgroup with pids.max,
# as systemd's TasksMax sets it) too low for the daemon's threads.  The
# daemon then exits 1 with the message, in the background and with -f,
# and leaves no mount behind.
#
# Runs in a private mount namespace with a /run/rdmafs and a backing
# tmpfs of its own.  Needs root, /dev/fuse and a writable pids cgroup
# (exit 77 otherwise).  RDMAFS_BIN names the binary under test.

set -euo pipefail

BIN=${RDMAFS_BIN:-rdmafs}
me=test-mount-startfail
if [ "$(id -u)" -ne 0 ]; then
	echo "$me: skip: needs root"
	exit 77
fi
if ! [ -c /dev/fuse ] || ! { exec 3<>/dev/fuse; } 2>/dev/null; then
	echo "$me: skip: /dev/fuse is not usable"
	exit 77
fi
exec 3>&-
for tool in fusermount3 findmnt timeout unshare mount; do
	if ! command -v "$tool" >/dev/null; then
		echo "$me: skip: $tool is missing"
		exit 77
	fi
done
# A pids controller we may make a group in: cgroup v1, or v2's unified tree.
CG_ROOT=
if [ -w /sys/fs/cgroup/pids/cgroup.procs ]; then
	CG_ROOT=/sys/fs/cgroup/pids
elif [ -f /sys/fs/cgroup/cgroup.subtree_control ] &&
	grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	CG_ROOT=/sys/fs/cgroup
fi
if [ -z "$CG_ROOT" ]; then
	echo "$me: skip: no writable pids cgroup"
	exit 77
fi
if [ -z "${RDMAFS_STARTFAIL_NS:-}" ]; then
	RDMAFS_STARTFAIL_NS=1 exec unshare -m --propagation private \
		bash "$0" "$@"
fi

BIN=$(readlink -f "$(command -v "$BIN")")
T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-startfail.XXXXXX")
CG="$CG_ROOT/rdmafs-startfail-$$"
failures=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local m
	for m in $(findmnt -n -l -o TARGET | grep -F "$T" | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	if [ -d "$CG" ]; then
		while read -r p; do
			kill -KILL "$p" 2>/dev/null || true
		done <"$CG/cgroup.procs"
		sleep 0.2
		rmdir "$CG" 2>/dev/null || true
	fi
	umount -l /run/rdmafs 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

# A filesystem of our own, so that no other test's daemon serves it.
mkdir -p "$T/back" "$T/mnt"
mount -t tmpfs -o mode=0755 rdmafs-startfail "$T/back"
[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs
mkdir "$CG"

# The control: without a limit the same command mounts and exits 0.
rc=0
timeout 30 "$BIN" "$T/back" "$T/mnt" 2>"$T/err" || rc=$?
if [ "$rc" -ne 0 ] || ! is_rdmafs_mount "$T/mnt"; then
	fail "unlimited: exit status $rc, mounted: $(findmnt -n "$T/mnt" || true) ($(cat "$T/err"))"
else
	pass "unlimited: mounted, exit status 0"
fi
timeout 10 fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt" || true
for _ in $(seq 100); do
	is_rdmafs_mount "$T/mnt" || break
	sleep 0.05
done

# run_limited MAX ARGS...: rdmafs ARGS as the only task of a group that
# may hold MAX tasks; sets rc and leaves stderr in $T/err.
run_limited() {
	local max=$1
	shift
	# The tasks of the last run must be gone (an exiting one still counts).
	for _ in $(seq 200); do
		[ "$(cat "$CG/pids.current")" -eq 0 ] && break
		sleep 0.05
	done
	echo "$max" >"$CG/pids.max"
	rc=0
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout -s KILL 30 bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' \
		limited "$CG" "$BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# expect_startfail NAME: the last run failed with status 1, said why on
# stderr, and left no mount behind.
expect_startfail() {
	local name=$1
	if [ "$rc" -ne 1 ]; then
		fail "$name: exit status $rc, want 1 (stderr: $(cat "$T/err"))"
	elif ! grep -Eq "^rdmafs: couldn't start the (pin table|mediator): " "$T/err"; then
		fail "$name: no start-up message on stderr: $(cat "$T/err")"
	else
		pass "$name: exit status 1, $(grep -E "couldn't start" "$T/err")"
	fi
	for _ in $(seq 100); do
		is_rdmafs_mount "$T/mnt" || break
		sleep 0.05
	done
	if is_rdmafs_mount "$T/mnt"; then
		fail "$name: left a mount behind"
		umount -l "$T/mnt" || true
	fi
}

# In the background: the parent and the daemon, and the hash table's
# resize worker (liburcu), fit in 3 tasks; the pin table's own thread does
# not.  (A liburcu without that worker fails at the mediator instead.)
run_limited 3 "$T/back" "$T/mnt"
expect_startfail "background, pids.max=3"

# In the foreground (no fork), one task fewer.
run_limited 2 -f "$T/back" "$T/mnt"
expect_startfail "foreground, pids.max=2"

if [ "$failures" -ne 0 ]; then
	echo "$me: $failures failed"
	exit 1
fi
echo "$me: all passed"
