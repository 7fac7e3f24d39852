"""The nspawn harness boots the image on a real systemd and cleans up after itself.

Run: IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q Tests/system/test_nspawn_harness.py
(root; about 20 s)
"""
import pathlib
import socket

import nspawn
from standins import FileServer
from processes import wait_until


def banner(sock):
    with sock:
        sock.settimeout(10)
        return sock.recv(256)


def test_container_boots_systemd_and_serves_ssh_on_its_own_network(container, image_dir):
    c = container(user_data="#cloud-config\nruncmd:\n  - [sh, -c, 'echo seeded > /root/seeded']\n",
                  instance_id="iid-harness-1")
    assert c.system_state() in ("running", "degraded"), c.run(["systemctl", "--failed"]).stdout
    assert c.run(["stat", "-fc", "%T", "/sys/fs/cgroup"]).stdout.strip() == "cgroup2fs"
    c.run(["systemctl", "start", "ssh"])
    assert banner(c.connect(22)).startswith(b"SSH-2.0-OpenSSH")
    host_port = c.expose(22)
    assert banner(socket.create_connection(("127.0.0.1", host_port), timeout=10)).startswith(b"SSH-2.0-")
    # cloud-init took the NoCloud seed from /var/lib/cloud/seed/nocloud.
    status = c.cloud_init_status()
    assert status["status"] == "done", status
    assert c.read_file("/root/seeded") == "seeded\n"
    assert c.run(["hostname"]).stdout.strip() == c.name
    # The container's changes stay in the overlay: the base image is untouched.
    assert "/root/seeded" in c.changes()
    assert not (image_dir / "rootfs" / "root" / "seeded").exists()
    assert not list((image_dir / "rootfs" / "etc" / "ssh").glob("ssh_host_*"))


def test_container_reaches_a_host_server_through_forward_to_host(container, tmp_path):
    (tmp_path / "hello").write_text("hello from the host\n")
    server = FileServer(tmp_path)
    try:
        c = container()
        c.forward_to_host(18080, server.port)
        out = c.run(["curl", "-fsS", "http://127.0.0.1:18080/hello"])
        assert out.stdout == "hello from the host\n"
    finally:
        server.stop()


def test_host_network_container_with_installed_files_and_masked_docker(container):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = container(network="host", mask=nspawn.DOCKER_UNITS,
                  files={"/etc/ssh/sshd_config.d/50-test-port.conf": f"Port {port}\nListenAddress 127.0.0.1\n"})
    assert c.system_state() == "running", c.run(["systemctl", "--failed"]).stdout
    c.run(["systemctl", "start", "ssh"])
    wait_until(lambda: banner(socket.create_connection(("127.0.0.1", port), timeout=5)), 20,
                      message="sshd on the host network")
    assert c.unit_property("docker.service", "LoadState") == "masked"


def test_stop_leaves_no_process_mount_or_work_dir(image_dir):
    c = nspawn.Container(image_dir / "rootfs").start()
    leader, nspawn_pid, root, workdir = c.leader, c.proc.pid, str(c.root), c.workdir
    c.stop()
    assert not pathlib.Path(f"/proc/{leader}").exists()
    assert not pathlib.Path(f"/proc/{nspawn_pid}").exists()
    assert root not in pathlib.Path("/proc/mounts").read_text()
    assert not workdir.exists()
    c.stop()  # idempotent
