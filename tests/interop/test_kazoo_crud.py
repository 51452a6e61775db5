"""kazoo CRUD: data, Stat fields, versions and error codes (wire-protocol.md §5, §7.4, §9)."""

import time

import pytest
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
)


def now_ms() -> int:
    return int(time.time() * 1000)


def test_create_and_get_fill_every_stat_field(zk, ns):
    before = now_ms()
    path = zk.create(f"{ns}/node", b"hello")
    after = now_ms()
    assert path == f"{ns}/node"

    data, stat = zk.get(path)
    assert data == b"hello"
    assert stat.czxid > 0
    assert stat.mzxid == stat.czxid
    assert stat.pzxid == stat.czxid
    assert stat.ctime == stat.mtime
    # Same machine, same clock: the server stamps the txn between our send and reply.
    assert before - 1000 <= stat.ctime <= after + 1000
    assert (stat.version, stat.cversion, stat.aversion) == (0, 0, 0)
    assert stat.ephemeralOwner == 0
    assert stat.dataLength == 5
    assert stat.numChildren == 0


def test_create_include_data_returns_same_stat_as_get(zk, ns):
    path, stat = zk.create(f"{ns}/c2", b"xyz", include_data=True)
    assert path == f"{ns}/c2"
    assert stat == zk.get(path)[1]
    assert stat.dataLength == 3


def test_exists_returns_stat_or_none(zk, ns):
    assert zk.exists(f"{ns}/missing") is None
    zk.create(f"{ns}/here", b"12")
    stat = zk.exists(f"{ns}/here")
    assert stat is not None and stat.dataLength == 2
    assert stat == zk.get(f"{ns}/here")[1]


def test_set_bumps_version_and_mzxid_only(zk, ns):
    path = zk.create(f"{ns}/n", b"v0")
    _, s0 = zk.get(path)
    time.sleep(0.01)  # so that the clock may advance between the two writes
    s1 = zk.set(path, b"version-one")
    assert s1.version == 1
    assert s1.mzxid > s0.mzxid
    assert s1.czxid == s0.czxid
    assert s1.pzxid == s0.pzxid
    assert s1.ctime == s0.ctime
    assert s1.mtime >= s0.mtime
    assert s1.dataLength == len(b"version-one")
    assert (s1.cversion, s1.aversion) == (0, 0)
    data, s_get = zk.get(path)
    assert data == b"version-one"
    assert s_get == s1


def test_conditional_set_and_bad_version(zk, ns):
    path = zk.create(f"{ns}/n", b"a")
    with pytest.raises(BadVersionError):
        zk.set(path, b"b", version=5)
    assert zk.get(path)[0] == b"a"
    assert zk.set(path, b"b", version=0).version == 1
    with pytest.raises(BadVersionError):
        zk.set(path, b"c", version=0)
    assert zk.set(path, b"c", version=1).version == 2
    assert zk.set(path, b"d", version=-1).version == 3
    assert zk.get(path)[0] == b"d"


