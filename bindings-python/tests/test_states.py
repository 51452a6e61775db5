"""Connection states as listeners see them: disconnects, session expiry, stop."""

from __future__ import annotations

import threading

import corral
from corral import State
from helpers import Recorder, wait_until


def test_disconnect_suspends_then_reconnects_same_session(zk, drop_connections):
    zk.create("/eph", ephemeral=True)
    sid = zk.session_id
    states = Recorder()
    zk.add_listener(states)
    drop_connections()
    assert states.exactly(2) == [State.SUSPENDED, State.RECONNECTED]
    assert zk.session_id == sid and zk.connected
    assert zk.exists("/eph") is not None


def test_expiry_is_lost_then_a_new_session(zk, expire_session):
    zk.create("/eph", ephemeral=True)
    old = zk.session_id
    states = Recorder()
    zk.add_listener(states)
    expire_session(zk)
    wait_until(lambda: State.RECONNECTED in states.calls)
    assert State.LOST in states.calls
    assert states.calls.index(State.LOST) < states.calls.index(State.RECONNECTED)
    assert zk.session_id not in (0, old)
    assert zk.exists("/eph") is None
    zk.create("/eph2", ephemeral=True)
    assert zk.exists("/eph2").ephemeralOwner == zk.session_id


def test_blocked_server_fails_fast_with_connection_loss(zk, corral_proxy):
    states = Recorder()
    zk.add_listener(states)
    corral_proxy.block()
    try:
        wait_until(lambda: State.SUSPENDED in states.calls)
        try:
            zk.get("/")
        except corral.ConnectionLoss as e:
            assert e.code == -4
        else:
            raise AssertionError("expected ConnectionLoss while disconnected")
    finally:
        corral_proxy.unblock()
    wait_until(lambda: zk.connected, message="never reconnected")
    zk.get("/")


def test_stop_tells_listeners_closed(make_zk):
    c = make_zk()
    states = Recorder()
    c.add_listener(states)
    c.stop()
    assert states.exactly(1) == [State.CLOSED]


def test_listener_returning_true_is_removed_and_remove_listener(zk, drop_connections):
    once = []
    kept = Recorder()
    removed = Recorder()

    def one_shot(state):
        once.append(state)
        return True

    zk.add_listener(one_shot)
    zk.add_listener(kept)
    zk.add_listener(removed)
    zk.remove_listener(removed)
    drop_connections()
    wait_until(lambda: State.RECONNECTED in kept.calls)
    drop_connections()
    wait_until(lambda: kept.calls.count(State.RECONNECTED) == 2)
    assert once == [State.SUSPENDED]
    assert removed.quiet() == []


def test_listener_runs_on_dispatch_thread_and_may_call_client(zk, drop_connections):
    seen = []
    done = threading.Event()

    def listener(state):
        if state == State.RECONNECTED:
            seen.append((threading.current_thread().name, zk.exists("/") is not None))
            done.set()

    zk.add_listener(listener)
    drop_connections()
    assert done.wait(10)
    assert seen == [("corral-dispatch", True)]


def test_stop_from_a_callback(make_zk):
    c = make_zk()
    c.create("/s")
    done = threading.Event()

    def cb(event):
        c.stop()
        done.set()

    c.get("/s", watch=cb)
    c.set("/s", b"x")
    assert done.wait(10)
    wait_until(lambda: c.state == State.CLOSED)
