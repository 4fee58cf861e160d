#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The VM suite's smoke test, run inside the guest by tests/vm/run: proves
# that the guest has what the suite stands on.
#  1. the emulated NVDIMM as an fsdax namespace (/dev/pmem0);
#  2. XFS on it mounted with dax=always (reflink=1 if this kernel allows it
#     with DAX, else reflink=0; the log says which), and a file on it that
#     statx reports as DAX (STATX_ATTR_DAX);
#  3. soft-RoCE: rxe0 over lo, its port ACTIVE, its on-demand paging caps,
#     and RC traffic between two processes through ODP memory regions;
#  4. rdmafs ($RDMAFS_BIN, the tree's default build) overmounted on
#     /mnt/pmem: data_path=passthrough, and a file mapped through the
#     mount is a DAX mapping: its pages are NVDIMM frames (pagemap against
#     /proc/iomem), stores through it leave the page cache as it was
#     (/proc/meminfo Cached), and its VMA carries XFS's DAX flag (hg).
#     On a libfuse 3.14 build (daemon data path) the same checks run as a
#     control: the page cache grows, no frame is the NVDIMM's;
#  5. rdmafsctl audit on that mount: fs-type, dax, map-sync, pins and rdma
#     ok, no failure.
# usage (in the guest): smoke.sh [DAXMAP], DAXMAP the built tests/vm/daxmap.c.
# Each check prints "ok", "FAIL" or "info"; the exit status is 1 when one
# failed, 77 when not in the guest (no /dev/pmem0 to be had).

set -uo pipefail

# shellcheck source=guest-setup.sh source-path=SCRIPTDIR
. "$(dirname "$0")/guest-setup.sh"
vm_guest_only smoke.sh
info "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"

# 1. The NVDIMM, 2. XFS with DAX (guest-setup.sh).
vm_pmem_setup /mnt/pmem || exit 1
xfs_io -f -c 'pwrite -q 0 1m' -c fsync /mnt/pmem/probe
attrs=$(xfs_io -c 'statx -r' /mnt/pmem/probe | awk '/^stat.attributes =/ { print $3 }')
if (((attrs & 0x200000) != 0)); then
	ok "statx: STATX_ATTR_DAX on /mnt/pmem/probe (attributes $attrs)"
else
	fail "statx: no STATX_ATTR_DAX on /mnt/pmem/probe (attributes ${attrs:-?})"
fi
if ((reflink)); then
	if xfs_io -f -c 'reflink /mnt/pmem/probe' /mnt/pmem/clone >/dev/null 2>&1; then
		ok "reflink of a DAX file (FICLONE) works"
	else
		info "reflink of a DAX file refused"
	fi
	rm -f /mnt/pmem/clone
fi

# 3. Soft-RoCE over lo (guest-setup.sh).
vm_rxe_setup
rdma link show 2>&1 | sed 's/^/info rdma link: /'
devinfo=$(ibv_devinfo -v -d rxe0 2>&1)
if grep -q 'state:.*PORT_ACTIVE' <<<"$devinfo"; then
	ok "ibv_devinfo -d rxe0: PORT_ACTIVE"
else
	fail "rxe0 not active: $(grep -E 'state|error' <<<"$devinfo")"
fi
# The caps, one line per transport: "rc_odp_caps: SUPPORT_SEND ...".
awk '/odp_caps:/ { if (l) print l; l = $1; next }
	l && /^[ \t]+[A-Z_][A-Z_ ]*$/ { sub(/^[ \t]+/, ""); l = l " " $0; next }
	l { print l; l = "" }' <<<"$devinfo" | sed 's/^/info odp: /'
if grep -qi 'ODP_SUPPORT\b\|ODP_SUPPORT$' <<<"$devinfo" &&
	grep -A 12 -i 'rc_odp_caps' <<<"$devinfo" | grep -q 'SUPPORT_WRITE'; then
	ok "rxe0 reports on-demand paging (RC write)"
else
	fail "rxe0 reports no on-demand paging"
fi

# RC traffic between two processes through ODP memory regions: the GID
# that works on lo is the IPv4-mapped one (RoCE v2); fe80:: does not route.
gid=$(sed -n 's/.*GID\[ *\([0-9]*\)\]:[[:space:]]*::ffff:[0-9.]*, RoCE v2.*/\1/p' <<<"$devinfo" | head -n 1)
if [[ -n $gid ]]; then
	timeout 30 ibv_rc_pingpong -d rxe0 -g "$gid" -o -n 100 >/tmp/pp-server.log 2>&1 &
	server=$!
	for _ in $(seq 50); do
		ss -ltn | grep ':18515 ' >/dev/null && break
		sleep 0.1
	done
	if timeout 30 ibv_rc_pingpong -d rxe0 -g "$gid" -o -n 100 localhost >/tmp/pp-client.log 2>&1 &&
		wait "$server"; then
		ok "ibv_rc_pingpong -o (ODP MRs) over rxe0, GID index $gid: $(grep -m1 iters /tmp/pp-client.log)"
	else
		fail "ibv_rc_pingpong -o over rxe0: $(cat /tmp/pp-client.log /tmp/pp-server.log)"
	fi
else
	fail "rxe0 has no IPv4-mapped RoCE v2 GID"
fi

# 4. rdmafs over the DAX filesystem: RDMAFS_BIN and tests/vm/daxmap.c
# built (meson test --suite vm gives both).
daxmap=${1:-${RDMAFS_VM_DAXMAP:-}}
if [[ -z ${RDMAFS_BIN:-} || ! -x ${RDMAFS_BIN:-} || ! -x $daxmap ]]; then
	info "RDMAFS_BIN or the daxmap helper missing: rdmafs not tried (meson test --suite vm gives both)"
	info "done in $(elapsed)s"
	exit $failed
