"""A warm boot ahead of cloud-init, on a real systemd (nspawn, the Debian 12
image): the disk of an earlier boot, no spec in /run yet. What needs no
secret comes up from the last boot's spec (kept without its token); the
agent waits for this boot's, and nothing else restarts when it arrives.
The Coder server and agent are the stand-ins in Tests/standins.
"""
import json

import nspawn
from processes import wait_until
from test_daemon import CODER_PORT, FILES_PORT, USER, install, stand_ins, status, write_spec  # noqa: F401 (fixture)


def component(c, name):
    return next(x for x in status(c)["components"] if x["name"] == name)


def test_warm_boot_brings_code_server_up_before_this_boots_spec_and_the_agent_waits_for_its_token(image_dir, stand_ins, tmp_path):
    disk = tmp_path / "disk"
    first = nspawn.Container(image_dir / "rootfs", name="warm-a", workdir=disk, keep_workdir=True).start()
    try:
        install(first, stand_ins, "token-of-boot-1")
        first.systemctl("start", "coder-vm-bootstrap.service")
        kept = first.read_file("/var/lib/coder-vm-bootstrap/last-boot-spec.json")
    finally:
        first.stop()
    assert "token-of-boot-1" not in kept, "the token is never kept for the next boot"
    assert json.loads(kept)["coder"]["token"] != "token-of-boot-1"

    second = nspawn.Container(image_dir / "rootfs", name="warm-b", workdir=disk, keep_workdir=True).start()
    try:
        second.forward_to_host(CODER_PORT, stand_ins["coder"].port)
        second.forward_to_host(FILES_PORT, stand_ins["files"].port)
        # What the boot does before cloud-init's bootcmd has run: the daemon's conditions hold on the kept spec.
        second.systemctl("start", "--no-block", "coder-vm-bootstrap.service")
        wait_until(lambda: component(second, "code-server")["state"] == "ready", timeout=90,
                   message="code-server from the last boot's spec")
        agent = component(second, "agent")
        assert agent["state"] == "pending" and "this boot's spec" in agent["detail"], agent
        assert second.run(["test", "-e", f"/run/coder-vm-bootstrap/agent/{USER}/token"], check=False).returncode == 1, \
            "no token is written before this boot's spec"
        assert status(second)["phase"] == "starting", "not ready without the agent"
        code_server = second.unit_property(f"code-server@{USER}.service", "MainPID")

        # cloud-init's bootcmd delivers this boot's spec, with this build's token.
        write_spec(second, stand_ins, "token-of-boot-2")
        try:
            wait_until(lambda: status(second)["phase"] == "ready", timeout=90, message="ready with this boot's spec")
        except Exception:
            print(second.journal("coder-vm-bootstrap.service"))
            raise
        stand_ins["coder"].wait_for_report(lambda r: r.get("token") == "token-of-boot-2")
        assert second.unit_property(f"code-server@{USER}.service", "MainPID") == code_server, "code-server was not restarted"
        assert status(second)["specPath"] == "/run/coder-vm-bootstrap/spec.json"
    finally:
        second.stop()
