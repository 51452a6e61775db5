"""Every operation of the blocking client, and how failures map to exceptions.

Runs against corral's EmbeddedServer and Apache ZooKeeper 3.8 (conftest.py).
"""

from __future__ import annotations

import threading
import time

import pytest

import corral
from corral import _corral
from helpers import wait_until


def test_create_get_set_delete(zk):
    assert zk.create("/a", b"hello") == "/a"
    data, stat = zk.get("/a")
    assert data == b"hello"
    assert isinstance(stat, corral.ZnodeStat)
    assert stat.version == 0 and stat.dataLength == 5 and stat.data_length == 5
    assert stat.ephemeralOwner == 0 and stat.owner_session_id is None
    assert stat.created == stat.ctime / 1000.0
    stat2 = zk.set("/a", b"bye")
    assert stat2.version == 1 and stat2.mzxid > stat.mzxid
    assert zk.get("/a")[0] == b"bye"
    assert zk.delete("/a") is True
    assert zk.exists("/a") is None


def test_null_data_is_none_not_empty(zk):
    # ZooKeeper keeps null data apart from empty data; kazoo reads it as None.
    zk.create("/null", None)
    assert zk.get("/null")[0] is None
    assert zk.exists("/null").data_length == 0
    zk.create("/empty")
    assert zk.get("/empty")[0] == b""
    zk.set("/empty", None)
    assert zk.get("/empty")[0] is None
    zk.set("/empty", b"x")
    assert zk.get("/empty")[0] == b"x"
    with pytest.raises(TypeError):
        zk.set("/empty", "text")


def test_create_options(zk):
    path, stat = zk.create("/d", b"xy", include_data=True)
    assert path == "/d" and stat.dataLength == 2 and stat.czxid == stat.mzxid
    assert zk.create("/deep/er/node", b"v", makepath=True) == "/deep/er/node"
    assert zk.get_children("/deep") == ["er"]
    with pytest.raises(corral.NoNodeError) as e:
        zk.create("/missing/child")
    assert e.value.path == "/missing/child"
    seq1 = zk.create("/d/s-", sequence=True)
    seq2 = zk.create("/d/s-", sequence=True)
    assert seq1.startswith("/d/s-") and len(seq1) == len("/d/s-") + 10
    assert int(seq2[-10:]) == int(seq1[-10:]) + 1
    eph = zk.create("/d/e", ephemeral=True)
    assert zk.exists(eph).ephemeralOwner == zk.session_id
    eseq = zk.create("/d/es-", ephemeral=True, sequence=True)
    assert zk.exists(eseq).owner_session_id == zk.session_id
    assert zk.create("/c", container=True) == "/c"
    ttl_path = zk.create("/t", b"", ttl=60.0)
    assert zk.exists(ttl_path) is not None
    assert zk.create("/t-", ttl=60.0, sequence=True).startswith("/t-")
    assert zk.create("/bytes", bytearray(b"ba")) == "/bytes"
    with pytest.raises(ValueError):
        zk.create("/bad", container=True, ephemeral=True)
    with pytest.raises(ValueError):
        zk.create("/bad", ttl=5.0, ephemeral=True)
    with pytest.raises(TypeError):
        zk.create("/bad", "text")  # type: ignore[arg-type]


def test_exists_and_children(zk):
    assert zk.exists("/p") is None
    zk.create("/p")
    for name in ("x", "y", "z"):
        zk.create(f"/p/{name}", name.encode())
    assert sorted(zk.get_children("/p")) == ["x", "y", "z"]
    names, stat = zk.get_children("/p", include_data=True)
    assert sorted(names) == ["x", "y", "z"] and stat.numChildren == 3 and stat.children_count == 3
    assert zk.exists("/p").numChildren == 3
    assert zk.get_all_children_number("/p") == 3
    with pytest.raises(corral.NoNodeError):
        zk.get_children("/nope")


def test_versions_and_errors(zk):
    zk.create("/v", b"0")
    with pytest.raises(corral.BadVersionError) as e:
        zk.set("/v", b"1", version=5)
    assert e.value.code == -103 and e.value.path == "/v"
    zk.set("/v", b"1", version=0)
    with pytest.raises(corral.BadVersionError):
        zk.delete("/v", version=0)
    zk.delete("/v", version=1)
    zk.create("/n")
    zk.create("/n/child")
    with pytest.raises(corral.NotEmptyError) as e2:
        zk.delete("/n")
    assert e2.value.code == -111
    with pytest.raises(corral.NodeExistsError) as e3:
        zk.create("/n")
    assert e3.value.code == -110 and isinstance(e3.value, corral.ZookeeperError)
    eph = zk.create("/eph", ephemeral=True)
    with pytest.raises(corral.NoChildrenForEphemeralsError):
        zk.create(eph + "/kid")
    with pytest.raises(corral.BadArgumentsError):
        zk.create("/n/")
    with pytest.raises(corral.NoNodeError) as e4:
        zk.get("/nope")
    assert str(e4.value) == "NoNode (-101) on /nope"


