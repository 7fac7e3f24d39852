#!/usr/bin/env python3
"""STAND-IN Coder server (coderd) for the coder-vm-bootstrap tests.

Not Coder. It serves what a workspace VM touches before the agent protocol:

  GET|HEAD /bin/coder-linux-{amd64,arm64,armv7}
        the agent stand-in (coder-agent-standin, one file per arch: the served
        bytes end with "# standin-arch: <arch>"), with ETag "<sha1 hex>" and 304
        for a matching If-None-Match, like coderd's site handler
  GET  /api/v2/buildinfo                      {"version": "v2.18.0+standin", ...}
  POST /api/v2/workspaceagents/me/standin-report
        the agent stand-in's check-in; needs Coder-Session-Token (else 401, like
        coderd); recorded in STATE/agent-reports.jsonl; answers
        {"exit_code": null|N, "interval": S}
  POST /api/v2/workspaceagents/me/log-source   {"id": UUID, "display_name", "icon"}
        201 with the source, also when it exists (like coderd's handler)
  PATCH /api/v2/workspaceagents/me/logs
        {"log_source_id": UUID, "logs": [{"created_at": RFC3339, "level", "output"}]}
        200; 400 for no logs, a bad level or time, a NUL in an output, or a
        source never registered (coderd does not check that last one: the
        stand-in is stricter); 413 once the outputs pass 1 MiB, like coderd
        Every call is recorded (headers, body, answer) in STATE/log-calls.jsonl.

Every /api/v2/workspaceagents/me/ call authenticates like coderd's agent
middleware: 401 without Coder-Session-Token, 401 while the build is not done
("the agent cannot authenticate until the workspace provision job has been
completed"), 401 for a token outside a "valid" list, 403 for a token marked
stale ("Agent trying to connect from non-latest build.", older coderd).

and a control API for tests (under /_standin/):

  GET  /_standin/requests        every request so far (also STATE/requests.jsonl)
  GET  /_standin/reports         every agent report so far
  POST /_standin/agent-behaviour {"exit_code": 3} -> later check-ins are told to
                                 exit 3 (a crash loop); {"exit_code": null} resets
  POST /_standin/replace-binary  {} bumps the agent's version (new bytes, new ETag,
                                 a Coder upgrade); {"version": "v2.19.0+standin"}
                                 sets it; {"path": FILE} serves FILE instead
  POST /_standin/tokens          {"valid": ["tok", ...]} -> other tokens get 401
                                 (a stale token after a rebuild); {"valid": null}
                                 accepts any token again; {"stale": ["tok"]} ->
                                 those get 403; keys left out are kept
  POST /_standin/build           {"done": false} -> agent calls get 401 until
                                 {"done": true}; {"done_after": N} -> the next N
                                 agent calls get 401, then the build is done
  GET  /_standin/log-calls       every log-source and logs call so far
  GET  /_standin/logs            the lines accepted so far, with their source
  POST /_standin/download-faults {"mode": "status"|"truncate"|"corrupt",
                                 "status": 500, "count": 2} -> the next `count`
                                 /bin/ downloads fail that way ("corrupt" sends
                                 other bytes under the real ETag)
  GET  /_standin/state           current version, ETags, behaviour, tokens

Usage: coder_server.py [--port 0] [--bind 127.0.0.1] [--agent-binary PATH]
                       --state-dir DIR [--tls-cert F --tls-key F] [--interval S]
The first stdout line is PORT=<n>. Python 3.11 standard library only.
"""
import argparse
import hashlib
import http.server
import json
import os
import re
import signal
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_AGENT = os.path.join(HERE, "coder-agent-standin")
ARCHES = ("amd64", "arm64", "armv7")
VERSION_LINE = re.compile(rb'^STANDIN_VERSION = "([^"]*)"$', re.M)


