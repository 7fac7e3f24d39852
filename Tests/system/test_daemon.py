"""coder-vm-bootstrap on a real systemd (systemd-nspawn booting the Debian 12
test image): real sshd, docker, journald and sd-bus; code-server and the Coder
server/agent are the stand-ins in Tests/standins (named as such).

Needs the release build (`make system-test` builds it) and root.
"""
import json
import pathlib
import subprocess

import pytest

import standins
from processes import wait_until
from standins import FileServer, workspace_spec

REPO = pathlib.Path(__file__).resolve().parents[2]
DAEMON = REPO / ".build" / "release" / "coder-vm-bootstrap"
CODE_SERVER_VERSION = "4.96.4"
USER = "coder"
# Ports inside the container that relay to the host's stand-in servers.
CODER_PORT, FILES_PORT = 7080, 7081


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    if not DAEMON.exists():
        pytest.fail(f"{DAEMON} is missing: run `make release` first")
    folder = tmp_path_factory.mktemp("standins")
    tarball = standins.build_code_server_tarball(CODE_SERVER_VERSION, "amd64", folder / "files")
    files = FileServer(folder / "files")
    coder = standins.CoderServer(folder / "coder").start()
    key = folder / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "system-test", "-f", str(key)], check=True)
    yield {"tarball": tarball, "files": files, "coder": coder, "key": key}
    coder.stop()
    files.stop()


def spec(stand_ins, token):
    document = workspace_spec(
        access_url=f"http://127.0.0.1:{CODER_PORT}/", files_url=f"http://127.0.0.1:{FILES_PORT}",
        tarball=stand_ins["tarball"], ssh_key=stand_ins["key"].with_suffix(".pub").read_text().strip())
    document["coder"]["token"] = token
    document["codeServer"]["extensions"] = ["ms-python.python"]
    return document


def install(c, stand_ins, token, files=None, spec_changes=None):
    """Installs the daemon the way the .deb does, with this boot's spec."""
    c.write_file("/usr/bin/coder-vm-bootstrap", DAEMON.read_bytes(), mode=0o755)
    for unit in ("coder-vm-bootstrap.service", "coder-vm-bootstrap.path", "code-server@.service", "coder-agent@.service"):
        c.write_file(f"/lib/systemd/system/{unit}", (REPO / "units" / unit).read_text())
    write_spec(c, stand_ins, token, spec_changes)
    c.forward_to_host(CODER_PORT, stand_ins["coder"].port)
    c.forward_to_host(FILES_PORT, (files or stand_ins["files"]).port)
    c.systemctl("daemon-reload")


def write_spec(c, stand_ins, token, spec_changes=None):
    """This boot's spec, as cloud-init's bootcmd writes it (/run is the
    container's own tmpfs: written from inside)."""
    document = spec(stand_ins, token)
    for section, values in (spec_changes or {}).items():
        document.setdefault(section, {}).update(values)
    c.run("umask 077 && mkdir -p /run/coder-vm-bootstrap && cat > /run/coder-vm-bootstrap/spec.json.tmp"
          " && mv -f /run/coder-vm-bootstrap/spec.json.tmp /run/coder-vm-bootstrap/spec.json", input=json.dumps(document))


def status(c):
    return json.loads(c.run(["coder-vm-bootstrap", "status", "--json"], check=False).stdout)


