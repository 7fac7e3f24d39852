#!/usr/bin/env python3
"""HTTP/1.1 server that records every call and answers as told, for the
Fetch tests of HTTPClient (stdlib only).

Usage: echo_server.py   (binds 127.0.0.1 on a free port, prints it on stdout)

Any method on /call records {method, path, headers, body (latin-1 text)} and
answers as its query says:
  status=CODE       the status (default 200)
  size=N            a body of N bytes "x" (default: the record as JSON)
  chunked=1         the body without Content-Length, ended by closing
  location=URL      a Location header
/stall accepts and never answers (the client's timeout or cancel ends it).

Control endpoint (not recorded):
  GET /_control/log   JSON list of the records, in arrival order
"""
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
log = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def handle_any(self):
        url = urlsplit(self.path)
        if url.path == "/_control/log":
            with lock:
                return self.answer(200, json.dumps(log).encode(), {})
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                  "body": body.decode("latin-1")}
        with lock:
            log.append(record)
        if url.path == "/stall":
            time.sleep(60)
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        headers = {"Location": query["location"]} if "location" in query else {}
        answer = b"x" * int(query["size"]) if "size" in query else json.dumps(record).encode()
        self.answer(int(query.get("status", 200)), answer, headers, chunked=query.get("chunked") == "1")

    def answer(self, status, body, headers, chunked=False):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    # Started from a test thread that blocks SIGTERM and SIGINT: let them in.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
