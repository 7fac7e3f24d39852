#!/usr/bin/env bash
# Builds coder-vm-bootstrap-<version>-linux-<arch>.tar.gz (arch in Go's
# names, as release downloads are usually named): one top folder holding the
# release binary, units/, man/, install.sh and a README.
# Usage: packaging/tarball/build.sh [OUTDIR]   (default out/); prints the tarball path.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
out=${1:-$repo/out}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
top=$work/$tarball_name
install -d -m 0755 "$top" "$top/units" "$top/man"
stage_daemon "$top/coder-vm-bootstrap"
install -m 0644 "${unit_files[@]}" "$top/units/"
install -m 0644 "$man_page" "$top/man/"
install -m 0755 "$repo/packaging/tarball/install.sh" "$top/install.sh"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$go_arch/" "$repo/packaging/tarball/README" > "$top/README"
chmod 0644 "$top/README"

mkdir -p "$out"
tarball=$out/$tarball_file
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -cf - "$tarball_name" | gzip -9n > "$tarball"
echo "$tarball"
