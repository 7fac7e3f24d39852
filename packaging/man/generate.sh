#!/usr/bin/env bash
# Generates coder-vm-bootstrap(8) and coder-vm-seed(1) from the commands'
# argument parsers with swift-argument-parser's generate-manual plugin, so the
# pages say what --help says and never drift from it.
# Usage: packaging/man/generate.sh [OUTDIR]   (default out/man); prints the pages.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/out/man}
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}
plugin_out=$repo/.build/plugins/GenerateManual/outputs
mkdir -p "$out"
cd "$repo"
for page in coder-vm-bootstrap.8 coder-vm-seed.1; do
  name=${page%.*} section=${page##*.}
  rm -rf "$plugin_out"
  # The plugin builds every product in the configuration it is given: debug,
  # so the static release build in .build/release is left as it is.
  swift package plugin generate-manual --configuration debug --section "$section" \
    --date "$(date -u -d "@$epoch" +%F)" \
    --authors "coder-vm-bootstrap maintainers<maintainers@coder-vm-bootstrap.invalid>" >&2
  install -m 0644 "$plugin_out/$name/$page" "$out/$page"
  echo "$out/$page"
done
