"""Boots one workspace in systemd-nspawn (the Debian 12 test image: real
systemd, cloud-init, sshd, docker) the PROJECT's way or the SEED's way, on
the same disk as often as asked, and times each boot from container start.

  project  coder-vm-bootstrap baked into the image and enabled (what the
           .deb's postinst does); the user-data is what `coder-vm-seed
           render-userdata` renders for the spec (bootcmd writes the spec to
           /run on every boot).
  seed     the way the seed template does it, re-created in bench/seed/
           (stand-ins, not Coder's code): cloud-init writes Coder's agent
           init script and a coder-agent.service that runs it; the init script
           downloads the agent into a fresh temporary folder on every start;
           once the agent is connected its startup script downloads
           code-server with `curl | tar` into /tmp and starts it.

Both get the same STAND-IN servers on the host (the Coder stand-in serving
the padded agent, a file server with the padded code-server tarball),
reached through relays at `rate` bytes/s per connection.

    stand_ins = StandIns(folder).start()
    ws = Workspace("project", stand_ins, workdir)
    cold = ws.boot(); warm = ws.boot(); ws.close()
"""
import concurrent.futures
import hashlib
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "Tests" / "system"))
sys.path.insert(0, str(REPO / "Tests" / "standins"))
sys.path.insert(0, str(REPO / "scripts" / "lib"))
sys.path.insert(0, str(HERE))
import nspawn  # noqa: E402
import padded  # noqa: E402
import standins  # noqa: E402
from fileserver import FileServer  # noqa: E402
from relay import RateLimitedRelay  # noqa: E402
from processes import wait_until  # noqa: E402

DAEMON = REPO / ".build" / "release" / "coder-vm-bootstrap"
SEED_CLI = REPO / ".build" / "release" / "coder-vm-seed"
UNITS = ("coder-vm-bootstrap.service", "coder-vm-bootstrap.path", "code-server@.service", "coder-agent@.service")
VERSION = "4.96.4"
USER = "coder"
TOKEN = "bench-agent-token-3f1c"
WORKSPACE_ID = "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"
# Ports inside the container that relay to the host's stand-in servers.
CODER_PORT, FILES_PORT = 7080, 7081
CODE_SERVER_PORT, READINESS_PORT = 13337, 13380
MiB = 2**20


class StandIns:
    """The host's STAND-IN Coder server (agent binary padded to agent_size)
    and file server (code-server tarball padded to code_server_size)."""

    def __init__(self, folder, agent_size=60 * MiB, code_server_size=100 * MiB):
        self.folder = pathlib.Path(folder)
        self.agent = padded.agent(agent_size)
        self.tarball = padded.code_server_tarball(VERSION, size=code_server_size)
        self.sha256 = hashlib.sha256(self.tarball.read_bytes()).hexdigest()
        self.files = FileServer(self.tarball.parent)
        self.coder = standins.CoderServer(self.folder / "coder", agent_binary=self.agent)
        self.key = self.folder / "id_ed25519"

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", str(self.key)], check=True)
        self.files.start()
        self.coder.start(timeout=60)
        return self

    def stop(self):
        self.coder.stop()
        self.files.stop()

    @property
    def ssh_key(self):
        return self.key.with_suffix(".pub").read_text().strip()

    def spec(self):
        document = standins.workspace_spec(
            access_url=f"http://127.0.0.1:{CODER_PORT}/", files_url=f"http://127.0.0.1:{FILES_PORT}",
            tarball=self.tarball, ssh_key=self.ssh_key, version=VERSION)
        document["workspace"]["id"] = WORKSPACE_ID
        document["coder"]["token"] = TOKEN
        return document

    def code_server_url(self):
        return f"http://127.0.0.1:{FILES_PORT}/{self.tarball.name}"


def project_user_data(stand_ins, folder):
    """`coder-vm-seed render-userdata` for the spec: what the Secret holds."""
    spec = pathlib.Path(folder) / "spec.json"
    spec.write_text(json.dumps(stand_ins.spec()))
    spec.chmod(0o600)
    out = subprocess.run([str(SEED_CLI), "render-userdata", str(spec)], check=True, capture_output=True, text=True)
    return out.stdout


