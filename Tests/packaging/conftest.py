"""Fixtures for the package tests: the four packages `make packages` built
into out/ (this fails, rather than skips, when they are missing), and roots
to install them into: an overlay over the Debian 12 test image's rootfs
(scripts/build-image.sh; IMAGE_CACHE=/work/main/.cache/image reuses a built one).

    IMAGE_CACHE=/work/main/.cache/image make package-test
"""
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent
import nspawn
from package_tools import OUT, REPO


def packaging_names():
    """The version and the four file names, as packaging/lib.sh computes them."""
    script = ('source packaging/lib.sh && printf "%s\\n" "$version" "$deb_file" "$rpm_file" '
              '"$pacman_file" "$tarball_file" "$tarball_name"')
    out = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"packaging/lib.sh: {out.stderr.strip()}")
    version, deb, rpm, pacman, tarball, top = out.stdout.split()
    return {"version": version, "deb": OUT / deb, "rpm": OUT / rpm, "pacman": OUT / pacman,
            "tarball": OUT / tarball, "tarball_top": top}


@pytest.fixture(scope="session")
def built():
    names = packaging_names()
    missing = [str(names[k]) for k in ("deb", "rpm", "pacman", "tarball") if not names[k].is_file()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)}; run `make packages` (or `make package-test`)")
    return names


@pytest.fixture(scope="session")
def image_dir():
    reason = nspawn.can_run()
    if reason:
        pytest.skip(f"package installs into the test image's root: {reason}")
    nspawn.cleanup_stale()
    return nspawn.find_image()


@pytest.fixture
def overlay_root(image_dir, tmp_path):
    """A writable copy of the image's rootfs (an overlay; the image is never
    written), for installs that need no boot."""
    layers = {d: tmp_path / d for d in ("upper", "work", "root")}
    for path in layers.values():
        path.mkdir()
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={image_dir / 'rootfs'},upperdir={layers['upper']},workdir={layers['work']}",
                    str(layers["root"])], check=True)
    try:
        yield layers["root"]
    finally:
        subprocess.run(["umount", str(layers["root"])], check=True)
