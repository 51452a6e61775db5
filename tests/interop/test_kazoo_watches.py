"""Watches (wire-protocol.md §8): one-shot data/exist/child watches, kazoo's DataWatch and
ChildrenWatch recipes, persistent and persistent-recursive watches (addWatch),
checkWatches/removeWatches, and re-registration after a reconnect (SetWatches)."""

import pytest
from kazoo.exceptions import NoNodeError, NoWatcherError
from kazoo.protocol.connection import _CONNECTION_DROP
from kazoo.protocol.states import EventType, KazooState

from kazoo_ext import (
    PERSISTENT,
    PERSISTENT_RECURSIVE,
    WATCHER_ANY,
    WATCHER_CHILDREN,
    WATCHER_DATA,
)
from zkharness import wait_until

CREATED, DELETED, CHANGED, CHILD = (
    EventType.CREATED,
    EventType.DELETED,
    EventType.CHANGED,
    EventType.CHILD,
)


def kinds(events):
    return [(e.type, e.path) for e in events]


@pytest.fixture
def other(server, make_client):
    """A second session: its writes trigger the watches of ``zk``."""
    return make_client(server)


# ---- one-shot watches ---------------------------------------------------------------


def test_get_watch_fires_once_on_change(zk, other, ns, recorder):
    rec = recorder()
    path = zk.create(f"{ns}/n", b"0")
    zk.get(path, watch=rec)
    other.set(path, b"1")
    (event,) = rec.wait(1)
    assert (event.type, event.path, event.state) == (CHANGED, path, KazooState.CONNECTED)
    other.set(path, b"2")
    assert len(rec.quiet()) == 1, "a standard watch is one-shot"
    assert zk.unrouted_notifications == [], "a standard watch is one-shot"


def test_get_watch_fires_deleted(zk, other, ns, recorder):
    rec = recorder()
    path = zk.create(f"{ns}/n")
    zk.get(path, watch=rec)
    other.delete(path)
    assert kinds(rec.exactly(1)) == [(DELETED, path)]


def test_exists_watch_on_missing_node_fires_created(zk, other, ns, recorder):
    rec = recorder()
    path = f"{ns}/later"
    assert zk.exists(path, watch=rec) is None
    other.create(path, b"now")
    assert kinds(rec.wait(1)) == [(CREATED, path)]
    other.set(path, b"again")
    assert len(rec.quiet()) == 1
    assert zk.unrouted_notifications == [], "a standard watch is one-shot"


def test_exists_watch_on_existing_node_fires_changed_then_is_gone(zk, other, ns, recorder):
    rec = recorder()
    path = zk.create(f"{ns}/n")
    assert zk.exists(path, watch=rec) is not None
    other.set(path, b"x")
    other.delete(path)
    assert kinds(rec.quiet()) == [(CHANGED, path)]
    assert zk.unrouted_notifications == [], "a standard watch is one-shot"


def test_get_on_missing_node_sets_no_watch(zk, other, ns, recorder):
    rec = recorder()
    with pytest.raises(NoNodeError):
        zk.get(f"{ns}/missing", watch=rec)
    with pytest.raises(NoNodeError):
        zk.get_children(f"{ns}/missing", watch=rec)
    other.create(f"{ns}/missing/kid", makepath=True)
    assert rec.quiet() == []
    assert zk.unrouted_notifications == [], "a failed read must leave no watch"


def test_child_watch_fires_on_child_create_and_delete_only(zk, other, ns, recorder):
    parent = zk.create(f"{ns}/p", b"d")
    kid = zk.create(f"{parent}/kid")
    rec = recorder()
    zk.get_children(parent, watch=rec)
    other.set(parent, b"data change is not a child change")
    other.set(kid, b"nor is a grandchild's data")
    assert rec.quiet() == []
    other.create(f"{parent}/new")
    assert kinds(rec.wait(1)) == [(CHILD, parent)]
    other.create(f"{parent}/newer")
    assert len(rec.quiet()) == 1, "a standard child watch is one-shot"
    assert zk.unrouted_notifications == [], "a standard child watch is one-shot"

    rec2 = recorder()
    zk.get_children(parent, watch=rec2, include_data=True)
    other.delete(kid)
    assert kinds(rec2.exactly(1)) == [(CHILD, parent)]


