#!/usr/bin/env python3
"""The main job end to end on one machine: coder-vm-seed renders the Secret
for a workspace, its `userdata` becomes the NoCloud disk (exactly what
KubeVirt hands the VM), and a Debian 12 VM boots under qemu; cloud-init
installs the coder-vm-bootstrap .deb from a URL this host serves, and the
daemon brings SSH, docker, code-server and the Coder agent up. code-server and
the Coder server/agent are the stand-ins from Tests/standins.

What it shows as it happens: the image build the first time (debootstrap's
progress, a line per stage), the boot's milestones read from the serial
console as qemu writes it (kernel, systemd, cloud-init stages, the .deb
install, the unit), the daemon's STATUS line each time it changes (from the
readiness endpoint), and at the end `coder-vm-bootstrap status` in the VM.

    scripts/demo.py [--keep]      (`make demo` builds what is missing first)

Without --keep the VM is killed at the end; with --keep it stays up for the
ssh command printed, until Ctrl-C or `scripts/vm/run-vm stop .cache/demo/vm`.
"""
import argparse
import collections
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "scripts" / "lib"), str(REPO / "scripts" / "vm"), str(REPO / "Tests" / "standins")]
import standins  # noqa: E402
import vmrunner  # noqa: E402
from standins import FileServer, workspace_spec  # noqa: E402

SEED = REPO / ".build/release/coder-vm-seed"
WORK = REPO / ".cache/demo"
VERSION = "4.96.4"
GUEST_HOST = "10.0.2.2"  # this machine's loopback, as qemu's user networking shows it to the guest


def say(text=""):
    print(text, flush=True)


def stamp(seconds):
    return f"{seconds:7.1f}s"


# --- the image -----------------------------------------------------------------------

class ImageBuildProgress:
    """debootstrap's hundreds of per-package lines, condensed to one line per
    stage ("unpacked 92 required packages"); on a terminal the stage being
    worked on is counted up in place."""

    PACKAGE_STEP = re.compile(r"^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) (\S+?)(?:\.\.\.|\s|$)")
    DONE = {"Retrieving": "downloaded", "Validating": "verified", "Extracting": "extracted",
            "Unpacking": "unpacked", "Configuring": "configured"}

    def __init__(self):
        self.started = time.monotonic()
        self.building = False
        self.step, self.count, self.group = None, 0, ""
        self.tail = collections.deque(maxlen=40)
        self.live = sys.stdout.isatty()

    def _line(self, text):
        if self.live:
            sys.stdout.write("\r\x1b[K")
        say(f"   {stamp(time.monotonic() - self.started)}  {text}")

    def _flush(self):
        if self.step and self.count:
            what = f"{self.group} packages" if self.group else "packages"
            self._line(f"{self.DONE[self.step]} {self.count} {what}")
        self.step, self.count = None, 0

    def feed(self, line):
        line = line.rstrip()
        self.tail.append(line)
        if line.startswith("building Debian 12 image"):
            self.building = True
            say(f"== the Debian 12 test image is not cached: {line}")
            return
        match = self.PACKAGE_STEP.match(line)
        if match and match.group(2) in ("required", "the"):  # "I: Unpacking required packages...", "... the base system..."
            self._flush()
            self.group = "required" if match.group(2) == "required" else "base system"
        elif match and match.group(2) not in ("InRelease", "Release", "Packages"):
            if match.group(1) != self.step:
                self._flush()
                self.step = match.group(1)
            self.count += 1
            if self.live:
                sys.stdout.write(f"\r\x1b[K   {stamp(time.monotonic() - self.started)}  "
                                 f"{match.group(1).lower()} {match.group(2)} ({self.count})")
                sys.stdout.flush()
        elif line.startswith("I: Retrieving Packages"):
            self._line("package lists")
        elif line.startswith("I: Base system installed"):
            self._flush()
            self._line("base system installed; making the disk image (ext4)")
        elif line.startswith(("E:", "W:")):
            self._flush()
            self._line(line)

    def finish(self):
        self._flush()


