#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The daemon killed in the middle of its start-up (issue 8 review): after
# mounting, the parent waits on a pipe for the daemonised child to say
# how start-up went.  A child killed before that (SIGKILL at its first
# thread, by an LD_PRELOAD shim) used to leave a mount nobody served
# (ENOTCONN on every access until unmounted by hand) and a parent that
# exited 1 without a word.  Now the parent unmounts it, says that the
# daemon was killed and by which signal, and exits 1; the same command
# then mounts again.
#
# Runs in a private mount namespace with a /run/rdmafs and a backing
# tmpfs of its own.  Needs root and /dev/fuse (exit 77 otherwise).
# Usage: test-mount-startkill.sh SHIM.so; RDMAFS_BIN names the binary.

set -euo pipefail

BIN=${RDMAFS_BIN:-rdmafs}
SHIM=$(readlink -f "$1")
me=test-mount-startkill
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
BIN=$(readlink -f "$(command -v "$BIN")")
# A sanitizer's runtime must come first: no preloading before it.
if ldd "$BIN" | grep -Eq 'lib(a|ub|t)san'; then
	echo "$me: skip: $BIN is built with a sanitizer"
	exit 77
fi
if [ -z "${RDMAFS_STARTKILL_NS:-}" ]; then
	RDMAFS_STARTKILL_NS=1 exec unshare -m --propagation private \
		bash "$0" "$@"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-startkill.XXXXXX")
failures=0

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local m
	for m in $(findmnt -n -l -o TARGET | grep -F "$T" | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	umount -l /run/rdmafs 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

mkdir -p "$T/back" "$T/mnt"
mount -t tmpfs -o mode=0755 rdmafs-startkill "$T/back"
[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs

rc=0
LD_PRELOAD=$SHIM timeout -s KILL 30 "$BIN" "$T/back" "$T/mnt" \
	>"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -ne 1 ]; then
	fail "killed child: exit status $rc, want 1 (stderr: $(cat "$T/err"))"
elif ! grep -q "^rdmafs: the daemon was killed by signal 9 " "$T/err"; then
	fail "killed child: nothing said on stderr: $(cat "$T/err")"
else
	pass "killed child: exit status 1, $(cat "$T/err")"
fi
# The parent unmounted before it exited: no waiting here.
if findmnt -n "$T/mnt" >/dev/null; then
	fail "killed child: left a mount behind: $(findmnt -n "$T/mnt")"
	umount -l "$T/mnt" || true
else
	pass "killed child: no mount left"
fi

# The same command works again, on the same mount point.
rc=0
timeout 30 "$BIN" "$T/back" "$T/mnt" 2>"$T/err" || rc=$?
if [ "$rc" -ne 0 ] || ! is_rdmafs_mount "$T/mnt"; then
	fail "again: exit status $rc, mounted: $(findmnt -n "$T/mnt" || true) ($(cat "$T/err"))"
else
	pass "again: mounted, exit status 0"
fi
timeout 10 fusermount3 -u "$T/mnt" 2>/dev/null || umount -l "$T/mnt" || true

if [ "$failures" -ne 0 ]; then
	echo "$me: $failures failed"
	exit 1
fi
echo "$me: all passed"
