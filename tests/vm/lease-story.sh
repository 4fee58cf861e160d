#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The lease story with a real memory region (issue 11, DESIGN §9, §10), run
# inside the guest by tests/vm/run: rdmafs (the build's, kernel
# passthrough) overmounted on /mnt/pmem, a real fsdax XFS, and rdmafs-mr on
# soft-RoCE (rxe0 over lo).
#  1. `rdmafs-mr serve` holds a file in a session, maps it through the
#     mount (a DAX mapping) and registers it: plain registration refused
#     (the kernel takes no long-term pin of fsdax pages), ODP works;
#  2. `rdmafs-mr write` RDMA-writes 1 MiB of 0x5a into it from another
#     process: the data is in the file, read through the mount, and on
#     /dev/pmem0 at the device offset FIEMAP gives for the file's blocks
#     (read through a bind mount of the XFS made before the overmount:
#     FUSE has no FIEMAP);
#  3. a truncate by another process: policy=refuse fails it (ETXTBSY)
#     and the holder keeps its range until SIGTERM; policy=defer parks it
#     until the holder, told, releases, then it proceeds;
#     policy=break,break_kill with a holder that ignores the notice kills
#     the holder (SIGKILL, status 137) at break_timeout, the truncate is
#     done, and the audit trail names the truncating process and the
#     killed holder;
#  4. `serve --no-odp` (plain registration only) on the DAX mapping
#     exits 4 with the kernel's reason (EOPNOTSUPP).
# usage (in the guest): lease-story.sh BUILD_DIR.  Each check prints "ok",
# "FAIL" or "info" with the time since the start; exit 1 when one failed,
# 77 when not in the guest or without rdmafs-mr (built without rdma).

set -uo pipefail

# shellcheck source=guest-setup.sh source-path=SCRIPTDIR
. "$(dirname "$0")/guest-setup.sh"
vm_guest_only lease-story.sh

build=$(cd "${1:?usage: lease-story.sh BUILD_DIR}" && pwd) || exit 2
RDMAFS=$build/fs/rdmafs
CTL=$build/tools/rdmafsctl
MR=$build/tools/rdmafs-mr
[[ -x $MR ]] || {
	echo "lease-story.sh: no $MR (built without -Drdma): skipped"
	exit 77
}
[[ -x $RDMAFS && -x $CTL ]] || {
	echo "lease-story.sh: no $RDMAFS or $CTL"
	exit 1
}
P=/mnt/pmem # the overmount
RAW=/mnt/raw # the same XFS, bound before the overmount
AUDIT_DIR=/run/rdmafs-lease
AUDIT=$AUDIT_DIR/audit.json
T=/tmp/lease
mkdir -p "$T"
info "kernel $(uname -r), $(nproc) CPUs; rdmafs $("$RDMAFS" --version 2>&1 | head -n 1)"

vm_pmem_setup "$P" || exit 1
vm_rxe_setup || exit 1
mkdir -p "$RAW"
mount --bind "$P" "$RAW" || {
	fail "mount --bind $P $RAW"
	exit 1
}
head -c 1048576 /dev/zero | tr '\0' '\132' >"$T/pat5a"

daemon= # rdmafs -f, in the background
sp=     # the serving rdmafs-mr
# shellcheck disable=SC2317  # a trap
cleanup()
{
	[[ -n $sp ]] && kill -KILL "$sp" 2>/dev/null
	[[ -n $daemon ]] && fusermount3 -u "$P" 2>/dev/null
}
trap cleanup EXIT

# mount_rdmafs OPTS: rdmafs over the DAX XFS on $P, with data passthrough.
mount_rdmafs()
{
	"$RDMAFS" -f -o "$1" "$P" "$P" >"$T/rdmafs.log" 2>&1 &
	daemon=$!
	for _ in $(seq 300); do
		[[ $(findmnt -no FSTYPE "$P" | tail -n 1) == fuse* ]] && break
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.1
	done
	if [[ $(findmnt -no FSTYPE "$P" | tail -n 1) != fuse* ]]; then
		fail "rdmafs -o $1 $P $P: $(cat "$T/rdmafs.log")"
		return 1
	fi
	if "$CTL" status "$P" | grep -Eq '^data_path[[:space:]]+passthrough$'; then
		ok "rdmafs -o $1 overmounted on $P (DAX XFS): data_path passthrough"
	else
		fail "rdmafs -o $1: $("$CTL" status "$P" | grep '^data_path')"
	fi
}

