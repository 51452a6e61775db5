"""kazoo 2.11 (pure Python, its own protocol code) against corral's EmbeddedServer,
side by side with corral's client on the same server."""

from __future__ import annotations

import threading

import pytest

kazoo_client = pytest.importorskip("kazoo.client")
from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError  # noqa: E402
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
