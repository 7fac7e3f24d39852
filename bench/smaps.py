#!/usr/bin/env python3
"""Where the daemon's memory goes after READY=1: boots the project's
workspace (all components, stand-in servers; see workspace.py), then reads
/proc/PID/smaps of coder-vm-bootstrap inside the guest (inspect_memory.py)
and prints Rss/Pss/PssVM/private/shared per mapping group (PssVM: Pss
among the guest's own processes; the kernel's Pss also divides by other
containers that map the image's libraries, see inspect_memory.vm_pss) and, for its own
binary, per ELF section. Then clears the referenced bits, waits `--idle`
seconds of steady state (probes every 10 s) and reports what was touched
again: the rest was touched at start-up only.

    sudo IMAGE_CACHE=/work/main/.cache/image bench/smaps.py [--idle 35] [--json out/memory.json]
    bench/smaps.py --daemon PATH   measure another build of the daemon (a scratch patch, other flags)
    bench/smaps.py --env MALLOC_ARENA_MAX=2   run the unit with an extra environment variable
"""
import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workspace  # noqa: E402

FIELDS = ("Rss", "Pss", "PssVM", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Anonymous",
          "Referenced")


def group_of(mapping, exe, previous):
    path = mapping["path"]
    if path == exe:
        return {"r-xp": "binary r-x (text, rodata-like, .rela.dyn, metadata, eh_frame)",
                "r--p": "binary r-- (RELRO: .data.rel.ro, .got, init arrays)",
                "rw-p": "binary rw- (gold puts .rodata here, .data)"}.get(mapping["perms"], f"binary {mapping['perms']}")
    if path.startswith("/"):
        name = path.rsplit("/", 1)[1]
        return name.split(".so")[0] + ".so" if ".so" in name else name
    if path in ("[heap]", "[stack]", "[vdso]", "[vvar]"):
        return path
    size = mapping["end"] - mapping["start"]
    if mapping["perms"] == "rw-p" and previous is not None and previous["path"] == exe:
        return "binary .bss (anonymous)"
    if mapping["perms"] == "rw-p" and previous is not None and previous["perms"] == "---p" \
            and previous["end"] == mapping["start"] and previous["end"] - previous["start"] == 4096:
        return "thread stacks (anonymous, 4 KiB guard below)"
    if mapping["perms"] == "rw-p" and size <= 64 * 2**20 and mapping["start"] % (64 * 2**20) == 0:
        return "malloc arenas (anonymous, 64 MiB aligned)"
    if mapping["perms"] == "---p":
        return "reserved, no access (guards, arena tails)"
    return "other anonymous (Swift runtime, dispatch, mmap'd buffers)"


def table(inspection):
    exe = inspection["exe"]
    groups, previous = {}, None
    for m in inspection["mappings"]:
        key = group_of(m, exe, previous)
        g = groups.setdefault(key, {f: 0 for f in FIELDS} | {"mappings": 0, "size_kib": 0})
        for f in FIELDS:
            g[f] += m.get(f, 0)
        g["mappings"] += 1
        g["size_kib"] += (m["end"] - m["start"]) // 1024
        previous = m
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]["Rss"]))


def print_groups(groups, referenced_after=None):
    print(f"{'mapping':<62} {'Rss':>6} {'Pss':>6} {'PssVM':>6} {'Priv':>6} {'Shared':>6} {'Anon':>6} {'RefIdle':>7}  (KiB)")
    total = {f: 0 for f in FIELDS}
    for name, g in groups.items():
        if not g["Rss"]:
            continue
        private = g["Private_Clean"] + g["Private_Dirty"]
        shared = g["Shared_Clean"] + g["Shared_Dirty"]
        ref = "" if referenced_after is None else referenced_after.get(name, {}).get("Referenced", 0)
        print(f"{name[:62]:<62} {g['Rss']:>6} {g['Pss']:>6} {g['PssVM']:>6.0f} {private:>6} {shared:>6} {g['Anonymous']:>6} {ref:>7}")
        for f in FIELDS:
            total[f] += g[f]
    ref_total = "" if referenced_after is None else sum(g.get("Referenced", 0) for g in referenced_after.values())
    print(f"{'total':<62} {total['Rss']:>6} {total['Pss']:>6} {total['PssVM']:>6.0f} "
          f"{total['Private_Clean'] + total['Private_Dirty']:>6} {total['Shared_Clean'] + total['Shared_Dirty']:>6} "
          f"{total['Anonymous']:>6} {ref_total:>7}")