umount_rdmafs()
{
	fusermount3 -u "$P" || umount "$P"
	wait "$daemon"
	daemon=
}

# serve NAME PORT ARGS...: rdmafs-mr serve in the background ($sp), up to
# 30 s for its "mr" line in $T/NAME.out (stderr in NAME.err).
serve()
{
	local name=$1 port=$2
	shift 2
	"$MR" serve -d rxe0 --port "$port" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	sp=$!
	for _ in $(seq 300); do
		grep -q '^mr ' "$T/$name.out" && break
		kill -0 "$sp" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q '^mr ' "$T/$name.out"; then
		return 0
	fi
	fail "rdmafs-mr serve $*: no mr line: $(cat "$T/$name.out" "$T/$name.err")"
	kill -KILL "$sp" 2>/dev/null
	wait "$sp"
	sp=
	return 1
}

# reap SECS: waits up to SECS for the serving rdmafs-mr to exit; its
# status in $sp_rc (-1: still running after SECS, then killed).
reap()
{
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$sp" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$sp" 2>/dev/null; then
		kill -KILL "$sp"
		wait "$sp" 2>/dev/null
		sp_rc=-1
	else
		# (bash's "Killed" job notice for a holder break_kill killed)
		wait "$sp" 2>/dev/null
		sp_rc=$?
	fi
	sp=
}

