"""Watches of every kind, kazoo's DataWatch/ChildrenWatch, and the dispatch thread."""

from __future__ import annotations

import threading

import pytest

import corral
from corral import EventType, KeeperState, WatchedEvent
from helpers import Recorder, wait_until


def test_get_watch_fires_once_on_change(zk):
    zk.create("/w", b"1")
    rec = Recorder()
    zk.get("/w", watch=rec)
    zk.set("/w", b"2")
    (ev,) = rec.wait(1)
    assert isinstance(ev, WatchedEvent)
    assert ev.type == EventType.CHANGED and ev.state == KeeperState.CONNECTED and ev.path == "/w"
    zk.set("/w", b"3")
    zk.sync("/")
    zk.exists("/w")
    assert len(rec.quiet()) == 1  # one-shot


def test_get_watch_fires_on_delete(zk):
    zk.create("/w")
    rec = Recorder()
    zk.get("/w", watch=rec)
    zk.delete("/w")
    assert [e.type for e in rec.exactly(1)] == [EventType.DELETED]


def test_exists_watch_creation_and_deletion(zk):
    rec = Recorder()
    assert zk.exists("/e", watch=rec) is None
    zk.create("/e")
    assert rec.exactly(1) == [WatchedEvent(EventType.CREATED, KeeperState.CONNECTED, "/e", rec.calls[0].zxid)]
    rec2 = Recorder()
    zk.exists("/e", watch=rec2)
    zk.delete("/e")
    assert [e.type for e in rec2.exactly(1)] == [EventType.DELETED]


def test_children_watch(zk):
    zk.create("/c")
    rec = Recorder()
    assert zk.get_children("/c", watch=rec) == []
    zk.create("/c/k")
    (ev,) = rec.exactly(1)
    assert ev.type == EventType.CHILD and ev.path == "/c"
    rec2 = Recorder()
    zk.get_children("/c", watch=rec2)
    zk.delete("/c/k")
    assert [e.type for e in rec2.exactly(1)] == [EventType.CHILD]


def test_event_zxid(zk, server_kind):
    zk.create("/z")
    rec = Recorder()
    zk.get("/z", watch=rec)
    stat = zk.set("/z", b"x")
    (ev,) = rec.exactly(1)
    if server_kind == "corral":
        assert ev.zxid == stat.mzxid
    else:
        assert ev.zxid in (-1, stat.mzxid)  # 3.8 sends -1


def test_persistent_watch(zk, server_kind):
    zk.create("/p")
    rec = Recorder()
    zk.add_watch("/p", rec)
    zk.set("/p", b"1")
    zk.set("/p", b"2")
    zk.create("/p/kid")
    zk.set("/p/kid", b"not seen: not recursive")
    zk.delete("/p/kid")
    evs = rec.exactly(4)
    assert [e.type for e in evs] == [EventType.CHANGED, EventType.CHANGED, EventType.CHILD, EventType.CHILD]
    # ZooKeeper 3.8 knows only the CHILDREN, DATA and ANY watcher types (3.9 added the others).
    kind = corral.WatcherType.PERSISTENT if server_kind == "corral" else corral.WatcherType.ANY
    zk.remove_watches("/p", kind)
    zk.set("/p", b"3")
    zk.sync("/")
    zk.exists("/p")
    assert [e.type for e in rec.exactly(5)] == [e.type for e in evs] + [EventType.PERSISTENT_WATCH_REMOVED]
    with pytest.raises(corral.NoWatcherError) as e:
        zk.remove_watches("/p", kind)
    assert e.value.code == -121


def test_persistent_recursive_watch(zk):
    zk.create("/r")
    rec = Recorder()
    zk.add_watch("/r", rec, recursive=True)
    zk.create("/r/a")
    zk.create("/r/a/b", b"")
    zk.set("/r/a/b", b"x")
    zk.delete("/r/a/b")
    evs = rec.exactly(4)
    assert [(e.type, e.path) for e in evs] == [
        (EventType.CREATED, "/r/a"),
        (EventType.CREATED, "/r/a/b"),
        (EventType.CHANGED, "/r/a/b"),
        (EventType.DELETED, "/r/a/b"),
    ]
    zk.remove_watches("/r", corral.WatcherType.ANY)


def test_remove_one_shot_watches(zk):
    zk.create("/x")
    rec = Recorder()
    zk.get("/x", watch=rec)
    zk.get_children("/x", watch=rec)
    zk.remove_watches("/x", corral.WatcherType.DATA)
    zk.remove_watches("/x", "children")
    zk.set("/x", b"1")
    zk.create("/x/k")
    zk.sync("/")
    zk.exists("/x")
    # A removed watch ends with its removal event (as the Java client reports it), never a node event.
    assert sorted(e.type.value for e in rec.exactly(2)) == ["CHILD_WATCH_REMOVED", "DATA_WATCH_REMOVED"]
    with pytest.raises(corral.NoWatcherError):
        zk.remove_watches("/x", corral.WatcherType.ANY)


def test_callbacks_run_in_order_on_one_dispatch_thread(zk):
    zk.create("/o")
    rec = Recorder()
    names = []
    zk.add_watch("/o", lambda e: (rec(e), names.append(threading.current_thread().name)))
    for i in range(50):
        zk.set("/o", str(i).encode())
    evs = rec.exactly(50)
    zxids = [e.zxid for e in evs]
    assert zxids == sorted(zxids)
    assert len(set(rec.threads)) == 1 and rec.threads[0] != threading.get_ident()
    assert set(names) == {"corral-dispatch"}
    # One-shot watches and listeners share that thread.
    one = Recorder()
    zk.get("/o", watch=one)
    zk.set("/o", b"last")
    one.wait(1)
    assert one.threads[0] == rec.threads[0]


