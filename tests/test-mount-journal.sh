#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The audit trail's journald sink (lib/core/audit_journal.h).  No
# journald runs here, so in a mount namespace of its own the test puts a
# tmpfs over /run/systemd and over /dev (keeping the device nodes it
# needs) and listens, as journald would, on /run/systemd/journal/socket
# (the native protocol) and /dev/log (syslog):
#
# - with the journal socket there when rdmafs starts, a refused
#   truncate under a pin arrives there as one entry with RDMAFS_EVENT,
#   RDMAFS_OP, RDMAFS_PID (the truncate's), RDMAFS_COMM, RDMAFS_PATH,
#   MESSAGE and the rest, and not also at /dev/log; a path holding a
#   newline arrives intact (the length-prefixed form);
# - without it, the same refusal goes to /dev/log as a syslog line.
#
# Usage: test-mount-journal.sh [RDMAFSCTL] (unused).  RDMAFS_BIN names
# the daemon.  Needs root, /dev/fuse, unshare, python3, setfattr and
# truncate (exit 77 otherwise).

set -euo pipefail

BIN=${RDMAFS_BIN:-rdmafs}
ME=test-mount-journal

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root"
	exit 77
fi
if ! [ -c /dev/fuse ] || ! { exec 3<>/dev/fuse; } 2>/dev/null; then
	echo "skip: /dev/fuse is not usable"
	exit 77
fi
exec 3>&-
for tool in fusermount3 findmnt timeout unshare python3 setfattr truncate; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing"
		exit 77
	fi
done

# The journald sink needs libsystemd (meson feature 'systemd').
if ! readelf -d "$(command -v "$BIN")" 2>/dev/null | grep 'libsystemd' >/dev/null; then
	echo "skip: $BIN was built without libsystemd (-Dsystemd=disabled)"
	exit 77
fi

# The namespace: a /run/rdmafs of our own (one rdmafs per backing
# filesystem), and the journal's and syslog's sockets ours.
if [ -z "${RDMAFS_JOURNAL_NS:-}" ]; then
	RDMAFS_JOURNAL_NS=1 exec unshare -m --propagation private \
		bash "$0" "$@"
fi
# Never the host's /dev and /run/systemd: only in a namespace of our own.
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
	echo "FAIL: not in a mount namespace of our own"
	exit 1
fi
[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs
mkdir -p /run/systemd
mount -t tmpfs -o mode=0755 rdmafs-test-systemd /run/systemd
mkdir /run/systemd/journal

T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-journal.XXXXXX")
chmod 755 "$T"

# /dev: a tmpfs with the nodes the daemon and this test use, bound one
# by one from the real /dev, and our own /dev/log.  Built aside, then
# moved over /dev, so that nothing under $T ever leads into the real
# /dev (whose nodes a recursive removal of $T would otherwise delete).
mkdir "$T/dev"
mount -t tmpfs -o mode=0755 rdmafs-test-dev "$T/dev"
for n in null zero full random urandom tty fuse; do
	[ -e "/dev/$n" ] || continue
	touch "$T/dev/$n"
	mount --bind "/dev/$n" "$T/dev/$n"
done
ln -s /proc/self/fd "$T/dev/fd"
ln -s /proc/self/fd/0 "$T/dev/stdin"
ln -s /proc/self/fd/1 "$T/dev/stdout"
ln -s /proc/self/fd/2 "$T/dev/stderr"
mount --move "$T/dev" /dev

B=$T/b
M=$T/m
failures=0
listener=

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	[ -z "$listener" ] || kill "$listener" 2>/dev/null || true
	while findmnt -n -M "$M" >/dev/null 2>&1; do
		fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M" || break
	done
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

# The listener: each journal entry as one JSON object per line in
# $T/journal.jsonl (values as Latin-1 strings, so any byte survives),
# each syslog datagram as one line of $T/syslog.txt.  An entry passed as
# a memfd (SCM_RIGHTS, journald's way for large ones) is read too.
cat >"$T/listen.py" <<'EOF'
import array, json, os, select, socket, struct, sys

jpath, lpath, out = sys.argv[1], sys.argv[2], sys.argv[3]

def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            if data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("bad binary field " + k.decode())
            i = nl + 10 + n
        fields[k.decode()] = v.decode("latin-1")
    return fields

socks = []
if jpath != "-":
    j = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    j.bind(jpath)
    socks.append(("journal", j))
if lpath != "-":
    l = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    l.bind(lpath)
    socks.append(("syslog", l))
with open(out + ".ready", "w"):
    pass
jl = open(out + "/journal.jsonl", "a", buffering=1)
sl = open(out + "/syslog.txt", "a", buffering=1)
while True:
    r, _, _ = select.select([s for _, s in socks], [], [], 120)
    if not r:
        break
    for name, s in socks:
        if s not in r:
            continue
        fds = array.array("i")
        data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4))
        for level, typ, cd in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(cd[:len(cd) - len(cd) % 4])
        for fd in fds:
            data += os.pread(fd, 1 << 24, 0)
            os.close(fd)
        if name == "journal":
            try:
                jl.write(json.dumps(parse(data)) + "\n")
            except Exception as e:
                jl.write(json.dumps({"PARSE_ERROR": str(e)}) + "\n")
        else:
            sl.write(data.decode("latin-1").replace("\n", "\\n") + "\n")
