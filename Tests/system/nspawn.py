"""Boot the test image's rootfs under systemd-nspawn: a real systemd (PID 1),
journald, sshd, docker and cloud-init, without a VM. Host side, Python 3.11
standard library; needs root, systemd-nspawn, nsenter and overlayfs.

    from nspawn import Container, find_image   # scripts/lib, Tests/system on the path (pytest.ini)

    image = find_image()                       # the build-image.sh cache folder
    with Container(image / "rootfs", files={"/etc/motd": "hi\\n"},
                   user_data="#cloud-config\\n...") as c:   # boots, waits for systemd
        c.run(["systemctl", "start", "ssh"])
        c.connect(22).recv(64)                  # b"SSH-2.0-OpenSSH_9.2p1 ..."
        port = c.expose(13380)                  # host 127.0.0.1:port -> container :13380
        c.forward_to_host(8080, coder.port)     # container 127.0.0.1:8080 -> host server

How it works (what was found to work on this machine, see README notes below):
  * The base rootfs stays untouched: an overlayfs (lower = rootfs, upper and work
    in the container's work dir) is mounted on the host at <workdir>/root and
    booted with `systemd-nspawn --boot --register=no --keep-unit -D <workdir>/root`.
    Files are installed by writing into that tree before boot (`files=`,
    `write_file`), and `changes()` lists what the container changed (the upper dir).
    (`--volatile=overlay` on the rootfs also works and keeps the base untouched,
    but then nothing can be put in before boot and nothing is left to inspect.)
  * The host has no systemd PID 1 and no system bus: --register=no (no machined)
    and --keep-unit (no transient scope) are required.
  * network="private" (default): `--private-network`, the container has only its
    own loopback. Ports never clash between tests (sshd on 22 in every container),
    CAP_NET_ADMIN is granted so docker starts. Reach container ports from the host
    with connect()/http_get()/expose(); reach host servers (the Coder stand-in)
    from the container with forward_to_host(). Both relay through sockets
    opened inside the container's network namespace (setns in a helper thread).
    network="host": the host's network namespace; no CAP_NET_ADMIN, so docker
    fails (iptables) and the boot ends "degraded" unless docker is masked
    (mask=DOCKER_UNITS); every listening port is a host port (sshd binds :22).
  * cgroups: the host is cgroup v1 "hybrid" (v1 controllers, a name=systemd
    hierarchy and an empty cgroup2 at /sys/fs/cgroup/unified). cgroup="unified"
    (default, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1) gives the container a pure
    cgroup2 /sys/fs/cgroup like the VM has, but the host's controllers are all
    bound to v1, so MemoryMax=/CPUQuota=/TasksMax= are accepted and not enforced.
    cgroup="hybrid" gives the container the host's v1 layout (docker then reports
    cgroup version 1).
  * This machine's capability bounding set lacks CAP_SYS_RESOURCE (even for host
    root): OOMScoreAdjust=-900 is accepted by systemd (the unit property says
    -900) but the process keeps oom_score_adj 0. Check the property, not /proc.
  * Files: host_path() is the overlay tree as the host sees it; it does not see
    the container's own tmpfs mounts (/run, /tmp, /dev). read_file/write_file go
    through the container while it runs, so they do.
  * The console does not come through --console=pipe; --console=passive is used
    and state is read with nsenter (run(), journal(), system_state()).
  * Commands run with `nsenter -t <container PID 1> -a` and a clean environment;
    they are outside the container's unit cgroups. Start long-lived processes with
    systemd-run inside (run(["systemd-run", "--unit", "x", ...])).
  * Teardown: SIGTERM to systemd-nspawn (the container powers off cleanly in about
    1.5 s), then SIGKILL nspawn and the container's PID 1 if it is still there after
    the timeout, then unmount the overlay. Registered with atexit too, so an
    interrupted pytest does not leave containers behind.
"""
import atexit
import ctypes
import http.client
import itertools
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from processes import Timeout, die_with_parent, sigterm_to_exit, wait_until

