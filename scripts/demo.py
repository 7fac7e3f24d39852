#!/usr/bin/env python3
"""The main job end to end on one machine: coder-vm-seed renders the Secret
for a workspace, its `userdata` becomes a NoCloud seed (exactly what KubeVirt
hands the VM), and the Debian 12 test image boots with coder-vm-bootstrap
baked in. Real systemd, cloud-init, sshd and docker; code-server and the Coder
server/agent are the stand-ins from Tests/standins.

Until the qemu runner lands (scripts/vm/), the guest boots under
systemd-nspawn rather than a full VM; everything inside is the same.

    scripts/demo.py [--keep]      (make demo builds what is missing first)
"""
import argparse
import base64
import hashlib
import json
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "Tests" / "system"), str(REPO / "Tests" / "standins")]
import nspawn  # noqa: E402
import standins  # noqa: E402
from test_daemon import FileServer, CODER_PORT, FILES_PORT  # noqa: E402

DAEMON = REPO / ".build/release/coder-vm-bootstrap"
SEED = REPO / ".build/release/coder-vm-seed"
WORK = REPO / ".cache/demo"
VERSION = "4.96.4"


def say(text):
    print(text, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the workspace running until Ctrl-C")
    args = parser.parse_args()
    for binary in (DAEMON, SEED):
        if not binary.exists():
            sys.exit(f"demo: {binary} is missing; run `make demo` (it builds the release first)")
    WORK.mkdir(parents=True, exist_ok=True)
    key = WORK / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "demo", "-f", str(key)], check=True)

    say("== stand-ins on the host: a Coder server (serves the agent) and a code-server release")
    tarball = standins.build_code_server_tarball(VERSION, "amd64", WORK / "files")
    files = FileServer(WORK / "files")
    coder = standins.CoderServer(WORK / "coder").start()
    token = WORK / "agent-token"
    token.write_text(f"demo-token-{int(time.time())}\n")
    token.chmod(0o600)

    spec = {
        "apiVersion": "coder-vm-bootstrap/v1",
        "workspace": {"owner": "demo", "name": "dev", "id": "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"},
        "user": {"name": "coder", "sshAuthorizedKeys": [key.with_suffix(".pub").read_text().strip()]},
        "coder": {"accessURL": f"http://127.0.0.1:{CODER_PORT}/"},
        "codeServer": {"version": VERSION,
                       "downloadURL": f"http://127.0.0.1:{FILES_PORT}/code-server-{{version}}-linux-{{arch}}.tar.gz",
                       "sha256": {"amd64": hashlib.sha256(tarball.read_bytes()).hexdigest()}},
    }
    (WORK / "spec.json").write_text(json.dumps(spec, indent=2))
    say("== coder-vm-seed render-secret (the token comes from a file, never argv)")
    secret = subprocess.run([str(SEED), "render-secret", str(WORK / "spec.json"), "--token-file", str(token)],
                            check=True, capture_output=True, text=True).stdout
    (WORK / "secret.yaml").write_text(secret)
    import yaml
    userdata = base64.b64decode(yaml.safe_load(secret)["data"]["userdata"]).decode()
    say(f"   Secret {yaml.safe_load(secret)['metadata']['name']}: {len(secret)} bytes")

    say("== booting the Debian 12 image (coder-vm-bootstrap baked in) with that user-data")
    started = time.monotonic()
    baked = {"/usr/bin/coder-vm-bootstrap": DAEMON}
    for unit in ("coder-vm-bootstrap.service", "code-server@.service", "coder-agent@.service"):
        baked[f"/lib/systemd/system/{unit}"] = (REPO / "units" / unit).read_text()
    c = nspawn.Container(nspawn.find_image() / "rootfs", name="demo", files=baked, user_data=userdata,
                         instance_id="demo-0b6f6c1e")
    try:
        c.start(wait=False)
        c.forward_to_host(CODER_PORT, coder.port)
        c.forward_to_host(FILES_PORT, files.port)
        last = None
        while time.monotonic() - started < 300:
            try:
                code, _, body = c.http_get(13380, "/status", timeout=2)
                st = json.loads(body)
                if st["summary"] != last:
                    last = st["summary"]
                    say(f"   {time.monotonic() - started:5.1f}s  {last}")
                if st["phase"] in ("ready", "degraded", "failed"):
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        c.wait_for_system(120)
        say("")
        say(c.run(["coder-vm-bootstrap", "status"], check=False).stdout)
        say(f"systemd: {c.run(['systemctl', 'is-system-running'], check=False).stdout.strip()}; "
            f"cloud-init: {c.run(['cloud-init', 'status'], check=False).stdout.strip()}")
        pid = c.unit_property("coder-vm-bootstrap.service", "MainPID")
        rss = c.run(["ps", "-o", "rss=", "-p", pid], check=False).stdout.strip()
        say(f"coder-vm-bootstrap: RSS {int(rss or 0) / 1024:.1f} MiB when ready; "
            f"STATUS={c.unit_property('coder-vm-bootstrap.service', 'StatusText')!r}")
        say(f"agent token seen by the Coder stand-in: {coder.wait_for_report()['token'] == token.read_text().strip()}")
        port = c.expose(22)
        say(f"ssh:  ssh -p {port} -i {key} -o StrictHostKeyChecking=no coder@127.0.0.1   (while the demo runs)")
        say("logs: journalctl -u coder-vm-bootstrap (inside); the guest's status: coder-vm-bootstrap status")
        ok = st.get("phase") == "ready"
        if args.keep:
            say("running; Ctrl-C stops it")
            while True:
                time.sleep(3600)
        return 0 if ok else 1
    except KeyboardInterrupt:
        return 0
    finally:
        c.stop()
        coder.stop()
        files.stop()


if __name__ == "__main__":
    sys.exit(main())
