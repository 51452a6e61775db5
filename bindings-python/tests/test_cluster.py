"""TestCluster: a real replicated ensemble inside the test process, and the
``corral_cluster`` fixture of the pytest plugin."""

import time

import pytest
from kazoo.client import KazooClient

import corral
from corral.testing import EmbeddedServer, TestCluster


def test_cluster_elects_a_leader_and_replicates(corral_cluster):
    leader = corral_cluster.leader()
    modes = sorted(corral_cluster.mode(i) for i in range(3))
    assert modes == ["follower", "follower", "leader"]
    # One client per member: a write through any of them is seen by all.
    clients = [corral.Client(f"127.0.0.1:{m.port}") for m in corral_cluster.members]
    for zk in clients:
        zk.start()
    clients[(leader + 1) % 3].create("/via-follower", b"f")
    for zk in clients:
        zk.sync("/via-follower")
        assert zk.get("/via-follower")[0] == b"f"
    for zk in clients:
        zk.stop()
        zk.close()


def test_killing_the_leader_keeps_data_and_session(corral_cluster):
    zk = corral.Client(corral_cluster.hosts, timeout=5.0)
    zk.start()
    zk.create("/before", b"1")
    zk.create("/eph", b"", ephemeral=True)
    session = zk.session_id
    old = corral_cluster.leader()
    corral_cluster.kill(old)
    new = corral_cluster.leader()
    assert new != old
    deadline = time.monotonic() + 20
    while True:
        try:
            zk.create("/after", b"2")
            break
        except (corral.ConnectionLoss, corral.OperationTimeoutError):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert zk.session_id == session
    assert zk.get("/before")[0] == b"1"
    assert zk.exists("/eph") is not None
    # The old leader comes back and catches up.
    corral_cluster.restart(old)
    direct = corral.Client(f"127.0.0.1:{corral_cluster.members[old].port}")
    direct.start()
    direct.sync("/after")
    assert direct.get("/after")[0] == b"2"
    for c in (zk, direct):
        c.stop()
        c.close()


def test_observer_member_and_kazoo_against_the_cluster():
    with TestCluster(size=3, observers=1) as cluster:
        assert cluster.mode(3) == "observer"
        kz = KazooClient(hosts=f"127.0.0.1:{cluster.members[3].port}")
        kz.start(timeout=15)
        kz.create("/from-kazoo", b"k")
        zk = corral.Client(cluster.hosts)
        zk.start()
        zk.sync("/from-kazoo")
        assert zk.get("/from-kazoo")[0] == b"k"
        kz.stop()
        kz.close()
        zk.stop()
        zk.close()


def test_embedded_member_options_are_checked(tmp_path):
    peers = {1: "127.0.0.1:2888:3888", 2: "127.0.0.1:2889:3889"}
    bad_id = EmbeddedServer(data_dir=tmp_path, server_id=9, peers=peers, start=False)
    with pytest.raises(corral.ServerError, match="no server.N line"):
        bad_id.start()
    bad_peer = EmbeddedServer(data_dir=tmp_path, server_id=1, peers={1: "127.0.0.1:notaport:1", 2: "h:1:2"}, start=False)
    with pytest.raises(corral.ConfigurationError, match="server.1"):
        bad_peer.start()
