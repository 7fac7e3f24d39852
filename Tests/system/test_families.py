"""Each distribution family, on a real systemd (systemd-nspawn), with stand-ins.

No Ubuntu, Fedora, Arch or EL9 image can be had here. So each of the six
targets other than Debian 12 (which test_daemon.py covers) is a container
booted from the Debian 12 test image that PRESENTS that distribution to the
daemon, all six booted at once:
  * its real os-release (Tests/Fixtures/os-release) in /etc/os-release and
    /usr/lib/os-release;
  * its admin group (`wheel` is made where the family has it);
  * its ssh unit: Fedora, EL9 and Arch use `sshd.service`, which on Debian
    is only an alias of ssh.service, so a real `sshd.service` (the stand-in
    unit Tests/standins/distro/sshd.service, running the image's sshd) takes
    its place and ssh.service is masked;
  * its CA anchor folder and trust command: Debian's real
    update-ca-certificates for Ubuntu; for the others the STAND-IN
    Tests/standins/distro/update-ca-trust, which records its arguments and
    rebuilds the bundle the family reads from the family's anchors;
  * its package manager, on an image without docker: the image's docker
    units are disabled and its dockerd is taken away. Ubuntu keeps Debian's
    real apt and dpkg: docker.io is removed with dpkg, and a STAND-IN archive
    (a flat apt repository holding the very docker.io .deb the image was
    built from) replaces Ubuntu's. Fedora, EL9 and Arch get the STAND-IN
    Tests/standins/distro/package-manager as `dnf` or `pacman`, which records
    its arguments, resolves packages only from the repositories that family
    would have enabled (EL9's base ones have no docker), and puts the image's
    dockerd and docker units back as the package would. The image's own
    docker CLI and containerd stay where they are.
Then the daemon converges (the whole workspace: user, ssh, docker,
code-server and agent stand-ins, and a CA certificate so the trust path
runs) and the recordings must show what that family needs.

What is simulated: the os-release, the family's tools named above, the
package archives. What is real: systemd, sshd, dockerd, sudo, shadow's
user tools, and for Ubuntu apt, dpkg and update-ca-certificates.

Needs the release build (`make system-test` builds it) and root.
"""
import concurrent.futures
import configparser
import dataclasses
import email.utils
import hashlib
import json
import os
import pathlib
import shutil
import subprocess

import pytest

import nspawn
from processes import wait_until
from test_daemon import USER, install, spec, ssh, stand_ins, status  # noqa: F401  (stand_ins is a fixture)