class StandinState:
    def __init__(self, state_dir, agent_bytes, interval):
        self.state_dir = state_dir
        self.lock = threading.Lock()
        self.requests = []
        self.reports = []
        self.exit_code = None
        self.valid_tokens = None
        self.stale_tokens = []
        self.build_done = True
        self.refusals_left = 0  # 401s before the build is done, with done_after
        self.log_calls = []
        self.log_sources = {}  # id -> source
        self.log_lines = []
        self.log_bytes = 0
        self.faults = None  # {"mode", "status", "count"}
        self.interval = interval
        self.generation = 1
        self.set_agent(agent_bytes)
        os.makedirs(state_dir, exist_ok=True)

    def set_agent(self, agent_bytes):
        self.agent_bytes = agent_bytes
        m = VERSION_LINE.search(agent_bytes)
        self.version = m.group(1).decode() if m else "v2.18.0+standin"
        self.files = {}
        for arch in ARCHES:
            data = agent_bytes.rstrip(b"\n") + f"\n# standin-arch: {arch}\n".encode()
            self.files[arch] = (data, hashlib.sha1(data).hexdigest())

    def append(self, name, items, record):
        with self.lock:
            items.append(record)
            with open(os.path.join(self.state_dir, name), "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    def take_fault(self):
        with self.lock:
            if not self.faults or self.faults.get("count", 0) <= 0:
                return None
            self.faults["count"] -= 1
            return dict(self.faults)

    def snapshot(self):
        with self.lock:
            return {"version": self.version, "generation": self.generation,
                    "etags": {a: f'"{e}"' for a, (_, e) in self.files.items()},
                    "sha1": {a: e for a, (_, e) in self.files.items()},
                    "exit_code": self.exit_code, "valid_tokens": self.valid_tokens,
                    "stale_tokens": self.stale_tokens, "build_done": self.build_done,
                    "refusals_left": self.refusals_left,
                    "faults": self.faults, "interval": self.interval}

    def authenticate(self, token):
        """(status, answer) for an agent call's token, like coderd's agent
        middleware, or None when it may go on."""
        with self.lock:
            if not token:
                return 401, {"message": 'Cookie "coder_session_token" must be provided.'}
            if token in self.stale_tokens:
                return 403, {"message": "Agent trying to connect from non-latest build.",
                             "detail": "build is outdated"}
            if not self.build_done and self.refusals_left > 0:
                self.refusals_left -= 1
                if self.refusals_left == 0:
                    self.build_done = True
                return 401, UNAUTHORIZED
            if not self.build_done or (self.valid_tokens is not None and token not in self.valid_tokens):
                return 401, UNAUTHORIZED
        return None


UNAUTHORIZED = {"message": "Workspace agent not authorized.",
                "detail": "The agent cannot authenticate until the workspace provision job has been completed. "
                          "If the job is no longer running, this agent is invalid."}
LOG_LEVELS = ("trace", "debug", "info", "warn", "error")
LOG_LIMIT = 1 << 20  # coderd's limit on an agent's log output, in bytes
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def bump_version(version):
    m = re.match(r"^v(\d+)\.(\d+)\.(\d+)(.*)$", version)
    if not m:
        return version + ".1"
    return f"v{m.group(1)}.{m.group(2)}.{int(m.group(3)) + 1}{m.group(4)}"


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "coderd-standin"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def record(self, status, nbytes):
            state.append("requests.jsonl", state.requests, {
                "time": time.time(), "method": self.command, "path": self.path,
                "if_none_match": self.headers.get("If-None-Match"), "status": status, "bytes": nbytes,
                "user_agent": self.headers.get("User-Agent"), "remote": self.client_address[0],
            })

        def reply(self, status, body=b"", content_type="application/json", headers=(), send_body=True):
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            sent = 0
            if send_body and self.command != "HEAD" and status != 304:
                self.wfile.write(body)
                sent = len(body)
            self.record(status, sent)

        def read_json(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw.strip() else {}

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            m = re.fullmatch(r"/bin/coder-linux-([a-z0-9]+)", path)
            if m:
                return self.serve_binary(m.group(1))
            if path == "/api/v2/buildinfo":
                return self.reply(200, {"external_url": "https://github.com/coder/coder", "version": state.version,
                                        "dashboard_url": self.base_url(), "workspace_proxy": False,
                                        "agent_api_version": "2.2", "deployment_id": "standin", "standin": True})
            if path == "/_standin/requests":
                with state.lock:
                    items = list(state.requests)
                return self.reply(200, items)
            if path == "/_standin/reports":
                with state.lock:
                    items = list(state.reports)
                return self.reply(200, items)
            if path == "/_standin/state":
                return self.reply(200, state.snapshot())
            if path == "/_standin/log-calls":
                with state.lock:
                    items = list(state.log_calls)
                return self.reply(200, items)
            if path == "/_standin/logs":
                with state.lock:
                    items = list(state.log_lines)
                return self.reply(200, items)
            if path == "/healthz":
                return self.reply(200, b"OK", "text/plain")
            return self.reply(404, {"message": "Route not found."})

        def base_url(self):
            scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
            return f"{scheme}://{self.headers.get('Host', 'localhost')}"

        def serve_binary(self, arch):
            if arch not in state.files:
                return self.reply(404, {"message": "Not found"})
            with state.lock:
                data, sha1 = state.files[arch]
            etag = f'"{sha1}"'
            fault = state.take_fault()
            if fault:
                mode = fault.get("mode", "status")
                if mode == "status":
                    return self.reply(int(fault.get("status", 500)), {"message": "stand-in download fault"})
                if mode == "truncate":
                    # Promise the full length, send half, close the connection.
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("ETag", etag)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    half = data[: len(data) // 2]
                    if self.command != "HEAD":
                        self.wfile.write(half)
                        self.wfile.flush()
                    self.close_connection = True
                    self.record(200, len(half))
                    return
                if mode == "corrupt":
                    data = bytes(b ^ 0x20 for b in data[:64]) + data[64:]
            inm = self.headers.get("If-None-Match")
            if inm and not fault and etag in [t.strip() for t in inm.split(",")]:
                return self.reply(304, headers=[("ETag", etag)])
            return self.reply(200, data, "application/octet-stream", headers=[("ETag", etag)])

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            try:
                body = self.read_json()
            except ValueError:
                return self.reply(400, {"message": "Request body must be valid JSON."})
            if path == "/api/v2/workspaceagents/me/standin-report":
                return self.agent_report(body)
            if path == "/api/v2/workspaceagents/me/log-source":
                return self.log_call(body, self.post_log_source)
            if path == "/_standin/build":
                with state.lock:
                    if "done_after" in body:
                        state.refusals_left = int(body["done_after"])
                        state.build_done = state.refusals_left <= 0
                    else:
                        state.build_done = bool(body.get("done", True))
                        state.refusals_left = 0
                return self.reply(200, state.snapshot())
            if path == "/_standin/agent-behaviour":
                with state.lock:
                    state.exit_code = body.get("exit_code")
                return self.reply(200, state.snapshot())
            if path == "/_standin/tokens":
                with state.lock:
                    if "valid" in body:
                        state.valid_tokens = body["valid"]
                    if "stale" in body:
                        state.stale_tokens = list(body["stale"] or [])
                return self.reply(200, state.snapshot())
            if path == "/_standin/download-faults":
                with state.lock:
                    state.faults = {"mode": body.get("mode", "status"), "status": int(body.get("status", 500)),
                                    "count": int(body.get("count", 1))}
                return self.reply(200, state.snapshot())
            if path == "/_standin/replace-binary":
                if body.get("path"):
                    with open(body["path"], "rb") as f:
                        new = f.read()
                else:
                    with state.lock:
                        current, version = state.agent_bytes, state.version
                    new_version = body.get("version") or bump_version(version)
                    new, n = VERSION_LINE.subn(f'STANDIN_VERSION = "{new_version}"'.encode(), current, count=1)
                    if n == 0:
                        new = current + f"\n# standin version {new_version}\n".encode()
                with state.lock:
                    state.set_agent(new)
                    state.generation += 1
                return self.reply(200, state.snapshot())
            return self.reply(404, {"message": "Route not found."})

        def do_PATCH(self):
            path = urllib.parse.urlsplit(self.path).path
            try:
                body = self.read_json()
            except ValueError:
                return self.reply(400, {"message": "Request body must be valid JSON."})
            if path == "/api/v2/workspaceagents/me/logs":
                return self.log_call(body, self.patch_logs)
            return self.reply(404, {"message": "Route not found."})

        def log_call(self, body, handler):
            """Authenticates like coderd, runs handler(body) -> (status, answer), records the call."""
            token = self.headers.get("Coder-Session-Token")
            status, answer = state.authenticate(token) or handler(body)
            state.append("log-calls.jsonl", state.log_calls, {
                "time": time.time(), "method": self.command, "path": self.path, "status": status,
                "token": token, "received_headers": {k: v for k, v in self.headers.items()},
                "body": body, "answer": answer,
            })
            return self.reply(status, b"null" if answer is None else answer)

        def post_log_source(self, body):
            source_id = str(body.get("id", ""))
            if not UUID.match(source_id):
                return 400, {"message": "Request body must be valid JSON.", "detail": f"invalid UUID {source_id!r}"}
            if len(str(body.get("display_name", ""))) > 127:
                return 400, {"message": "display_name is longer than 127 characters"}
            with state.lock:
                source = state.log_sources.setdefault(source_id.lower(), {
                    "workspace_agent_id": "00000000-0000-4000-8000-00000000a9e7",
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "id": source_id.lower(), "display_name": body.get("display_name", ""),
                    "icon": body.get("icon", "")})
            return 201, source

        def patch_logs(self, body):
            logs = body.get("logs") or []
            source_id = str(body.get("log_source_id", "")).lower()
            if not logs:
                return 400, {"message": "No logs provided."}
            for entry in logs:
                if entry.get("level", "info") not in LOG_LEVELS:
                    return 400, {"message": "Invalid log level provided.",
                                 "detail": f"invalid log level: {entry.get('level')!r}"}
                if not RFC3339.match(str(entry.get("created_at", ""))):
                    return 400, {"message": "Request body must be valid JSON.",
                                 "detail": f"created_at {entry.get('created_at')!r} is not RFC 3339"}
                if "\x00" in str(entry.get("output", "")):
                    return 400, {"message": "Failed to upload logs", "detail": "invalid byte sequence: 0x00"}
            size = sum(len(str(entry.get("output", "")).encode()) for entry in logs)
            with state.lock:
                if source_id not in state.log_sources:
                    return 400, {"message": "stand-in: unknown log source", "detail": source_id}
                if state.log_bytes + size > LOG_LIMIT:
                    return 413, {"message": "Logs limit exceeded"}
                state.log_bytes += size
                for entry in logs:
                    state.log_lines.append({"source": source_id, "created_at": entry["created_at"],
                                            "level": entry.get("level", "info"), "output": entry.get("output", "")})
            return 200, None

        def agent_report(self, body):
            token = self.headers.get("Coder-Session-Token")
            with state.lock:
                exit_code = state.exit_code
            status, answer = state.authenticate(token) or (200, {"exit_code": exit_code, "interval": state.interval})
            state.append("agent-reports.jsonl", state.reports, {
                "time": time.time(), "status": status, "token": token,
                "received_headers": {k: v for k, v in self.headers.items()},
                "answer": answer, "report": body,
            })
            return self.reply(status, answer)

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    parser = argparse.ArgumentParser(description="STAND-IN Coder server for tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--agent-binary", default=DEFAULT_AGENT)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--interval", type=float, default=None,
                        help="check-in interval told to agents (default: the agent's own, 3 s)")
    args = parser.parse_args(argv)
    with open(args.agent_binary, "rb") as f:
        agent_bytes = f.read()
    state = StandinState(args.state_dir, agent_bytes, args.interval)
    httpd = Server((args.bind, args.port), make_handler(state))
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    print(f"PORT={httpd.server_address[1]}", flush=True)
    scheme = "https" if args.tls_cert else "http"
    print(f"coder stand-in serving {scheme}://{args.bind}:{httpd.server_address[1]}/ "
          f"agent {state.version} state {args.state_dir}", file=sys.stderr, flush=True)

    def on_signal(_signum, _frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    httpd.serve_forever(poll_interval=0.2)
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
