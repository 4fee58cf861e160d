#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# rdmafsctl audit against real mounts: an rdmafs over a loop-mounted XFS
# image (reflink=1), first beside its backing and then over it.  A loop
# device is no pmem: the dax and map-sync lines must be failures with
# their reason and the exit status 2; the fs-type line says xfs, the
# reflink line notes reflink=1, a pinned range is allocated and unshared
# (and is not, once a reflink made on the raw path shares it), the raw
# path is reported while rdmafs is beside it (and a bind mount of a part
# of the backing while it is over it), processes that hold backing files
# from before the overmount are named (a thread's own file table too),
# --json agrees with the table, a tmpfs directory fails, usage errors
# exit 2, and audit leaves nothing in the backing.  Then a backing that is
# a subdirectory: a holder in another mount namespace is a possible
# holder, one outside the backing is none; a plain directory finds the
# mount that serves it (past a fuse.rdmafs mount that never answers); a
# backing renamed, with a symbolic link or another directory in its place,
# is never examined there; a daemon in another pid namespace is not left
# out of the process scan.
#
# Needs root, /dev/fuse, mkfs.xfs and loop devices (exit 77 otherwise).
# RDMAFS_BIN names the daemon; rdmafsctl is the first argument.

set -uo pipefail

# shellcheck source=tests/ctl-test-lib.sh
. "$(dirname "$0")/ctl-test-lib.sh"

for tool in mkfs.xfs losetup cp; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done

IMG=$T/img
TMPD=$T/tmpfs
ELSE=$T/elsewhere
VIEW=$T/view
HANG=$T/hang
sleepers=()
nspid=

# shellcheck disable=SC2317 # run by the EXIT trap
audit_cleanup() {
	local pid
	for pid in "${sleepers[@]}" $nspid; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# the fake mount's connection ends with its /dev/fuse descriptor
	exec 7>&-
	findmnt -n -M "$HANG" >/dev/null 2>&1 && umount -l "$HANG"
	findmnt -n -M "$ELSE" >/dev/null 2>&1 && umount -l "$ELSE"
	while is_rdmafs_mount "$B"; do
		fusermount3 -u -z "$B" 2>/dev/null || umount -l "$B" || break
	done
	findmnt -n -M "$M" >/dev/null 2>&1 && fusermount3 -u -z "$M"
	findmnt -n -M "$TMPD" >/dev/null 2>&1 && umount -l "$TMPD"
	findmnt -n -M "$B" >/dev/null 2>&1 && umount -l "$B"
	cleanup
}
trap audit_cleanup EXIT

mkdir "$B" "$M" "$TMPD" "$ELSE" "$VIEW" "$HANG"
truncate -s 320M "$IMG"
if ! mkfs.xfs -q -m reflink=1 "$IMG" >/dev/null 2>&1 ||
	! mount -o loop "$IMG" "$B" 2>/dev/null; then
	echo "skip: couldn't make and loop-mount an XFS image"
	exit 77
fi
dd if=/dev/urandom of="$B/f" bs=1M count=2 status=none
echo raw >"$B/g"
sync

# Processes on the raw backing from before the mounts: one with its cwd
# there, one with a descriptor of a backing file.
(cd "$B" && exec sleep 600) &
sleepers+=($!)
sleep 600 3<"$B/g" &
sleepers+=($!)
# A thread that unshared its file table holds a file that the leader's
# table (/proc/PID/fd) does not show.
mkdir "$B/sub"
echo sub >"$B/sub/h"
thread_pid=
cat >"$T/thread.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

static const char *file;

static void *run(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES) || open(file, O_RDONLY) < 0) {
		perror("thread");
		_exit(1);
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 2)
		return 2;
	file = argv[1];
	if (pthread_create(&t, NULL, run, NULL))
		return 1;
	for (;;)
		pause();
}
EOF
if command -v cc >/dev/null && cc -pthread -o "$T/thread" "$T/thread.c"; then
	"$T/thread" "$B/sub/h" >"$T/thread.out" &
	thread_pid=$!
	sleepers+=("$thread_pid")
	for _ in $(seq 100); do
		[ -s "$T/thread.out" ] && break
		sleep 0.05
	done
else
	echo "note: no cc: a thread's own file table is not tried"
fi

