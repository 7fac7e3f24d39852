"""The main job in a real VM: build the .deb, render the Secret with
coder-vm-seed, boot Debian 12 under qemu from its `userdata` (the NoCloud
disk KubeVirt would build), let cloud-init install the .deb from a URL the host
serves, and prove the workspace ready; then reboot on the same disk with a
re-rendered Secret (new token, same instance-id, as a stable firmware UUID
gives) and prove the token moved and nothing was downloaded again.

code-server and the Coder server/agent are the stand-ins in Tests/standins.
Slow under TCG (one boot and one reboot): run with `make vm-test`.
Timings and the daemon's RSS are printed and written to out/vm-test.json.
"""
import json
import pathlib
import subprocess
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
import standins
from standins import FileServer, workspace_spec
import vmrunner

SEED = REPO / ".build/release/coder-vm-seed"
VERSION = "4.96.4"
INSTANCE_ID = "iid-coder-alice-dev"  # stable, as with a firmware UUID derived from the workspace id


@pytest.fixture(scope="module")
def deb():
    debs = sorted((REPO / "out").glob("coder-vm-bootstrap_*_amd64.deb"))
    if not debs or not SEED.exists():
        pytest.fail("build the package and the companion first: make deb")
    return debs[-1]


def render_secret(spec, token_file):
    out = subprocess.run([str(SEED), "render-secret", "-", "--distro", "debian-12", "--token-file", str(token_file)],
                         input=json.dumps(spec), check=True, capture_output=True, text=True).stdout
    return out


def readyz(vm):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{vm.readiness_port}/readyz", timeout=5).status == 200
    except OSError:
        return False


def test_vm_seeded_by_the_rendered_secret_comes_up_ready_and_survives_a_reboot_with_a_new_token(deb, tmp_path):
    image = vmrunner.find_image()
    key, pub = vmrunner.make_ssh_key(tmp_path / "ssh")
    files_dir = tmp_path / "files"
    tarball = standins.build_code_server_tarball(VERSION, "amd64", files_dir)
    (files_dir / deb.name).write_bytes(deb.read_bytes())
    files = FileServer(files_dir)
    coder = standins.CoderServer(tmp_path / "coder").start()
    token = tmp_path / "token"
    host = "10.0.2.2"  # the host's loopback as qemu's user networking shows it to the guest
    spec = workspace_spec(access_url=coder.url_for(host), files_url=f"http://{host}:{files.port}",
                          tarball=tarball, ssh_key=pub, version=VERSION, package=deb)
    record = {"boots": []}
    try:
        with vmrunner.VM(image, tmp_path / "vm", name="coder-alice-dev", ssh_user="coder", ssh_key=key) as vm:
            for boot, token_value in enumerate(["token-of-build-1", "token-of-build-2"], start=1):
                token.write_text(token_value + "\n")
                secret = render_secret(spec, token)
                started = time.monotonic()
                if boot == 1:
                    vm.boot(secret=secret, instance_id=INSTANCE_ID)
                else:
                    vm.reboot(secret=secret, instance_id=INSTANCE_ID)
                    started = time.monotonic()
                vmrunner.wait_until(lambda: readyz(vm), 900, interval=1, message="/readyz to answer 200",
                                    alive=vm._check_alive)
                ready_s = time.monotonic() - started
                rc, ci = vm.wait_for_cloud_init()
                cloud_init_s = time.monotonic() - started
                assert rc == 0 and ci.get("status") == "done", ci
                assert vm.wait_for_system() == "running", vm.ssh("systemctl --failed --no-legend", check=False).stdout
                status = json.loads(vm.ssh("coder-vm-bootstrap status --json").stdout)
                rss = int(vm.ssh("ps -o rss= -p $(systemctl show -p MainPID --value coder-vm-bootstrap)").stdout)
                record["boots"].append({"boot": boot, "readyz_200_after_s": round(ready_s, 1),
                                        "cloud_init_done_after_s": round(cloud_init_s, 1),
                                        "daemon_ready_after_ms": status["readyAfterMilliseconds"],
                                        "daemon_rss_mib": round(rss / 1024, 1)})

                assert {c["name"]: c["state"] for c in status["components"]} == {
                    "user": "ready", "ssh": "ready", "docker": "ready", "code-server": "ready", "agent": "ready"}
                assert all(c["stages"] and c["readyAfterMilliseconds"] is not None for c in status["components"])
                # SSH: the key works (every vm.ssh above), a password is not offered.
                refused = subprocess.run(
                    ["ssh", "-F", "/dev/null", "-p", str(vm.ssh_port), "-o", "StrictHostKeyChecking=no",
                     "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
                     "-o", "PreferredAuthentications=password,keyboard-interactive", "coder@127.0.0.1", "true"],
                    capture_output=True, text=True, timeout=60)
                assert "Permission denied (publickey)" in refused.stderr, refused.stderr
                assert vm.ssh("systemctl is-active docker").stdout.strip() == "active"
                assert vm.ssh("docker info --format '{{.ServerVersion}}'").stdout.strip()  # as coder, no sudo
                assert '"status"' in vm.ssh("curl -fsS http://127.0.0.1:13337/healthz").stdout
                coder.wait_for_report(lambda r: r.get("token") == token_value, timeout=60)
                fields = [json.loads(line) for line in vm.ssh(
                    "sudo journalctl -u coder-vm-bootstrap -o json --no-pager MESSAGE_ID=9186bc3c82716a5dd442b8092bcbb122"
                ).stdout.splitlines()]
                assert {f["COMPONENT"] for f in fields} >= {"ssh", "docker", "code-server", "agent"}
                assert all("DURATION_MS" in f for f in fields)

            # The reboot downloaded nothing new: one code-server tarball and one
            # .deb in all, and the agent binary was revalidated with a 304.
            fetched = [p.rsplit("/", 1)[-1] for p in files.requests]
            assert fetched.count(tarball.name) == 1, fetched
            assert fetched.count(deb.name) == 1, fetched
            agent = [r for r in coder.requests() if r["path"].startswith("/bin/coder-linux-")]
            assert agent[0]["status"] == 200 and agent[-1]["status"] == 304 and agent[-1]["if_none_match"], agent
            assert vm.powerdown() is True
    finally:
        coder.stop()
        files.stop()
        (REPO / "out").mkdir(exist_ok=True)
        (REPO / "out" / "vm-test.json").write_text(json.dumps(record, indent=1))
        print("\nVM test:", json.dumps(record, indent=1))
