#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The systemd units (systemd/) and the daemon's side of Type=notify:
#
# - `systemd-analyze verify` of the units the build generated, with the
#   ExecStart binary pointed at the built rdmafs (verify wants it to
#   exist); skipped without systemd-analyze;
# - `meson install --tags systemd --destdir` puts them in the unit
#   directory meson was configured with, ExecStart naming the installed
#   rdmafs;
# - readiness without systemd (there is no PID 1 systemd here): rdmafs
#   -f over itself, as the unit runs it, with NOTIFY_SOCKET naming a
#   socket this test listens on.  READY=1 must arrive once the mount
#   serves: the listener, on READY=1, checks the mountpoint's top mount
#   is fuse.rdmafs and reads a file through it.  SIGTERM (systemctl
#   stop) then brings STOPPING=1, the mount goes and the exit is 0.
#   Daemonised (no -f), READY=1 carries MAINPID= of the serving
#   process, here over an abstract socket ('@' form), and an unmount
#   brings STOPPING=1.
#
# Usage: test-mount-systemd.sh RDMAFSCTL (the build's tools/rdmafsctl:
# the build directory is found from it).  RDMAFS_BIN names the daemon.
# The readiness part needs root, /dev/fuse and python3 (exit 77 when
# nothing could be tested).

set -euo pipefail

CTL=${1:-${RDMAFSCTL:?usage: test-mount-systemd.sh RDMAFSCTL}}
BUILD=$(cd "$(dirname "$CTL")/.." && pwd)
BIN=${RDMAFS_BIN:-$BUILD/fs/rdmafs}
BIN=$(readlink -f "$BIN")
ME=test-mount-systemd
tested=0

# One rdmafs per backing filesystem: a /run/rdmafs of our own (see
# test-mount-ctl.sh), when we may make a mount namespace.
if [ "$(id -u)" -eq 0 ] && [ -z "${RDMAFS_TEST_NS:-}" ] &&
	command -v unshare >/dev/null; then
	RDMAFS_TEST_NS=1 exec unshare -m --propagation private \
		bash "$0" "$@"
fi
if [ -n "${RDMAFS_TEST_NS:-}" ]; then
	[ -d /run/rdmafs ] || mkdir -m 0700 /run/rdmafs
	mount -t tmpfs -o mode=0700 rdmafs-run /run/rdmafs
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/rdmafs-systemd.XXXXXX")
chmod 755 "$T"
P=$T/pmem # backing and mountpoint: the overmount the unit makes
failures=0
daemon=
listener=

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	[ -z "$listener" ] || kill "$listener" 2>/dev/null || true
	[ -z "$daemon" ] || kill -KILL "$daemon" 2>/dev/null || true
	while [ -d "$P" ] && findmnt -n -M "$P" >/dev/null 2>&1; do
		fusermount3 -u -z "$P" 2>/dev/null || umount -l "$P" || break
	done
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# shellcheck source=tests/mount-test-lib.sh
. "$(dirname "$0")/mount-test-lib.sh"

# ---- systemd-analyze verify ----
units=(rdmafs@.service rdmafs-metrics@.service rdmafs-metrics@.timer)
for u in "${units[@]}"; do
	if ! [ -f "$BUILD/systemd/$u" ]; then
		echo "FAIL: the build has no systemd/$u"
		exit 1
	fi
done
if ! command -v systemd-analyze >/dev/null; then
	echo "skip: systemd-analyze is missing: units not verified"
else
	mkdir "$T/units"
	# The instance mnt-pmem of each template; ExecStart on the built
	# binary, which verify checks is executable.
	sed "s|^ExecStart=[^ ]*/rdmafs |ExecStart=$BIN |" \
		"$BUILD/systemd/rdmafs@.service" >"$T/units/rdmafs@.service"
	cp "$BUILD/systemd/rdmafs-metrics@.service" \
		"$BUILD/systemd/rdmafs-metrics@.timer" "$T/units/"
	inst=()
	for u in "${units[@]}"; do
		ln -s "$u" "$T/units/${u/@/@mnt-pmem}"
		inst+=("$T/units/${u/@/@mnt-pmem}")
	done
	# Parse errors are only warnings ("ignoring"): any output fails.
	# --man=no: the man pages are not installed here.
	if ! timeout 120 systemd-analyze verify --man=no "${inst[@]}" \
		>"$T/verify" 2>&1; then
		fail "systemd-analyze verify: $(cat "$T/verify")"
	elif [ -s "$T/verify" ]; then
		fail "systemd-analyze verify complained: $(cat "$T/verify")"
	else
		pass "systemd-analyze verify: ${units[*]} (instance mnt-pmem)"
	fi
	grep -q '^ExecStart=[^ ]*/rdmafs -f \$RDMAFS_OPTIONS %f %f$' \
		"$BUILD/systemd/rdmafs@.service" ||
		fail "rdmafs@.service: unexpected ExecStart: $(grep ^ExecStart "$BUILD/systemd/rdmafs@.service")"
	grep -qx 'Type=notify' "$BUILD/systemd/rdmafs@.service" ||
		fail "rdmafs@.service is not Type=notify"
	# A private mount namespace would hide the mount from everyone.
	if grep -E '^(PrivateMounts|ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|ReadOnlyPaths|InaccessiblePaths|TemporaryFileSystem|BindPaths|ProtectKernel[A-Za-z]*|ProtectControlGroups|ProtectProc|MountFlags)=' \
		"$BUILD/systemd/rdmafs@.service"; then
		fail "rdmafs@.service sets up a mount namespace of its own"
	fi
	tested=1
