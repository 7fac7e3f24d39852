"""The boot log on the Coder workspace page: the release daemon on a real
systemd (systemd-nspawn booting the Debian 12 test image) sends its boot to
the STAND-IN Coder server's agent log API (Tests/standins/coder, named as
such), which answers like coderd: 401 until the build is done, 403 for an
older build's token. The stand-in records every call (headers, body) and the
lines it took.

Needs the release build and root, like test_daemon.py, whose fixtures and
helpers these tests use:
    IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q Tests/system/test_coder_boot_log.py
"""
import http.server
import json
import ssl
import subprocess
import threading

import pytest

import standins
from processes import wait_until
from standins import FileServer
from test_daemon import CODE_SERVER_VERSION, component, install, stand_ins, status  # noqa: F401  (stand_ins: a fixture)

# As Sources/Bootstrap/BootLog/BootLogSource.swift: one source id, the same on every boot.
SOURCE_ID = "ebda59df-7e88-469d-acec-7356a894c52c"
TLS_FILES_PORT = 7082
REFUSAL = ("Coder refuses this workspace's agent token (HTTP 403: Agent trying to connect from non-latest build.): "
           "the VM runs an older build's token; restart the workspace from Coder")


@pytest.fixture
def coder(tmp_path):
    """A stand-in Coder of this test's own (the build state and tokens are per test)."""
    server = standins.CoderServer(tmp_path / "coder").start()
    yield server
    server.stop()


def with_coder(stand_ins, coder):
    """test_daemon's stand-ins with this test's Coder in place of the shared one."""
    return {**stand_ins, "coder": coder}


