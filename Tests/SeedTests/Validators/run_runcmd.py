#!/usr/bin/python3
"""Run a user-data's runcmd the way cloud-init does (util.shellify, then
/bin/sh), with every tool that would change the machine replaced by a stub
that records its arguments. curl's stub writes STUB_PACKAGE (or the bytes of
--package FILE) to its -o file. --real TOOL keeps that tool real (tar, to
unpack a tarball made by the test); a program the test ships may log its own
calls to $RUNCMD_LOG the same way.

usage: run_runcmd.py [--package FILE] [--real TOOL]... USER-DATA
Prints {"status": exit status, "calls": [{"argv": [tool, arg, ...], "https_proxy": ..., "cwd": ...}, ...]}.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import yaml
from cloudinit import util

STUB_PACKAGE = b"stub package\n"
TOOLS = ["curl", "wget", "apt-get", "dnf", "pacman", "tar", "systemctl"]

STUB = """#!/usr/bin/python3
import json, os, sys
with open(os.environ["RUNCMD_LOG"], "a") as log:
    log.write(json.dumps({"argv": [os.path.basename(sys.argv[0])] + sys.argv[1:],
                          "https_proxy": os.environ.get("https_proxy"), "cwd": os.getcwd()}) + "\\n")
if os.path.basename(sys.argv[0]) == "curl":
    with open(sys.argv[sys.argv.index("-o") + 1], "wb") as out:
        out.write(%r)
"""


def main():
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--package")
    arguments.add_argument("--real", action="append", default=[])
    arguments.add_argument("user_data")
    options = arguments.parse_args()
    package = STUB_PACKAGE
    if options.package:
        with open(options.package, "rb") as handle:
            package = handle.read()
    with open(options.user_data, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    with tempfile.TemporaryDirectory() as stubs:
        for tool in TOOLS:
            if tool in options.real:
                continue
            with open(os.path.join(stubs, tool), "w") as stub:
                stub.write(STUB % package)
            os.chmod(os.path.join(stubs, tool), 0o755)
        log = os.path.join(stubs, "calls.log")
        script = os.path.join(stubs, "runcmd.sh")
        with open(script, "w") as handle:
            handle.write(util.shellify(config["runcmd"]))
        env = dict(os.environ, PATH=stubs + ":" + os.environ.get("PATH", "/usr/bin:/bin"), RUNCMD_LOG=log)
        status = subprocess.run(["/bin/sh", script], env=env, stdout=sys.stderr).returncode
        calls = []
        if os.path.exists(log):
            with open(log) as handle:
                calls = [json.loads(line) for line in handle]
    print(json.dumps({"status": status, "calls": calls}))


if __name__ == "__main__":
    main()
