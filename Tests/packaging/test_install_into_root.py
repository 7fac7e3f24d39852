"""Each package installed into, and removed from, a copy of the Debian 12
test image's root by its own tool (dpkg, rpm, pacman, the tarball's
install.sh), with no boot: what lands where, that the package's own
scriptlets enable the service and its path unit, and that removal takes it
all away again. See package_tools for why rpm and pacman run without
dependency checks here."""
import os
import pathlib

import pytest

from package_tools import ENABLED_LINKS, LAYOUT, PATH_UNIT, UNIT, UNITS, install, remove, run, unpack_tarball

KINDS = ["deb", "rpm", "pacman", "tarball"]


def tree(root, under):
    base = pathlib.Path(root) / under.lstrip("/")
    return sorted(str(p.relative_to(root)) for p in base.rglob("*")) if base.exists() else []


def installed_unit(root, kind, unit):
    return pathlib.Path(root) / LAYOUT[kind]["unit_dir"].lstrip("/") / unit


def enabled(root, unit):
    """The unit's enablement link in `root`, pointing at its unit file there."""
    link = pathlib.Path(root) / ENABLED_LINKS[unit]
    return link.is_symlink() and os.readlink(link).endswith(f"systemd/system/{unit}")


@pytest.mark.parametrize("kind", KINDS)
def test_install_puts_the_files_in_place_and_its_own_scriptlets_enable_the_service_and_its_path_unit(kind, built, overlay_root, tmp_path):
    assert not any(enabled(overlay_root, unit) for unit in ENABLED_LINKS)
    install(kind, overlay_root, built[kind], tmp_path)
    binary = overlay_root / LAYOUT[kind]["binary"].lstrip("/")
    assert binary.is_file() and os.access(binary, os.X_OK)
    for unit in UNITS:
        assert installed_unit(overlay_root, kind, unit).is_file(), unit
    # The enablement symlinks (multi-user.target.wants for the service,
    # paths.target.wants for the path unit) exist before any boot: the
    # package made them, not systemd's first-boot preset run.
    for unit, link in ENABLED_LINKS.items():
        assert enabled(overlay_root, unit), f"{kind} did not enable {unit}"
        target = overlay_root / os.readlink(overlay_root / link).lstrip("/")
        assert target.resolve() == installed_unit(overlay_root, kind, unit).resolve(), unit


@pytest.mark.parametrize("kind", KINDS)
def test_removal_disables_both_units_and_takes_every_file_away(kind, built, overlay_root, tmp_path):
    before = {under: tree(overlay_root, under) for under in ("/usr/bin", "/usr/lib/systemd", "/usr/local", "/usr/share/man/man8")}
    install(kind, overlay_root, built[kind], tmp_path / "install")
    remove(kind, overlay_root, built[kind], tmp_path / "remove")
    for unit, link in ENABLED_LINKS.items():
        assert not (overlay_root / link).is_symlink(), unit
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
    assert all(enabled(overlay_root, unit) for unit in ENABLED_LINKS)
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
        "/usr/local/lib/systemd/system/coder-vm-bootstrap.path",
        "/usr/local/lib/systemd/system/coder-vm-bootstrap.service",
        "/usr/local/share/man/man8/coder-vm-bootstrap.8",
        *("/" + str(link) for link in ENABLED_LINKS.values()),
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


def test_deb_upgrade_keeps_an_administrators_disable_of_either_unit(built, overlay_root, tmp_path):
    install("deb", overlay_root, built["deb"], tmp_path)
    run(["systemctl", "--root", overlay_root, "disable", UNIT])
    assert not enabled(overlay_root, UNIT) and enabled(overlay_root, PATH_UNIT)
    # The same package again: dpkg runs postinst `configure <old version>`, an upgrade.
    install("deb", overlay_root, built["deb"], tmp_path)
    assert not enabled(overlay_root, UNIT), "the upgrade enabled the service again"
    assert enabled(overlay_root, PATH_UNIT)
    run(["systemctl", "--root", overlay_root, "disable", PATH_UNIT])
    install("deb", overlay_root, built["deb"], tmp_path)
    assert not enabled(overlay_root, PATH_UNIT), "the upgrade enabled the path unit again"


def test_deb_removal_masks_neither_unit_and_the_purge_forgets_their_enablement(built, overlay_root, tmp_path):
    state = overlay_root / "var/lib/systemd/deb-systemd-helper-enabled"
    install("deb", overlay_root, built["deb"], tmp_path)
    assert [p for p in state.rglob("coder-vm-bootstrap*")], "deb-systemd-helper recorded no state"
    run(["dpkg", "--root", overlay_root, "--remove", "coder-vm-bootstrap"])
    assert not installed_unit(overlay_root, "deb", UNIT).exists()
    # No /dev/null link in /etc/systemd/system that would hide a unit of the
    # same name (debhelper 13.10 stopped masking, Debian bug #1021027).
    for unit in ENABLED_LINKS:
        assert not (overlay_root / "etc/systemd/system" / unit).is_symlink(), unit
    install("deb", overlay_root, built["deb"], tmp_path)
    assert all(enabled(overlay_root, unit) for unit in ENABLED_LINKS)
    remove("deb", overlay_root, built["deb"], tmp_path)
    assert not [p for p in state.rglob("coder-vm-bootstrap*")], "deb-systemd-helper state left after the purge"
