#!/bin/sh
# Installs coder-vm-bootstrap from this folder on a systemd machine without
# one of the packages (.deb, .rpm, .pkg.tar.zst), or into an image's root.
#
#   ./install.sh                 install into this machine, enable the units
#   ./install.sh --root DIR      install into the root file system at DIR
#                                (an image being built), enable them there
#   ./install.sh --uninstall [--root DIR]
#
# Files go under /usr/local, where software the package manager does not own
# belongs: /usr/local/bin/coder-vm-bootstrap, the units in
# /usr/local/lib/systemd/system (systemd's search path; /etc/systemd/system
# stays the administrator's, whose copies and drop-ins win), the man page in
# /usr/local/share/man/man8. The units name /usr/bin/coder-vm-bootstrap, the
# path the packages use; it is rewritten to /usr/local/bin as they are
# installed. coder-vm-bootstrap.service is enabled with
# coder-vm-bootstrap.path, which starts it as soon as cloud-init writes this
# boot's spec. Running it again installs the same files again (an upgrade
# restarts a running daemon); --uninstall removes exactly these files.
set -eu

service=coder-vm-bootstrap.service
path=coder-vm-bootstrap.path
units="$service $path code-server@.service coder-agent@.service"
bindir=/usr/local/bin
unitdir=/usr/local/lib/systemd/system
mandir=/usr/local/share/man/man8
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "install.sh: $*" >&2; exit 1; }
usage() { sed -n '5,8s/^# \{0,1\}//p' "$0"; }

root=
uninstall=false
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --uninstall) uninstall=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
if [ -n "$root" ]; then
  [ -d "$root" ] || die "--root $root is not a directory"
  root=$(cd "$root" && pwd)
  [ "$root" != / ] || root=
fi
[ "$(id -u)" = 0 ] || [ -n "$root" ] || die "run as root (or with --root DIR for an image)"
command -v systemctl >/dev/null 2>&1 || die "systemctl is missing: coder-vm-bootstrap needs systemd"

# The manager of this machine is told about changes; an image (--root) or a
# machine not booted with systemd (a chroot) only gets its files changed.
live=false
if [ -z "$root" ] && [ -d /run/systemd/system ]; then live=true; fi
systemctl_here() {
  if [ -n "$root" ]; then systemctl --root="$root" "$@"; else systemctl "$@"; fi
}

# Writes a file next to its destination, then renames it over: a running
# daemon keeps its old binary until it restarts, and nothing sees half a file.
place() { # place SOURCE DEST MODE [sed expression]
  mkdir -p "$(dirname "$2")"
  if [ $# -ge 4 ]; then sed -e "$4" "$1" > "$2.new"; else cp "$1" "$2.new"; fi
  chmod "$3" "$2.new"
  mv -f "$2.new" "$2"
}

if $uninstall; then
  # The enabled units still installed (an install by an older install.sh
  # may lack the path unit), disabled in one transaction: the path unit,
  # left running, would start the daemon again while a spec exists.
  set --
  for u in "$service" "$path"; do
    if [ -e "$root$unitdir/$u" ]; then set -- "$@" "$u"; fi
  done
  if [ $# -gt 0 ]; then
    if $live; then systemctl disable --now "$@"; else systemctl_here disable "$@"; fi
  fi
  for u in $units; do rm -f "$root$unitdir/$u"; done
  rm -f "$root$bindir/coder-vm-bootstrap" "$root$mandir/coder-vm-bootstrap.8"
  if $live; then systemctl daemon-reload; fi
  echo "coder-vm-bootstrap removed from ${root:-/}"
  exit 0
fi

for f in coder-vm-bootstrap $(for u in $units; do echo "units/$u"; done) man/coder-vm-bootstrap.8; do
  [ -f "$here/$f" ] || die "$here/$f is missing: unpack the whole tarball and run install.sh from it"
done
place "$here/coder-vm-bootstrap" "$root$bindir/coder-vm-bootstrap" 0755
for u in $units; do
  place "$here/units/$u" "$root$unitdir/$u" 0644 "s#/usr/bin/coder-vm-bootstrap#$bindir/coder-vm-bootstrap#g"
done
place "$here/man/coder-vm-bootstrap.8" "$root$mandir/coder-vm-bootstrap.8" 0644

if $live; then
  systemctl daemon-reload
  systemctl enable "$service" "$path"
  # An upgrade: a running daemon goes on with the new binary.
  systemctl try-restart "$service"
  # The path unit only watches for the spec, so it is started (a no-op if
  # it runs), never restarted: the daemon starts as soon as a spec exists.
  systemctl start "$path"
else
  systemctl_here enable "$service" "$path"
fi
echo "coder-vm-bootstrap installed into ${root:-/} and enabled; it starts once a spec exists (/run/coder-vm-bootstrap/spec.json or /etc/coder-vm-bootstrap/spec.json)"
