"""The root daemon against what it must not trust, on a real systemd
(systemd-nspawn, the Debian 12 test image): a server that sends the wrong
thing, a spec that takes access back, an image whose own sshd config is
broken, a user name taken by a group, a Coder that is down at boot. The
Coder server and agent are the stand-ins in Tests/standins (named as such).
"""
import json
import pathlib

import pytest

from processes import wait_until
from standins import FileServer
from test_daemon import USER, install, ssh, stand_ins, status, write_spec  # noqa: E402,F401  (stand_ins is a fixture)

AGENT_STANDIN = pathlib.Path(__file__).resolve().parents[1] / "standins" / "coder" / "coder-agent-standin"


def component(c, name):
    return next(x for x in status(c)["components"] if x["name"] == name)


def journal_ids(c):
    entries = [json.loads(line) for line in c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "-o", "json"]).stdout.splitlines()]
    return {e.get("MESSAGE_ID") for e in entries}


def start(c):
    c.systemctl("start", "coder-vm-bootstrap.service")


@pytest.fixture
def fresh_faults(stand_ins):
    """Every test starts with a well-behaved stand-in Coder and leaves one behind."""
    coder = stand_ins["coder"]
    coder.set_download_faults(count=0)
    coder.replace_binary(path=AGENT_STANDIN)
    yield coder
    coder.set_download_faults(count=0)
    coder.replace_binary(path=AGENT_STANDIN)


def test_rebuild_that_drops_a_key_and_sudo_takes_both_away(container, stand_ins, tmp_path):
    c = container(name="access")
    second = tmp_path / "second"
    import subprocess
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "second-key", "-f", str(second)], check=True)
    both = [stand_ins["key"].with_suffix(".pub").read_text().strip(), second.with_suffix(".pub").read_text().strip()]
    install(c, stand_ins, "token-a", spec_changes={"user": {"sshAuthorizedKeys": both, "sudo": True}})
    start(c)
    port = c.expose(22)
    assert ssh(stand_ins, port, "sudo", "-n", "true").returncode == 0, "sudo works while the spec grants it"
    assert "sudo" in c.run(["id", "-nG", USER]).stdout.split()

    # The next build's spec: only the second key, no sudo. A new boot's spec, then the daemon again.
    c.systemctl("stop", "coder-vm-bootstrap.service")
    write_spec(c, stand_ins, "token-b", spec_changes={"user": {"sshAuthorizedKeys": both[1:], "sudo": False}})
    start(c)
    keys = c.read_file(f"/etc/ssh/coder-vm-bootstrap/authorized_keys/{USER}")
    assert "second-key" in keys and "system-test" not in keys, keys
    refused = ssh(stand_ins, port, "true")
    assert refused.returncode == 255 and "Permission denied" in refused.stderr, "the dropped key no longer logs in"
    assert c.run(["test", "-e", "/etc/sudoers.d/90-coder-vm-bootstrap"], check=False).returncode == 1
    assert "sudo" not in c.run(["id", "-nG", USER]).stdout.split(), "the admin group the daemon added is taken back"
    assert c.run(["sudo", "-n", "-l"], user=USER, check=False).returncode != 0


def test_user_name_taken_by_a_group_fails_that_step_not_the_daemon(container, stand_ins):
    c = container(name="usergroup")
    c.run(["groupadd", USER])
    install(c, stand_ins, "token-group")
    start(c)  # returns: READY=1 is sent once a required component has failed for good
    wait_until(lambda: component(c, "ssh")["state"] == "ready" and component(c, "docker")["state"] == "ready", timeout=60,
               message="the components that do not need the user")
    user = component(c, "user")
    assert user["state"] == "failed", user
    assert "a group of that name already exists" in user["lastError"], user
    assert component(c, "code-server")["state"] == "blocked"
    assert c.systemctl("is-active", "coder-vm-bootstrap.service").stdout.strip() == "active"
    assert c.unit_property("coder-vm-bootstrap.service", "NRestarts") == "0", "no restart loop"
    assert c.run(["coder-vm-bootstrap", "status"], check=False).returncode == 3


def test_image_whose_own_sshd_config_is_broken_is_reported_and_left_as_it_was(container, stand_ins):
    c = container(name="badsshd")
    c.write_file("/etc/ssh/sshd_config.d/50-broken.conf", "ThisIsNotAnSshdKeyword yes\n")
    install(c, stand_ins, "token-ssh")
    start(c)
    ssh_status = component(c, "ssh")
    assert ssh_status["state"] == "failed", ssh_status
    assert "rejects this image's own configuration" in ssh_status["lastError"], ssh_status
    assert c.run(["test", "-e", "/etc/ssh/sshd_config.d/00-coder-vm-bootstrap.conf"], check=False).returncode == 1, \
        "the daemon's drop-in was rolled back"
    wait_until(lambda: component(c, "code-server")["state"] == "ready", timeout=60, message="the other components, unaffected")


