"""Fixtures for the partition suite: a private network of namespaces per test, and a
3-member ensemble of one kind inside it.

Everything a test creates -- namespaces, the root veth, member processes -- is
removed by the fixture finalizers; also at exit (atexit) and on SIGTERM, and
the next run removes what a killed run (its pid gone) left behind.

Select one kind with ``-k corral`` / ``-k zookeeper`` or ``PARTITION_SERVERS=corral``.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "interop"))

from members import Ensemble  # noqa: E402
from netns import Network, NetnsError, remove_leftovers  # noqa: E402
from zkharness import KINDS, REPO_ROOT, ServerError  # noqa: E402

os.environ.setdefault("CORRAL_BIN", str(REPO_ROOT / "target" / "debug" / "corral"))

SERVER_KINDS = [k.strip() for k in os.environ.get("PARTITION_SERVERS", ",".join(KINDS)).split(",") if k.strip()]
for _k in SERVER_KINDS:
    if _k not in KINDS:
        raise pytest.UsageError(f"PARTITION_SERVERS: unknown server kind {_k!r} (known: {KINDS})")

# kazoo logs every lost connection; the faults make many on purpose.
logging.getLogger("kazoo").setLevel(logging.ERROR)

# What must go however the run ends: ensembles first (their processes), then networks.
_live: list[Ensemble | Network] = []
_live_lock = threading.Lock()
#: Per-kind reports, printed at the end of the run.
REPORTS: list[str] = []


def _remove(thing: Ensemble | Network) -> None:
    if isinstance(thing, Ensemble):
        thing.kill_all()
    else:
        thing.remove()


def remove_everything() -> None:
    with _live_lock:
        things, _live[:] = list(_live), []
    for thing in sorted(things, key=lambda t: isinstance(t, Network)):
        try:
            _remove(thing)
        except Exception as e:  # keep removing the rest
            print(f"partition: cleanup of {thing!r} failed: {e}", file=sys.stderr)


def _on_sigterm(signum, _frame):
    remove_everything()
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    atexit.register(remove_everything)
    signal.signal(signal.SIGTERM, _on_sigterm)


def pytest_terminal_summary(terminalreporter):
    if REPORTS:
        terminalreporter.section("partition report")
        for report in REPORTS:
            terminalreporter.write_line(report)


@pytest.fixture
def partition_report():
    """``partition_report(text)``: print ``text`` in the closing summary of the run."""
    return REPORTS.append


@pytest.fixture(params=SERVER_KINDS)
def server_kind(request) -> str:
    return request.param


@pytest.fixture
def network():
    if os.geteuid() != 0:
        pytest.fail("the partition suite creates network namespaces: run it as root", pytrace=False)
    removed = remove_leftovers()
    if removed:
        print(f"removed leftovers of earlier runs: {', '.join(removed)}")
    net = Network()
    with _live_lock:
        _live.append(net)
    try:
        net.create()
    except NetnsError as e:
        net.remove()
        pytest.fail(f"could not create the test network: {e}", pytrace=False)
    yield net
    with _live_lock:
        if net in _live:
            _live.remove(net)
    net.remove()
    assert not net.leftovers(), f"still present after removal: {net.leftovers()}"


@pytest.fixture
def ensemble(server_kind, network, tmp_path):
    e = Ensemble(server_kind, tmp_path / server_kind, network)
    with _live_lock:
        _live.append(e)
    try:
        e.start()
    except (ServerError, AssertionError) as err:
        e.stop()
        pytest.fail(f"could not start a {server_kind} ensemble in {network!r}: {err}", pytrace=False)
    yield e
    with _live_lock:
        if e in _live:
            _live.remove(e)
    e.stop()
