"""Boot the test image as a real VM under qemu, seeded the way KubeVirt seeds it.

Host side, Python 3.11 (PyYAML is used for Kubernetes Secret files). Importable
(sys.path.insert(0, "<repo>/scripts/vm"); import vmrunner) and behind the
`run-vm` command line.

    from vmrunner import VM, find_image, make_ssh_key, smoke_cloud_config
    key, pub = make_ssh_key(tmp_path)
    with VM(find_image(), tmp_path / "vm", ssh_user="tester", ssh_key=key) as vm:
        vm.boot(user_data=smoke_cloud_config("tester", pub), instance_id="iid-1")
        vm.wait_for_ssh(); vm.wait_for_cloud_init(); vm.wait_for_system()
        vm.ssh("cat /etc/hostname")
        vm.reboot(secret="secret.yaml", instance_id="iid-2")   # same disk, new seed
    # leaving the block kills qemu (pidfile) and keeps the work dir for inspection

What a boot is (KubeVirt-like, measured on this machine in REFERENCE.md):
  * disk: a qcow2 overlay over the image's raw disk.img (read-only backing),
    created on the first boot and kept across reboots (the "persisted disk");
  * seed: a NoCloud `cidata` ISO made with cloud-localds from the Secret's
    userdata (data.* base64 or stringData.*; key userdata or userData; also
    networkdata/networkData) and KubeVirt's meta-data (JSON: instance-id,
    local-hostname); a new seed file per boot;
  * `-kernel/-initrd/-append` from the image; virtio disks (vda = disk, vdb =
    seed), virtio-net with user networking: host 127.0.0.1:<ssh_port> -> guest 22,
    127.0.0.1:<readiness_port> -> guest 13380 (+ `forwards`); in the guest the
    host's loopback is 10.0.2.2; virtio-rng for entropy;
  * `-accel tcg,thread=multi -cpu max` unless kvm_intel/kvm_amd is loaded (the
    /dev/kvm here is kvm_pvm: a stock kernel hangs under it);
  * serial console to <workdir>/console-<n>.log (read it as it grows with
    `vm.console()`, a ConsoleReader), QMP socket for a clean
    `system_powerdown`, -pidfile, -no-reboot (a guest reboot ends qemu).
qemu is killed (by pidfile, after checking it is that qemu) when the VM object
is left, at interpreter exit, on SIGTERM (turned into SystemExit), and by the
kernel when the starting thread dies (PR_SET_PDEATHSIG).
"""
import atexit
import base64
import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import time
import uuid

import processes
from processes import Timeout, die_with_parent, sigterm_to_exit

REPO = pathlib.Path(__file__).resolve().parents[2]
GUEST_READINESS_PORT = 13380
SECRET_MAX_BYTES = 1024 * 1024
_live = set()


class VMError(RuntimeError):
    pass


def wait_until(predicate, timeout, interval=1.0, message="condition", alive=None):
    """processes.wait_until, polling once a second; a VMError ends the wait."""
    return processes.wait_until(predicate, timeout, interval=interval, message=message, alive=alive, fatal=(VMError,))


# --- host facts ------------------------------------------------------------------

def find_image():
    """$IMAGE_DIR, else the folder scripts/build-image.sh prints (honours
    $IMAGE_CACHE, e.g. /work/main/.cache/image; builds if needed, ~4 min)."""
    if os.environ.get("IMAGE_DIR"):
        return pathlib.Path(os.environ["IMAGE_DIR"])
    out = subprocess.run([str(REPO / "scripts" / "build-image.sh")], check=True, capture_output=True, text=True)
    return pathlib.Path(out.stdout.strip().splitlines()[-1])


def kvm_usable():
    """True only with a hardware KVM module (kvm_intel / kvm_amd) and /dev/kvm."""
    return os.path.exists("/dev/kvm") and any(os.path.isdir(f"/sys/module/{m}") for m in ("kvm_intel", "kvm_amd"))


