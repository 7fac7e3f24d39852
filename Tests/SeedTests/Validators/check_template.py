#!/usr/bin/env python3
"""Check the example Coder template's HCL without Terraform (python-hcl2):
it parses, uses terraform-provider-coder's resources and data sources as
the provider's schema defines them (an excerpt in JSON, in the shape of
`terraform providers schema -json`), and has the resources and wiring the
project promises.

usage: check_template.py [--provider-schema FILE] main.tf
Prints each finding; exit 0 all present, 1 something missing, 3 python-hcl2 absent.
"""
import argparse
import json
import os
import re
import sys

try:
    import hcl2
except ImportError:
    print("missing python module: hcl2 (pip install python-hcl2)")
    sys.exit(3)


def unquote(value):
    """python-hcl2 8 keeps the quotes of string literals and labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def blocks(tree, kind):
    """{(type, name): body} of resource or data blocks."""
    found = {}
    for entry in tree.get(kind, []):
        for type_label, named in entry.items():
            for name_label, body in named.items():
                found[(unquote(type_label), unquote(name_label))] = body
    return found


DEFAULT_SCHEMA = os.path.join(os.path.dirname(__file__), "../../Fixtures/terraform-provider-coder/schema.json")
CODER_PROVIDER = "registry.terraform.io/coder/coder"
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle"}


def fields(body):
    """The attributes and blocks written in a block body (python-hcl2's own markers left out)."""
    return {k: v for k, v in body.items() if not k.startswith("__")}


def without_comments(value):
    """The tree without python-hcl2's __comments__ (prose may name anything)."""
    if isinstance(value, dict):
        return {k: without_comments(v) for k, v in value.items() if k != "__comments__"}
    if isinstance(value, list):
        return [without_comments(v) for v in value]
    return value


def schema_problems(label, body, schema, meta=True):
    """What in `body` the provider's block schema does not allow: unknown,
    read-only or deprecated attributes, missing required ones, and the same
    for nested blocks (with their nesting and max_items)."""
    problems = []
    attributes = schema.get("attributes", {})
    block_types = schema.get("block_types", {})
    written = fields(body)
    for name, value in written.items():
        if meta and name in META_ARGUMENTS:
            continue
        if name in attributes:
            attribute = attributes[name]
            if not (attribute.get("required") or attribute.get("optional")):
                problems.append(f"{label}.{name} is read-only")
            if attribute.get("deprecated"):
                problems.append(f"{label}.{name} is deprecated")
        elif name in block_types:
            nested = block_types[name]
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(item, dict) for item in items):
                problems.append(f"{label}.{name} must be written as a block")
                continue
            if "max_items" in nested and len(items) > nested["max_items"]:
                problems.append(f"{label}.{name}: at most {nested['max_items']} block(s)")
            for index, item in enumerate(items):
                problems += schema_problems(f"{label}.{name}[{index}]", item, nested["block"], meta=False)
        else:
            problems.append(f"{label}.{name} is not in the provider's schema")
    for name, attribute in attributes.items():
        if attribute.get("required") and name not in written:
            problems.append(f"{label}.{name} is required")
    for name, nested in block_types.items():
        if nested.get("min_items") and name not in written:
            problems.append(f"{label}: a {name} block is required")
    return problems


def reference_problems(tree, resources, data, provider):
    """References such as data.coder_workspace.me.start_count or
    coder_agent.main.token: the object exists and has that attribute."""
    problems = []
    text = json.dumps(tree)
    for prefix, kind, declared, group in (("data.", r"coder_\w+", data, "data_source_schemas"),
                                           ("", r"coder_\w+", resources, "resource_schemas")):
        pattern = (r"(?<![\w.])" if not prefix else r"(?<![\w.])data\.") + rf"({kind})\.(\w+)\.(\w+)"
        for type_name, name, attribute in set(re.findall(pattern, text)):
            if (type_name, name) not in declared:
                problems.append(f"{prefix}{type_name}.{name} is not declared")
            elif attribute not in provider[group].get(type_name, {}).get("block", {}).get("attributes", {}):
                problems.append(f"{prefix}{type_name}.{name}.{attribute} is not an attribute of {type_name}")
    return problems


