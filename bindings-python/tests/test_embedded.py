"""corral.testing.EmbeddedServer: ephemeral and durable servers in this process."""

from __future__ import annotations

import socket
import time

import pytest

import corral
from corral.testing import EmbeddedServer
from helpers import Recorder, wait_until


def test_starts_fast_on_an_ephemeral_port():
    t0 = time.perf_counter()
    server = EmbeddedServer()
    elapsed = time.perf_counter() - t0
    try:
        assert server.running
        host, port = server.hosts.split(":")
        assert host == "127.0.0.1" and int(port) == server.port > 0
        assert elapsed < 2.0, f"start took {elapsed:.3f}s"
        with corral.Client(server.hosts) as zk:
            zk.create("/x", b"1")
            assert zk.get("/x")[0] == b"1"
            assert zk.server_version() >= (3, 9, 0)
    finally:
        server.close()
    assert not server.running


def test_context_manager_and_independent_servers():
    with EmbeddedServer() as a, EmbeddedServer() as b:
        assert a.port != b.port
        with corral.Client(a.hosts) as za, corral.Client(b.hosts) as zb:
            za.create("/only-a")
            assert zb.exists("/only-a") is None


def test_durable_node_keeps_data_and_sessions(tmp_path):
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir=data_dir, options={"tickTime": 200})
    port = server.port
    zk = corral.Client(server.hosts, timeout=5.0)
    zk.start()
    states = Recorder()
    zk.add_listener(states)
    try:
        zk.create("/durable", b"kept")
        zk.create("/eph", ephemeral=True)
        sid = zk.session_id
        server.restart()
        assert server.port == port
        wait_until(lambda: State_reconnected(states))
        assert zk.session_id == sid  # the session survived the restart
        assert zk.get("/durable")[0] == b"kept"
        assert zk.exists("/eph") is not None
        server.stop()
        # A fresh server object on the same directory sees the same data.
        again = EmbeddedServer(data_dir=data_dir, client_port=port)
        try:
            with corral.Client(again.hosts) as other:
                assert other.get("/durable")[0] == b"kept"
        finally:
            again.close()
    finally:
        zk.stop()
        server.close()
    assert (data_dir).exists()  # a directory given by the caller is never removed


def State_reconnected(states: Recorder) -> bool:
    return corral.State.RECONNECTED in states.calls


def test_from_zoo_cfg(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text(
        f"tickTime=500\ndataDir={tmp_path / 'd'}\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
        "4lw.commands.whitelist=*\nsomeUnknownKey=ignored\n"
    )
    with EmbeddedServer(config=cfg) as server:
        assert server.port == port
        with corral.Client(server.hosts) as zk:
            assert zk.command(b"ruok") == "imok"
            assert "tickTime=500" in zk.command(b"conf")
            # minSessionTimeout defaults to 2 x tickTime: a tiny request is raised to it.
        with corral.Client(server.hosts, timeout=0.1) as zk:
            assert zk.session_timeout == pytest.approx(1.0)


def test_bad_configuration_raises(tmp_path):
    with pytest.raises(corral.ConfigurationError) as e:
        EmbeddedServer(options={"tickTime": "soon"})
    assert "tickTime" in str(e.value)
    assert isinstance(e.value, corral.CorralError)
    bad = tmp_path / "zoo.cfg"
    bad.write_text("tickTime=-5\n")
    with pytest.raises(corral.ConfigurationError):
        EmbeddedServer(config=bad)
    with pytest.raises(corral.ConfigurationError):
        EmbeddedServer(config=tmp_path / "missing.cfg")


def test_port_in_use_raises_server_error():
    with EmbeddedServer() as first:
        with pytest.raises(corral.ServerError) as e:
            EmbeddedServer(client_port=first.port)
        assert str(first.port) in str(e.value)


def test_clients_see_the_server_stop():
    server = EmbeddedServer(options={"tickTime": 200})
    zk = corral.Client(server.hosts, timeout=2.0)
    zk.start()
    states = Recorder()
    zk.add_listener(states)
    try:
        server.stop()
        wait_until(lambda: corral.State.SUSPENDED in states.calls)
        with pytest.raises(corral.ConnectionLoss):
            zk.get("/")
    finally:
        zk.stop()
        server.close()


def test_embedded_and_client_share_one_runtime_across_many_servers():
    servers = [EmbeddedServer() for _ in range(5)]
    try:
        clients = [corral.Client(s.hosts) for s in servers]
        for c in clients:
            c.start()
        for i, c in enumerate(clients):
            c.create("/n", str(i).encode())
        assert [c.get("/n")[0] for c in clients] == [str(i).encode() for i in range(5)]
        for c in clients:
            c.stop()
    finally:
        for s in servers:
            s.close()