def seed_user_data(stand_ins):
    """The seed template's cloud-config, re-created (see bench/seed/)."""
    seed = HERE / "seed"
    init = (seed / "agent-init.sh").read_text()
    for name, value in (("ACCESS_URL", f"http://127.0.0.1:{CODER_PORT}/"), ("ARCH", "amd64"), ("AUTH_TYPE", "token")):
        init = init.replace("${" + name + "}", value)  # Coder's template renders these in
    startup = (seed / "code-server-startup.sh").read_text().replace("${CODE_SERVER_URL}", stand_ins.code_server_url())

    def item(path, content, mode, owner="root:root"):
        body = "\n".join("      " + line for line in content.splitlines())
        return f"  - path: {path}\n    permissions: '{mode}'\n    owner: {owner}\n    content: |\n{body}\n"

    unit = (seed / "coder-agent.service").read_text().replace("@USER@", USER)
    return ("#cloud-config\n"
            "users:\n"
            f"  - name: {USER}\n    lock_passwd: true\n    shell: /bin/bash\n"
            "    sudo: ALL=(ALL) NOPASSWD:ALL\n    groups: [sudo, docker]\n"
            f"    ssh_authorized_keys: [{json.dumps(stand_ins.ssh_key)}]\n"
            "write_files:\n"
            + item("/opt/coder/init", init, "0755")
            + item("/opt/coder/run-agent", (seed / "run-agent.sh").read_text(), "0755")
            + item("/opt/coder/startup.sh", startup, "0755")
            + item("/opt/coder/agent.env", f"CODER_AGENT_TOKEN={TOKEN}\n", "0600")
            + item("/etc/systemd/system/coder-agent.service", unit, "0644")
            + "runcmd:\n"
            "  - [systemctl, daemon-reload]\n"
            "  - [systemctl, enable, --now, coder-agent.service]\n")


class Workspace:
    """One container disk (the overlay's upper folder) booted `boot()` times."""

    def __init__(self, approach, stand_ins, workdir, rate=40 * MiB, name=None):
        if approach not in ("project", "seed"):
            raise ValueError("approach is 'project' or 'seed'")
        self.approach, self.stand_ins, self.rate = approach, stand_ins, rate
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name or f"bench-{approach}"
        self.boots = 0
        self.container = None
        if approach == "project":
            self.user_data = project_user_data(stand_ins, self.workdir)
            self.files = {"/usr/bin/coder-vm-bootstrap": DAEMON,
                          **{f"/lib/systemd/system/{u}": (REPO / "units" / u).read_text() for u in UNITS}}
        else:
            self.user_data = seed_user_data(stand_ins)
            self.files = {}

    def _enable_daemon(self):
        """What `deb-systemd-helper enable` leaves behind, in the disk itself."""
        for target, unit in (("multi-user.target", "coder-vm-bootstrap.service"), ("paths.target", "coder-vm-bootstrap.path")):
            wants = self.workdir / "upper" / "etc" / "systemd" / "system" / f"{target}.wants"
            wants.mkdir(parents=True, exist_ok=True)
            link = wants / unit
            if not link.is_symlink():
                link.symlink_to(f"/lib/systemd/system/{unit}")

    def boot(self, timeout=600):
        """Boots (the first time cold, then warm on the same disk), waits for
        the agent's first report, code-server's /healthz 200 and (project)
        READY=1, and returns the figures in seconds from container start."""
        if self.container:
            self.container.stop()
        self.boots += 1
        if self.approach == "project":
            self._enable_daemon()
        c = nspawn.Container(
            image() / "rootfs", name=self.name, workdir=self.workdir, keep_workdir=True,
            files=self.files, user_data=self.user_data, instance_id=f"iid-{self.name}")
        self.container = c
        coder_requests_before = len(self.stand_ins.coder.requests())
        self.stand_ins.files.reset_stats()
        c.start(wait=False)
        t0 = c.timings["spawn"]
        wall0 = time.time() - (time.monotonic() - t0)
        relays = [RateLimitedRelay(c, CODER_PORT, self.stand_ins.coder.port, self.rate),
                  RateLimitedRelay(c, FILES_PORT, self.stand_ins.files.port, self.rate)]
        c.relays += relays
        result = {"approach": self.approach, "boot": self.boots, "kind": "cold" if self.boots == 1 else "warm"}
        deadline = time.monotonic() + timeout

        def left():
            return max(1.0, deadline - time.monotonic())

        def healthz():
            try:
                return c.http_get(CODE_SERVER_PORT, "/healthz", timeout=2)[0] == 200 and time.monotonic()
            except OSError:
                return False

        # Polled from the start, beside the wait for the agent's report: the
        # daemon may have code-server healthy before the agent reports.
        healthy = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        healthy_at = healthy.submit(wait_until, healthz, left(), interval=0.1, message="code-server /healthz 200")
        report = self.stand_ins.coder.wait_for_report(
            lambda r: r["time"] >= wall0 and r.get("token") == TOKEN and r["status"] == 200, timeout=left())
        result["agent_first_report_s"] = round(report["time"] - wall0, 3)
        result["code_server_healthz_s"] = round(healthy_at.result() - t0, 3)
        healthy.shutdown()
        if self.approach == "project":
            result.update(self._daemon_figures(c, t0, left()))
        result["downloaded_bytes"] = sum(r.bytes_in for r in relays)
        coder_requests = self.stand_ins.coder.requests()[coder_requests_before:]
        result["agent_requests"] = [f'{r["status"]} {r["bytes"]}' for r in coder_requests if r["path"].startswith("/bin/")]
        result["code_server_requests"] = self.stand_ins.files.stats()["statuses"]
        return result

    def _daemon_figures(self, c, t0, timeout):
        unit = "coder-vm-bootstrap.service"
        wait_until(lambda: c.unit_property(unit, "ActiveState") == "active", timeout, interval=0.1,
                   message=f"{unit} active (READY=1)")
        props = dict(line.split("=", 1) for line in c.run(
            ["systemctl", "show", unit, "-p", "ActiveEnterTimestampMonotonic", "-p", "ExecMainStartTimestampMonotonic",
             "-p", "InactiveExitTimestampMonotonic", "-p", "MainPID"]).stdout.split())
        ready = int(props["ActiveEnterTimestampMonotonic"]) / 1e6
        started = int(props["ExecMainStartTimestampMonotonic"]) / 1e6
        pid = props["MainPID"]
        memory = smaps_rollup(c, pid)
        inspection = json.loads(c.run(["python3", "-", pid], input=(HERE / "inspect_memory.py").read_text()).stdout)
        figures = {"ready_s": round(ready - t0, 3), "unit_start_s": round(started - t0, 3),
                   "daemon_rss_kib": memory["Rss"], "daemon_pss_kib": memory["Pss"],
                   "daemon_pss_vm_kib": round(sum(m["PssVM"] for m in inspection["mappings"])),
                   "daemon_anonymous_kib": memory["Anonymous"], "daemon_cpu_s": cpu_seconds(c, pid)}
        status = json.loads(c.run(["coder-vm-bootstrap", "status", "--json"], check=False).stdout or "{}")
        figures["daemon_stages"] = daemon_stages(c, started, ready, status)
        figures.update(steady_memory(c, pid))
        return figures

    def close(self):
        if self.container:
            self.container.stop()
            self.container = None


