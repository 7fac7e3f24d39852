"""Each package installed into, and removed from, a copy of the Debian 12
test image's root by its own tool (rpm, pacman, the tarball's install.sh),
with no boot: what lands where, that the package's own scriptlets enable the
unit, and that removal takes it all away again. See package_tools for why
rpm and pacman run without dependency checks here."""
import os
import pathlib

import pytest

from package_tools import ENABLED_LINK, LAYOUT, install, remove, run, unpack_tarball

UNITS = ("coder-vm-bootstrap.service", "code-server@.service", "coder-agent@.service")


def tree(root, under):
    base = pathlib.Path(root) / under.lstrip("/")
    return sorted(str(p.relative_to(root)) for p in base.rglob("*")) if base.exists() else []


@pytest.mark.parametrize("kind", ["rpm", "pacman", "tarball"])
def test_install_puts_the_files_in_place_and_its_own_scriptlets_enable_the_unit(kind, built, overlay_root, tmp_path):
    assert not (overlay_root / ENABLED_LINK).is_symlink()
    install(kind, overlay_root, built[kind], tmp_path)
    layout = LAYOUT[kind]
    binary = overlay_root / layout["binary"].lstrip("/")
    assert binary.is_file() and os.access(binary, os.X_OK)
    unit_dir = pathlib.Path(layout["unit"]).parent
    for unit in UNITS:
        assert (overlay_root / unit_dir.relative_to("/") / unit).is_file(), unit
    # The enablement symlink exists before any boot: the package made it, not
    # systemd's first-boot preset run.
    link = overlay_root / ENABLED_LINK
    assert link.is_symlink()
    assert os.readlink(link).endswith(f"systemd/system/{ENABLED_LINK.name}")
    assert (overlay_root / os.readlink(link).lstrip("/")).resolve() == (overlay_root / layout["unit"].lstrip("/")).resolve()


@pytest.mark.parametrize("kind", ["rpm", "pacman", "tarball"])
def test_removal_disables_the_unit_and_takes_every_file_away(kind, built, overlay_root, tmp_path):
    before = {under: tree(overlay_root, under) for under in ("/usr/bin", "/usr/lib/systemd", "/usr/local", "/usr/share/man/man8")}
    install(kind, overlay_root, built[kind], tmp_path / "install")
    remove(kind, overlay_root, built[kind], tmp_path / "remove")
    assert not (overlay_root / ENABLED_LINK).is_symlink()
    after = {under: tree(overlay_root, under) for under in before}
    for under in before:
        leftovers = sorted(set(after[under]) - set(before[under]))
        # install.sh leaves the /usr/local folders it may have created, as
        # `make install`-style installers do; no file.
        leftovers = [p for p in leftovers if not (overlay_root / p).is_dir()]
        assert not leftovers, (under, leftovers)


def test_install_sh_twice_leaves_the_same_root_as_once(built, overlay_root, tmp_path):
    install("tarball", overlay_root, built["tarball"], tmp_path / "first")
    snapshot = {p: (overlay_root / p).read_bytes() for p in tree(overlay_root, "/usr/local") if (overlay_root / p).is_file()}
    install("tarball", overlay_root, built["tarball"], tmp_path / "second")
    again = {p: (overlay_root / p).read_bytes() for p in tree(overlay_root, "/usr/local") if (overlay_root / p).is_file()}
    assert again == snapshot
    assert not [p for p in tree(overlay_root, "/usr/local") if p.endswith(".new")]
    assert (overlay_root / ENABLED_LINK).is_symlink()
    remove("tarball", overlay_root, built["tarball"], tmp_path / "third")
    remove("tarball", overlay_root, built["tarball"], tmp_path / "fourth")  # a second uninstall is no error


def test_install_sh_points_every_unit_at_the_binary_it_installed(built, overlay_root, tmp_path):
    install("tarball", overlay_root, built["tarball"], tmp_path)
    for unit in UNITS:
        text = (overlay_root / "usr/local/lib/systemd/system" / unit).read_text()
        assert "/usr/bin/coder-vm-bootstrap" not in text, unit
    service = (overlay_root / "usr/local/lib/systemd/system/coder-vm-bootstrap.service").read_text()
    assert "ExecStart=/usr/local/bin/coder-vm-bootstrap run" in service
    agent = (overlay_root / "usr/local/lib/systemd/system/coder-agent@.service").read_text()
    assert "ExecStartPre=+/usr/local/bin/coder-vm-bootstrap " in agent


def test_install_sh_writes_nothing_outside_usr_local_and_the_enablement_link(built, image_dir, tmp_path):
    # A fresh overlay whose upper layer shows exactly what install.sh wrote.
    layers = {d: tmp_path / d for d in ("upper", "work", "root")}
    for path in layers.values():
        path.mkdir()
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={image_dir / 'rootfs'},upperdir={layers['upper']},workdir={layers['work']}", layers["root"]])
    try:
        install("tarball", layers["root"], built["tarball"], tmp_path / "unpacked")
    finally:
        run(["umount", layers["root"]])
    written = sorted("/" + str(p.relative_to(layers["upper"])) for p in layers["upper"].rglob("*") if not p.is_dir())
    assert written == sorted([
        "/usr/local/bin/coder-vm-bootstrap",
        "/usr/local/lib/systemd/system/code-server@.service",
        "/usr/local/lib/systemd/system/coder-agent@.service",
        "/usr/local/lib/systemd/system/coder-vm-bootstrap.service",
        "/usr/local/share/man/man8/coder-vm-bootstrap.8",
        "/" + str(ENABLED_LINK),
    ])


def test_install_sh_refuses_what_it_cannot_do(built, tmp_path):
    script = unpack_tarball(built["tarball"], tmp_path) / "install.sh"
    missing = run(["sh", "-c", f"'{script}' --root /nonexistent; echo rc=$?"]).stdout
    assert "rc=1" in missing
    unknown = run(["sh", "-c", f"'{script}' --frobnicate 2>&1; echo rc=$?"]).stdout
    assert "unknown argument: --frobnicate" in unknown and "rc=1" in unknown
    (script.parent / "units" / "coder-agent@.service").unlink()
    incomplete = run(["sh", "-c", f"'{script}' --root '{tmp_path}' 2>&1; echo rc=$?"]).stdout
    assert "units/coder-agent@.service is missing" in incomplete and "rc=1" in incomplete
