#!/usr/bin/env python3
"""`make bench`: the daemon against its targets and against the seed
approach, every figure beside a baseline measured in the same run. Writes
out/bench.json and prints a short table.

  binary     stripped size (target 18 MB)
  start-up   `--version`: mean ms next to /bin/true (hyperfine) and
             instructions (callgrind; target 10 ms)
  boots      the seed approach and coder-vm-bootstrap in nspawn, cold and
             warm, medians of --boots (side_by_side.py): agent first report,
             code-server /healthz 200, READY=1, bytes downloaded, the
             daemon's RSS/Pss after READY (targets 16 / 12 MiB) and own time
  downloads  Fetch (bench-fetch) against the curl CLI, 1 GiB on loopback

    sudo IMAGE_CACHE=/work/main/.cache/image bench/bench.py [--boots 3] [--skip boots,downloads]
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
DAEMON = REPO / ".build" / "release" / "coder-vm-bootstrap"
MiB = 2**20
TARGETS = {"stripped_mb": 18, "version_ms": 10, "rss_mib": 16, "pss_mib": 12, "own_time_ms": 50}


def binary_size():
    with tempfile.NamedTemporaryFile() as stripped:
        subprocess.run(["strip", "-o", stripped.name, str(DAEMON)], check=True)
        size = pathlib.Path(stripped.name).stat().st_size
    return {"stripped_bytes": size, "target_bytes": TARGETS["stripped_mb"] * 10**6}


def startup():
    with tempfile.TemporaryDirectory() as folder:
        stripped = pathlib.Path(folder) / "coder-vm-bootstrap"
        subprocess.run(["strip", "-o", str(stripped), str(DAEMON)], check=True)
        report = pathlib.Path(folder) / "hyperfine.json"
        subprocess.run(["hyperfine", "-N", "--warmup", "20", "--runs", "200", "--export-json", str(report),
                        f"{stripped} --version", "/bin/true"], check=True, capture_output=True)
        means = [r["mean"] * 1000 for r in json.loads(report.read_text())["results"]]
        instructions = [callgrind([str(stripped), "--version"]), callgrind(["/bin/true"])]
    return {"version_ms": round(means[0], 3), "true_ms": round(means[1], 3), "ms_ratio": round(means[0] / means[1], 1),
            "version_instructions": instructions[0], "true_instructions": instructions[1],
            "instruction_ratio": round(instructions[0] / instructions[1], 1)}


def callgrind(cmd):
    out = subprocess.run(["nice", "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                         capture_output=True, text=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))


def ratio(a, b):
    return f"{a / b:5.2f}x" if a is not None and b else "    -"


def print_boots(boots):
    m = boots["medians"]
    print(f"\nboots: seed approach vs coder-vm-bootstrap, nspawn, medians of {m['project_cold']['n']}, "
          f"agent {boots['agent_bytes'] / MiB:.0f} MiB, code-server {boots['code_server_bytes'] / MiB:.0f} MiB, "
          f"{boots['rate_bytes_per_s'] / MiB:.0f} MiB/s per connection")
    print(f"{'seconds from container start':<34} {'seed':>7} {'project':>8} {'ratio':>6}   {'seed':>7} {'project':>8} {'ratio':>6}")
    print(f"{'':<34} {'cold':>7} {'cold':>8} {'':>6}   {'warm':>7} {'warm':>8}")
    rows = [("agent first report (s)", "agent_first_report_s", 1), ("code-server /healthz 200 (s)", "code_server_healthz_s", 1),
            ("READY=1 (s)", "ready_s", 1), ("downloaded (MiB)", "downloaded_bytes", MiB)]
    for label, key, unit in rows:
        cells = []
        for kind in ("cold", "warm"):
            s, p = m[f"seed_{kind}"].get(key), m[f"project_{kind}"].get(key)
            cells.append(f"{s / unit if s is not None else float('nan'):7.2f} {p / unit if p is not None else float('nan'):8.2f} "
                         f"{ratio(p, s) if s else '    -':>6}")
        print(f"{label:<34} " + "   ".join(cells))
    for label, key, target in (("daemon RSS at READY (MiB)", "daemon_rss_kib", TARGETS["rss_mib"]),
                               ("  peak while the boot log runs", "daemon_rss_boot_log_peak_kib", TARGETS["rss_mib"]),
                               ("  steady, after the boot log", "daemon_rss_steady_kib", TARGETS["rss_mib"]),
                               ("daemon Pss at READY (MiB)", "daemon_pss_vm_kib", TARGETS["pss_mib"]),
                               ("  steady, after the boot log", "daemon_pss_vm_steady_kib", TARGETS["pss_mib"]),
                               ("daemon anonymous, steady (MiB)", "daemon_anonymous_steady_kib", None)):
        cold, warm = m["project_cold"][key] / 1024, m["project_warm"][key] / 1024
        note = f"  target {target} MiB: {cold / target:.2f}x / {warm / target:.2f}x" if target else ""
        print(f"{label:<34} {'':>7} {cold:8.1f} {'':>6}   {'':>7} {warm:8.1f}{note}")
    print("daemon's own time (s): unit start -> READY=1 less the last component's wait on its unit and probes")
    for kind in ("cold", "warm"):
        st = m[f"project_{kind}"]["daemon_stages"]
        parts = [f"{k.removesuffix('_s')} {v:.2f}" for k, v in st.items()
                 if k.startswith(("own_time", "unit_start_to_ready", "exec_to_first", "prepare", "converge", "start_"))]
        print(f"  {kind}: " + ", ".join(parts))
    cold = m["project_cold"]["daemon_stages"]
    starts = {k.removeprefix("download_start_").removesuffix("_after_spec_s"): v * 1000 for k, v in cold.items()
              if k.startswith("download_start_")}
    if starts:
        print("  cold, downloads started after the daemon had its spec: "
              + ", ".join(f"{name} {ms:.0f} ms ({ms / 100:.2f}x of 100 ms)" for name, ms in sorted(starts.items())))
    warm = m["project_warm"]["daemon_stages"]
    if "own_time_critical_path_s" in warm:
        own, path, before = (warm[k] * 1000 for k in ("own_time_s", "own_time_critical_path_s", "start_up_before_the_boot_spec_s"))
        target = TARGETS["own_time_ms"]
        print(f"  warm, from the unit's start: {own:.0f} ms ({own / target:.2f}x of {target} ms), of which {before:.0f} ms is the "
              f"daemon's start before it waits for this boot's spec (while cloud-init works towards writing it)")
        print(f"  warm, added to READY=1 (from the spec's arrival): {path:.0f} ms ({path / target:.2f}x of {target} ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated: boots, downloads")
    parser.add_argument("--json", type=pathlib.Path, default=REPO / "out" / "bench.json")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    result = {"targets": TARGETS, "binary": binary_size(), "startup": startup()}
    b, s = result["binary"], result["startup"]
    print(f"stripped size: {b['stripped_bytes'] / 1e6:.1f} MB (target 18 MB: {b['stripped_bytes'] / b['target_bytes']:.2f}x of target)")
    print(f"--version: {s['version_ms']:.2f} ms mean (target 10 ms: {s['version_ms'] / 10:.2f}x of target); "
          f"/bin/true baseline {s['true_ms']:.2f} ms; ratio {s['ms_ratio']}x")
    print(f"--version: {s['version_instructions'] / 1e6:.2f} M instructions (callgrind); /bin/true "
          f"{s['true_instructions'] / 1e3:.0f} k; ratio {s['instruction_ratio']}x")
    if "boots" not in skip:
        import side_by_side
        result["boots"] = side_by_side.run(boots=args.boots, log=lambda text: print("  " + text, flush=True))
        print_boots(result["boots"])
    if "downloads" not in skip:
        import download_vs_curl
        print("\ndownloads vs the curl CLI: 1 GiB on loopback, no rate limit, into tmpfs")
        result["downloads"] = download_vs_curl.run(log=lambda text: print(text, flush=True))
        for name, m in result["downloads"]["medians"].items():
            like = f", {m['speed_of_curl_and_openssl']:.2f}x curl + openssl dgst" if "speed_of_curl_and_openssl" in m else ""
            print(f"  {name:<24} {m['wall_s']:6.2f} s wall ({m['wall_ratio_to_curl']:.2f}x curl)  "
                  f"{m['cpu_s']:6.2f} s CPU ({m['cpu_ratio_to_curl']:.2f}x curl)  {m['mib_per_s']} MiB/s"
                  f"  speed {m['speed_of_curl']:.2f}x curl{like}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {args.json.relative_to(REPO) if args.json.is_relative_to(REPO) else args.json}")


if __name__ == "__main__":
    main()