def build_image():
    """$IMAGE_DIR, else the folder scripts/build-image.sh prints (it builds
    the image once, cached under $IMAGE_CACHE or .cache/image), with its
    progress shown while it builds."""
    if os.environ.get("IMAGE_DIR"):
        return pathlib.Path(os.environ["IMAGE_DIR"])
    progress = ImageBuildProgress()
    build = subprocess.Popen([str(REPO / "scripts" / "build-image.sh")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, errors="replace")
    for line in build.stderr:
        progress.feed(line)
    folder = build.stdout.read().strip().splitlines()
    progress.finish()
    if build.wait() != 0 or not folder:
        sys.exit("demo: scripts/build-image.sh failed:\n" + "\n".join(progress.tail))
    image = pathlib.Path(folder[-1])
    if progress.building:
        say(f"   {stamp(time.monotonic() - progress.started)}  image ready: {image}")
    else:
        say(f"== the Debian 12 test image: {image} (cached)")
    return image


# --- the boot ------------------------------------------------------------------------

# What the serial console says when a boot gets somewhere (as seen on the
# Debian 12 image: kernel, systemd 252, cloud-init 22.4), and how the demo
# says it. Each is shown once, at its first line.
MILESTONES = [
    (re.compile(r"Linux version (\S+)"), "kernel {0} booting"),
    (re.compile(r"Run /init as init process"), "initramfs"),
    (re.compile(r"Welcome to (.+?)!"), "systemd up: {0}"),
    (re.compile(r"Cloud-init v\. (\S+) running '([^']+)'"), "cloud-init {1}"),
    (re.compile(r"coder-vm-bootstrap install: downloading \S*?([^/\s]+)$"), "cloud-init runcmd installs {0}"),
    # systemd cuts unit names to the console's width ("coder-vm-bootstrap.…").
    (re.compile(r"Starting coder-vm-bootstra"), "coder-vm-bootstrap.service starting"),
    (re.compile(r"Started coder-vm-bootstra"), "coder-vm-bootstrap.service started (READY=1)"),
    (re.compile(r"Cloud-init v\. \S+ finished at .*Up ([\d.]+) seconds"), "cloud-init finished (the guest's uptime {0} s)"),
    (re.compile(r"^(\S+) login:"), "login prompt on the console ({0})"),
]
CLOUD_INIT_FINISHED = "cloud-init finished"


def milestones(line):
    """The milestones in one console line (the kernel's messages can land
    on the same line as a login prompt)."""
    return [text.format(*match.groups()) for pattern, text in MILESTONES if (match := pattern.search(line))]


def guest_status(vm):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{vm.readiness_port}/status", timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


# Under TCG a boot is CPU-bound: on a loaded host (other builds, load 10-30)
# it takes five to ten times as long as on an idle one.
BOOT_TIMEOUT = 1800


class BootWatch:
    """Shows the console's milestones and the daemon's STATUS line as they
    come, each stamped with the time since qemu started."""

    def __init__(self, vm, started):
        self.vm, self.started = vm, started
        self.console = vm.console()
        self.shown = set()
        self.status, self.last_summary = None, None

    def say(self, text):
        say(f"   {stamp(time.monotonic() - self.started)}  {text}")

    def console_milestones(self):
        for line in self.console.new_lines():
            for text in milestones(line):
                if text not in self.shown:
                    self.shown.add(text)
                    self.say(f"console: {text}")

    def daemon_status(self):
        self.status = guest_status(self.vm) or self.status
        if self.status and self.status["summary"] != self.last_summary:
            label = "daemon's first STATUS" if self.last_summary is None else "STATUS"
            self.last_summary = self.status["summary"]
            self.say(f"{label}: {self.last_summary}")

    def until_settled(self, timeout=BOOT_TIMEOUT):
        """Until the daemon is ready (or degraded, or failed) and cloud-init
        has finished; returns the last status."""
        settled, next_poll = None, 0.0
        while time.monotonic() - self.started < timeout:
            self.vm._check_alive()
            self.console_milestones()
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + 1
                self.daemon_status()
                if settled is None and self.status and self.status["phase"] in ("ready", "degraded", "failed"):
                    settled = now
            cloud_init_done = any(t.startswith(CLOUD_INIT_FINISHED) for t in self.shown)
            # runcmd starts the unit without blocking, so cloud-init may end
            # before or after the daemon is ready: wait for it a while, not forever.
            if settled is not None and (cloud_init_done or now - settled > 300):
                return self.status
            time.sleep(0.5)
        raise vmrunner.Timeout(f"the workspace was neither ready nor failed {timeout} s after qemu started "
                               f"(load average {os.getloadavg()[0]:.1f}); last STATUS: {self.last_summary}")


def in_vm(vm, command):
    """Runs `command` in the VM as the workspace user and shows it as typed."""
    result = vm.ssh(command, check=False)
    say(f"$ {command}")
    out = (result.stdout + result.stderr).rstrip("\n")
    if out:
        say(out)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true",
                        help="leave the VM running for ssh until Ctrl-C or `scripts/vm/run-vm stop .cache/demo/vm`")
    args = parser.parse_args()
    debs = sorted((REPO / "out").glob("coder-vm-bootstrap_*_amd64.deb"))
    if not debs or not SEED.exists():
        sys.exit("demo: the .deb or coder-vm-seed is missing; run `make demo` (it builds them first)")
    deb = debs[-1]
    WORK.mkdir(parents=True, exist_ok=True)
    key, pub = vmrunner.make_ssh_key(WORK / "ssh")
    image = build_image()

    say("== stand-ins on this host: a Coder server (serves the agent) and a code-server release; the .deb")
    files_dir = WORK / "files"
    tarball = standins.build_code_server_tarball(VERSION, "amd64", files_dir)
    (files_dir / deb.name).write_bytes(deb.read_bytes())
    files = FileServer(files_dir)
    coder = standins.CoderServer(WORK / "coder").start()
    token = WORK / "agent-token"
    token.write_text(f"demo-token-{int(time.time())}\n")
    token.chmod(0o600)
    spec = workspace_spec(access_url=coder.url_for(GUEST_HOST), files_url=f"http://{GUEST_HOST}:{files.port}",
                          tarball=tarball, ssh_key=pub, version=VERSION, package=deb)
    (WORK / "spec.json").write_text(json.dumps(spec, indent=2))
    say("== coder-vm-seed render-secret (the token comes from a file, never argv)")
    secret = subprocess.run([str(SEED), "render-secret", str(WORK / "spec.json"), "--distro", "debian-12",
                             "--token-file", str(token)], check=True, capture_output=True, text=True).stdout
    (WORK / "secret.yaml").write_text(secret)
    say(f"   {WORK / 'secret.yaml'}: {len(secret)} bytes")

    # A first boot every time: a new disk over the image (a VM kept by an
    # earlier `--keep` run is killed first).
    workdir = WORK / "vm"
    vmrunner.kill_from_pidfile(workdir / "qemu.pid")
    shutil.rmtree(workdir, ignore_errors=True)
    vm = vmrunner.VM(image, workdir, name="coder-demo-dev", ssh_user="coder", ssh_key=key)
    try:
        accel = "KVM" if vmrunner.kvm_usable() else "TCG: a few minutes, more on a busy host"
        say(f"== booting Debian 12 under qemu ({accel}; load average {os.getloadavg()[0]:.1f}); "
            "times from qemu's start")
        started = time.monotonic()
        vm.boot(secret=secret, instance_id="iid-coder-demo-dev")
        say(f"   serial console: {vm.console_path}")
        watch = BootWatch(vm, started)
        status = watch.until_settled()
        settled_after = time.monotonic() - started
        # The daemon may be restarting sshd right now (a changed policy, a hung probe).
        vm.wait_for_ssh(timeout=300)
        vm.wait_for_cloud_init()
        state = vm.wait_for_system()
        watch.console_milestones()  # what the console said meanwhile (the unit's READY=1 comes late)

        say("")
        say("== in the VM, as the workspace user (what a person, a Coder metadata block and a probe run)")
        in_vm(vm, "coder-vm-bootstrap status --line")
        in_vm(vm, "coder-vm-bootstrap status --probe; echo \"exit $?\"")
        in_vm(vm, "coder-vm-bootstrap status")
        rss = vm.ssh("ps -o rss= -p $(systemctl show -p MainPID --value coder-vm-bootstrap)", check=False).stdout
        say("")
        say(f"{status['phase']} {settled_after:.0f} s after qemu started; systemd: {state}; "
            f"daemon RSS {int(rss or 0) / 1024:.1f} MiB")
        say(f"agent token seen by the Coder stand-in: {coder.wait_for_report()['token'] == token.read_text().strip()}")
        if args.keep:
            say(f"ssh:  ssh -p {vm.ssh_port} -i {key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                "coder@127.0.0.1")
            say(f"readiness: curl http://127.0.0.1:{vm.readiness_port}/status   "
                f"console: scripts/vm/run-vm console {workdir} --follow")
            say(f"running; Ctrl-C here or `scripts/vm/run-vm stop {workdir}` powers it off "
                "(the stand-ins it talks to live in this process)")
            while vm.running:
                time.sleep(1)
            say("the VM powered off")
        else:
            say("the VM is killed now; `scripts/demo.py --keep` leaves it running for ssh")
        return 0 if status and status["phase"] == "ready" else 1
    except vmrunner.Timeout as timeout:
        say(f"demo: {timeout}\n   console: {vm.console_path}; in the VM: journalctl -u coder-vm-bootstrap")
        return 1
    except KeyboardInterrupt:
        say("\npowering off")
        vm.powerdown(timeout=60)
        return 0
    finally:
        vm.kill()
        coder.stop()
        files.stop()


if __name__ == "__main__":
    sys.exit(main())