def test_agent_binary_is_checked_by_running_it_as_the_user_never_as_root(container, stand_ins, fresh_faults, tmp_path):
    # A stand-in agent that notes who ran it (uid and arguments) before doing its job.
    recorder = tmp_path / "coder-recording"
    recorder.write_bytes(AGENT_STANDIN.read_bytes().replace(
        b"import datetime\n",
        b"import datetime\nimport os as _os, sys as _sys\n"
        b"open('/run/agent-runs', 'a').write(f'{_os.getuid()} {\" \".join(_sys.argv[1:])}\\n')\n", 1))
    fresh_faults.replace_binary(path=recorder)
    c = container(name="whoruns")
    # A file every uid may append to, outside the stand-in's own folders.
    c.run("touch /run/agent-runs && chmod 666 /run/agent-runs")
    install(c, stand_ins, "token-who")
    start(c)
    uid = c.run(["id", "-u", USER]).stdout.strip()
    runs = [line.split(" ", 1) for line in c.read_file("/run/agent-runs").splitlines()]
    version_checks = [who for who, args in runs if args.startswith("--version")]
    assert version_checks and set(version_checks) == {uid}, runs
    assert all(who != "0" for who, _ in runs), f"root never runs the server's bytes: {runs}"


def test_coder_down_at_boot_is_waited_for_and_the_agent_converges_when_it_is_back(container, stand_ins, fresh_faults):
    fresh_faults.set_download_faults(mode="status", status=503, count=10_000)
    c = container(name="coderdown")
    install(c, stand_ins, "token-down")
    c.systemctl("start", "--no-block", "coder-vm-bootstrap.service")
    # After the download's own few retries, the supervisor waits with a capped backoff.
    waiting = wait_until(lambda: "503" in (component(c, "agent").get("lastError") or ""), timeout=90,
                         message="the agent to say it waits for the server")
    assert waiting
    assert component(c, "agent")["state"] == "converging"
    assert component(c, "agent")["detail"].startswith("waiting: "), component(c, "agent")
    assert "agent waiting" in c.unit_property("coder-vm-bootstrap.service", "StatusText")
    fresh_faults.set_download_faults(count=0)
    wait_until(lambda: component(c, "agent")["state"] == "ready", timeout=60, interval=1,
               message="the agent within a minute of the server being right again")
    agent = component(c, "agent")
    assert agent["restarts"] == 0, "a server outage never spends the restart budget"
    assert "fc440114db304b478141054c9d588e77" in journal_ids(c), "the waits are in the journal with their MESSAGE_ID"


def test_token_folder_is_roots_and_only_the_users_group_may_enter(container, stand_ins):
    c = container(name="tokenfolder")
    install(c, stand_ins, "token-folder")
    start(c)
    folder = c.run(["stat", "-c", "%U:%G %a", f"/run/coder-vm-bootstrap/agent/{USER}"]).stdout.strip()
    assert folder == f"root:{USER} 750", folder
    token = c.run(["stat", "-c", "%U %a", f"/run/coder-vm-bootstrap/agent/{USER}/token"]).stdout.strip()
    assert token == f"{USER} 600", token
    # The user can read its token but cannot plant anything beside it.
    assert c.run(["cat", f"/run/coder-vm-bootstrap/agent/{USER}/token"], user=USER).stdout.strip() == "token-folder"
    assert c.run(["ln", "-s", "/etc/shadow", f"/run/coder-vm-bootstrap/agent/{USER}/x"], user=USER, check=False).returncode != 0


def test_environment_file_values_reach_the_unit_unchanged(container, stand_ins):
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    c = container(name="envfile")
    install(c, stand_ins, "token-env", spec_changes={"codeServer": {"auth": "password", "hashedPassword": hashed}})
    start(c)
    pid = c.unit_property(f"code-server@{USER}.service", "MainPID")
    environment = dict(entry.split("=", 1) for entry in c.read_file(f"/proc/{pid}/environ").split("\0") if "=" in entry)
    assert environment["HASHED_PASSWORD"] == hashed, environment.get("HASHED_PASSWORD")
    assert environment["CODE_SERVER_AUTH"] == "password"