EOF

# start_listener JOURNAL_SOCKET SYSLOG_SOCKET ('-': none)
start_listener() {
	rm -f "$T/out.ready" "$1" "$2"
	mkdir -p "$T/out"
	: >"$T/out/journal.jsonl"
	: >"$T/out/syslog.txt"
	python3 "$T/listen.py" "$1" "$2" "$T/out" &
	listener=$!
	for _ in $(seq 100); do
		[ -e "$T/out.ready" ] && return 0
		sleep 0.05
	done
	echo "FAIL: the listener did not start"
	exit 1
}

stop_listener() {
	kill "$listener" 2>/dev/null || true
	wait "$listener" 2>/dev/null || true
	listener=
}

do_mount() {
	if ! timeout 20 "$BIN" -o allow_other "$B" "$M" 2>"$T/err" ||
		! wait_mount; then
		echo "FAIL: couldn't mount: $(cat "$T/err")"
		exit 1
	fi
}

do_umount() {
	fusermount3 -u "$M" || fail "fusermount3 -u failed"
	wait_mount gone || fail "still mounted"
	# The next daemon may start once this one released its lock.
	for _ in $(seq 100); do
		pgrep -f "$BIN -o allow_other $B $M" >/dev/null || return 0
		sleep 0.05
	done
}

# refuse NAME: pins $M/NAME's first 4 KiB and truncates it to 0, which
# must fail with "Text file busy"; the truncate's pid in $tpid.
refuse() {
	local f=$M/$1 rc=0
	head -c 8192 /dev/zero >"$f"
	if ! setfattr -n user.rdmafs.pin -v 0+4096 "$f" 2>"$T/err"; then
		echo "skip: no pins on this backing: $(cat "$T/err")"
		exit 77
	fi
	truncate -s 0 "$f" 2>"$T/terr" &
	tpid=$!
	wait "$tpid" || rc=$?
	if [ "$rc" -eq 0 ] || ! grep -q "Text file busy" "$T/terr"; then
		fail "truncate of pinned $1: exit $rc: $(cat "$T/terr")"
	fi
}

# entry EVENT PATH: the first journal entry of EVENT on PATH, as JSON,
# within 5 s.
entry() {
	local _ e
	for _ in $(seq 100); do
		e=$(python3 - "$T/out/journal.jsonl" "$1" "$2" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("RDMAFS_EVENT") == sys.argv[2] and e.get("RDMAFS_PATH") == sys.argv[3]:
        print(json.dumps(e))
        break
EOF
		)
		[ -n "$e" ] && {
			echo "$e"
			return 0
		}
		sleep 0.05
	done
	return 1
}

# field JSON NAME: the value of field NAME, or "<none>".
field() {
	python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], "<none>"))' "$1" "$2"
}

