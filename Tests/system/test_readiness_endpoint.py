"""The readiness endpoint of the real daemon under clients that are slow or
never send, on a real systemd (systemd-nspawn booting the Debian 12 test
image), installed and started with the stand-ins as in test_daemon.py.

kubelet's readinessProbe gives /readyz 1 s; these clients must not delay it,
and while they sit there the daemon must not spend CPU on them.

Needs the release build (`make system-test` builds it) and root.
"""
import select
import socket
import threading
import time

from processes import wait_until
from test_daemon import install, stand_ins  # noqa: F401  (stand_ins is the module's fixture)

PORT = 13380
IDLE_CLIENTS = 64
# A spinning server thread earns about 100 ticks a second (USER_HZ), less on a
# loaded host; a sleeping one none. The daemon's own probes (every 10 s) take a
# tick or two.
MAX_TICKS_WHILE_IDLE = 10
WINDOW_SECONDS = 5


def is_open_and_silent(sock):
    """The daemon holds the (non-blocking) connection open and sent nothing on it."""
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False  # the end of the stream, or bytes


def is_closed(sock):
    """The daemon closed the (non-blocking) connection without answering."""
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def thread_count(c, pid):
    return len(c.run(["ls", f"/proc/{pid}/task"]).stdout.split())


def cpu_ticks(c, pid):
    """utime + stime of pid (fields 14 and 15 of /proc/PID/stat), in clock ticks."""
    fields = c.read_file(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Slowloris(threading.Thread):
    """Sends a request head one byte every 200 ms, never ending it, until the
    daemon closes the connection (or 100 bytes, 20 s, have gone out)."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.sock.setblocking(False)
        self.sent = 0
        self.cut = False

    def run(self):
        for byte in b"GET /readyz HTTP/1.1\r\nX-Slow: " + b"a" * 100:
            try:
                self.sock.send(bytes([byte]))
            except OSError:
                self.cut = True
                return
            self.sent += 1
            readable, _, _ = select.select([self.sock], [], [], 0.2)
            if readable and is_closed(self.sock):
                self.cut = True
                return


def test_idle_and_slowloris_clients_neither_delay_readyz_nor_cost_cpu(container, stand_ins):  # noqa: F811
    c = container(name="readiness")
    install(c, stand_ins, "token-readiness")
    c.systemctl("start", "coder-vm-bootstrap.service")  # returns at READY=1
    assert c.http_get(PORT, "/readyz")[0] == 200
    pid = c.unit_property("coder-vm-bootstrap.service", "MainPID")

    threads_before = thread_count(c, pid)
    before = cpu_ticks(c, pid)
    window_start = time.monotonic()
    idle = [c.connect(PORT) for _ in range(IDLE_CLIENTS)]
    for sock in idle:
        sock.setblocking(False)
    slowloris = Slowloris(c.connect(PORT))
    slowloris.start()

    status, _, body = c.http_get(PORT, "/readyz")
    open_when_answered = sum(is_open_and_silent(sock) for sock in idle)
    assert status == 200, body
    # Served alongside them: had the probe waited for the idle clients, it
    # would have been answered after their deadline, with them already closed.
    assert open_when_answered == IDLE_CLIENTS, f"only {open_when_answered} idle clients were still open"
    # One thread serves them all (the daemon's probes start a thread now and then).
    threads_during = thread_count(c, pid)
    assert threads_during < threads_before + 8, f"{threads_before} threads before the clients, {threads_during} with them"

    wait_until(lambda: all(is_closed(sock) for sock in idle), timeout=60, interval=0.1,
               message="the idle clients to be cut at their deadline")
    slowloris.join(timeout=60)
    assert slowloris.cut, f"the slowloris client kept its connection for {slowloris.sent} bytes"

    # Not a synchronisation: the measuring window, at least WINDOW_SECONDS long.
    time.sleep(max(0.0, window_start + WINDOW_SECONDS - time.monotonic()))
    spent = cpu_ticks(c, pid) - before
    print(f"readiness: {spent} CPU ticks in {time.monotonic() - window_start:.1f} s; threads {threads_before} -> {threads_during}")
    assert spent <= MAX_TICKS_WHILE_IDLE, f"the daemon spent {spent} CPU ticks while the clients sat there"

    assert c.http_get(PORT, "/readyz")[0] == 200
    for sock in idle:
        sock.close()
    slowloris.sock.close()
