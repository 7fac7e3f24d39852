"""Fixtures for system tests on a real systemd (systemd-nspawn); see nspawn.py.

Run as root, with the guest image cached, e.g.:
    IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q Tests/system
(or IMAGE_DIR=<folder printed by scripts/build-image.sh>).
"""

import pytest

import nspawn


@pytest.fixture(scope="session")
def image_dir():
    """The guest image folder (rootfs/, disk.img, ...); skips if containers cannot run here."""
    reason = nspawn.can_run()
    if reason:
        pytest.skip(f"systemd-nspawn tests: {reason}")
    nspawn.cleanup_stale()
    return nspawn.find_image()


@pytest.fixture
def container(image_dir, tmp_path):
    """Factory: container(**Container kwargs) boots one (rootfs defaults to the
    image's); every container it made is stopped at teardown."""
    made = []

    def boot(rootfs=None, **kwargs):
        c = nspawn.Container(rootfs or image_dir / "rootfs", **kwargs)
        made.append(c)
        return c.start()

    yield boot
    for c in made:
        c.stop()