# expect NAME JSON FIELD VALUE
expect() {
	local v
	v=$(field "$2" "$3")
	if [ "$v" != "$4" ]; then
		fail "$1: $3 is '$v', not '$4'"
		return 1
	fi
}

mkdir "$B" "$M"

# ---- with journald ----
start_listener /run/systemd/journal/socket /dev/log
do_mount
refuse f
if ! e=$(entry refuse f); then
	fail "journal: no refuse entry for f: $(cat "$T/out/journal.jsonl")"
else
	ok=1
	expect "journal refuse" "$e" RDMAFS_OP truncate || ok=0
	expect "journal refuse" "$e" RDMAFS_PID "$tpid" || ok=0
	expect "journal refuse" "$e" RDMAFS_COMM truncate || ok=0
	expect "journal refuse" "$e" RDMAFS_ERRNO ETXTBSY || ok=0
	expect "journal refuse" "$e" ERRNO 26 || ok=0
	expect "journal refuse" "$e" RDMAFS_UID 0 || ok=0
	expect "journal refuse" "$e" PRIORITY 4 || ok=0
	expect "journal refuse" "$e" SYSLOG_IDENTIFIER rdmafs || ok=0
	expect "journal refuse" "$e" SYSLOG_FACILITY 3 || ok=0
	msg=$(field "$e" MESSAGE)
	case "$msg" in
	"refuse truncate path=f "*"by pid=$tpid "*"comm=truncate "*) ;;
	*)
		fail "journal refuse: MESSAGE is '$msg'"
		ok=0
		;;
	esac
	for k in RDMAFS_OFFSET RDMAFS_LENGTH RDMAFS_EXE RDMAFS_CMDLINE; do
		[ "$(field "$e" "$k")" != "<none>" ] || {
			fail "journal refuse: no $k"
			ok=0
		}
	done
	[ "$ok" -eq 0 ] || pass "journal: refuse entry with its fields: $msg"
fi
if e=$(entry pin f); then
	expect "journal pin" "$e" RDMAFS_COMM setfattr &&
		expect "journal pin" "$e" PRIORITY 6 &&
		pass "journal: pin entry (setfattr, info)"
else
	fail "journal: no pin entry for f"
fi

# A name with a newline: the length-prefixed form, the exact bytes.
nl=$'line1\nline2'
refuse "$nl"
if e=$(entry refuse "$nl"); then
	pass "journal: a path with a newline arrives intact"
	case "$(field "$e" MESSAGE)" in
	*$'\n'*) fail "journal: the newline reached MESSAGE unescaped" ;;
	*) ;;
	esac
else
	fail "journal: no refuse entry for the name with a newline: $(tail -n 2 "$T/out/journal.jsonl")"
fi
if grep -a -q 'refuse truncate' "$T/out/syslog.txt"; then
	fail "journal: the refusal went to syslog as well: $(grep -a 'refuse truncate' "$T/out/syslog.txt")"
else
	pass "journal: the events not also in syslog"
fi
grep -q PARSE_ERROR "$T/out/journal.jsonl" &&
	fail "journal: malformed entries: $(grep PARSE_ERROR "$T/out/journal.jsonl")"
do_umount
stop_listener

# ---- without journald: syslog ----
start_listener - /dev/log
do_mount
refuse g
for _ in $(seq 100); do
	grep -a -q 'refuse truncate path=g ' "$T/out/syslog.txt" && break
	sleep 0.05
done
line=$(grep -a 'refuse truncate path=g ' "$T/out/syslog.txt" || true)
# <28>: facility daemon (3) * 8 + warning (4)
case "$line" in
"<28>"*"rdmafs["*"]: refuse truncate path=g "*"comm=truncate "*)
	pass "no journal: the refusal in syslog: $line"
	;;
*) fail "no journal: no syslog line for the refusal: $(cat "$T/out/syslog.txt")" ;;
esac
[ ! -s "$T/out/journal.jsonl" ] || fail "no journal: a journal entry anyway"
do_umount
stop_listener

if [ "$failures" -ne 0 ]; then
	echo "$ME: $failures failure(s)"
	exit 1
fi
echo "$ME: all passed"
