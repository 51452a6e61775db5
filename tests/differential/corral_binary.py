"""The corral binary that the differential, golden-replay and crash suites run, and the
rule that without one every corral test of these suites fails -- in CI and outside
it. A corral test is never skipped and its parameter is never dropped: either would
leave a run that compares Apache ZooKeeper with itself and passes.

Both suites' conftest.py import the hooks below; zkserver.py starts what
``corral_bin()`` returns.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = Path("target") / "debug" / "corral"
BUILD_HINT = ("build it with `cargo build --workspace --all-targets` (which writes "
              f"{DEFAULT_BIN}), or set CORRAL_BIN to a corral binary")


class CorralBinaryMissing(RuntimeError):
    """Neither $CORRAL_BIN nor target/debug/corral is an executable file."""


def corral_bin(env: Mapping[str, str] | None = None, repo: Path = REPO) -> Path:
    """$CORRAL_BIN (a relative path is taken from the working directory, else from the
    repository), or else the repository's target/debug/corral. Raises
    CorralBinaryMissing naming what is missing and how to build it."""
    env = os.environ if env is None else env
    value = env.get("CORRAL_BIN")
    if value:
        path = Path(value)
        if not path.is_absolute() and not path.exists():
            path = repo / path
        what = f"CORRAL_BIN={value!r} is not an executable file ({path})"
    else:
        path = repo / DEFAULT_BIN
        what = f"no corral binary: CORRAL_BIN is unset and {path} does not exist"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise CorralBinaryMissing(f"{what}; {BUILD_HINT}")
    return path


def runs_corral(item: pytest.Item) -> bool:
    """Whether a test is parametrized with the corral server kind."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "corral" in callspec.params.values()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: the differential test would otherwise run the whole reference
    # workload on ZooKeeper first, only to fail when it starts corral.
    if not runs_corral(item):
        return
    try:
        corral_bin()
        return
    except CorralBinaryMissing as missing:
        reason = str(missing)
    pytest.fail(reason, pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    try:
        return f"corral: {corral_bin()}"
    except CorralBinaryMissing as missing:
        return f"corral: MISSING, every corral test fails: {missing}"
