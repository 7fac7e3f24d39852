#!/usr/bin/env python3
"""A fleet of workspaces fetching the Coder agent from one server at once.

N processes of bench-fetch (Fetch as the daemon uses it: the agent binary
into its own state folder with revalidation by the stored ETag), started
together against one STAND-IN server (bench/fileserver.py in a process of
its own, serving the agent with a SHA-1 ETag and 304 for If-None-Match, its
uplink capped at --uplink-mib MiB/s and each connection at --link-mib).
Reports the server's peak concurrent connections, bytes served, statuses
and CPU share (to show it is not the bottleneck), and p50/p99/max seconds
from the common start T (every process is spawned first and sleeps until
T) to each having its binary, and of its own transfer (request to binary):

  cold   nothing cached: every process downloads the whole file
  warm   the same state folders again: each must cost exactly one 304
  then both again with a start-up delay derived from the workspace id
  (sha256(id) -> 0..J s, the same for a workspace on every boot), for each J.

    sudo bench/fleet.py [-n 200] [--size-mib 12] [--uplink-mib 100] [--jitter 0,10,30]

Every client runs on this machine's cores, so a wave's times also include
the clients queueing for CPU (start-up, libcurl, the SHA-256 of the file):
"client CPU" says how much; a real fleet has a VM's CPUs per client. The
default agent is scaled down with the uplink (12 MiB at 100 MiB/s takes
as long as 60 MiB at 500 MiB/s, a 4 Gbit/s Coder server): the state folders
are on a tmpfs and 200 full-size copies would need 12 GiB of it.
"""
import argparse
import hashlib
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
BENCH_FETCH = REPO / ".build" / "release" / "bench-fetch"
MiB = 2**20


def jitter_ms(workspace_id, spread_s):
    """0..spread_s seconds, fixed per workspace id (uniform over ids)."""
    fraction = int.from_bytes(hashlib.sha256(workspace_id.encode()).digest()[:8], "big") / 2**64
    return int(fraction * spread_s * 1000)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


class Server:
    def __init__(self, folder, uplink, link):
        cmd = [sys.executable, str(HERE / "fileserver.py"), str(folder), "--total-rate", str(uplink), "--rate", str(link)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT="):
            raise RuntimeError(f"file server did not start: {line!r}")
        self.port = int(line.split("=")[1])

    def call(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/{path}", timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def wave(server, states, ids, spread_s, url):
    """Starts one bench-fetch per state folder; they all begin at the same
    moment T (each sleeps until T, plus its jitter): returns the figures,
    times in seconds from T."""
    server.call("_reset")
    cpu0 = os.times()
    start = time.time() + 2 + 0.06 * len(states)  # time enough to spawn them all
    children = []
    for state, workspace_id in zip(states, ids):
        delay = int((start - time.time()) * 1000) + (jitter_ms(workspace_id, spread_s) if spread_s else 0)
        children.append(subprocess.Popen([str(BENCH_FETCH), url, str(state / "coder"), "--delay-ms", str(max(0, delay))],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    late = max(0.0, time.time() - start)
    outcomes = []
    for child in children:
        out, _ = child.communicate()
        try:
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            outcomes.append({"outcome": "failed", "error": out[-200:]})
    stats = server.call("_stats")
    cpu1 = os.times()
    client_cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    done = [o["finished"] - start for o in outcomes if o["outcome"] != "failed"]
    since_request = [o["finished"] - o["requested"] for o in outcomes if o["outcome"] != "failed"]
    kinds = {}
    for o in outcomes:
        kinds[o["outcome"]] = kinds.get(o["outcome"], 0) + 1
    return {"jitter_s": spread_s, "outcomes": kinds, "spawn_overrun_s": round(late, 2),
            "p50_s": round(percentile(done, 50), 2), "p99_s": round(percentile(done, 99), 2), "max_s": round(max(done), 2),
            "transfer_p50_s": round(percentile(since_request, 50), 2),
            "transfer_p99_s": round(percentile(since_request, 99), 2),
            "client_cpu_s": round(client_cpu, 2), "client_cpu_per_process_ms": round(client_cpu * 1000 / len(outcomes)),
            "peak_connections": stats["peak_connections"], "bytes_served": stats["bytes_sent"],
            "statuses": stats["statuses"], "server_cpu_share": stats["server_cpu_share"],
            "errors": [o.get("error") for o in outcomes if o["outcome"] == "failed"][:3]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--size-mib", type=float, default=12)
    parser.add_argument("--uplink-mib", type=float, default=100, help="the server's bytes/s for all connections, MiB")
    parser.add_argument("--link-mib", type=float, default=40, help="each connection's bytes/s, MiB")
    parser.add_argument("--jitter", default="0,10,30", help="comma-separated spreads J in seconds (0: none)")
    parser.add_argument("--json", type=pathlib.Path, default=REPO / "out" / "fleet.json")
    args = parser.parse_args()
    if not BENCH_FETCH.exists():
        sys.exit(f"{BENCH_FETCH} is missing: swift build -c release --static-swift-stdlib --product bench-fetch")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    size = int(args.size_mib * MiB)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * args.n + size * 2 + 256 * MiB}", "bench-fleet", str(work)],
                   check=True)
    server = None
    results = {"n": args.n, "agent_bytes": size, "uplink_bytes_per_s": args.uplink_mib * MiB,
               "link_bytes_per_s": args.link_mib * MiB, "waves": []}
    try:
        served = work / "served"
        served.mkdir()
        (served / "coder-linux-amd64").write_bytes(random.Random(7).randbytes(size))
        server = Server(served, args.uplink_mib * MiB, args.link_mib * MiB)
        url = f"http://127.0.0.1:{server.port}/coder-linux-amd64"
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-fleet-{i}")) for i in range(args.n)]
        for spread in [float(j) for j in args.jitter.split(",")]:
            states = []
            for i in range(args.n):
                state = work / f"j{spread:g}" / f"ws{i}"
                state.mkdir(parents=True)
                states.append(state)
            for kind in ("cold", "warm"):
                figures = {"kind": kind, **wave(server, states, ids, spread, url)}
                results["waves"].append(figures)
                print(f"{kind:<4} J={spread:4.0f} s  p50 {figures['p50_s']:6.2f} s  p99 {figures['p99_s']:6.2f} s  "
                      f"max {figures['max_s']:6.2f} s  (own transfer p50 {figures['transfer_p50_s']:5.2f} p99 "
                      f"{figures['transfer_p99_s']:5.2f} s)  client CPU {figures['client_cpu_per_process_ms']} ms each  "
                      f"peak connections {figures['peak_connections']:4}  "
                      f"served {figures['bytes_served'] / MiB:8.1f} MiB  {figures['statuses']}  "
                      f"server CPU {figures['server_cpu_share'] * 100:.0f}%  {figures['outcomes']}", flush=True)
            for state in states:  # free the tmpfs for the next spread
                for f in state.iterdir():
                    f.unlink()
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", str(work)], check=False)
        os.rmdir(work)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
