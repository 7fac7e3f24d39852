"""What each package holds and runs, read with its own family's tools:
dpkg-deb, rpm, pacman, tar. The packages are the ones `make packages` built."""
import hashlib
import subprocess
import tarfile

import pytest

from package_tools import PATH_UNIT, UNIT, UNITS, run


def lines(out):
    return [line for line in out.splitlines() if line.strip()]


def binary_from(kind, built, tmp_path):
    """The daemon as the package ships it, unpacked."""
    dest = tmp_path / kind
    dest.mkdir(parents=True)
    if kind == "deb":
        run(["dpkg-deb", "-x", built["deb"], dest])
        return dest / "usr/bin/coder-vm-bootstrap"
    if kind == "rpm":
        subprocess.run(f"rpm2cpio '{built['rpm']}' | cpio -idm --quiet", shell=True, cwd=dest, check=True)
        return dest / "usr/bin/coder-vm-bootstrap"
    if kind == "pacman":
        run(["bsdtar", "-xf", built["pacman"], "-C", dest, "usr/bin/coder-vm-bootstrap"])
        return dest / "usr/bin/coder-vm-bootstrap"
    with tarfile.open(built["tarball"]) as archive:
        member = archive.getmember(f"{built['tarball_top']}/coder-vm-bootstrap")
        (dest / "coder-vm-bootstrap").write_bytes(archive.extractfile(member).read())
    (dest / "coder-vm-bootstrap").chmod(member.mode)
    return dest / "coder-vm-bootstrap"


def test_deb_holds_the_daemon_units_and_man_page_and_enables_the_service_and_path_unit_the_debian_way(built, tmp_path):
    listing = run(["dpkg-deb", "-c", built["deb"]]).stdout
    entries = {line.split()[-1].lstrip("."): line.split()[:2] for line in lines(listing)}
    assert entries["/usr/bin/coder-vm-bootstrap"] == ["-rwxr-xr-x", "root/root"]
    for unit in UNITS:
        assert entries[f"/lib/systemd/system/{unit}"][0] == "-rw-r--r--", unit
    assert "/usr/share/man/man8/coder-vm-bootstrap.8.gz" in entries
    assert "/usr/share/doc/coder-vm-bootstrap/copyright" in entries

    info = run(["dpkg-deb", "-I", built["deb"]]).stdout
    assert f"Version: {built['version']}" in info
    assert "Depends: libc6 (>= 2.34)" in info and "libcurl4" in info and "libsystemd0" in info
    assert "zlib1g" in info  # dlopen'ed, so invisible to dpkg-shlibdeps
    run(["dpkg-deb", "-e", built["deb"], tmp_path / "control"])
    postinst, prerm, postrm = ((tmp_path / "control" / name).read_text() for name in ("postinst", "prerm", "postrm"))
    # Both enabled (what they do is shown by dpkg itself: test_install_into_root).
    assert f"for unit in {UNIT} {PATH_UNIT}; do" in postinst
    assert 'deb-systemd-helper enable "$unit"' in postinst and 'deb-systemd-helper update-state "$unit"' in postinst
    # An upgrade restarts the daemon if it runs; the path unit is started, never restarted.
    assert f"deb-systemd-invoke try-restart {UNIT}" in postinst
    assert f"deb-systemd-invoke start {PATH_UNIT}" in postinst
    assert f"restart {PATH_UNIT}" not in postinst
    assert f"deb-systemd-invoke stop {PATH_UNIT} {UNIT}" in prerm
    assert f"deb-systemd-helper purge {PATH_UNIT} {UNIT}" in postrm


def test_rpm_holds_the_daemon_units_preset_and_man_page_with_the_systemd_scriptlets(built):
    files = lines(run(["rpm", "-qlp", "--nosignature", built["rpm"]]).stdout)
    assert files == sorted([
        "/usr/bin/coder-vm-bootstrap",
        "/usr/lib/systemd/system-preset/90-coder-vm-bootstrap.preset",
        *(f"/usr/lib/systemd/system/{unit}" for unit in UNITS),
        "/usr/share/man/man8/coder-vm-bootstrap.8.gz",
    ])
    scripts = run(["rpm", "-qp", "--nosignature", "--scripts", built["rpm"]]).stdout
    post, preun, postun = (scripts.split(f"{name} scriptlet")[1] for name in ("postinstall", "preuninstall", "postuninstall"))
    both = f"{UNIT} {PATH_UNIT}"
    # %systemd_post: both preset on first install only, through systemd's helper where it exists.
    assert "if [ $1 -eq 1 ]" in post
    assert f"/usr/lib/systemd/systemd-update-helper install-system-units {both}" in post
    assert f"systemctl --no-reload preset {both}" in post
    # %systemd_preun: both disabled (and stopped, in one transaction) on removal, not on upgrade.
    assert "if [ $1 -eq 0 ]" in preun.split("postuninstall")[0]
    assert f"remove-system-units {both}" in preun
    assert f"systemctl --no-reload disable --now {both}" in preun
    # %systemd_postun_with_restart: the daemon restarted on upgrade; the
    # path unit (%systemd_postun) never.
    assert "if [ $1 -ge 1 ]" in postun
    assert f"mark-restart-system-units {UNIT} ||" in postun
    assert f"systemctl try-restart {UNIT}" in postun
    assert PATH_UNIT not in postun

    requires = lines(run(["rpm", "-qpR", "--nosignature", built["rpm"]]).stdout)
    # dlopen'ed, so named by hand in the spec
    assert "(libcurl or libcurl-minimal)" in requires and "libcrypto.so.3(OPENSSL_3.0.0)(64bit)" in requires
    assert "libz.so.1()(64bit)" in requires
    for soname in ("libsystemd.so.0()(64bit)", "libc.so.6(GLIBC_2.34)(64bit)",
                   "libstdc++.so.6(GLIBCXX_3.4.29)(64bit)"):
        assert soname in requires, soname
    assert not any("GLIBC_2.35" in r or "GLIBCXX_3.4.30" in r for r in requires), requires
    assert lines(run(["rpm", "-qp", "--nosignature", "--recommends", built["rpm"]]).stdout) == ["openssh-server"]
    assert run(["rpm", "-qp", "--nosignature", "--qf", "%{VERSION}-%{RELEASE}", built["rpm"]]).stdout == f"{built['version']}-1"


