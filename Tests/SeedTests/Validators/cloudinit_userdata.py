#!/usr/bin/python3
"""Read rendered user-data the way cloud-init does (PyYAML safe_load) and,
with `--run-bootcmd`, run its bootcmd the way cloud-init's cc_bootcmd does
(util.shellify into a script, then /bin/sh). Run that only inside a private
mount namespace with a tmpfs on /run: it writes /run/coder-vm-bootstrap/.

The users cloud-init would create come from cloud-init's own code: the
user-data merged over this machine's /etc/cloud/cloud.cfg (Debian's, whose
`users: [default]` names the default user `debian`, with passwordless sudo),
then normalized as cc_users_groups does.

usage: cloudinit_userdata.py [--run-bootcmd] FILE...
Prints one JSON object: {FILE: {"keys": [...], "counts": {...},
"createdUsers": {name: {"sudo": ..., "sshAuthorizedKeys": n}},
"spec": the file the bootcmd wrote (or the heredoc's text), "mode": "0600"}}.
"""
import json
import os
import subprocess
import sys
import tempfile

import yaml

SPEC = "/run/coder-vm-bootstrap/spec.json"
SYSTEM_CONFIG = "/etc/cloud/cloud.cfg"


def created_users(config):
    """{name: what cloud-init would grant} for the users cc_users_groups creates."""
    from cloudinit import distros, helpers, util
    from cloudinit.distros import ug_util
    system = util.read_conf(SYSTEM_CONFIG)
    info = system["system_info"]
    distro = distros.fetch(info["distro"])(info["distro"], info, helpers.Paths({}))
    users, _ = ug_util.normalize_users_groups(util.mergemanydict([config, system]), distro)
    return {name: {"sudo": user.get("sudo"), "sshAuthorizedKeys": len(user.get("ssh_authorized_keys") or [])}
            for name, user in users.items()}


def heredoc_body(command):
    lines = command.split("\n")
    start = next(i for i, line in enumerate(lines) if line.endswith("<<'CODER_VM_SPEC'"))
    end = lines.index("CODER_VM_SPEC", start + 1)
    return "\n".join(lines[start + 1:end])


def main(argv):
    run = "--run-bootcmd" in argv
    files = [a for a in argv if a != "--run-bootcmd"]
    result = {}
    for name in files:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
        config = yaml.safe_load(text)
        entry = {
            "header": text.split("\n", 1)[0],
            "keys": sorted(config.keys()),
            "counts": {k: len(v) for k, v in config.items() if isinstance(v, list)},
            "createdUsers": created_users(config),
        }
        bootcmd = [c for c in config["bootcmd"] if isinstance(c, str) and "CODER_VM_SPEC" in c]
        if run:
            from cloudinit import util
            if os.path.exists(SPEC):
                os.remove(SPEC)
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as script:
                script.write(util.shellify(config["bootcmd"]))
            subprocess.run(["/bin/sh", script.name], check=True)
            os.remove(script.name)
            with open(SPEC, encoding="utf-8") as handle:
                entry["spec"] = handle.read()
            entry["mode"] = oct(os.stat(SPEC).st_mode & 0o777)
            entry["leftovers"] = sorted(os.listdir(os.path.dirname(SPEC)))
        else:
            entry["spec"] = heredoc_body(bootcmd[0]) if bootcmd else None
        result[name] = entry
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