def test_delete_recursive_and_ensure_path(zk):
    assert zk.ensure_path("/r/a/b") is True
    zk.ensure_path("/r/a/b")
    zk.create("/r/a/c", b"")
    zk.create("/r/x", b"")
    assert zk.delete("/r", recursive=True) is True
    assert zk.exists("/r") is None
    zk.delete("/r", recursive=True)  # nothing there: fine


def test_acls_and_auth(zk, make_zk):
    acls, stat = zk.get_acls("/")
    assert acls == corral.OPEN_ACL_UNSAFE
    acl = corral.make_digest_acl("alice", "secret", all=True)
    assert acl.id.scheme == "digest" and acl.id.id.startswith("alice:")
    assert acl.acl_list == ["ALL"]
    zk.create("/secret", b"s", acl=[acl])
    with pytest.raises(corral.NoAuthError):
        zk.get_acls("/secret")
    zk.add_auth("digest", "alice:secret")
    assert zk.get_acls("/secret")[0] == [acl]
    other = make_zk()
    with pytest.raises(corral.NoAuthError) as e:
        other.get("/secret")
    assert e.value.code == -102
    assert other.add_auth("digest", "alice:secret") is True
    assert other.get("/secret")[0] == b"s"
    assert ("digest", "alice") in other.who_am_i()
    read_admin = [corral.make_acl("world", "anyone", read=True, admin=True)]
    stat = zk.set_acls("/secret", read_admin, version=0)
    assert stat.aversion == 1 and stat.acl_version == 1
    assert zk.get_acls("/secret")[0] == read_admin
    with pytest.raises(corral.BadVersionError):
        zk.set_acls("/secret", corral.OPEN_ACL_UNSAFE, version=0)
    zk.set_acls("/secret", corral.READ_ACL_UNSAFE, version=1)
    with pytest.raises(corral.NoAuthError):
        zk.set("/secret", b"x")
    with pytest.raises(corral.InvalidACLError):
        zk.create("/bad-acl", acl=[])
    authed = make_zk(auth_data=[("digest", "bob:pw")])
    authed.create("/bobs", b"", acl=corral.CREATOR_ALL_ACL)
    assert authed.get_acls("/bobs")[0][0].id == corral.Id("digest", corral.make_digest_acl_credential("bob", "pw"))
    with pytest.raises(corral.NoAuthError):
        zk.get("/bobs")
    authed.delete("/bobs")


def test_default_acl(make_zk):
    read_only = [corral.make_acl("world", "anyone", read=True, admin=True)]
    c = make_zk(default_acl=read_only)
    c.create("/ro", b"")
    assert c.get_acls("/ro")[0] == read_only
    assert sorted(read_only[0].acl_list) == ["ADMIN", "READ"]


def test_sync_ephemerals_who_am_i(zk, server_kind):
    assert zk.sync("/") == "/"
    zk.create("/e1", ephemeral=True)
    zk.create("/e2", ephemeral=True)
    zk.create("/p1")
    eph = zk.get_ephemerals("/")
    assert len([p for p in eph if p.endswith(("/e1", "/e2"))]) == 2
    assert zk.who_am_i() and all(len(i) == 2 for i in zk.who_am_i())


def test_transactions(zk):
    zk.create("/t", b"0")
    with zk.transaction() as t:
        t.create("/t/a", b"a")
        t.set_data("/t", b"1", version=0)
        t.check("/t", 1)
    assert zk.get("/t")[0] == b"1" and zk.exists("/t/a")
    t = zk.transaction()
    t.create("/t/b", b"b", ephemeral=True)
    t.create("/t/s-", sequence=True)
    t.delete("/t/a")
    t.set_data("/t", b"2")
    t.check("/t", -1)
    results = t.commit()
    assert results[0] == "/t/b"
    assert results[1].startswith("/t/s-")
    assert results[2] is True
    assert isinstance(results[3], corral.ZnodeStat) and results[3].version == 2
    assert results[4] is True
    with pytest.raises(ValueError):
        t.commit()
    # A failing transaction applies nothing and raises the failing sub-op's error.
    t = zk.transaction()
    t.create("/t/c")
    t.delete("/t/missing")
    t.create("/t/d")
    with pytest.raises(corral.NoNodeError) as e:
        t.commit()
    assert e.value.path == "/t/missing"
    assert zk.exists("/t/c") is None
    # commit_results: kazoo's commit, failures in the list.
    t = zk.transaction()
    t.create("/t/c")
    t.check("/t", 99)
    t.create("/t/d")
    r = t.commit_results()
    assert isinstance(r[0], corral.RolledBackError) and r[0].code == 0
    assert isinstance(r[1], corral.BadVersionError) and r[1].path == "/t"
    assert isinstance(r[2], corral.RuntimeInconsistency)
    # With an exception inside the block nothing is committed.
    with pytest.raises(RuntimeError):
        with zk.transaction() as t:
            t.create("/t/never")
            raise RuntimeError("boom")
    assert zk.exists("/t/never") is None


