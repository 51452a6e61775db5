"""kazoo processes and corral processes contend on the same paths, on corral
and on Apache ZooKeeper 3.8: Lock, ReadLock/WriteLock (with corral's plain
Lock among the writers), Semaphore and Election keep their guarantees across the
two libraries, because corral lays their nodes out as kazoo does.

Each contender is its own process (mixed_worker.py) appending ``in``/``out``
lines to one log; the log replayed in order shows who was inside together.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytest.importorskip("kazoo.client")

WORKER = Path(__file__).with_name("mixed_worker.py")
ROUNDS = 6
MAX_LEASES = 2  # mixed_worker.MAX_LEASES


def run_workers(hosts: str, path: str, log: Path, contenders: list[tuple[str, str]]) -> None:
    """Starts one process per (library, recipe) and waits for all of them."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), library, recipe, hosts, path, f"{library}-{recipe}-{i}", str(ROUNDS), str(log)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, (library, recipe) in enumerate(contenders)
    ]
    failures = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        if p.returncode != 0:
            failures.append(f"{p.args[2:4]} exited {p.returncode}: {err[-2000:]}")
    assert not failures, "\n".join(failures)


def replay(log: Path) -> tuple[list[dict[str, str]], int]:
    """Who was inside after each line, and how many log lines there were."""
    inside: dict[str, str] = {}
    states = []
    lines = log.read_text().splitlines()
    for line in lines:
        what, ident, role = line.split()
        if what == "in":
            assert ident not in inside, f"{ident} entered twice"
            inside[ident] = role
        else:
            assert inside.pop(ident) == role
        states.append(dict(inside))
    assert not inside, f"still inside at the end: {inside}"
    return states, len(lines)


@pytest.fixture
def path() -> str:
    return f"/mixed/{uuid.uuid4().hex[:8]}"


def test_lock_excludes_across_kazoo_and_corral(corral_server, tmp_path, path):
    log = tmp_path / "log"
    run_workers(corral_server.hosts, path, log, [("kazoo", "lock"), ("corral", "lock")] * 2)
    states, lines = replay(log)
    assert lines == 4 * ROUNDS * 2
    assert max(len(s) for s in states) == 1, "two holders at once"


def test_read_write_lock_across_kazoo_and_corral(corral_server, tmp_path, path):
    log = tmp_path / "log"
    contenders = [
        ("kazoo", "read"), ("corral", "read"), ("kazoo", "read"), ("corral", "read"),
        ("kazoo", "write"), ("corral", "write"),
        # corral's Lock waits for every contender ahead, readers too, so it is
        # a writer here. kazoo's own Lock is not: it waits only for `__lock__`
        # nodes, and so may hold beside readers (kazoo's behaviour).
        ("corral", "lock"),
    ]
    run_workers(corral_server.hosts, path, log, contenders)
    states, lines = replay(log)
    assert lines == len(contenders) * ROUNDS * 2
    for s in states:
        writers = [i for i, role in s.items() if role != "read"]
        assert not writers or len(s) == 1, f"a writer was not alone: {s}"
    assert max(sum(role == "read" for role in s.values()) for s in states) >= 2, "readers never shared"


def test_semaphore_across_kazoo_and_corral(corral_server, tmp_path, path):
    log = tmp_path / "log"
    run_workers(corral_server.hosts, path, log, [("kazoo", "semaphore"), ("corral", "semaphore")] * 3)
    states, lines = replay(log)
    assert lines == 6 * ROUNDS * 2
    assert max(len(s) for s in states) == MAX_LEASES, "more holders than leases, or never two at once"


def test_election_across_kazoo_and_corral(corral_server, tmp_path, path):
    log = tmp_path / "log"
    run_workers(corral_server.hosts, path, log, [("kazoo", "election"), ("corral", "election")] * 2)
    states, lines = replay(log)
    assert lines == 4 * ROUNDS * 2
    assert max(len(s) for s in states) == 1, "two leaders at once"
    leaders = {line.split()[1] for line in log.read_text().splitlines()}
    assert any(i.startswith("kazoo") for i in leaders) and any(i.startswith("corral") for i in leaders)
