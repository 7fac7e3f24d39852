#!/usr/bin/env python3
"""Fetch against the curl CLI on loopback: ratios, not seconds.

Serves one random file (1 GiB by default) from a sendfile(2) server in this
process, then downloads it alternately with `curl -s -o` and with fetch-bench
(Fetch with the daemon's defaults: SHA-256 while streaming, fsync and
atomic rename), ROUNDS times each, and prints the medians of
  throughput  curl wall time / Fetch wall time   (target >= 0.95)
  cpu         Fetch user+sys / curl user+sys     (the extra work Fetch does)
Both clients run against the same server in the same run, so machine load
moves both; on a loaded machine use more rounds. With perf(1) at hand, one
more run of each is sampled per thread (cpu-clock, 1 ms per sample), which
load does not skew the way it skews wall time:
  busiest thread  curl CPU / CPU of Fetch's busiest thread  (what the
                  throughput ratio is when the CPU is the limit and a second
                  core is free: Fetch hashes on a thread of its own)

Usage: bench/download_vs_curl.py [--mib 1024] [--rounds 5] [--dir /dev/shm]
       (--dir on a disk file system adds the cost of Fetch's fsync, which
       curl -o does not do)
Builds fetch-bench first: swift build -c release --product fetch-bench.
"""
import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SendfileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    path_to_serve = ""

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        size = os.path.getsize(self.path_to_serve)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.flush()
        with open(self.path_to_serve, "rb") as f:
            self.connection.sendfile(f)


def timed(command):
    """Wall seconds and the child's user+sys CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout.decode().strip()


def thread_cpu_ms(command, work):
    """CPU milliseconds of each thread of `command`, busiest first (perf record)."""
    data = os.path.join(work, "perf.data")
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-c", "1000000", "-o", data, "--"] + command,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    report = subprocess.run(["perf", "report", "-i", data, "--sort", "pid", "--stdio", "-q", "-n"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    os.unlink(data)
    return sorted((int(line.split()[1]) for line in report.splitlines() if line.strip()), reverse=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", default="/dev/shm")
    args = parser.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "fetch-bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                              stdout=subprocess.PIPE).stdout.decode().strip()
    fetch_bench = os.path.join(bin_path, "fetch-bench")

    work = tempfile.mkdtemp(prefix="download-vs-curl-", dir=args.dir)
    try:
        source = os.path.join(work, "source.bin")
        digest = hashlib.sha256()
        with open(source, "wb") as f:
            for _ in range(args.mib):
                block = os.urandom(1 << 20)
                digest.update(block)
                f.write(block)
        expected = digest.hexdigest()
        SendfileHandler.path_to_serve = source
        server = ThreadingHTTPServer(("127.0.0.1", 0), SendfileHandler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/source.bin" % server.server_address[1]
        output = os.path.join(work, "out.bin")

        clients = {
            "curl": ["curl", "-s", "-o", output, url],
            "fetch": [fetch_bench, url, output],
        }
        samples = {name: [] for name in clients}
        for round in range(args.rounds):
            order = list(clients) if round % 2 == 0 else list(reversed(clients))
            for name in order:
                wall, cpu, printed = timed(clients[name])
                size = os.path.getsize(output)
                if size != args.mib << 20 or (name == "fetch" and printed != expected):
                    sys.exit("%s downloaded a wrong file (%d bytes, %s)" % (name, size, printed))
                os.unlink(output)
                samples[name].append((wall, cpu))

        throughput = statistics.median(c[0] / f[0] for c, f in zip(samples["curl"], samples["fetch"]))
        cpu = statistics.median(f[1] / c[1] for c, f in zip(samples["curl"], samples["fetch"]))
        print("%d MiB x %d rounds in %s, %s" % (args.mib, args.rounds, args.dir,
                                               subprocess.run(["curl", "--version"], stdout=subprocess.PIPE)
                                               .stdout.decode().split("\n")[0]))
        print("throughput, curl wall / Fetch wall: %.2f (target >= 0.95)" % throughput)
        print("cpu, Fetch user+sys / curl user+sys: %.2f" % cpu)
        if shutil.which("perf"):
            threads = {}
            for name, command in clients.items():
                threads[name] = thread_cpu_ms(command, work)
                os.unlink(output)
            print("busiest thread, curl CPU / Fetch's busiest thread CPU: %.2f (threads, ms: curl %s, Fetch %s)"
                  % (sum(threads["curl"]) / threads["fetch"][0], threads["curl"][:3], threads["fetch"][:3]))
        server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
