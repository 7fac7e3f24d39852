#!/usr/bin/env bash
# Writes OUTDIR/SHA256SUMS over the four packages of this version (what
# `make packages` built), in `sha256sum -c` format.
# Usage: packaging/checksums.sh [OUTDIR]   (default out/); prints its path.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=${1:-$repo/out}
(cd "$out" && sha256sum "$deb_file" "$rpm_file" "$pacman_file" "$tarball_file") > "$out/SHA256SUMS"
echo "$out/SHA256SUMS"