_image = []


def image():
    """The test image folder (built once by scripts/build-image.sh)."""
    if not _image:
        _image.append(nspawn.find_image())
    return _image[0]


# The boot log goes on for 30 s after READY=1 (CoderBootLog's grace), touching
# code the daemon dropped at READY; when it ends the daemon drops it again.
BOOT_LOG_GRACE_S = 30


def steady_memory(c, pid, timeout=BOOT_LOG_GRACE_S + 60):
    """The peak RSS from READY=1 until the boot log has ended (the kernel's
    own high-water mark, VmHWM, reset at READY=1 by writing 5 to
    /proc/PID/clear_refs: every page resident at any instant counts, not
    only at a sampling tick), then RSS, Pss among the guest's processes and
    anonymous memory in the steady state, in KiB. The boot log's end is
    the daemon dropping its start-up code a second time (the first is at
    READY=1)."""
    def drops():
        out = c.run(["journalctl", "-u", "coder-vm-bootstrap.service", "-b", f"_PID={pid}", "-o", "cat", "--no-pager"],
                    check=False).stdout
        return out.count("left the resident set")

    wait_until(lambda: drops() >= 1, timeout, interval=0.1, message="the drop of the start-up code at READY=1")
    c.run(["sh", "-c", f"echo 5 > /proc/{pid}/clear_refs"])
    wait_until(lambda: drops() >= 2, timeout, interval=0.5, message="the boot log's end (the second drop of the start-up code)")
    memory = smaps_rollup(c, pid)
    peak = int(next(line.split()[1] for line in c.run(["cat", f"/proc/{pid}/status"]).stdout.splitlines()
                    if line.startswith("VmHWM:")))
    inspection = json.loads(c.run(["python3", "-", pid], input=(HERE / "inspect_memory.py").read_text()).stdout)
    return {"daemon_rss_boot_log_peak_kib": max(peak, memory["Rss"]), "daemon_rss_steady_kib": memory["Rss"],
            "daemon_pss_vm_steady_kib": round(sum(m["PssVM"] for m in inspection["mappings"])),
            "daemon_anonymous_steady_kib": memory["Anonymous"]}


def smaps_rollup(c, pid):
    """/proc/PID/smaps_rollup of a process in the container, in KiB by field."""
    text = c.run(["cat", f"/proc/{pid}/smaps_rollup"]).stdout
    fields = {}
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[key.strip()] = int(value.split()[0])
    return fields


