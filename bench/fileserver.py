"""A file server for the benchmarks (host side, Python 3.11 standard library).

Serves one folder on 127.0.0.1 with what the daemon and curl use: GET and
HEAD, `Range: bytes=N-`, a strong ETag (SHA-1 hex of the file, as coderd
serves its agent binary) and `304` for a matching `If-None-Match`. Bodies go
out with sendfile(2), so the server costs little CPU and is not what a
benchmark measures; `rate` caps each connection's bytes/s and `total_rate`
all connections together (a server's uplink), both with a token bucket.

It counts what a benchmark reports: requests by status, body bytes sent,
connections open now and at most at once, and its own CPU time (of the
whole process: run it on its own, `python3 bench/fileserver.py FOLDER`, to
see the server's alone; GET /_stats answers them as JSON, /_reset zeroes).

    server = FileServer(folder, rate=40 * 2**20).start()
    server.url("code-server.tar.gz"); server.stats(); server.stop()
"""
import argparse
import hashlib
import http.server
import json
import os
import pathlib
import resource
import socketserver
import threading
import time

CHUNK = 256 * 1024


class TokenBucket:
    """At most `rate` bytes/s on average, bursts of at most one chunk."""

    def __init__(self, rate):
        self.rate = rate
        self.lock = threading.Lock()
        self.next_free = time.monotonic()

    def take(self, nbytes):
        """Reserves nbytes and sleeps until they may be sent."""
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_free)
            self.next_free = start + nbytes / self.rate
        if start > now:
            time.sleep(start - now)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = []          # (monotonic time, path, status, body bytes)
            self.bytes_sent = 0
            self.open_connections = 0
            self.peak_connections = 0
            self.cpu_start = resource.getrusage(resource.RUSAGE_SELF)
            self.wall_start = time.monotonic()

    def connection(self, delta):
        with self.lock:
            self.open_connections += delta
            self.peak_connections = max(self.peak_connections, self.open_connections)

    def snapshot(self):
        with self.lock:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (usage.ru_utime - self.cpu_start.ru_utime) + (usage.ru_stime - self.cpu_start.ru_stime)
            wall = time.monotonic() - self.wall_start
            statuses = {}
            for _, _, status, _ in self.requests:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            return {"requests": len(self.requests), "statuses": statuses, "bytes_sent": self.bytes_sent,
                    "peak_connections": self.peak_connections, "server_cpu_seconds": round(cpu, 3),
                    "wall_seconds": round(wall, 3), "server_cpu_share": round(cpu / wall, 3) if wall else 0.0}


class FileServer:
    def __init__(self, folder, *, rate=None, total_rate=None, bind="127.0.0.1", port=0):
        self.folder = pathlib.Path(folder)
        self.rate, self.total_rate = rate, total_rate
        self.stats_ = Stats()
        self.etags = {}
        self.etag_lock = threading.Lock()
        total_bucket = TokenBucket(total_rate) if total_rate else None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "bench-fileserver"

            def setup(self):
                super().setup()
                outer.stats_.connection(+1)
                self.bucket = TokenBucket(outer.rate) if outer.rate else None

            def finish(self):
                try:
                    super().finish()
                finally:
                    outer.stats_.connection(-1)

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.serve(send_body=False)

            def do_GET(self):
                self.serve(send_body=True)

            def record(self, status, nbytes):
                with outer.stats_.lock:
                    outer.stats_.requests.append((time.monotonic(), self.path, status, nbytes))
                    outer.stats_.bytes_sent += nbytes

            def serve(self, send_body):
                name = self.path.split("?", 1)[0].lstrip("/")
                if name in ("_stats", "_reset"):
                    if name == "_reset":
                        outer.reset_stats()
                    body = json.dumps(outer.stats()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                path = outer.folder / name
                if ".." in name.split("/") or not path.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.record(404, 0)
                    return
                size = path.stat().st_size
                etag = f'"{outer.etag(path)}"'
                if etag in [t.strip() for t in (self.headers.get("If-None-Match") or "").split(",")]:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    self.record(304, 0)
                    return
                start = 0
                wanted = self.headers.get("Range") or ""
                if_range = self.headers.get("If-Range")
                if wanted.startswith("bytes=") and wanted.endswith("-") and (not if_range or if_range == etag):
                    start = int(wanted[6:-1])
                if start >= size and start:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.record(416, 0)
                    return
                status = 206 if start else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size - start))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", etag)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                self.end_headers()
                sent = 0
                if send_body:
                    self.wfile.flush()
                    with open(path, "rb") as f:
                        offset = start
                        try:
                            while offset < size:
                                n = min(CHUNK, size - offset)
                                if self.bucket:
                                    self.bucket.take(n)
                                if total_bucket:
                                    total_bucket.take(n)
                                done = os.sendfile(self.connection.fileno(), f.fileno(), offset, n)
                                if done <= 0:
                                    break
                                offset += done
                                sent += done
                        except OSError:
                            self.close_connection = True
                self.record(status, sent)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 1024

        self.server = Server((bind, port), Handler)
        self.port = self.server.server_address[1]

    def etag(self, path):
        """SHA-1 hex of the file, cached by (path, size, mtime)."""
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self.etag_lock:
            if key not in self.etags:
                digest = hashlib.sha1()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
                self.etags[key] = digest.hexdigest()
            return self.etags[key]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self, name, host="127.0.0.1", port=None):
        return f"http://{host}:{port or self.port}/{name}"

    def stats(self):
        return self.stats_.snapshot()

    def reset_stats(self):
        self.stats_.reset()


def main():
    parser = argparse.ArgumentParser(description="benchmark file server (prints PORT=<n>)")
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, help="bytes/s per connection")
    parser.add_argument("--total-rate", type=float, help="bytes/s for all connections together")
    args = parser.parse_args()
    server = FileServer(args.folder, rate=args.rate, total_rate=args.total_rate, port=args.port)
    for path in pathlib.Path(args.folder).iterdir():
        if path.is_file():
            server.etag(path)  # hashed before the first client, not during its download
    print(f"PORT={server.port}", flush=True)
    server.server.serve_forever()


if __name__ == "__main__":
    main()