REPO = pathlib.Path(__file__).resolve().parents[2]
STANDINS = REPO / "Tests" / "standins" / "distro"
OS_RELEASE = REPO / "Tests" / "Fixtures" / "os-release"
CALLS = "/var/log/standin-calls.jsonl"
READY = "ready: user ssh docker code-server agent"
# What the Debian image's docker.io package brings that the daemon looks for.
DOCKER_FILES = ["/usr/sbin/dockerd", "/lib/systemd/system/docker.service", "/lib/systemd/system/docker.socket"]
DOCKER_CE = ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"]
PKI_TRUST = {"anchors": ["/etc/pki/ca-trust/source/anchors", "/usr/share/pki/ca-trust-source/anchors"],
             "bundle": "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "link": "/etc/pki/tls/certs/ca-bundle.crt"}
ARCH_TRUST = {"anchors": ["/etc/ca-certificates/trust-source/anchors", "/usr/share/ca-certificates/trust-source/anchors"],
              "bundle": "/etc/ca-certificates/extracted/tls-ca-bundle.pem", "link": "/etc/ssl/certs/ca-certificates.crt"}


@dataclasses.dataclass(frozen=True)
class Family:
    """What one distribution is to the daemon, written from the distributions'
    own documentation (not read from the daemon's table)."""
    name: str
    os_release: str
    ssh_unit: str
    admin_group: str
    anchors: str
    bundle: str
    # The package manager and the arguments it must get for docker.
    installer: str
    install_arguments: tuple
    # update-ca-trust's layout and the arguments it must get; None: Debian's own tools.
    trust: dict = None
    trust_arguments: tuple = None
    # The stand-in package manager's catalog: repositories enabled, packages.
    catalog: dict = None
    base_repositories: tuple = ()
    # docker.allowDockerRepository in the spec.
    allow_docker_repository: bool = False

    @property
    def pretty_name(self):
        fields = dict(line.split("=", 1) for line in (OS_RELEASE / f"{self.os_release}.os-release").read_text().splitlines()
                      if "=" in line)
        return fields["PRETTY_NAME"].strip('"')


def el9(name, os_release):
    return Family(
        name, os_release, "sshd.service", "wheel", PKI_TRUST["anchors"][0], PKI_TRUST["link"],
        "dnf", ("install", "-y", "-q", *DOCKER_CE), trust=PKI_TRUST, trust_arguments=("extract",),
        catalog={"packages": {"docker-ce": {"repository": "docker-ce-stable", "files": DOCKER_FILES},
                              **{p: {"repository": "docker-ce-stable", "files": []} for p in DOCKER_CE[1:]}}},
        base_repositories=("baseos", "appstream"), allow_docker_repository=True)


FAMILIES = [
    Family("ubuntu-22.04", "ubuntu-22.04", "ssh.service", "sudo", "/usr/local/share/ca-certificates",
           "/etc/ssl/certs/ca-certificates.crt",
           "apt-get", ("-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "--no-install-recommends", "docker.io")),
    # Allowing Docker's repository must change nothing where the distribution has docker.
    Family("fedora-39", "fedora-39", "sshd.service", "wheel", PKI_TRUST["anchors"][0], PKI_TRUST["link"],
           "dnf", ("install", "-y", "-q", "moby-engine"), trust=PKI_TRUST, trust_arguments=("extract",),
           catalog={"packages": {"moby-engine": {"repository": "fedora", "files": DOCKER_FILES}}},
           base_repositories=("fedora", "updates"), allow_docker_repository=True),
    Family("arch", "arch-rolling", "sshd.service", "wheel", ARCH_TRUST["anchors"][0], ARCH_TRUST["link"],
           "pacman", ("-S", "--noconfirm", "--needed", "docker"), trust=ARCH_TRUST, trust_arguments=(),
           catalog={"repositories": ["core", "extra"], "packages": {"docker": {"repository": "extra", "files": DOCKER_FILES}}}),
    el9("almalinux-9", "almalinux-9.4"),
    el9("centos-stream-9", "centos-9"),
    # Rocky first boots a spec without docker.allowDockerRepository (see
    # test_el9_without_consent_...), then the same spec with it.
    el9("rocky-9", "rocky-9.3"),
]
WITHOUT_CONSENT_FIRST = "rocky-9"


@dataclasses.dataclass
class Booted:
    family: Family
    container: nspawn.Container = None
    token: str = None
    # rocky-9: what the daemon did with a spec that does not allow Docker's repository.
    before_consent: dict = None
    error: BaseException = None


def calls(c, tool=None):
    """The stand-ins' recorded calls, in order (optionally of one tool)."""
    text = c.run(["cat", CALLS], check=False).stdout
    entries = [json.loads(line) for line in text.splitlines()]
    return [e for e in entries if tool is None or e["tool"] == tool]


def stand_in_archive(image_dir, folder):
    """A flat apt repository with the image's own docker.io .deb: a stand-in for
    Ubuntu's archive (trusted=yes: it has no signature)."""
    deb = next((image_dir / "rootfs" / "var" / "cache" / "apt" / "archives").glob("docker.io_*.deb"), None)
    if deb is None:
        pytest.fail(f"the image's apt cache has no docker.io .deb ({image_dir}/rootfs/var/cache/apt/archives): "
                    "rebuild the image with scripts/build-image.sh")
    folder.mkdir(parents=True)
    try:
        os.link(deb, folder / deb.name)
    except OSError:
        shutil.copyfile(deb, folder / deb.name)
    data = deb.read_bytes()
    control = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout
    packages = (control.rstrip("\n") + f"\nFilename: ./{deb.name}\nSize: {len(data)}\n"
                f"SHA256: {hashlib.sha256(data).hexdigest()}\n\n").encode()
    (folder / "Packages").write_bytes(packages)
    (folder / "Release").write_text(
        "Origin: stand-in\nLabel: stand-in for the Ubuntu archive\nSuite: stand-in\nCodename: stand-in\n"
        f"Date: {email.utils.formatdate(usegmt=True)}\nArchitectures: amd64\n"
        f"SHA256:\n {hashlib.sha256(packages).hexdigest()} {len(packages)} Packages\n")
    return folder


def present(c, family):
    """Turns the booted Debian container into `family` as the daemon sees it."""
    release = (OS_RELEASE / f"{family.os_release}.os-release").read_bytes()
    c.run(["rm", "-f", "/etc/os-release"])  # Debian's is a link to /usr/lib/os-release
    c.write_file("/usr/lib/os-release", release)
    c.write_file("/etc/os-release", release)
    if family.admin_group == "wheel":
        c.run(["groupadd", "--system", "wheel"])
    if family.ssh_unit == "sshd.service":
        c.run(["rm", "/etc/systemd/system/sshd.service"])  # Debian's alias of ssh.service (masked for this boot)
        c.write_file("/etc/systemd/system/sshd.service", (STANDINS / "sshd.service").read_text())
        # Debian's sshd (even `sshd -t`) needs its privilege separation folder,
        # which only ssh.service makes; the families' own sshd has one in its package.
        c.write_file("/etc/tmpfiles.d/standin-sshd.conf", "d /run/sshd 0755 root root -\n")
        c.run(["systemd-tmpfiles", "--create", "/etc/tmpfiles.d/standin-sshd.conf"])
    if family.trust:
        c.write_file("/usr/local/sbin/update-ca-trust", (STANDINS / "update-ca-trust").read_text(), mode=0o755)
        c.write_file("/usr/local/lib/standin/update-ca-trust.json", json.dumps(family.trust))
        c.run(["mkdir", "-p", *family.trust["anchors"]])  # the family's ca-certificates package has them
    # An image without docker: the image's units were masked for the boot; unmasked, not enabled.
    c.run(["systemctl", "unmask", "docker.service", "docker.socket"])
    c.run(["systemctl", "disable", "--quiet", "docker.service", "docker.socket"])
    if family.installer == "apt-get":
        c.run(["dpkg", "--remove", "docker.io"])
        c.write_file("/etc/apt/sources.list.d/standin-archive.list", "deb [trusted=yes] file:/srv/standin-archive ./\n")
    else:
        c.write_file(f"/usr/local/sbin/{family.installer}", (STANDINS / "package-manager").read_text(), mode=0o755)
        if family.installer == "dnf":
            c.write_file("/etc/yum.repos.d/standin-base.repo", "".join(
                f"[{repo}]\nname=stand-in for {family.name}'s {repo}\nbaseurl=file:///nonexistent/{repo}\nenabled=1\ngpgcheck=1\n\n"
                for repo in family.base_repositories))
        c.write_file("/var/lib/standin-packages/catalog.json", json.dumps(family.catalog))
        for path in DOCKER_FILES:
            hidden = f"/var/lib/standin-packages/files{path}"
            c.run(["mkdir", "-p", os.path.dirname(hidden)])
            c.run(["mv", path, hidden])
        c.run(["groupdel", "docker"])  # the package made it on Debian; the daemon makes it here
    c.systemctl("daemon-reload")


def spawn(family, image_dir, workdir):
    """The family's container, spawned but not yet booted. From the main thread:
    nspawn is told to power off when the thread that started it ends."""
    mask = ["docker.service", "docker.socket"] + (["ssh.service"] if family.ssh_unit == "sshd.service" else [])
    binds_ro = []
    if family.installer == "apt-get":
        binds_ro.append((stand_in_archive(image_dir, workdir / "archive"), "/srv/standin-archive"))
    c = nspawn.Container(image_dir / "rootfs", name=f"fam-{family.name}", mask=mask, binds_ro=binds_ro)
    return c.start(wait=False)


def converge(booted, stand_ins, ca_pem):
    """Boots, presents the family, installs the daemon and starts it (blocking until READY=1)."""
    c, family = booted.container, booted.family
    c.wait_for_system(300)
    present(c, family)
    booted.token = f"token-{family.name}"
    changes = {"coder": {"caCertificates": [ca_pem]}}
    if family.name == WITHOUT_CONSENT_FIRST:
        install(c, stand_ins, booted.token, spec_changes=changes)
        c.run(["systemctl", "start", "coder-vm-bootstrap.service"], timeout=600)
        # READY=1 came as soon as docker failed for good; the rest goes on.
        wait_until(lambda: {x["state"] for x in status(c)["components"] if x["name"] != "docker"} == {"ready"},
                   timeout=300, interval=0.5, message="the other components to be ready")
        booted.before_consent = {
            "status": status(c), "calls": calls(c),
            "repository": c.run(["test", "-e", "/etc/yum.repos.d/docker-ce.repo"], check=False).returncode == 0}
        document = spec(stand_ins, booted.token)
        document["coder"].update(changes["coder"])
        document["docker"] = {"allowDockerRepository": True}
        c.write_file("/run/coder-vm-bootstrap/spec.json", json.dumps(document), mode=0o600)
        c.run(["systemctl", "restart", "coder-vm-bootstrap.service"], timeout=600)
    else:
        if family.allow_docker_repository:
            changes["docker"] = {"allowDockerRepository": True}
        install(c, stand_ins, booted.token, spec_changes=changes)
        c.run(["systemctl", "start", "coder-vm-bootstrap.service"], timeout=600)


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem"), "-days", "2",
                    "-subj", "/CN=coder-vm-bootstrap families test CA"], check=True, capture_output=True)
    return (folder / "ca.pem").read_text()


@pytest.fixture(scope="module")
def families(image_dir, stand_ins, ca_pem, tmp_path_factory):
    """Every family's container, booted and presented at once, with the daemon
    started in each; a family that failed to come up fails only its own tests."""
    booted = {f.name: Booted(f) for f in FAMILIES}
    for name, b in booted.items():
        try:
            b.container = spawn(b.family, image_dir, tmp_path_factory.mktemp(name))
        except Exception as error:  # noqa: BLE001 - reported by that family's tests
            b.error = error
    started = [b for b in booted.values() if b.container]
    with concurrent.futures.ThreadPoolExecutor(len(started)) as pool:
        futures = {pool.submit(converge, b, stand_ins, ca_pem): b for b in started}
        for future in concurrent.futures.as_completed(futures):
            futures[future].error = future.exception()
    yield booted
    with concurrent.futures.ThreadPoolExecutor(len(FAMILIES)) as pool:
        list(pool.map(lambda b: b.container and b.container.stop(), booted.values()))


def up(families, name):
    booted = families[name]
    if booted.error:
        journal = booted.container.journal("coder-vm-bootstrap") if booted.container and booted.container.running else ""
        raise AssertionError(f"{name} did not come up: {booted.error!r}\n{journal}") from booted.error
    return booted


NAMES = [f.name for f in FAMILIES]


@pytest.mark.parametrize("name", NAMES)
def test_daemon_recognises_the_distribution_and_reaches_ready(families, name):
    booted = up(families, name)
    c = booted.container
    assert c.unit_property("coder-vm-bootstrap.service", "StatusText") == READY
    st = status(c)
    assert st["phase"] == "ready", st["summary"]
    # The daemon read the presented os-release, and knows it as a tested distribution (no note).
    assert st["host"] == booted.family.pretty_name
    assert st.get("notes", []) == []


@pytest.mark.parametrize("name", NAMES)
def test_ssh_server_runs_under_the_familys_unit_and_takes_the_key(families, name, stand_ins):
    booted = up(families, name)
    c, unit = booted.container, booted.family.ssh_unit
    assert c.run(["systemctl", "is-enabled", unit], check=False).stdout.strip() == "enabled"
    assert c.run(["systemctl", "is-active", unit], check=False).stdout.strip() == "active"
    assert c.run(["readlink", f"/proc/{c.unit_property(unit, 'MainPID')}/exe"]).stdout.strip() == "/usr/sbin/sshd"
    if unit == "sshd.service":
        # The real unit, not Debian's alias; Debian's ssh.service stayed out of it.
        assert c.unit_property(unit, "FragmentPath") == "/etc/systemd/system/sshd.service"
        assert c.unit_property(unit, "Id") == "sshd.service"
        assert c.run(["systemctl", "is-enabled", "ssh.service"], check=False).stdout.strip() == "masked"
        assert c.run(["systemctl", "is-active", "ssh.service"], check=False).stdout.strip() == "inactive"
    assert ssh(stand_ins, c.expose(22), "id", "-un").stdout.strip() == USER


@pytest.mark.parametrize("name", NAMES)
def test_user_is_an_administrator_through_the_familys_group(families, name):
    booted = up(families, name)
    c, admin = booted.container, booted.family.admin_group
    groups = c.run(["id", "-nG", USER]).stdout.split()
    assert admin in groups, groups
    assert not ({"sudo", "wheel"} - {admin}) & set(groups), groups
    assert c.run(["sudo", "-n", "id", "-u"], user=USER).stdout.strip() == "0"


@pytest.mark.parametrize("name", NAMES)
def test_ca_certificate_goes_into_the_familys_anchors_and_trust_store(families, name, ca_pem, stand_ins):
    booted = up(families, name)
    c, family = booted.container, booted.family
    anchor = f"{family.anchors}/coder-vm-bootstrap-0.crt"
    assert c.read_file(anchor).strip() == ca_pem.strip()
    body = "".join(ca_pem.strip().splitlines()[1:-1])
    assert body in c.read_file(family.bundle).replace("\n", ""), f"{family.bundle} lacks the CA"
    if family.trust:
        trust_calls = calls(c, "update-ca-trust")
        assert [tuple(x["argv"]) for x in trust_calls] == [family.trust_arguments]
        assert trust_calls[0]["exit"] == 0 and anchor in trust_calls[0]["anchors"]
        assert c.run(["readlink", family.bundle]).stdout.strip() == family.trust["bundle"]
        # Debian's own anchors and tools were not used.
        assert "coder-vm-bootstrap-0.crt" not in c.run(["ls", "/usr/local/share/ca-certificates"]).stdout
        assert c.run(["test", "-e", "/etc/ssl/certs/coder-vm-bootstrap-0.pem"], check=False).returncode != 0
    else:
        # Debian's real update-ca-certificates linked it into /etc/ssl/certs.
        assert c.run(["readlink", "/etc/ssl/certs/coder-vm-bootstrap-0.pem"]).stdout.strip() == \
            "/usr/local/share/ca-certificates/coder-vm-bootstrap-0.crt"
    # The agent reads the family's bundle.
    record = stand_ins["coder"].wait_for_report(lambda r: r.get("token") == booted.token)
    assert record["report"]["ssl_cert_file"] == family.bundle


@pytest.mark.parametrize("name", NAMES)
def test_docker_is_installed_by_the_familys_package_manager_and_answers(families, name):
    booted = up(families, name)
    c, family = booted.container, booted.family
    if family.installer == "apt-get":
        # Real apt records its own command line (with the program as the daemon resolved it).
        history = c.read_file("/var/log/apt/history.log")
        commands = [line.split(": ", 1)[1].split() for line in history.splitlines() if line.startswith("Commandline: ")]
        assert [(os.path.basename(argv[0]), tuple(argv[1:])) for argv in commands] == [("apt-get", family.install_arguments)], history
        assert c.run(["dpkg-query", "-W", "-f", "${Status}", "docker.io"]).stdout == "install ok installed"
    else:
        installs = calls(c, family.installer)
        assert [tuple(x["argv"]) for x in installs] == [family.install_arguments]
        assert installs[0]["exit"] == 0
    repository = c.run(["cat", "/etc/yum.repos.d/docker-ce.repo"], check=False)
    if family.catalog and "docker-ce" in family.catalog["packages"]:
        definition = configparser.ConfigParser(interpolation=None)
        definition.read_string(repository.stdout)
        assert dict(definition["docker-ce-stable"]) == {
            "name": "Docker CE Stable - $basearch", "baseurl": "https://download.docker.com/linux/centos/9/$basearch/stable",
            "enabled": "1", "gpgcheck": "1", "gpgkey": "https://download.docker.com/linux/centos/gpg"}
        assert "docker-ce-stable" in calls(c, "dnf")[0]["repositories"], "the repository was there before dnf ran"
    else:
        assert repository.returncode != 0, "Docker's repository added where the distribution has docker"
    for unit in ("docker.socket", "docker.service"):
        assert c.run(["systemctl", "is-enabled", unit], check=False).stdout.strip() == "enabled", unit
    ping = c.run(["curl", "-s", "--unix-socket", "/run/docker.sock", "http://docker/_ping"], check=False)
    assert ping.stdout == "OK", (next(x for x in status(c)["components"] if x["name"] == "docker"),
                                 c.journal("docker.service", lines=40))
    assert "docker" in c.run(["id", "-nG", USER]).stdout.split()
    assert c.run(["docker", "info", "--format", "{{.ServerVersion}}"], user=USER).stdout.strip()


def test_el9_without_consent_docker_fails_naming_the_spec_field_and_adds_no_repository(families):
    booted = up(families, WITHOUT_CONSENT_FIRST)
    before = booted.before_consent
    docker = next(x for x in before["status"]["components"] if x["name"] == "docker")
    assert docker["state"] == "failed", docker
    assert "docker.allowDockerRepository: true" in docker["lastError"], docker["lastError"]
    assert booted.family.pretty_name in docker["lastError"], docker["lastError"]
    assert before["status"]["phase"] == "failed"
    assert not [x for x in before["calls"] if x["tool"] == "dnf"], "dnf ran without the spec's consent"
    assert not before["repository"]
    others = {x["name"]: x["state"] for x in before["status"]["components"] if x["name"] != "docker"}
    assert set(others.values()) == {"ready"}, others


@pytest.mark.parametrize("name, refused", [
    ("fedora-39", [(["dnf", "install", "-q", "moby-engine"], "Operation aborted"),
                   (["dnf", "install", "-y", "-q", "docker-ce"], "No match for argument: docker-ce")]),
    ("arch", [(["pacman", "-S", "docker"], "Proceed with installation"),
              (["pacman", "-S", "--noconfirm", "--needed", "docker-compose"], "target not found: docker-compose")]),
    ("rocky-9", [(["update-ca-trust", "enable"], "usage: update-ca-trust [extract]")]),
])
def test_stand_ins_refuse_what_the_real_tools_refuse(families, name, refused):
    """The daemon's passes above mean something only if the stand-ins are as
    strict as the real tools: no answer to a question nobody can answer, no
    package the family's repositories lack, no arguments the tool does not take."""
    c = up(families, name).container
    recorded = c.run(["cat", CALLS]).stdout
    try:
        for argv, message in refused:
            result = c.run(argv, check=False)
            assert result.returncode != 0 and message in result.stderr, (argv, result.stderr)
    finally:
        c.write_file(CALLS, recorded)  # the other tests count the daemon's calls