def accel_args(accel=None):
    accel = accel or ("kvm" if kvm_usable() else "tcg")
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ssh_key(directory, name="id_ed25519"):
    """Creates (or reuses) an ed25519 key pair: returns (private key path, public key line)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / name
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vm-test", "-f", str(key)], check=True)
    return key, (directory / f"{name}.pub").read_text().strip()


# --- seeds -------------------------------------------------------------------------

def _secret_value(doc, *keys):
    """stringData wins over data (as the API server merges them); data is base64."""
    string_data = doc.get("stringData") or {}
    data = doc.get("data") or {}
    for key in keys:
        if key in string_data:
            return string_data[key].encode()
    for key in keys:
        if key in data:
            return base64.b64decode(data[key])
    return None


def read_secret(source):
    """Returns (user_data bytes, network_data bytes | None) from a Kubernetes
    Secret YAML (a path or the text; multi-document files are searched for the
    first Secret with a userdata/userData key). A file that is not a Secret is
    taken as the user-data itself."""
    import yaml  # host only

    if isinstance(source, pathlib.Path) or ("\n" not in source and os.path.isfile(source)):
        text = pathlib.Path(source).read_text()
    else:
        text = source
    try:
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError:
        docs = []
    secrets = [d for d in docs if d.get("kind") == "Secret"]
    if not secrets:
        if any("kind" in d for d in docs):
            raise VMError("no Secret in the document(s)")
        return text.encode(), None
    for doc in secrets:
        user_data = _secret_value(doc, "userdata", "userData")
        if user_data is not None:
            size = sum(len(base64.b64decode(v)) for v in (doc.get("data") or {}).values()) + \
                sum(len(str(v).encode()) for v in (doc.get("stringData") or {}).values())
            if size > SECRET_MAX_BYTES:
                raise VMError(f"Secret {doc.get('metadata', {}).get('name')} is {size} bytes: over the 1 MiB limit")
            return user_data, _secret_value(doc, "networkdata", "networkData")
    raise VMError("no Secret with a userdata/userData key")


def kubevirt_meta_data(instance_id, hostname):
    """meta-data as KubeVirt writes it for NoCloud (JSON, which cloud-init reads as YAML)."""
    return json.dumps({"instance-id": instance_id, "local-hostname": hostname})


def make_seed(path, user_data, instance_id, hostname, network_config=None):
    """Writes a NoCloud seed disk (ISO 9660, label cidata) with cloud-localds."""
    path = pathlib.Path(path)
    stage = path.parent / (path.name + ".d")
    stage.mkdir(parents=True, exist_ok=True)
    (stage / "user-data").write_bytes(user_data if isinstance(user_data, bytes) else user_data.encode())
    (stage / "meta-data").write_text(kubevirt_meta_data(instance_id, hostname))
    cmd = ["cloud-localds"]
    if network_config is not None:
        (stage / "network-config").write_bytes(
            network_config if isinstance(network_config, bytes) else network_config.encode())
        cmd += ["-N", str(stage / "network-config")]
    cmd += [str(path), str(stage / "user-data"), str(stage / "meta-data")]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return path


def smoke_cloud_config(user, public_key, marker="/var/tmp/smoke-runcmd"):
    """A tiny cloud-config: `user` with the key and passwordless sudo, and a runcmd
    that appends the instance id and boot id to `marker`."""
    return (
        "#cloud-config\n"
        "users:\n"
        f"  - name: {user}\n"
        "    shell: /bin/bash\n"
        "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
        "    ssh_authorized_keys:\n"
        f"      - {public_key}\n"
        "runcmd:\n"
        f"  - [sh, -c, 'echo \"$(cloud-init query instance_id) $(cat /proc/sys/kernel/random/boot_id)\" >> {marker}']\n"
    )


# --- processes --------------------------------------------------------------------

def pid_from_pidfile(pidfile):
    """The qemu pid in pidfile if that process is alive and is qemu started with
    this pidfile (so a recycled pid is never killed); else None."""
    try:
        pid = int(pathlib.Path(pidfile).read_text().strip())
        cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if not cmdline or b"qemu-system" not in os.path.basename(cmdline[0]):
        return None
    if str(pathlib.Path(pidfile).resolve()).encode() not in cmdline:
        return None
    return pid


def kill_from_pidfile(pidfile, timeout=10):
    """SIGKILLs the qemu named by pidfile (if it is still that qemu) and waits for it."""
    pid = pid_from_pidfile(pidfile)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while pathlib.Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return True


class QMP:
    """Minimal QMP client over the unix socket."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        while True:
            line = self.file.readline()
            if not line:
                raise VMError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def execute(self, command, **arguments):
        req = {"execute": command}
        if arguments:
            req["arguments"] = arguments
        self.file.write(json.dumps(req).encode() + b"\n")
        self.file.flush()
        reply = self._read()
        if "error" in reply:
            raise VMError(f"QMP {command}: {reply['error']}")
        return reply.get("return")

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


