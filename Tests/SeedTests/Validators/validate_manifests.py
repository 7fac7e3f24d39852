#!/usr/bin/env python3
"""Validate rendered Kubernetes objects offline.

Secret and Service against Kubernetes' own schemas (kubernetes-validate,
strict: unknown fields fail), VirtualMachine and DataVolume with jsonschema
against the KubeVirt and CDI schemas in shared/data.

usage: validate_manifests.py --shared-data DIR FILE...   (multi-document YAML files)
       validate_manifests.py --versions
Exit 0 all valid, 1 something invalid, 3 a validator is not installed.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
    import kubernetes_validate
    import yaml
except ImportError as error:  # the test turns this into a skip or a failure
    print(f"missing python module: {error.name} (pip install -r {os.path.dirname(__file__)}/requirements.txt)")
    sys.exit(3)

from importlib.metadata import version


def versions():
    return {
        "jsonschema": version("jsonschema"),
        "kubernetes-validate": version("kubernetes-validate"),
        "kubernetes schema": kubernetes_validate.latest_version(),
        "PyYAML": version("PyYAML"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared-data")
    parser.add_argument("--versions", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.versions:
        print(json.dumps(versions(), sort_keys=True))
        return 0

    schemas = {}
    for kind, path in (("VirtualMachine", "kubevirt/virtualmachine.schema.json"),
                       ("DataVolume", "cdi/datavolume.schema.json")):
        with open(os.path.join(args.shared_data, path)) as handle:
            schema = json.load(handle)
        schemas[kind] = jsonschema.Draft7Validator(schema)

    failures = 0
    checked = 0
    for name in args.files:
        with open(name) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        for document in documents:
            kind = document.get("kind")
            label = f"{name}: {kind}/{document.get('metadata', {}).get('name')}"
            try:
                if kind in ("Secret", "Service"):
                    kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
                elif kind in schemas:
                    errors = sorted(schemas[kind].iter_errors(document), key=lambda e: list(e.path))
                    if errors:
                        raise ValueError("; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors))
                else:
                    raise ValueError(f"no schema for kind {kind!r}")
                checked += 1
                print(f"OK {label}")
            except Exception as error:  # report every document, then fail
                failures += 1
                print(f"INVALID {label}: {error}")
    print(f"{checked} valid, {failures} invalid")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
