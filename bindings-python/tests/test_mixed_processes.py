"""kazoo processes and corral processes (corral.Client and corral.kazoo's
KazooClient) share the same paths, on corral and on Apache ZooKeeper 3.8:
Lock, ReadLock/WriteLock (with corral's plain Lock among the writers),
Semaphore and Election keep their guarantees across the libraries, because
corral lays their nodes out as kazoo does; Counter, Party, Queue,
LockingQueue and Barrier read and write each other's nodes.

Each contender is its own process (mixed_worker.py) appending ``in``/``out``
lines to one log; the log replayed in order shows who was inside together.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("kazoo.client")

WORKER = Path(__file__).with_name("mixed_worker.py")
ROUNDS = 6
MAX_LEASES = 2  # mixed_worker.MAX_LEASES


def start_workers(hosts: str, path: str, log: Path, contenders: list[tuple[str, str]],
                  env: dict[str, str] | None = None) -> list[subprocess.Popen]:
    """Starts one process per (library, recipe)."""
    return [
        subprocess.Popen(
            [sys.executable, str(WORKER), library, recipe, hosts, path, f"{library}-{recipe}-{i}", str(ROUNDS), str(log)],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        for i, (library, recipe) in enumerate(contenders)
    ]


def run_workers(hosts: str, path: str, log: Path, contenders: list[tuple[str, str]],
                env: dict[str, str] | None = None) -> None:
    """Starts one process per (library, recipe) and waits for all of them."""
    wait_workers(start_workers(hosts, path, log, contenders, env))


def wait_workers(procs: list[subprocess.Popen]) -> None:
    """Waits for the workers; fails with their stderr if any failed."""
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
    run_workers(corral_server.hosts, path, log, [("kazoo", "lock"), ("corral", "lock"), ("corral.kazoo", "lock")] * 2)
    states, lines = replay(log)
    assert lines == 6 * ROUNDS * 2
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


LIBRARIES = ("kazoo", "corral", "corral.kazoo")


@pytest.fixture
def kazoo_client(corral_server):
    from kazoo.client import KazooClient

    k = KazooClient(hosts=corral_server.hosts, timeout=10)
    k.start(timeout=15)
    yield k
    k.stop()
    k.close()


def log_lines(log: Path, kind: str) -> list[list[str]]:
    return [line.split()[1:] for line in log.read_text().splitlines() if line.split()[0] == kind]


def test_counter_across_kazoo_and_corral(corral_server, tmp_path, path, kazoo_client):
    log = tmp_path / "log"
    run_workers(corral_server.hosts, path, log, [(lib, "counter") for lib in LIBRARIES] * 2)
    assert len(log_lines(log, "add")) == 6 * ROUNDS
    # Every increment landed: none lost to a concurrent one of another library.
    assert kazoo_client.Counter(path).value == 6 * ROUNDS


def test_party_across_kazoo_and_corral(corral_server, tmp_path, path, kazoo_client):
    log = tmp_path / "log"
    contenders = [(lib, "party") for lib in LIBRARIES] * 2
    procs = start_workers(corral_server.hosts, path, log, contenders, {"MIXED_PARTY_SIZE": str(len(contenders))})
    deadline = time.monotonic() + 60
    while len(log_lines(log, "saw") if log.exists() else []) < len(contenders):
        assert time.monotonic() < deadline, "not every member saw the whole party"
        time.sleep(0.05)
    assert len(kazoo_client.Party(path)) == len(contenders)
    kazoo_client.create(path + "-done")
    wait_workers(procs)
    members = sorted(f"{lib}-party-{i}" for i, (lib, _) in enumerate(contenders))
    for ident, seen in log_lines(log, "saw"):
        assert seen.split(",") == members, f"{ident} saw {seen}"
    assert len(kazoo_client.Party(path)) == 0


@pytest.mark.parametrize("kind", ["queue", "lockingqueue"])
def test_queues_across_kazoo_and_corral(corral_server, tmp_path, path, kind):
    log = tmp_path / "log"
    contenders = [(lib, kind) for lib in LIBRARIES] * 2
    run_workers(corral_server.hosts, path, log, contenders)
    taken = [item for _, item in log_lines(log, "took")]
    put = [f"{lib}-{kind}-{i}-{r}" for i, (lib, _) in enumerate(contenders) for r in range(ROUNDS)]
    # Every item put by any library was taken exactly once by some library.
    assert sorted(taken) == sorted(put)
    takers = {ident.split("-")[0] for ident, _ in log_lines(log, "took")}
    assert len(takers) >= 2, f"only {takers} took items"


def test_barrier_across_kazoo_and_corral(corral_server, tmp_path, path, kazoo_client):
    import corral

    log = tmp_path / "log"
    kazoo_client.Barrier(path).create()
    contenders = [(lib, "barrier") for lib in LIBRARIES] * 2
    procs = start_workers(corral_server.hosts, path, log, contenders)
    deadline = time.monotonic() + 60
    while len(log_lines(log, "waiting") if log.exists() else []) < len(contenders):
        assert time.monotonic() < deadline, "not every process reached the barrier"
        time.sleep(0.05)
    time.sleep(0.3)  # on purpose: none may pass while the barrier stands
    assert log_lines(log, "passed") == []
    with corral.Client(corral_server.hosts) as zk:
        assert zk.Barrier(path).remove()
    wait_workers(procs)
    assert len(log_lines(log, "passed")) == len(contenders)
