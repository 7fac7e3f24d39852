#!/usr/bin/env python3
"""Soak: many boots of one workspace in systemd-nspawn, each checked to
converge to READY with nothing left behind. Not part of `make test` (it
takes tens of minutes); `make soak` runs it.

    scripts/soak.py [--warm 50] [--cold 10]

A warm boot is a reboot on the same disk with a new token (the overlay's
upper dir is kept); a cold boot starts from the image. After every boot:
the daemon is active with READY=1 and every component ready; no partial
download, staging folder or temporary file is left under the daemon's
folders; no unit is failed; and the daemon's state folder does not grow
from one warm boot to the next. Prints one line per boot and a summary;
exits 1 on the first boot that fails a check.
"""
import argparse
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "scripts" / "lib"), str(REPO / "Tests" / "system"), str(REPO / "Tests" / "standins")]
import nspawn  # noqa: E402
import standins  # noqa: E402
from test_daemon import install, status  # noqa: E402

LEFTOVERS = ("find /var/lib/coder-vm-bootstrap /opt/code-server /run/coder-vm-bootstrap "
             "\\( -name '*.part' -o -name '.staging*' -o -name '*.tmp' -o -name '.*.check' \\) -print")


def check(c):
    problems = []
    if c.systemctl("is-active", "coder-vm-bootstrap.service", check=False).stdout.strip() != "active":
        problems.append("the daemon is not active")
    st = status(c)
    not_ready = [x["name"] for x in st["components"] if x["state"] not in ("ready", "disabled")]
    if st["phase"] != "ready" or not_ready:
        problems.append(f"phase {st['phase']}, not ready: {not_ready}")
    leftovers = c.run(LEFTOVERS, check=False).stdout.split()
    if leftovers:
        problems.append(f"left behind: {leftovers}")
    failed = c.run(["systemctl", "list-units", "--state=failed", "--no-legend", "--plain"], check=False).stdout.strip()
    if failed:
        problems.append(f"failed units: {failed}")
    size = int(c.run(["du", "-sb", "/var/lib/coder-vm-bootstrap"]).stdout.split()[0])
    return problems, size, st.get("readyAfterMilliseconds")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--cold", type=int, default=10)
    args = parser.parse_args()
    reason = nspawn.can_run()
    if reason:
        sys.exit(f"soak: cannot run containers here: {reason}")
    image = nspawn.find_image()
    work = pathlib.Path(tempfile.mkdtemp(prefix="soak-"))
    tarball = standins.build_code_server_tarball("4.96.4", "amd64", work / "files")
    files = standins.FileServer(work / "files")
    coder = standins.CoderServer(work / "coder").start()
    key = work / "id_ed25519"
    import subprocess
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    stand_ins = {"tarball": tarball, "files": files, "coder": coder, "key": key}
    results = {"warm": 0, "cold": 0}
    try:
        # Each disk gets one cold boot and its share of the warm ones.
        warm_per_disk = [args.warm // args.cold + (1 if i < args.warm % args.cold else 0) for i in range(args.cold)]
        for disk_number, warm_boots in enumerate(warm_per_disk):
            disk = work / f"disk-{disk_number}"
            sizes = []
            for boot in range(1 + warm_boots):
                kind = "cold" if boot == 0 else "warm"
                started = time.monotonic()
                c = nspawn.Container(image / "rootfs", name=f"soak{disk_number}-{boot}", workdir=disk, keep_workdir=True).start()
                try:
                    install(c, stand_ins, f"token-{disk_number}-{boot}")
                    c.systemctl("start", "coder-vm-bootstrap.service")
                    problems, size, ready_ms = check(c)
                finally:
                    c.stop()
                sizes.append(size)
                if kind == "warm" and len(sizes) > 2 and size > sizes[1]:
                    problems.append(f"state folder grew from {sizes[1]} to {size} bytes")
                results[kind] += 1
                print(f"{kind} boot {results[kind]}: ready after {ready_ms} ms, {time.monotonic() - started:.1f} s in all,"
                      f" state {size} bytes{'; ' + '; '.join(problems) if problems else ''}", flush=True)
                if problems:
                    print(f"soak: FAILED after {results['cold']} cold and {results['warm']} warm boots")
                    return 1
    finally:
        coder.stop()
        files.stop()
    print(f"soak: {results['cold']} cold and {results['warm']} warm boots, each ready with nothing left behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
