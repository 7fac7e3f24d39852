#!/usr/bin/env python3
"""The main job end to end on one machine: coder-vm-seed renders the Secret
for a workspace, its `userdata` becomes the NoCloud disk (exactly what
KubeVirt hands the VM), and a Debian 12 VM boots under qemu; cloud-init
installs the coder-vm-bootstrap .deb from a URL this host serves, and the
daemon brings SSH, docker, code-server and the Coder agent up. code-server and
the Coder server/agent are the stand-ins from Tests/standins.

    scripts/demo.py [--keep]      (`make demo` builds what is missing first)
"""
import argparse
import json
import pathlib
import sys
import time
import subprocess
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "scripts" / "vm"), str(REPO / "Tests" / "standins")]
import standins  # noqa: E402
import vmrunner  # noqa: E402
from standins import FileServer, workspace_spec  # noqa: E402

SEED = REPO / ".build/release/coder-vm-seed"
WORK = REPO / ".cache/demo"
VERSION = "4.96.4"
GUEST_HOST = "10.0.2.2"  # this machine's loopback, as qemu's user networking shows it to the guest


def say(text):
    print(text, flush=True)


def guest_status(vm):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{vm.readiness_port}/status", timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the VM running until Ctrl-C")
    args = parser.parse_args()
    debs = sorted((REPO / "out").glob("coder-vm-bootstrap_*_amd64.deb"))
    if not debs or not SEED.exists():
        sys.exit("demo: the .deb or coder-vm-seed is missing; run `make demo` (it builds them first)")
    deb = debs[-1]
    WORK.mkdir(parents=True, exist_ok=True)
    key, pub = vmrunner.make_ssh_key(WORK / "ssh")

    say("== stand-ins on this host: a Coder server (serves the agent) and a code-server release; the .deb")
    files_dir = WORK / "files"
    tarball = standins.build_code_server_tarball(VERSION, "amd64", files_dir)
    (files_dir / deb.name).write_bytes(deb.read_bytes())
    files = FileServer(files_dir)
    coder = standins.CoderServer(WORK / "coder").start()
    token = WORK / "agent-token"
    token.write_text(f"demo-token-{int(time.time())}\n")
    token.chmod(0o600)
    spec = workspace_spec(access_url=coder.url_for(GUEST_HOST), files_url=f"http://{GUEST_HOST}:{files.port}",
                          tarball=tarball, ssh_key=pub, version=VERSION, package=deb)
    (WORK / "spec.json").write_text(json.dumps(spec, indent=2))
    say("== coder-vm-seed render-secret (the token comes from a file, never argv)")
    secret = subprocess.run([str(SEED), "render-secret", str(WORK / "spec.json"), "--distro", "debian-12",
                             "--token-file", str(token)], check=True, capture_output=True, text=True).stdout
    (WORK / "secret.yaml").write_text(secret)
    say(f"   {WORK / 'secret.yaml'}: {len(secret)} bytes")

    vm = vmrunner.VM(vmrunner.find_image(), WORK / "vm", name="coder-demo-dev", ssh_user="coder", ssh_key=key)
    try:
        say(f"== booting Debian 12 under qemu ({'KVM' if vmrunner.kvm_usable() else 'TCG: a few minutes'})")
        started = time.monotonic()
        vm.boot(secret=secret, instance_id="iid-coder-demo-dev")
        say(f"   serial console: {vm.console_path}")
        last, st = None, None
        while time.monotonic() - started < 900:
            vm._check_alive()
            st = guest_status(vm)
            line = st["summary"] if st else "booting; cloud-init installs coder-vm-bootstrap"
            if line != last:
                last = line
                say(f"   {time.monotonic() - started:6.1f}s  {line}")
            if st and st["phase"] in ("ready", "degraded", "failed"):
                break
            time.sleep(1)
        vm.wait_for_cloud_init()
        state = vm.wait_for_system()
        say("")
        say(vm.ssh("coder-vm-bootstrap status", check=False).stdout)
        rss = vm.ssh("ps -o rss= -p $(systemctl show -p MainPID --value coder-vm-bootstrap)", check=False).stdout
        say(f"ready {time.monotonic() - started:.0f} s after qemu started; systemd: {state}; "
            f"daemon RSS {int(rss or 0) / 1024:.1f} MiB")
        say(f"agent token seen by the Coder stand-in: {coder.wait_for_report()['token'] == token.read_text().strip()}")
        say(f"ssh:  ssh -p {vm.ssh_port} -i {key} -o StrictHostKeyChecking=no coder@127.0.0.1   (while the demo runs)")
        say(f"readiness: curl http://127.0.0.1:{vm.readiness_port}/status   logs: journalctl -u coder-vm-bootstrap (inside)")
        if args.keep:
            say("running; Ctrl-C stops it")
            while True:
                time.sleep(3600)
        return 0 if st and st["phase"] == "ready" else 1
    except KeyboardInterrupt:
        return 0
    finally:
        vm.kill()
        coder.stop()
        files.stop()


if __name__ == "__main__":
    sys.exit(main())