def test_multi_read(zk):
    zk.create("/m", b"m")
    zk.create("/m/k", b"k")
    res = zk.multi_read(get_data=["/m", "/nope"], get_children=["/m"])
    assert res[0][0] == b"m" and isinstance(res[0][1], corral.ZnodeStat)
    assert isinstance(res[1], corral.NoNodeError) and res[1].path == "/nope"
    assert res[2] == ["k"]


def test_server_version_and_command(zk, server_kind):
    v = zk.server_version()
    assert len(v) == 3 and v >= (3, 8, 0)
    assert "Mode: standalone" in zk.command(b"srvr")


def test_chroot_paths(corral_server, zk_chroot, make_zk):
    zk = make_zk()
    zk.create("/inside", b"1")
    root = corral.Client(corral_server.hosts)
    root.start()
    try:
        assert root.get(zk_chroot + "/inside")[0] == b"1"
    finally:
        root.stop()
    assert zk.get_children("/") == ["inside"]


def test_properties_and_lifecycle(corral_server):
    c = corral.Client(corral_server.hosts, timeout=6.0)
    assert c.state == corral.State.CLOSED and not c.connected and c.session_id == 0
    with pytest.raises(corral.ZookeeperStoppedError):
        c.get("/")
    c.start()
    c.start()  # idempotent
    assert c.connected and c.state == corral.State.CONNECTED
    assert c.session_id != 0 and 0 < c.session_timeout <= 6.0
    assert c.last_zxid >= 0
    assert "CONNECTED" in repr(c)
    c.stop()
    c.stop()
    assert c.state == corral.State.CLOSED
    with pytest.raises(corral.ZookeeperStoppedError):
        c.exists("/")
    with corral.Client(corral_server.hosts) as c2:
        assert c2.exists("/") is not None
    assert not c2.connected


def test_restart_gets_new_session(make_zk):
    c = make_zk()
    c.create("/eph", ephemeral=True)
    old = c.session_id
    c.restart()
    assert c.session_id not in (0, old)
    assert c.exists("/eph") is None


def test_start_times_out_without_server():
    with socket_closed_port() as port:
        c = corral.Client(f"127.0.0.1:{port}", timeout=2.0)
        t0 = time.monotonic()
        with pytest.raises(corral.ConnectionLoss):
            c.start(timeout=0.5)
        assert time.monotonic() - t0 < 5


class socket_closed_port:
    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *a: object) -> None:
        pass


def test_every_core_code_has_its_exception():
    classes = {getattr(corral, n).code: getattr(corral, n) for n in corral.exceptions.__all__ if hasattr(getattr(corral, n), "code")}
    for number, name in _corral.CODES:
        cls = classes.get(number)
        assert cls is not None, f"no exception class for core code {name} ({number})"
        assert cls.code == number
        assert issubclass(cls, corral.ZookeeperError) and issubclass(cls, corral.CorralError)
        assert cls.__module__ == "corral.exceptions"
        assert cls.__doc__
    assert corral.NoNodeError.code == -101 and corral.ConnectionLoss.code == -4
    assert corral.SessionExpiredError.code == -112 and corral.NoWatcherError.code == -121
    assert corral.ZookeeperError.code is None
    e = corral.NoNodeError("made by hand")
    assert e.code == -101 and e.path is None


def test_calls_release_the_gil(zk):
    zk.create("/g", b"x" * 100)
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=spin)
    t.start()
    try:
        for _ in range(300):
            zk.get("/g")
    finally:
        stop.set()
        t.join()
    assert ticks > 100


def test_many_threads_share_one_client(zk):
    zk.create("/mt")
    errors = []

    def work(i: int) -> None:
        try:
            for j in range(50):
                zk.create(f"/mt/n-{i}-{j}", b"")
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(zk.get_children("/mt")) == 400
    wait_until(lambda: zk.exists("/mt").numChildren == 400)
