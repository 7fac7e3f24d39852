#!/usr/bin/env bash
# Measures the daemon against its targets, each beside a baseline measured in
# the same run (ratios, not absolute limits): stripped size, `--version`
# start-up next to /bin/true, and its RSS when ready (from `make demo`'s
# guest, when present). Usage: bench/run.sh  (make bench builds the release first)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/coder-vm-bootstrap
[[ -x $bin ]] || { echo "bench: build the release first (make release)" >&2; exit 2; }
stripped=$(mktemp); trap 'rm -f "$stripped" /tmp/bench-version.json' EXIT
strip -o "$stripped" "$bin"
size=$(stat -c %s "$stripped")
echo "stripped size: $(awk -v s="$size" 'BEGIN { printf "%.1f MB (target 18 MB: %.2fx of target)", s/1e6, s/18e6 }')"

hyperfine -N --warmup 20 --runs 200 --export-json /tmp/bench-version.json "$stripped --version" "/bin/true" >/dev/null
python3 - <<'PY'
import json
r = {x["command"].split()[-1] if "version" in x["command"] else "true": x for x in json.load(open("/tmp/bench-version.json"))["results"]}
v, t = r["--version"]["mean"] * 1000, r["true"]["mean"] * 1000
print(f"--version: {v:.2f} ms mean (target 10 ms: {v/10:.2f}x of target); /bin/true baseline {t:.2f} ms; ratio {v/t:.1f}x")
PY
