"""The stand-ins run in the guest (its Python 3.11, under systemd template units
like the daemon will write) and reach / are reached through the harness's relays.
This is the pattern the daemon's system tests follow, minus the daemon.

Run: IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q Tests/system/test_standins_in_container.py
"""
import json
import tarfile

from standins import CoderServer, build_code_server_tarball

AGENT_UNIT = """\
[Unit]
Description=Coder agent (stand-in) for %i
After=network-online.target
[Service]
User=%i
EnvironmentFile=/etc/coder-test/agent-%i.env
ExecStart=/opt/coder/coder agent
Restart=always
RestartSec=1
OOMScoreAdjust=-900
"""

CODE_SERVER_UNIT = """\
[Unit]
Description=code-server (stand-in) for %i
[Service]
User=%i
ExecStart=/opt/code-server/bin/code-server --bind-addr 127.0.0.1:13337 --auth none --disable-telemetry
Restart=always
"""


def test_agent_and_code_server_standins_run_as_template_units(container, tmp_path):
    with CoderServer(tmp_path / "coder", interval=0.5) as coder:
        tarball = build_code_server_tarball("4.96.4", "amd64", tmp_path)
        release = tmp_path / "release"
        with tarfile.open(tarball) as t:
            t.extractall(release)
        c = container(
            user_data="#cloud-config\nusers:\n  - {name: dev, shell: /bin/bash}\n",
            binds_ro=[(str(release / "code-server-4.96.4-linux-amd64"), "/opt/code-server")],
            files={"/etc/systemd/system/coder-agent@.service": AGENT_UNIT,
                   "/etc/systemd/system/code-server@.service": CODE_SERVER_UNIT})
        assert c.cloud_init_status()["status"] == "done"
        # The Coder stand-in listens on the host; the container reaches it at the same port.
        c.forward_to_host(coder.port, coder.port)
        c.run(["install", "-d", "-m", "0755", "/opt/coder", "/etc/coder-test"])
        c.run(["curl", "-fsS", "-o", "/opt/coder/coder", f"{coder.url}bin/coder-linux-amd64"])
        c.run(["chmod", "0755", "/opt/coder/coder"])
        assert c.run(["/opt/coder/coder", "--version"]).stdout.startswith("Coder ")
        c.write_file("/etc/coder-test/agent-token", "tok-in-container\n", mode=0o600, owner="dev:dev")
        c.write_file("/etc/coder-test/agent-dev.env",
                     f"CODER_AGENT_URL={coder.url}\nCODER_AGENT_TOKEN_FILE=/etc/coder-test/agent-token\n"
                     "CODER_AGENT_LOG_DIR=/var/tmp\n", mode=0o600)
        c.run(["systemctl", "daemon-reload"])
        c.run(["systemctl", "start", "coder-agent@dev.service", "code-server@dev.service"])

        record = coder.wait_for_report(timeout=30)
        report = record["report"]
        assert record["token"] == "tok-in-container" and report["user"] == "dev"
        assert report["token_file_mode"] == "0600" and report["invocation_id"]
        # systemd took OOMScoreAdjust=-900, but the kernel value stays 0 here: this
        # machine's bounding set has no CAP_SYS_RESOURCE, so nothing (not even host
        # root) can lower oom_score_adj. In the VM the report shows -900.
        assert c.unit_property("coder-agent@dev.service", "OOMScoreAdjust") == "-900"
        assert report["oom_score_adj"] in (-900, 0)
        assert any("coder-agent@dev.service" in line for line in report["cgroup"])

        c.wait_for_unit("code-server@dev.service")
        status, _, body = c.http_get(13337, "/healthz")
        assert status == 200 and json.loads(body)["status"] in ("alive", "expired")
        assert "HTTP server listening on http://127.0.0.1:13337/" in c.journal("code-server@dev.service")

        # The agent crash-loops when the server says so, and systemd restarts it.
        first_pid = report["pid"]
        coder.set_agent_exit_code(3)
        coder.wait_for_report(lambda r: r["report"]["pid"] != first_pid, timeout=30)
        assert int(c.unit_property("coder-agent@dev.service", "NRestarts")) >= 1
