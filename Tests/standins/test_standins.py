"""The stand-ins behave like the parts of code-server and Coder the daemon uses.

Run: python3 -m pytest -q Tests/standins   (a few seconds; no VM, no root needed)
"""
import hashlib
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import socketserver
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request

import pytest

from standins import (AGENT_STANDIN, CoderServer, build_code_server_tarball, 
                      run_code_server, wait_until)

VERSION = "4.96.4"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))


def http_get(url, headers=None, data=None):
    """(status, headers, body) without following redirects or raising on 4xx/5xx."""
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# --- code-server --------------------------------------------------------------

@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    tarball = build_code_server_tarball(VERSION, "amd64", out)
    with tarfile.open(tarball) as t:
        t.extractall(out)
    return out / f"code-server-{VERSION}-linux-amd64"


class CodeServerProcess:
    def __init__(self, release, home, *args, env=None):
        self.log = []
        self.lines = queue.Queue()
        self.proc = subprocess.Popen([str(release / "bin" / "code-server"), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "HOME": str(home), **(env or {})})
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            line = self.read_until("HTTP server listening on ")
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise
        self.url = line.split("HTTP server listening on ", 1)[1].strip()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, needle, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"code-server stand-in never logged {needle!r}: {''.join(self.log)}")
            self.log.append(line)
            if needle in line:
                return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


@pytest.fixture
def code_server(release, tmp_path):
    started = []

    def start(*args, env=None):
        p = CodeServerProcess(release, tmp_path, *args, env=env)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def test_code_server_tarball_unpacks_like_a_release(release, tmp_path):
    assert (release / "bin" / "code-server").stat().st_mode & 0o111
    assert json.loads((release / "package.json").read_text())["version"] == VERSION
    assert (release / "lib").is_dir() and (release / "lib" / "vscode" / "package.json").is_file()
    head = (release / "bin" / "code-server").read_text().splitlines()[:3]
    assert head[0] == "#!/usr/bin/env python3" and "STAND-IN" in head[1]
    assert "STAND-IN" in run_code_server(release, "--help").stdout
    # Reproducible, so a test can pin the SHA-256 of the tarball.
    a = build_code_server_tarball(VERSION, "amd64", tmp_path / "a")
    b = build_code_server_tarball(VERSION, "amd64", tmp_path / "b")
    assert a.name == f"code-server-{VERSION}-linux-amd64.tar.gz"
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    with tarfile.open(build_code_server_tarball(VERSION, "arm64", tmp_path / "c")) as t:
        assert f"code-server-{VERSION}-linux-arm64/bin/code-server" in t.getnames()


