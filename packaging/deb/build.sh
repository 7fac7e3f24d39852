#!/usr/bin/env bash
# Builds coder-vm-bootstrap_<version>_amd64.deb from the release binary and
# units/ with plain dpkg-deb, the unit enabled the Debian way on install
# (deb-systemd-helper, as debhelper's generated maintainer scripts do).
# Usage: packaging/deb/build.sh [OUTDIR]   (default out/); prints the .deb path.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/out}
bin=$repo/.build/release/coder-vm-bootstrap
[[ -x $bin ]] || { echo "packaging: build the release first (make release)" >&2; exit 2; }
version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' "$repo/Sources/WorkspaceSpec/BuildInfo.swift")
arch=$(dpkg --print-architecture)
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/coder-vm-bootstrap"
install -m 0755 -s "$bin" "$root/usr/bin/coder-vm-bootstrap"
install -m 0644 "$repo"/units/*.service "$root/lib/systemd/system/"
install -m 0644 "$repo/packaging/deb/copyright" "$root/usr/share/doc/coder-vm-bootstrap/copyright"
printf 'coder-vm-bootstrap (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- coder-vm-bootstrap maintainers <maintainers@coder-vm-bootstrap.invalid>  %s\n' \
  "$version" "$version" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}")" \
  | gzip -9n > "$root/usr/share/doc/coder-vm-bootstrap/changelog.gz"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$repo/packaging/deb/control.in" > "$root/DEBIAN/control"
for script in postinst prerm postrm; do install -m 0755 "$repo/packaging/deb/$script" "$root/DEBIAN/$script"; done

mkdir -p "$out"
deb=$out/coder-vm-bootstrap_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
