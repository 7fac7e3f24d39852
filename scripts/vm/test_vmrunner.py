"""The qemu runner's parts that need no boot: seeds, Secrets, overlay, command line,
pidfile safety. Fast (a few seconds).

Run: IMAGE_CACHE=/work/main/.cache/image python3 -m pytest -q scripts/vm/test_vmrunner.py
"""
import base64
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import vmrunner

USER_DATA = "#cloud-config\nruncmd:\n  - [touch, /var/tmp/x]\n"


def secret_yaml(**fields):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "coder-me-ws-cloudinit"}, "type": "Opaque"}
    body.update(fields)
    return json.dumps(body)  # JSON is YAML


def test_secret_data_userdata_is_base64_decoded():
    text = secret_yaml(data={"userdata": base64.b64encode(USER_DATA.encode()).decode()})
    assert vmrunner.read_secret(text) == (USER_DATA.encode(), None)


def test_secret_string_data_and_user_data_spelling_and_network_data():
    text = secret_yaml(stringData={"userData": USER_DATA, "networkData": "version: 2\n"})
    assert vmrunner.read_secret(text) == (USER_DATA.encode(), b"version: 2\n")


def test_secret_string_data_wins_over_data_as_the_api_server_merges_them():
    text = secret_yaml(data={"userdata": base64.b64encode(b"#cloud-config\n{}\n").decode()},
                       stringData={"userdata": USER_DATA})
    assert vmrunner.read_secret(text)[0] == USER_DATA.encode()


