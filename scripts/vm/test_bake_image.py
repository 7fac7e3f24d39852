"""bake-image.sh installs a .deb into a copy of the image and makes a new disk,
cached by the .deb's SHA-256; the baked rootfs boots under the nspawn harness
with the package's unit enabled.

Run (root; about 30 s; set BAKE_CACHE=DIR to keep the bake between runs):
    IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q scripts/vm/test_bake_image.py
"""
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
import nspawn
import vmrunner

BAKE = HERE / "bake-image.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chroot, mounts)")


def make_probe_deb(outdir, version="1.0"):
    """A trivial package shaped like the project's: a file, a systemd unit and a
    postinst that enables it the way dh_installsystemd does."""
    root = outdir / f"probe-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr/share/bake-probe").mkdir(parents=True)
    (root / "lib/systemd/system").mkdir(parents=True)
    (root / "usr/share/bake-probe/hello").write_text(f"baked {version}\n")
    (root / "lib/systemd/system/bake-probe.service").write_text(
        "[Unit]\nDescription=bake probe\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
        "ExecStart=/bin/sh -c 'cat /usr/share/bake-probe/hello > /run/bake-probe'\n"
        "[Install]\nWantedBy=multi-user.target\n")
    (root / "DEBIAN/control").write_text(
        f"Package: bake-probe\nVersion: {version}\nArchitecture: all\nMaintainer: tests <tests@example.invalid>\n"
        "Depends: systemd, python3\nDescription: probe package for bake-image.sh tests\n")
    postinst = root / "DEBIAN/postinst"
    postinst.write_text("#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n"
                        "  deb-systemd-helper enable bake-probe.service\nfi\n")
    postinst.chmod(0o755)
    deb = outdir / f"bake-probe_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    return deb


def bake(image, deb, outdir):
    out = subprocess.run([str(BAKE), str(image), str(deb), str(outdir)], check=True, capture_output=True,
                         text=True)
    return pathlib.Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def bake_dir(tmp_path):
    """$BAKE_CACHE (kept between runs) or a temporary folder removed afterwards
    (a bake is about 1 GB)."""
    if os.environ.get("BAKE_CACHE"):
        yield pathlib.Path(os.environ["BAKE_CACHE"])
        return
    yield tmp_path / "baked"
    shutil.rmtree(tmp_path / "baked", ignore_errors=True)


def test_baked_image_has_the_package_and_boots_with_its_unit(tmp_path, bake_dir):
    image = vmrunner.find_image()
    outdir = bake_dir
    deb = make_probe_deb(tmp_path)
    baked = bake(image, deb, outdir)
    for f in ("rootfs", "disk.img", "vmlinuz", "initrd.img", "cmdline", "done"):
        assert (baked / f).exists(), f
    info = json.loads((baked / "baked.json").read_text())
    assert info["package"] == "bake-probe" and info["version"] == "1.0"
    assert (baked / "rootfs/usr/share/bake-probe/hello").read_text() == "baked 1.0\n"
    assert (baked / "rootfs/etc/systemd/system/multi-user.target.wants/bake-probe.service").is_symlink()
    assert not (image / "rootfs/usr/share/bake-probe").exists()  # the base is untouched
    # The disk image was made from the baked tree.
    stat = subprocess.run(["debugfs", "-R", "cat /usr/share/bake-probe/hello", str(baked / "disk.img")],
                          capture_output=True, text=True)
    assert stat.stdout == "baked 1.0\n"

    # Cached: the same .deb gives the same folder at once.
    started = time.monotonic()
    assert bake(image, deb, outdir) == baked
    assert time.monotonic() - started < 5

    with nspawn.Container(baked / "rootfs") as c:
        assert c.system_state() == "running", c.run(["systemctl", "--failed"]).stdout
        assert c.read_file("/run/bake-probe") == "baked 1.0\n"
        assert c.run(["dpkg-query", "-W", "-f", "${Version}", "bake-probe"]).stdout == "1.0"


def test_bake_refuses_what_is_not_a_deb(tmp_path):
    image = vmrunner.find_image()
    junk = tmp_path / "junk.deb"
    junk.write_text("not a deb")
    out = subprocess.run([str(BAKE), str(image), str(junk), str(tmp_path / "out")], capture_output=True, text=True)
    assert out.returncode == 2 and "not a .deb" in out.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