def print_sections(sections):
    print(f"\n{'section of the binary':<32} {'size':>7} {'resident':>8} {'written':>7}  (KiB; written = private anonymous copy)")
    for s in sorted(sections, key=lambda s: -s["resident_kib"]):
        if s["resident_kib"] or s["size_kib"] >= 64:
            print(f"{s['name']:<32} {s['size_kib']:>7.0f} {s['resident_kib']:>8} {s['anonymous_kib']:>7}")


def inspect(c, pid, clear=False):
    script = (HERE / "inspect_memory.py").read_text()
    args = ["python3", "-", str(pid)] + (["--clear-refs"] if clear else [])
    return json.loads(c.run(args, input=script).stdout)


def measure(stand_ins, daemon=workspace.DAEMON, env=(), idle=35, rate=40 * 2**20, name="bench-smaps", files=None):
    """Boots a fresh workspace with `daemon`, inspects it at READY and after
    `idle` seconds; returns the boot figures, the groups at both times and the
    binary's sections."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-smaps-"))
    ws = workspace.Workspace("project", stand_ins, folder / "disk", rate=rate, name=name)
    ws.files["/usr/bin/coder-vm-bootstrap"] = pathlib.Path(daemon)
    ws.files.update(files or {})
    if env:
        ws.files["/etc/systemd/system/coder-vm-bootstrap.service.d/bench.conf"] = \
            "[Service]\n" + "".join(f"Environment={e}\n" for e in env)
    try:  # the caller owns stand_ins and stops them
        boot = ws.boot()
        c = ws.container
        pid = c.unit_property("coder-vm-bootstrap.service", "MainPID")
        at_ready = inspect(c, pid, clear=True)
        # Steady state: the probes run every 10 s. cloud-init's last stage
        # (python, sharing libraries with the daemon) is over by then, so the
        # Pss after it is not lowered by processes that come and go.
        quiet = time.monotonic() + idle
        c.run(["cloud-init", "status", "--wait"], check=False, timeout=max(10, idle * 4))
        time.sleep(max(0.0, quiet - time.monotonic()))
        after_idle = inspect(c, pid)
    finally:
        ws.close()
        shutil.rmtree(folder, ignore_errors=True)

    def totals(inspection):
        sums = {f: sum(m.get(f, 0) for m in inspection["mappings"]) for f in FIELDS}
        sums["Uss"] = sums["Private_Clean"] + sums["Private_Dirty"]  # in no other process: what it alone costs
        return sums

    return {"boot": boot, "daemon": str(daemon), "env": list(env), "idle_seconds": idle,
            "at_ready": totals(at_ready), "after_idle": totals(after_idle),
            "groups": table(at_ready), "idle_groups": table(after_idle), "sections": at_ready["sections"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=float, default=35, help="seconds of steady state before reading Referenced")
    parser.add_argument("--daemon", type=pathlib.Path, default=workspace.DAEMON)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the daemon's unit (a drop-in)")
    parser.add_argument("--json", type=pathlib.Path)
    parser.add_argument("--rate", type=float, default=40 * 2**20, help="bytes/s per connection to the stand-ins")
    args = parser.parse_args()

    stand_ins = workspace.StandIns(pathlib.Path(tempfile.mkdtemp(prefix="bench-standins-"))).start()
    try:
        result = measure(stand_ins, args.daemon, args.env, args.idle, args.rate)
    finally:
        stand_ins.stop()
    boot = result["boot"]
    print(f"coder-vm-bootstrap after READY=1 ({args.daemon}, {args.daemon.stat().st_size / 1e6:.1f} MB"
          f"{', ' + ' '.join(args.env) if args.env else ''}); RefIdle = referenced in {args.idle:.0f} s of steady state")
    print_groups(result["groups"], result["idle_groups"])
    print_sections(result["sections"])
    print(f"\nboot: ready {boot.get('ready_s')} s, CPU {boot.get('daemon_cpu_s')} s")
    for when in ("at_ready", "after_idle"):
        t = result[when]
        print(f"{when:>10}: Rss {t['Rss']} KiB, Pss {t['Pss']} KiB, Pss among the VM's processes {t['PssVM']:.0f} KiB, "
              f"Uss (private) {t['Uss']} KiB, anonymous {t['Anonymous']} KiB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
