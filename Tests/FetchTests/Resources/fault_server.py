#!/usr/bin/env python3
"""Fault-injecting HTTP/1.1 file server for the Fetch tests (stdlib only).

Usage: fault_server.py --root DIR [--cert PEM --key PEM]
Binds 127.0.0.1 on a free port and prints the port on stdout; speaks HTTPS
when given a certificate, and then also listens in plain HTTP on a second
port, printed after the first on the same line, for the control endpoints
(the test's URLSession does not know the private CA).

GET /files/NAME serves DIR/NAME with Range, If-Range and If-None-Match
support and a strong ETag ("<sha1 hex>"). Query parameters inject faults,
counted per exact path and query (the "key"):
  fail=CODE:COUNT   the first COUNT requests answer CODE (Retry-After: 0)
  cut=N             the first request sends only N body bytes, then closes
                    the connection although Content-Length promised more
  norange=1         ignore Range and If-Range: always 200 with the full body
  dribble=MS        send one body byte every MS milliseconds
  chunk=B&delay=MS  send the body in B-byte chunks, MS milliseconds apart
  barrier=GROUP:N   hold the response until N requests naming the same
                    GROUP have arrived (at most 10 s), to prove concurrency
  endless=1         200 without Content-Length: zeros until the client
                    hangs up (the body ends only with the connection)
  length=N          announce Content-Length N whatever the body's size,
                    send the body, then close the connection
  hugelength=1      on a 206, announce Content-Length 9223372036854775807
                    (2^63 - 1) with a truthful Content-Range
  html=1            answer every request with 200 and an HTML error page,
                    the way a captive portal or a misrouted proxy does
GET /redirect?to=URL[&code=302] redirects to URL (a path, or absolute with
any scheme: http://, https://, ftp://, file://); without `to`, the 3xx has
no Location and a small HTML body instead.

Control endpoints (not logged):
  GET /_control/log    JSON list, one object per request: method, path,
                       range, if_none_match, if_range, status, body_bytes
                       (body bytes handed to the socket)
  GET /_control/stats  {"max_in_flight": n}, the most /files and /redirect
                       requests being served at the same time
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Condition()
log = []
served = {}    # key -> requests seen so far
arrived = {}   # barrier group -> requests that reached it
in_flight = 0
max_in_flight = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/_control/log":
            with lock:
                return self.send_json(log)
        if url.path == "/_control/stats":
            with lock:
                return self.send_json({"max_in_flight": max_in_flight})
        self.track(+1)
        try:
            self.serve(url)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self.track(-1)

    def track(self, delta):
        global in_flight, max_in_flight
        with lock:
            in_flight += delta
            max_in_flight = max(max_in_flight, in_flight)

    def serve(self, url):
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        key = self.path
        with lock:
            seen = served.get(key, 0)
            served[key] = seen + 1
            self.record = {
                "method": self.command,
                "path": self.path,
                "range": self.headers.get("Range"),
                "if_none_match": self.headers.get("If-None-Match"),
                "if_range": self.headers.get("If-Range"),
                "status": 0,
                "body_bytes": 0,
            }
            log.append(self.record)

        if "barrier" in query:
            group, wanted = query["barrier"].split(":")
            with lock:
                arrived[group] = arrived.get(group, 0) + 1
                lock.notify_all()
                lock.wait_for(lambda: arrived[group] >= int(wanted), timeout=10)

        if url.path == "/redirect":
            self.record["status"] = int(query.get("code", "302"))
            self.send_response(self.record["status"])
            body = b"" if "to" in query else b"<html>pick one</html>\n"
            if "to" in query:
                self.send_header("Location", query["to"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.send_body(body)

        if "fail" in query:
            code, count = (int(x) for x in query["fail"].split(":"))
            if seen < count:
                return self.send_error_body(code, {"Retry-After": "0"})

        if "html" in query:
            page = b"<!DOCTYPE html>\n<html><body><h1>Sign in to continue</h1></body></html>\n"
            self.record["status"] = 200
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            return self.send_body(page)

        if "endless" in query:
            self.record["status"] = 200
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            zeros = bytes(65536)
            while True:
                self.send_body(zeros)

        if not url.path.startswith("/files/"):
            return self.send_error_body(404)
        path = os.path.join(self.root, os.path.basename(url.path))
        if not os.path.isfile(path):
            return self.send_error_body(404)
        with open(path, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()

        if self.headers.get("If-None-Match") == etag:
            self.record["status"] = 304
            self.send_response(304)
            self.send_header("ETag", etag)
            return self.end_headers()

        start, status = 0, 200
        wanted_range = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if wanted_range and "norange" not in query and if_range in (None, etag):
            first = wanted_range.removeprefix("bytes=").split("-")[0]
            start, status = int(first), 206
            if start >= len(body):
                return self.send_error_body(416, {"Content-Range": "bytes */%d" % len(body)})

        self.record["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if "length" in query:
            self.send_header("Content-Length", query["length"])
            self.close_connection = True
        elif "hugelength" in query and status == 206:
            self.send_header("Content-Length", str(2**63 - 1))
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body) - start))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "none" if "norange" in query else "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
        self.end_headers()

        remaining = body[start:]
        if "cut" in query and seen == 0:
            self.send_body(remaining[: int(query["cut"])])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if "dribble" in query:
            return self.send_body(remaining, 1, int(query["dribble"]) / 1000)
        if "chunk" in query:
            return self.send_body(remaining, int(query["chunk"]), int(query.get("delay", "0")) / 1000)
        self.send_body(remaining)

    def send_body(self, data, chunk=65536, delay=0):
        for offset in range(0, len(data), chunk):
            if offset and delay:
                time.sleep(delay)
            piece = data[offset : offset + chunk]
            with lock:
                self.record["body_bytes"] += len(piece)
            self.wfile.write(piece)
            self.wfile.flush()

    def send_error_body(self, code, headers={}):
        body = b"error %d\n" % code
        self.record["status"] = code
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.send_body(body)

    def send_json(self, value):
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    # Started from a test thread that blocks SIGTERM and SIGINT: let them in.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    Handler.root = args.root
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ports = [server.server_address[1]]
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        control = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        control.daemon_threads = True
        threading.Thread(target=control.serve_forever, daemon=True).start()
        ports.append(control.server_address[1])
    print(" ".join(map(str, ports)), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
