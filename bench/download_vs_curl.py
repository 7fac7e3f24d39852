"""The daemon's download library against the curl CLI, same run: a 1 GiB
file from bench/fileserver.py on loopback (no rate limit, sendfile), into
a tmpfs (the disk is not what is measured), alternating the clients
(every other run in the reverse order), `runs` times each (5: on this shared host two runs in a row can be slow for
every client). bench-fetch is Fetch used as the daemon uses it: without a
checksum to hold the file to (as the agent's binary, revalidated by ETag)
beside `curl -o`, and with one (`--sha256`, as a pinned code-server
tarball: hashed while it arrives) beside `curl -o` then `openssl dgst
-sha256` (the same libcrypto). Wall
seconds and CPU seconds (user + system, from wait4) per client, medians and
ratios to curl.
"""
import hashlib
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

from fileserver import FileServer

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
BENCH_FETCH = REPO / ".build" / "release" / "bench-fetch"
GiB = 2**30


def big_file(size=GiB, folder=REPO / ".cache" / "bench" / "big"):
    path = pathlib.Path(folder) / f"{size // 2**20}MiB.bin"
    if not path.exists() or path.stat().st_size != size:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as f:
            for _ in range(size // (16 * 2**20)):
                f.write(os.urandom(16 * 2**20))
        path.with_suffix(".tmp").rename(path)
    return path


def sha256_of(path):
    """The file's digest, kept beside it (hashing 1 GiB takes seconds)."""
    kept = path.with_suffix(".sha256")
    if kept.exists() and kept.stat().st_mtime >= path.stat().st_mtime:
        return kept.read_text().strip()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    kept.write_text(digest.hexdigest())
    return digest.hexdigest()


def timed(cmd):
    """Runs cmd; returns (wall seconds, CPU seconds of it and its children)."""
    start = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd[0]} failed: {child.stderr.read().decode()[-400:]}")
    child.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def run(runs=5, size=GiB, log=print):
    source = big_file(size)
    server = FileServer(source.parent).start()
    server.etag(source)
    target = pathlib.Path(tempfile.mkdtemp(prefix="bench-download-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * 2 + 64 * 2**20}", "bench-download", str(target)], check=True)
    url = server.url(source.name)
    digest = sha256_of(source)
    out = target / "file"
    clients = {
        "curl -o": lambda: timed(["curl", "-fsS", "-o", str(out), url]),
        "curl -o && openssl dgst": lambda: tuple(map(sum, zip(timed(["curl", "-fsS", "-o", str(out), url]),
                                                               timed(["openssl", "dgst", "-sha256", str(out)])))),
        "bench-fetch (Fetch)": lambda: timed([str(BENCH_FETCH), url, str(out), "--revalidate", "never"]),
        "bench-fetch --sha256": lambda: timed([str(BENCH_FETCH), url, str(out), "--revalidate", "never",
                                               "--sha256", digest]),
    }
    samples = {name: [] for name in clients}
    try:
        for i in range(runs):
            # Every other run in the reverse order: no client always follows the same one
            # (within one run, the client after `openssl dgst` came out 8% slower).
            order = list(clients.items()) if i % 2 == 0 else list(reversed(clients.items()))
            for name, client in order:
                for leftover in target.iterdir():
                    leftover.unlink()
                wall, cpu = client()
                if out.stat().st_size != size:
                    raise RuntimeError(f"{name} wrote {out.stat().st_size} bytes, not {size}")
                samples[name].append({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)})
                log(f"  run {i + 1} {name:<22} {wall:6.2f} s wall {cpu:6.2f} s CPU {size / wall / 2**20:7.0f} MiB/s")
    finally:
        subprocess.run(["umount", str(target)], check=False)
        target.rmdir()
        server.stop()
    med = {name: {k: statistics.median(s[k] for s in runs_) for k in ("wall_s", "cpu_s")}
           for name, runs_ in samples.items()}
    base = med["curl -o"]
    for name, m in med.items():
        m["wall_ratio_to_curl"] = round(m["wall_s"] / base["wall_s"], 2)
        m["cpu_ratio_to_curl"] = round(m["cpu_s"] / base["cpu_s"], 2)
        m["mib_per_s"] = round(size / m["wall_s"] / 2**20)
        # The target's form: throughput as a share of curl's (>= 0.95).
        m["speed_of_curl"] = round(base["wall_s"] / m["wall_s"], 2)
    like = med["curl -o && openssl dgst"]
    med["bench-fetch --sha256"]["speed_of_curl_and_openssl"] = round(like["wall_s"] / med["bench-fetch --sha256"]["wall_s"], 2)
    return {"bytes": size, "runs": runs, "samples": samples, "medians": med}
