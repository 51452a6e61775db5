"""corral.testing's bad input, as core's kit reports it: each a clear exception."""

import pytest

import corral
from corral.testing import EmbeddedServer, FaultProxy, TestCluster, expire_session


def test_cluster_refuses_bad_sizes_indexes_and_use_after_close():
    with pytest.raises(ValueError, match="at least one voting member"):
        TestCluster(size=0, start=False)
    cluster = TestCluster(size=1)
    try:
        assert cluster.mode(0) == "leader"
        assert [m.running for m in cluster.members] == [True]
        with pytest.raises(IndexError, match="no member 1"):
            cluster.mode(1)
        with pytest.raises(IndexError):
            cluster.kill(-1)
        cluster.kill(0)
        assert cluster.mode(0) is None
        with pytest.raises(TimeoutError):
            cluster.leader(timeout=0.2)
    finally:
        cluster.close()
    with pytest.raises(RuntimeError, match="closed"):
        cluster.restart(0)
    with pytest.raises(RuntimeError, match="closed"):
        cluster.members[0].port


def test_server_options_are_checked_at_start():
    server = EmbeddedServer(options={"maxClientCnxns": -1}, start=False)
    with pytest.raises(RuntimeError):
        server.port  # never started: no port yet
    with pytest.raises(corral.ConfigurationError, match="maxClientCnxns"):
        server.start()
    assert not server.running
    with EmbeddedServer(options={"readonlymode.enabled": True}) as ok:
        assert ok.running and ok.data_dir is not None


def test_proxy_refuses_unknown_sessions_and_unstarted_clients():
    with EmbeddedServer() as server, FaultProxy(server.hosts) as proxy:
        assert proxy.upstream == ("127.0.0.1", server.port)
        with pytest.raises(KeyError):
            proxy.expire(0x1234)
        with pytest.raises(ValueError, match="no session"):
            expire_session(corral.Client(proxy.hosts), proxy)
    with pytest.raises(ValueError):
        FaultProxy("")