def test_child_watch_fires_deleted_when_node_goes(zk, other, ns, recorder):
    parent = zk.create(f"{ns}/p")
    rec = recorder()
    zk.get_children(parent, watch=rec)
    other.delete(parent)
    assert kinds(rec.exactly(1)) == [(DELETED, parent)]


def test_one_delete_reaches_data_exist_and_child_watchers(zk, other, ns, recorder):
    path = zk.create(f"{ns}/n")
    on_get, on_exists, on_children = recorder(), recorder(), recorder()
    zk.get(path, watch=on_get)
    zk.exists(path, watch=on_exists)
    zk.get_children(path, watch=on_children)
    other.delete(path)
    for rec in (on_get, on_exists, on_children):
        rec.wait(1)
    on_get.quiet()  # one notification reaches all three; a second one has arrived by now
    for rec in (on_get, on_exists, on_children):
        assert kinds(rec.items) == [(DELETED, path)]
    assert zk.unrouted_notifications == []


def test_creating_session_gets_its_own_events(zk, ns, recorder):
    rec = recorder()
    path = f"{ns}/self"
    zk.exists(path, watch=rec)
    zk.get_children(ns, watch=rec)
    zk.create(path)
    events = rec.exactly(2)
    assert sorted(kinds(events)) == sorted([(CREATED, path), (CHILD, ns)])


def test_ephemeral_cleanup_fires_watches(server, make_client, zk, ns, recorder):
    owner = make_client(server)
    eph = owner.create(f"{ns}/eph", ephemeral=True)
    rec = recorder()
    zk.exists(eph, watch=rec)
    zk.get_children(ns, watch=rec)
    owner.stop()
    events = rec.exactly(2)
    assert sorted(kinds(events)) == sorted([(DELETED, eph), (CHILD, ns)])


# ---- kazoo recipes ------------------------------------------------------------------


def test_data_watch_recipe_tracks_every_version(zk, other, ns, recorder):
    path = zk.create(f"{ns}/dw", b"a")
    rec = recorder()

    @zk.DataWatch(path)
    def _watch(data, stat):
        rec((data, stat.version if stat else None))

    rec.wait(1)
    other.set(path, b"b")
    rec.wait(2)
    other.set(path, b"c")
    rec.wait(3)
    other.delete(path)
    assert rec.exactly(4) == [(b"a", 0), (b"b", 1), (b"c", 2), (None, None)]


def test_children_watch_recipe_tracks_membership(zk, other, ns, recorder):
    rec = recorder()

    @zk.ChildrenWatch(ns)
    def _watch(children):
        rec(sorted(children))

    rec.wait(1)
    other.create(f"{ns}/a")
    rec.wait(2)
    other.create(f"{ns}/b", ephemeral=True)
    rec.wait(3)
    other.delete(f"{ns}/a")
    rec.wait(4)
    other.stop()  # the ephemeral b goes with the session
    assert rec.exactly(5) == [[], ["a"], ["a", "b"], ["b"], []]


# ---- persistent watches (addWatch) --------------------------------------------------


def test_persistent_watch_sees_every_event_on_the_node(zk, other, ns, recorder):
    path = f"{ns}/pw"
    rec = recorder()
    zk.add_watch(path, rec, PERSISTENT)  # the node need not exist yet
    other.create(path, b"0")
    other.set(path, b"1")
    other.set(path, b"2")
    other.create(f"{path}/kid")
    other.set(f"{path}/kid", b"not reported: data of a child")
    other.create(f"{path}/kid/grandkid")  # not reported: not a child of path
    other.delete(f"{path}/kid/grandkid")
    other.delete(f"{path}/kid")
    other.delete(path)
    other.create(path)
    expected = [
        (CREATED, path),
        (CHANGED, path),
        (CHANGED, path),
        (CHILD, path),
        (CHILD, path),
        (DELETED, path),
        (CREATED, path),
    ]
    assert kinds(rec.exactly(len(expected))) == expected


def test_persistent_recursive_watch_covers_subtree_without_child_events(zk, other, ns, recorder):
    root = f"{ns}/tree"
    rec = recorder()
    zk.add_watch(root, rec, PERSISTENT_RECURSIVE)
    other.create(root)
    other.create(f"{root}/a", b"")
    other.create(f"{root}/a/b", b"")
    other.set(f"{root}/a/b", b"v")
    other.create(f"{ns}/tree-sibling")  # outside the subtree, shares the name prefix
    other.set(f"{ns}/tree-sibling", b"v")
    other.delete(f"{root}/a/b")
    other.delete(f"{root}/a")
    other.set(root, b"r")
    expected = [
        (CREATED, root),
        (CREATED, f"{root}/a"),
        (CREATED, f"{root}/a/b"),
        (CHANGED, f"{root}/a/b"),
        (DELETED, f"{root}/a/b"),
        (DELETED, f"{root}/a"),
        (CHANGED, root),
    ]
    events = rec.exactly(len(expected))
    assert kinds(events) == expected
    assert all(e.type != CHILD for e in events), "recursive watches never send NodeChildrenChanged"


