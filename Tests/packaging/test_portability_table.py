"""packaging/targets.tsv, the portability facts as data, and
scripts/check-portability.sh, which checks the release binary against each
distribution's row: the seven targets are judged one by one, so a fact that
one distribution lacks fails that distribution (and the check), not a single
shared threshold."""
import subprocess

import pytest

from package_tools import REPO

TABLE = REPO / "packaging" / "targets.tsv"
CHECK = REPO / "scripts" / "check-portability.sh"
DAEMON = REPO / ".build" / "release" / "coder-vm-bootstrap"
TARGETS = ["ubuntu-22.04", "debian-12", "fedora-39", "arch", "almalinux-9", "centos-stream-9", "rocky-9"]
LIBRARIES = ["glibc", "libstdc++", "libgcc_s", "libsystemd", "libcrypto", "libcurl", "libz"]


def rows(text=None):
    lines = [line for line in (text or TABLE.read_text()).splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def check(table_text, tmp_path):
    if not DAEMON.exists():
        pytest.fail(f"{DAEMON} is missing: run `make release`")
    table = tmp_path / "targets.tsv"
    table.write_text(table_text)
    out = subprocess.run([str(CHECK), str(DAEMON), str(table)], capture_output=True, text=True)
    verdicts = {line.split()[1]: line.split()[0] for line in out.stdout.splitlines()
                if line.startswith(("ok:", "FAIL:")) and line.split()[1] in TARGETS}
    return out, verdicts


def with_fact(target, library, column, value):
    """The table with one fact of one distribution changed."""
    out = []
    for line in TABLE.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) == 7 and fields[0] == target and fields[2] == library:
            fields[["target", "name", "library", "sonames", "version", "package", "source"].index(column)] = value
        out.append("\t".join(fields))
    return "\n".join(out) + "\n"


def without_row(target, library):
    """The table without one library's row for one distribution."""
    out = []
    for line in TABLE.read_text().splitlines():
        fields = line.split("\t")
        if not (len(fields) == 7 and fields[0] == target and fields[2] == library):
            out.append(line)
    return "\n".join(out) + "\n"


def test_table_has_every_library_fact_with_its_source_for_each_of_the_seven_targets():
    table = rows()
    assert sorted({r["target"] for r in table}) == sorted(TARGETS)
    for target in TARGETS:
        libraries = [r["library"] for r in table if r["target"] == target]
        assert sorted(libraries) == sorted(LIBRARIES), target
    for r in table:
        assert r["sonames"] and r["version"] and r["package"] and r["source"], r


def test_release_binary_starts_on_all_seven_distributions_each_checked_on_its_own(tmp_path):
    out, verdicts = check(TABLE.read_text(), tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert verdicts == {t: "ok:" for t in TARGETS}
    assert "libcurl.so.4" in out.stdout and "libz.so.1" in out.stdout, "the dlopen'ed libraries are checked too"


def test_a_distribution_with_an_older_glibc_fails_alone(tmp_path):
    out, verdicts = check(with_fact("rocky-9", "glibc", "version", "2.33"), tmp_path)
    assert out.returncode == 1
    assert verdicts.pop("rocky-9") == "FAIL:" and set(verdicts.values()) == {"ok:"}
    assert "GLIBC_2.34 > GLIBC_2.33 (libc.so.6)" in out.stdout


def test_a_distribution_with_an_older_libstdcxx_fails_alone(tmp_path):
    out, verdicts = check(with_fact("ubuntu-22.04", "libstdc++", "version", "3.4.28"), tmp_path)
    assert out.returncode == 1
    assert verdicts.pop("ubuntu-22.04") == "FAIL:" and set(verdicts.values()) == {"ok:"}
    assert "GLIBCXX_3.4.29 > GLIBCXX_3.4.28" in out.stdout


def test_a_distribution_without_the_dlopened_libcurl_soname_fails(tmp_path):
    out, verdicts = check(with_fact("arch", "libcurl", "sonames", "libcurl.so.5"), tmp_path)
    assert out.returncode == 1
    assert verdicts["arch"] == "FAIL:" and "no libcurl.so.4" in out.stdout


def test_a_distribution_without_the_dlopened_zlib_fails_alone(tmp_path):
    out, verdicts = check(without_row("almalinux-9", "libz"), tmp_path)
    assert out.returncode == 1
    assert verdicts.pop("almalinux-9") == "FAIL:" and set(verdicts.values()) == {"ok:"}
    assert "FAIL: almalinux-9 (AlmaLinux 9): no libz.so.1" in out.stdout.splitlines()


def test_a_distribution_whose_openssl_moved_to_a_new_soname_fails(tmp_path):
    out, verdicts = check(with_fact("fedora-39", "libcrypto", "sonames", "libcrypto.so.4"), tmp_path)
    assert out.returncode == 1
    assert verdicts["fedora-39"] == "FAIL:" and "no libcrypto.so.3" in out.stdout


def test_a_distribution_with_a_systemd_older_than_the_symbols_used_fails(tmp_path):
    out, verdicts = check(with_fact("debian-12", "libsystemd", "version", "239"), tmp_path)
    assert out.returncode == 1
    assert verdicts["debian-12"] == "FAIL:" and "LIBSYSTEMD_240 > LIBSYSTEMD_239" in out.stdout
