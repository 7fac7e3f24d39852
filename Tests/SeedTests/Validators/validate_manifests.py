#!/usr/bin/env python3
"""Validate rendered Kubernetes objects offline with jsonschema, against the
schemas kept in Tests/Fixtures (see Tests/Fixtures/SOURCES.md):
Secret and Service against Kubernetes' own (strict: unknown fields fail),
VirtualMachine and DataVolume against KubeVirt's and CDI's. Those two have
no `additionalProperties: false` of their own; it is added here to every
object that lists its properties, so a misspelt field fails too.

usage: validate_manifests.py --fixtures DIR FILE...   (multi-document YAML files)
       validate_manifests.py --versions
Exit 0 all valid, 1 something invalid, 3 a validator is not installed.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as error:  # the test turns this into a skip or a failure
    print(f"missing python module: {error.name} (pip install -r {os.path.dirname(__file__)}/requirements.txt)")
    sys.exit(3)

from importlib.metadata import version

SCHEMAS = {
    # kind: (file under the fixtures, validator class, made strict here)
    "Secret": ("kubernetes/secret-v1.schema.json", jsonschema.Draft202012Validator, False),
    "Service": ("kubernetes/service-v1.schema.json", jsonschema.Draft202012Validator, False),
    "VirtualMachine": ("kubevirt/virtualmachine.schema.json", jsonschema.Draft7Validator, True),
    "DataVolume": ("cdi/datavolume.schema.json", jsonschema.Draft7Validator, True),
}


def closed(schema):
    """The schema with `additionalProperties: false` on every object that
    lists properties and says nothing about others."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    if "properties" in result and "additionalProperties" not in result and isinstance(result["properties"], dict):
        result["additionalProperties"] = False
    return result


def load_validators(fixtures):
    validators = {}
    for kind, (path, cls, strict) in SCHEMAS.items():
        with open(os.path.join(fixtures, path)) as handle:
            schema = json.load(handle)
        validators[kind] = cls(closed(schema) if strict else schema)
    return validators


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", help="Tests/Fixtures of this repository")
    parser.add_argument("--versions", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.versions:
        print(json.dumps({"jsonschema": version("jsonschema"), "PyYAML": version("PyYAML")}, sort_keys=True))
        return 0

    validators = load_validators(args.fixtures)
    failures = 0
    checked = 0
    for name in args.files:
        with open(name) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        for document in documents:
            kind = document.get("kind")
            label = f"{name}: {kind}/{document.get('metadata', {}).get('name')}"
            validator = validators.get(kind)
            if validator is None:
                errors = [f"no schema for kind {kind!r}"]
            else:
                errors = [f"{'.'.join(map(str, e.path))}: {e.message}"
                          for e in sorted(validator.iter_errors(document), key=lambda e: list(e.path))]
            if errors:
                failures += 1
                print(f"INVALID {label}: {'; '.join(errors)}")
            else:
                checked += 1
                print(f"OK {label}")
    print(f"{checked} valid, {failures} invalid")
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