def test_secret_is_found_in_a_multi_document_file(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: coder-me-ws}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: coder-me-ws-cloudinit}
        stringData:
          userdata: |
            #cloud-config
            runcmd:
              - [touch, /var/tmp/x]
        """))
    assert vmrunner.read_secret(path)[0] == USER_DATA.encode()


def test_plain_user_data_file_is_taken_as_is(tmp_path):
    path = tmp_path / "user-data"
    path.write_text(USER_DATA)
    assert vmrunner.read_secret(path) == (USER_DATA.encode(), None)


def test_secret_over_one_mebibyte_is_refused():
    text = secret_yaml(stringData={"userdata": "#cloud-config\n#" + "x" * (1024 * 1024) + "\n"})
    with pytest.raises(vmrunner.VMError, match="1 MiB"):
        vmrunner.read_secret(text)


def test_seed_is_a_cidata_iso_with_kubevirt_meta_data(tmp_path):
    seed = vmrunner.make_seed(tmp_path / "seed.img", USER_DATA, "iid-42", "coder-me-ws", "version: 2\n")
    label = subprocess.run(["blkid", "-o", "value", "-s", "LABEL", str(seed)], capture_output=True, text=True)
    assert label.stdout.strip() == "cidata"

    def extract(name):
        return subprocess.run(["isoinfo", "-R", "-i", str(seed), "-x", f"/{name}"], capture_output=True,
                              text=True, check=True).stdout

    assert json.loads(extract("meta-data")) == {"instance-id": "iid-42", "local-hostname": "coder-me-ws"}
    assert extract("user-data") == USER_DATA
    assert extract("network-config") == "version: 2\n"


@pytest.fixture(scope="module")
def image_dir():
    return vmrunner.find_image()


def test_overlay_is_qcow2_backed_by_the_raw_image(image_dir, tmp_path):
    vm = vmrunner.VM(image_dir, tmp_path)
    vm.create_overlay()
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(vm.overlay)], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == str(image_dir / "disk.img")
    assert info["backing-filename-format"] == "raw"


def test_command_line_boots_the_image_kernel_with_virtio_and_forwards(image_dir, tmp_path):
    vm = vmrunner.VM(image_dir, tmp_path, ssh_port=2222, readiness_port=13381, forwards={8080: 18080})
    cmd = vm.command(tmp_path / "seed.img", tmp_path / "console.log")
    joined = " ".join(cmd)
    assert cmd[cmd.index("-kernel") + 1] == str(image_dir / "vmlinuz")
    assert cmd[cmd.index("-append") + 1] == (image_dir / "cmdline").read_text().strip()
    assert f"file={vm.overlay},if=virtio,format=qcow2" in cmd
    assert "hostfwd=tcp:127.0.0.1:2222-:22" in joined and "hostfwd=tcp:127.0.0.1:13381-:13380" in joined
    assert "hostfwd=tcp:127.0.0.1:18080-:8080" in joined
    assert cmd[cmd.index("-pidfile") + 1] == str(vm.pidfile)
    assert "-no-reboot" in cmd and ["-m", "2048"] == cmd[cmd.index("-m"):cmd.index("-m") + 2]
    # This machine's /dev/kvm is kvm_pvm: TCG unless a hardware KVM module is loaded.
    expected = "kvm" if vmrunner.kvm_usable() else "tcg,thread=multi"
    assert cmd[cmd.index("-accel") + 1] == expected


def test_pidfile_kill_never_kills_a_process_that_is_not_that_qemu(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        pidfile = tmp_path / "qemu.pid"
        pidfile.write_text(f"{sleeper.pid}\n")
        assert vmrunner.pid_from_pidfile(pidfile) is None
        assert vmrunner.kill_from_pidfile(pidfile) is False
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


RUN_VM = pathlib.Path(__file__).resolve().parent / "run-vm"
BOOT_AND_WAIT = """
import sys, time
import vmrunner
vm = vmrunner.VM({image!r}, {workdir!r})
vm.boot(user_data="#cloud-config\\n", instance_id="iid-exit-path")
print(vmrunner.pid_from_pidfile(vm.pidfile), flush=True)
{ending}
"""


def qemu_pid_after_boot(image_dir, workdir, ending):
    script = BOOT_AND_WAIT.format(image=str(image_dir), workdir=str(workdir), ending=ending)
    path = os.pathsep.join([str(RUN_VM.parent), str(RUN_VM.parents[1] / "lib")])
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": path})
    pid = int(proc.stdout.readline())
    assert pathlib.Path(f"/proc/{pid}").exists()
    return proc, pid


def gone(pid):
    return vmrunner.wait_until(lambda: not pathlib.Path(f"/proc/{pid}").exists() or
                               pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", 15, interval=0.1,
                               message=f"qemu {pid} to die")


@pytest.mark.parametrize("ending, how", [
    ("", "normal interpreter exit (atexit)"),
    ("time.sleep(600)", "SIGTERM (turned into SystemExit)"),
    ("time.sleep(600)", "SIGKILL (PR_SET_PDEATHSIG)"),
])
def test_qemu_dies_on_every_exit_path_of_the_runner(image_dir, tmp_path, ending, how):
    proc, pid = qemu_pid_after_boot(image_dir, tmp_path / "vm", ending)
    if "SIGTERM" in how:
        proc.terminate()
    elif "SIGKILL" in how:
        proc.kill()
    proc.wait(30)
    assert gone(pid), how


def test_run_vm_detach_then_kill_by_pidfile(image_dir, tmp_path):
    user_data = tmp_path / "user-data"
    user_data.write_text(USER_DATA)
    out = subprocess.run([str(RUN_VM), "boot", str(image_dir), "--user-data", str(user_data), "--instance-id",
                          "iid-cli", "--workdir", str(tmp_path / "vm"), "--detach"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.splitlines()[0])
    assert vmrunner.pid_from_pidfile(info["pidfile"]) == info["pid"]  # still running after run-vm returned
    assert info["accel"] in ("tcg,thread=multi", "kvm")
    out = subprocess.run([str(RUN_VM), "kill", info["workdir"]], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "killed"
    assert gone(info["pid"])
    out = subprocess.run([str(RUN_VM), "kill", info["workdir"]], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "not running"


def test_run_vm_seed_from_a_secret(tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text(secret_yaml(stringData={"userdata": USER_DATA}))
    out = subprocess.run([str(RUN_VM), "seed", str(tmp_path / "seed.img"), "--secret", str(secret),
                          "--instance-id", "iid-7", "--hostname", "ws"], capture_output=True, text=True, check=True)
    assert pathlib.Path(out.stdout.strip()).stat().st_size > 0


def test_console_reader_returns_whole_lines_as_they_arrive_without_terminal_escapes(tmp_path):
    log = tmp_path / "console-1.log"
    reader = vmrunner.ConsoleReader(log)
    assert reader.new_lines() == [], "qemu has not created the file yet"
    log.write_bytes(b"[    0.000000] Linux version 6.1.0\r\n[\x1b[0;32m  OK  \x1b[0m] Started ssh.service\r\nhalf a li")
    assert reader.new_lines() == ["[    0.000000] Linux version 6.1.0", "[  OK  ] Started ssh.service"]
    with log.open("ab") as f:
        f.write(b"ne\r\n\x1b]0;title\x07\x1b[?25lcoder-alice-dev login: \x00\n")
    assert reader.new_lines() == ["half a line", "coder-alice-dev login:"]
    assert reader.new_lines() == []
    log.write_bytes(b"Linux version 6.1.0\n")  # qemu started again on the same file
    assert reader.new_lines() == ["Linux version 6.1.0"]


def test_run_vm_console_prints_the_last_boot_as_text(tmp_path):
    (tmp_path / "console-1.log").write_bytes(b"first boot\n")
    (tmp_path / "console-2.log").write_bytes(b"\x1b[1mWelcome to Debian GNU/Linux 12 (bookworm)!\x1b[0m\r\n")
    out = subprocess.run([str(pathlib.Path(__file__).parent / "run-vm"), "console", str(tmp_path)],
                         check=True, capture_output=True, text=True).stdout
    assert out == "Welcome to Debian GNU/Linux 12 (bookworm)!\n"
