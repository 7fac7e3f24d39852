#!/usr/bin/env python3
"""What systemd's sandbox settings cost a unit's start: the time from the
unit's start (InactiveExitTimestampMonotonic) to the first instruction of
its program's main(), for a tiny static C probe that writes its
CLOCK_MONOTONIC, started as a transient oneshot unit with each setting
alone, with all of coder-vm-bootstrap.service's as they were (four of
them need a mount namespace), and with the ones it has now. In one booted Debian 12 container
(nspawn), rounds interleaved, medians; an idle container, so a busy boot
costs more. Needs root, the test image and clang (the Swift toolchain's).

    sudo IMAGE_CACHE=... bench/unit_sandbox_cost.py [--rounds 10]
"""
import argparse
import pathlib
import statistics
import subprocess
import shutil
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import workspace  # noqa: E402

PROBE = r"""
#include <stdio.h>
#include <time.h>
int main(int argc, char **argv) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    FILE *f = fopen(argv[1], "w");
    fprintf(f, "%lld\n", (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000);
    return fclose(f) != 0;
}
"""

KEPT = ["ProtectClock=yes", "LockPersonality=yes", "RestrictRealtime=yes", "SystemCallArchitectures=native",
        "LimitCORE=0", "MemoryMax=768M", "CPUWeight=50", "TasksMax=512",
        "CapabilityBoundingSet=~CAP_SYS_MODULE CAP_SYSLOG"]
MOUNT_NAMESPACE = ["PrivateTmp=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes"]
VARIANTS = {
    "nothing": [],
    "PrivateTmp=yes": ["PrivateTmp=yes"],
    "ProtectKernelModules=yes": ["ProtectKernelModules=yes"],
    "ProtectKernelLogs=yes": ["ProtectKernelLogs=yes"],
    "ProtectControlGroups=yes": ["ProtectControlGroups=yes"],
    "ProtectClock=yes": ["ProtectClock=yes"],
    "seccomp (LockPersonality, RestrictRealtime, SystemCallArchitectures)":
        ["LockPersonality=yes", "RestrictRealtime=yes", "SystemCallArchitectures=native"],
    "the unit before (its four mount-namespace settings and the rest)": [s for s in KEPT if not s.startswith("Capability")]
        + MOUNT_NAMESPACE,
    "the unit now (no mount namespace; capability drops)": KEPT,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    (folder / "probe.c").write_text(PROBE)
    subprocess.run(["clang", "-O2", "-static", "-o", str(folder / "probe"), str(folder / "probe.c")], check=True)
    c = workspace.nspawn.Container(workspace.image() / "rootfs", name="bench-sandbox",
                                   files={"/usr/local/bin/start-probe": folder / "probe"})
    c.start()
    try:
        results = {name: [] for name in VARIANTS}
        n = 0
        for _ in range(args.rounds):
            for name, settings in VARIANTS.items():
                n += 1
                unit = f"start-probe-{n}"
                command = ["systemd-run", "-q", f"--unit={unit}", "-p", "Type=oneshot", "-p", "RemainAfterExit=yes"]
                for setting in settings:
                    command += ["-p", setting]
                c.run(command + ["/usr/local/bin/start-probe", f"/run/{unit}"])
                started = int(c.unit_property(f"{unit}.service", "InactiveExitTimestampMonotonic"))
                in_main = int(c.run(["cat", f"/run/{unit}"]).stdout)
                results[name].append((in_main - started) / 1000)
                c.run(["systemctl", "stop", f"{unit}.service"], check=False)
        print(f"unit start -> main(), ms, median of {args.rounds} (min-max), idle container")
        for name, values in results.items():
            print(f"  {statistics.median(values):6.2f} ({min(values):5.2f}-{max(values):5.2f})  {name}")
    finally:
        c.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
