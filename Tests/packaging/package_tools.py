"""Installing and removing each package into a root directory with that
package's own tool, run on this (Debian) host against the root: rpm, pacman,
and the tarball's install.sh. rpm and pacman run the package's scriptlets
chrooted into the root, as they do when an image is built.

The root is Debian's, so neither rpm nor pacman has a database there that
knows libcurl, systemd-libs or openssl: dependency checks are off (rpm
--nodeps, pacman -dd). What this proves is the packages' file layout and
scriptlets on a systemd root, not dependency resolution on Fedora, EL9 or
Arch (packaging/targets.tsv and scripts/check-portability.sh cover what the
binary needs there).
"""
import pathlib
import subprocess
import tarfile

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = REPO / "out"
UNIT = "coder-vm-bootstrap.service"
ENABLED_LINK = pathlib.Path("etc/systemd/system/multi-user.target.wants") / UNIT
# Where each package puts the daemon and its unit.
LAYOUT = {
    "rpm": {"binary": "/usr/bin/coder-vm-bootstrap", "unit": "/usr/lib/systemd/system/" + UNIT},
    "pacman": {"binary": "/usr/bin/coder-vm-bootstrap", "unit": "/usr/lib/systemd/system/" + UNIT},
    "tarball": {"binary": "/usr/local/bin/coder-vm-bootstrap", "unit": "/usr/local/lib/systemd/system/" + UNIT},
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
    if kind == "rpm":
        return run(["rpm", "-i", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "--nosignature", package])
    if kind == "pacman":
        (root / "var/lib/pacman").mkdir(parents=True, exist_ok=True)
        return _pacman(root, "-U", "--nodeps", "--nodeps", package)
    if kind == "tarball":
        return run(["sh", unpack_tarball(package, scratch) / "install.sh", "--root", root])
    raise ValueError(kind)


def remove(kind, root, package, scratch):
    root = pathlib.Path(root)
    if kind == "rpm":
        return run(["rpm", "-e", "--root", root, "--dbpath", "/var/lib/rpm", "--nodeps", "coder-vm-bootstrap"])
    if kind == "pacman":
        return _pacman(root, "-R", "--nodeps", "--nodeps", "coder-vm-bootstrap")
    if kind == "tarball":
        return run(["sh", unpack_tarball(package, scratch) / "install.sh", "--uninstall", "--root", root])
    raise ValueError(kind)
