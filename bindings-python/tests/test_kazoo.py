"""kazoo 2.11 (pure Python, its own protocol code) against corral's EmbeddedServer,
side by side with corral's client on the same server."""

from __future__ import annotations

import threading
import time

import pytest

kazoo_client = pytest.importorskip("kazoo.client")
from kazoo.exceptions import BadVersionError, LockTimeout, NoNodeError, NodeExistsError  # noqa: E402
from kazoo.protocol.states import EventType as KEventType  # noqa: E402

import corral  # noqa: E402
from corral.testing import EmbeddedServer  # noqa: E402
from helpers import wait_until  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with EmbeddedServer() as s:
        yield s


@pytest.fixture
def kz(server):
    k = kazoo_client.KazooClient(hosts=server.hosts, timeout=10)
    k.start(timeout=10)
    yield k
    k.stop()
    k.close()


@pytest.fixture
def zk(server):
    with corral.Client(server.hosts) as c:
        yield c


def test_kazoo_crud(kz):
    kz.ensure_path("/kz/crud")
    assert kz.create("/kz/crud/a", b"1") == "/kz/crud/a"
    data, stat = kz.get("/kz/crud/a")
    assert data == b"1" and stat.version == 0
    kz.set("/kz/crud/a", b"2", version=0)
    with pytest.raises(BadVersionError):
        kz.set("/kz/crud/a", b"3", version=0)
    with pytest.raises(NodeExistsError):
        kz.create("/kz/crud/a")
    seq = kz.create("/kz/crud/s-", sequence=True, ephemeral=True)
    assert kz.get_children("/kz/crud") and seq.startswith("/kz/crud/s-")
    kz.delete("/kz/crud", recursive=True)
    with pytest.raises(NoNodeError):
        kz.get("/kz/crud/a")


def test_kazoo_transaction_and_watch(kz):
    kz.ensure_path("/kz/t")
    t = kz.transaction()
    t.create("/kz/t/a", b"a")
    t.check("/kz/t", 0)
    t.set_data("/kz/t", b"x")
    assert t.commit()[0] == "/kz/t/a"
    events = []
    kz.get("/kz/t/a", watch=events.append)
    kz.set("/kz/t/a", b"b")
    wait_until(lambda: events)
    assert events[0].type == KEventType.CHANGED
    kz.delete("/kz/t", recursive=True)


def test_kazoo_and_corral_side_by_side(kz, zk):
    kz.ensure_path("/both")
    seen = []
    done = threading.Event()

    @zk.DataWatch("/both/cfg")
    def on_cfg(data, stat):
        seen.append(data)
        if data == b"v2":
            done.set()

    kz.create("/both/cfg", b"v1")
    kz.set("/both/cfg", b"v2")
    assert done.wait(10)
    assert seen[0] is None and seen[-1] == b"v2"
    zk.create("/both/eph", b"corral", ephemeral=True)
    data, stat = kz.get("/both/eph")
    assert data == b"corral" and stat.ephemeralOwner == zk.session_id
    kz_children = []
    kz.ChildrenWatch("/both", lambda c: kz_children.append(sorted(c)))
    zk.create("/both/new")
    wait_until(lambda: kz_children and "new" in kz_children[-1])
    zk.delete("/both", recursive=True)
    assert kz.exists("/both") is None


def test_kazoo_stat_matches_corral_stat(kz, zk):
    zk.create("/stat", b"abc")
    kstat = kz.exists("/stat")
    cstat = zk.exists("/stat")
    assert tuple(kstat) == tuple(cstat)
    assert kstat._fields == cstat._fields
    zk.delete("/stat")


def test_recipes_share_paths_with_kazoo(kz, zk):
    """The recipes whose node layout is kazoo's interoperate with kazoo's own."""
    # Lock: a kazoo contender waits for corral's holder, and lists it.
    lock = zk.Lock("/kzr/lock", "corral")
    assert lock.acquire()
    klock = kz.Lock("/kzr/lock", "kazoo")
    with pytest.raises(LockTimeout):
        klock.acquire(timeout=0.3)
    assert klock.contenders() == ["corral"]
    lock.release()
    assert klock.acquire(timeout=5)
    assert lock.contenders() == ["kazoo"] and lock.acquire(blocking=False) is False
    klock.release()
    # Queue and LockingQueue: items put by one are taken by the other, by priority.
    zk.Queue("/kzr/q").put(b"low", priority=500)
    kz.Queue("/kzr/q").put(b"high", priority=1)
    assert zk.Queue("/kzr/q").get() == b"high" and kz.Queue("/kzr/q").get() == b"low"
    zk.LockingQueue("/kzr/lq").put_all([b"a", b"b"])
    kq = kz.LockingQueue("/kzr/lq")
    assert kq.get(1) == b"a"
    assert zk.LockingQueue("/kzr/lq").get(1) == b"b", "kazoo's lock keeps corral off its item"
    assert kq.consume() and len(kq) == 1
    # Party, ShallowParty, Counter.
    for kind in ("Party", "ShallowParty"):
        mine = getattr(zk, kind)(f"/kzr/{kind}", "corral")
        mine.join()
        getattr(kz, kind)(f"/kzr/{kind}", "kazoo").join()
        assert sorted(getattr(kz, kind)(f"/kzr/{kind}")) == ["corral", "kazoo"] == list(mine)
    counter = kz.Counter("/kzr/n")
    counter += 2
    assert zk.Counter("/kzr/n").add(3) == 5 and counter.value == 5
    # SetPartitioner: a corral and a kazoo member split one set.
    items = ["a", "b", "c", "d"]
    mine = zk.SetPartitioner("/kzr/parts", set=items, identifier="m1", time_boundary=0.3)
    theirs = kz.SetPartitioner("/kzr/parts", set=items, identifier="m2", time_boundary=0.3)
    deadline = time.monotonic() + 20
    while not (mine.acquired and theirs.acquired):
        assert time.monotonic() < deadline, (mine.state, theirs.state)
        if mine.release:
            mine.release_set()
        if theirs.release:
            theirs.release_set()
        time.sleep(0.05)
    assert list(mine) == ["a", "c"] and list(theirs) == ["b", "d"]
    theirs.finish()
    mine.finish()
    kz.delete("/kzr", recursive=True)