fi

# ---- meson install ----
if ! command -v meson >/dev/null || ! command -v python3 >/dev/null; then
	echo "skip: meson or python3 is missing: install not checked"
elif ! meson introspect --installed "$BUILD" >"$T/installed.json" 2>"$T/err"; then
	fail "meson introspect --installed: $(cat "$T/err")"
else
	# Where meson means to install the units and the daemon.
	python3 - "$BUILD" "$T/installed.json" >"$T/where" <<'EOF'
import json, sys
build, f = sys.argv[1], sys.argv[2]
inst = json.load(open(f))
print(inst.get(build + "/systemd/rdmafs@.service", ""))
print(inst.get(build + "/fs/rdmafs", ""))
EOF
	{
		read -r unit_dest
		read -r bin_dest
	} <"$T/where"
	if [ -z "$unit_dest" ] || [ -z "$bin_dest" ]; then
		fail "meson installs no rdmafs@.service or no rdmafs: $(cat "$T/where")"
	elif ! meson install -C "$BUILD" --no-rebuild --tags systemd \
		--destdir "$T/dest" >"$T/install.log" 2>&1; then
		fail "meson install --tags systemd: $(tail -n 5 "$T/install.log")"
	else
		d=$(dirname "$unit_dest")
		for u in "${units[@]}"; do
			[ -f "$T/dest$d/$u" ] || fail "not installed: $d/$u"
		done
		case "$d" in
		*/lib/systemd/system) ;;
		*) fail "units installed in $d, not a systemd unit directory" ;;
		esac
		if grep -qx "ExecStart=$bin_dest -f \$RDMAFS_OPTIONS %f %f" \
			"$T/dest$unit_dest"; then
			pass "meson install: units in $d, ExecStart=$bin_dest"
		else
			fail "installed unit's ExecStart is not $bin_dest: $(grep ^ExecStart "$T/dest$unit_dest")"
		fi
		if grep -q "$(dirname "$bin_dest")/rdmafsctl metrics" \
			"$T/dest$d/rdmafs-metrics@.service"; then
			pass "rdmafs-metrics@.service runs the installed rdmafsctl"
		else
			fail "rdmafs-metrics@.service does not run $(dirname "$bin_dest")/rdmafsctl"
		fi
	fi
	tested=1
fi

# ---- the metrics job's command, run as systemd would run it ----
# Its ExecStart with systemd's own expansions ($$, %f, %i) done here,
# the textfile directory in $T and rdmafsctl a stub: the .prom file is
# replaced whole, no temporary file stays, a mount that does not answer
# gives rdmafs_up 0, and any other failure removes the file.
if command -v python3 >/dev/null; then
	mkdir "$T/textfile"
	cat >"$T/stub-ctl" <<'STUB'
#!/bin/sh
[ "$1" = metrics ] && [ "$2" = /mnt/pmem ] || exit 2
[ -e "${0%/*}/stub-broken" ] && exit 2
if [ -e "${0%/*}/stub-cut" ]; then
	printf '# HELP rdmafs_up Whether\nrdmafs_up{mountpoint="/mnt/pmem"} 1\nrdmafs_pi'
	exit 1
fi
if [ -e "${0%/*}/stub-fail" ]; then
	echo 'rdmafs_up{mountpoint="/mnt/pmem"} 0'
	exit 3
fi
echo 'rdmafs_up{mountpoint="/mnt/pmem"} 1'
STUB
	chmod +x "$T/stub-ctl"
	cat >"$T/run-exec.py" <<'PY'
