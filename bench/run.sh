#!/usr/bin/env bash
# `make bench` (make builds the release first): the daemon against its
# targets and against the seed approach, each figure beside a baseline
# measured in the same run (ratios, not absolute limits). Needs root and the
# Debian 12 test image (IMAGE_CACHE, see Tests/system/nspawn.py); writes
# out/bench.json. Options go to bench/bench.py (--boots N, --skip boots,downloads).
# Not run by `make test`. The memory breakdown, link-flag variants, probe
# cycles and fleet simulation are their own scripts: see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for bin in coder-vm-bootstrap coder-vm-seed bench-fetch; do
  [[ -x .build/release/$bin ]] || { echo "bench: build the release first (make bench does)" >&2; exit 2; }
done
exec python3 bench/bench.py "$@"