def test_callback_may_call_the_client(zk):
    zk.create("/cb", b"v0")
    seen = []
    done = threading.Event()

    def on_change(event):
        data, stat = zk.get(event.path)  # a blocking call from the dispatch thread
        seen.append(data)
        zk.create("/cb-ack", data)
        done.set()

    zk.get("/cb", watch=on_change)
    zk.set("/cb", b"v1")
    assert done.wait(10)
    assert seen == [b"v1"]
    assert zk.get("/cb-ack")[0] == b"v1"


def test_a_raising_callback_does_not_stop_dispatch(zk, caplog):
    zk.create("/boom")
    rec = Recorder()

    def bad(event):
        raise RuntimeError("callback failure")

    zk.get("/boom", watch=bad)
    zk.exists("/boom", watch=rec)
    zk.set("/boom", b"1")
    rec.wait(1)


def test_data_watch(zk):
    calls = []

    @zk.DataWatch("/dw")
    def watcher(data, stat):
        calls.append((data, stat.version if stat else None))

    assert calls == [(None, None)]
    zk.create("/dw", b"a")
    wait_until(lambda: calls[-1] == (b"a", 0))
    zk.set("/dw", b"b")
    wait_until(lambda: calls[-1] == (b"b", 1))
    zk.delete("/dw")
    wait_until(lambda: calls[-1] == (None, None))
    zk.create("/dw", b"c")
    wait_until(lambda: calls[-1] == (b"c", 0))


def test_data_watch_with_event_and_stop(zk):
    zk.create("/dws", b"0")
    calls = Recorder()

    def watcher(data, stat, event):
        calls((data, event.type if event else None))
        if data == b"2":
            return False

    corral.DataWatch(zk, "/dws", watcher)
    assert calls.calls == [(b"0", None)]
    zk.set("/dws", b"1")
    assert calls.wait(2)[1] == (b"1", EventType.CHANGED)
    zk.set("/dws", b"2")
    calls.wait(3)
    zk.set("/dws", b"3")
    zk.sync("/")
    zk.exists("/dws")
    assert len(calls.quiet()) == 3, "the watch stopped when the function returned False"


def test_children_watch_recipe(zk):
    zk.create("/cw")
    calls = []

    @zk.ChildrenWatch("/cw")
    def watcher(children):
        calls.append(sorted(children))

    assert calls == [[]]
    zk.create("/cw/a")
    wait_until(lambda: calls[-1] == ["a"])
    zk.create("/cw/b")
    wait_until(lambda: calls[-1] == ["a", "b"])
    zk.delete("/cw/a")
    wait_until(lambda: calls[-1] == ["b"])
    events = []
    zk.ChildrenWatch("/cw", lambda children, event: events.append(event), send_event=True)
    zk.create("/cw/c")
    wait_until(lambda: len(events) == 2 and events[1] is not None)
    assert events[0] is None and events[1].type == EventType.CHILD


def test_children_watch_stops_when_node_goes(zk):
    zk.create("/gone")
    calls = Recorder()
    watch = zk.ChildrenWatch("/gone", calls)
    zk.delete("/gone")
    wait_until(lambda: watch._native.stopped, message="the watch did not stop when its node went")
    zk.create("/gone")
    zk.create("/gone/k")
    zk.sync("/")
    zk.exists("/gone")
    assert calls.quiet() == [[]]


def test_watches_survive_reconnect(zk, drop_connections):
    zk.create("/rc", b"0")
    one_shot = Recorder()
    persistent = Recorder()
    data = []
    zk.get("/rc", watch=one_shot)
    zk.add_watch("/rc", persistent)
    zk.DataWatch("/rc", lambda d, s: data.append(d))
    states = Recorder()
    zk.add_listener(states)
    drop_connections()
    wait_until(lambda: corral.State.RECONNECTED in states.calls)
    zk.set("/rc", b"1")
    assert [e.type for e in one_shot.exactly(1)] == [EventType.CHANGED]
    assert [e.type for e in persistent.exactly(1)] == [EventType.CHANGED]
    wait_until(lambda: data[-1] == b"1")


def test_watches_after_session_expiry(zk, expire_session):
    zk.create("/ex", b"0")
    one_shot = Recorder()
    persistent = Recorder()
    data = []
    children = []
    zk.get("/ex", watch=one_shot)
    zk.add_watch("/ex", persistent)
    zk.DataWatch("/ex", lambda d, s: data.append(d))
    zk.ChildrenWatch("/ex", lambda c: children.append(sorted(c)))
    expire_session(zk)
    # One-shot and persistent watches end with the session...
    (ev,) = one_shot.exactly(1)
    assert ev.type == EventType.NONE and ev.state == KeeperState.EXPIRED_SESSION
    assert persistent.wait(1)[-1].state == KeeperState.EXPIRED_SESSION
    # ... kazoo's recipes arm themselves again on the new session.
    zk.set("/ex", b"after")
    wait_until(lambda: data[-1] == b"after")
    zk.create("/ex/k")
    wait_until(lambda: children[-1] == ["k"])


def test_watches_end_with_closed_on_stop(make_zk):
    c = make_zk()
    c.create("/cl")
    rec = Recorder()
    c.get("/cl", watch=rec)
    c.stop()
    (ev,) = rec.exactly(1)
    assert ev.type == EventType.NONE and ev.state == KeeperState.CLOSED
