# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tools/rdmafs-demo's checks, sourced by it: that the paths it mounts and
# writes are root's alone (the demo runs as root in a world-writable
# /var/tmp), and which rdmafs daemon, if any, serves them (by identity,
# not by a process name anyone can take).  Uses the demo's variables
# (\$demo, \$backing, \$mnt, \$img) and its die and info.

# Refuses a path that would break the mount options it goes into (rdmafs
# -o ...,audit_log=PATH: a comma would add options) or the output.
check_chars()
{
	[[ $1 != *,* ]] ||
		die "$2 '$1' contains a comma, which would end the mount option it goes into: choose another"
	[[ $1 != *$'\n'* ]] || die "$2 contains a newline: choose another"
}

# Owner uid, octal mode, link count and type of $1 (not following a
# symlink).
stat_of()
{
	stat -c '%u %a %h %F' -- "$1"
}

# What no one but root may change: $1 must be a real directory (not a
# symlink) owned by root.  With $2 = strict it must not be writable by
# group or others either; with $2 = sticky that is allowed when the
# sticky bit is set (as on /var/tmp: others cannot rename root's entries).
# The demo never chmods a directory it did not make: it refuses.
check_root_dir()
{
	local d=$1 how=${2:-} uid mode links type
	[[ ! -L $d ]] ||
		die "$d is a symbolic link: refusing to use it (remove it, or choose another RDMAFS_DEMO_DIR)"
	[[ -d $d ]] || die "$d is not a directory"
	read -r uid mode links type < <(stat_of "$d") ||
		die "couldn't stat $d"
	((uid == 0)) ||
		die "$d is owned by uid $uid, not root: refusing to use it (whoever owns it could swap what the demo mounts; remove it, or choose another RDMAFS_DEMO_DIR)"
	[[ -n $how ]] || return 0
	if ((8#$mode & 8#022)); then
		[[ $how == sticky ]] && ((8#$mode & 8#1000)) && return 0
		die "$d (mode $mode) can be written by group or others: refusing to use it (choose another RDMAFS_DEMO_DIR: a new directory, or one only root can write)"
	fi
}

# The demo directory as an absolute path whose every existing ancestor is
# root's and unwritable by others (or sticky); missing ancestors are made,
# mode 0755, and checked.  Sets $demo and the paths in it.
resolve_demo()
{
	local d=$1 parent base part cur
	check_chars "$d" RDMAFS_DEMO_DIR
	[[ $d == /* ]] || d=$PWD/$d
	base=$(basename -- "$d")
	[[ $base != . && $base != .. && $base != / ]] ||
		die "RDMAFS_DEMO_DIR '$1' must name a directory to use or make (not /, . or ..)"
	parent=$(realpath -m -- "$(dirname -- "$d")") ||
		die "couldn't resolve the parent of $d"
	check_chars "$parent" "the demo directory's parent"
	cur=
	local -a parts
	IFS=/ read -r -a parts <<<"${parent#/}"
	check_root_dir / sticky
	for part in "${parts[@]}"; do
		[[ -n $part ]] || continue
		cur+=/$part
		if [[ ! -e $cur && ! -L $cur && -n ${2:-} ]]; then
			mkdir -m 0755 -- "$cur" 2>/dev/null || [[ -d $cur ]] ||
				die "couldn't make $cur"
		fi
		[[ -e $cur || -L $cur ]] || break
		check_root_dir "$cur" sticky
	done
	demo=${parent%/}/$base
	img=$demo/xfs.img
	backing=$demo/backing
	mnt=$demo/mnt
	# shellcheck disable=SC2034 # rdmafs-demo's audit trail
	log=$demo/audit.jsonl
}

# Checks the demo directory and what it holds, as far as they exist:
# every part root's, no symlinks, $demo unwritable by others, xfs.img a
# regular file of root's with one link.  With $1 = make, creates $demo,
# $backing and $mnt (mode 0755) where missing.
check_demo()
{
	local make=${1:-} d uid mode links type
	if [[ -n $make && ! -e $demo && ! -L $demo ]]; then
		mkdir -m 0755 -- "$demo" 2>/dev/null || [[ -d $demo ]] ||
			die "couldn't make $demo"
	fi
	[[ -e $demo || -L $demo ]] || return 0
	check_root_dir "$demo" strict
	for d in "$backing" "$mnt"; do
		if [[ -n $make && ! -e $d && ! -L $d ]]; then
			mkdir -m 0755 -- "$d" || die "couldn't make $d"
		fi
		[[ -e $d || -L $d ]] && check_root_dir "$d"
	done
	if [[ -e $img || -L $img ]]; then
		[[ ! -L $img ]] || die "$img is a symbolic link: refusing to use it"
		read -r uid mode links type < <(stat_of "$img") ||
			die "couldn't stat $img"
		[[ $type == "regular file" || $type == "regular empty file" ]] ||
			die "$img is not a regular file ($type): refusing to use it"
		((uid == 0)) || die "$img is owned by uid $uid, not root: refusing to mount it"
		((links == 1)) || die "$img has $links links: refusing to mount it"
		((!(8#$mode & 8#022))) ||
			die "$img (mode $mode) can be written by group or others: refusing to mount it (chmod go-w it, or remove it)"
	fi
	return 0
}

# The path as /proc/mounts writes it (space, tab, newline and backslash
# are octal escapes there).
mounts_escape()
{
	local s=$1
	s=${s//\\/\\134}
	s=${s// /\\040}
	s=${s//$'\t'/\\011}
	s=${s//$'\n'/\\012}
	printf '%s' "$s"
}

# The /proc/mounts lines for mountpoint $1 (bottom first).
mount_lines()
{
	# Through the environment: awk -v would undo the backslash escapes.
	M=$(mounts_escape "$1") awk '$2 == ENVIRON["M"]' /proc/mounts
}

# True when the topmost mount at $1 is rdmafs.
is_rdmafs_at()
{
	local top
	top=$(mount_lines "$1" | tail -n 1 | awk '{ print $3 }')
	[[ $top == fuse.rdmafs ]]
}

# "major:minor:inode" of $1 (following a symlink, as of a /proc fd).
file_id()
{
	stat -L -c '%Hd:%Ld:%i' -- "$1" 2>/dev/null
}

# The identity (file_id) of the directory that rdmafs at $1 serves from
# beneath it, given as $2 (the backing directory's path, or $1 itself for
# an overmount).  A backing not under the mount is stat'ed directly.  Under
# an overmount: the inode rdmafs reports for its root (it passes the
# backing's through) on the device of what $1 was before the mount: the
# mount below rdmafs at $1, else the filesystem of $1's parent.
backing_id()
{
	local m=$1 b=$2 ino dev
	if [[ $m != "$b" ]]; then
		file_id "$b"
		return
	fi
	ino=$(stat -c %i -- "$m" 2>/dev/null) || return 1
	dev=$(M=$(mounts_escape "$m") awk '$5 == ENVIRON["M"] { print $3 }' \
		/proc/self/mountinfo | tail -n 2 | sed -n '1{$!p}')
	if [[ -z $dev ]]; then
		dev=$(stat -c '%Hd:%Ld' -- "$(dirname -- "$m")" 2>/dev/null) ||
			return 1
	fi
	printf '%s:%s\n' "$dev" "$ino"
}

# True when process $1 is root's (real and effective uid: the uid this
# script runs as) and holds /dev/fuse open, as a daemon serving a mount.
trusted_daemon()
{
	local p=/proc/$1 key ruid euid rest
	while read -r key ruid euid rest; do
		[[ $key == Uid: ]] || continue
		((ruid == EUID && euid == EUID)) || return 1
		break
	done 2>/dev/null <"$p/status" || return 1
	[[ -n ${euid:-} ]] || return 1
	find "$p/fd" -mindepth 1 -maxdepth 1 -lname /dev/fuse -print -quit \
		2>/dev/null | grep -q .
}

# An rdmafs daemon's own descriptor on the backing directory of rdmafs at
# $1, as a /proc/PID/fd/N path: it reaches the directory even under an
# overmount.  $2 is the backing's path (the mount's source).  Any user can
# name a process "rdmafs": only a daemon of root's that holds /dev/fuse
# and a descriptor on that very directory (device and inode) counts.
daemon_backing_fd()
{
	local pat=$2 want p comm fd
	want=$(backing_id "$1" "$2") || return 1
	# find -lname takes a glob: escape the path's glob characters.
	pat=${pat//\\/\\\\}
	pat=${pat//\*/\\*}
	pat=${pat//\?/\\?}
	pat=${pat//\[/\\[}
	for p in /proc/[0-9]*; do
		comm=
		read -r comm 2>/dev/null <"$p/comm" || continue
		[[ $comm == rdmafs ]] || continue
		trusted_daemon "${p#/proc/}" || continue
		while read -r fd; do
			[[ -n $fd && -d $fd ]] || continue
			[[ $(file_id "$fd") == "$want" ]] || continue
			printf '%s\n' "$fd"
			return 0
		done < <(find "$p/fd" -mindepth 1 -maxdepth 1 -lname "$pat" \
			2>/dev/null)
	done
	return 1
}
