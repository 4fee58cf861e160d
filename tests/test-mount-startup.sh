#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Start-up checks that keep rdmafs from failing open (DESIGN §11):
#  - every numeric option is range-checked (no wrap, no negative, no
#    inf/nan), and the edge values that are allowed do mount;
#  - one daemon per backing directory, however it is named (another
#    mountpoint, a symlink, a bind mount, an overmount), and a restart
#    after kill -9 works;
#  - the audit log is opened before mounting: a missing directory exits 1
#    in the background too, a symlink and a FIFO are refused, a path under
#    the mountpoint is refused (or, in an overmount, works) without hanging;
#  - a mountpoint inside BACKING is refused;
#  - mount -o remount changes the live mount and starts no daemon;
#    it refuses another BACKING and a change of an rdmafs option;
#  - BACKING/.rdmafs and its lock must be the daemon's own, and so must
#    the audit log and every directory above it;
#  - one daemon per backing FILESYSTEM: a subdirectory or a parent of a
#    served backing is refused; a restart while the old daemon still
#    exits waits for its locks.
#
# The whole script runs in a private mount namespace, so that an rdmafs
# can be put on the system path that mount(8) gives mount.fuse3 (a bind
# mount over /usr/local/sbin) without touching the host.
#
# Needs root and /dev/fuse (exit 77 otherwise).  RDMAFS_BIN names the
# binary under test.

set -euo pipefail

BIN=${RDMAFS_BIN:-rdmafs}
me=test-mount-startup
if [ "$(id -u)" -ne 0 ]; then
	echo "$me: skip: needs root"
	exit 77
fi
if ! [ -c /dev/fuse ] || ! { exec 3<>/dev/fuse; } 2>/dev/null; then
	echo "$me: skip: /dev/fuse is not usable"
	exit 77
fi
exec 3>&-
for tool in fusermount3 findmnt timeout unshare mount setfattr getfattr \
	mkfifo setpriv flock stat; do
	if ! command -v "$tool" >/dev/null; then
		echo "$me: skip: $tool is missing"
		exit 77
	fi
done
if [ -z "${RDMAFS_STARTUP_NS:-}" ]; then
	RDMAFS_STARTUP_NS=1 exec unshare -m --propagation private \
		bash "$0" "$@"
fi

BIN=$(readlink -f "$(command -v "$BIN")")
T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-startup.XXXXXX")
failures=0
# One rdmafs per backing filesystem: a filesystem of our own, so that
# daemons of other tests elsewhere in /tmp don't refuse ours (and a
# second one, $T/fs2, for two daemons at once).  And a /run/rdmafs of our
# own (this namespace only), so that its checks can be tried.
# A loop-mounted XFS (ext4 without xfsprogs): pins need a real one.
IMG=$(mktemp "${TMPDIR:-/tmp}/rdmafs-startup-img.XXXXXX")
truncate -s 320M "$IMG"
if command -v mkfs.xfs >/dev/null; then
	mkfs.xfs -q -f "$IMG" >/dev/null 2>&1
else
	mkfs.ext4 -q -F "$IMG" >/dev/null 2>&1
fi
if ! mount -o loop "$IMG" "$T" 2>/dev/null; then
	rm -rf "$T" "$IMG"
	echo "$me: skip: cannot loop-mount a filesystem image"
	exit 77
