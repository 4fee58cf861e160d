# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers shared by the shell mount tests (test-mount-startup.sh,
# test-mount-ctl.sh, test-mount-cli.sh), which source this file.  The
# sourcing script sets failures=0 and exits non-zero when it is not 0.

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

pass() {
	echo "ok: $*"
}

is_rdmafs_mount() {
	[ "$(findmnt -n -o FSTYPE -M "$1" 2>/dev/null | tail -n 1)" = fuse.rdmafs ]
}

# Waits up to 5 s for $M to become (or, with "gone", stop being) an
# rdmafs mount.
wait_mount() {
	local _
	for _ in $(seq 100); do
		if [ "${1:-}" = gone ]; then
			is_rdmafs_mount "$M" || return 0
		else
			is_rdmafs_mount "$M" && return 0
		fi
		sleep 0.05
	done
	return 1
}