import re, shlex, subprocess, sys
unit, ctl, textdir = sys.argv[1:4]
line = [l for l in open(unit) if l.startswith("ExecStart=")][0]
line = line[len("ExecStart="):].strip()
line = re.sub(r"\S*/rdmafsctl", ctl, line)
line = line.replace("/var/lib/prometheus/node-exporter", textdir)
line = line.replace("%f", "/mnt/pmem").replace("%i", "mnt-pmem")
line = line.replace("$$", "$")
sys.exit(subprocess.run(shlex.split(line)).returncode)
PY
	run_metrics() {
		python3 "$T/run-exec.py" "$BUILD/systemd/rdmafs-metrics@.service" \
			"$T/stub-ctl" "$T/textfile"
	}
	prom=$T/textfile/rdmafs-mnt-pmem.prom
	if ! run_metrics; then
		fail "metrics job: failed with a working rdmafsctl"
	elif [ "$(cat "$prom" 2>/dev/null)" != 'rdmafs_up{mountpoint="/mnt/pmem"} 1' ]; then
		fail "metrics job: $prom holds '$(cat "$prom" 2>/dev/null)'"
	elif [ "$(find "$T/textfile" -type f | wc -l)" -ne 1 ]; then
		fail "metrics job: left files behind: $(ls "$T/textfile")"
	else
		pass "metrics job: wrote rdmafs-mnt-pmem.prom, nothing else"
	fi
	touch "$T/stub-fail"
	if ! run_metrics; then
		fail "metrics job: failed with a mount that does not answer"
	elif [ "$(cat "$prom" 2>/dev/null)" != 'rdmafs_up{mountpoint="/mnt/pmem"} 0' ] ||
		[ "$(find "$T/textfile" -type f | wc -l)" -ne 1 ]; then
		fail "metrics job: a mount that does not answer left $(ls "$T/textfile"): '$(cat "$prom" 2>/dev/null)'"
	else
		pass "metrics job: a mount that does not answer gives rdmafs_up 0"
	fi
	# A write error is also status 1, with the output cut: never installed.
	rm "$T/stub-fail"
	touch "$T/stub-cut"
	if run_metrics; then
		fail "metrics job: succeeded with a cut output"
	elif [ -n "$(ls "$T/textfile")" ]; then
		fail "metrics job: a cut output left $(ls "$T/textfile")"
	else
		pass "metrics job: a cut output (status 1) is not installed"
	fi
	rm "$T/stub-cut"
	run_metrics || fail "metrics job: failed with a working rdmafsctl"
	touch "$T/stub-broken"
	if run_metrics; then
		fail "metrics job: succeeded with a broken rdmafsctl"
	elif [ -n "$(ls "$T/textfile")" ]; then
		fail "metrics job: a broken rdmafsctl left $(ls "$T/textfile")"
	else
		pass "metrics job: a broken rdmafsctl removes the stale file"
	fi
	tested=1
fi

