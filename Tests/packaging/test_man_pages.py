"""coder-vm-bootstrap(8) and coder-vm-seed(1), as `make man` generated them
from the argument parsers (packaging/man/generate.sh): current, rendered by
man-db without a warning, and the page every package ships."""
import gzip
import json
import os
import re

import pytest

from package_tools import OUT, REPO, UNITS, run

PAGES = {
    "coder-vm-bootstrap": {"page": OUT / "man" / "coder-vm-bootstrap.8", "section": "8",
                           "binary": REPO / ".build" / "release" / "coder-vm-bootstrap"},
    # The companion is packaged nowhere; its page is generated from the debug
    # build the plugin makes.
    "coder-vm-seed": {"page": OUT / "man" / "coder-vm-seed.1", "section": "1",
                      "binary": REPO / ".build" / "debug" / "coder-vm-seed"},
}


@pytest.fixture(params=sorted(PAGES))
def page(request):
    entry = dict(PAGES[request.param], name=request.param)
    if not entry["page"].is_file():
        pytest.fail(f"{entry['page']} is missing: run `make man`")
    return entry


def visible_names(command):
    """Every subcommand and long option --help shows, walking subcommands."""
    names = set()
    for argument in command.get("arguments", []):
        if argument.get("shouldDisplay", True):
            names |= {f"--{n['name']}" for n in argument.get("names", []) if n["kind"] == "long"}
    for sub in command.get("subcommands", []):
        if sub.get("shouldDisplay", True):
            names.add(sub["commandName"])
        names |= visible_names(sub)
    return names


def test_page_documents_every_subcommand_and_option_of_the_binary(page):
    dump = json.loads(run([page["binary"], "--experimental-dump-help"]).stdout)
    text = page["page"].read_text()
    assert f".Dt {page['name'].upper()} {page['section']}" in text
    documented = set(re.findall(r"^\.It Em (\S+)", text, re.M)) | {
        f"--{m}" for m in re.findall(r"Fl -([a-z][a-z0-9-]*)", text)}
    missing = visible_names(dump["command"]) - documented
    assert not missing, f"{page['page'].name} is older than {page['binary'].name}: {sorted(missing)}; run `make man`"


def test_page_renders_without_warnings(page):
    # What lintian runs for manpage-has-errors-from-man.
    out = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page["page"]],
              env={**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"})
    assert out.stderr == ""
    rendered = run(["man", "-l", page["page"]], env={**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"}).stdout
    assert f"{page['name'].upper()}({page['section']})" in rendered
    assert "NAME" in rendered and "SYNOPSIS" in rendered


def test_every_package_ships_the_generated_daemon_page(built, tmp_path):
    generated = PAGES["coder-vm-bootstrap"]["page"].read_bytes()
    run(["dpkg-deb", "-x", built["deb"], tmp_path / "deb"])
    assert gzip.decompress((tmp_path / "deb/usr/share/man/man8/coder-vm-bootstrap.8.gz").read_bytes()) == generated
    (tmp_path / "rpm").mkdir()
    run(["sh", "-c", f"rpm2cpio '{built['rpm']}' | cpio -idm --quiet"], cwd=tmp_path / "rpm")
    assert gzip.decompress((tmp_path / "rpm/usr/share/man/man8/coder-vm-bootstrap.8.gz").read_bytes()) == generated
    pacman_page = run(["bsdtar", "-xOf", built["pacman"], "usr/share/man/man8/coder-vm-bootstrap.8.gz"], text=False).stdout
    assert gzip.decompress(pacman_page) == generated
    tar_page = run(["tar", "-xOzf", built["tarball"], f"{built['tarball_top']}/man/coder-vm-bootstrap.8"], text=False).stdout
    assert tar_page == generated


def test_units_point_at_the_man_page(built):
    for unit in UNITS:
        documentation = [line for line in (REPO / "units" / unit).read_text().splitlines()
                         if line.startswith("Documentation=")]
        assert documentation and documentation[0].split("=", 1)[1].split()[0] == "man:coder-vm-bootstrap(8)", unit