def test_html_page_served_as_the_agent_is_refused_and_the_working_binary_kept(container, stand_ins, fresh_faults, tmp_path):
    c = container(name="htmlagent")
    install(c, stand_ins, "token-html")
    start(c)
    binary = "/var/lib/coder-vm-bootstrap/coder-agent/coder"
    before = c.run(["sha256sum", binary]).stdout.split()[0]
    page = tmp_path / "error.html"
    page.write_text("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>\n")
    fresh_faults.replace_binary(path=page)
    # The next start of the agent revalidates (the last check is made old enough).
    c.run(["touch", "-d", "2 minutes ago", "/run/coder-vm-bootstrap/agent-checked"])
    c.systemctl("restart", f"coder-agent@{USER}.service")
    c.wait_for_unit(f"coder-agent@{USER}.service")
    assert c.run(["sha256sum", binary]).stdout.split()[0] == before, "the page never replaced the binary"
    journal = c.run(["journalctl", "--no-pager", "-u", f"coder-agent@{USER}.service", "-o", "cat"]).stdout
    assert "did not send a program for this machine" in journal and "keeping the agent binary" in journal, journal[-2000:]
    assert c.run(["ls", "-a", "/var/lib/coder-vm-bootstrap/coder-agent"]).stdout.count(".part") == 0


def test_tarball_with_setuid_member_is_installed_without_it(container, stand_ins, tmp_path):
    import hashlib
    import io
    import tarfile
    folder = tmp_path / "hostile"
    folder.mkdir()
    release = stand_ins["tarball"]
    hostile = folder / release.name
    # The stand-in release plus a setuid-root shell and a world-writable file.
    with tarfile.open(release) as source, tarfile.open(hostile, "w:gz") as target:
        top = source.getmembers()[0].name.split("/")[0]
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
        for name, mode in (("bin/rootshell", 0o4755), ("lib/anyone-writes", 0o666)):
            info = tarfile.TarInfo(f"{top}/{name}")
            info.mode, info.uid, info.gid, info.size = mode, 0, 0, 10
            target.addfile(info, io.BytesIO(b"#!/bin/sh\n"))
    digest = hashlib.sha256(hostile.read_bytes()).hexdigest()
    files = FileServer(folder)
    try:
        c = container(name="setuidtar")
        install(c, stand_ins, "token-tar", files=files, spec_changes={"codeServer": {"sha256": {"amd64": digest}}})
        start(c)
        release_dir = "/opt/code-server/4.96.4-amd64"
        by_path = {path: mode for mode, path in (line.split(" ", 1) for line in c.run(["find", release_dir, "-printf", "%m %P\\n"]).stdout.splitlines())}
        assert by_path["bin/rootshell"] == "755", by_path["bin/rootshell"]
        assert by_path["lib/anyone-writes"] == "644", by_path["lib/anyone-writes"]
        assert not c.run(["find", release_dir, "-perm", "/6000"]).stdout.strip(), "no setuid or setgid file was installed"
        owners = set(c.run(["find", release_dir, "-printf", "%u\\n"]).stdout.split())
        assert owners == {"root"}, owners
        assert component(c, "code-server")["state"] == "ready"
    finally:
        files.stop()


def test_full_disk_under_opt_is_waited_for_and_converges_once_there_is_room(container, stand_ins):
    c = container(name="fulldisk")
    # /opt/code-server on a file system with room for almost nothing.
    c.run("mkdir -p /opt/code-server && mount -t tmpfs -o size=4k,mode=0755 tmpfs /opt/code-server")
    install(c, stand_ins, "token-disk")
    c.systemctl("start", "--no-block", "coder-vm-bootstrap.service")
    wait_until(lambda: "No space left on device" in (component(c, "code-server").get("lastError") or ""), timeout=90,
               message="code-server to say the disk is full")
    code_server = component(c, "code-server")
    assert code_server["state"] == "converging" and "free some space" in code_server["lastError"], code_server
    assert c.run("ls -A /opt/code-server", check=False).stdout.strip() == "", "a failed unpack leaves nothing behind"
    c.run("mount -o remount,size=64m /opt/code-server")
    wait_until(lambda: component(c, "code-server")["state"] == "ready", timeout=90, message="code-server once there is room")
    assert component(c, "code-server")["restarts"] == 0, "a full disk is not a crash"


def test_docker_install_killed_halfway_is_finished_by_the_package_manager(container, stand_ins):
    c = container(name="dpkgkilled")
    # What an apt-get install killed between unpacking and configuring leaves.
    c.run("dpkg --unpack /var/cache/apt/archives/docker.io_*.deb")
    assert c.run(["dpkg-query", "-W", "-f", "${Status}", "docker.io"]).stdout == "install ok unpacked"
    install(c, stand_ins, "token-dpkg")
    start(c)
    wait_until(lambda: component(c, "docker")["state"] == "ready", timeout=120, message="docker, its install finished")
    assert c.run(["dpkg-query", "-W", "-f", "${Status}", "docker.io"]).stdout == "install ok installed"
    journal = c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "COMPONENT=docker", "-o", "cat"]).stdout
    assert "installing docker.io with apt" in journal, journal
