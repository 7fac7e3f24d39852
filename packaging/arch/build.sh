#!/usr/bin/env bash
# Builds coder-vm-bootstrap-<version>-1-<arch>.pkg.tar.zst with makepkg
# (Debian's makepkg and pacman-package-manager packages) from the release
# binary, units/, the preset and the man page. makepkg refuses to run as
# root: as root, the build runs as a throwaway system user, removed after.
# Usage: packaging/arch/build.sh [OUTDIR]   (default out/); prints the package path.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
out=${1:-$repo/out}
work=$(mktemp -d)
builder=
cleanup() {
  rm -rf "$work"
  if [[ -n $builder ]]; then userdel "$builder" 2>/dev/null || true; fi
}
trap cleanup EXIT
mkdir -p "$out"

stage_daemon "$work/coder-vm-bootstrap"
install -m 0644 "${unit_files[@]}" "$repo/packaging/systemd/90-coder-vm-bootstrap.preset" \
  "$man_page" "$repo/packaging/arch/coder-vm-bootstrap.install" "$work/"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$pacman_arch/" "$repo/packaging/arch/PKGBUILD" > "$work/PKGBUILD"

as_builder=()
if [[ $(id -u) == 0 ]]; then
  builder=cvb-makepkg-$$
  useradd --system --no-create-home --home-dir "$work" --shell /usr/sbin/nologin "$builder"
  chown -R "$builder:" "$work"
  as_builder=(setpriv --reuid="$builder" --regid="$builder" --clear-groups --)
fi
# The sums `makepkg -g` would append, with the algorithm Arch uses.
(
  cd "$work" && source ./PKGBUILD
  printf 'sha256sums=('
  for f in "${source[@]}"; do printf "'%s' " "$(sha256sum "$f" | cut -d' ' -f1)"; done
  printf ')\n'
) >> "$work/PKGBUILD"
# Dependencies are checked by pacman on the target, not on this Debian machine.
(cd "$work" && "${as_builder[@]}" env HOME="$work" PKGEXT=.pkg.tar.zst PKGDEST="$work" \
  PACKAGER="coder-vm-bootstrap maintainers <maintainers@coder-vm-bootstrap.invalid>" \
  makepkg --nodeps --force --noconfirm) >&2
install -m 0644 "$work/$pacman_file" "$out/$pacman_file"
echo "$out/$pacman_file"