fi
ctl=${RDMAFSCTL:-$(dirname "$RDMAFS_BIN")/../tools/rdmafsctl}
if "$RDMAFS_BIN" /mnt/pmem /mnt/pmem >/tmp/rdmafs.log 2>&1; then
	ok "rdmafs /mnt/pmem /mnt/pmem ($(findmnt -no FSTYPE /mnt/pmem | tail -n 1))"
else
	fail "rdmafs: $(cat /tmp/rdmafs.log)"
	exit 1
fi
status=$("$ctl" status /mnt/pmem 2>&1)
grep -E '^(data_path|transport|libfuse)' <<<"$status" | tr -s ' ' | sed 's/^/info status: /'
# A build on the system's libfuse 3.14 serves data through the daemon: a
# mapping through the mount is FUSE's page cache, not DAX.  The checks
# below then run as a control and say what they see.
dax=1
if grep -Eq '^data_path[[:space:]=]+passthrough$' <<<"$status"; then
	ok "rdmafsctl status: data_path=passthrough"
elif grep -Eq '^libfuse[[:space:]=]+3\.1[0-6]' <<<"$status"; then
	info "rdmafsctl status: no passthrough (libfuse < 3.17): the mapping checks below are a control"
	dax=0
else
	fail "rdmafsctl status: $(grep data_path <<<"$status")"
fi
# A DAX expectation: ok or FAIL with passthrough, "control" otherwise.
expect()
{
	local good=$1
	shift
	if ((!dax)); then
		info "control (daemon data path): $*"
	elif ((good)); then
		ok "$*"
	else
		fail "$*"
	fi
}

# 32 MiB stored through a shared mapping of a file opened through the
# mount (daxmap.c).  A DAX mapping stores into the NVDIMM: no page cache
# grows, its frames are the NVDIMM's, and the VMA is the backing file's
# (passthrough) with DAX's flags.
"$daxmap" /mnt/pmem/mapped 32 >/tmp/map.log 2>&1
sed 's/^/info map: /' /tmp/map.log
read -r _ c0 c1 < <(grep '^cached_mib' /tmp/map.log)
[[ -n ${c0:-} ]] && ((c1 - c0 < 8))
expect $((!$?)) "32 MiB stored through the mapping: page cache ${c0:-?} -> ${c1:-?} MiB"
read -r _ inpmem frames < <(grep '^frames_in_pmem' /tmp/map.log)
[[ -n ${frames:-} ]] && ((frames > 0 && inpmem == frames))
expect $((!$?)) "NVDIMM frames under the mapping: ${inpmem:-?} of ${frames:-?} sampled (/proc/self/pagemap)"
# fincore proves little here: a fresh open through the mount reports 0
# bytes on the daemon data path too (the control shows it).
resident=$(fincore -n -o RES -b /mnt/pmem/mapped 2>/dev/null | tr -d ' ')
info "fincore /mnt/pmem/mapped: ${resident:-?} bytes in the page cache"
# A DAX VMA: xfs sets VM_HUGEPAGE (hg) on DAX mmaps; the pages are
# device pfns (mixed map, mm).  The file shows as the backing file.
vmflags=$(awk '/^vmflags/ { $1 = ""; print }' /tmp/map.log)
[[ " $vmflags " == *" hg "* || " $vmflags " == *" mm "* ]]
expect $((!$?)) "the mapping's VmFlags (DAX: hg):$vmflags"
if xfs_io -c 'pread -q 0 8' -c 'statx -r' /mnt/pmem/mapped | grep '^stat.attributes = 0x[0-9a-f]*2[0-9a-f]\{5\}$' >/dev/null; then
	info "statx through the mount: STATX_ATTR_DAX"
else
	info "statx through the mount: no STATX_ATTR_DAX (FUSE does not pass it on)"
fi
if [[ $(head -c 8 /mnt/pmem/mapped) == rdmafsvm ]]; then
	ok "the stores read back through the mount"
else
	fail "the stores do not read back through the mount"
fi

# 5. rdmafsctl audit where what it looks for is real: an fsdax XFS,
# MAP_SYNC, an RDMA device with on-demand paging.  Its ok paths are
# proven here (on the host they are failures: no DAX).
audit_out=$("$ctl" audit /mnt/pmem 2>&1)
audit_rc=$?
printf '%s\n' "$audit_out" | sed 's/^/  audit: /'
for c in fs-type dax map-sync pins; do
	if grep -E "^ok +$c " <<<"$audit_out" >/dev/null; then
		ok "rdmafsctl audit: $c ok"
	else
		fail "rdmafsctl audit: $c: $(grep -E "^[a-z]+ +$c " <<<"$audit_out")"
	fi
done
if grep -E '^ok +rdma ' <<<"$audit_out" >/dev/null; then
	ok "rdmafsctl audit: rdma ok (rxe0 with ODP)"
elif grep -E '^warning +rdma +not built with rdma' <<<"$audit_out" >/dev/null; then
	info "rdmafsctl audit: built without rdma"
else
	fail "rdmafsctl audit: rdma: $(grep -E '^[a-z]+ +rdma ' <<<"$audit_out")"
fi
if ((audit_rc == 0 || audit_rc == 1)); then
	ok "rdmafsctl audit: no failure (exit status $audit_rc)"
else
	fail "rdmafsctl audit: exit status $audit_rc"
fi

fusermount3 -u /mnt/pmem 2>/dev/null || umount /mnt/pmem
if umount /mnt/pmem; then
	ok "unmounted"
else
	fail "umount /mnt/pmem"
fi
info "done in $(elapsed)s"
exit $failed
