#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The rdmafs command line: clear one-line errors and a non-zero exit for
# bad invocations, --help and --version, daemonising by default, a clean
# exit on SIGTERM, and mounting through mount(8) -t fuse.rdmafs.
#
# Needs root and /dev/fuse (exit 77 otherwise).  RDMAFS_BIN names the
# binary under test.

set -u

BIN=${RDMAFS_BIN:-rdmafs}
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root"
	exit 77
fi
if ! [ -c /dev/fuse ] || ! { exec 3<>/dev/fuse; } 2>/dev/null; then
	echo "skip: /dev/fuse is not usable"
	exit 77
fi
exec 3>&-
for tool in fusermount3 findmnt timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done

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

T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-cli.XXXXXX") || exit 1
failures=0
started=() # pids of the daemons we started ourselves

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local m p
	for m in "$T"/m*; do
		while findmnt -n -M "$m" >/dev/null 2>&1; do
			fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" ||
				break
		done
	done
	for p in "${started[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

# Processes whose command line mentions $1 (our unique temp paths).
procs_with() {
	local d cmd
	for d in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
		case "$cmd" in
		*"$1"*) echo "${d#/proc/}" ;;
		esac
	done
}

# Waits up to 5 s for $1 to become (or, with "gone", stop being) a mount.
wait_mount() {
	local _
	for _ in $(seq 100); do
		if [ "${2:-}" = gone ]; then
			is_rdmafs_mount "$1" || return 0
		else
			is_rdmafs_mount "$1" && return 0
		fi
		sleep 0.05
	done
	return 1
}

# expect_error NAME PATTERN ARGS...: rdmafs ARGS must fail at once with a
# single line on stderr matching PATTERN (extended regex), and mount
# nothing.
expect_error() {
	local name=$1 pattern=$2 rc lines
	shift 2
	timeout 10 "$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
		fail "$name: exit status $rc"
	elif [ "$lines" -ne 1 ]; then
		fail "$name: $lines lines on stderr: $(cat "$T/err")"
	elif ! grep -Eq -- "$pattern" "$T/err"; then
		fail "$name: stderr '$(cat "$T/err")' does not match '$pattern'"
	else
		pass "$name: $(cat "$T/err")"
	fi
}

mkdir "$T/b" "$T/b2" "$T/m" "$T/m2" "$T/m3" "$T/m4" "$T/m5"
echo data >"$T/b/file"
echo plain >"$T/afile"

# ---- bad invocations ----
expect_error "missing backing" "rdmafs: .*$T/nonexistent.*No such file" \
	"$T/nonexistent" "$T/m"
expect_error "backing is a file" "rdmafs: .*$T/afile.*Not a directory" \
	"$T/afile" "$T/m"
expect_error "missing mountpoint" "rdmafs: .*$T/nomnt.*No such file" \
	"$T/b" "$T/nomnt"
expect_error "mountpoint is a file" "rdmafs: .*Not a directory" \
	"$T/b" "$T/afile"
expect_error "bad cache mode" "rdmafs: .*cache=bogus" \
	-o cache=bogus "$T/b" "$T/m"
expect_error "negative timeout" "rdmafs: .*timeout" \
	-o timeout=-5 "$T/b" "$T/m"
expect_error "no arguments" "rdmafs: .*BACKING"
expect_error "extra argument" "rdmafs: .*extra" "$T/b" "$T/m" extra
# libfuse reports unknown options itself; only the status is ours.
if timeout 10 "$BIN" -o no_such_option "$T/b" "$T/m" >/dev/null 2>&1; then
	fail "unknown option accepted"
elif is_rdmafs_mount "$T/m"; then
	fail "unknown option: mounted anyway"
else
	pass "unknown option refused"
fi

# ---- --help and --version ----
if out=$(timeout 10 "$BIN" --help 2>&1) && grep -q "BACKING MOUNTPOINT" <<<"$out"; then
	pass "--help"
else
	fail "--help: $out"
fi
if out=$(timeout 10 "$BIN" --version 2>&1) && grep -Eq "rdmafs.*[0-9]+\.[0-9]+" <<<"$out"; then
	pass "--version: $(head -n 1 <<<"$out")"
else
	fail "--version: $out"
fi

# ---- daemonising by default ----
if ! timeout 10 "$BIN" -o allow_other "$T/b" "$T/m" 2>"$T/err"; then
	fail "default mode: rdmafs failed: $(cat "$T/err")"
elif ! wait_mount "$T/m"; then
	fail "default mode: returned but nothing is mounted"
else
	if [ "$(cat "$T/m/file" 2>/dev/null)" = data ]; then
		pass "default mode: daemonised and serving"
	else
		fail "default mode: mounted but the file is not served"
	fi
	pids=$(procs_with "$T/b")
	[ -n "$pids" ] || fail "default mode: no daemon process found"

	# A second rdmafs on an rdmafs mountpoint: refused as busy.
	expect_error "mountpoint busy" "rdmafs: .*busy" "$T/b2" "$T/m"
	n=$(findmnt -n -M "$T/m" | wc -l)
	[ "$n" -eq 1 ] || fail "mountpoint busy: $n mounts stacked on $T/m"

	fusermount3 -u "$T/m" || fail "default mode: fusermount3 -u failed"
	for _ in $(seq 100); do
		[ -z "$(procs_with "$T/b")" ] && break
		sleep 0.05
	done
	if [ -n "$(procs_with "$T/b")" ]; then
		fail "default mode: daemon still running after unmount: $(procs_with "$T/b")"
	else
		pass "default mode: no daemon left after fusermount3 -u"
	fi
fi

