#!/usr/bin/env bash
# Builds coder-vm-bootstrap_<version>_<arch>.deb from the release binary,
# units/ and the generated man page with plain dpkg-deb, the service and its
# path unit enabled the Debian way on install (deb-systemd-helper, as
# debhelper's generated maintainer scripts do).
# Usage: packaging/deb/build.sh [OUTDIR]   (default out/); prints the .deb path.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
out=${1:-$repo/out}
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"

doc=$root/usr/share/doc/coder-vm-bootstrap
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/man/man8" "$doc"
stage_daemon "$root/usr/bin/coder-vm-bootstrap"
install -m 0644 "${unit_files[@]}" "$root/lib/systemd/system/"
gzip -9n < "$man_page" > "$root/usr/share/man/man8/coder-vm-bootstrap.8.gz"
chmod 0644 "$root/usr/share/man/man8/coder-vm-bootstrap.8.gz"
install -m 0644 "$repo/packaging/deb/copyright" "$doc/copyright"
printf 'coder-vm-bootstrap (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- coder-vm-bootstrap maintainers <maintainers@coder-vm-bootstrap.invalid>  %s\n' \
  "$version" "$version" "$(date -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$size/" "$repo/packaging/deb/control.in" > "$root/DEBIAN/control"
for script in postinst prerm postrm; do install -m 0755 "$repo/packaging/deb/$script" "$root/DEBIAN/$script"; done

mkdir -p "$out"
deb=$out/$deb_file
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