def test_code_server_prints_its_version_like_the_real_one(release):
    out = run_code_server(release, "--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"{VERSION} 0000000 with Code 1.96.4"


def test_code_server_installs_and_lists_extensions(release, tmp_path):
    ext = tmp_path / "ext"
    out = run_code_server(release, "--extensions-dir", str(ext), "--install-extension", "ms-python.python")
    assert out.returncode == 0
    assert "Extension 'ms-python.python' was successfully installed." in out.stdout
    assert (ext / "ms-python.python-1.0.0" / "package.json").is_file()
    run_code_server(release, "--extensions-dir", str(ext), "--install-extension", "golang.go@0.40.0", check=True)
    listed = run_code_server(release, "--extensions-dir", str(ext), "--list-extensions").stdout.split()
    assert listed == ["golang.go", "ms-python.python"]
    versions = run_code_server(release, "--extensions-dir", str(ext), "--list-extensions", "--show-versions")
    assert "golang.go@0.40.0" in versions.stdout.split()


def test_code_server_fails_an_unknown_extension_and_an_unknown_flag(release, tmp_path):
    out = run_code_server(release, "--extensions-dir", str(tmp_path), "--install-extension", "standin-missing.nope")
    assert out.returncode == 1 and "not found" in out.stderr
    out = run_code_server(release, "--no-such-flag")
    assert out.returncode == 1 and "Unknown option --no-such-flag" in out.stderr


def test_code_server_serves_healthz_and_home_with_auth_none(code_server, tmp_path):
    cs = code_server("--bind-addr", "127.0.0.1:0", "--auth", "none", "--disable-telemetry",
                     "--disable-update-check", "--user-data-dir", str(tmp_path / "data"))
    status, headers, body = http_get(cs.url + "healthz")
    assert status == 200 and headers["Content-Type"] == "application/json"
    health = json.loads(body)
    # Like the real one: "expired" until something other than /healthz is requested.
    assert health == {"status": "expired", "lastHeartbeat": 0}
    status, _, body = http_get(cs.url)
    assert status == 200 and b"code-server" in body
    health = json.loads(http_get(cs.url + "healthz")[2])
    assert health["status"] == "alive" and health["lastHeartbeat"] > 0
    invocation = json.loads((tmp_path / "data" / "standin-invocation.json").read_text())
    assert invocation["auth"] == "none" and invocation["disable_telemetry"] and invocation["disable_update_check"]


def test_code_server_password_auth_guards_home_but_not_healthz(code_server):
    cs = code_server("--bind-addr", "127.0.0.1:0", "--auth", "password", env={"PASSWORD": "s3cret"})
    assert http_get(cs.url + "healthz")[0] == 200
    status, headers, _ = http_get(cs.url)
    assert status == 302 and headers["Location"].endswith("login")
    assert http_get(cs.url + "some/api")[0] == 401
    assert b"Incorrect" in http_get(cs.url + "login", data=b"password=wrong")[2]
    status, headers, _ = http_get(cs.url + "login", data=b"password=s3cret")
    assert status == 302
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    assert http_get(cs.url, headers={"Cookie": cookie})[0] == 200


def test_code_server_reads_its_config_file(code_server, tmp_path):
    port = free_port()
    config = tmp_path / "cfg.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")
    cs = code_server(env={"CODE_SERVER_CONFIG": str(config)})
    assert cs.url == f"http://127.0.0.1:{port}/"
    assert http_get(cs.url)[0] == 200


def test_code_server_writes_a_default_password_config_when_none_exists(code_server, tmp_path):
    cs = code_server("--bind-addr", "127.0.0.1:0")
    config = (tmp_path / ".config" / "code-server" / "config.yaml").read_text()
    assert "auth: password" in config and "password: " in config
    assert http_get(cs.url)[0] == 302


def test_code_server_exits_cleanly_on_sigterm(code_server):
    cs = code_server("--bind-addr", "127.0.0.1:0", "--auth", "none")
    assert cs.stop() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Coder server and agent ------------------------------------------------------

@pytest.fixture
def coder(tmp_path):
    with CoderServer(tmp_path / "coder-state", interval=0.2) as server:
        yield server


def download(coder, arch="amd64", dest=None, headers=None):
    status, hdrs, body = http_get(f"{coder.url}bin/coder-linux-{arch}", headers=headers)
    if dest is not None and status == 200:
        dest.write_bytes(body)
        dest.chmod(0o755)
    return status, hdrs, body


