#!/usr/bin/env python3
"""Links the release daemon again from the objects of the last release build
with other linker flags, and measures each variant: stripped size, the
instructions `--version` executes (callgrind, user space: this machine has
no usable PMU for `perf stat`), its page faults and peak RSS, and with
--boot its RSS/Pss after READY=1 in nspawn (smaps.py). Numbers, not
seconds: the machine is shared.

    bench/link_variants.py [--boot] [--only base,noexport] [--json out/link-variants.json]

The link command is the one SwiftPM ran (captured with `swift build -v`
after removing the binary); each variant appends its flags. Variants that
need a recompile (-Osize) are built with their own scratch path instead.
"""
import argparse
import json
import pathlib
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

RELEASE = REPO / ".build" / "release"
OUT = REPO / ".build" / "variants"
BUILD = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "coder-vm-bootstrap"]

# name: (flags appended to the link, what it is)
VARIANTS = {
    "base": ([], "as built today: gold, PIE, SwiftPM's --gc-sections, -export-dynamic from static-stdlib-args.lnk"),
    "noexport": (["-Xlinker", "--no-export-dynamic"], "no dynamic symbol table of our own (4,988 Swift symbols nobody looks up)"),
    "gold-icf": (["-Xlinker", "--icf=all"], "gold, identical code folding"),
    "lld": (["-use-ld=lld"], "lld instead of gold"),
    "lld-icf": (["-use-ld=lld", "-Xlinker", "--icf=all"], "lld, identical code folding (all)"),
    "lld-relr": (["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                 "lld, RELR relative relocations: needs glibc 2.36 (GLIBC_ABI_DT_RELR), not portable"),
    "norelro": (["-Xlinker", "-z", "-Xlinker", "norelro"], "no RELRO (less hardening)"),
    "now": (["-Xlinker", "-z", "-Xlinker", "now"], "BIND_NOW (full RELRO, more hardening)"),
    "nopie": (["-Xclang-linker", "-no-pie"], "not position-independent: no relative relocations, no ASLR for the binary"),
    "noexport-icf": (["-Xlinker", "--no-export-dynamic", "-Xlinker", "--icf=all"], "both"),
}


def link_command():
    """SwiftPM's link command for the daemon, with OUT as the output path."""
    binary = RELEASE / "coder-vm-bootstrap"
    saved = None
    if binary.exists():
        saved = binary.with_name(binary.name + ".saved")
        binary.rename(saved)
    try:
        out = subprocess.run(["nice", *BUILD, "-v"], cwd=REPO, check=True, capture_output=True, text=True).stdout
    finally:
        if saved and not binary.exists():
            saved.rename(binary)
        elif saved:
            saved.unlink()
    line = next(x for x in out.splitlines() if "-emit-executable" in x and "coder-vm-bootstrap" in x)
    words = shlex.split(line)
    at = words.index("-o")
    words[at + 1] = "OUT"
    return words


def link(words, name, flags):
    target = OUT / name / "coder-vm-bootstrap"
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(target) if w == "OUT" else w for w in words] + flags
    subprocess.run(["nice", *cmd], check=True, capture_output=True, text=True)
    return target


def startup_cost(binary):
    """--version: callgrind instruction count, minor page faults, peak RSS."""
    cg = subprocess.run(["nice", "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(binary), "--version"],
                        capture_output=True, text=True)
    match = re.search(r"Collected : (\d+)", cg.stderr)
    child = subprocess.Popen([str(binary), "--version"], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return {"version_instructions": int(match.group(1)) if match else None,
            "version_minor_faults": usage.ru_minflt, "version_peak_rss_kib": usage.ru_maxrss}


def describe(binary):
    stripped = binary.with_name(binary.name + ".stripped")
    subprocess.run(["strip", "-o", str(stripped), str(binary)], check=True)
    dynamic = subprocess.run(["readelf", "-d", str(stripped)], capture_output=True, text=True).stdout
    needed = re.findall(r"Shared library: \[(.*?)\]", dynamic)
    versions = subprocess.run(["readelf", "-V", str(stripped)], capture_output=True, text=True).stdout
    glibc = max((tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", versions)),
                default=())
    relocs = re.search(r"RELASZ\)\s+(\d+)", dynamic)
    return stripped, {"stripped_bytes": stripped.stat().st_size, "needed": needed,
                      "max_glibc": ".".join(map(str, glibc)), "relr_needs_glibc_2_36": "GLIBC_ABI_DT_RELR" in versions,
                      "rela_dyn_bytes": int(relocs.group(1)) if relocs else 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boot", action="store_true", help="also measure RSS/Pss after READY in nspawn")
    parser.add_argument("--only", help="comma-separated variant names")
    parser.add_argument("--idle", type=float, default=35)
    parser.add_argument("--json", type=pathlib.Path, default=REPO / "out" / "link-variants.json")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(VARIANTS)
    words = link_command()
    results = {}
    stand_ins = None
    if args.boot:
        import smaps
        import workspace
        stand_ins = workspace.StandIns(pathlib.Path(tempfile.mkdtemp(prefix="bench-standins-"))).start()
    try:
        for name in names:
            flags, what = VARIANTS[name]
            binary = link(words, name, flags)
            stripped, facts = describe(binary)
            result = {"flags": " ".join(flags), "what": what, **facts, **startup_cost(stripped)}
            if stand_ins:
                memory = smaps.measure(stand_ins, stripped, idle=args.idle, name=f"bench-{name}"[:32])
                for when in ("at_ready", "after_idle"):
                    for field in ("Rss", "Pss", "Uss", "Anonymous"):
                        result[f"{when}_{field.lower()}_kib"] = memory[when][field]
            results[name] = result
            print(f"{name:<28} {result['stripped_bytes'] / 1e6:6.2f} MB  --version {result['version_instructions'] / 1e6:6.2f} M instr "
                  f"{result['version_minor_faults']:5} faults  glibc {result['max_glibc']}"
                  + (f"  ready RSS {result['at_ready_rss_kib']} Uss {result['at_ready_uss_kib']} anon {result['at_ready_anonymous_kib']}"
                     f"  idle RSS {result['after_idle_rss_kib']} Pss {result['after_idle_pss_kib']} Uss {result['after_idle_uss_kib']} KiB"
                     if stand_ins else ""),
                  flush=True)
    finally:
        if stand_ins:
            stand_ins.stop()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
