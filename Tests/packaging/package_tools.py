"""Installing and removing each package into a root directory with that
package's own tool, run on this (Debian) host against the root: dpkg, rpm,
pacman, and the tarball's install.sh. dpkg, rpm and pacman run the package's
maintainer scripts chrooted into the root, as they do when an image is built.

The root is Debian 12's, so dpkg resolves the .deb's dependencies against
its database for real. Neither rpm nor pacman has a database there that
knows libcurl, systemd-libs or openssl: their dependency checks are off (rpm
--nodeps, pacman -dd). What this proves for them is the packages' file
layout and scriptlets on a systemd root, not dependency resolution on
Fedora, EL9 or Arch (packaging/targets.tsv and scripts/check-portability.sh
cover what the binary needs there).
"""
import pathlib
import subprocess
import tarfile

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = REPO / "out"
UNIT = "coder-vm-bootstrap.service"
PATH_UNIT = "coder-vm-bootstrap.path"
# The units every package ships.
UNITS = (UNIT, PATH_UNIT, "code-server@.service", "coder-agent@.service")
# The links that enabling the daemon's two units makes (their WantedBy=).
ENABLED_LINKS = {
    UNIT: pathlib.Path("etc/systemd/system/multi-user.target.wants") / UNIT,
    PATH_UNIT: pathlib.Path("etc/systemd/system/paths.target.wants") / PATH_UNIT,
}
# Where each package puts the daemon and its units.
LAYOUT = {
    "deb": {"binary": "/usr/bin/coder-vm-bootstrap", "unit_dir": "/lib/systemd/system"},
    "rpm": {"binary": "/usr/bin/coder-vm-bootstrap", "unit_dir": "/usr/lib/systemd/system"},
    "pacman": {"binary": "/usr/bin/coder-vm-bootstrap", "unit_dir": "/usr/lib/systemd/system"},
    "tarball": {"binary": "/usr/local/bin/coder-vm-bootstrap", "unit_dir": "/usr/local/lib/systemd/system"},
}
# An unsigned local package is accepted the way Arch's stock pacman.conf
# accepts one (LocalFileSigLevel = Optional); there are no repositories.
PACMAN_CONF = "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Optional\n"


def run(cmd, **kwargs):
    kwargs.setdefault("text", True)
    out = subprocess.run([str(c) for c in cmd], capture_output=True, **kwargs)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def _pacman(root, *args):
    conf = pathlib.Path(root) / "tmp" / "pacman-test.conf"
    conf.write_text(PACMAN_CONF)
    try:
        return run(["pacman", "--root", root, "--dbpath", pathlib.Path(root) / "var/lib/pacman",
                    "--config", conf, "--noconfirm", *args])
    finally:
        conf.unlink()


def unpack_tarball(tarball, into):
    """The tarball's single top folder, unpacked under `into`."""
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="tar")
        top = {pathlib.PurePosixPath(m.name).parts[0] for m in archive.getmembers()}
    assert len(top) == 1, top
    return pathlib.Path(into) / top.pop()


def install(kind, root, package, scratch):
    """Installs `package` (an out/ file) into `root` with its own tool."""
    root = pathlib.Path(root)
    if kind == "deb":
        return run(["dpkg", "--root", root, "--install", package])
    if kind == "rpm":
        return run(["rpm", "-i", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--nosignature", package])
    if kind == "pacman":
        (root / "var/lib/pacman").mkdir(parents=True, exist_ok=True)
        return _pacman(root, "-U", "--nodeps", "--nodeps", package)
    if kind == "tarball":
        return run(["sh", unpack_tarball(package, scratch) / "install.sh", "--root", root])
    raise ValueError(kind)


def remove(kind, root, package, scratch):
    """Removes it again; the .deb is purged (a plain `dpkg --remove` keeps
    its enablement links and state until the purge, as Debian does)."""
    root = pathlib.Path(root)
    if kind == "deb":
        return run(["dpkg", "--root", root, "--purge", "coder-vm-bootstrap"])
    if kind == "rpm":
        return run(["rpm", "-e", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "coder-vm-bootstrap"])
    if kind == "pacman":
        return _pacman(root, "-R", "--nodeps", "--nodeps", "coder-vm-bootstrap")
    if kind == "tarball":
        return run(["sh", unpack_tarball(package, scratch) / "install.sh", "--uninstall", "--root", root])
    raise ValueError(kind)
