"""Values the client hands out: znode metadata, watch events and connection states.

Names follow kazoo's ``kazoo.protocol.states`` where kazoo has the concept,
so code written against kazoo reads the same.
"""

from __future__ import annotations

import enum
from typing import NamedTuple, Optional

__all__ = ["EventType", "KeeperState", "State", "WatchedEvent", "WatcherType", "ZnodeStat"]


class State(str, enum.Enum):
    """Connection state of a client, as core (and Curator) name them.

    kazoo's ``KazooState`` has CONNECTED, SUSPENDED and LOST; corral also says
    whether a connection is the first one (CONNECTED) or a later one
    (RECONNECTED), whether the server is read-only, and when the client was
    closed.
    """

    CONNECTED = "CONNECTED"
    """The first session is established."""
    SUSPENDED = "SUSPENDED"
    """Disconnected; the session may still be alive (ownership unknown)."""
    RECONNECTED = "RECONNECTED"
    """Connected again: the same session resumed, or a new one after LOST."""
    READ_ONLY = "READ_ONLY"
    """Connected to a read-only server."""
    LOST = "LOST"
    """The session expired: its ephemerals and watches are gone."""
    CLOSED = "CLOSED"
    """The client was stopped."""


class EventType(str, enum.Enum):
    """What a watch saw happen (kazoo's names)."""

    CREATED = "CREATED"
    """The node was created."""
    DELETED = "DELETED"
    """The node was deleted."""
    CHANGED = "CHANGED"
    """The node's data changed."""
    CHILD = "CHILD"
    """A child was created or deleted."""
    NONE = "NONE"
    """A session event: the watch ended (see ``WatchedEvent.state``)."""
    DATA_WATCH_REMOVED = "DATA_WATCH_REMOVED"
    """A data watch was removed."""
    CHILD_WATCH_REMOVED = "CHILD_WATCH_REMOVED"
    """A child watch was removed."""
    PERSISTENT_WATCH_REMOVED = "PERSISTENT_WATCH_REMOVED"
    """A persistent watch was removed."""


class KeeperState(str, enum.Enum):
    """The session state a watch event carries (kazoo's names)."""

    CONNECTED = "CONNECTED"
    """A node event from a live session."""
    EXPIRED_SESSION = "EXPIRED_SESSION"
    """The session expired: the watch will never fire for a node change."""
    CLOSED = "CLOSED"
    """The client was stopped."""


class WatcherType(str, enum.Enum):
    """Which watches ``remove_watches`` removes."""

    CHILDREN = "children"
    """Child watches (from ``get_children``)."""
    DATA = "data"
    """Data and exists watches (from ``get`` and ``exists``)."""
    ANY = "any"
    """All of them, persistent ones included."""
    PERSISTENT = "persistent"
    """Persistent watches (``add_watch``)."""
    PERSISTENT_RECURSIVE = "persistent_recursive"
    """Persistent recursive watches (``add_watch(..., recursive=True)``)."""


class WatchedEvent(NamedTuple):
    """What a watch reports.

    ``zxid`` is the transaction that fired it (-1 when the server does not
    say, as ZooKeeper 3.8 and older).
    """

    type: EventType
    """What happened (NONE for session events)."""
    state: KeeperState
    """CONNECTED for node events; EXPIRED_SESSION or CLOSED when the watch ends without one."""
    path: str
    """The node, relative to the client's chroot ("" for session events)."""
    zxid: int = -1
    """The zxid of the change, or -1."""


class ZnodeStat(NamedTuple):
    """A znode's metadata, with ZooKeeper's field names (as kazoo's ZnodeStat)."""

    czxid: int
    """zxid of the create."""
    mzxid: int
    """zxid of the last data change."""
    ctime: int
    """Create time, ms since the epoch."""
    mtime: int
    """Last data change time, ms since the epoch."""
    version: int
    """Number of data changes."""
    cversion: int
    """Number of child creates and deletes."""
    aversion: int
    """Number of ACL changes."""
    ephemeralOwner: int
    """Owning session of an ephemeral node, else 0."""
    dataLength: int
    """Length of the data in bytes."""
    numChildren: int
    """Number of children."""
    pzxid: int
    """zxid of the last child create or delete."""

    @property
    def acl_version(self) -> int:
        """``aversion``."""
        return self.aversion

    @property
    def children_version(self) -> int:
        """``cversion``."""
        return self.cversion

    @property
    def created(self) -> float:
        """Create time in seconds since the epoch."""
        return self.ctime / 1000.0

    @property
    def last_modified(self) -> float:
        """Last data change time in seconds since the epoch."""
        return self.mtime / 1000.0

    @property
    def owner_session_id(self) -> Optional[int]:
        """The owning session of an ephemeral node, else None."""
        return self.ephemeralOwner or None

    @property
    def creation_transaction_id(self) -> int:
        """``czxid``."""
        return self.czxid

    @property
    def last_modified_transaction_id(self) -> int:
        """``mzxid``."""
        return self.mzxid

    @property
    def data_length(self) -> int:
        """``dataLength``."""
        return self.dataLength

    @property
    def children_count(self) -> int:
        """``numChildren``."""
        return self.numChildren
