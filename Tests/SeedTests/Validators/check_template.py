#!/usr/bin/env python3
"""Check the example Coder template's HCL without Terraform (python-hcl2):
it parses, and has the resources and wiring the project promises.

usage: check_template.py main.tf
Prints each finding; exit 0 all present, 1 something missing, 3 python-hcl2 absent.
"""
import json
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
    for key in ("spec_json", "namespace", "distro", "cpu", "memory", "disk", "run_strategy"):
        expect(key in query_keys, f"query.{key}")

    def sources(body):
        """(data source name, result key) pairs a block reads."""
        return set(re.findall(r"data\.external\.(\w+)\.result\.(\w+)", json.dumps(body)))

    secret = resources.get(("kubernetes_secret", "cloudinit"))
    secret_reads = sources(secret.get("data", {})) if secret else set()
    expect(any(n in with_token and k == "userdata" for n, k in secret_reads),
           "kubernetes_secret data.userdata from the spec with the token")
    manifests = {name: body for (kind, name), body in resources.items() if kind == "kubernetes_manifest"}
    for name, key in (("root_disk", "datavolume_json"), ("vm", "virtualmachine_json"), ("service", "service_json")):
        reads = sources(manifests.get(name, {}).get("manifest", ""))
        expect(reads and all(n in without_token for n, _ in reads) and key in {k for _, k in reads},
               f"kubernetes_manifest.{name} from {key} of the plan-time spec")
    expect("count" not in manifests.get("root_disk", {"count": 1}), "the DataVolume is not tied to start_count")
    expect("count" not in manifests.get("vm", {"count": 1}), "the VM object stays (runStrategy stops it)")
    result_keys = {k for body in resources.values() for _, k in sources(body)}

    agent = resources.get(("coder_agent", "main"), {})
    expect(unquote(agent.get("startup_script_behavior")) == "blocking", "coder_agent startup_script_behavior = blocking")
    expect("coder-vm-bootstrap status --wait --timeout 900" in str(agent.get("startup_script")),
           "startup script waits on coder-vm-bootstrap status --wait --timeout 900")
    apps = [body for (kind, _), body in resources.items() if kind == "coder_app"]
    expect(any("http://localhost:13337" in str(app.get("url")) for app in apps), "coder_app for code-server on :13337")
    expect(any(unquote(app.get("healthcheck", [{}])[0].get("url")) == "http://localhost:13337/healthz" for app in apps),
           "code-server healthcheck url http://localhost:13337/healthz")
    print(f"{len(problems)} missing")
    print(json.dumps({"query_keys": sorted(query_keys), "result_keys": sorted(result_keys)}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
