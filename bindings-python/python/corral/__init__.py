"""corral: a ZooKeeper client (sync and asyncio) and an in-process server, in Rust.

::

    import corral

    zk = corral.Client("127.0.0.1:2181/app", timeout=10.0)
    zk.start()
    zk.create("/config", b"v1", makepath=True)
    data, stat = zk.get("/config")
    zk.stop()

The API follows kazoo's: the same method names, arguments, ``ZnodeStat``
fields and exception names. See :mod:`corral.aio` for asyncio,
:mod:`corral.testing` for an in-process server, and the ``zk`` pytest
fixture (:mod:`corral.pytest_plugin`).
"""

from corral._corral import __version__
from corral.client import ChildrenWatch, Client, DataWatch, TransactionRequest
from corral import exceptions as _exceptions
from corral.exceptions import *  # noqa: F401,F403
from corral.security import (
    ACL,
    ANYONE_ID_UNSAFE,
    AUTH_IDS,
    CREATOR_ALL_ACL,
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    Id,
    Permissions,
    make_acl,
    make_digest_acl,
    make_digest_acl_credential,
)
from corral.states import EventType, KeeperState, State, WatchedEvent, WatcherType, ZnodeStat

__all__ = [
    "__version__",
    "ACL",
    "ANYONE_ID_UNSAFE",
    "AUTH_IDS",
    "CREATOR_ALL_ACL",
    "ChildrenWatch",
    "Client",
    "DataWatch",
    "EventType",
    "Id",
    "KeeperState",
    "OPEN_ACL_UNSAFE",
    "Permissions",
    "READ_ACL_UNSAFE",
    "State",
    "TransactionRequest",
    "WatchedEvent",
    "WatcherType",
    "ZnodeStat",
    "make_acl",
    "make_digest_acl",
    "make_digest_acl_credential",
]
__all__ += _exceptions.__all__
