"""Sessions (wire-protocol.md §3, §11): timeout negotiation, expiry of a vanished client,
resume by id and password, refusal of expired sessions and wrong passwords."""

import time

import pytest
from kazoo.protocol.states import EventType, KazooState

from zkharness import MAX_SESSION_TIMEOUT_MS, MIN_SESSION_TIMEOUT_MS, wait_until


@pytest.mark.parametrize(
    "requested_s, negotiated_ms",
    [(0.1, MIN_SESSION_TIMEOUT_MS), (3.0, 3000), (100.0, MAX_SESSION_TIMEOUT_MS)],
    ids=["below-min", "in-range", "above-max"],
)
def test_session_timeout_is_clamped(server, make_client, requested_s, negotiated_ms):
    client = make_client(server, timeout=requested_s)
    assert client.negotiated_timeout_ms == negotiated_ms


def test_session_ids_are_unique_and_passwords_16_bytes(server, make_client):
    ids = set()
    for _ in range(5):
        client = make_client(server)
        session_id, passwd = client.client_id
        assert session_id != 0
        assert len(passwd) == 16
        ids.add(session_id)
    assert len(ids) == 5


def test_vanished_client_expires_and_watchers_hear_it(server, make_client, hold_session, zk, ns, recorder):
    timeout_s = 2.0
    eph = f"{ns}/members/worker"
    held = hold_session(server, timeout_s, eph)
    assert zk.exists(eph).ephemeralOwner == held.session_id
    on_node, on_members = recorder(), recorder()
    zk.exists(eph, watch=on_node)
    zk.get_children(f"{ns}/members", watch=on_members)

    held.kill()
    killed_at = time.monotonic()
    # On purpose: a server that ended the session with its TCP connection would have
    # deleted the ephemeral within this time.
    time.sleep(0.3)
    assert zk.exists(eph) is not None, "a dropped TCP connection must not end the session"

    wait_until(lambda: zk.exists(eph) is None, timeout_s + 5, message="session never expired")
    elapsed = time.monotonic() - killed_at
    # The last ping was at most ~timeout/3 before the kill; expiry comes within a tick
    # after the timeout.
    assert elapsed >= timeout_s * 0.5, f"session expired after only {elapsed:.2f}s"
    on_node.wait(1)
    on_members.wait(1)
    on_node.quiet()  # time for a duplicate to arrive
    assert [(e.type, e.path) for e in on_node.items] == [(EventType.DELETED, eph)]
    assert [(e.type, e.path) for e in on_members.items] == [(EventType.CHILD, f"{ns}/members")]
    assert zk.unrouted_notifications == []

    # Resuming the expired session is refused (timeOut 0); kazoo then starts a new one.
    late = make_client(server, timeout=timeout_s, client_id=held.client_id)
    assert late.client_id[0] != held.session_id


def test_resume_session_by_id_and_password(server, make_client, hold_session, zk, ns):
    eph = f"{ns}/lease"
    held = hold_session(server, 6.0, eph)
    held.kill()

    # A wrong password is refused like an expired session ...
    wrong = make_client(server, timeout=6.0, client_id=(held.session_id, b"\x01" * 16))
    assert wrong.client_id[0] != held.session_id
    # ... and does not hurt the session.
    assert zk.exists(eph).ephemeralOwner == held.session_id

    resumed = make_client(server, timeout=6.0, client_id=held.client_id)
    assert resumed.client_id == held.client_id, "resume must keep the id and the password"
    assert resumed.exists(eph).ephemeralOwner == held.session_id
    resumed.create(f"{ns}/second", ephemeral=True)
    assert zk.exists(f"{ns}/second").ephemeralOwner == held.session_id

    resumed.stop()  # closeSession removes the ephemerals of both connections' lifetimes
    assert zk.exists(eph) is None
    assert zk.exists(f"{ns}/second") is None


def test_session_stays_alive_while_client_pings(server, make_client, zk, ns):
    client = make_client(server, timeout=1.0)  # idle; only pings keep it alive
    eph = client.create(f"{ns}/alive", ephemeral=True)
    time.sleep(3.0)  # on purpose: three session timeouts pass, and the session must not end
    assert client.state == KazooState.CONNECTED
    assert zk.exists(eph).ephemeralOwner == client.client_id[0]