# timed SECS OUT CMD...: CMD in the background (its pid in $cmd_pid, so
# that notices and the audit trail can be matched to it), killed after
# SECS; its status in $cmd_rc, its duration in $cmd_secs.
timed()
{
	local secs=$1 out=$2 t0 wd
	shift 2
	t0=$(date +%s.%N)
	"$@" >"$out" 2>&1 &
	cmd_pid=$!
	(
		sleep "$secs"
		kill -KILL "$cmd_pid" 2>/dev/null
	) &
	wd=$!
	wait "$cmd_pid"
	cmd_rc=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	cmd_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

no_pins()
{
	local p
	p=$("$CTL" pins "$P" 2>&1)
	if [[ $p == "no pins" ]]; then
		ok "$1: no pin or hold left (rdmafsctl pins)"
	else
		fail "$1: left behind: $p"
	fi
}

fsize()
{
	stat -c %s "$P/data"
}

# ---- 1. register a held DAX range (policy=refuse) ----
mount_rdmafs policy=refuse || exit 1
xfs_io -f -c 'pwrite -q -S 0 0 1m' -c fsync "$P/data"
attrs=$(xfs_io -c 'statx -r' "$RAW/data" | awk '/^stat.attributes =/ { print $3 }')
if (((attrs & 0x200000) != 0)); then
	ok "$RAW/data (the backing file): STATX_ATTR_DAX"
else
	fail "$RAW/data: no STATX_ATTR_DAX (attributes ${attrs:-?})"
fi
if serve s1 18515 "$P/data" all; then
	mr=$(grep '^mr ' "$T/s1.out")
	sed 's/^/info serve: /' "$T/s1.out"
	if [[ " $mr " == *" reg=odp "* && " $mr " == *" plain=refused "* ]]; then
		ok "serve $P/data all: reg=odp plain=refused ($(grep -o 'len=[0-9]*' <<<"$mr"))"
	else
		fail "serve: not reg=odp plain=refused: $mr"
	fi
	"$CTL" pins "$P" | sed 's/^/info pins: /'
	if "$CTL" pins "$P" | grep "$sp" >/dev/null; then
		ok "rdmafsctl pins: the range is held by rdmafs-mr (pid $sp)"
	else
		fail "rdmafsctl pins: no hold of pid $sp"
	fi
	# The region's mapping: XFS sets hg (VM_HUGEPAGE) on DAX mmaps.
	vmflags=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { f = ($NF ~ /\/data$/) } f && /^VmFlags/ { $1 = ""; print; exit }' "/proc/$sp/smaps")
	if [[ " $vmflags " == *" hg "* || " $vmflags " == *" mm "* ]]; then
		ok "the registered mapping is DAX (VmFlags:$vmflags)"
	else
		fail "the registered mapping's VmFlags:${vmflags:-none found}"
	fi

	# ---- 2. an RDMA write from another process ----
	timed 120 "$T/w1.out" "$MR" write -d rxe0 --pattern 0x5a 127.0.0.1:18515
	sed 's/^/info write: /' "$T/w1.out"
	if ((cmd_rc == 0)) && grep -q '^wrote 1048576 bytes' "$T/w1.out"; then
		ok "rdmafs-mr write --pattern 0x5a: wrote 1048576 bytes in ${cmd_secs}s"
	else
		fail "rdmafs-mr write: status $cmd_rc"
	fi
	if cmp -s "$T/pat5a" "$P/data"; then
		ok "the 1 MiB of 0x5a reads back through the mount"
	else
		fail "through the mount: $(cmp "$T/pat5a" "$P/data" 2>&1)"
	fi
	# FIEMAP (in 512-byte units) of the backing file; each extent read on
	# the device itself, O_DIRECT (no block device cache in the way).
	xfs_io -c 'fiemap -v' "$RAW/data" | sed 's/^/info fiemap: /'
	exts=$(xfs_io -c 'fiemap -v' "$RAW/data" |
		sed -n 's/^ *[0-9]*: \[\([0-9]*\)\.\.\([0-9]*\)\]: *\([0-9]*\)\.\.[0-9]*.*/\1 \2 \3/p')
	nbytes=0
	bad=
	while read -r a b d; do
		[[ -n $a ]] || continue
		len=$(((b - a + 1) * 512))
		max=$((1048576 - a * 512))
		((len > max)) && len=$max
		if dd if=/dev/pmem0 iflag=direct,skip_bytes,count_bytes bs=64K \
			skip=$((d * 512)) count="$len" 2>/dev/null | cmp -s -n "$len" - "$T/pat5a"; then
			nbytes=$((nbytes + len))
		else
			bad+=" file offset $((a * 512)) at device offset $((d * 512))"
		fi
		info "/dev/pmem0 at byte $((d * 512)):$(dd if=/dev/pmem0 iflag=direct,skip_bytes bs=4K skip=$((d * 512)) count=1 2>/dev/null | head -c 16 | od -An -tx1 | tr -s ' ')"
	done <<<"$exts"
	if [[ -z $bad ]] && ((nbytes == 1048576)); then
		ok "the 1 MiB of 0x5a is on /dev/pmem0 at the file's FIEMAP extents"
	else
		fail "on /dev/pmem0: $nbytes bytes match${bad:+; not:$bad}"
	fi

	# ---- 3a. refuse: the truncate fails, the holder keeps its range ----
	timed 30 "$T/t1.out" truncate -s 0 "$P/data"
	if ((cmd_rc != 0)) && grep -q 'Text file busy' "$T/t1.out" && (($(fsize) == 1048576)); then
		ok "policy=refuse: truncate -s 0 fails at once (${cmd_secs}s): $(cat "$T/t1.out")"
	else
		fail "policy=refuse: truncate status $cmd_rc, size $(fsize): $(cat "$T/t1.out")"
	fi
	if kill -0 "$sp" 2>/dev/null && "$CTL" pins "$P" | grep "$sp" >/dev/null; then
		ok "policy=refuse: rdmafs-mr still serves and holds"
	else
		fail "policy=refuse: rdmafs-mr gone or not holding"
	fi
	kill -TERM "$sp"
	reap 30
	if ((sp_rc == 0)) && grep -q '^released on signal' "$T/s1.out"; then
		ok "SIGTERM: rdmafs-mr released on signal, exit 0"
	else
		fail "SIGTERM: rdmafs-mr status $sp_rc: $(tail -n 2 "$T/s1.out" "$T/s1.err")"
	fi
	no_pins "policy=refuse"
fi
umount_rdmafs

# ---- 3b. defer: the truncate waits for the release on the notice ----
mount_rdmafs policy=defer || exit 1
if serve s2 18516 "$P/data" all; then
	timed 60 "$T/t2.out" truncate -s 0 "$P/data"
	reap 30
	sed 's/^/info serve: /' "$T/s2.out"
	if ((cmd_rc == 0)) && (($(fsize) == 0)); then
		ok "policy=defer: truncate -s 0 (pid $cmd_pid) done in ${cmd_secs}s"
	else
		fail "policy=defer: truncate status $cmd_rc, size $(fsize): $(cat "$T/t2.out")"
	fi
	if ((sp_rc == 0)) && grep -q "^notice op=truncate .*pid=$cmd_pid " "$T/s2.out" &&
		grep -q "^released on notice op=truncate pid=$cmd_pid comm=truncate" "$T/s2.out"; then
		ok "policy=defer: rdmafs-mr told, released on notice op=truncate pid=$cmd_pid, exit 0"
	else
		fail "policy=defer: rdmafs-mr status $sp_rc: $(cat "$T/s2.out" "$T/s2.err")"
	fi
	"$CTL" status "$P" | grep -E '^(deferred|notified)' | tr -s ' ' | sed 's/^/info status: /'
	no_pins "policy=defer"
fi
umount_rdmafs

# ---- 3c. break, break_kill: a holder that ignores the notice dies ----
mkdir -m 0700 "$AUDIT_DIR"
mount_rdmafs "policy=break,break_kill,break_timeout=2,audit_log=$AUDIT" || exit 1
xfs_io -f -c 'pwrite -q -S 0x5a 0 1m' -c fsync "$P/data"
if serve s3 18517 --ignore-notices "$P/data" all; then
	holder=$sp
	timed 60 "$T/t3.out" truncate -s 4096 "$P/data"
	reap 30
	sed 's/^/info serve: /' "$T/s3.out"
	if ((cmd_rc == 0)) && (($(fsize) == 4096)); then
		ok "policy=break,break_kill: truncate -s 4096 (pid $cmd_pid) done in ${cmd_secs}s (break_timeout=2)"
	else
		fail "policy=break,break_kill: truncate status $cmd_rc, size $(fsize): $(cat "$T/t3.out")"
	fi
	if ((sp_rc == 137)) && grep -q "^notice op=truncate .*pid=$cmd_pid .*ignored" "$T/s3.out"; then
		ok "policy=break,break_kill: the holder ignored the notice and was SIGKILLed (exit 137)"
	else
		fail "policy=break,break_kill: holder status $sp_rc: $(cat "$T/s3.out" "$T/s3.err")"
	fi
	"$CTL" events "$AUDIT" >"$T/events" 2>&1
	sed 's/^/info events: /' "$T/events"
	row=$(awk -v p="$cmd_pid" '$3 == "truncate" && $6 == p' "$T/events" | grep -E "killed:( [0-9-]+\([^)]*\))* $holder\(rdmafs-mr\)")
	if [[ -n $row ]]; then
		ok "audit trail: truncate by pid $cmd_pid, killed: $holder(rdmafs-mr)"
	else
		fail "audit trail: no truncate by $cmd_pid that killed $holder"
	fi
	no_pins "policy=break,break_kill"
fi

# ---- 4. plain registration only, on the DAX mapping ----
xfs_io -f -c 'pwrite -q 0 64k' -c fsync "$P/d2"
timeout 60 "$MR" serve --no-odp -d rxe0 --port 18518 "$P/d2" all >"$T/s4.out" 2>"$T/s4.err"
rc=$?
sed 's/^/info serve --no-odp: /' "$T/s4.err"
if ((rc == 4)) && grep -q 'EOPNOTSUPP' "$T/s4.err" && grep -q 'DAX' "$T/s4.err" && ! [[ -s $T/s4.out ]]; then
	ok "serve --no-odp on the DAX mapping: exit 4, EOPNOTSUPP (no long-term pin of fsdax pages)"
else
	fail "serve --no-odp: status $rc: $(cat "$T/s4.out" "$T/s4.err")"
fi
no_pins "serve --no-odp"

umount_rdmafs
umount "$RAW"
if umount "$P"; then
	ok "unmounted"
else
	fail "umount $P"
fi
info "kernel $(uname -r): done in $(elapsed)s"
exit $failed