def main(path, schema_path):
    with open(path) as handle:
        tree = hcl2.load(handle)
    with open(schema_path) as handle:
        provider = json.load(handle)["provider_schemas"][CODER_PROVIDER]
    resources = blocks(tree, "resource")
    data = blocks(tree, "data")
    problems = []

    def expect(condition, message):
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            problems.append(message)

    # Every coder_* block against terraform-provider-coder's schema.
    for kind, declared, group in (("resource", resources, "resource_schemas"), ("data", data, "data_source_schemas")):
        for (type_name, name), body in sorted(declared.items()):
            if not type_name.startswith("coder_"):
                continue
            schema = provider[group].get(type_name)
            found = schema_problems(f"{type_name}.{name}", body, schema["block"]) if schema \
                else [f"{type_name} is not in the provider schema excerpt"]
            expect(not found, f"{kind} {type_name}.{name} matches the provider schema" + "".join(f"\n       {p}" for p in found))
    found = reference_problems(without_comments(tree), resources, data, provider)
    expect(not found, "references to coder_* objects name attributes they have" + "".join(f"\n       {p}" for p in found))

    providers = tree.get("terraform", [{}])[0].get("required_providers", [{}])[0]
    for provider in ("coder", "kubernetes", "external"):
        expect(provider in providers, f"required provider {provider}")
    for name in ("distribution", "cpu", "memory", "disk"):
        expect(("coder_parameter", name) in data, f"parameter {name}")
    expect(("coder_workspace", "me") in data and ("coder_workspace_owner", "me") in data,
           "coder_workspace and coder_workspace_owner data sources")

    locals_ = {}
    for entry in tree.get("locals", []):
        locals_.update({k: v for k, v in entry.items() if not k.startswith("__")})
    seeds = {name: body for (kind, name), body in data.items()
             if kind == "external" and [unquote(p) for p in body.get("program", [])][-1:] == ["terraform-external"]}
    expect(len(seeds) >= 1 and all("coder-vm-seed" in unquote(b["program"][0]) for b in seeds.values()),
           "external data sources run coder-vm-seed terraform-external")
    expect(not any("token" in str(b.get("program")) for b in seeds.values()), "the agent token is in no program's argv")

    def spec_local(body):
        """The local whose jsonencode() is the query's spec_json."""
        match = re.search(r"spec_json\s*=\s*jsonencode\(local\.(\w+)\)", str(body.get("query")))
        return match.group(1) if match else None

    def carries_token(name):
        """Whether local.NAME holds the agent token, directly or through other locals."""
        text = json.dumps(locals_.get(name, ""))
        if "coder_agent.main.token" in text:
            return True
        return any(carries_token(other) for other in re.findall(r"local\.(\w+)", text) if other != name)

    with_token = {n for n, b in seeds.items() if spec_local(b) and carries_token(spec_local(b))}
    without_token = {n for n, b in seeds.items() if spec_local(b) and not carries_token(spec_local(b))}
    expect(bool(with_token), "a query's spec_json = jsonencode(the spec with coder_agent.main.token)")
    expect(bool(without_token), "a query's spec_json = jsonencode(a spec without the token), known at plan time")
    query_keys = {"spec_json"} | {k for k in locals_.get("seed_options", {})}
    for name, body in seeds.items():
        expect("seed_options" in str(body.get("query")), f"data.external.{name} query merges local.seed_options")
    expect("start_count" in str(locals_.get("seed_options", {}).get("run_strategy", "")), "run_strategy follows start_count")
    for key in ("spec_json", "namespace", "distro", "cpu", "memory", "disk", "run_strategy", "readiness_probe"):
        expect(key in query_keys, f"query.{key}")

    def sources(body):
        """(data source name, result key) pairs a block reads."""
        return set(re.findall(r"data\.external\.(\w+)\.result\.(\w+)", json.dumps(body)))

    secret = resources.get(("kubernetes_secret", "cloudinit"))
    secret_reads = sources(secret.get("data", {})) if secret else set()
    for key in ("userdata", "networkdata"):
        expect(any(n in with_token and k == key for n, k in secret_reads),
               f"kubernetes_secret data.{key} from the spec with the token")
    manifests = {name: body for (kind, name), body in resources.items() if kind == "kubernetes_manifest"}
    for name, key in (("root_disk", "datavolume_json"), ("vm", "virtualmachine_json"), ("service", "service_json")):
        reads = sources(manifests.get(name, {}).get("manifest", ""))
        expect(reads and all(n in without_token for n, _ in reads) and key in {k for _, k in reads},
               f"kubernetes_manifest.{name} from {key} of the plan-time spec")
    expect("count" not in manifests.get("root_disk", {"count": 1}), "the DataVolume is not tied to start_count")
    expect("count" not in manifests.get("vm", {"count": 1}), "the VM object stays (runStrategy stops it)")
    result_keys = {k for body in resources.values() for _, k in sources(body)}

    agent = resources.get(("coder_agent", "main"), {})
    expect(not {"startup_script", "startup_script_behavior"} & set(agent),
           "coder_agent has no startup_script(_behavior): the start script is a coder_script")
    scripts = [body for (kind, _), body in resources.items() if kind == "coder_script"]
    waits = [body for body in scripts
             if unquote(body.get("script")) == "coder-vm-bootstrap status --wait --timeout 900"]
    expect(len(waits) == 1, "one coder_script runs coder-vm-bootstrap status --wait --timeout 900")
    for body in waits:
        expect(body.get("agent_id") == "${coder_agent.main.id}", "  for coder_agent.main")
        expect(body.get("run_on_start") is True and body.get("start_blocks_login") is True,
               "  with run_on_start = true and start_blocks_login = true")
    metadata = [item for item in agent.get("metadata", []) if "coder-vm-bootstrap status --line" in str(item.get("script"))]
    expect(len(metadata) == 1 and unquote(metadata[0].get("key")) == "bootstrap",
           "coder_agent metadata \"bootstrap\" shows coder-vm-bootstrap status --line")
    apps = [body for (kind, _), body in resources.items() if kind == "coder_app"]
    expect(any("http://localhost:13337" in str(app.get("url")) for app in apps), "coder_app for code-server on :13337")
    expect(any(unquote(app.get("healthcheck", [{}])[0].get("url")) == "http://localhost:13337/healthz" for app in apps),
           "code-server healthcheck url http://localhost:13337/healthz")
    print(f"{len(problems)} missing")
    print(json.dumps({"query_keys": sorted(query_keys), "result_keys": sorted(result_keys)}))
    return 1 if problems else 0


if __name__ == "__main__":
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--provider-schema", default=DEFAULT_SCHEMA)
    arguments.add_argument("template")
    options = arguments.parse_args()
    sys.exit(main(options.template, options.provider_schema))
