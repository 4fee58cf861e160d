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
