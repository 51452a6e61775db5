"""The recipes wrapped so far (Lock, Counter, Barrier, Queue, LeaderLatch)."""

from __future__ import annotations

import threading
import time

import pytest

import corral
from helpers import wait_until


def test_lock(zk, make_zk):
    other = make_zk()
    lock = zk.Lock("/locks/a", "me")
    assert lock.state == "RELEASED" and not lock.is_acquired
    with lock:
        assert lock.is_acquired and lock.fencing_token
        assert len(lock.contenders()) == 1 and "__lock__" in lock.contenders()[0]
        rival = other.Lock("/locks/a", "rival")
        assert rival.acquire(blocking=False) is False
        assert rival.acquire(timeout=0.2) is False
        token = lock.fencing_token
        got = []
        t = threading.Thread(target=lambda: got.append(rival.acquire(timeout=10)))
        t.start()
        time.sleep(0.2)
    t.join()
    assert got == [True] and rival.is_acquired and rival.fencing_token > token
    rival.release()
    with pytest.raises(corral.BadArgumentsError):
        rival.release()


def test_lock_lost_on_expiry(zk, expire_session):
    lock = zk.Lock("/locks/e")
    assert lock.acquire()
    expire_session(zk)
    wait_until(lambda: lock.state == "LOST")


def test_counter(zk):
    c = zk.Counter("/counters/c")
    assert c.value == 0
    c += 5
    assert (c.pre_value, c.post_value) == (0, 5)
    c -= 2
    assert c.value == 3 and zk.get("/counters/c")[0] == b"3"
    assert zk.Counter("/counters/d", default=10).value == 10


def test_barrier(zk, make_zk):
    b = zk.Barrier("/barriers/b")
    assert b.wait(0.1) is True  # no node: down
    b.create()
    waiter = make_zk().Barrier("/barriers/b")
    assert waiter.wait(0.2) is False
    result = []
    t = threading.Thread(target=lambda: result.append(waiter.wait(10)))
    t.start()
    b.remove()
    t.join()
    assert result == [True]


def test_queue(zk, make_zk):
    q = zk.Queue("/queues/q")
    q.put(b"1")
    q.put_all([b"2", b"3"])
    assert len(q) == 3
    consumer = make_zk().Queue("/queues/q")
    assert consumer.get() == b"1"
    assert q.take() == b"2"
    assert consumer.take(timeout=1) == b"3"
    assert q.get() is None
    assert q.take(timeout=0.1) is None
    later = threading.Timer(0.2, lambda: q.put(b"late"))
    later.start()
    assert consumer.take(timeout=10) == b"late"


def test_leader_latch(zk, make_zk):
    a = zk.LeaderLatch("/latch", "a")
    b = make_zk().LeaderLatch("/latch", "b")
    a.start()
    assert a.await_leadership(10)
    b.start()
    assert b.await_leadership(0.2) is False and not b.has_leadership
    a.close()
    assert b.await_leadership(10) and b.has_leadership
    b.close()
