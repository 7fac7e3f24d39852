"""The SystemdSupport tests that need systemd as PID 1 and a running journald
(UnitManager against the real D-Bus API, the journal handler against the
real journald), run where those exist: the debug test bundle inside a booted
container, with the toolchain's libraries bound in read-only.

Needs the debug test build (`swift build --build-tests`, which `make
unit-test` does before `make system-test`).
"""
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUNDLE = REPO / ".build" / "debug" / "coder-vm-bootstrapPackageTests.xctest"
TOOLCHAIN = pathlib.Path("/opt/swift")


@pytest.mark.parametrize("suite, must_run", [
    ("SystemdSupportTests.SystemdUnitTests", None),  # every test of the suite
    ("SystemdSupportTests.JournalLogHandlerTests", ["testEntryIsFoundInTheRealJournalByItsFields"]),
])
def test_systemd_support_tests_pass_inside_a_booted_container(container, suite, must_run):
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `swift build --build-tests` first")
    c = container(name=suite.split(".")[-1].lower()[:12], binds_ro=[(str(TOOLCHAIN), str(TOOLCHAIN)), (str(REPO), str(REPO))])
    run = c.run([str(BUNDLE), suite], check=False, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    outcomes = dict(re.findall(r"Test Case '\w+\.(\w+)' (passed|skipped|failed)", output))
    assert outcomes, output[-2000:]
    expected = must_run or list(outcomes)
    assert {name: outcomes.get(name) for name in expected} == {name: "passed" for name in expected}, output[-3000:]
