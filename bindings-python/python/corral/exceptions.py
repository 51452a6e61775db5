"""Exceptions, named as kazoo's.

Every ZooKeeper result code has one class under :class:`ZookeeperError`;
each has ``.code`` (the ZooKeeper number) and ``.path`` (the znode the failed
operation concerned, or None)::

    try:
        zk.get("/missing")
    except corral.NoNodeError as e:
        print(e.code, e.path)   # -101 /missing

The classes are defined once, in the native module, from core's code table.
:class:`CancelledError` (kazoo's name) ends a recipe wait that ``cancel()``
interrupted; :class:`LockTimeout` (kazoo's name) says a lock or semaphore
was not had within its ``timeout``.
"""

from corral._corral import (
    CorralError,
    ZookeeperError,
    ZookeeperStoppedError,
    ServerError,
    ConfigurationError,
    CancelledError,
    RolledBackError,
    SystemZookeeperError,
    RuntimeInconsistency,
    DataInconsistency,
    ConnectionLoss,
    MarshallingError,
    UnimplementedError,
    OperationTimeoutError,
    BadArgumentsError,
    UnknownSessionError,
    NewConfigNoQuorumError,
    ReconfigInProcessError,
    APIError,
    NoNodeError,
    NoAuthError,
    BadVersionError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NotEmptyError,
    SessionExpiredError,
    InvalidCallbackError,
    InvalidACLError,
    AuthFailedError,
    SessionMovedError,
    NotReadOnlyCallError,
    EphemeralOnLocalSessionError,
    NoWatcherError,
    RequestTimeoutError,
    ReconfigDisabledError,
    SessionClosedRequireSaslError,
    QuotaExceededError,
    ThrottledOpError,
)


class LockTimeout(CorralError):
    """A lock or semaphore was not had within ``timeout`` seconds (kazoo's
    ``LockTimeout``): raised rather than returning False, so code that goes
    on after ``acquire(timeout=...)`` never runs without the lock."""

__all__ = [
    "CorralError",
    "ZookeeperError",
    "ZookeeperStoppedError",
    "ServerError",
    "ConfigurationError",
    "CancelledError",
    "RolledBackError",
    "SystemZookeeperError",
    "RuntimeInconsistency",
    "DataInconsistency",
    "ConnectionLoss",
    "MarshallingError",
    "UnimplementedError",
    "OperationTimeoutError",
    "BadArgumentsError",
    "UnknownSessionError",
    "NewConfigNoQuorumError",
    "ReconfigInProcessError",
    "APIError",
    "NoNodeError",
    "NoAuthError",
    "BadVersionError",
    "NoChildrenForEphemeralsError",
    "NodeExistsError",
    "NotEmptyError",
    "SessionExpiredError",
    "InvalidCallbackError",
    "InvalidACLError",
    "AuthFailedError",
    "SessionMovedError",
    "NotReadOnlyCallError",
    "EphemeralOnLocalSessionError",
    "NoWatcherError",
    "RequestTimeoutError",
    "ReconfigDisabledError",
    "SessionClosedRequireSaslError",
    "QuotaExceededError",
    "ThrottledOpError",
    "LockTimeout",
]
