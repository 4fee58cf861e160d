#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The fs mount suite in the guest (issue 11, "the vm suite" 2), run by
# tests/vm/run: chosen tests of `meson test --suite fs`, on the guest's
# Debian 7.x kernel instead of the host's, in two passes:
#  1. as on the host: each test mounts rdmafs over its own loop-mounted XFS
#     (tests/harness.c) on the guest's tmpfs; not DAX, but the 7.x kernel's
#     FUSE, passthrough, io_uring and XFS under the whole daemon;
#  2. over the real fsdax XFS: the NVDIMM's XFS mounted with dax=always on
#     /mnt/pmem and the harness told to use a plain directory there
#     (RDMAFS_TEST_BACKING=tmpdir, TMPDIR=/mnt/pmem/tests), so that the
#     backing files are DAX files.  Only tests that mount one rdmafs at a
#     time: rdmafs takes one lock per backing filesystem.
# The build must be up to date (meson test --no-rebuild: meson compiling
# under TCG would take minutes).  Each pass logs to BUILD/meson-logs/
# vm-fs*.txt, not testlog.*, which the host's meson test is writing.
# usage (in the guest): fs-suite.sh BUILD_DIR
# Exit 1 when a test failed, 77 when not in the guest.

set -uo pipefail

# shellcheck source=guest-setup.sh source-path=SCRIPTDIR
. "$(dirname "$0")/guest-setup.sh"
vm_guest_only fs-suite.sh

build=$(cd "${1:?usage: fs-suite.sh BUILD_DIR}" && pwd) || exit 2
# By time: a command in the guest runs about 10-20 times slower than on
# the host under TCG; these take about 3 minutes there (host: about 10 s).
# The data path, FUSE over io_uring, pins and their safety, other users,
# librdmafs.  (mount-ctl-hold fails here: rdmafsctl hold gets ENOTSUP in
# its private mount namespace; the sessions are lease-story.sh's.)
loop_tests=(mount-smoke mount-passthrough mount-uring mount-pins mount-pinsafety
	mount-users mount-librdmafs)
dax_tests=(mount-smoke mount-passthrough mount-pinsafety)

info "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
modprobe -a loop fuse 2>/dev/null

# pass NAME TEST...: meson test on those tests, its summary kept.
pass()
{
	local name=$1 t0 rc
	shift
	t0=$(elapsed)
	meson test -C "$build" --no-rebuild --print-errorlogs --logbase "$name" "$@" \
		>"/tmp/$name.log" 2>&1
	rc=$?
	# Per-test lines ("1/7 rdmafs:fs / mount-smoke OK 2.1s") and the summary.
	grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Expected Fail|Unexpected Pass|Timeout): ' \
		"/tmp/$name.log" | sed "s/^/info $name: /"
	if ((rc == 0)); then
		ok "$name: meson test ${*} ($(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN { printf "%.0f", b - a }')s)"
	else
		fail "$name: meson test exit $rc; its log:"
		cat "/tmp/$name.log"
	fi
}

# 1. The harness's own loop XFS.
pass vm-fs "${loop_tests[@]}"

# 2. Backing directories on the real DAX XFS.
if vm_pmem_setup /mnt/pmem; then
	mkdir -p /mnt/pmem/tests
	xfs_io -f -c 'pwrite -q 0 64k' /mnt/pmem/tests/probe
	attrs=$(xfs_io -c 'statx -r' /mnt/pmem/tests/probe | awk '/^stat.attributes =/ { print $3 }')
	if (((attrs & 0x200000) != 0)); then
		ok "/mnt/pmem/tests: a file there is DAX (STATX_ATTR_DAX)"
	else
		fail "/mnt/pmem/tests/probe: no STATX_ATTR_DAX (attributes ${attrs:-?})"
	fi
	rm -f /mnt/pmem/tests/probe
	RDMAFS_TEST_BACKING=tmpdir TMPDIR=/mnt/pmem/tests pass vm-fs-dax "${dax_tests[@]}"
	umount /mnt/pmem || fail "umount /mnt/pmem"
fi
info "kernel $(uname -r): done in $(elapsed)s"
exit $failed