def self_signed(folder):
    """A certificate for 127.0.0.1 that the spec does not trust."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=untrusted-standin", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class TLSFileServer:
    """Serves a folder over https with a certificate nothing trusts."""

    def __init__(self, folder, cert, key):
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def outputs(coder):
    return [line["output"] for line in coder.log_lines()]


def assert_token_only_in_its_header(coder, token):
    calls = coder.log_calls()
    assert calls, "the daemon sent nothing to Coder"
    for call in calls:
        assert call["received_headers"].get("Coder-Session-Token") == token, call["received_headers"]
        assert token not in call["path"] and token not in json.dumps(call["body"]), call
    for line in coder.log_lines():
        assert token not in line["output"], line


def test_boot_log_waits_through_401s_and_shows_a_slow_download_until_ready(container, stand_ins, coder):
    token = "7a3c9e2f-1b4d-4e8a-9c6f-2d5b8e1a4f70"
    coder.set_build_done(after=3)
    slow = FileServer(stand_ins["tarball"].parent, slow=True)
    try:
        c = container(name="bootlog")
        install(c, with_coder(stand_ins, coder), token, files=slow)
        c.systemctl("start", "coder-vm-bootstrap.service")  # until READY=1
        wait_until(lambda: any(x.startswith("workspace ready after ") for x in outputs(coder)), timeout=120, interval=0.5,
                   message="the workspace ready line on the Coder page")
        said = outputs(coder)
    finally:
        slow.stop()

    calls = coder.log_calls()
    first = calls[0]
    assert (first["method"], first["path"], first["status"]) == ("POST", "/api/v2/workspaceagents/me/log-source", 401), first
    registered = [call for call in calls if call["method"] == "POST" and call["status"] == 201]
    assert len(registered) == 1, "one source, registered once"
    assert registered[0]["body"] == {"id": SOURCE_ID, "display_name": "coder-vm-bootstrap", "icon": "/emojis/1f680.png"}
    assert {line["source"] for line in coder.log_lines()} == {SOURCE_ID}
    assert all(call["status"] in (200, 201, 401) for call in calls), [call["status"] for call in calls]

    assert said[0] == "coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm): bringing up user ssh docker code-server agent"
    download = f"code-server {CODE_SERVER_VERSION}"
    assert f"code-server: downloading {download} from 127.0.0.1:7081" in said, said
    progress = [x for x in said if x.startswith(f"code-server: downloading {download}: ") and "% of " in x]
    assert 1 <= len(progress) <= 10, "\n".join(said)
    assert any(x.startswith(f"code-server: {download} downloaded (") for x in said), said
    for ready in ("user is ready", "ssh is ready", "docker is ready", "code-server is ready", "agent is ready"):
        assert ready in said, (ready, said)
    assert next(x for x in said if x.startswith("workspace ready after ")).endswith(" s: user ssh docker code-server agent"), said
    assert said.index("code-server is ready") > said.index(progress[0])
    assert_token_only_in_its_header(coder, token)

    journal = c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "STAGE=boot-log", "-o", "cat"]).stdout
    assert journal.count("Coder does not take the agent token yet (HTTP 401") == 1, journal
    assert token not in c.run(["journalctl", "--no-pager", "-o", "verbose"]).stdout


def test_boot_log_says_which_ca_to_add_when_the_download_server_is_not_trusted(container, stand_ins, coder, tmp_path):
    token = "2e8b4f6a-9c1d-4a3e-8f7b-5d2c6e9a1b40"
    cert, key = self_signed(tmp_path)
    files = TLSFileServer(stand_ins["tarball"].parent, cert, key)
    try:
        c = container(name="bootlog-ca")
        mirror = f"https://127.0.0.1:{TLS_FILES_PORT}/code-server-{{version}}-linux-{{arch}}.tar.gz"
        install(c, with_coder(stand_ins, coder), token, spec_changes={"codeServer": {"downloadURL": mirror}})
        c.forward_to_host(TLS_FILES_PORT, files.port)
        c.systemctl("start", "coder-vm-bootstrap.service")  # READY=1 once code-server, required, has failed
        advice = f"TLS: unknown CA for 127.0.0.1:{TLS_FILES_PORT}: add it to coder.caCertificates"
        line = wait_until(lambda: next((x for x in outputs(coder) if x.startswith("code-server failed: ")), None),
                          timeout=120, interval=0.5, message="code-server's failure on the Coder page")
    finally:
        files.stop()
    assert line.startswith(f"code-server failed: code-server {CODE_SERVER_VERSION}: {advice} ("), line
    wait_until(lambda: any(x.startswith("workspace failed: ") for x in outputs(coder)), timeout=60,
               message="the workspace's line")
    assert advice in component(c, "code-server")["lastError"], "status says the same"
    assert advice in c.run(["coder-vm-bootstrap", "status"], check=False).stdout
    assert_token_only_in_its_header(coder, token)


def test_coder_behind_an_unknown_ca_gets_no_token_and_status_says_what_to_add(container, stand_ins, tmp_path):
    token = "5c7d9e1f-3a2b-4c6d-8e9f-0a1b2c3d4e5f"
    cert, key = self_signed(tmp_path)
    with standins.CoderServer(tmp_path / "coder-tls", tls_cert=cert, tls_key=key) as untrusted:
        c = container(name="bootlog-coder-ca")
        install(c, with_coder(stand_ins, untrusted), token, spec_changes={"coder": {"accessURL": "https://127.0.0.1:7080/"}})
        c.systemctl("start", "coder-vm-bootstrap.service")
        advice = "TLS: unknown CA for 127.0.0.1:7080: add it to coder.caCertificates"
        agent = wait_until(lambda: (lambda a: a if a["state"] == "failed" else None)(component(c, "agent")), timeout=120,
                           message="the agent failed")
        assert advice in agent["lastError"], agent
        journal = wait_until(lambda: (lambda j: j if advice in j else None)(c.run(
            ["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "STAGE=boot-log", "-o", "cat"]).stdout),
            timeout=60, message="the boot log's own advice in the journal")
        assert journal.count("cannot send the boot log to Coder") == 1, journal
        # No HTTP request got through a TLS handshake the daemon refused: the token never left.
        assert untrusted.requests() == [] and untrusted.log_calls() == []


def test_a_token_of_an_older_build_is_said_so_by_status(container, stand_ins, coder):
    token = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    coder.set_stale_tokens([token])
    c = container(name="bootlog-stale")
    install(c, with_coder(stand_ins, coder), token)
    c.systemctl("start", "--no-block", "coder-vm-bootstrap.service")
    agent = wait_until(lambda: (lambda a: a if a["state"] == "failed" else None)(component(c, "agent")), timeout=300,
                       interval=1, message="the agent reported failed")
    assert agent["lastError"] == REFUSAL, agent
    text = c.run(["coder-vm-bootstrap", "status"], check=False)
    assert text.returncode == 3, text.stdout
    assert REFUSAL in text.stdout, text.stdout
    assert "agent failed: Coder refuses this workspace's agent token" in c.unit_property("coder-vm-bootstrap.service", "StatusText")
    failures = [json.loads(line) for line in c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "-o", "json",
                                                    "MESSAGE_ID=6953ba44686c479ebe233dd6324d390f"]).stdout.splitlines()]
    assert any(REFUSAL in entry["MESSAGE"] and entry["COMPONENT"] == "agent" for entry in failures), failures
    daemon_calls = [call for call in coder.log_calls()]
    assert [(call["method"], call["status"]) for call in daemon_calls] == [("POST", 403)], "nothing more after a 403"
    assert status(c)["phase"] == "failed"


def test_the_daemon_maps_no_libcurl_or_libcrypto_while_the_boot_log_talks_to_coder(container, stand_ins, coder):
    """Every download and every call to Coder runs in a fetch worker (a child
    process): the long-lived daemon never maps the TLS stack, which would stay
    resident for the rest of the boot. Its own start-up code leaves the
    resident set at READY=1 and again once the boot log has ended."""
    token = "3b6d8f0a-2c4e-4a6b-8d0f-1e3a5c7e9b20"
    coder.set_build_done(after=2)
    c = container(name="bootlog-maps")
    install(c, with_coder(stand_ins, coder), token)
    c.systemctl("start", "coder-vm-bootstrap.service")  # until READY=1
    wait_until(lambda: any(x.startswith("workspace ready after ") for x in outputs(coder)), timeout=120, interval=0.5,
               message="the workspace ready line on the Coder page")
    pid = c.unit_property("coder-vm-bootstrap.service", "MainPID")
    libraries = {line.split()[-1].rsplit("/", 1)[-1] for line in c.read_file(f"/proc/{pid}/maps").splitlines()
                 if line.split()[-1].startswith("/")}
    assert 201 in [call["status"] for call in coder.log_calls()], "the calls went out and the source was registered"
    assert not {name for name in libraries if name.startswith(("libcurl", "libssl", "libcrypto", "libnghttp2"))}, sorted(libraries)
    assert_token_only_in_its_header(coder, token)

    def drops():
        journal = c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "STAGE=ready", "-o", "cat"]).stdout
        return journal.count("left the resident set") >= 2 or None
    wait_until(drops, timeout=120, interval=1, message="the second drop of the start-up code, after the boot log ended")
