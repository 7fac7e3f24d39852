"""Each package installed by its own tool into a copy of the Debian 12 test
image's root, then that root booted under systemd-nspawn: the daemon starts
at boot because the package enabled it and its path unit (the .deb's
postinst with deb-systemd-helper, rpm's %post preset, Arch's post_install
preset, install.sh), with this boot's spec written to /run by cloud-init's
bootcmd, as in a workspace VM, and reaches READY=1 against the stand-ins of
Tests/standins (code-server, the Coder server and agent, named as such).
Nothing here copies the binary or units by hand or enables or starts a unit.

This proves the packages' file layout and scriptlets on a Debian root with a
real systemd; it does not prove anything about Fedora, EL9 or Arch roots
(no such images can be had here): their dependency checks are off
(package_tools).
"""
import json
import pathlib

import pytest

from package_tools import ENABLED_LINKS, LAYOUT, PATH_UNIT, UNIT, install, unpack_tarball

HERE = pathlib.Path(__file__).resolve().parent
import nspawn
from processes import wait_until
# The system test's stand-ins and spec (test_daemon.install() also copies the
# binary and units, which the package must do here, so only these are reused).
from test_daemon import CODER_PORT, FILES_PORT, USER, spec, stand_ins


def bootcmd_user_data(document):
    """cloud-config whose bootcmd writes the spec into /run on every boot,
    the way coder-vm-seed's Secret does (no runcmd: enabling and starting
    the unit is left to the package)."""
    script = ("umask 077\nmkdir -p /run/coder-vm-bootstrap\n"
              "cat > /run/coder-vm-bootstrap/spec.json <<'SPEC'\n"
              f"{json.dumps(document, separators=(',', ':'))}\nSPEC\n")
    indented = "".join(f"      {line}\n" for line in script.splitlines())
    return f"#cloud-config\nbootcmd:\n  - |\n{indented}"


class PackagedContainer(nspawn.Container):
    """A container whose root gets a package installed, by a host tool,
    after the overlay is mounted and before systemd boots it."""

    def __init__(self, rootfs, *, before_boot, **kwargs):
        super().__init__(rootfs, **kwargs)
        self.before_boot = before_boot

    def _install(self):
        super()._install()
        self.before_boot(self)


@pytest.fixture
def boot_with(image_dir, stand_ins, tmp_path):
    made = []

    def boot(kind, package):
        seen = {}

        def install_package(c):
            install(kind, c.root, package, tmp_path / "scratch")
            # What the package did, before systemd ever ran in this root.
            seen["enabled_before_boot"] = {unit: c.host_path("/" + str(link)).is_symlink()
                                           for unit, link in ENABLED_LINKS.items()}

        c = PackagedContainer(image_dir / "rootfs", name=f"pkg-{kind}", before_boot=install_package,
                              user_data=bootcmd_user_data(spec(stand_ins, f"token-{kind}")), boot_timeout=420)
        made.append(c)
        c.start(wait=False)
        # The relays to the host's stand-ins exist once the container has its
        # loopback (systemd sets it up first thing), well before the daemon
        # starts after network-online.target.
        wait_until(lambda: c.forward_to_host(CODER_PORT, stand_ins["coder"].port), 30, interval=0.05,
                   message="the container's loopback for the Coder stand-in relay")
        c.forward_to_host(FILES_PORT, stand_ins["files"].port)
        # multi-user.target waits for the daemon's READY=1 (Type=notify).
        c.wait_for_system(c.boot_timeout)
        return c, seen

    yield boot
    for c in made:
        c.stop()


@pytest.mark.parametrize("kind", ["deb", "rpm", "pacman", "tarball"])
def test_installed_by_its_own_tool_the_daemon_and_its_path_unit_are_enabled_and_it_boots_to_ready(kind, built, boot_with):
    c, seen = boot_with(kind, built[kind])
    assert seen["enabled_before_boot"] == {UNIT: True, PATH_UNIT: True}, "the package's scriptlets did not enable both units"
    layout = LAYOUT[kind]
    for unit in (UNIT, PATH_UNIT):
        assert c.unit_property(unit, "UnitFileState") == "enabled", unit
        # Debian's systemd also searches /lib/systemd/system (the same folder, merged /usr).
        fragment = c.unit_property(unit, "FragmentPath")
        assert c.run(["realpath", fragment]).stdout == c.run(["realpath", f"{layout['unit_dir']}/{unit}"]).stdout, fragment
    # Started by paths.target at boot, watching for (now: holding) this boot's spec.
    assert c.systemctl("is-active", PATH_UNIT, check=False).stdout.strip() == "active", c.journal(PATH_UNIT)
    assert f"path={layout['binary']} " in c.unit_property(UNIT, "ExecStart")
    assert c.systemctl("is-active", UNIT, check=False).stdout.strip() == "active", c.journal(UNIT)
    assert c.unit_property(UNIT, "StatusText").startswith("ready: "), c.journal(UNIT)
    # Started by boot, once: nobody here ran `systemctl start`.
    assert c.unit_property(UNIT, "NRestarts") == "0"
    status = json.loads(c.run([layout["binary"], "status", "--json"]).stdout)
    assert status["phase"] == "ready", status
    assert {x["state"] for x in status["components"]} == {"ready"}, status["components"]
    assert c.http_get(13380, "/readyz")[0] == 200
    # The agent unit runs the refresh through the installed binary.
    assert f"path={layout['binary']} " in c.unit_property(f"coder-agent@{USER}.service", "ExecStartPre")


def test_install_sh_on_a_running_system_restarts_the_daemon_with_the_new_files(built, boot_with, tmp_path):
    c, _ = boot_with("tarball", built["tarball"])
    before = c.unit_property(UNIT, "MainPID")
    top = unpack_tarball(built["tarball"], tmp_path / "again")
    for path in sorted(top.rglob("*")):
        if path.is_file():
            c.write_file(f"/root/{path.relative_to(top.parent)}", path.read_bytes(), mode=path.stat().st_mode & 0o777)
    out = c.run(["sh", f"/root/{top.name}/install.sh"])
    assert "installed into / and enabled" in out.stdout
    wait_until(lambda: c.unit_property(UNIT, "MainPID") not in ("0", before), 60, message="the daemon restarted")
    wait_until(lambda: c.unit_property(UNIT, "StatusText").startswith("ready: "), 180,
               interval=1, message="ready again after the upgrade")
    assert c.unit_property(UNIT, "UnitFileState") == "enabled"
    assert c.unit_property(PATH_UNIT, "UnitFileState") == "enabled"
    assert c.systemctl("is-active", PATH_UNIT, check=False).stdout.strip() == "active"
