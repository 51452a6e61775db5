"""States and events with kazoo's names and shapes (``kazoo.protocol.states``).

:class:`KazooState` is what listeners get; :class:`KeeperState` is the finer
``client_state``; :class:`WatchedEvent` is kazoo's three-field tuple::

    from corral.kazoo.protocol.states import KazooState, EventType

    def listener(state):
        if state == KazooState.LOST:
            ...   # ephemerals and watches are gone

    def watch(event):
        type_, state, path = event
        if type_ == EventType.NONE:
            ...   # the connection dropped: this watch will not fire again
"""

from collections import namedtuple

from corral.states import ZnodeStat

__all__ = ["Callback", "EventType", "KazooState", "KeeperState", "WatchedEvent", "ZnodeStat"]


class KazooState(object):
    """The three states kazoo reports to listeners."""

    SUSPENDED = "SUSPENDED"
    """Disconnected; the session may still be alive."""
    CONNECTED = "CONNECTED"
    """Connected (a first connection, a reconnection, or a new session after LOST)."""
    LOST = "LOST"
    """The session is gone (expired, or the client was stopped)."""


class KeeperState(object):
    """ZooKeeper's own session states (``client_state`` and watch events)."""

    AUTH_FAILED = "AUTH_FAILED"
    CONNECTED = "CONNECTED"
    CONNECTED_RO = "CONNECTED_RO"
    CONNECTING = "CONNECTING"
    CLOSED = "CLOSED"
    EXPIRED_SESSION = "EXPIRED_SESSION"


class EventType(object):
    """What a watch saw."""

    CREATED = "CREATED"
    DELETED = "DELETED"
    CHANGED = "CHANGED"
    CHILD = "CHILD"
    NONE = "NONE"
    """The connection dropped or the session ended: the watch is void."""


EVENT_TYPE_MAP = {-1: EventType.NONE, 1: EventType.CREATED, 2: EventType.DELETED, 3: EventType.CHANGED, 4: EventType.CHILD}


class WatchedEvent(namedtuple("WatchedEvent", ("type", "state", "path"))):
    """A watch event: ``type`` (:class:`EventType`), ``state``
    (:class:`KeeperState`) and ``path`` (None for NONE events)."""


class Callback(namedtuple("Callback", ("type", "func", "args"))):
    """A callback for a handler's ``dispatch_callback``: ``func(*args)``."""
