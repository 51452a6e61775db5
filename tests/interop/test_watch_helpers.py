"""The watch helpers must let an extra or duplicate notification fail a test: the
Recorder's ``exactly``, and ExtKazooClient's record of the notifications kazoo drops
because no watcher waits for them. Fed made-up notifications; no server involved."""

import struct

import pytest
from kazoo.protocol.connection import CHANGED_EVENT, CHILD_EVENT, CREATED_EVENT, DELETED_EVENT
from kazoo.protocol.states import EventType

from conftest import Recorder
from kazoo_ext import ExtKazooClient

SYNC_CONNECTED = 3


def notification(event_type: int, path: str) -> bytes:
    """A WatcherEvent body as the connection reads it after the reply header."""
    raw = path.encode()
    return struct.pack(">iii", event_type, SYNC_CONNECTED, len(raw)) + raw


@pytest.fixture
def offline():
    """An ExtKazooClient that takes notifications without a server: its callback
    thread runs, and it counts as started."""
    c = ExtKazooClient(hosts="127.0.0.1:1")
    c.handler.start()
    c._stopped.clear()
    yield c
    c._stopped.set()
    c.handler.stop()


def deliver(offline, *events):
    for event_type, path in events:
        offline._connection._read_watch_event(notification(event_type, path), 0)


def test_exactly_fails_on_a_duplicate():
    rec = Recorder()
    rec("event")
    assert rec.exactly(1, quiet=0.05) == ["event"]
    rec("event")
    with pytest.raises(AssertionError, match="expected exactly 1 callbacks, got 2"):
        rec.exactly(1, quiet=0.05)


def test_a_notification_for_a_one_shot_watch_is_delivered_once(offline):
    rec = Recorder()
    offline._data_watchers["/a"].add(rec)
    deliver(offline, (CHANGED_EVENT, "/a"))
    assert [(e.type, e.path) for e in rec.exactly(1, quiet=0.05)] == [(EventType.CHANGED, "/a")]
    assert offline.unrouted_notifications == []
    # The same notification again: kazoo has forgotten the watcher and drops it.
    deliver(offline, (CHANGED_EVENT, "/a"))
    assert len(rec.quiet(0.05)) == 1
    assert offline.unrouted_notifications == [f"type {CHANGED_EVENT} state {SYNC_CONNECTED} path /a"]


@pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")  # kazoo's, on type 5
def test_notifications_nobody_asked_for_are_kept(offline):
    deliver(offline, (CREATED_EVENT, "/none"), (DELETED_EVENT, "/none"), (CHILD_EVENT, "/none"))
    deliver(offline, (5, "/none"))  # DataWatchRemoved: never sent by a server
    assert [n.split(" path ")[0] for n in offline.unrouted_notifications] == [
        f"type {t} state {SYNC_CONNECTED}" for t in (CREATED_EVENT, DELETED_EVENT, CHILD_EVENT, 5)
    ]


def test_a_duplicate_for_a_persistent_watch_reaches_the_recorder(offline):
    rec, tree = Recorder(), Recorder()
    offline._persistent_watchers["/p"].append(rec)
    offline._recursive_watchers["/"].append(tree)
    deliver(offline, (CREATED_EVENT, "/p"), (CREATED_EVENT, "/p"))
    with pytest.raises(AssertionError, match="got 2"):
        rec.exactly(1, quiet=0.05)
    with pytest.raises(AssertionError, match="got 2"):
        tree.exactly(1, quiet=0.05)
    assert offline.unrouted_notifications == []
    # A recursive watch never gets NodeChildrenChanged: with no other watcher it is unrouted.
    deliver(offline, (CHILD_EVENT, "/p/kid"))
    assert len(offline.unrouted_notifications) == 1