def cpu_seconds(c, pid):
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = c.run(["cat", f"/proc/{pid}/stat"]).stdout.rsplit(")", 1)[1].split()
    ticks = int(c.run(["getconf", "CLK_TCK"]).stdout)
    return round((int(fields[11]) + int(fields[12])) / ticks, 3)


# What the daemon brings up from the last boot's spec (Component.usesSecrets
# false, no afterUnits) before this boot's arrives.
AHEAD_OF_THE_BOOT_SPEC = ("user", "code-server")


def daemon_stages(c, started, ready, status):
    """The daemon's own time (seconds) from its journal and `status --json`:
    exec to its first line (spec read), user preparation, each component's
    converge and start (unit start + probes until healthy) stages, and
    unit start to READY=1 less the start stage of the component that was
    ready last (the wait on units and probes on the critical path), its
    wait for sysinit.target (`after-units`) and, unless it is one that
    starts ahead, the wait for cloud-init to deliver this boot's spec (the
    `boot-spec` stage of a warm boot); on a warm boot also that time less
    the daemon's start before it waited for the spec (which overlaps
    cloud-init's work): what it adds to READY=1 (`own_time_critical_path`).
    Uses only what the daemon logs and reports."""
    out = c.run(["journalctl", "-u", "coder-vm-bootstrap.service", "-b", "-o", "json", "--no-pager"], check=False).stdout
    entries = []
    for line in out.splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    lines = [e for e in entries if e.get("_PID") and e.get("SYSLOG_IDENTIFIER") != "systemd"]
    stages = {"unit_start_to_ready_s": round(ready - started, 3)}
    if lines:
        first = int(lines[0]["__MONOTONIC_TIMESTAMP"]) / 1e6
        stages["exec_to_first_log_s"] = round(first - started, 3)
    for e in lines:
        stage, component = e.get("STAGE"), e.get("COMPONENT")
        duration = e.get("DURATION_MS")
        if stage and duration:
            key = f"{stage}_{component}_s" if component else f"{stage}_s"
            stages.setdefault(key, round(int(duration) / 1000, 3))
    # How long after having its spec (its first line names it) each download
    # started: the "within 100 ms" on a cold boot.
    for e in lines:
        if e.get("STAGE") == "download" and e.get("MESSAGE", "").startswith("downloading "):
            stages.setdefault(f'download_start_{e.get("COMPONENT")}_after_spec_s',
                              round((int(e["__MONOTONIC_TIMESTAMP"]) - int(lines[0]["__MONOTONIC_TIMESTAMP"])) / 1e6, 3))
    for stage in status.get("stages", []):
        stages[f'{stage["stage"]}_s'] = round(stage["milliseconds"] / 1000, 3)
    last = None
    for component in status.get("components", []):
        for stage in component.get("stages", []):
            stages[f'{stage["stage"]}_{component["name"]}_s'] = round(stage["milliseconds"] / 1000, 3)
        if component.get("readyAfterMilliseconds") is not None and (
                last is None or component["readyAfterMilliseconds"] > last["readyAfterMilliseconds"]):
            last = component
    if last:
        waits = ("start", "after-units")
        wait = sum(s["milliseconds"] for s in last.get("stages", []) if s["stage"] in waits) / 1000
        stages["last_ready_component"] = last["name"]
        # On a warm boot all but the user and code-server also waited for
        # cloud-init to deliver this boot's spec.
        if last["name"] not in AHEAD_OF_THE_BOOT_SPEC:
            wait += stages.get("boot-spec_s", 0)
        stages["own_time_s"] = round(ready - started - wait, 3)
        # On a warm boot the daemon's own start (before it waits for this
        # boot's spec) runs while cloud-init still works towards writing
        # the spec: off the critical path. What the daemon adds to READY=1
        # is then its time from the spec's arrival on.
        arrived = [int(e["__MONOTONIC_TIMESTAMP"]) / 1e6 for e in lines
                   if e.get("STAGE") == "spec" and "arrived" in e.get("MESSAGE", "")]
        if arrived and last["name"] not in AHEAD_OF_THE_BOOT_SPEC and "boot-spec_s" in stages:
            before_the_wait = arrived[0] - started - stages["boot-spec_s"]
            stages["start_up_before_the_boot_spec_s"] = round(before_the_wait, 3)
            stages["own_time_critical_path_s"] = round(stages["own_time_s"] - before_the_wait, 3)
    stages["log"] = [f'{(int(e["__MONOTONIC_TIMESTAMP"]) / 1e6 - started):7.3f} {e.get("COMPONENT", "-"):<11} '
                     f'{e.get("STAGE", "-"):<9} {e.get("MESSAGE", "")}'[:160]
                     for e in lines if int(e["__MONOTONIC_TIMESTAMP"]) / 1e6 <= ready + 0.5]
    return stages