def run_agent(binary, coder_url, env, timeout=10):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                    "http_proxy", "https_proxy"))} | env
    return subprocess.Popen([str(binary), "agent"], env={"CODER_AGENT_URL": coder_url, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_agent(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, err


def test_coder_server_serves_the_agent_with_a_sha1_etag_and_304(coder, tmp_path):
    status, headers, body = download(coder, dest=tmp_path / "coder")
    assert status == 200
    assert headers["ETag"] == f'"{hashlib.sha1(body).hexdigest()}"'
    assert http_get(f"{coder.url}bin/coder-linux-amd64", {"If-None-Match": headers["ETag"]})[0] == 304
    assert http_get(f"{coder.url}bin/coder-linux-amd64", {"If-None-Match": '"0000"'})[0] == 200
    arm = download(coder, "arm64")
    assert arm[0] == 200 and arm[1]["ETag"] != headers["ETag"]
    assert download(coder, "mips")[0] == 404
    version = subprocess.run([str(tmp_path / "coder"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("Coder v2.18.0+standin ")
    paths = [(r["path"], r["if_none_match"], r["status"]) for r in coder.requests()]
    assert ("/bin/coder-linux-amd64", headers["ETag"], 304) in paths
    logged = [json.loads(line) for line in (coder.state_dir / "requests.jsonl").read_text().splitlines()]
    assert len(logged) >= 4 and {"method", "path", "if_none_match", "status", "bytes", "time"} <= set(logged[0])


def test_coder_server_answers_buildinfo(coder):
    status, _, body = http_get(coder.url + "api/v2/buildinfo")
    assert status == 200 and json.loads(body)["version"] == "v2.18.0+standin"


def test_agent_standin_reports_token_from_file(coder, tmp_path):
    download(coder, dest=tmp_path / "coder")
    token_file = tmp_path / "agent-token"
    token_file.write_text("  tok-from-file\n")
    token_file.chmod(0o600)
    agent = run_agent(tmp_path / "coder", coder.url, {
        "CODER_AGENT_TOKEN_FILE": str(token_file),
        "CODER_AGENT_HEADER": "X-Forwarded-Team=infra,X-Trace=1",
        "CODER_AGENT_LOG_DIR": str(tmp_path / "logs"),
    })
    try:
        record = coder.wait_for_report(timeout=10)
    finally:
        rc, err = stop_agent(agent)
    assert rc == 0, err
    assert record["status"] == 200 and record["token"] == "tok-from-file"
    report = record["report"]
    assert report["token_source"] == "file" and report["token_file_mode"] == "0600"
    assert report["agent_url"] == coder.url and report["auth"] == "token"
    assert report["headers"] == {"X-Forwarded-Team": "infra", "X-Trace": "1"}
    assert record["received_headers"]["X-Forwarded-Team"] == "infra"
    assert report["binary"] == str(tmp_path / "coder") and report["arch"] == "amd64"
    assert report["pid"] == agent.pid
    assert "agent is starting now" in (tmp_path / "logs" / "coder-agent.log").read_text()
    saved = [json.loads(line) for line in (coder.state_dir / "agent-reports.jsonl").read_text().splitlines()]
    assert saved[0]["token"] == "tok-from-file"


def test_agent_standin_checks_in_again_until_stopped(coder, tmp_path):
    agent = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "t", "CODER_AGENT_LOG_DIR": str(tmp_path)})
    try:
        coder.wait_for_report(lambda r: r["report"]["checkin"] >= 3, timeout=10)
    finally:
        assert stop_agent(agent)[0] == 0


@pytest.mark.parametrize("env, message", [
    ({"CODER_AGENT_URL": ""}, "CODER_AGENT_URL"),
    ({}, "CODER_AGENT_TOKEN or CODER_AGENT_TOKEN_FILE must be set for token auth"),
    ({"CODER_AGENT_TOKEN_FILE": "/nonexistent/token"}, 'read token file "/nonexistent/token"'),
    ({"CODER_AGENT_TOKEN": "t", "CODER_AGENT_HEADER": "novalue"}, "split header"),
])
def test_agent_standin_refuses_to_start_without_what_the_real_one_needs(coder, tmp_path, env, message):
    agent = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_LOG_DIR": str(tmp_path), **env})
    _, err = agent.communicate(timeout=10)
    assert agent.returncode == 1
    assert 'Encountered an error running "coder agent"' in err and message in err


def test_agent_standin_exits_with_the_code_the_server_sets(coder, tmp_path):
    coder.set_agent_exit_code(3)
    agent = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "t", "CODER_AGENT_LOG_DIR": str(tmp_path)})
    assert agent.wait(10) == 3
    stop_agent(agent)
    coder.set_agent_exit_code(None)
    agent = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "t", "CODER_AGENT_LOG_DIR": str(tmp_path)})
    coder.wait_for_report(lambda r: r["report"]["pid"] == agent.pid, timeout=10)
    assert agent.poll() is None
    assert stop_agent(agent)[0] == 0


def test_stale_token_is_refused_and_the_agent_keeps_retrying(coder, tmp_path):
    coder.set_valid_tokens(["new-token"])
    agent = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "old-token",
                                                 "CODER_AGENT_STANDIN_INTERVAL": "0.2",
                                                 "CODER_AGENT_LOG_DIR": str(tmp_path)})
    try:
        coder.wait_for_report(lambda r: r["status"] == 401 and r["report"]["checkin"] >= 2, timeout=10)
        assert agent.poll() is None
    finally:
        rc, err = stop_agent(agent)
    assert rc == 0 and "Workspace agent not authorized." in err


