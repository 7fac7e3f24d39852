#!/usr/bin/python3
"""Read rendered user-data the way cloud-init does (PyYAML safe_load) and,
with `--run-bootcmd`, run its bootcmd the way cloud-init's cc_bootcmd does
(util.shellify into a script, then /bin/sh). Run that only inside a private
mount namespace with a tmpfs on /run: it writes /run/coder-vm-bootstrap/.

usage: cloudinit_userdata.py [--run-bootcmd] FILE...
Prints one JSON object: {FILE: {"keys": [...], "counts": {...},
"spec": the file the bootcmd wrote (or the heredoc's text), "mode": "0600"}}.
"""
import json
import os
import subprocess
import sys
import tempfile

import yaml

SPEC = "/run/coder-vm-bootstrap/spec.json"


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
            "userKeys": sorted(config["users"][0].keys()),
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
            entry["spec"] = heredoc_body(bootcmd[0])
        result[name] = entry
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