# audit_run NAME ARGS...: rdmafsctl audit into $T/out, $T/err; rc in $rc
audit_run() {
	timeout 120 "$CTL" audit "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# line CHECK: the table's line of CHECK in $T/out
line() {
	grep -E "^[a-z]+ +$1 " "$T/out"
}

# expect CHECK VERDICT PATTERN: the line of CHECK has VERDICT and PATTERN
expect() {
	local l
	l=$(line "$1")
	if [ -z "$l" ]; then
		fail "no $1 line in: $(cat "$T/out")"
	elif ! grep -Eq "^$2 " <<<"$l"; then
		fail "$1 is not $2: $l"
	elif ! grep -Eq -- "$3" <<<"$l"; then
		fail "$1 does not say '$3': $l"
	else
		pass "$1: $2: ${l:0:150}"
	fi
}

# json_agrees NAME JSON TABLE: the --json output has the table's checks
# and verdicts, in its order
json_agrees() {
	json_check "$1: --json agrees with the table" '
rows = []
for l in open(sys.argv[2]).read().splitlines()[1:]:
    v, c = l.split()[:2]
    rows.append((c, v))
assert rows == [(i["check"], i["verdict"]) for i in d], (rows, d)
assert all(isinstance(i["reason"], str) and i["reason"] for i in d)
' "$2" "$3"
}

# ---- beside: rdmafs B M, the raw path stays reachable ----
do_mount
# (the daemon made its hidden store: what the backing holds from now on)
raw_before=$(ls -A "$B")
pin "$M/f" 0+1M
audit_run "$M"
if [ "$rc" -eq 2 ]; then
	pass "beside: exit 2 (not DAX)"
else
	fail "beside: exit $rc, not 2: $(cat "$T/out" "$T/err")"
fi
expect overmount warning "raw path reachable at $B"
expect pins ok "allocated and unshared"
audit_run "$B"
expect overmount warning "raw path reachable: rdmafs serves $B at $M"
expect pins ok "not an rdmafs mount"

# A reflink on the raw path shares the pinned blocks behind rdmafs.
if cp --reflink=always "$B/f" "$B/f.clone" 2>/dev/null; then
	audit_run "$M"
	expect pins failure "f 0\+1048576: shared extent at 0\+"
	rm -f "$B/f.clone"
else
	fail "couldn't reflink on the XFS image"
fi
do_umount || fail "couldn't unmount $M"

# ---- over: rdmafs B B ----
# a bind mount of a part of the backing, made before the overmount
mount --bind "$B/sub" "$ELSE"
if ! timeout 20 "$BIN" -o "$MOUNT_OPTS" "$B" "$B" 2>"$T/err"; then
	fail "couldn't overmount: $(cat "$T/err")"
	exit 1
fi
for _ in $(seq 100); do
	is_rdmafs_mount "$B" && break
	sleep 0.05
done
mnt_before=$(ls -A "$B")
audit_run "$B"
expect overmount warning "raw path reachable at $ELSE: "
umount "$ELSE"
audit_run "$B"
cp "$T/out" "$T/table"
if [ "$rc" -eq 2 ] && [ ! -s "$T/err" ]; then
	pass "over: exit 2, nothing on stderr"
else
	fail "over: exit $rc: $(cat "$T/err")"
fi
head -n 1 "$T/out" | grep -Eq '^VERDICT +CHECK +REASON$' ||
	fail "no header: $(head -n 1 "$T/out")"
expect fs-type ok "^ok +fs-type +xfs on /dev/loop"
expect dax failure "not DAX: .*page cache.*dax=always"
expect map-sync failure "no MAP_SYNC"
expect reflink ok "reflink=1.*unshares"
expect overmount ok "mounted over its backing"
expect pins ok "pinned range is allocated and unshared"
expect raw-users warning "${sleepers[0]}\(sleep\): cwd"
expect raw-users warning "${sleepers[1]}\(sleep\): 1 fd"
expect raw-users warning "io_uring and descriptors in flight in SCM_RIGHTS"
if [ -n "$thread_pid" ]; then
	expect raw-users warning "$thread_pid\(thread\): 1 fd"
fi
expect lease-break ok "lease-break-time"
for c in passthrough io-uring rdma; do
	line "$c" >/dev/null || fail "no $c line"
done
audit_run --json "$B"
cp "$T/out" "$T/json"
if [ "$rc" -eq 2 ]; then
	pass "--json: exit 2"
else
	fail "--json: exit $rc"
fi
json_agrees over "$T/json" "$T/table"
json_check "--json facts" '
by = {i["check"]: i for i in d}
assert by["fs-type"]["fstype"] == "xfs"
assert by["dax"]["dax"] is False
assert by["reflink"]["reflink"] is True
assert by["pins"]["pins"] == 1 and by["pins"]["unstable"] == 0
pids = {p["pid"] for p in by["raw-users"]["processes"]}
assert all(p["possible"] == 0 and p["unresolved"] is None
           for p in by["raw-users"]["processes"]), by["raw-users"]
assert {int(x) for x in sys.argv[2:]} <= pids, pids
' "$T/json" "${sleepers[@]}"
if [ "$(ls -A "$B")" = "$mnt_before" ]; then
	pass "nothing new in the mount"
else
	fail "audit left something: $(ls -A "$B")"
fi

# As another user: partial, and it says so; never a crash.
as_nobody "$CTL" audit "$B" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; then
	if grep -q "run as root" "$T/out"; then
		pass "as a user: exit $rc, says to run as root"
	else
		fail "as a user: no 'run as root' in: $(cat "$T/out")"
	fi
else
	fail "as a user: exit $rc: $(cat "$T/err")"
fi

while is_rdmafs_mount "$B"; do
	fusermount3 -u "$B" || break
done
for pid in "${sleepers[@]}"; do
	kill "$pid" 2>/dev/null
done
if [ "$(ls -A "$B")" = "$raw_before" ]; then
	pass "the raw backing holds what it held"
else
	fail "the backing changed: $(ls -A "$B") vs $raw_before"
fi

# ---- a subdirectory as backing: rdmafs B/d M ----
D=$B/d
mkdir -p "$D/sub"
echo f >"$D/sub/f"
if ! timeout 20 "$BIN" -o "$MOUNT_OPTS" "$D" "$M" 2>"$T/err" ||
	! wait_mount; then
	fail "couldn't mount $D: $(cat "$T/err")"
	exit 1
fi
# In a mount namespace of its own, a holder of a backing file through a
# bind mount that is not in ours: its path means nothing here.
# shellcheck disable=SC2016 # expanded by that sh
unshare -m --propagation private sh -c \
	'mount --bind "$1" "$2" && exec sleep 600 3<"$2/f"' sh "$D/sub" "$VIEW" &
ns_holder=$!
sleepers+=("$ns_holder")
# and a holder of a file of the same filesystem outside the backing
sleep 600 3<"$B/g" &
outside=$!
sleepers+=("$outside")
for _ in $(seq 100); do
	[ -e "/proc/$ns_holder/fd/3" ] && [ -e "/proc/$outside/fd/3" ] && break
	sleep 0.05
done
audit_run "$M"
expect raw-users warning "$ns_holder\(sleep\): 1 possibly \(on the backing's device, path not resolvable here: $VIEW/f\)"
if grep -Eq "[ (]$outside\(sleep\)" "$T/out"; then
	fail "a holder outside the backing is named: $(line raw-users)"
else
	pass "a holder outside the backing is not named"
fi
if line raw-users | grep -q '(rdmafs)'; then
	fail "the daemon is named: $(line raw-users)"
else
	pass "the daemon (verified) is left out"
fi
# (its mount namespace has a copy of the rdmafs mount, which would keep
# the daemon serving after our unmount)
kill "$ns_holder"
wait "$ns_holder" 2>/dev/null

# A plain directory finds the mount that serves it, by identity, past a
# fuse.rdmafs mount of "another user" (allow_other) that never answers.
exec 7<>/dev/fuse
if mount -i -t fuse.rdmafs \
	-o fd=7,rootmode=40000,user_id=65534,group_id=65534,allow_other \
	hostile "$HANG"; then
	start=$SECONDS
	audit_run "$B"
	if [ $((SECONDS - start)) -lt 30 ]; then
		pass "past a mount that never answers: $((SECONDS - start)) s"
	else
		fail "a mount that never answers held audit $((SECONDS - start)) s"
	fi
	expect overmount warning "no rdmafs mount serves $B: .*1 fuse.rdmafs mount gave no status within 3 s"
	# Named itself, it hangs the audit, which gives up after 60 s with a
	# failure (not a silence, nor ok).
	start=$SECONDS
	audit_run "$HANG"
	if [ "$rc" -eq 2 ] && [ $((SECONDS - start)) -lt 100 ]; then
		pass "a hung PATH: exit 2 after $((SECONDS - start)) s"
	else
		fail "a hung PATH: exit $rc after $((SECONDS - start)) s"
	fi
	expect audit failure "did not finish in 60 s"
	grep -q "timed out after 60 s" "$T/err" ||
		fail "a hung PATH: nothing on stderr: $(cat "$T/err")"
else
	fail "couldn't make a fake fuse.rdmafs mount"
fi
audit_run "$D/sub"
expect overmount warning "rdmafs serves $D/sub at $M"
if line raw-users | grep -q '(rdmafs)'; then
	fail "plain directory: the daemon is named: $(line raw-users)"
else
	pass "plain directory: the daemon (verified) is left out"
fi
exec 7>&-
umount -l "$HANG"

# The backing renamed, a symbolic link to a tmpfs in its place: audit
# follows the daemon's descriptor (by identity) and never the link.
mv "$D" "$B/d2"
ln -s /dev/shm "$D"
audit_run "$M"
expect fs-type ok "^ok +fs-type +xfs on /dev/loop"
expect overmount warning "raw path reachable at $B/d2: "
if grep -Eq "/dev/shm|tmpfs" "$T/out"; then
	fail "audit looked at the link: $(grep -E "/dev/shm|tmpfs" "$T/out")"
else
	pass "renamed: nothing about the link's target"
fi
# As a user, the daemon's descriptor is out of reach: the path is not
# taken, and no check is ok about what lies there.
as_nobody "$CTL" audit "$M" >"$T/out" 2>"$T/err"
expect fs-type warning "symbolic link now: the backing was renamed or replaced"
expect overmount warning "couldn't reach the backing"
if grep -Eq "tmpfs|^ok +(overmount|fs-type|dax|reflink) " "$T/out"; then
	fail "as a user: a check of the wrong thing: $(cat "$T/out")"
else
	pass "as a user: nothing checked in the link's place"
fi
rm "$D"
mkdir "$D"
as_nobody "$CTL" audit "$M" >"$T/out" 2>"$T/err"
expect fs-type warning "is another directory .* than the daemon's backing"
grep -Eq "^ok +(overmount|fs-type|dax|reflink) " "$T/out" &&
	fail "as a user: a check of another directory: $(cat "$T/out")"
rmdir "$D"
mv "$B/d2" "$D"
daemon=$("$CTL" status "$M" | awk '$1 == "pid" { print $2 }')
do_umount || fail "couldn't unmount $M"
for _ in $(seq 100); do
	if [ -z "$daemon" ] || ! [ -d "/proc/$daemon" ]; then
		break
	fi
	sleep 0.05
done

# A daemon in another pid namespace: its status's pid is not its pid
# here, so it is not left out of the process scan.
unshare -p -f "$BIN" -f -o "$MOUNT_OPTS" "$D" "$M" 2>"$T/err" &
nspid=$!
if wait_mount; then
	audit_run "$M"
	expect raw-users warning "\(rdmafs\): .*fd"
	do_umount || fail "couldn't unmount $M"
else
	fail "couldn't mount in a pid namespace: $(cat "$T/err")"
fi
wait "$nspid"
nspid=
for pid in "${sleepers[@]}"; do
	kill "$pid" 2>/dev/null
done

# ---- a plain tmpfs directory ----
mount -t tmpfs audit-tmpfs "$TMPD"
audit_run "$TMPD"
if [ "$rc" -eq 2 ]; then
	pass "tmpfs: exit 2"
else
	fail "tmpfs: exit $rc"
fi
expect fs-type failure "^failure +fs-type +tmpfs .*not xfs or ext4"
expect overmount warning "no rdmafs mount serves"
# no block device: the dax reason names none (not "nonethe device")
expect dax failure "\(mount option none\): pages"
[ -z "$(ls -A "$TMPD")" ] || fail "audit left files in tmpfs: $(ls -A "$TMPD")"

# ---- usage ----
ctl_error "audit: no PATH" 2 "need exactly one PATH" audit
ctl_error "audit: two PATHs" 2 "need exactly one PATH" audit "$TMPD" "$TMPD"
ctl_error "audit: bad option" 2 "unknown option '--frob'" audit --frob "$TMPD"
ctl_error "audit: no such path" 2 "Couldn't audit $T/nope" audit "$T/nope"
ctl_error "audit: a file" 2 "neither a directory nor on an rdmafs mount" \
	audit "$IMG"
if ctl "audit --help" audit --help && grep -q "Exit status" "$T/out"; then
	pass "audit --help"
else
	fail "audit --help: $(cat "$T/out")"
fi

[ "$failures" -eq 0 ]
