"""The seed approach and coder-vm-bootstrap side by side in nspawn (see
workspace.py): `boots` fresh disks per approach, each booted cold (nothing
cached) and then warm (a reboot on the same disk), medians per approach and
kind. Seconds from container start: the agent's first report to the Coder
stand-in, code-server's /healthz 200, READY=1 (project only); bytes
downloaded; the daemon's RSS/Pss after READY and its own time, with the
stages it logs.
"""
import statistics
import shutil
import tempfile
import pathlib

import workspace

MiB = 2**20
FIGURES = ("agent_first_report_s", "code_server_healthz_s", "ready_s", "downloaded_bytes",
           "daemon_rss_kib", "daemon_pss_kib", "daemon_pss_vm_kib", "daemon_anonymous_kib", "daemon_cpu_s",
           "daemon_rss_boot_log_peak_kib", "daemon_rss_steady_kib", "daemon_pss_vm_steady_kib", "daemon_anonymous_steady_kib")


def run(boots=3, rate=40 * MiB, agent_size=60 * MiB, code_server_size=100 * MiB, log=print):
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-side-by-side-"))
    stand_ins = workspace.StandIns(folder / "standins", agent_size, code_server_size).start()
    results = []
    try:
        for i in range(boots):
            # Alternated, so that a change in the machine's load hits both.
            for approach in ("seed", "project"):
                ws = workspace.Workspace(approach, stand_ins, folder / f"{approach}-{i}", rate=rate,
                                         name=f"bench-{approach}-{i}")
                try:
                    for _ in ("cold", "warm"):
                        result = ws.boot()
                        results.append(result)
                        log(line(result))
                finally:
                    ws.close()
    finally:
        stand_ins.stop()
        shutil.rmtree(folder, ignore_errors=True)  # 0.7 GB of disks and stand-ins per run
    return {"rate_bytes_per_s": rate, "agent_bytes": stand_ins.agent.stat().st_size,
            "code_server_bytes": stand_ins.tarball.stat().st_size, "boots": results, "medians": medians(results)}


def line(r):
    text = (f"{r['approach']:<7} {r['kind']:<4} agent {r['agent_first_report_s']:6.2f} s  "
            f"code-server {r['code_server_healthz_s']:6.2f} s  downloaded {r['downloaded_bytes'] / MiB:6.1f} MiB")
    if "ready_s" in r:
        stages = r["daemon_stages"]
        text += (f"  READY {r['ready_s']:6.2f} s  RSS {r['daemon_rss_kib'] / 1024:.1f} MiB (boot log peak "
                 f"{r['daemon_rss_boot_log_peak_kib'] / 1024:.1f}, steady {r['daemon_rss_steady_kib'] / 1024:.1f}) "
                 f"Pss steady {r['daemon_pss_vm_steady_kib'] / 1024:.1f} MiB"
                 f"  own {stages.get('own_time_s', 0):.2f} s")
    return text


def medians(results):
    out = {}
    for approach in ("seed", "project"):
        for kind in ("cold", "warm"):
            chosen = [r for r in results if r["approach"] == approach and r["kind"] == kind]
            if not chosen:
                continue
            m = {f: statistics.median(r[f] for r in chosen) for f in FIGURES if all(f in r for r in chosen)}
            if approach == "project":
                keys = set.intersection(*(set(k for k, v in r["daemon_stages"].items() if isinstance(v, (int, float)))
                                          for r in chosen))
                m["daemon_stages"] = {k: statistics.median(r["daemon_stages"][k] for r in chosen) for k in sorted(keys)}
            m["n"] = len(chosen)
            out[f"{approach}_{kind}"] = m
    return out
