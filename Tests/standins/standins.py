"""Helpers for tests that use the STAND-IN code-server and Coder (host side).

    from standins import CoderServer, build_code_server_tarball, AGENT_STANDIN   # Tests/standins on the path (pytest.ini)

    tarball = build_code_server_tarball("4.96.4", "amd64", tmp_path)
    with CoderServer(tmp_path / "coder") as coder:        # starts coder_server.py
        coder.url                     # "http://127.0.0.1:<port>/" (the host's view)
        coder.url_for("10.0.2.2")     # the same server as a qemu guest sees it
        coder.wait_for_report(lambda r: r["status"] == 200, timeout=30)
        coder.set_agent_exit_code(3); coder.replace_binary(); coder.set_valid_tokens(["t"])
        coder.set_build_done(after=2); coder.log_lines()   # the agent log API
"""
import hashlib
import http.server
import json
import os
import pathlib
import subprocess
import sys
import threading
import time
import urllib.request

from processes import wait_until

HERE = pathlib.Path(__file__).resolve().parent
CODE_SERVER_MAKE_TARBALL = HERE / "code-server" / "make-tarball.sh"
CODE_SERVER_SCRIPT = HERE / "code-server" / "code-server.py"
CODER_SERVER = HERE / "coder" / "coder_server.py"
AGENT_STANDIN = HERE / "coder" / "coder-agent-standin"


def build_code_server_tarball(version, arch, outdir):
    """Runs make-tarball.sh; returns the path of code-server-VERSION-linux-ARCH.tar.gz."""
    out = subprocess.run([str(CODE_SERVER_MAKE_TARBALL), version, arch, str(outdir)],
                         check=True, capture_output=True, text=True)
    return pathlib.Path(out.stdout.strip().splitlines()[-1])


