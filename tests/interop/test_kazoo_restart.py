"""Durability across server restarts on the same data directory and port: a graceful stop
(SIGTERM) and a crash (kill -9) keep every acknowledged write and every live session."""

import signal

from kazoo.protocol.states import KazooState

from zkharness import wait_until

# Small enough that snapshots are taken during the tests, so recovery = snapshot + log.
RESTART_CONFIG = {"snapCount": "50"}


def snapshot_tree(client, root):
    """{path: (data, version, cversion, ephemeralOwner)} for root and every descendant."""
    out = {}

    def walk(path):
        data, stat = client.get(path)
        out[path] = (data, stat.version, stat.cversion, stat.ephemeralOwner)
        for child in client.get_children(path):
            walk(f"{path}/{child}")

    walk(root)
    return out


def wait_reconnected(states, client, session):
    wait_until(lambda: client.state == KazooState.CONNECTED and KazooState.SUSPENDED in states.items,
               30, message="client did not reconnect after the restart")
    assert KazooState.LOST not in states.items, "the session must survive the restart"
    assert client.client_id == session


def write_workload(client, root, rounds):
    client.ensure_path(root)
    for i in range(rounds):
        p = client.create(f"{root}/item-", f"value-{i}".encode(), sequence=True)
        if i % 3 == 0:
            client.set(p, f"updated-{i}".encode())
        if i % 7 == 0:
            client.delete(p)
    t = client.transaction()
    t.create(f"{root}/txn-a", b"a")
    t.create(f"{root}/txn-b", b"b")
    t.commit()


def test_graceful_restart_keeps_sessions_ephemerals_and_data(fresh_server, make_client, recorder):
    srv = fresh_server(**RESTART_CONFIG)
    client = make_client(srv, timeout=8.0, host_repeats=4)
    session = client.client_id
    states = recorder()
    client.add_listener(states)

    write_workload(client, "/r", 120)
    eph = client.create("/r/eph", b"mine", ephemeral=True)
    seen = recorder()
    client.DataWatch("/r/watched")(lambda data, stat: seen(data))
    client.create("/r/watched", b"before")
    wait_until(lambda: seen.items and seen.items[-1] == b"before", 10)
    before = snapshot_tree(client, "/r")
    last_zxid = client.exists("/r/txn-b").czxid

    status = srv.stop(signal.SIGTERM)
    assert status is not None
    srv.start()

    wait_reconnected(states, client, session)
    assert client.exists(eph).ephemeralOwner == session[0]
    assert snapshot_tree(client, "/r") == before

    fresh = make_client(srv)
    assert snapshot_tree(fresh, "/r") == before
    fresh.set("/r/watched", b"after")
    wait_until(lambda: seen.items[-1] == b"after", 10, message="DataWatch not re-armed after restart")
    assert client.create("/r/new", include_data=True)[1].czxid > last_zxid

    client.stop()
    assert fresh.exists(eph) is None


def test_kill9_keeps_every_acknowledged_write(fresh_server, make_client, recorder):
    srv = fresh_server(**RESTART_CONFIG)
    client = make_client(srv, timeout=8.0, host_repeats=4)
    session = client.client_id
    states = recorder()
    client.add_listener(states)
    eph = client.create("/k-eph", ephemeral=True)

    expected = {}
    for cycle in range(3):
        write_workload(client, f"/k/{cycle}", 80)
        expected = snapshot_tree(client, "/k")
        high = max(client.exists(p).mzxid for p in expected)

        srv.kill()
        srv.start()

        checker = make_client(srv)
        assert snapshot_tree(checker, "/k") == expected, f"data lost in kill -9 cycle {cycle}"
        assert checker.create(f"/k/after-{cycle}", include_data=True)[1].czxid > high
        expected = snapshot_tree(checker, "/k")
        checker.stop()

    wait_reconnected(states, client, session)
    assert client.exists(eph).ephemeralOwner == session[0]


def test_session_of_vanished_client_expires_after_restart(fresh_server, make_client, hold_session):
    srv = fresh_server()
    held = hold_session(srv, 2.0, "/held/eph")
    held.kill()
    srv.restart(signal.SIGTERM)
    client = make_client(srv)
    # Restored from disk, the session gets a fresh timeout, then expires.
    assert client.exists("/held/eph").ephemeralOwner == held.session_id
    wait_until(lambda: client.exists("/held/eph") is None, 10, message="restored session never expired")
