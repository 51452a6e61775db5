"""corral's Lock recipe with kazoo naming and kazoo's own Lock contend on one path.

corral's side is the ``distributed_lock`` example (built by ``cargo build --workspace
--all-targets``), run with ``--kazoo``. Each holder, of either kind, appends ``<id> begin
<round>`` and ``<id> end <round>`` to a shared log node with versioned writes while it
holds the lock: exclusion means the log is a sequence of whole begin/end pairs and the
holding intervals never overlap.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time

import pytest
from kazoo.exceptions import LockTimeout

from zkharness import REPO_ROOT, wait_until

EXAMPLE = REPO_ROOT / "target" / "debug" / "examples" / "distributed_lock"
EVENT = re.compile(r"^(acquired|released) (-?\d+) at (\d+) by (\S+)$")
ROUNDS = 5
HOLD_MS = 60


def example_bin() -> str:
    if not (EXAMPLE.is_file() and os.access(EXAMPLE, os.X_OK)):
        pytest.fail(
            f"no {EXAMPLE}: build it with `cargo build --workspace --all-targets` "
            "(tests/run-all.sh does)",
            pytrace=False,
        )
    return str(EXAMPLE)


def start_rust(server, lock_path: str, ident: str, rounds: int, hold_ms: int, log: str | None = None):
    cmd = [example_bin(), server.hosts, lock_path, "--kazoo", "--id", ident,
           "--rounds", str(rounds), "--hold-ms", str(hold_ms)]
    if log:
        cmd += ["--log-node", log]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_rust(proc, timeout: float = 60.0) -> list[tuple[str, int, int, str]]:
    """Wait for the example; return its (event, token, unix_ms, id) lines."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"distributed_lock did not finish in {timeout}s\n{out}\n{err}", pytrace=False)
    assert proc.returncode == 0, f"distributed_lock exited {proc.returncode}\n{out}\n{err}"
    events = []
    for line in out.splitlines():
        m = EVENT.match(line)
        assert m, f"unexpected output line {line!r}"
        events.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
    return events


def append(client, log: str, version: int, line: str) -> int:
    """Append under the lock; a BadVersion here would mean a second holder."""
    data, _ = client.get(log)
    return client.set(log, data + line.encode(), version=version).version


def test_kazoo_and_corral_locks_exclude_each_other(server, make_client, zk, ns):
    lock_path, log = f"{ns}/lock", f"{ns}/log"
    zk.ensure_path(log)
    procs = [start_rust(server, lock_path, f"rust-{i}", ROUNDS, HOLD_MS, log) for i in range(2)]
    intervals: list[tuple[int, int, str]] = []
    seen_contenders: set[str] = set()
    errors: list[BaseException] = []

    def kazoo_holder(ident: str):
        try:
            client = make_client(server)
            lock = client.Lock(lock_path, ident)
            for rnd in range(ROUNDS):
                with lock:
                    start = int(time.time() * 1000)
                    seen_contenders.update(lock.contenders())
                    _, stat = client.get(log)
                    v = append(client, log, stat.version, f"{ident} begin {rnd}\n")
                    time.sleep(HOLD_MS / 1000)
                    append(client, log, v, f"{ident} end {rnd}\n")
                    intervals.append((start, int(time.time() * 1000), ident))
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=kazoo_holder, args=(f"kazoo-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
        assert not t.is_alive(), "a kazoo holder did not finish"
    assert not errors, f"kazoo holder failed: {errors[0]!r}"

    tokens = []
    for proc in procs:
        events = finish_rust(proc)
        assert [e[0] for e in events] == ["acquired", "released"] * ROUNDS
        for acq, rel in zip(events[::2], events[1::2]):
            assert acq[1] == rel[1], "one token per hold"
            intervals.append((acq[2], rel[2], acq[3]))
            tokens.append((acq[2], acq[1]))

    # The log holds whole begin/end pairs, ROUNDS per holder.
    lines = zk.get(log)[0].decode().splitlines()
    assert len(lines) == 2 * 4 * ROUNDS, lines
    for begin, end in zip(lines[::2], lines[1::2]):
        who, what, rnd = begin.split()
        assert (what, end) == ("begin", f"{who} end {rnd}"), f"interleaved log:\n{chr(10).join(lines)}"
    for ident in ("rust-0", "rust-1", "kazoo-0", "kazoo-1"):
        assert sum(1 for ln in lines if ln.startswith(f"{ident} begin")) == ROUNDS

    # Holding intervals do not overlap; corral's fencing tokens grow hold after hold.
    intervals.sort()
    for a, b in zip(intervals, intervals[1:]):
        assert b[0] >= a[1], f"{a} overlaps {b}"
    tokens.sort()
    assert all(x[1] < y[1] for x, y in zip(tokens, tokens[1:])), tokens
    # kazoo recognised corral's nodes as contenders (their data is the id).
    assert any(c.startswith("rust-") for c in seen_contenders), seen_contenders
    assert zk.get_children(lock_path) == []


def test_each_side_waits_for_the_other(server, zk, ns):
    lock_path = f"{ns}/lock"
    lock = zk.Lock(lock_path, "kazoo")

    # corral holds: kazoo sees it as the contender and cannot take the lock.
    proc = start_rust(server, lock_path, "rust-holder", rounds=1, hold_ms=1500)
    wait_until(lambda: lock.contenders() == ["rust-holder"], 20, message="corral's node never appeared")
    with pytest.raises(LockTimeout):
        lock.acquire(timeout=0.3)
    assert lock.acquire(timeout=20)
    kazoo_acquired = int(time.time() * 1000)
    events = finish_rust(proc)
    assert events[1][0] == "released" and events[1][2] <= kazoo_acquired

    # kazoo holds: corral waits until kazoo releases.
    proc = start_rust(server, lock_path, "rust-waiter", rounds=1, hold_ms=0)
    wait_until(lambda: lock.contenders() == ["kazoo", "rust-waiter"], 20,
               message="corral's node never queued behind kazoo's")
    time.sleep(0.3)  # on purpose: time for corral to (wrongly) take the lock and exit
    assert proc.poll() is None, "corral took a lock kazoo holds"
    kazoo_released = int(time.time() * 1000)
    lock.release()
    events = finish_rust(proc)
    assert events[0][0] == "acquired" and events[0][2] >= kazoo_released
    assert zk.get_children(lock_path) == []
