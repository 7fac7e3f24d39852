#!/usr/bin/python3
"""Read rendered network-config files the way cloud-init reads the NoCloud
disk's `network-config` (PyYAML safe_load), then parse each with cloud-init's
own network_state parser, which its renderers (netplan, networkd, ENI,
sysconfig) start from. Broken parts fail instead of being skipped.

usage: cloudinit_network.py FILE...
Prints one JSON object: {FILE: {"version": 2, "interfaces": [...],
"nameservers": [...], "searchDomains": [...]}} or {FILE: {"error": "..."}}.
"""
import json
import sys

import yaml
from cloudinit.net import network_state


def main(files):
    result = {}
    for name in files:
        with open(name, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        try:
            state = network_state.parse_net_config_data(config, skip_broken=False)
        except Exception as error:  # cloud-init's own verdict, reported per file
            result[name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        result[name] = {
            "version": state.version,
            "interfaces": sorted(interface["name"] for interface in state.iter_interfaces()),
            "nameservers": state.dns_nameservers,
            "searchDomains": state.dns_searchdomains,
        }
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