def test_replace_binary_serves_a_new_version_under_a_new_etag(coder, tmp_path):
    old = download(coder)[1]["ETag"]
    state = coder.replace_binary()
    assert state["version"] == "v2.18.1+standin" and state["etags"]["amd64"] != old
    assert http_get(f"{coder.url}bin/coder-linux-amd64", {"If-None-Match": old})[0] == 200
    download(coder, dest=tmp_path / "coder")
    out = subprocess.run([str(tmp_path / "coder"), "--version"], capture_output=True, text=True)
    assert out.stdout.startswith("Coder v2.18.1+standin ")
    assert json.loads(http_get(coder.url + "api/v2/buildinfo")[2])["version"] == "v2.18.1+standin"


def test_download_faults_fail_the_next_downloads(coder):
    good_etag = coder.etag()
    coder.set_download_faults("status", 502, count=1)
    assert download(coder)[0] == 502
    assert download(coder)[0] == 200
    coder.set_download_faults("corrupt", count=1)
    status, headers, body = download(coder)
    assert status == 200 and headers["ETag"] == good_etag
    assert f'"{hashlib.sha1(body).hexdigest()}"' != good_etag


class ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A minimal HTTP forward proxy: sends every absolute-URI request to 127.0.0.1."""
    seen = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        ForwardProxy.seen.append(self.path)
        target = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        req = urllib.request.Request(f"http://127.0.0.1:{target.port}{target.path}", data=body, method="POST",
                                     headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_agent_standin_goes_through_http_proxy(coder, tmp_path):
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), ForwardProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        # A name that only the proxy "resolves": the agent must not connect directly.
        url = f"http://coder.standin.invalid:{coder.port}/"
        agent = run_agent(AGENT_STANDIN, url, {"CODER_AGENT_TOKEN": "t", "CODER_AGENT_LOG_DIR": str(tmp_path),
                                               "HTTP_PROXY": f"http://127.0.0.1:{proxy.server_address[1]}"})
        try:
            record = coder.wait_for_report(timeout=10)
        finally:
            stop_agent(agent)
        assert record["report"]["proxy"] == f"http://127.0.0.1:{proxy.server_address[1]}"
        assert any(p.startswith("http://coder.standin.invalid") for p in ForwardProxy.seen)
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl CLI")
def test_agent_standin_trusts_only_the_ca_in_ssl_cert_file(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=coder-standin", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    with CoderServer(tmp_path / "state", tls_cert=cert, tls_key=key, interval=0.2) as coder:
        assert coder.url.startswith("https://")
        untrusted = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "t",
                                                         "CODER_AGENT_LOG_DIR": str(tmp_path / "a"),
                                                         "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"})
        wait_until(lambda: "CERTIFICATE_VERIFY_FAILED" in (tmp_path / "a" / "coder-agent.log").read_text(),
                   10, message="a certificate error")
        stop_agent(untrusted)
        assert coder.reports() == []
        trusted = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "t",
                                                       "CODER_AGENT_LOG_DIR": str(tmp_path / "b"),
                                                       "SSL_CERT_FILE": str(cert)})
        try:
            record = coder.wait_for_report(timeout=10)
        finally:
            stop_agent(trusted)
        assert record["report"]["ssl_cert_file"] == str(cert)


# --- Coder's agent log API ------------------------------------------------------

SOURCE = "71e7168a-7748-5e78-b96f-670ffc5f80ad"


def agent_call(coder, method, path, body, token="tok"):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Coder-Session-Token"] = token
    req = urllib.request.Request(f"{coder.url}api/v2/workspaceagents/me/{path}", data=json.dumps(body).encode(),
                                 headers=headers, method=method)
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def register(coder, token="tok", source=SOURCE):
    return agent_call(coder, "POST", "log-source", {"id": source, "display_name": "boot", "icon": "/emojis/1f680.png"},
                      token)


def send_lines(coder, *outputs, token="tok", level="info", source=SOURCE):
    logs = [{"created_at": "2026-12-01T10:20:30.5Z", "level": level, "output": o} for o in outputs]
    return agent_call(coder, "PATCH", "logs", {"log_source_id": source, "logs": logs}, token)


def test_log_source_answers_201_when_created_and_again_when_it_exists(coder):
    status, source = register(coder)
    assert status == 201 and source["id"] == SOURCE and source["display_name"] == "boot"
    assert register(coder)[0] == 201
    assert agent_call(coder, "POST", "log-source", {"id": "not-a-uuid", "display_name": "x"})[0] == 400


def test_log_lines_are_kept_in_order_with_their_source_and_level(coder):
    register(coder)
    assert send_lines(coder, "one", "two") == (200, None)
    assert send_lines(coder, "three", level="error")[0] == 200
    assert [(line["output"], line["level"], line["source"]) for line in coder.log_lines()] == [
        ("one", "info", SOURCE), ("two", "info", SOURCE), ("three", "error", SOURCE)]


def test_log_lines_are_refused_like_coderd_refuses_them(coder):
    assert send_lines(coder, "before the source")[0] == 400, "the stand-in needs the source registered first"
    register(coder)
    assert send_lines(coder)[1]["message"] == "No logs provided."
    assert send_lines(coder, "x", level="fatal!")[1]["message"] == "Invalid log level provided."
    assert send_lines(coder, "nul \x00 byte")[0] == 400
    bad_time = {"log_source_id": SOURCE, "logs": [{"created_at": "yesterday", "level": "info", "output": "x"}]}
    assert agent_call(coder, "PATCH", "logs", bad_time)[0] == 400
    assert coder.log_lines() == []


def test_logs_past_a_mebibyte_get_413(coder):
    register(coder)
    assert send_lines(coder, "x" * 600_000)[0] == 200
    status, answer = send_lines(coder, "y" * 600_000)
    assert status == 413 and answer["message"] == "Logs limit exceeded"


def test_agent_calls_get_401_until_the_build_is_done(coder):
    coder.set_build_done(False)
    status, answer = register(coder)
    assert status == 401 and "provision job has been completed" in answer["detail"]
    assert coder.state()["build_done"] is False
    coder.set_build_done(True)
    assert register(coder)[0] == 201
    coder.set_build_done(after=2)
    assert [register(coder)[0] for _ in range(3)] == [401, 401, 201]
    assert agent_call(coder, "POST", "log-source", {"id": SOURCE}, token=None)[0] == 401


def test_stale_token_gets_403_on_every_agent_call(coder, tmp_path):
    coder.set_stale_tokens(["old-token"])
    status, answer = register(coder, token="old-token")
    assert status == 403 and answer["message"] == "Agent trying to connect from non-latest build."
    assert send_lines(coder, "x", token="old-token")[0] == 403
    assert register(coder, token="new-token")[0] == 201
    agent = run_agent(AGENT_STANDIN, coder.url, {"CODER_AGENT_TOKEN": "old-token", "CODER_AGENT_LOG_DIR": str(tmp_path)})
    try:
        assert coder.wait_for_report(timeout=10)["status"] == 403
    finally:
        stop_agent(agent)
    assert coder.state()["valid_tokens"] is None, "marking stale tokens keeps the valid list as it was"


def test_every_log_call_is_recorded_with_its_headers_and_body(coder):
    coder.set_build_done(after=1)
    register(coder, token="tok-1")
    register(coder, token="tok-1")
    send_lines(coder, "hello", token="tok-1")
    calls = coder.log_calls()
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("POST", "/api/v2/workspaceagents/me/log-source", 401),
        ("POST", "/api/v2/workspaceagents/me/log-source", 201),
        ("PATCH", "/api/v2/workspaceagents/me/logs", 200)]
    assert all(c["received_headers"]["Coder-Session-Token"] == "tok-1" and c["token"] == "tok-1" for c in calls)
    assert calls[2]["body"]["logs"][0]["output"] == "hello"
    saved = [json.loads(line) for line in (coder.state_dir / "log-calls.jsonl").read_text().splitlines()]
    assert [c["status"] for c in saved] == [401, 201, 200]
