#!/usr/bin/env bash
# Builds a STAND-IN code-server release tarball for the tests:
#   make-tarball.sh VERSION ARCH OUTDIR
# writes OUTDIR/code-server-VERSION-linux-ARCH.tar.gz (and prints its path),
# which unpacks to code-server-VERSION-linux-ARCH/ with the release's shape:
#   bin/code-server       the python3 stand-in (code-server.py next to this script)
#   package.json          {"name": "code-server", "version": VERSION}
#   lib/vscode/package.json, lib/node (a stub), out/node/entry.js (a stub)
# The archive is byte-for-byte reproducible (fixed mtimes and owners, gzip -n), so
# a test can pin its SHA-256.
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 VERSION ARCH OUTDIR" >&2
  exit 2
fi
version=$1 arch=$2 outdir=$3
case $arch in amd64|arm64) ;; *) echo "ARCH must be amd64 or arm64, got '$arch'" >&2; exit 2;; esac
if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "VERSION must look like 4.96.4, got '$version'" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
name=code-server-$version-linux-$arch
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/$name
mkdir -p "$root/bin" "$root/lib/vscode" "$root/out/node"
install -m 0755 "$here/code-server.py" "$root/bin/code-server"
printf '{\n  "name": "code-server",\n  "version": "%s",\n  "description": "STAND-IN for tests, not the real code-server"\n}\n' \
  "$version" > "$root/package.json"
printf '{\n  "name": "code-oss-dev",\n  "version": "1.96.4"\n}\n' > "$root/lib/vscode/package.json"
printf '#!/bin/sh\necho "lib/node is a stub in the code-server stand-in" >&2\nexit 1\n' > "$root/lib/node"
chmod 0755 "$root/lib/node"
echo '// stub: the stand-in runs bin/code-server directly' > "$root/out/node/entry.js"
printf 'STAND-IN code-server %s (linux-%s) built for coder-vm-bootstrap tests.\n' "$version" "$arch" > "$root/README.standin"
chmod -R u+rwX,go+rX,go-w "$root"   # independent of the caller's umask
find "$root" -exec touch -h -d @0 {} +
out=$outdir/$name.tar.gz
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - "$name" | gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
