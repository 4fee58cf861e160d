#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# librdmafs's ABI: the shared library exports only rdmafs_* (and its
# version node), has the soname librdmafs.so.1, and does not depend on
# FUSE.  The private core linked into it must stay local (librdmafs.map).
#
# Usage: test-lib-exports.sh PATH/TO/librdmafs.so

set -euo pipefail

LIB=${1:?usage: test-lib-exports.sh LIBRARY}
for tool in nm readelf; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# "ADDRESS TYPE NAME[@[@]VERSION]"
nsyms=0
while read -r _ type name; do
	sym=${name%%@*}
	if [ "$type" = A ] && [ "$sym" = RDMAFS_1.0 ]; then
		continue
	fi
	case "$sym" in
	rdmafs_*)
		nsyms=$((nsyms + 1))
		case "$name" in
		*@@RDMAFS_1.0) ;;
		*) fail "$sym is not in the version node RDMAFS_1.0: $name" ;;
		esac
		;;
	*) fail "exported: $type $name" ;;
	esac
done < <(nm -D --defined-only "$LIB")

# every call of rdmafs.h, and nothing else
want=20
if [ "$nsyms" -ne "$want" ]; then
	fail "$nsyms rdmafs_* symbols exported, expected $want"
fi

soname=$(readelf -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != librdmafs.so.1 ]; then
	fail "soname is '$soname', not librdmafs.so.1"
fi
if readelf -d "$LIB" | grep NEEDED | grep fuse >/dev/null; then
	fail "librdmafs depends on FUSE: $(readelf -d "$LIB" | grep NEEDED)"
fi

if [ "$failures" -ne 0 ]; then
	echo "test-lib-exports: $failures failure(s)"
	exit 1
fi
echo "test-lib-exports: $nsyms symbols, all rdmafs_*; soname $soname"