def ssh(stand_ins, port, *args, password=False):
    options = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
               "-o", "ConnectTimeout=10", "-p", str(port)]
    if password:
        options += ["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no"]
    else:
        options += ["-i", str(stand_ins["key"])]
    return subprocess.run(["ssh", *options, f"{USER}@127.0.0.1", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def workspace(stand_ins, tmp_path_factory):
    """One container through two boots: the first cold, the second warm with a new token."""
    import nspawn
    reason = nspawn.can_run()
    if reason:
        pytest.skip(f"systemd-nspawn tests: {reason}")
    workdir = tmp_path_factory.mktemp("workspace")
    containers = []

    def boot(token):
        for earlier in containers:
            earlier.stop()  # a reboot: the same disk (overlay upper), a new boot
        c = nspawn.Container(nspawn.find_image() / "rootfs", name=f"ws{len(containers)}", workdir=workdir,
                             keep_workdir=True).start()
        containers.append(c)
        install(c, stand_ins, token)
        # Blocks until READY=1 (Type=notify): the unit's start job ends then.
        c.systemctl("start", "coder-vm-bootstrap.service")
        return c

    yield boot
    for c in containers:
        c.stop()


@pytest.fixture(scope="module")
def first_boot(workspace):
    return workspace("token-of-boot-1")


def test_workspace_comes_up_ready_through_ready_notification(first_boot, stand_ins):
    c = first_boot
    assert c.systemctl("is-active", "coder-vm-bootstrap.service").stdout.strip() == "active"
    text = c.unit_property("coder-vm-bootstrap.service", "StatusText")
    assert text == "ready: user ssh docker code-server agent", text

    st = status(c)
    assert st["phase"] == "ready"
    assert {x["name"]: x["state"] for x in st["components"]} == {
        "user": "ready", "ssh": "ready", "docker": "ready", "code-server": "ready", "agent": "ready"}
    assert all(x["readyAfterMilliseconds"] is not None and x["stages"] for x in st["components"])

    # SSH: the key works, a password is not even offered.
    port = c.expose(22)
    assert ssh(stand_ins, port, "id", "-un").stdout.strip() == USER
    refused = ssh(stand_ins, port, "true", password=True)
    assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr, refused.stderr

    # docker answers, and the user may use it without sudo.
    ping = c.run(["curl", "-s", "--unix-socket", "/run/docker.sock", "http://docker/_ping"])
    assert ping.stdout == "OK"
    assert "docker" in c.run(["id", "-nG", USER]).stdout.split()
    assert c.run(["docker", "info", "--format", "{{.ServerVersion}}"], user=USER).stdout.strip()

    # code-server and the agent run as the user under their template units.
    for unit in (f"code-server@{USER}.service", f"coder-agent@{USER}.service"):
        pid = c.unit_property(unit, "MainPID")
        assert c.run(["ps", "-o", "user=", "-p", pid]).stdout.strip() == USER, unit
    assert c.http_get(13337, "/healthz")[0] == 200

    # The Coder stand-in got the token of this boot, from a 0600 file.
    record = stand_ins["coder"].wait_for_report(lambda r: r.get("token") == "token-of-boot-1")
    report = record["report"]
    assert report["token_source"] == "file" and report["token_file_mode"] == "0600", report
    assert report["user"] == USER

    # The readiness endpoint agrees.
    assert c.http_get(13380, "/readyz")[0] == 200



def test_extensions_are_installed_in_the_background_as_the_user(first_boot):
    c = first_boot
    listed = wait_until(lambda: "ms-python.python" in c.run(
        ["/opt/code-server/current/bin/code-server", "--list-extensions"], user=USER).stdout, timeout=60,
        message="the extension to be installed")
    assert listed
    owner = c.run(["stat", "-c", "%U", f"/home/{USER}/.local/share/code-server"]).stdout.strip()
    assert owner == USER


def test_token_never_leaks_into_argv_journal_status_or_readable_files(first_boot):
    c = first_boot
    token = "token-of-boot-1"
    assert token not in c.run(["ps", "-eo", "args"]).stdout
    assert token not in c.run(["journalctl", "--no-pager", "-o", "verbose"]).stdout
    assert token not in c.run(["coder-vm-bootstrap", "status", "--json"]).stdout
    assert token not in c.http_get(13380, "/status")[2].decode()
    assert token not in c.run(["systemctl", "show", "coder-agent@coder.service"]).stdout
    # Every file holding it is 0600 (no group or other bits).
    holders = c.run(["grep", "-rl", "--", token, "/run", "/etc", "/var/lib", "/home", "/opt"], check=False).stdout.split()
    assert holders, "the token should be somewhere (the spec, the token file)"
    for path in holders:
        mode = int(c.run(["stat", "-c", "%a", path]).stdout, 8)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_killed_code_server_comes_back_and_the_restart_is_counted(first_boot):
    c = first_boot
    unit = f"code-server@{USER}.service"
    pid = c.unit_property(unit, "MainPID")
    c.run(["kill", "-9", pid])
    counted = wait_until(lambda: next(x for x in status(c)["components"] if x["name"] == "code-server")["restarts"] >= 1,
                         timeout=60, message="the restart to be counted")
    assert counted
    wait_until(lambda: c.unit_property(unit, "MainPID") not in ("0", pid), timeout=30, message="a new code-server")
    wait_until(lambda: status(c)["phase"] == "ready", timeout=60, message="ready again")


def test_hung_code_server_is_detected_and_restarted(first_boot):
    c = first_boot
    unit = f"code-server@{USER}.service"
    pid = c.unit_property(unit, "MainPID")
    c.run(["kill", "-STOP", pid])
    # Three failed probes 10 s apart, then a SIGKILL and a restart.
    wait_until(lambda: c.unit_property(unit, "MainPID") not in ("0", pid), timeout=120, message="the hung code-server replaced")
    wait_until(lambda: status(c)["phase"] == "ready", timeout=60, message="ready again")
    journal = c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "COMPONENT=code-server", "-o", "cat"]).stdout
    assert "probe failed (3 of 3)" in journal and "restarting in" in journal and "\nrestarted\n" in journal, journal


