"""kazoo's exception names, as ``kazoo.exceptions`` has them.

Each name is corral's own class (so ``except corral.NoNodeError`` and
``except corral.kazoo.exceptions.NoNodeError`` catch the same thing);
:class:`KazooException` is :class:`corral.CorralError`, the base of every
exception corral raises. The legacy ``*Exception`` aliases are kept::

    from corral.kazoo.exceptions import NoNodeError, KazooException

    try:
        zk.get("/missing")
    except NoNodeError:
        ...
"""

from corral.exceptions import *  # noqa: F401,F403
from corral.exceptions import (
    APIError,
    AuthFailedError,
    BadArgumentsError,
    BadVersionError,
    ConnectionLoss,
    CorralError,
    DataInconsistency,
    InvalidACLError,
    InvalidCallbackError,
    MarshallingError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    OperationTimeoutError,
    RuntimeInconsistency,
    SessionExpiredError,
    SystemZookeeperError,
    UnimplementedError,
)
from corral.exceptions import __all__ as _corral_names

KazooException = CorralError
"""The base of every exception (kazoo's name for :class:`corral.CorralError`)."""


class ConnectionClosedError(SessionExpiredError):
    """A call on a client that was stopped (or never started)."""


class ConnectionDropped(CorralError):
    """The connection dropped while a request was in flight (kazoo keeps the name;
    corral reports such requests as :class:`ConnectionLoss`)."""


class WriterNotClosedException(CorralError):
    """A kazoo name kept for imports; corral never raises it."""


class SASLException(CorralError):
    """SASL authentication could not be set up."""


# kazoo's legacy names.
SystemErrorException = SystemZookeeperError
RuntimeInconsistencyException = RuntimeInconsistency
DataInconsistencyException = DataInconsistency
ConnectionLossException = ConnectionLoss
MarshallingErrorException = MarshallingError
UnimplementedException = UnimplementedError
OperationTimeoutException = OperationTimeoutError
BadArgumentsException = BadArgumentsError
ApiErrorException = APIError
NoNodeException = NoNodeError
NoAuthException = NoAuthError
BadVersionException = BadVersionError
NoChildrenForEphemeralsException = NoChildrenForEphemeralsError
NodeExistsException = NodeExistsError
InvalidACLException = InvalidACLError
AuthFailedException = AuthFailedError
NotEmptyException = NotEmptyError
SessionExpiredException = SessionExpiredError
InvalidCallbackException = InvalidCallbackError

__all__ = list(_corral_names) + [
    "KazooException",
    "ConnectionClosedError",
    "ConnectionDropped",
    "WriterNotClosedException",
    "SASLException",
    "SystemErrorException",
    "RuntimeInconsistencyException",
    "DataInconsistencyException",
    "ConnectionLossException",
    "MarshallingErrorException",
    "UnimplementedException",
    "OperationTimeoutException",
    "BadArgumentsException",
    "ApiErrorException",
    "NoNodeException",
    "NoAuthException",
    "BadVersionException",
    "NoChildrenForEphemeralsException",
    "NodeExistsException",
    "InvalidACLException",
    "AuthFailedException",
    "NotEmptyException",
    "SessionExpiredException",
    "InvalidCallbackException",
]
