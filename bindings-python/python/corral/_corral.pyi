"""Type stubs of corral._corral, the native half of the corral package (private: use ``corral``)."""

from typing import Any, Callable, List, Optional, Sequence, Tuple

__version__: str

StatTuple = Tuple[int, int, int, int, int, int, int, int, int, int, int]
AclTuple = Tuple[int, str, str]
EventTuple = Tuple[str, str, str, int]

PERMS: List[Tuple[str, int]]
OPEN_ACL_UNSAFE: List[AclTuple]
READ_ACL_UNSAFE: List[AclTuple]
CREATOR_ALL_ACL: List[AclTuple]
CODES: List[Tuple[int, str]]
"""Core's result-code table: (number, name)."""

def digest_id(user_password: str) -> str:
    """The digest identity of ``user:password``."""

class CorralError(Exception):
    """Base class of every exception corral raises."""

class ZookeeperError(CorralError):
    """An operation failed with a ZooKeeper result code."""

    code: Optional[int]
    path: Optional[str]

class ZookeeperStoppedError(CorralError):
    """The client is not started, or was stopped."""

class ServerError(CorralError):
    """An embedded server could not start or stop."""

class ConfigurationError(CorralError):
    """Invalid server configuration."""

class RolledBackError(ZookeeperError):
    """A transaction sub-op that succeeded but was rolled back because another one failed (ZooKeeper code 0)."""

class SystemZookeeperError(ZookeeperError):
    """A system error (-1); also any result code this version does not know."""

class RuntimeInconsistency(ZookeeperError):
    """A transaction sub-op after the failing one (-2)."""

class DataInconsistency(ZookeeperError):
    """The server detected a data inconsistency (-3)."""

class ConnectionLoss(ZookeeperError):
    """The connection was lost before the reply arrived (-4); the outcome of a write is unknown."""

class MarshallingError(ZookeeperError):
    """A request or reply could not be encoded or decoded (-5)."""

class UnimplementedError(ZookeeperError):
    """The server does not implement the operation (-6)."""

class OperationTimeoutError(ZookeeperError):
    """The operation timed out (-7)."""

class BadArgumentsError(ZookeeperError):
    """Invalid arguments: a bad path, flags, TTL or protected node (-8)."""

class UnknownSessionError(ZookeeperError):
    """The session is unknown to the server (-12)."""

class NewConfigNoQuorumError(ZookeeperError):
    """reconfig: the new configuration has no quorum (-13)."""

class ReconfigInProcessError(ZookeeperError):
    """reconfig: another reconfiguration is in progress (-14)."""

class APIError(ZookeeperError):
    """A generic API error (-100)."""

class NoNodeError(ZookeeperError):
    """The node (or, for create, its parent) does not exist (-101)."""

class NoAuthError(ZookeeperError):
    """The node's ACL does not grant the permission (-102)."""

class BadVersionError(ZookeeperError):
    """The node's version is not the expected one (-103)."""

class NoChildrenForEphemeralsError(ZookeeperError):
    """Ephemeral nodes may not have children (-108)."""

class NodeExistsError(ZookeeperError):
    """The node already exists (-110)."""

class NotEmptyError(ZookeeperError):
    """The node has children (-111)."""

class SessionExpiredError(ZookeeperError):
    """The session expired (-112): its ephemerals and watches are gone."""

class InvalidCallbackError(ZookeeperError):
    """Invalid callback (-113)."""

class InvalidACLError(ZookeeperError):
    """The ACL is invalid (-114)."""

class AuthFailedError(ZookeeperError):
    """Authentication failed (-115)."""

class SessionMovedError(ZookeeperError):
    """The session moved to another server (-118)."""

class NotReadOnlyCallError(ZookeeperError):
    """A write reached a read-only server (-119)."""

class EphemeralOnLocalSessionError(ZookeeperError):
    """An ephemeral create on a local session (-120)."""

class NoWatcherError(ZookeeperError):
    """There is no such watch to remove (-121)."""

class RequestTimeoutError(ZookeeperError):
    """The request timed out (-122)."""

class ReconfigDisabledError(ZookeeperError):
    """reconfig is disabled on the server (-123)."""

class SessionClosedRequireSaslError(ZookeeperError):
    """The server requires SASL authentication (-124)."""

class QuotaExceededError(ZookeeperError):
    """A hard quota was exceeded (-125)."""

class ThrottledOpError(ZookeeperError):
    """The server throttled the request (-127)."""

