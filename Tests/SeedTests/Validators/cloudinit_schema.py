#!/usr/bin/python3
"""Validate cloud-config files with cloud-init's own schema check, the one
`cloud-init schema --config-file` runs (validate_cloudconfig_file), all in
one process. Deprecations count as problems here too.

One allowance, only where the installed cloud-init has the bug: its schema
for `users` said `minItems: 1` from 22.2 until 23.2 (canonical/cloud-init
#4055, fixed by #2124), although its code has always read `users: []` as
"create no users, not even the default one". That constraint is dropped
before validating, and the output says so.

usage: cloudinit_schema.py FILE...
Prints {"cloudInit": version, "allowances": [...], "problems": {FILE: "..."}}
(files without problems are left out); exit 0 even when some file fails.
"""
import contextlib
import io
import json
import sys

from cloudinit import version
from cloudinit.config.schema import SchemaValidationError, get_schema, validate_cloudconfig_file


def schema_and_allowances():
    schema = get_schema()
    allowances = []
    numbers = tuple(int(part) for part in version.version_string().split(".")[:2])
    users = schema["$defs"]["cc_users_groups"]["properties"]["users"]
    if numbers < (23, 2) and users.get("minItems") == 1:
        del users["minItems"]
        allowances.append("users: [] (minItems 1 until cloud-init 23.2, canonical/cloud-init#2124)")
    return schema, allowances


def main(files):
    schema, allowances = schema_and_allowances()
    problems = {}
    for name in files:
        printed = io.StringIO()  # deprecations are printed, not raised
        try:
            with contextlib.redirect_stdout(printed):
                validate_cloudconfig_file(name, schema)
        except (SchemaValidationError, RuntimeError) as error:
            problems[name] = str(error)
            continue
        if printed.getvalue().strip():
            problems[name] = printed.getvalue().strip()
    print(json.dumps({"cloudInit": version.version_string(), "allowances": allowances, "problems": problems},
                     sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
