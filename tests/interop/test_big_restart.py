"""A member of a corral ensemble holding a large tree is killed with SIGKILL and
started again at once, without waiting for the dying process to be gone.

A process with a large heap takes a moment to release its files after SIGKILL,
so the new process can find its data directories still locked; it must wait
for them (``dataDirLockWaitMs``) rather than give up, then recover the tree and
serve. The test measures the time from the kill to the member serving again
and to it answering a read of the last node written.

``CORRAL_BIG_TREE_ZNODES`` sets the size of the tree (default 1,000,000).
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from kazoo.client import KazooClient

from conftest import fast_retry
from zkharness import Ensemble, ServerError, four_letter_word, wait_until

ZNODES = int(os.environ.get("CORRAL_BIG_TREE_ZNODES", "1000000"))
PER_PARENT = 1000
PER_TXN = 500
WINDOW = 16
RESTART_TIMEOUT_S = 90.0


def fill(zk: KazooClient, root: str, count: int) -> str:
    """Creates ``count`` empty nodes under ``root`` (``PER_PARENT`` per parent) in
    pipelined transactions; returns the path of the last one."""
    parents = (count + PER_PARENT - 1) // PER_PARENT
    zk.create(root, b"")
    for p in range(parents):
        zk.create_async(f"{root}/p{p:05d}", b"")
    zk.sync(root)
    paths = (f"{root}/p{i // PER_PARENT:05d}/n{i % PER_PARENT:04d}" for i in range(count))
    pending = []
    last = None
    while True:
        txn = zk.transaction()
        batch = 0
        for path in paths:
            txn.create(path, b"")
            last = path
            batch += 1
            if batch == PER_TXN:
                break
        if batch == 0:
            break
        pending.append(txn.commit_async())
        if len(pending) >= WINDOW:
            check_txn(pending.pop(0).get(timeout=60))
    for result in pending:
        check_txn(result.get(timeout=60))
    assert last is not None
    return last


def check_txn(results: list) -> None:
    failed = [r for r in results if isinstance(r, Exception)]
    assert not failed, f"a fill transaction failed: {failed[:3]}"


def znode_count(port: int) -> int:
    for line in four_letter_word(port, "mntr", timeout=5.0).splitlines():
        key, _, value = line.partition("\t")
        if key == "zk_znode_count":
            return int(value)
    raise AssertionError(f"no zk_znode_count in mntr of port {port}")


def run_big_restart(tmp_path, lock_wait_ms: int, count: int) -> None:
    e = Ensemble("corral", tmp_path / "ensemble", size=3,
                 config={"snapCount": "100000", "dataDirLockWaitMs": str(lock_wait_ms)})
    try:
        e.start()
    except (ServerError, AssertionError) as err:
        pytest.fail(f"could not start a corral ensemble: {err}", pytrace=False)
    zk = None
    try:
        leader = e.leader()
        zk = KazooClient(hosts=e.members[leader].hosts, timeout=20.0, connection_retry=fast_retry())
        zk.start(timeout=20)
        root = f"/big-{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        last = fill(zk, root, count)
        fill_s = time.monotonic() - started
        zk.stop()
        zk.close()
        zk = None
        e.wait_converged(timeout=120)
        victim = leader
        member = e.members[victim]
        held = znode_count(member.port)
        assert held >= count, f"member {victim} holds {held} znodes, fewer than the {count} written"

        # kill -9, and start the next process at once: the dying one may still hold its files.
        dying = member.proc
        assert dying is not None
        killed_at = time.monotonic()
        os.kill(dying.pid, signal.SIGKILL)
        member.proc = None
        member.start(wait=False)
        member.wait_ready(timeout=RESTART_TIMEOUT_S)
        serving_s = time.monotonic() - killed_at
        dying.wait(timeout=30)

        reader = KazooClient(hosts=member.hosts, timeout=20.0, connection_retry=fast_retry())
        reader.start(timeout=RESTART_TIMEOUT_S)
        try:
            reader.sync(last)
            assert reader.exists(last) is not None, f"{last} is gone after the restart"
            read_s = time.monotonic() - killed_at
            assert len(reader.get_children(f"{root}/p00000")) == min(PER_PARENT, count)
        finally:
            reader.stop()
            reader.close()
        assert znode_count(member.port) >= count
        e.wait_serving(timeout=RESTART_TIMEOUT_S)
        waited = "the directory is locked by another process" in member.log_path.read_text(errors="replace")
        print(f"\nbig-tree restart: {held} znodes ({fill_s:.1f} s to write); kill -9 of member {victim} "
              f"(the leader) and immediate restart: serving after {serving_s:.2f} s, the last node read "
              f"after {read_s:.2f} s; {'waited for' if waited else 'did not find'} the predecessor's lock")
    finally:
        if zk is not None:
            zk.stop()
            zk.close()
        e.stop()


@pytest.mark.timeout(300)
def test_a_member_with_a_big_tree_serves_again_right_after_kill_9_and_restart(tmp_path):
    run_big_restart(tmp_path, lock_wait_ms=60_000, count=ZNODES)
