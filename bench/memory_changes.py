#!/usr/bin/env python3
"""The daemon's memory after READY=1 under one change at a time, in nspawn
(smaps.py's measurement: at READY, and after `--idle` s of steady state
with cloud-init done). Rss, Pss, Uss (private: in no other process) and
anonymous MiB, with each change's delta against the first row. Pss is
PssVM (among the guest's processes only, see inspect_memory.vm_pss): the
kernel's own Pss also splits the image's library pages with whatever other
containers on this host map them, which changes from run to run.

    bench/memory_changes.py [--scratch PATH] [--json out/memory-changes.json]

Rows: the release build as is; MALLOC_ARENA_MAX=2 and =1 in the unit's
environment; and, with --scratch (a daemon built from the sources with
bench/scratch/memory-experiments.patch applied: measurement only, not the
project's code), libcrypto dlopen'ed only while hashing, libcurl dlclose'd
after READY, MADV_DONTNEED on the r-x pages after READY (own binary, or
every library too), the downloads done by a child process (bench-fetch,
Fetch used the same way) so that libcurl and libcrypto never map into the
daemon, and combinations.
"""
import argparse
import json
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import smaps  # noqa: E402
import workspace  # noqa: E402


HELPER = "/usr/lib/coder-vm-bootstrap/bench-fetch"
BENCH_FETCH = workspace.REPO / ".build" / "release" / "bench-fetch"


def rows(scratch):
    base = workspace.DAEMON
    out = [("release build as is", base, []),
           ("MALLOC_ARENA_MAX=2", base, ["MALLOC_ARENA_MAX=2"]),
           ("MALLOC_ARENA_MAX=1", base, ["MALLOC_ARENA_MAX=1"])]
    if scratch:
        out += [("libcrypto dlopen'ed while hashing (scratch)", scratch, []),
                ("+ libcurl dlclose'd after READY", scratch, ["BENCH_UNLOAD_CURL=1"]),
                ("+ MADV_DONTNEED own r-x pages after READY", scratch, ["BENCH_MADVISE=exe"]),
                ("+ MADV_DONTNEED every r-x mapping after READY", scratch, ["BENCH_MADVISE=all"]),
                ("all: crypto, curl, own r-x, MALLOC_ARENA_MAX=2", scratch,
                 ["BENCH_UNLOAD_CURL=1", "BENCH_MADVISE=exe", "MALLOC_ARENA_MAX=2"]),
                ("all, every r-x mapping", scratch,
                 ["BENCH_UNLOAD_CURL=1", "BENCH_MADVISE=all", "MALLOC_ARENA_MAX=2"]),
                ("downloads in a child process (bench-fetch)", scratch, [f"BENCH_FETCH_HELPER={HELPER}"]),
                ("child downloads, own r-x, MALLOC_ARENA_MAX=2", scratch,
                 [f"BENCH_FETCH_HELPER={HELPER}", "BENCH_MADVISE=exe", "MALLOC_ARENA_MAX=2"]),
                ("child downloads, every r-x, MALLOC_ARENA_MAX=2", scratch,
                 [f"BENCH_FETCH_HELPER={HELPER}", "BENCH_MADVISE=all", "MALLOC_ARENA_MAX=2"])]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=pathlib.Path, help="daemon built with bench/scratch/memory-experiments.patch")
    parser.add_argument("--idle", type=float, default=40)
    parser.add_argument("--only", help="comma-separated row numbers (0 is the baseline)")
    parser.add_argument("--json", type=pathlib.Path, default=workspace.REPO / "out" / "memory-changes.json")
    args = parser.parse_args()
    results = []
    selected = rows(args.scratch)
    if args.only:
        selected = [selected[int(i)] for i in args.only.split(",")]
    stand_ins = workspace.StandIns(pathlib.Path(tempfile.mkdtemp(prefix="bench-standins-"))).start()
    print_header()
    try:
        for name, daemon, env in selected:
            helper = {HELPER: BENCH_FETCH} if any(e.startswith("BENCH_FETCH_HELPER=") for e in env) else {}
            m = smaps.measure(stand_ins, daemon, env, idle=args.idle, files=helper)
            results.append({"change": name, "daemon": str(daemon), "env": env,
                            "at_ready": m["at_ready"], "after_idle": m["after_idle"],
                            "groups": m["groups"], "idle_groups": m["idle_groups"]})
            print_row(results[-1], results[0])
    finally:
        stand_ins.stop()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))


def print_row(r, base):
    cells = []
    for when in ("at_ready", "after_idle"):
        for f in ("Rss", "PssVM", "Uss", "Anonymous"):
            v, b = r[when][f], base[when][f]
            cells.append(f"{v / 1024:5.1f}" + (f" ({(v - b) / 1024:+5.1f})" if r is not base else "        "))
    print(f"{r['change'][:48]:<48} " + " ".join(cells), flush=True)


def print_header():
    print(f"{'MiB (delta to the first row)':<48} " + " ".join(f"{h:<13}" for h in
          ("ready Rss", "ready PssVM", "ready Uss", "ready anon", "idle Rss", "idle PssVM", "idle Uss", "idle anon")))


if __name__ == "__main__":
    main()