def test_create_errors(zk, ns):
    zk.create(f"{ns}/dup")
    with pytest.raises(NodeExistsError):
        zk.create(f"{ns}/dup", b"again")
    with pytest.raises(NoNodeError):
        zk.create(f"{ns}/no/parent")
    eph = zk.create(f"{ns}/eph", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(f"{eph}/child")


def test_makepath_creates_parents(zk, ns):
    path = zk.create(f"{ns}/a/b/c", b"deep", makepath=True)
    assert path == f"{ns}/a/b/c"
    assert zk.get(path)[0] == b"deep"
    assert zk.get_children(f"{ns}/a") == ["b"]


def test_delete_errors_and_success(zk, ns):
    path = zk.create(f"{ns}/d", b"")
    zk.create(f"{path}/kid")
    with pytest.raises(NotEmptyError):
        zk.delete(path)
    with pytest.raises(NoNodeError):
        zk.delete(f"{ns}/missing")
    with pytest.raises(BadVersionError):
        zk.delete(f"{path}/kid", version=3)
    zk.delete(f"{path}/kid", version=0)
    assert zk.exists(f"{path}/kid") is None
    zk.delete(path)
    assert zk.exists(path) is None
    with pytest.raises(NoNodeError):
        zk.get(path)


def test_recursive_delete(zk, ns):
    for p in ("t/a/x", "t/a/y", "t/b"):
        zk.create(f"{ns}/{p}", makepath=True)
    zk.delete(f"{ns}/t", recursive=True)
    assert zk.exists(f"{ns}/t") is None
    assert zk.get_children(ns) == []


def test_parent_stat_counts_child_creates_and_deletes(zk, ns):
    parent = zk.create(f"{ns}/p", b"pdata")
    _, p0 = zk.get(parent)
    _, a_stat = zk.create(f"{parent}/a", include_data=True)
    _, b_stat = zk.create(f"{parent}/b", include_data=True)
    _, p2 = zk.get(parent)
    assert p2.numChildren == 2
    assert p2.cversion == 2
    assert p2.pzxid == b_stat.czxid
    assert p2.pzxid > a_stat.czxid
    # Child changes do not touch the parent's data version.
    assert (p2.version, p2.mzxid, p2.mtime) == (p0.version, p0.mzxid, p0.mtime)

    zk.set(f"{parent}/a", b"changed")
    assert zk.get(parent)[1].pzxid == p2.pzxid  # setData on a child is not a child change

    zk.delete(f"{parent}/a")
    _, p3 = zk.get(parent)
    assert p3.numChildren == 1
    assert p3.cversion == 3  # creates + deletes
    assert p3.pzxid > p2.pzxid


def test_get_children_plain_and_with_stat(zk, ns):
    names = {"zeta", "alpha", "m-1", "é-unicode"}
    for n in names:
        zk.create(f"{ns}/{n}")
    assert set(zk.get_children(ns)) == names
    children, stat = zk.get_children(ns, include_data=True)
    assert set(children) == names
    assert stat.numChildren == len(names)
    assert stat == zk.exists(ns)
    with pytest.raises(NoNodeError):
        zk.get_children(f"{ns}/missing")


@pytest.mark.parametrize(
    "payload",
    [b"", bytes(range(256)), b"\x00" * 10, "ünïcødé ✓".encode(), b"x" * (512 * 1024)],
    ids=["empty", "all-bytes", "nuls", "utf8", "512KiB"],
)
def test_data_roundtrip(zk, ns, payload):
    path = zk.create(f"{ns}/data", payload)
    data, stat = zk.get(path)
    assert data == payload
    assert stat.dataLength == len(payload)
    zk.set(path, payload[::-1])
    assert zk.get(path)[0] == payload[::-1]


def test_zxids_increase_with_every_write(zk, ns):
    path = zk.create(f"{ns}/z", b"0")
    last = zk.get(path)[1].mzxid
    for i in range(1, 20):
        stat = zk.set(path, str(i).encode())
        assert stat.mzxid > last
        last = stat.mzxid
    other = zk.create(f"{ns}/later", include_data=True)[1]
    assert other.czxid > last


def test_sync_then_read_sees_other_clients_write(zk, ns, server, make_client):
    other = make_client(server)
    other.create(f"{ns}/from-other", b"w")
    zk.sync(ns)
    assert zk.get(f"{ns}/from-other")[0] == b"w"


def test_system_nodes_exist_and_are_protected(zk):
    assert zk.exists("/zookeeper") is not None
    assert zk.exists("/zookeeper/quota") is not None
    assert zk.exists("/zookeeper/config") is not None
    assert "zookeeper" in zk.get_children("/")
    for path in ("/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        with pytest.raises(BadArgumentsError):
            zk.delete(path)


def test_two_clients_see_the_same_tree(zk, ns, server, make_client):
    other = make_client(server)
    zk.create(f"{ns}/shared", b"one")
    assert other.get(f"{ns}/shared")[0] == b"one"
    other.set(f"{ns}/shared", b"two")
    data, stat = zk.get(f"{ns}/shared")
    assert (data, stat.version) == (b"two", 1)


def test_null_and_empty_data_stay_distinct(zk, ns):
    # §5.3: a null buffer (length -1) is stored as null and read back as null.
    zk.create(f"{ns}/null", None)
    zk.create(f"{ns}/empty", b"")
    null_data, null_stat = zk.get(f"{ns}/null")
    empty_data, empty_stat = zk.get(f"{ns}/empty")
    assert (null_data, null_stat.dataLength) == (None, 0)
    assert (empty_data, empty_stat.dataLength) == (b"", 0)
    zk.set(f"{ns}/empty", None)
    assert zk.get(f"{ns}/empty")[0] is None