def test_preset_enables_only_the_daemon_and_its_path_unit(built, tmp_path):
    binary_from("rpm", built, tmp_path)
    preset = (tmp_path / "rpm/usr/lib/systemd/system-preset/90-coder-vm-bootstrap.preset").read_text()
    rules = [line for line in preset.splitlines() if line and not line.startswith("#")]
    assert rules == [f"enable {UNIT}", f"enable {PATH_UNIT}"]


def test_arch_package_holds_the_daemon_units_preset_and_man_page_with_its_install_hooks(built):
    files = [line.split(" ", 1)[1] for line in lines(run(["pacman", "-Qlp", built["pacman"]]).stdout)]
    files = [f for f in files if not f.endswith("/")]
    assert sorted(files) == sorted([
        "/usr/bin/coder-vm-bootstrap",
        "/usr/lib/systemd/system-preset/90-coder-vm-bootstrap.preset",
        *(f"/usr/lib/systemd/system/{unit}" for unit in UNITS),
        "/usr/share/man/man8/coder-vm-bootstrap.8.gz",
    ])
    info = dict(line.split(" : ", 1) for line in lines(run(["pacman", "-Qip", built["pacman"]]).stdout) if " : " in line)
    info = {k.strip(): v.strip() for k, v in info.items()}
    assert info["Version"] == f"{built['version']}-1"
    assert info["Depends On"].split() == ["curl", "systemd-libs", "libcrypto.so=3-64", "zlib"]
    assert info["Install Script"] == "Yes"
    assert info["Licenses"] == "Apache-2.0"
    hooks = run(["bsdtar", "-xOf", built["pacman"], ".INSTALL"]).stdout
    for hook in ("post_install()", "post_upgrade()", "pre_remove()"):
        assert hook in hooks, hook
    assert 'systemctl --no-reload preset "$service" "$path"' in hooks
    assert 'disable --now "$service" "$path"' in hooks
    assert 'try-restart "$service"' in hooks and 'restart "$path"' not in hooks


def test_tarball_has_one_top_folder_with_binary_units_man_page_install_sh_and_readme(built):
    top = built["tarball_top"]
    assert top == f"coder-vm-bootstrap-{built['version']}-linux-amd64"
    with tarfile.open(built["tarball"]) as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert set(members) == {top, f"{top}/coder-vm-bootstrap", f"{top}/install.sh", f"{top}/README",
                            f"{top}/units", *(f"{top}/units/{u}" for u in UNITS),
                            f"{top}/man", f"{top}/man/coder-vm-bootstrap.8"}
    assert members[f"{top}/coder-vm-bootstrap"].mode == 0o755 and members[f"{top}/install.sh"].mode == 0o755
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())
    assert run(["tar", "-tzf", built["tarball"]]).stdout.splitlines()[0] == f"{top}/"


def test_install_sh_is_posix_sh(built, tmp_path):
    from package_tools import unpack_tarball
    script = unpack_tarball(built["tarball"], tmp_path) / "install.sh"
    assert script.read_text().startswith("#!/bin/sh\n")
    run(["shellcheck", "--shell=sh", "--severity=style", script])


@pytest.mark.parametrize("kind", ["deb", "rpm", "pacman", "tarball"])
def test_every_package_ships_the_same_stripped_binary_without_runpath(kind, built, tmp_path):
    binary = binary_from(kind, built, tmp_path)
    dynamic = run(["readelf", "-d", binary]).stdout
    assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, dynamic
    assert ".symtab" not in run(["readelf", "-S", "-W", binary]).stdout, "not stripped"
    assert run([binary, "--version"]).stdout.strip() == built["version"]
    reference = binary_from("tarball", built, tmp_path / "reference") if kind != "tarball" else binary
    assert hashlib.sha256(binary.read_bytes()).digest() == hashlib.sha256(reference.read_bytes()).digest()


def test_sha256sums_covers_the_four_packages_and_verifies(built):
    sums = (built["deb"].parent / "SHA256SUMS").read_text()
    assert sorted(line.split()[1] for line in lines(sums)) == sorted(
        built[k].name for k in ("deb", "rpm", "pacman", "tarball"))
    run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=built["deb"].parent)