# --- the serial console ---------------------------------------------------------------

_TERMINAL_ESCAPES = re.compile(rb"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


class ConsoleReader:
    """Reads a serial console log while qemu writes it: each call to
    new_lines() returns the lines completed since the last call, as text
    without terminal escapes (systemd colours its "[  OK  ]") or control
    bytes. A line still being written waits for its newline. A file that
    got shorter was started again (qemu truncates it when it opens it,
    which is after it writes its pidfile): it is read from its start."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.offset = 0
        self.partial = b""

    def new_lines(self):
        try:
            with open(self.path, "rb") as f:
                if os.fstat(f.fileno()).st_size < self.offset:
                    self.offset, self.partial = 0, b""
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return [_CONTROL_BYTES.sub(b"", _TERMINAL_ESCAPES.sub(b"", line)).decode(errors="replace").strip()
                for line in lines]


# --- the VM -------------------------------------------------------------------------

class VM:
    """A qemu VM over the image at image_dir, with its files in workdir.

    image_dir       folder with disk.img (raw), vmlinuz, initrd.img, cmdline
    workdir         overlay.qcow2, seed-<n>.img, console-<n>.log, qemu.pid,
                    qmp.sock, qemu-<n>.log (qemu's own stderr), timings.json
    name            -name for qemu (and default hostname)
    ssh_port        host port forwarded to guest 22 (default: a free port)
    readiness_port  host port forwarded to guest 13380 (default: a free port)
    forwards        {guest port: host port} more TCP forwards
    ssh_user, ssh_key  defaults for ssh()/wait_for_ssh()
    memory, smp     -m / -smp (2048, 2)
    accel           "tcg" / "kvm" / None (auto, see kvm_usable)
    extra_args      appended to the qemu command line
    die_with_parent qemu gets SIGKILL if the thread that booted it dies (default
                    True; run-vm --detach turns it off)
    """

    def __init__(self, image_dir, workdir, *, name="vm", ssh_port=None, readiness_port=None, forwards=None,
                 ssh_user=None, ssh_key=None, memory=2048, smp=2, accel=None, extra_args=(),
                 die_with_parent=True):
        self.image_dir = pathlib.Path(image_dir).resolve()
        self.workdir = pathlib.Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        for f in ("disk.img", "vmlinuz", "initrd.img", "cmdline"):
            if not (self.image_dir / f).exists():
                raise VMError(f"{self.image_dir} has no {f}")
        self.name = name
        self.ssh_port = ssh_port or free_port()
        self.readiness_port = readiness_port or free_port()
        self.forwards = dict(forwards or {})
        self.ssh_user, self.ssh_key = ssh_user, ssh_key
        self.memory, self.smp, self.accel = memory, smp, accel
        self.extra_args = list(extra_args)
        self.die_with_parent = die_with_parent
        self.overlay = self.workdir / "overlay.qcow2"
        self.pidfile = self.workdir / "qemu.pid"
        self.qmp_path = self.workdir / "qmp.sock"
        self.proc = None
        self.boots = 0
        self.timings = []
        self.instance_id = None

    # -- lifecycle
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    def create_overlay(self):
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                        str(self.image_dir / "disk.img"), str(self.overlay)], check=True)

    def command(self, seed, console):
        hostfwd = [f"hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
                   f"hostfwd=tcp:127.0.0.1:{self.readiness_port}-:{GUEST_READINESS_PORT}"]
        hostfwd += [f"hostfwd=tcp:127.0.0.1:{h}-:{g}" for g, h in self.forwards.items()]
        cmd = ["qemu-system-x86_64", "-name", self.name, "-machine", "q35", *accel_args(self.accel),
               "-m", str(self.memory), "-smp", str(self.smp),
               "-kernel", str(self.image_dir / "vmlinuz"), "-initrd", str(self.image_dir / "initrd.img"),
               "-append", (self.image_dir / "cmdline").read_text().strip(),
               "-drive", f"file={self.overlay},if=virtio,format=qcow2",
               "-drive", f"file={seed},if=virtio,format=raw,readonly=on",
               "-nic", "user,model=virtio-net-pci," + ",".join(hostfwd),
               "-device", "virtio-rng-pci",
               "-serial", f"file:{console}", "-display", "none", "-monitor", "none",
               "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
               "-pidfile", str(self.pidfile), "-no-reboot"]
        if self.instance_id and _is_uuid(self.instance_id):
            cmd += ["-uuid", self.instance_id]  # KubeVirt's firmware UUID
        return cmd + self.extra_args

    def boot(self, *, user_data=None, secret=None, instance_id=None, hostname=None, network_config=None):
        """Starts qemu with a new seed. Give user_data (str/bytes) or secret (a
        Secret YAML path or text). instance_id defaults to a new UUID (as KubeVirt
        >= 1.6 does for a re-created VM); hostname to the VM name. Returns at once;
        use wait_for_ssh() etc."""
        if self.running:
            raise VMError("VM is already running")
        if (user_data is None) == (secret is None):
            raise ValueError("give exactly one of user_data or secret")
        if secret is not None:
            user_data, secret_network = read_secret(secret)
            network_config = network_config if network_config is not None else secret_network
        self.boots += 1
        n = self.boots
        self.instance_id = instance_id or str(uuid.uuid4())
        if not self.overlay.exists():
            self.create_overlay()
        seed = make_seed(self.workdir / f"seed-{n}.img", user_data, self.instance_id, hostname or self.name,
                         network_config)
        console = self.workdir / f"console-{n}.log"
        self.console_path = console
        kill_from_pidfile(self.pidfile)  # a qemu left from an earlier run of this workdir
        self.pidfile.unlink(missing_ok=True)
        self.qmp_path.unlink(missing_ok=True)
        cmd = self.command(seed, console)
        (self.workdir / f"qemu-{n}.cmd").write_text(shlex.join(cmd) + "\n")
        _live.add(self)
        sigterm_to_exit()
        self.timings.append({"boot": n, "instance_id": self.instance_id, "accel": accel_args(self.accel)[1]})
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / f"qemu-{n}.log", "wb"),
                                     start_new_session=True,
                                     preexec_fn=die_with_parent(signal.SIGKILL) if self.die_with_parent else None)
        try:
            wait_until(lambda: pid_from_pidfile(self.pidfile), 30, interval=0.05, message="qemu's pidfile",
                       alive=self._check_alive)
        except BaseException:
            self.kill()
            raise
        return self

    def _mark(self, what):
        t = round(time.monotonic() - self._t0, 1)
        self.timings[-1][what] = t
        (self.workdir / "timings.json").write_text(json.dumps(self.timings, indent=1))
        return t

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise VMError(f"qemu exited with {self.proc.returncode}: "
                          f"{(self.workdir / f'qemu-{self.boots}.log').read_text(errors='replace')[-2000:]}"
                          f"\n--- console tail ---\n{self.console_tail()}")

    def console(self):
        """A ConsoleReader over this boot's serial console, from its start."""
        return ConsoleReader(self.console_path)

    def console_tail(self, chars=3000):
        try:
            return self.console_path.read_text(errors="replace")[-chars:]
        except (OSError, AttributeError):
            return ""

    def qmp(self, command, **arguments):
        q = QMP(self.qmp_path)
        try:
            return q.execute(command, **arguments)
        finally:
            q.close()

    def powerdown(self, timeout=180, via="qmp"):
        """Clean stop: ACPI power button through QMP (via="qmp") or `sudo poweroff`
        over ssh (via="ssh"); waits for qemu to exit, kills it after timeout.
        Returns True if it exited by itself."""
        if not self.running:
            return True
        asked = time.monotonic()
        try:
            if via == "ssh":
                self.ssh("sudo systemctl poweroff --no-block", check=False, timeout=30)
            else:
                self.qmp("system_powerdown")
        except (OSError, VMError, subprocess.TimeoutExpired):
            pass
        try:
            self.proc.wait(timeout)
            clean = True
        except subprocess.TimeoutExpired:
            clean = False
        self.timings[-1]["powerdown_s"] = round(time.monotonic() - asked, 1)
        self._mark("powered_off" if clean else "killed")
        self.kill()
        return clean

    def kill(self):
        """Kills qemu by pidfile (and the child we hold). Idempotent."""
        kill_from_pidfile(self.pidfile)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.pidfile.unlink(missing_ok=True)
        _live.discard(self)

    def reboot(self, *, timeout=180, via="qmp", **boot_args):
        """Power off cleanly, then boot the same overlay with a new seed (boot_args
        as for boot(); a new instance_id means cloud-init sees a new instance)."""
        self.powerdown(timeout=timeout, via=via)
        return self.boot(**boot_args)

    # -- guest access
    def ssh_command(self, command, user=None, key=None, connect_timeout=10):
        user, key = user or self.ssh_user, key or self.ssh_key
        if not user or not key:
            raise ValueError("ssh needs a user and a key (VM(ssh_user=, ssh_key=) or arguments)")
        return ["ssh", "-F", "/dev/null", "-p", str(self.ssh_port), "-i", str(key),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", f"ConnectTimeout={connect_timeout}",
                "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6",
                f"{user}@127.0.0.1", command if isinstance(command, str) else shlex.join(command)]

    def ssh(self, command, *, user=None, key=None, check=True, timeout=120, input=None):
        """Runs command (a string for the remote shell, or a list to quote) over ssh."""
        return subprocess.run(self.ssh_command(command, user, key), check=check, timeout=timeout, input=input,
                              capture_output=True, text=True)

    def wait_for_ssh(self, timeout=400, user=None, key=None):
        """Polls until `ssh true` works (the forwarded port accepts TCP long before
        sshd is up, so only a real login counts). Returns seconds since qemu start."""
        def ok():
            return self.ssh("true", user=user, key=key, check=False, timeout=30).returncode == 0
        wait_until(ok, timeout, interval=2, message="ssh login", alive=self._check_alive)
        return self._mark("ssh_up")

    def wait_for_cloud_init(self, timeout=400):
        """`cloud-init status --wait --long --format json` (bounded by timeout, since
        --wait has none): returns (exit code, status dict). 0 done, 1 error, 2 recoverable."""
        out = self.ssh("cloud-init status --wait --long --format json", check=False, timeout=timeout)
        self._mark("cloud_init_done")
        try:
            status = json.loads(out.stdout)
        except ValueError:
            status = {"raw": out.stdout, "stderr": out.stderr}
        return out.returncode, status

    def wait_for_system(self, timeout=300):
        """`systemctl is-system-running --wait`: returns the state (running, degraded, ...)."""
        out = self.ssh("systemctl is-system-running --wait", check=False, timeout=timeout)
        self._mark("system_" + out.stdout.strip())
        return out.stdout.strip()

    def guest_url(self, port):
        """How a service on the host's 127.0.0.1:port is reached from the guest."""
        return f"http://10.0.2.2:{port}/"


def _is_uuid(value):
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


@atexit.register
def _kill_all():
    for vm in list(_live):
        try:
            vm.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