# ---- SIGTERM to a foreground daemon ----
"$BIN" -f -o allow_other "$T/b" "$T/m2" 2>"$T/err2" &
fg=$!
started+=("$fg")
if ! wait_mount "$T/m2"; then
	fail "foreground: did not mount: $(cat "$T/err2")"
	kill -KILL "$fg" 2>/dev/null
	wait "$fg"
	started=()
else
	kill -TERM "$fg"
	# Until we reap it, its pid stays ours: poll, and kill it on a hang.
	for _ in $(seq 200); do
		state=$(awk '{ print $3 }' "/proc/$fg/stat" 2>/dev/null)
		[ "$state" = Z ] || [ -z "$state" ] && break
		sleep 0.05
	done
	[ "$state" = Z ] || [ -z "$state" ] || kill -KILL "$fg"
	wait "$fg"
	rc=$?
	started=() # reaped: its pid may be reused, never signal it again
	if [ "$rc" -ne 0 ]; then
		fail "SIGTERM: exit status $rc"
	elif is_rdmafs_mount "$T/m2"; then
		fail "SIGTERM: exited but left the mount behind"
	else
		pass "SIGTERM: unmounted, exit 0"
	fi
fi

# ---- overmount from the command line: BACKING == MOUNTPOINT ----
echo over >"$T/b2/o"
if timeout 10 "$BIN" -o allow_other "$T/b2" "$T/b2" 2>"$T/err" &&
	wait_mount "$T/b2"; then
	if [ "$(cat "$T/b2/o" 2>/dev/null)" = over ]; then
		pass "overmount: serves the files underneath"
	else
		fail "overmount: the files underneath are not served"
	fi
	fusermount3 -u "$T/b2" || fail "overmount: unmount failed"
else
	fail "overmount: $(cat "$T/err")"
fi

# ---- mount -t fuse.rdmafs: through mount.fuse3 ----
#
# mount(8) runs /sbin/mount.fuse3, which starts "rdmafs BACKING MNT -o
# OPTS" through /bin/sh, so rdmafs has to be found on PATH.  But mount(8)
# running as root resets PATH to the standard system path before running
# a helper, so a directory prepended to PATH is not seen.  The test
# therefore runs mount.fuse3 itself, as mount(8) would, with the binary on
# a prepended PATH; runs mount(8) with the old "fuse" type whose source
# names the program ("/path/to/rdmafs#BACKING"); and runs the plain
# mount -t fuse.rdmafs only when an rdmafs on the system path is the
# binary under test.

# check_served NAME MNT: the mount at MNT serves $T/b, then umount(8).
check_served() {
	local name=$1 mnt=$2 src opts
	if ! wait_mount "$mnt"; then
		fail "$name: nothing mounted"
		return
	fi
	src=$(findmnt -n -o SOURCE -M "$mnt")
	opts=$(findmnt -n -o OPTIONS -M "$mnt")
	if [ "$(cat "$mnt/file" 2>/dev/null)" != data ]; then
		fail "$name: the file is not served"
	elif [ "$src" != "$T/b" ]; then
		fail "$name: source is '$src'"
	elif ! grep -q allow_other <<<"$opts"; then
		fail "$name: options '$opts'"
	else
		pass "$name"
	fi
	# Unmounted by umount(8) like any filesystem, and the daemon leaves.
	umount "$mnt" || fail "$name: umount failed"
	wait_mount "$mnt" gone || fail "$name: still mounted after umount"
	for _ in $(seq 100); do
		[ -z "$(procs_with "$T/b $mnt")" ] && break
		sleep 0.05
	done
	[ -z "$(procs_with "$T/b $mnt")" ] ||
		fail "$name: a daemon is still running after umount"
}

helper=$(command -v mount.fuse3 || ls /sbin/mount.fuse3 2>/dev/null)
if [ -z "$helper" ]; then
	echo "skip: mount.fuse3 is missing (package fuse3)"
else
	real=$(readlink -f "$(command -v "$BIN")")
	mkdir "$T/path"
	ln -s "$real" "$T/path/rdmafs"
	if PATH="$T/path:$PATH" timeout 20 "$helper" "$T/b" "$T/m3" \
		-t fuse.rdmafs -o allow_other 2>"$T/err"; then
		check_served "mount.fuse3 -t fuse.rdmafs" "$T/m3"
	else
		fail "mount.fuse3 -t fuse.rdmafs: $(cat "$T/err")"
	fi
	# rdmafs's own options pass through mount.fuse3 as well.
	if PATH="$T/path:$PATH" timeout 20 "$helper" "$T/b" "$T/m4" \
		-t fuse.rdmafs -o allow_other,cache=never,timeout=0 \
		2>"$T/err"; then
		check_served "mount.fuse3 with rdmafs options" "$T/m4"
	else
		fail "mount.fuse3 with rdmafs options: $(cat "$T/err")"
	fi
	if timeout 20 mount -t fuse "$real#$T/b" "$T/m5" -o allow_other \
		2>"$T/err"; then
		check_served "mount -t fuse PROGRAM#BACKING" "$T/m5"
	else
		fail "mount -t fuse PROGRAM#BACKING: $(cat "$T/err")"
	fi
	sys=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		command -v rdmafs)
	if [ -n "$sys" ] && [ "$(readlink -f "$sys")" = "$real" ]; then
		if timeout 20 mount -t fuse.rdmafs "$T/b" "$T/m3" \
			-o allow_other 2>"$T/err"; then
			check_served "mount -t fuse.rdmafs" "$T/m3"
		else
			fail "mount -t fuse.rdmafs: $(cat "$T/err")"
		fi
	else
		echo "skip: mount -t fuse.rdmafs itself: the rdmafs on the system path is not $real"
	fi
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all passed"
exit 0