REPO = pathlib.Path(__file__).resolve().parents[2]
DOCKER_UNITS = ("docker.service", "docker.socket", "containerd.service")
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb"}
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_counter = itertools.count(1)
_live = set()


class ContainerError(RuntimeError):
    pass


def find_image(build=True):
    """The guest image folder (rootfs/, disk.img, vmlinuz, initrd.img, cmdline).
    $IMAGE_DIR if set; else what scripts/build-image.sh prints (it honours
    $IMAGE_CACHE, e.g. IMAGE_CACHE=/work/main/.cache/image, and builds the
    image first if it is not cached: about 4 minutes)."""
    if os.environ.get("IMAGE_DIR"):
        return pathlib.Path(os.environ["IMAGE_DIR"])
    if not build:
        raise ContainerError("IMAGE_DIR is not set")
    out = subprocess.run([str(REPO / "scripts" / "build-image.sh")], check=True, capture_output=True, text=True)
    return pathlib.Path(out.stdout.strip().splitlines()[-1])


def can_run():
    """None if this machine can run containers, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("systemd-nspawn", "nsenter", "mount", "umount"):
        if not shutil.which(tool):
            return f"needs {tool}"
    return None


def _in_netns(pid, fn):
    """Runs fn() in a helper thread that has joined the network namespace of pid;
    sockets it creates stay in that namespace. Returns fn's result."""
    box = {}

    def target():
        try:
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns(net of {pid}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def cleanup_stale(tmp=None):
    """Unmounts and removes work dirs of containers whose owning process is gone
    (left by a killed test run). Returns the work dirs cleaned."""
    cleaned = []
    base = pathlib.Path(tmp or tempfile.gettempdir())
    mounts = pathlib.Path("/proc/mounts").read_text().splitlines()
    for owner in base.glob("nspawn-*/owner.pid"):
        workdir = owner.parent
        try:
            alive = pathlib.Path(f"/proc/{int(owner.read_text())}").exists()
        except (OSError, ValueError):
            alive = False
        if alive:
            continue
        root = str(workdir / "root")
        if any(line.split()[1] == root for line in mounts):
            subprocess.run(["umount", "-l", root], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
        cleaned.append(workdir)
    return cleaned


def _pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (b,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


class Relay:
    """Accepts on `listener` and connects each client with connect_fn()."""

    def __init__(self, listener, connect_fn, description):
        self.listener = listener
        self.connect_fn = connect_fn
        self.description = description
        self.port = listener.getsockname()[1]
        self.closed = False
        self.conns = []
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = self.connect_fn()
                # The timeout was for connecting only: a slow answer on a loaded
                # machine must not be cut off as an empty reply.
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self.conns += [client, upstream]
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()

    def close(self):
        self.closed = True
        for s in [self.listener, *self.conns]:
            try:
                s.close()
            except OSError:
                pass


class Container:
    """One systemd-nspawn container booted from `rootfs` through an overlay.

    rootfs       the image's rootfs folder (never written to)
    name         machine name (also the hostname until cloud-init sets one);
                 default "sys<pid>-<n>"
    workdir      where the overlay (upper/, work/, root/) and logs go; default a
                 fresh temp dir, removed by stop() unless keep_workdir=True
    network      "private" (default) or "host", see the module docstring
    cgroup       "unified" (default) or "hybrid"
    files        {guest path: str | bytes | pathlib.Path (a host file to copy)}
                 written into the tree before boot (mode 0644, 0755 for a host
                 file that is executable); or {path: (content, mode)}
    binds, binds_ro  [(host path, guest path)] -> --bind= / --bind-ro=
    user_data, meta_data, network_config  NoCloud seed written to
                 /var/lib/cloud/seed/nocloud/ (meta_data default: instance-id
                 from instance_id or "iid-<name>", local-hostname = name)
    mask         units to mask before boot (e.g. DOCKER_UNITS)
    extra_args   more systemd-nspawn arguments
    boot_timeout seconds for systemd to reach running/degraded in start()
    """

    def __init__(self, rootfs, *, name=None, workdir=None, network="private", cgroup="unified",
                 files=None, binds=(), binds_ro=(), user_data=None, meta_data=None, network_config=None,
                 instance_id=None, mask=(), extra_args=(), boot_timeout=90, keep_workdir=False):
        if network not in ("private", "host"):
            raise ValueError("network must be 'private' or 'host'")
        if cgroup not in ("unified", "hybrid"):
            raise ValueError("cgroup must be 'unified' or 'hybrid'")
        self.rootfs = pathlib.Path(rootfs).resolve()
        self.name = name or f"sys{os.getpid()}-{next(_counter)}"
        self.network, self.cgroup = network, cgroup
        self.files = dict(files or {})
        self.binds, self.binds_ro = list(binds), list(binds_ro)
        self.user_data, self.meta_data, self.network_config = user_data, meta_data, network_config
        self.instance_id = instance_id
        self.mask = list(mask)
        self.extra_args = list(extra_args)
        self.boot_timeout = boot_timeout
        self.keep_workdir = keep_workdir
        self._own_workdir = workdir is None
        self.workdir = pathlib.Path(workdir or tempfile.mkdtemp(prefix=f"nspawn-{self.name}-"))
        self.root = self.workdir / "root"
        self.upper = self.workdir / "upper"
        self.log_path = self.workdir / "nspawn.log"
        self.proc = None
        self.leader = None
        self.relays = []
        self.mounted = False
        self.timings = {}

    # -- lifecycle -------------------------------------------------------------

    def start(self, wait=True):
        """Boots; with wait=False returns once the container's PID 1 is known
        (for relays that must exist before units that need them start)."""
        reason = can_run()
        if reason:
            raise ContainerError(f"cannot run systemd-nspawn here: {reason}")
        if not (self.rootfs / "sbin" / "init").exists() and not (self.rootfs / "lib" / "systemd" / "systemd").exists():
            raise ContainerError(f"{self.rootfs} does not look like a rootfs with systemd")
        _live.add(self)
        sigterm_to_exit()
        try:
            self._mount()
            self._install()
            self._spawn()
            if wait:
                self.wait_for_system(self.boot_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _mount(self):
        for d in ("upper", "work", "root"):
            (self.workdir / d).mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={self.rootfs},upperdir={self.upper},workdir={self.workdir / 'work'}",
                        str(self.root)], check=True, capture_output=True, text=True)
        self.mounted = True

    def _install(self):
        for path, content in self.files.items():
            mode = None
            if isinstance(content, tuple):
                content, mode = content
            if isinstance(content, pathlib.Path):
                data = content.read_bytes()
                mode = mode if mode is not None else (0o755 if os.access(content, os.X_OK) else 0o644)
            else:
                data = content.encode() if isinstance(content, str) else bytes(content)
            self.write_file(path, data, mode if mode is not None else 0o644)
        if self.user_data is not None:
            seed = "/var/lib/cloud/seed/nocloud"
            meta = self.meta_data
            if meta is None:
                meta = (f"instance-id: {self.instance_id or 'iid-' + self.name}\n"
                        f"local-hostname: {self.name}\n")
            self.write_file(f"{seed}/user-data", self.user_data, 0o600)
            self.write_file(f"{seed}/meta-data", meta, 0o600)
            if self.network_config is not None:
                self.write_file(f"{seed}/network-config", self.network_config, 0o600)
        for unit in self.mask:
            link = self.host_path(f"/etc/systemd/system/{unit}")
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.exists() or link.is_symlink():
                link.unlink()
            link.symlink_to("/dev/null")

    def _spawn(self):
        cmd = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--console=passive",
               f"--machine={self.name}", "-D", str(self.root)]
        if self.network == "private":
            cmd.append("--private-network")
        cmd += [f"--bind={h}:{g}" for h, g in self.binds]
        cmd += [f"--bind-ro={h}:{g}" for h, g in self.binds_ro]
        cmd += self.extra_args
        env = dict(os.environ)
        env["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1" if self.cgroup == "unified" else "0"
        self.timings["spawn"] = time.monotonic()
        (self.workdir / "owner.pid").write_text(str(os.getpid()))
        with open(self.log_path, "ab") as log:
            # Own session (a Ctrl-C reaches us, not nspawn directly); SIGTERM (a clean
            # poweroff) when the thread that started it dies, e.g. pytest is killed.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True, preexec_fn=die_with_parent())
        self.leader = wait_until(self._find_leader, 30, interval=0.05, message="the container's PID 1")
        self.timings["leader"] = time.monotonic()

    def _find_leader(self):
        if self.proc.poll() is not None:
            raise ContainerError(f"systemd-nspawn exited with {self.proc.returncode}: {self.log()}")
        candidates = set()
        for task in pathlib.Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            try:
                candidates.update(int(p) for p in task.read_text().split())
            except OSError:
                pass
        for pid in candidates:
            try:
                status = pathlib.Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
            if len(nspid) >= 2 and nspid[-1] == "1":
                # Wait until it has exec'd systemd (before, it is still nspawn's child).
                exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
                if exe in ("systemd", "init"):
                    return pid
        return None

    def wait_for_system(self, timeout=90):
        """Waits for `systemctl is-system-running --wait` to report running or
        degraded; returns that state. Raises on timeout or if nspawn exits."""
        def state():
            if self.proc.poll() is not None:
                raise ContainerError(f"systemd-nspawn exited with {self.proc.returncode}: {self.log()}")
            out = self.run(["systemctl", "is-system-running", "--wait"], check=False,
                           timeout=max(1, timeout))
            value = out.stdout.strip()
            return value if value in ("running", "degraded") else None
        try:
            result = wait_until(state, timeout, interval=0.2, message=f"systemd in {self.name} to finish booting")
        except Timeout as e:
            raise Timeout(f"{e}\n--- nspawn log ---\n{self.log()}") from None
        self.timings["system"] = time.monotonic()
        return result

    def stop(self, timeout=20):
        """Powers the container off (SIGTERM to nspawn), kills it after `timeout`,
        unmounts the overlay and removes the work dir. Idempotent."""
        for relay in self.relays:
            relay.close()
        self.relays = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.leader:
            try:
                os.kill(self.leader, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                wait_until(lambda: not pathlib.Path(f"/proc/{self.leader}").exists(), 10, interval=0.05,
                           message="the container's PID 1 to go")
            except Timeout:
                pass
            self.leader = None
        if self.mounted:
            if subprocess.run(["umount", str(self.root)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(self.root)], capture_output=True)
            self.mounted = False
        if self._own_workdir and not self.keep_workdir and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)
        _live.discard(self)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- inside the container ----------------------------------------------------

    def run(self, cmd, *, check=True, timeout=120, input=None, user=None, env=None, text=True):
        """Runs cmd (a list, or a string for `sh -c`) inside the container as root,
        or as `user` (through runuser). Returns subprocess.CompletedProcess with
        stdout/stderr; raises CalledProcessError if check and it fails."""
        if not self.leader:
            raise ContainerError("container is not running")
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        full = ["nsenter", "-t", str(self.leader), "-a", *cmd]
        return subprocess.run(full, check=check, timeout=timeout, input=input, capture_output=True, text=text,
                              env={**CLEAN_ENV, **(env or {})})

    def systemctl(self, *args, check=True):
        return self.run(["systemctl", *args], check=check)

    def system_state(self):
        return self.run(["systemctl", "is-system-running"], check=False).stdout.strip()

    def unit_property(self, unit, prop):
        return self.run(["systemctl", "show", "-P", prop, unit]).stdout.strip()

    def wait_for_unit(self, unit, state="active", timeout=60):
        """Polls `systemctl is-active unit` until it prints `state`."""
        return wait_until(lambda: self.run(["systemctl", "is-active", unit], check=False).stdout.strip() == state,
                          timeout, message=f"{unit} to be {state}")

    def journal(self, unit=None, lines=300):
        cmd = ["journalctl", "--no-pager", "-o", "short-precise", "-n", str(lines)]
        if unit:
            cmd += ["-u", unit]
        return self.run(cmd, check=False).stdout

    def cloud_init_status(self):
        """cloud-init status --long --format json, as a dict (waits for it to finish)."""
        out = self.run(["cloud-init", "status", "--wait", "--long", "--format", "json"], check=False)
        return json.loads(out.stdout)

    # -- files (host side view of the container's tree) ------------------------

    def host_path(self, guest_path):
        """The path in the overlay tree on the host. Does not see the container's
        own mounts (/run, /tmp, /dev are tmpfs inside): use read_file/run for those."""
        return self.root / str(guest_path).lstrip("/")

    def write_file(self, guest_path, content, mode=0o644, owner=None):
        """Writes a file (parents created). Before boot: straight into the tree.
        While running: through the container (so tmpfs mounts such as /run and
        /tmp are honoured). owner: "user:group" names or numbers as the
        container sees them; a (uid, gid) pair also works before boot."""
        data = content.encode() if isinstance(content, str) else bytes(content)
        if self.running and self.leader:
            self.run(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', "sh",
                      str(guest_path), f"{mode:o}"], input=data, text=False)
            if owner:
                spec = owner if isinstance(owner, str) else f"{owner[0]}:{owner[1]}"
                self.run(["chown", spec, str(guest_path)])
            return self.host_path(guest_path)
        path = self.host_path(guest_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.chmod(path, mode)
        if owner:
            if isinstance(owner, str):
                raise ValueError("before boot, owner must be a (uid, gid) pair")
            os.chown(path, *owner)
        return path

    def read_file(self, guest_path, binary=False):
        """Reads a file as the container sees it (through the container while it
        runs, from the tree otherwise). Raises FileNotFoundError."""
        if self.running and self.leader:
            out = self.run(["cat", str(guest_path)], check=False, text=False)
            if out.returncode != 0:
                raise FileNotFoundError(f"{guest_path} in {self.name}: {out.stderr.decode(errors='replace').strip()}")
            return out.stdout if binary else out.stdout.decode()
        path = self.host_path(guest_path)
        return path.read_bytes() if binary else path.read_text()

    def changes(self):
        """Guest paths the container created or changed (the overlay's upper dir)."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.upper):
            for n in filenames:
                out.append("/" + os.path.relpath(os.path.join(dirpath, n), self.upper))
        return sorted(out)

    # -- network ---------------------------------------------------------------

    def connect(self, port, host="127.0.0.1", timeout=10):
        """A TCP socket connected to host:port as seen from inside the container."""
        if self.network == "host":
            return socket.create_connection((host, port), timeout=timeout)
        return _in_netns(self.leader, lambda: socket.create_connection((host, port), timeout=timeout))

    def http_get(self, port, path="/", host="127.0.0.1", timeout=10, headers=None):
        """GET http://host:port/path from inside the container: (status, headers dict, body bytes)."""
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = self.connect(port, host, timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def expose(self, container_port, host_port=0):
        """Host 127.0.0.1:<returned port> relays to 127.0.0.1:container_port in the
        container. With network="host" the port is already the host's: returned as is."""
        if self.network == "host":
            return container_port
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", host_port))
        listener.listen(16)
        relay = Relay(listener, lambda: self.connect(container_port),
                      f"host:{listener.getsockname()[1]} -> {self.name}:{container_port}")
        self.relays.append(relay)
        return relay.port

    def forward_to_host(self, container_port, host_port, host="127.0.0.1"):
        """127.0.0.1:container_port inside the container relays to host:host_port
        on the host (e.g. the Coder stand-in). No-op with network="host" when the
        ports are equal; returns container_port."""
        if self.network == "host":
            if container_port != host_port:
                raise ContainerError("network='host': use the host port directly")
            return container_port

        def make_listener():
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", container_port))
            s.listen(16)
            return s

        listener = _in_netns(self.leader, make_listener)
        relay = Relay(listener, lambda: socket.create_connection((host, host_port), timeout=10),
                      f"{self.name}:{container_port} -> host {host}:{host_port}")
        self.relays.append(relay)
        return container_port

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


@atexit.register
def _stop_all():
    for c in list(_live):
        try:
            c.stop(timeout=10)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