class CoderServer:
    """The stand-in Coder server as a subprocess. Context manager; stop() is idempotent."""

    def __init__(self, state_dir, *, bind="127.0.0.1", port=0, agent_binary=None,
                 tls_cert=None, tls_key=None, interval=None, python=sys.executable):
        self.state_dir = pathlib.Path(state_dir)
        self.bind = bind
        self.requested_port = port
        self.agent_binary = pathlib.Path(agent_binary or AGENT_STANDIN)
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.interval = interval
        self.python = python
        self.proc = None
        self.port = None

    # -- lifecycle
    def start(self, timeout=10):
        self.state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [self.python, str(CODER_SERVER), "--port", str(self.requested_port), "--bind", self.bind,
               "--agent-binary", str(self.agent_binary), "--state-dir", str(self.state_dir)]
        if self.tls_cert:
            cmd += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        if self.interval is not None:
            cmd += ["--interval", str(self.interval)]
        self.stderr_path = self.state_dir / "server.stderr"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "ab"),
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT="):
            self.stop()
            raise RuntimeError(f"coder stand-in did not start: {line!r} {self.stderr_path.read_text()}")
        self.port = int(line.strip().split("=", 1)[1])
        return self

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- addresses
    @property
    def scheme(self):
        return "https" if self.tls_cert else "http"

    @property
    def url(self):
        return self.url_for("127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind)

    def url_for(self, host):
        """The access URL as seen from elsewhere, e.g. url_for("10.0.2.2") in a qemu guest."""
        return f"{self.scheme}://{host}:{self.port}/"

    # -- control API
    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        ctx = None
        if self.tls_cert:
            import ssl
            ctx = ssl.create_default_context(cafile=str(self.tls_cert))
            ctx.check_hostname = False
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def requests(self):
        return self._call("GET", "/_standin/requests")

    def reports(self):
        return self._call("GET", "/_standin/reports")

    def state(self):
        return self._call("GET", "/_standin/state")

    def set_agent_exit_code(self, code):
        """Later agent check-ins are told to exit with `code` (None resets)."""
        return self._call("POST", "/_standin/agent-behaviour", {"exit_code": code})

    def replace_binary(self, version=None, path=None):
        body = {}
        if version:
            body["version"] = version
        if path:
            body["path"] = str(path)
        return self._call("POST", "/_standin/replace-binary", body)

    def set_valid_tokens(self, tokens):
        return self._call("POST", "/_standin/tokens", {"valid": None if tokens is None else list(tokens)})

    def set_stale_tokens(self, tokens):
        """These tokens get 403 "non-latest build" on every agent call."""
        return self._call("POST", "/_standin/tokens", {"stale": list(tokens)})

    def set_build_done(self, done=True, after=None):
        """done=False: agent calls get 401 until the build is done; after=N:
        the next N agent calls get 401, then it is."""
        return self._call("POST", "/_standin/build", {"done": done} if after is None else {"done_after": after})

    def log_calls(self):
        """Every log-source and logs call (time, method, path, status, token,
        received_headers, body, answer)."""
        return self._call("GET", "/_standin/log-calls")

    def log_lines(self):
        """The log lines accepted so far ({source, created_at, level, output})."""
        return self._call("GET", "/_standin/logs")

    def set_download_faults(self, mode="status", status=500, count=1):
        return self._call("POST", "/_standin/download-faults", {"mode": mode, "status": status, "count": count})

    def wait_for_report(self, predicate=lambda r: True, timeout=30):
        """The first recorded agent report (server record: time, status, token,
        received_headers, answer, report) for which predicate(record) holds."""
        def find():
            return next((r for r in self.reports() if predicate(r)), None)
        return wait_until(find, timeout, interval=0.2, message="an agent report")

    def etag(self, arch="amd64"):
        return self.state()["etags"][arch]


def run_code_server(release_dir, *args, env=None, **kwargs):
    """Runs <release_dir>/bin/code-server ARGS to completion (for --version etc.)."""
    return subprocess.run([str(pathlib.Path(release_dir) / "bin" / "code-server"), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, **kwargs)


class FileServer:
    """Serves a folder on host loopback with Range support, recording each
    request (path, Range header, bytes sent). slow=True dribbles the body
    (200 bytes every 50 ms) so a test can interrupt a download halfway."""

    def __init__(self, folder, slow=False):
        self.requests = []  # paths, in order
        self.log = []       # {"path", "range", "status", "bytes"}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                path = pathlib.Path(folder) / self.path.lstrip("/").split("?")[0]
                entry = {"path": self.path, "range": self.headers.get("Range"), "status": 404, "bytes": 0}
                outer.log.append(entry)
                if not path.is_file() or ".." in self.path:
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start = 0
                if entry["range"] and entry["range"].startswith("bytes=") and entry["range"].endswith("-"):
                    start = int(entry["range"][6:-1])
                body = data[start:]
                entry["status"] = 206 if start else 200
                self.send_response(entry["status"])
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                step = 200 if slow else len(body) or 1
                for offset in range(0, len(body), step):
                    try:
                        self.wfile.write(body[offset:offset + step])
                        self.wfile.flush()
                    except OSError:
                        return
                    entry["bytes"] += len(body[offset:offset + step])
                    if slow:
                        time.sleep(0.05)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def workspace_spec(*, access_url, files_url, tarball, ssh_key, version="4.96.4", package=None):
    """The workspace spec the system and VM tests and the demo use: a user with
    `ssh_key`, the Coder stand-in at `access_url`, and code-server from the
    stand-in tarball served at `files_url`; with `package` (a .deb served
    there too) an install section, as for an image without the daemon."""
    spec = {
        "apiVersion": "coder-vm-bootstrap/v1",
        "workspace": {"owner": "alice", "name": "dev", "id": "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"},
        "user": {"name": "coder", "sshAuthorizedKeys": [ssh_key]},
        "coder": {"accessURL": access_url},
        "codeServer": {"version": version,
                       "downloadURL": f"{files_url}/code-server-{{version}}-linux-{{arch}}.tar.gz",
                       "sha256": {"amd64": hashlib.sha256(pathlib.Path(tarball).read_bytes()).hexdigest()}},
    }
    if package:
        spec["install"] = {"packageURL": f"{files_url}/{pathlib.Path(package).name}",
                           "sha256": hashlib.sha256(pathlib.Path(package).read_bytes()).hexdigest()}
    return spec