def test_recursive_watch_sees_ephemeral_cleanup_of_other_session(server, make_client, zk, ns, recorder):
    owner = make_client(server)
    rec = recorder()
    zk.add_watch(ns, rec, PERSISTENT_RECURSIVE)
    eph = owner.create(f"{ns}/members/m-", ephemeral=True, sequence=True, makepath=True)
    owner.stop()
    assert kinds(rec.exactly(3)) == [(CREATED, f"{ns}/members"), (CREATED, eph), (DELETED, eph)]


# ---- checkWatches / removeWatches ---------------------------------------------------


def test_remove_data_watch(zk, other, ns, recorder):
    path = zk.create(f"{ns}/n")
    rec = recorder()
    zk.get(path, watch=rec)
    zk.check_watches(path, WATCHER_DATA)
    with pytest.raises(NoWatcherError):
        zk.check_watches(path, WATCHER_CHILDREN)
    zk.remove_watches(path, WATCHER_DATA)
    with pytest.raises(NoWatcherError):
        zk.check_watches(path, WATCHER_DATA)
    with pytest.raises(NoWatcherError):
        zk.remove_watches(path, WATCHER_DATA)
    other.set(path, b"x")
    assert rec.quiet() == []
    assert zk.unrouted_notifications == [], "the server still fired the removed watch"


def test_remove_child_watch_keeps_data_watch(zk, other, ns, recorder):
    path = zk.create(f"{ns}/n")
    on_data, on_children = recorder(), recorder()
    zk.get(path, watch=on_data)
    zk.get_children(path, watch=on_children)
    zk.remove_watches(path, WATCHER_CHILDREN)
    other.create(f"{path}/kid")
    other.set(path, b"x")
    assert kinds(on_data.exactly(1)) == [(CHANGED, path)]
    assert on_children.items == []
    assert zk.unrouted_notifications == [], "the server still fired the removed watch"


def test_remove_any_watch_stops_recursive_watch(zk, other, ns, recorder):
    rec = recorder()
    zk.add_watch(ns, rec, PERSISTENT_RECURSIVE)
    other.create(f"{ns}/one")
    rec.wait(1)
    zk.remove_watches(ns, WATCHER_ANY)
    other.create(f"{ns}/two")
    other.set(f"{ns}/one", b"x")
    assert kinds(rec.quiet()) == [(CREATED, f"{ns}/one")]
    assert zk.unrouted_notifications == [], "the server still fired the removed watch"
    with pytest.raises(NoWatcherError):
        zk.remove_watches(ns, WATCHER_ANY)


# ---- reconnect ----------------------------------------------------------------------


def test_session_and_recipes_survive_a_dropped_connection(zk, other, ns, recorder):
    """kazoo drops its raw watches on disconnect (it never sends SetWatches); its recipes
    re-read and re-watch after resuming the same session."""
    path = zk.create(f"{ns}/data", b"before")
    eph = zk.create(f"{ns}/eph", ephemeral=True)
    data_rec, child_rec = recorder(), recorder()
    zk.DataWatch(path)(lambda data, stat: data_rec(data))
    zk.ChildrenWatch(ns)(lambda children: child_rec(sorted(children)))
    data_rec.wait(1)
    child_rec.wait(1)
    session = zk.client_id

    states = recorder()
    zk.add_listener(states)
    zk._call(_CONNECTION_DROP, zk.handler.async_result())
    assert states.exactly(2) == [KazooState.SUSPENDED, KazooState.CONNECTED]
    wait_until(lambda: zk.state == KazooState.CONNECTED, 10)
    assert zk.client_id == session, "the reconnect must resume the same session"
    assert zk.exists(eph).ephemeralOwner == session[0]

    other.set(path, b"after")
    other.create(f"{ns}/new")
    wait_until(lambda: data_rec.items[-1] == b"after", 10)
    wait_until(lambda: child_rec.items[-1] == ["data", "eph", "new"], 10)
