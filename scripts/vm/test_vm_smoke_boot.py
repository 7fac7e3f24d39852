"""Smoke boot of the qemu runner: a real Debian 12 VM seeded from a Kubernetes
Secret, checked over ssh, powered off, booted again on the same disk with a new
seed (a KubeVirt stop/start that re-creates the VM), powered off.

Slow: two boots under TCG, about 4-5 minutes. Run it on purpose, once:
    IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q -s scripts/vm/test_vm_smoke_boot.py
Timings are printed and kept in <workdir>/timings.json.
"""
import base64
import json
import shutil
import urllib.request

import pytest

import vmrunner
from standins import FileServer

pytestmark = pytest.mark.skipif(not shutil.which("qemu-system-x86_64") or not shutil.which("cloud-localds"),
                                reason="needs qemu-system-x86 and cloud-image-utils")
MARKER = "/var/tmp/smoke-runcmd"


def secret_for(user_data):
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                       "metadata": {"name": "coder-tester-smoke-cloudinit"},
                       "data": {"userdata": base64.b64encode(user_data.encode()).decode()}})


def test_vm_boots_from_a_secret_seed_and_reboots_on_the_same_disk(tmp_path):
    image = vmrunner.find_image()
    key, pub = vmrunner.make_ssh_key(tmp_path / "ssh")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "hello").write_text("hello from the host\n")
    host_server = FileServer(tmp_path / "files")
    workdir = tmp_path / "vm"
    try:
        with vmrunner.VM(image, workdir, name="coder-smoke", ssh_user="tester", ssh_key=key) as vm:
            vm.boot(secret=secret_for(vmrunner.smoke_cloud_config("tester", pub, MARKER)), instance_id="iid-smoke-1")
            vm.wait_for_ssh()
            rc, status = vm.wait_for_cloud_init()
            assert rc == 0 and status.get("status") == "done", status
            state = vm.wait_for_system()
            assert state == "running", vm.ssh("systemctl --failed --no-legend", check=False).stdout
            assert vm.ssh("hostname").stdout.strip() == "coder-smoke"
            assert vm.ssh(f"cat {MARKER}").stdout.split()[0] == "iid-smoke-1"
            assert vm.ssh("stat -fc %T /sys/fs/cgroup").stdout.strip() == "cgroup2fs"
            # The guest reaches the host's loopback at 10.0.2.2 ...
            url = vm.guest_url(host_server.port) + "hello"
            assert vm.ssh(f"curl -fsS {url}").stdout == "hello from the host\n"
            # ... and the host reaches guest port 13380 at 127.0.0.1:readiness_port.
            vm.ssh("sudo systemd-run --unit=fake-readiness python3 -m http.server 13380 --directory /etc")
            body = vmrunner.wait_until(
                lambda: urllib.request.urlopen(f"http://127.0.0.1:{vm.readiness_port}/hostname", timeout=5).read(),
                60, message="the forwarded readiness port")
            assert body == b"coder-smoke\n"

            # Stop (clean ACPI power-off) and start again with a new instance id:
            # the disk persists, cloud-init sees a new instance and runs runcmd again.
            vm.reboot(secret=secret_for(vmrunner.smoke_cloud_config("tester", pub, MARKER)),
                      instance_id="iid-smoke-2")
            assert vm.timings[0].get("powered_off"), vm.timings
            vm.wait_for_ssh()
            rc, status = vm.wait_for_cloud_init()
            assert rc == 0, status
            assert vm.wait_for_system() == "running"
            lines = vm.ssh(f"cat {MARKER}").stdout.splitlines()
            assert [line.split()[0] for line in lines] == ["iid-smoke-1", "iid-smoke-2"]
            assert lines[0].split()[1] != lines[1].split()[1]  # two different boot ids
            assert vm.powerdown() is True
        assert not vm.pidfile.exists()
    finally:
        host_server.stop()
        print("\nVM timings (s since qemu start):", json.dumps(vmrunner.json.loads(
            (workdir / "timings.json").read_text()) if (workdir / "timings.json").exists() else [], indent=1))
