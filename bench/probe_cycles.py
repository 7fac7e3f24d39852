#!/usr/bin/env python3
"""Does the daemon's anonymous memory stay flat while it probes? Boots the
project's workspace with a daemon whose probe interval is shortened (the
policy says 10 s; this needs a build with bench/scratch/memory-experiments.patch,
which reads BENCH_PROBE_INTERVAL_MS and logs "probe cycle N" every 100
cycles per component), then samples the daemon's anonymous RSS (smaps_rollup)
against the cycle count until `--cycles` more cycles have run after a
warm-up, and reports the growth per 1,000 cycles.

    bench/probe_cycles.py --scratch PATH [--interval-ms 50] [--cycles 1000] [--json out/probe-cycles.json]
"""
import argparse
import json
import pathlib
import re
import shutil
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workspace  # noqa: E402

CYCLE = re.compile(r"probe cycle (\d+)")


def cycles_so_far(c):
    """The lowest cycle count any component has logged (they run in parallel)."""
    out = c.run(["journalctl", "-u", "coder-vm-bootstrap.service", "-b", "-o", "json", "--no-pager", "STAGE=bench"],
                check=False).stdout
    latest = {}
    for line in out.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        m = CYCLE.search(entry.get("MESSAGE", ""))
        if m:
            latest[entry.get("COMPONENT", "?")] = max(latest.get(entry.get("COMPONENT", "?"), 0), int(m.group(1)))
    return min(latest.values()) if len(latest) == 4 else 0, latest


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=pathlib.Path, required=True)
    parser.add_argument("--interval-ms", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=100, help="cycles before the first sample that counts")
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--json", type=pathlib.Path, default=workspace.REPO / "out" / "probe-cycles.json")
    args = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-probes-"))
    stand_ins = workspace.StandIns(folder / "standins").start()
    ws = None
    samples = []
    try:
        ws = workspace.Workspace("project", stand_ins, folder / "disk", name="bench-probes")
        ws.files["/usr/bin/coder-vm-bootstrap"] = args.scratch
        ws.files["/etc/systemd/system/coder-vm-bootstrap.service.d/bench.conf"] = \
            "[Service]\n" + "".join(f"Environment={e}\n" for e in [f"BENCH_PROBE_INTERVAL_MS={args.interval_ms}", *args.env])
        ws.boot()
        c = ws.container
        pid = c.unit_property("coder-vm-bootstrap.service", "MainPID")
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            done, per_component = cycles_so_far(c)
            memory = workspace.smaps_rollup(c, pid)
            threads = int(next(line.split()[1] for line in c.run(["cat", f"/proc/{pid}/status"]).stdout.splitlines()
                               if line.startswith("Threads:")))
            samples.append({"cycles": done, "per_component": per_component, "anonymous_kib": memory["Anonymous"],
                            "rss_kib": memory["Rss"], "threads": threads, "time": time.monotonic()})
            print(f"cycles {done:5}  anonymous {memory['Anonymous']:6} KiB  RSS {memory['Rss']:6} KiB  threads {threads}",
                  flush=True)
            if done >= args.warmup + args.cycles:
                break
            time.sleep(5)
        restarts = [x["restarts"] for x in json.loads(c.run(["coder-vm-bootstrap", "status", "--json"]).stdout)["components"]]
    finally:
        if ws:
            ws.close()
        stand_ins.stop()
        shutil.rmtree(folder, ignore_errors=True)
    start = next(s for s in samples if s["cycles"] >= args.warmup)
    end = samples[-1]
    per_thousand = (end["anonymous_kib"] - start["anonymous_kib"]) * 1000 / max(1, end["cycles"] - start["cycles"])
    summary = {"interval_ms": args.interval_ms, "from_cycle": start["cycles"], "to_cycle": end["cycles"],
               "anonymous_from_kib": start["anonymous_kib"], "anonymous_to_kib": end["anonymous_kib"],
               "anonymous_max_kib": max(s["anonymous_kib"] for s in samples if s["cycles"] >= args.warmup),
               "growth_kib_per_1000_cycles": round(per_thousand, 1), "restarts": restarts, "env": args.env}
    print(json.dumps(summary))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))


if __name__ == "__main__":
    main()
