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
                                 accepts any token again
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
                    "faults": self.faults, "interval": self.interval}


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
            if path == "/_standin/agent-behaviour":
                with state.lock:
                    state.exit_code = body.get("exit_code")
                return self.reply(200, state.snapshot())
            if path == "/_standin/tokens":
                with state.lock:
                    state.valid_tokens = body.get("valid")
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

        def agent_report(self, body):
            token = self.headers.get("Coder-Session-Token")
            with state.lock:
                valid = state.valid_tokens
                exit_code = state.exit_code
            if not token:
                status, answer = 401, {"message": "Workspace agent not authorized.",
                                       "detail": "Coder-Session-Token header is missing."}
            elif valid is not None and token not in valid:
                status, answer = 401, {"message": "Workspace agent not authorized.",
                                       "detail": "The agent cannot authenticate until the workspace provision job has been completed."}
            else:
                status, answer = 200, {"exit_code": exit_code, "interval": state.interval}
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
