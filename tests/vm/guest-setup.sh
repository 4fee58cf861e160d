# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sourced by the VM suite's guest scripts (smoke.sh, lease-story.sh,
# fs-suite.sh), inside the guest that tests/vm/run boots: the check lines
# they print, and the ground they stand on.
#   ok/fail/info MSG   "ok   [T s] MSG", "FAIL [T s] MSG" (sets failed=1),
#                      "info MSG"; T is the time since the script started
#   vm_guest_only NAME exit 77 unless in the guest (no NVDIMM out of it)
#   vm_pmem_setup MNT  the NVDIMM as an fsdax namespace (/dev/pmem0), XFS
#                      on it (reflink=1 when this kernel allows it with
#                      DAX: $reflink says which) mounted with dax=always
#                      on MNT; returns 1 when there is none
#   vm_rxe_setup       soft-RoCE rxe0 over lo (a dummy netdev if lo is
#                      refused); returns 1 when there is none

# shellcheck disable=SC2034  # the sourcing script exits with it
failed=0
t_start=$(date +%s.%N)
elapsed()
{
	awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}
ok()
{
	echo "ok   [$(elapsed)s] $*"
}
fail()
{
	echo "FAIL [$(elapsed)s] $*"
	failed=1
}
info()
{
	echo "info $*"
}

vm_guest_only()
{
	[[ -e /run/rdmafs-vm/config ]] || {
		echo "$1: runs inside the guest (tests/vm/run -- $1)"
		exit 77
	}
}

# The NVDIMM.  init loaded the modules; modprobe proves the guest's module
# tree works too.
vm_pmem_setup()
{
	local mnt=$1 r

	if modprobe -a nfit nd_pmem xfs rdma_rxe ib_uverbs; then
		ok "modprobe nfit nd_pmem xfs rdma_rxe ib_uverbs"
	else
		fail "modprobe"
	fi
	if ndctl create-namespace -f -e namespace0.0 -m fsdax >/tmp/ns.json 2>&1; then
		ok "ndctl create-namespace -m fsdax: $(tr -d ' \n' </tmp/ns.json | grep -o '"mode":"[a-z]*"' | head -n 1)"
	else
		fail "ndctl create-namespace: $(cat /tmp/ns.json)"
	fi
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[[ -b /dev/pmem0 ]] && break
		sleep 0.2
	done
	[[ -b /dev/pmem0 ]] || {
		fail "no /dev/pmem0"
		return 1
	}
	ok "/dev/pmem0: $(($(blockdev --getsize64 /dev/pmem0) >> 20)) MiB, dax=$(cat /sys/block/pmem0/queue/dax 2>/dev/null)"

	# Since Linux 6.0 fsdax and reflink may go together; take reflink=1
	# when the mount accepts it.
	mkdir -p "$mnt"
	reflink=
	for r in 1 0; do
		mkfs.xfs -q -f -m reflink=$r /dev/pmem0 >/tmp/mkfs.log 2>&1 || continue
		if mount -o dax=always /dev/pmem0 "$mnt" 2>/tmp/mount.log; then
			reflink=$r
			break
		fi
		info "reflink=$r with dax=always: $(cat /tmp/mount.log; dmesg | tail -n 2)"
	done
	if [[ -n $reflink ]]; then
		ok "mkfs.xfs -m reflink=$reflink; mount -o dax=always ($(findmnt -no OPTIONS "$mnt"))"
	else
		fail "no XFS mounted with dax=always: $(cat /tmp/mkfs.log /tmp/mount.log)"
		return 1
	fi
}

# Soft-RoCE over lo.
vm_rxe_setup()
{
	ip link set lo up
	if rdma link add rxe0 type rxe netdev lo 2>/tmp/rdma.log; then
		ok "rdma link add rxe0 type rxe netdev lo"
	else
		info "rxe over lo refused ($(cat /tmp/rdma.log)); trying a dummy netdev"
		if ip link add rdmafs0 type dummy && ip addr add 192.0.2.1/24 dev rdmafs0 &&
			ip link set rdmafs0 up && rdma link add rxe0 type rxe netdev rdmafs0; then
			ok "rdma link add rxe0 type rxe netdev rdmafs0 (dummy)"
		else
			fail "no rxe0"
			return 1
		fi
	fi
}