fi
chmod 0755 "$T"
[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local m p
	for m in $(findmnt -n -l -o TARGET | grep -F "$T" | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	# Daemons of ours that a failure left behind (a hung one, say).
	for p in $(pgrep -f "$T" || true); do
		kill -KILL "$p" 2>/dev/null || true
	done
	umount -l /run/rdmafs 2>/dev/null || true
	rm -rf "$T" "$IMG"
}

# Every access through a mount: a hung daemon must fail the test, not
# hang it (SIGKILL ends a wait on a FUSE request; SIGTERM may not).
t() {
	timeout -s KILL 10 "$@"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

# The pid of the daemon serving backing directory $1, from its lock file.
lock_pid() {
	cut -d' ' -f1 "$1/.rdmafs/lock" 2>/dev/null || true
}

# Waits up to 10 s for $1 to stop being an rdmafs mount.
wait_gone() {
	local _
	for _ in $(seq 200); do
		is_rdmafs_mount "$1" || return 0
		sleep 0.05
	done
	return 1
}

# Unmounts $1 and waits for daemon pid $2 (if any) to leave.
unmount() {
	local _
	t fusermount3 -u "$1" 2>/dev/null || umount -l "$1" || true
	wait_gone "$1" || fail "unmount $1: still mounted"
	[ -n "${2:-}" ] || return 0
	for _ in $(seq 200); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.05
	done
	fail "unmount $1: daemon $2 still running"
}

# expect_error NAME PATTERN ARGS...: rdmafs ARGS must fail at once (within
# 10 s: no hang) with status 1, one line on stderr matching PATTERN, and
# mount nothing on the last argument.
expect_error() {
	local name=$1 pattern=$2 rc=0 lines mnt
	shift 2
	mnt=${*: -1}
	timeout 10 "$BIN" "$@" >"$T/out" 2>"$T/err" || rc=$?
	lines=$(wc -l <"$T/err")
	if [ "$rc" -ne 1 ]; then
		fail "$name: exit status $rc (stderr: $(cat "$T/err"))"
	elif [ "$lines" -ne 1 ]; then
		fail "$name: $lines lines on stderr: $(cat "$T/err")"
	elif ! grep -Eq -- "$pattern" "$T/err"; then
		fail "$name: stderr '$(cat "$T/err")' does not match '$pattern'"
	else
		pass "$name: $(cat "$T/err")"
	fi
	if is_rdmafs_mount "$mnt" && [ "$mnt" != "${keep_mnt:-}" ]; then
		fail "$name: mounted anyway"
		umount -l "$mnt"
	fi
}

# expect_mount NAME BACKING MNT OPTS: rdmafs mounts and serves BACKING's
# "file"; leaves it mounted.
expect_mount() {
	local name=$1 b=$2 m=$3 opts=$4
	if ! timeout 10 "$BIN" -o "$opts" "$b" "$m" 2>"$T/err"; then
		fail "$name: rdmafs failed: $(cat "$T/err")"
		return 1
	fi
	if ! is_rdmafs_mount "$m"; then
		fail "$name: returned 0 but nothing is mounted"
		return 1
	fi
	if [ "$(t cat "$m/file" 2>/dev/null)" != data ]; then
		fail "$name: mounted but $b/file is not served"
		return 1
	fi
	pass "$name"
}

mkdir "$T/b" "$T/m" "$T/m2" "$T/b2" "$T/m3" "$T/sys"
echo data >"$T/b/file"
echo data >"$T/b2/file"

# ---- numbers (issue 7 item 11) ----
bad_numbers=(
	max_pins=-1 max_pins=99999999999 max_pins=4294967296 max_pins=0
	max_pins=16777217 max_pins=1e3 max_pins=0x10 max_pins= "max_pins= 5"
	max_pins=+5
	threads=-1 threads=0 threads=1025 threads=4294967297
	timeout=-1 timeout=inf timeout=nan timeout=-inf timeout=1e400
	timeout=31536001 timeout=.5 timeout=1x timeout=
	break_timeout=-1 break_timeout=inf break_timeout=nan
	break_timeout=99999999999 break_timeout=1.5 break_timeout=31536001
	fd_cache=-1 fd_cache=4294967297 fd_cache=1048577
	max_pins_per_file=0 max_pins_per_file=513 max_pins_per_file=-1
	max_pins_per_file=4294967809
	max_pins_per_user=0 max_pins_per_user=-1 max_pins_per_user=65537
	# Above max_pins: two options in one -o.
	"max_pins=100,max_pins_per_user=101"
)
for o in "${bad_numbers[@]}"; do
	name=${o##*,}
	name=${name%%=*}
	expect_error "bad number $o" "^rdmafs: bad option '$name=.*': a (whole number|number of seconds) from [0-9]+ to [0-9]+$" \
		-o "$o" "$T/b" "$T/m"
done

# The edges that are allowed, and that they reach the daemon.
status() {
	t getfattr --only-values -n user.rdmafs.status "$1" 2>/dev/null || true
}
if expect_mount "upper edges" "$T/b" "$T/m" \
	max_pins=16777216,max_pins_per_user=16777216,max_pins_per_file=512,threads=1024,timeout=31536000,break_timeout=31536000,fd_cache=1048576; then
	st=$(status "$T/m")
	grep -qx max_pins=16777216 <<<"$st" ||
		fail "upper edges: status says '$st'"
	unmount "$T/m" "$(lock_pid "$T/b")"
fi
if expect_mount "lower edges" "$T/b" "$T/m" \
	max_pins=1,max_pins_per_user=1,max_pins_per_file=1,threads=1,timeout=0.25,break_timeout=0,fd_cache=0; then
	st=$(status "$T/m")
	if ! grep -qx max_pins=1 <<<"$st" ||
		! grep -qx max_pins_per_file=1 <<<"$st"; then
		fail "lower edges: status says '$st'"
	fi
	# max_pins=1: a second pin is refused.
	echo x >"$T/b/p1"
	echo x >"$T/b/p2"
	if ! t setfattr -n user.rdmafs.pin -v 0+1 "$T/m/p1" 2>"$T/err"; then
		fail "max_pins=1: first pin: $(cat "$T/err")"
	elif t setfattr -n user.rdmafs.pin -v 0+1 "$T/m/p2" 2>/dev/null; then
		fail "max_pins=1: a second pin was taken"
	else
		pass "max_pins=1: a second pin is refused"
	fi
	t setfattr -n user.rdmafs.unpin -v 0+1 "$T/m/p1" 2>/dev/null || true
	unmount "$T/m" "$(lock_pid "$T/b")"
fi
# max_pins below the default max_pins_per_user (4096) lowers it.
if expect_mount "max_pins=10 alone" "$T/b" "$T/m" max_pins=10; then
	unmount "$T/m" "$(lock_pid "$T/b")"
fi

# ---- one daemon per backing directory (item 3) ----
if expect_mount "first instance" "$T/b" "$T/m" allow_other; then
	pid=$(lock_pid "$T/b")
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = rdmafs ]; then
		pass "lock file names the daemon (pid $pid), not its exited parent"
	else
		fail "lock file: '$(cat "$T/b/.rdmafs/lock")' is not a live rdmafs"
	fi
	keep_mnt=$T/m
	served="^rdmafs: .* is already served by rdmafs \\(pid $pid at $T/m\\)$"
	expect_error "second instance, other mountpoint" "$served" \
		"$T/b" "$T/m2"
	ln -s "$T/b" "$T/blink"
	expect_error "second instance through a symlink" "$served" \
		"$T/blink" "$T/m2"
	mkdir "$T/bbind"
	mount --bind "$T/b" "$T/bbind"
	expect_error "second instance through a bind mount" "$served" \
		"$T/bbind" "$T/m2"
	umount "$T/bbind"
	expect_error "second instance as an overmount" "$served" \
		"$T/b" "$T/b"
	is_rdmafs_mount "$T/b" && fail "overmount of a served backing: mounted"
	# The first one still works.
	[ "$(t cat "$T/m/file" 2>/dev/null)" = data ] ||
		fail "first instance: no longer serving"
	keep_mnt=

	# kill -9: the kernel drops the lock; after the stale mount is
	# gone, a new daemon starts.
	[ -n "$pid" ] || pid=$(pgrep -n -f "rdmafs.*$T/b $T/m" || true)
	kill -KILL "$pid" || fail "kill -9: no daemon '$pid'"
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	umount -l "$T/m" 2>/dev/null || fusermount3 -u -z "$T/m" || true
	wait_gone "$T/m" || fail "kill -9: stale mount stays"
	if expect_mount "restart after kill -9" "$T/b" "$T/m" allow_other; then
		unmount "$T/m" "$(lock_pid "$T/b")"
	fi
fi

# Overmount: works, refuses a second daemon, restarts after kill -9.
if expect_mount "overmount" "$T/b2" "$T/b2" allow_other; then
	pid=$(pgrep -n -f "rdmafs.*$T/b2 $T/b2" || true)
	keep_mnt=$T/b2
	expect_error "second instance over an overmounted backing" \
		"^rdmafs: .*$T/b2 is already served by rdmafs" "$T/b2" "$T/m2"
	keep_mnt=
	if [ -n "$pid" ]; then
		kill -KILL "$pid"
		for _ in $(seq 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		umount -l "$T/b2" 2>/dev/null || true
		wait_gone "$T/b2" || fail "overmount kill -9: stale mount stays"
		if expect_mount "overmount restart after kill -9" "$T/b2" \
			"$T/b2" allow_other; then
			unmount "$T/b2"
		fi
	else
		fail "overmount: daemon not found"
		unmount "$T/b2"
	fi
fi

# ---- a mountpoint inside BACKING (item 10) ----
mkdir -p "$T/b/sub/deeper" "$T/balias"
inside="^rdmafs: mountpoint .* is inside the backing directory .*"
expect_error "mountpoint inside backing" "$inside" "$T/b" "$T/b/sub"
expect_error "mountpoint deep inside backing" "$inside" \
	"$T/b" "$T/b/sub/deeper"
expect_error "mountpoint inside backing, through a symlink" "$inside" \
	"$T/b" "$T/blink/sub"
mount --bind "$T/b" "$T/balias"
expect_error "mountpoint inside backing, through a bind mount" "$inside" \
	"$T/b" "$T/balias/sub"
umount "$T/balias"
# BACKING inside the mountpoint is allowed: hidden under the mount, as
# in an overmount.
mkdir -p "$T/m3/inner"
echo data >"$T/m3/inner/file"
if expect_mount "backing inside the mountpoint" "$T/m3/inner" "$T/m3" \
	allow_other; then
	unmount "$T/m3"
fi

# ---- the audit log (item 7) ----
expect_error "audit_log in a missing directory (background)" \
	"^rdmafs: audit_log $T/nodir/a.jsonl: No such file or directory$" \
	-o audit_log="$T/nodir/a.jsonl" "$T/b" "$T/m"
expect_error "audit_log in a missing directory (-f)" \
	"^rdmafs: audit_log $T/nodir/a.jsonl: No such file or directory$" \
	-f -o audit_log="$T/nodir/a.jsonl" "$T/b" "$T/m"
: >"$T/target"
ln -s "$T/target" "$T/loglink"
expect_error "audit_log is a symlink" "symbolic link" \
	-o audit_log="$T/loglink" "$T/b" "$T/m"
[ -s "$T/target" ] && fail "audit_log symlink: the target was written"
mkfifo "$T/fifo"
expect_error "audit_log is a FIFO" "not a regular file|No such device" \
	-o audit_log="$T/fifo" "$T/b" "$T/m"
mkdir "$T/m/logs"
expect_error "audit_log under the mountpoint" \
	"^rdmafs: audit_log .* is under the mountpoint $T/m: " \
	-o audit_log="$T/m/logs/a.jsonl" "$T/b" "$T/m"
# Overmount: under the mount is BACKING itself; opened before mounting,
# so no hang, and the log shows through the mount.
mkdir "$T/b3"
echo data >"$T/b3/file"
if expect_mount "audit_log inside an overmount" "$T/b3" "$T/b3" \
	audit_log="$T/b3/audit.jsonl"; then
	if t setfattr -n user.rdmafs.pin -v 0+1 "$T/b3/file" 2>"$T/err" &&
		grep -q '"event":"pin"' "$T/b3/audit.jsonl"; then
		pass "audit_log inside an overmount: the pin is logged"
	else
		fail "audit_log inside an overmount: $(cat "$T/err")," \
			"log: $(cat "$T/b3/audit.jsonl" 2>&1)"
	fi
	t setfattr -n user.rdmafs.unpin -v 0+1 "$T/b3/file" 2>/dev/null || true
	unmount "$T/b3"
fi
# A good log: opened before daemonising, created 0640.
if expect_mount "audit_log outside" "$T/b" "$T/m" \
	audit_log="$T/good.jsonl"; then
	mode=$(stat -c %a "$T/good.jsonl" 2>/dev/null || echo missing)
	[ "$mode" = 640 ] || fail "audit_log outside: mode $mode"
	unmount "$T/m" "$(lock_pid "$T/b")"
fi

# ---- mount -o remount (item 12) ----
#
# mount(8) runs mount.fuse3, which runs "rdmafs BACKING MNT -o
# ...,remount,..." from the standard path: put the binary under test
# first on it, in this namespace only.
mkdir "$T/sysbin"
ln -s "$BIN" "$T/sysbin/rdmafs"
mount --bind "$T/sysbin" /usr/local/sbin
if expect_mount "remount: mounted" "$T/b" "$T/m" allow_other; then
	pid=$(lock_pid "$T/b")
	ndaemons() { pgrep -c -f "rdmafs.*$T/b" || true; }
	before=$(ndaemons)
	if ! timeout 20 mount -o remount,ro "$T/m" 2>"$T/err"; then
		fail "remount,ro: $(cat "$T/err")"
	else
		opts=$(findmnt -n -o OPTIONS -M "$T/m")
		if ! grep -Eq '(^|,)ro(,|$)' <<<"$opts"; then
			fail "remount,ro: options '$opts'"
		elif t tee "$T/m/new" <<<x >/dev/null 2>"$T/err"; then
			fail "remount,ro: a create succeeded"
		elif ! grep -q "Read-only file system" "$T/err"; then
			fail "remount,ro: create: $(cat "$T/err")"
		elif [ "$(t cat "$T/m/file")" != data ]; then
			fail "remount,ro: reading fails"
		else
			pass "remount,ro: writes get EROFS, reads work"
		fi
	fi
	[ "$(ndaemons)" = "$before" ] ||
		fail "remount: started another daemon ($(ndaemons) now)"
	[ "$(lock_pid "$T/b")" = "$pid" ] || fail "remount: lock changed hands"
	if ! timeout 20 mount -o remount,rw "$T/m" 2>"$T/err"; then
		fail "remount,rw: $(cat "$T/err")"
	elif ! t tee "$T/m/new" <<<new >/dev/null 2>"$T/err"; then
		fail "remount,rw: write: $(cat "$T/err")"
	elif [ "$(cat "$T/b/new")" != new ]; then
		fail "remount,rw: the write did not reach the backing file"
	else
		pass "remount,rw: writes work again"
	fi
	if ! timeout 20 mount -o remount,noatime "$T/m" 2>"$T/err"; then
		fail "remount,noatime: $(cat "$T/err")"
	elif ! findmnt -n -o OPTIONS -M "$T/m" | grep noatime >/dev/null ||
		! grep -F " $T/m " /proc/mounts | grep noatime >/dev/null; then
		fail "remount,noatime: /proc/mounts: $(grep -F "$T/m" /proc/mounts)"
	else
		pass "remount,noatime: shown in /proc/mounts"
	fi
	# Flags not named are kept: ro now keeps noatime and allow_other.
	if timeout 20 "$BIN" -o remount,ro,nosuid "$T/m" 2>"$T/err"; then
		opts=$(findmnt -n -o OPTIONS -M "$T/m")
		if grep -q noatime <<<"$opts" && grep -Eq '(^|,)ro(,|$)' <<<"$opts" &&
			grep -q nosuid <<<"$opts" && grep -q allow_other <<<"$opts"; then
			pass "rdmafs -o remount by hand: $opts"
		else
			fail "rdmafs -o remount by hand: options '$opts'"
		fi
	else
		fail "rdmafs -o remount by hand: $(cat "$T/err")"
	fi
	[ "$(t cat "$T/m/file" 2>/dev/null)" = data ] ||
		fail "remount: the daemon stopped serving"
	unmount "$T/m" "$pid"
fi
expect_error "remount of something that is not rdmafs" \
	"^rdmafs: couldn't remount $T/m2: no rdmafs is mounted there$" \
	-o remount,ro "$T/m2"
umount /usr/local/sbin

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
: >"$T/victim"

# ---- BACKING/.rdmafs and its lock are the daemon's own (review 1) ----
#
# In a world-writable BACKING a user could make .rdmafs first, then
# rename the lock away and start a second daemon.
mkdir -m 1777 "$T/pub"
echo data >"$T/pub/file"
as_nobody mkdir "$T/pub/.rdmafs"
expect_error "a .rdmafs made by another user" \
	"^rdmafs: $T/pub/.rdmafs belongs to uid 65534, not to rdmafs's uid 0: .*remove it" \
	"$T/pub" "$T/m"
rm -rf "$T/pub/.rdmafs"
as_nobody ln -s "$T/victim" "$T/pub/.rdmafs"
expect_error "a .rdmafs that is a symlink" \
	"^rdmafs: couldn't open $T/pub/.rdmafs: (Not a directory|Too many levels of symbolic links)$" \
	"$T/pub" "$T/m"
rm -f "$T/pub/.rdmafs"
mkdir -m 0700 "$T/pub/.rdmafs"
ln "$T/victim" "$T/pub/.rdmafs/lock"
expect_error "a lock that is a hard link" \
	"^rdmafs: $T/pub/.rdmafs/lock is not a regular file of uid 0 with one link" \
	"$T/pub" "$T/m"
rm -f "$T/pub/.rdmafs/lock"
touch "$T/pub/.rdmafs/lock"
chown 65534 "$T/pub/.rdmafs/lock"
expect_error "a lock of another user" \
	"^rdmafs: $T/pub/.rdmafs/lock is not a regular file of uid 0 with one link" \
	"$T/pub" "$T/m"
rm -f "$T/pub/.rdmafs/lock"
ln -s "$T/victim" "$T/pub/.rdmafs/lock"
expect_error "a lock that is a symlink" \
	"^rdmafs: couldn't open the lock $T/pub/.rdmafs/lock: Too many levels of symbolic links$" \
	"$T/pub" "$T/m"
rm -rf "$T/pub/.rdmafs"
# Ours but open to others: made 0700, and what others may have put in
# it (the index as a hard link to another file) is not written to.
mkdir -m 0777 "$T/pub/.rdmafs"
ln "$T/victim" "$T/pub/.rdmafs/index"
if expect_mount "a .rdmafs of ours, open to others" "$T/pub" "$T/m" \
	allow_other; then
	grep -q "^rdmafs: warning: $T/pub/.rdmafs was writable by others (mode 0777): made it 0700$" "$T/err" ||
		fail "open .rdmafs: no warning: $(cat "$T/err")"
	mode=$(stat -c %a "$T/pub/.rdmafs")
	[ "$mode" = 700 ] || fail "open .rdmafs: mode $mode after start"
	if ! t setfattr -n user.rdmafs.pin -v 0+1 "$T/m/file" 2>"$T/err"; then
		fail "open .rdmafs: pin: $(cat "$T/err")"
	elif [ -s "$T/victim" ] || [ "$(stat -c %h "$T/victim")" != 1 ]; then
		fail "open .rdmafs: the planted index link was kept or written"
	else
		pass "open .rdmafs: made 0700, planted index dropped, pin indexed"
	fi
	t setfattr -n user.rdmafs.unpin -v 0+1 "$T/m/file" 2>/dev/null || true
	unmount "$T/m" "$(lock_pid "$T/pub")"
fi

# ---- /run/rdmafs is root's own ----
chown 65534 /run/rdmafs
expect_error "a /run/rdmafs of another user" \
	"^rdmafs: /run/rdmafs belongs to uid 65534, not to rdmafs's uid 0: " \
	"$T/b" "$T/m"
chown 0 /run/rdmafs

# ---- one daemon per backing filesystem (review 2) ----
dev=$(stat -c '%Hd:%Ld' "$T/b")
mkdir -p "$T/b/d2" "$T/fs2"
echo data >"$T/b/d2/file"
mount -t tmpfs -o mode=0755 rdmafs-fs2 "$T/fs2"
echo data >"$T/fs2/file"
if expect_mount "per filesystem: first" "$T/b" "$T/m" allow_other; then
	pid=$(lock_pid "$T/b")
	keep_mnt=$T/m
	expect_error "a subdirectory of a served backing" \
		"^rdmafs: the filesystem of $T/b/d2 \\($dev\\) is already served by rdmafs \\(pid $pid: $T/b at $T/m\\)$" \
		"$T/b/d2" "$T/m2"
	keep_mnt=
	# The lock descriptors: close-on-exec, and the daemon's own (after
	# fuse_daemonize the parent is gone; the child holds them).
	nlocks=0
	for fd in /proc/"$pid"/fd/*; do
		case $(readlink "$fd") in
		*/.rdmafs/lock | /run/rdmafs/*.lock)
			flags=$(awk '/^flags/ { print $2 }' "/proc/$pid/fdinfo/${fd##*/}")
			if (((8#$flags & 8#2000000) == 0)); then
				fail "lock fd $fd: not O_CLOEXEC (flags $flags)"
			fi
			nlocks=$((nlocks + 1))
			;;
		esac
	done
	[ "$nlocks" = 2 ] || fail "daemon $pid holds $nlocks lock files, not 2"
	if expect_mount "another filesystem meanwhile" "$T/fs2" "$T/m2" \
		allow_other; then
		unmount "$T/m2" "$(lock_pid "$T/fs2")"
	fi
	unmount "$T/m" "$pid"
fi
if expect_mount "per filesystem: a subdirectory first" "$T/b/d2" "$T/m" \
	allow_other; then
	pid=$(lock_pid "$T/b/d2")
	keep_mnt=$T/m
	expect_error "the parent of a served backing" \
		"^rdmafs: the filesystem of $T/b \\($dev\\) is already served by rdmafs \\(pid $pid: $T/b/d2 at $T/m\\)$" \
		"$T/b" "$T/m2"
	keep_mnt=
	unmount "$T/m" "$pid"
fi

# A daemon that was unmounted may still hold its locks a moment while
# it exits: the next one waits (up to 3 s) instead of refusing.  Played
# by flock(1) holding the lock of the daemon just gone.
hold() { # FILE SECONDS: holds FILE's lock; waits until it is taken
	flock -x -o "$1" sleep "$2" &
	holder=$!
	for _ in $(seq 100); do
		flock -n -x "$1" true 2>/dev/null || return 0
		sleep 0.02
	done
}
if expect_mount "restart: first run" "$T/b" "$T/m" allow_other; then
	unmount "$T/m" "$(lock_pid "$T/b")"
	hold "$T/b/.rdmafs/lock" 1
	if expect_mount "restart while the old daemon still holds the lock" \
		"$T/b" "$T/m" allow_other; then
		unmount "$T/m" "$(lock_pid "$T/b")"
	fi
	wait "$holder" 2>/dev/null || true
	hold "/run/rdmafs/$dev.lock" 1
	if expect_mount "restart while the old daemon still holds the filesystem's lock" \
		"$T/b" "$T/m" allow_other; then
		unmount "$T/m" "$(lock_pid "$T/b")"
	fi
	wait "$holder" 2>/dev/null || true
	# Held for good (another namespace's daemon): refused after the wait.
	hold "/run/rdmafs/$dev.lock" 8
	start=$(date +%s%N)
	expect_error "a filesystem's lock held for good" \
		"^rdmafs: the filesystem of $T/b \\($dev\\) is already served by rdmafs \\(pid [0-9]+: $T/b at $T/m\\)$" \
		"$T/b" "$T/m"
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$ms" -lt 2500 ]; then
		fail "held lock: refused after $ms ms, without waiting"
	else
		pass "held lock: refused after $ms ms"
	fi
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
fi
# And the real thing, a few times in a row.
ok=0
for i in 1 2 3 4 5; do
	if timeout 10 "$BIN" -o allow_other "$T/b" "$T/m" 2>"$T/err" &&
		is_rdmafs_mount "$T/m"; then
		ok=$((ok + 1))
		t fusermount3 -u "$T/m" || umount -l "$T/m"
	else
		fail "restart at once, round $i: $(cat "$T/err")"
		break
	fi
done
[ "$ok" = 5 ] && pass "restart at once after fusermount3 -u, 5 times"

# A read-only backing without .rdmafs: served, with a warning (nothing
# can change it through any daemon); the filesystem's lock is still
# taken in /run/rdmafs.
mkdir "$T/rofs"
mount -t tmpfs -o mode=0755 rdmafs-ro "$T/rofs"
echo data >"$T/rofs/file"
mount -o remount,ro "$T/rofs"
if expect_mount "read-only backing" "$T/rofs" "$T/m" allow_other; then
	grep -q "^rdmafs: warning: $T/rofs is read-only and has no .rdmafs/lock" "$T/err" ||
		fail "read-only backing: no warning: $(cat "$T/err")"
	rodev=$(stat -c '%Hd:%Ld' "$T/rofs")
	[ -s "/run/rdmafs/$rodev.lock" ] ||
		fail "read-only backing: no /run/rdmafs/$rodev.lock"
	unmount "$T/m"
fi

# ---- the audit log is the daemon's own (review 3) ----
mkdir -m 0755 "$T/u" "$T/logs"
mkdir -m 0777 "$T/open"
mkdir -m 1777 "$T/sticky"
chown 65534:65534 "$T/u"
as_nobody touch "$T/u/audit.jsonl"
expect_error "audit_log in a directory of another user" \
	"^rdmafs: audit_log $T/u/audit.jsonl: directory $T/u can be written by others or is not root's" \
	-o audit_log="$T/u/audit.jsonl" "$T/b" "$T/m"
expect_error "audit_log in a directory others can write" \
	"^rdmafs: audit_log $T/open/a.jsonl: directory $T/open can be written by others" \
	-o audit_log="$T/open/a.jsonl" "$T/b" "$T/m"
[ -e "$T/open/a.jsonl" ] && fail "audit_log in an open directory: created"
as_nobody touch "$T/sticky/theirs.jsonl"
expect_error "audit_log of another user (sticky directory)" \
	"^rdmafs: audit_log $T/sticky/theirs.jsonl must be a file of uid 0 with one link" \
	-o audit_log="$T/sticky/theirs.jsonl" "$T/b" "$T/m"
ln "$T/victim" "$T/logs/link.jsonl"
expect_error "audit_log is a hard link" \
	"^rdmafs: audit_log $T/logs/link.jsonl must be a file of uid 0 with one link" \
	-o audit_log="$T/logs/link.jsonl" "$T/b" "$T/m"
install -m 0666 /dev/null "$T/logs/open.jsonl"
expect_error "audit_log others can write" \
	"^rdmafs: audit_log $T/logs/open.jsonl must be a file of uid 0 with one link" \
	-o audit_log="$T/logs/open.jsonl" "$T/b" "$T/m"
[ -s "$T/victim" ] && fail "audit_log: a refused file was written"
if expect_mount "audit_log new in a sticky directory" "$T/b" "$T/m" \
	audit_log="$T/sticky/mine.jsonl"; then
	mode=$(stat -c %a "$T/sticky/mine.jsonl" 2>/dev/null || echo missing)
	[ "$mode" = 640 ] || fail "audit_log in a sticky directory: mode $mode"
	unmount "$T/m" "$(lock_pid "$T/b")"
fi

# ---- remount: the same BACKING, rdmafs options unchanged (review 4) ----
if expect_mount "remount checks: mounted" "$T/b" "$T/m" \
	allow_other,policy=defer,max_pins=100; then
	pid=$(lock_pid "$T/b")
	keep_mnt=$T/m
	expect_error "remount with another policy" \
		"^rdmafs: cannot change policy on a live mount \\(it is defer, refuse asked\\): unmount and mount again$" \
		-o remount,ro,policy=refuse "$T/b" "$T/m"
	expect_error "remount with another max_pins" \
		"^rdmafs: cannot change max_pins on a live mount \\(it is 100, 5 asked\\): unmount and mount again$" \
		-o remount,ro,max_pins=5,policy=defer "$T/b" "$T/m"
	expect_error "remount naming another BACKING" \
		"^rdmafs: couldn't remount $T/m: it serves $T/b, not $T/b2$" \
		-o remount,ro "$T/b2" "$T/m"
	keep_mnt=
	findmnt -n -o OPTIONS -M "$T/m" | grep -Eq '(^|,)ro(,|$)' &&
		fail "remount: a refused remount made the mount read-only"
	# The same values (an fstab line passed again): accepted.
	if timeout 20 "$BIN" -o remount,ro,policy=defer,max_pins=100 \
		"$T/blink" "$T/m" 2>"$T/err" &&
		findmnt -n -o OPTIONS -M "$T/m" | grep -Eq '(^|,)ro(,|$)'; then
		pass "remount with the live values, BACKING through a symlink"
	else
		fail "remount with the live values: $(cat "$T/err")"
	fi
	timeout 20 "$BIN" -o remount,rw "$T/m" 2>"$T/err" ||
		fail "remount,rw without BACKING: $(cat "$T/err")"
	unmount "$T/m" "$pid"
fi

if [ "$failures" -ne 0 ]; then
	echo "$me: $failures failure(s)"
	exit 1
fi
echo "$me: all passed"
exit 0
