#!/usr/bin/env python3
"""Check the example Coder template's HCL without Terraform (python-hcl2):
it parses, and has the resources and wiring the project promises.

usage: check_template.py main.tf
Prints each finding; exit 0 all present, 1 something missing, 3 python-hcl2 absent.
"""
import json
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


def main(path):
    with open(path) as handle:
        tree = hcl2.load(handle)
    resources = blocks(tree, "resource")
    data = blocks(tree, "data")
    problems = []

    def expect(condition, message):
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            problems.append(message)

    providers = tree.get("terraform", [{}])[0].get("required_providers", [{}])[0]
    for provider in ("coder", "kubernetes", "external"):
        expect(provider in providers, f"required provider {provider}")
    for name in ("distribution", "cpu", "memory", "disk"):
        expect(("coder_parameter", name) in data, f"parameter {name}")
    expect(("coder_workspace", "me") in data and ("coder_workspace_owner", "me") in data,
           "coder_workspace and coder_workspace_owner data sources")

    external = data.get(("external", "seed"), {})
    program = [unquote(p) for p in external.get("program", [])]
    expect(program[-1:] == ["terraform-external"] and "coder-vm-seed" in program[0],
           "external data source runs coder-vm-seed terraform-external")
    expect(not any("token" in str(p) for p in program), "the agent token is not in the program's argv")
    query = external.get("query", {})
    expect("spec_json" in query and "jsonencode(local.spec)" in str(query["spec_json"]), "query.spec_json = jsonencode(local.spec)")
    expect("start_count" in str(query.get("run_strategy", "")), "run_strategy follows start_count")
    spec = tree.get("locals", [{}])[0].get("spec", {})
    expect("coder_agent.main.token" in json.dumps(spec), "the spec carries coder_agent.main.token")
    for key in ("spec_json", "namespace", "distro", "cpu", "memory", "disk", "run_strategy"):
        expect(key in query, f"query.{key}")

    secret = resources.get(("kubernetes_secret", "cloudinit"))
    expect(secret is not None and "userdata" in json.dumps(secret.get("data", {})), "kubernetes_secret with key userdata")
    manifests = {name: body for (kind, name), body in resources.items() if kind == "kubernetes_manifest"}
    for name, key in (("root_disk", "datavolume_json"), ("vm", "virtualmachine_json"), ("service", "service_json")):
        body = manifests.get(name, {})
        expect(key in str(body.get("manifest", "")), f"kubernetes_manifest.{name} from {key}")
    expect("count" not in manifests.get("root_disk", {"count": 1}), "the DataVolume is not tied to start_count")
    expect("count" not in manifests.get("vm", {"count": 1}), "the VM object stays (runStrategy stops it)")

    agent = resources.get(("coder_agent", "main"), {})
    expect(unquote(agent.get("startup_script_behavior")) == "blocking", "coder_agent startup_script_behavior = blocking")
    expect("coder-vm-bootstrap status --wait --timeout 900" in str(agent.get("startup_script")),
           "startup script waits on coder-vm-bootstrap status --wait --timeout 900")
    apps = [body for (kind, _), body in resources.items() if kind == "coder_app"]
    expect(any("http://localhost:13337" in str(app.get("url")) for app in apps), "coder_app for code-server on :13337")
    expect(any(unquote(app.get("healthcheck", [{}])[0].get("url")) == "http://localhost:13337/healthz" for app in apps),
           "code-server healthcheck url http://localhost:13337/healthz")
    print(f"{len(problems)} missing")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
