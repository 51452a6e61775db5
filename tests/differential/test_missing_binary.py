"""Without a corral binary the corral tests of the differential, golden-replay and crash
suites fail, in CI and outside it, saying what is missing and how to build it: they
are never skipped, and their parameter is never dropped (which would leave a run that
compares ZooKeeper with itself and passes). Each case runs pytest on the suite's
corral tests only, with CORRAL_BIN naming a file that does not exist; the check comes
before any server starts, so this takes a few seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from corral_binary import BUILD_HINT, CorralBinaryMissing, corral_bin

REPO = Path(__file__).resolve().parents[2]

SUITE_TESTS = {
    "differential": ["tests/differential/test_differential.py::test_differential[corral]",
                     "tests/differential/test_golden_replay.py::test_golden_replay[corral]"],
    "crash": ["tests/crash/test_crash.py::test_crash_recovery_keeps_acknowledged_writes[corral]"],
}


@pytest.mark.parametrize("ci", ["true", ""], ids=["in-ci", "outside-ci"])
@pytest.mark.parametrize("suite", sorted(SUITE_TESTS))
def test_a_missing_binary_fails_the_suite(suite, ci, tmp_path):
    absent = tmp_path / "no-such-binary"
    env = dict(os.environ, CORRAL_BIN=str(absent), CI=ci)
    node_ids = SUITE_TESTS[suite]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'inner'}", *node_ids],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    # exit 1: tests failed (4 would be "not found": the parameter was dropped)
    assert run.returncode == 1, out
    assert f"{len(node_ids)} error" in out, out
    assert "skipped" not in out and "passed" not in out, out
    assert f"CORRAL_BIN={str(absent)!r} is not an executable file" in out, out
    assert "cargo build --workspace --all-targets" in out, out


def test_resolution_order_and_messages(tmp_path):
    built = tmp_path / "target" / "debug" / "corral"
    with pytest.raises(CorralBinaryMissing) as missing:
        corral_bin({}, repo=tmp_path)
    assert str(missing.value) == (f"no corral binary: CORRAL_BIN is unset and {built} does not "
                                  f"exist; {BUILD_HINT}")
    built.parent.mkdir(parents=True)
    built.write_text("#!/bin/sh\n")
    with pytest.raises(CorralBinaryMissing):
        corral_bin({}, repo=tmp_path)  # there, but not executable
    built.chmod(0o755)
    assert corral_bin({}, repo=tmp_path) == built
    assert corral_bin({"CORRAL_BIN": ""}, repo=tmp_path) == built
    # CORRAL_BIN wins; a relative one is found under the repository.
    own = tmp_path / "elsewhere" / "corral"
    own.parent.mkdir()
    own.write_text("#!/bin/sh\n")
    own.chmod(0o755)
    assert corral_bin({"CORRAL_BIN": str(own)}, repo=tmp_path) == own
    assert corral_bin({"CORRAL_BIN": "elsewhere/corral"}, repo=tmp_path) == own
    # A CORRAL_BIN that names nothing never falls back to target/debug/corral.
    with pytest.raises(CorralBinaryMissing, match="CORRAL_BIN='/nonexistent/corral'"):
        corral_bin({"CORRAL_BIN": "/nonexistent/corral"}, repo=tmp_path)
