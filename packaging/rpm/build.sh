#!/usr/bin/env bash
# Builds coder-vm-bootstrap-<version>-1.<arch>.rpm with rpmbuild (Debian's rpm
# package) from the release binary, units/, the preset and the man page.
# Usage: packaging/rpm/build.sh [OUTDIR]   (default out/); prints the .rpm path.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
out=${1:-$repo/out}
top=$(mktemp -d); trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SOURCES" "$out"

stage_daemon "$top/SOURCES/coder-vm-bootstrap"
install -m 0644 "${unit_files[@]}" "$repo/packaging/systemd/90-coder-vm-bootstrap.preset" "$man_page" "$top/SOURCES/"

# Everything under the throwaway topdir; the finished package straight to OUTDIR.
rpmbuild -bb --quiet --target "$rpm_arch" \
  --define "_topdir $top" --define "_rpmdir $out" --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  --define "cvb_version $version" --define "cvb_changelog_date $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')" \
  --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
  "$repo/packaging/rpm/coder-vm-bootstrap.spec" >&2
echo "$out/$rpm_file"
