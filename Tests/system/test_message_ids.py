"""Every MESSAGE_ID the daemon declares (Sources/SystemdSupport/MessageID.swift)
is logged by something, and `journalctl MESSAGE_ID=<id>` finds it: one
container is taken through a bad spec, a Coder that is down, a hung
code-server, a crashing agent and a user name taken by a group, on a real
systemd and journald (nspawn). The Coder server and agent are the stand-ins
in Tests/standins.
"""
import pathlib
import re

from processes import wait_until
from test_daemon import USER, install, stand_ins, status, write_spec  # noqa: F401 (fixture)

REPO = pathlib.Path(__file__).resolve().parents[2]


def declared_ids():
    source = (REPO / "Sources" / "SystemdSupport" / "MessageID.swift").read_text()
    return dict(re.findall(r'case (\w+) = "([0-9a-f]{32})"', source))


def component(c, name):
    return next(x for x in status(c)["components"] if x["name"] == name)


def test_every_message_id_is_found_in_the_journal_by_its_id(container, stand_ins):
    ids = declared_ids()
    assert len(ids) >= 10, ids
    coder = stand_ins["coder"]
    c = container(name="messageids")
    install(c, stand_ins, "token-ids", spec_changes={"readiness": {"required": ["user", "ssh", "docker", "code-server"]}})

    # A spec that is not valid: configInvalid, and no restart (exit 78).
    c.run("cp /run/coder-vm-bootstrap/spec.json /root/good.json && echo '{\"apiVersion\": 1}' > /run/coder-vm-bootstrap/spec.json")
    c.systemctl("start", "coder-vm-bootstrap.service", check=False)
    wait_until(lambda: c.unit_property("coder-vm-bootstrap.service", "ExecMainStatus") == "78", timeout=30, message="exit 78")

    # Coder down for the first downloads: waits and failed downloads, then ready.
    coder.set_download_faults(mode="status", status=503, count=6)
    c.run("cp /root/good.json /run/coder-vm-bootstrap/spec.json")
    c.systemctl("reset-failed", "coder-vm-bootstrap.service")
    c.systemctl("start", "coder-vm-bootstrap.service")
    wait_until(lambda: status(c)["phase"] == "ready", timeout=120, message="ready once Coder answers")

    # A hung code-server: unhealthy, restarted.
    c.run(["kill", "-STOP", c.unit_property(f"code-server@{USER}.service", "MainPID")])
    wait_until(lambda: component(c, "code-server")["restarts"] >= 1 and component(c, "code-server")["state"] == "ready",
               timeout=120, message="the hung code-server restarted")

    # An agent that keeps exiting: failed, the workspace degraded.
    coder.set_agent_exit_code(3)
    try:
        wait_until(lambda: component(c, "agent")["state"] == "failed", timeout=240, interval=1, message="the agent failed")
    finally:
        coder.set_agent_exit_code(None)

    # A user name taken by a group after a rebuild: the user fails, what needs it is blocked.
    c.systemctl("stop", "coder-vm-bootstrap.service")
    c.run(f"systemctl stop code-server@{USER} coder-agent@{USER}; userdel {USER} && groupadd {USER}")
    write_spec(c, stand_ins, "token-ids-2")
    c.systemctl("start", "coder-vm-bootstrap.service")
    wait_until(lambda: component(c, "code-server")["state"] == "blocked", timeout=60, message="code-server blocked by the user")

    missing = {name: value for name, value in ids.items()
               if not c.run(["journalctl", "--no-pager", "-o", "cat", f"MESSAGE_ID={value}"], check=False).stdout.strip()}
    assert not missing, f"MESSAGE_IDs no entry carries: {missing}"
