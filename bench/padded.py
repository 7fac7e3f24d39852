"""The STAND-INs of Tests/standins padded to the size of the real downloads,
so that transfer time, disk writes and hashing cost what they would.

  agent        the Coder agent stand-in as a Python zip application
               (`#!/usr/bin/env python3` + a zip whose __main__.py is the
               stand-in), with a stored ASCII padding member: it runs as fast
               as the unpadded one (Python reads only the zip's directory)
               and the Coder stand-in serves it as its agent binary.
  code-server  the code-server stand-in tarball (make-tarball.sh) with
               lib/padding.bin, random bytes, so the .tar.gz is as big.

Both are reproducible (seeded padding) and cached under .cache/bench.
"""
import base64
import io
import pathlib
import random
import subprocess
import sys
import tarfile
import zipfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "standins"))
sys.path.insert(0, str(REPO / "scripts" / "lib"))
import standins  # noqa: E402

CACHE = REPO / ".cache" / "bench"
MiB = 2**20


def agent(size=60 * MiB, folder=CACHE):
    """Path of the padded agent stand-in (about `size` bytes)."""
    out = pathlib.Path(folder) / f"coder-agent-standin-{size // MiB}MiB"
    if out.exists():
        return out
    source = standins.AGENT_STANDIN.read_bytes()
    # base64 of seeded random bytes: ASCII (the stand-in decodes itself as
    # text to find its arch) and not compressible much by a proxy.
    padding_length = size - len(source) - 4096
    padding = base64.b64encode(random.Random(60).randbytes(padding_length * 3 // 4))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.writestr("__main__.py", source)
        z.writestr("padding.txt", padding)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(b"#!/usr/bin/env python3\n" + archive.getvalue())
    tmp.chmod(0o755)
    tmp.rename(out)
    return out


def code_server_tarball(version, arch="amd64", size=100 * MiB, folder=CACHE):
    """Path of code-server-VERSION-linux-ARCH.tar.gz (about `size` bytes) in
    folder/code-server-<size>MiB/, the name the daemon's downloadURL expects."""
    out_dir = pathlib.Path(folder) / f"code-server-{size // MiB}MiB"
    name = f"code-server-{version}-linux-{arch}"
    out = out_dir / f"{name}.tar.gz"
    if out.exists():
        return out
    plain = standins.build_code_server_tarball(version, arch, out_dir / "plain")
    tmp = out.with_suffix(".tmp")
    with tarfile.open(plain) as src, open(tmp, "wb") as raw:
        gzip = subprocess.Popen(["gzip", "-n", "-1"], stdin=subprocess.PIPE, stdout=raw)
        with tarfile.open(fileobj=gzip.stdin, mode="w|") as dst:
            for member in src.getmembers():
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            pad = tarfile.TarInfo(f"{name}/lib/padding.bin")
            pad.size = size - plain.stat().st_size - 64 * 1024
            pad.mode, pad.mtime = 0o644, 0
            dst.addfile(pad, io.BytesIO(random.Random(100).randbytes(pad.size)))
        gzip.stdin.close()
        if gzip.wait() != 0:
            raise RuntimeError("gzip failed")
    tmp.rename(out)
    return out


if __name__ == "__main__":
    print(agent())
    print(code_server_tarball("4.96.4"))