class Client:
    """A connected session (blocking calls, GIL released while waiting)."""

    @staticmethod
    def connect(
        hosts: str,
        session_timeout: float,
        connection_timeout: Optional[float] = None,
        auth: Sequence[Tuple[str, bytes]] = ...,
        read_only: bool = False,
    ) -> Client: ...
    def close(self) -> None: ...
    def state(self) -> str: ...
    @property
    def session_id(self) -> int: ...
    @property
    def session_timeout(self) -> float: ...
    @property
    def last_zxid(self) -> int: ...
    def next_event(self, timeout: float) -> Optional[Tuple[Any, ...]]: ...
    def create(
        self, path: str, data: bytes, acl: Sequence[AclTuple], mode: int, ttl_ms: Optional[int] = None
    ) -> Tuple[str, StatTuple]: ...
    def delete(self, path: str, version: int) -> None: ...
    def exists(self, path: str, watch: Optional[Callable[..., Any]] = None) -> Optional[StatTuple]: ...
    def get_data(self, path: str, watch: Optional[Callable[..., Any]] = None) -> Tuple[bytes, StatTuple]: ...
    def set_data(self, path: str, data: bytes, version: int) -> StatTuple: ...
    def get_acl(self, path: str) -> Tuple[List[AclTuple], StatTuple]: ...
    def set_acl(self, path: str, acl: Sequence[AclTuple], version: int) -> StatTuple: ...
    def get_children(self, path: str, watch: Optional[Callable[..., Any]] = None) -> Tuple[List[str], StatTuple]: ...
    def get_all_children_number(self, path: str) -> int: ...
    def get_ephemerals(self, prefix: str) -> List[str]: ...
    def sync(self, path: str) -> None: ...
    def who_am_i(self) -> List[Tuple[str, str]]: ...
    def add_auth(self, scheme: str, credential: bytes) -> None: ...
    def add_watch(self, path: str, recursive: bool, callback: Callable[..., Any]) -> None: ...
    def remove_watches(self, path: str, watcher_type: str) -> None: ...
    def multi(self, ops: List[tuple], raise_on_error: bool) -> List[tuple]: ...
    def multi_read(self, get_data: List[str], get_children: List[str]) -> List[tuple]: ...
    def ensure_path(self, path: str) -> None: ...
    def delete_recursive(self, path: str) -> None: ...

class AsyncClient:
    """A connected session (asyncio awaitables)."""

    @staticmethod
    def connect(
        hosts: str,
        session_timeout: float,
        connection_timeout: Optional[float] = None,
        auth: Sequence[Tuple[str, bytes]] = ...,
        read_only: bool = False,
    ) -> Any: ...
    def close(self) -> Any: ...
    def state(self) -> str: ...
    @property
    def session_id(self) -> int: ...
    @property
    def session_timeout(self) -> float: ...
    @property
    def last_zxid(self) -> int: ...
    def state_changes(self) -> StateStream: ...
    def create(
        self, path: str, data: bytes, acl: Sequence[AclTuple], mode: int, ttl_ms: Optional[int] = None
    ) -> Any: ...
    def delete(self, path: str, version: int) -> Any: ...
    def exists(self, path: str) -> Any: ...
    def exists_w(self, path: str) -> Any: ...
    def get_data(self, path: str) -> Any: ...
    def get_data_w(self, path: str) -> Any: ...
    def set_data(self, path: str, data: bytes, version: int) -> Any: ...
    def get_acl(self, path: str) -> Any: ...
    def set_acl(self, path: str, acl: Sequence[AclTuple], version: int) -> Any: ...
    def get_children(self, path: str) -> Any: ...
    def get_children_w(self, path: str) -> Any: ...
    def get_all_children_number(self, path: str) -> Any: ...
    def get_ephemerals(self, prefix: str) -> Any: ...
    def sync(self, path: str) -> Any: ...
    def who_am_i(self) -> Any: ...
    def add_auth(self, scheme: str, credential: bytes) -> Any: ...
    def add_watch(self, path: str, recursive: bool) -> Any: ...
    def remove_watches(self, path: str, watcher_type: str) -> Any: ...
    def multi(self, ops: List[tuple], raise_on_error: bool) -> Any: ...
    def multi_read(self, get_data: List[str], get_children: List[str]) -> Any: ...
    def ensure_path(self, path: str) -> Any: ...
    def delete_recursive(self, path: str) -> Any: ...

class Watch:
    """A one-shot watch."""

    def wait(self) -> Any:
        """An awaitable of the event tuple; only once."""

class WatchStream:
    """A persistent watch's events."""

    def next(self) -> Any:
        """An awaitable of the next event tuple (StopAsyncIteration at the end)."""

class StateStream:
    """Connection-state changes."""

    def next(self) -> Any:
        """An awaitable of the next state name."""

class EmbeddedServer:
    """A corral server in this process."""

    @staticmethod
    def start() -> EmbeddedServer: ...
    @staticmethod
    def with_config(config_file: Optional[str] = None, options: Sequence[Tuple[str, str]] = ...) -> EmbeddedServer: ...
    @property
    def hosts(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...

class Lock:
    """A re-entrant distributed mutex (kazoo naming)."""

    def __init__(self, client: Client, path: str, identifier: str) -> None: ...
    def acquire(self, timeout: Optional[float] = None) -> bool: ...
    def try_acquire(self) -> bool: ...
    def release(self) -> None: ...
    def state(self) -> str: ...
    def fencing_token(self) -> Optional[int]: ...
    def contenders(self) -> List[str]: ...

class Counter:
    """kazoo's integer Counter."""

    def __init__(self, client: Client, path: str, default: int) -> None: ...
    def value(self) -> int: ...
    def add(self, delta: int) -> Tuple[int, int]: ...

class Barrier:
    """A barrier node."""

    def __init__(self, client: Client, path: str) -> None: ...
    def set(self) -> None: ...
    def remove(self) -> None: ...
    def wait(self, timeout: Optional[float] = None) -> bool: ...

class Queue:
    """A FIFO queue."""

    def __init__(self, client: Client, path: str) -> None: ...
    def put(self, item: bytes) -> None: ...
    def put_all(self, items: List[bytes]) -> None: ...
    def get(self) -> Optional[bytes]: ...
    def take(self, timeout: Optional[float] = None) -> Optional[bytes]: ...
    def len(self) -> int: ...

class LeaderLatch:
    """Curator's LeaderLatch."""

    def __init__(self, client: Client, path: str, id: str) -> None: ...
    def start(self) -> None: ...
    def has_leadership(self) -> bool: ...
    def await_leadership(self, timeout: Optional[float] = None) -> bool: ...
    def close(self) -> None: ...