def test_journal_entries_carry_structured_fields(first_boot):
    c = first_boot
    entries = [json.loads(line) for line in c.run(["journalctl", "--no-pager", "-u", "coder-vm-bootstrap", "-o", "json"]).stdout.splitlines()]
    ready = [e for e in entries if e.get("MESSAGE_ID") == "9186bc3c82716a5dd442b8092bcbb122"]
    assert {e["COMPONENT"] for e in ready} >= {"ssh", "docker", "code-server", "agent"}
    assert all("DURATION_MS" in e and e.get("STAGE") == "ready" for e in ready)


def test_warm_boot_hours_later_revalidates_agent_with_one_304_and_downloads_nothing_else(first_boot, workspace, stand_ins):
    # The VM was off for hours: everything the daemon kept on disk is that old.
    first_boot.run("find /var/lib/coder-vm-bootstrap -exec touch -h -d '3 hours ago' {} +")
    before_files = len(stand_ins["files"].requests)
    agent_requests_before = len(agent_binary_requests(stand_ins))
    c = workspace("token-of-boot-2")
    assert c.systemctl("is-active", "coder-vm-bootstrap.service").stdout.strip() == "active"
    assert len(stand_ins["files"].requests) == before_files, "code-server was downloaded again"
    assert agent_binary_requests(stand_ins)[0]["status"] == 200
    this_boot = agent_binary_requests(stand_ins)[agent_requests_before:]
    assert len(this_boot) == 1 and this_boot[0]["if_none_match"] and this_boot[0]["status"] == 304, \
        f"one revalidation per boot, not one more before the agent's start: {this_boot}"
    stand_ins["coder"].wait_for_report(lambda r: r.get("token") == "token-of-boot-2")


def agent_binary_requests(stand_ins):
    return [r for r in stand_ins["coder"].requests() if r["path"].startswith("/bin/coder-linux-")]


def component(c, name):
    return next(x for x in status(c)["components"] if x["name"] == name)


def test_agent_exiting_in_a_loop_spends_the_budget_and_degrades_without_crashing_the_daemon(container, stand_ins):
    c = container(name="crashloop")
    # The agent is optional here, so its failure degrades rather than fails the workspace.
    install(c, stand_ins, "token-crash", spec_changes={"readiness": {"required": ["ssh", "docker", "code-server"]}})
    c.systemctl("start", "coder-vm-bootstrap.service")
    wait_until(lambda: status(c)["phase"] == "ready", timeout=60, message="the optional agent to come up too")
    stand_ins["coder"].set_agent_exit_code(3)
    try:
        wait_until(lambda: component(c, "agent")["state"] == "failed", timeout=240, interval=1,
                   message="the agent to be reported failed")
    finally:
        stand_ins["coder"].set_agent_exit_code(None)
    agent = component(c, "agent")
    assert agent["restarts"] >= 6, agent
    assert agent["lastError"], agent
    assert any("exit" in line for line in agent["journalTail"]), agent["journalTail"]
    st = status(c)
    assert st["phase"] == "degraded" and "agent failed" in st["summary"], st["summary"]
    assert c.run(["coder-vm-bootstrap", "status"], check=False).returncode == 2
    assert c.systemctl("is-active", "coder-vm-bootstrap.service").stdout.strip() == "active"
    assert c.http_get(13380, "/readyz")[0] == 200, "only required components decide readiness"


def test_daemon_killed_halfway_through_a_download_converges_after_restart_without_partial_files(container, stand_ins, tmp_path):
    slow = FileServer(stand_ins["tarball"].parent, slow=True)
    try:
        c = container(name="killed")
        install(c, stand_ins, "token-kill", files=slow)
        c.systemctl("start", "--no-block", "coder-vm-bootstrap.service")
        part = f"/var/lib/coder-vm-bootstrap/downloads/.code-server-{CODE_SERVER_VERSION}-linux-amd64.tar.gz.part"
        wait_until(lambda: int(c.run(["stat", "-c", "%s", part], check=False).stdout or 0) > 0, timeout=60,
                   interval=0.1, message="a partial download")
        c.run(["kill", "-9", c.unit_property("coder-vm-bootstrap.service", "MainPID")])
        # Restart=on-failure brings it back; it resumes and converges.
        wait_until(lambda: status(c).get("phase") == "ready", timeout=120, interval=1, message="ready after the restart")
        assert c.unit_property("coder-vm-bootstrap.service", "NRestarts") == "1"
        leftovers = c.run("ls -a /opt/code-server /var/lib/coder-vm-bootstrap/downloads", check=False).stdout
        assert ".staging" not in leftovers and ".part" not in leftovers and ".tmp" not in leftovers, leftovers
        assert c.run(["test", "-x", f"/opt/code-server/{CODE_SERVER_VERSION}-amd64/bin/code-server"]).returncode == 0
        ranges = [entry["range"] for entry in slow.log]
        assert ranges[0] is None and any(r and r.startswith("bytes=") for r in ranges[1:]), slow.log
    finally:
        slow.stop()