# ---- readiness and stop through NOTIFY_SOCKET ----
skip_rest() {
	[ "$failures" -eq 0 ] || exit 1
	echo "skip: $1: readiness not tested"
	[ "$tested" -eq 1 ] && exit 0
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip_rest "needs root"
if ! [ -c /dev/fuse ] || ! { exec 3<>/dev/fuse; } 2>/dev/null; then
	skip_rest "/dev/fuse is not usable"
fi
exec 3>&-
for tool in fusermount3 findmnt timeout python3; do
	command -v "$tool" >/dev/null || skip_rest "$tool is missing"
done

# The listener: one line per notification in $T/notes, and on READY=1
# what the mount looked like at that moment ("check ok" or why not).
cat >"$T/listen.py" <<'EOF'
import os, socket, sys

addr, mnt, out = sys.argv[1], sys.argv[2], sys.argv[3]

def top_fstype(path):
    t = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            a, b = line.split(" - ", 1)
            if a.split()[4] == path:
                t = b.split()[0]
    return t

def check():
    t = top_fstype(mnt)
    if t != "fuse.rdmafs":
        return "not mounted yet (top mount %r)" % t
    try:
        with open(os.path.join(mnt, "file")) as f:
            data = f.read()
    except OSError as e:
        return "reading through the mount: %s" % e
    return "ok" if data == "data\n" else "read %r" % data

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.settimeout(60)
with open(out, "a", buffering=1) as log:
    log.write("listening\n")
    while True:
        msg = s.recv(4096).decode()
        creds = msg.split("\n")
        log.write("note %s\n" % " ".join(creds))
        if "READY=1" in creds:
            log.write("check %s\n" % check())
        if "STOPPING=1" in creds:
            break
EOF

# start_listener ADDR: until it is listening (5 s).
start_listener() {
	: >"$T/notes"
	python3 "$T/listen.py" "$1" "$P" "$T/notes" &
	listener=$!
	for _ in $(seq 100); do
		grep -q listening "$T/notes" && return 0
		sleep 0.05
	done
	fail "the listener did not start"
	return 1
}

# wait_note PATTERN: until a line of $T/notes matches (20 s).
wait_note() {
	for _ in $(seq 400); do
		grep -Eq -- "$1" "$T/notes" && return 0
		sleep 0.05
	done
	return 1
}

mkdir "$P"
echo data >"$P/file"

# -- foreground, as the unit runs it --
start_listener "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock "$BIN" -f -o allow_other "$P" "$P" \
	2>"$T/err" &
daemon=$!
if ! wait_note '^check '; then
	fail "foreground: no READY=1 within 20 s: $(cat "$T/err") $(cat "$T/notes")"
elif grep -qx 'check ok' "$T/notes"; then
	pass "foreground: READY=1 once the mount serves ($(grep '^note.*READY=1' "$T/notes"))"
else
	fail "foreground: READY=1 before the mount served: $(grep '^check' "$T/notes")"
fi
if grep -q 'MAINPID=' "$T/notes"; then
	grep -q "MAINPID=$daemon\\b" "$T/notes" ||
		fail "foreground: MAINPID is not the daemon $daemon: $(cat "$T/notes")"
fi
is_rdmafs_mount "$P" || fail "foreground: not mounted after READY=1"
kill -TERM "$daemon"
rc=0
timeout 30 tail --pid="$daemon" -f /dev/null || true
if kill -0 "$daemon" 2>/dev/null; then
	fail "foreground: still running 30 s after SIGTERM"
	kill -KILL "$daemon"
fi
wait "$daemon" || rc=$?
daemon=
if ! wait_note 'STOPPING=1'; then
	fail "foreground: no STOPPING=1 after SIGTERM: $(cat "$T/notes")"
else
	pass "foreground: STOPPING=1 after SIGTERM"
fi
if [ "$rc" -ne 0 ]; then
	fail "foreground: exit status $rc after SIGTERM: $(cat "$T/err")"
elif is_rdmafs_mount "$P"; then
	fail "foreground: the mount is still there after SIGTERM"
elif [ "$(cat "$P/file")" != data ]; then
	fail "foreground: the backing is not back at $P"
else
	pass "foreground: SIGTERM unmounted, exit 0"
fi
wait "$listener" 2>/dev/null || true
listener=

# -- daemonised, abstract socket: MAINPID names the serving process --
start_listener "@rdmafs-test-notify-$$"
if ! NOTIFY_SOCKET=@rdmafs-test-notify-$$ timeout 20 "$BIN" \
	-o allow_other "$P" "$P" 2>"$T/err"; then
	fail "daemonised: rdmafs failed: $(cat "$T/err")"
elif ! wait_note '^check '; then
	fail "daemonised: no READY=1: $(cat "$T/notes")"
else
	grep -qx 'check ok' "$T/notes" ||
		fail "daemonised: READY=1 before the mount served: $(grep '^check' "$T/notes")"
	mainpid=$(grep -o 'MAINPID=[0-9]*' "$T/notes" | head -n 1)
	mainpid=${mainpid#MAINPID=}
	if [ -z "$mainpid" ]; then
		fail "daemonised: READY=1 without MAINPID: $(cat "$T/notes")"
	elif [ "$(readlink -f "/proc/$mainpid/exe" 2>/dev/null)" != "$BIN" ]; then
		fail "daemonised: MAINPID=$mainpid is not a running rdmafs"
	else
		pass "daemonised: READY=1 with MAINPID=$mainpid, the serving daemon"
	fi
	fusermount3 -u "$P" || fail "daemonised: fusermount3 -u failed"
	if wait_note 'STOPPING=1'; then
		pass "daemonised: STOPPING=1 after an unmount"
	else
		fail "daemonised: no STOPPING=1 after an unmount: $(cat "$T/notes")"
	fi
	if [ -n "$mainpid" ]; then
		timeout 20 tail --pid="$mainpid" -f /dev/null ||
			fail "daemonised: $mainpid still runs after the unmount"
	fi
fi
wait "$listener" 2>/dev/null || true
listener=

# -- without NOTIFY_SOCKET, nothing is sent and nothing fails --
if timeout 20 env -u NOTIFY_SOCKET "$BIN" -o allow_other "$P" "$P" \
	2>"$T/err" && is_rdmafs_mount "$P"; then
	pass "no NOTIFY_SOCKET: mounts as ever"
	fusermount3 -u "$P" || fail "no NOTIFY_SOCKET: unmount failed"
else
	fail "no NOTIFY_SOCKET: $(cat "$T/err")"
fi

if [ "$failures" -ne 0 ]; then
	echo "$ME: $failures failure(s)"
	exit 1
fi
echo "$ME: all passed"
