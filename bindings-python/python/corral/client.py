"""The blocking client, in kazoo's shape.

Every call blocks the calling thread only: the GIL is released while it
waits, so other Python threads run. Watch callbacks and state listeners run
on one dispatch thread per client, in the order the events arrived; they may
call the client (a call from a callback simply waits for its reply).
"""

from __future__ import annotations

import atexit
import datetime
import inspect
import logging
import re
import socket
import threading
import weakref
from typing import (
    Any,
    Callable,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from corral import _corral, recipes
from corral.exceptions import (
    ConnectionLoss,
    CorralError,
    NoNodeError,
    ZookeeperStoppedError,
)
from corral.security import ACL, Id
from corral.states import EventType, KeeperState, State, WatchedEvent, WatcherType, ZnodeStat

__all__ = ["ChildrenWatch", "Client", "DataWatch", "TransactionRequest"]

log = logging.getLogger("corral")

WatchFunc = Callable[[WatchedEvent], Any]
"""A watch callback: called once with the event (persistent watches: per event)."""
ListenerFunc = Callable[[State], Any]
"""A state listener: called with every new :class:`State`; returning True removes it."""

# How long the dispatch thread waits for an event before it looks whether
# the client was stopped.
_DISPATCH_POLL_S = 0.25

_CONNECTED_STATES = (State.CONNECTED, State.RECONNECTED, State.READ_ONLY)


def _data(value: Union[None, bytes, bytearray, memoryview]) -> Optional[bytes]:
    """The bytes to write; None writes null data (read back as None)."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"value must be bytes, not {type(value).__name__}")


def _acl_tuples(acl: Optional[Sequence[ACL]]) -> Optional[List[Tuple[int, str, str]]]:
    if acl is None:
        return None
    return [(int(a.perms), a.id.scheme, a.id.id) for a in acl]


def _create_acl(acl: Optional[Sequence[ACL]], default: Optional[Sequence[ACL]]) -> List[Tuple[int, str, str]]:
    """The ACL of a new node: the given one, else the client's default, else the open ACL."""
    chosen = _acl_tuples(acl if acl is not None else default)
    return chosen if chosen is not None else _corral.OPEN_ACL_UNSAFE


def _acls(raw: Iterable[Tuple[int, str, str]]) -> List[ACL]:
    return [ACL(perms, Id(scheme, id_)) for perms, scheme, id_ in raw]


def _create_mode(ephemeral: bool, sequence: bool, container: bool, ttl: Optional[float]) -> int:
    """ZooKeeper's CreateMode number for kazoo-style flags."""
    if container:
        if ephemeral or sequence or ttl is not None:
            raise ValueError("a container node cannot be ephemeral, sequential or have a TTL")
        return 4
    if ttl is not None:
        if ephemeral:
            raise ValueError("a TTL node cannot be ephemeral")
        return 6 if sequence else 5
    return (1 if ephemeral else 0) + (2 if sequence else 0)


def _ttl_ms(ttl: Optional[float]) -> Optional[int]:
    if ttl is None:
        return None
    if ttl <= 0:
        raise ValueError("ttl must be positive (seconds)")
    return int(round(ttl * 1000))


def _event(raw: Tuple[str, str, str, int]) -> WatchedEvent:
    t, s, path, zxid = raw
    return WatchedEvent(EventType(t), KeeperState(s), path, zxid)


def _op_results(raw: List[tuple]) -> List[Any]:
    """Tagged native results as kazoo's transaction results."""
    out: List[Any] = []
    for r in raw:
        tag = r[0]
        if tag == "create":
            out.append(r[1])
        elif tag in ("delete", "check"):
            out.append(True)
        elif tag == "set_data":
            out.append(ZnodeStat(*r[1]))
        elif tag == "get_data":
            out.append((r[1], ZnodeStat(*r[2])))
        elif tag == "get_children":
            out.append(r[1])
        else:  # "error": the exception object
            out.append(r[1])
    return out


class _Dispatcher:
    """The dispatch thread of one client: calls watch callbacks and listeners."""

    def __init__(self, native: _corral.Client, client: "Client") -> None:
        self.native = native
        self.make_event = client._make_event
        self.on_state = client._on_state
        self.stopping = False
        self.thread = threading.Thread(target=self.run, name="corral-dispatch", daemon=True)

    def run(self) -> None:
        while True:
            item = self.native.next_event(_DISPATCH_POLL_S)
            if item is None:
                if self.stopping:
                    return
                continue
            kind = item[0]
            if kind == "closed":
                return
            try:
                if kind == "watch":
                    item[1](self.make_event(item[2]))
                else:
                    self.on_state(State(item[1]))
            except Exception:
                log.exception("corral: a watch callback or listener raised")


_live_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()


def _stop_live_clients() -> None:
    # At interpreter exit, before daemon threads are frozen: close sessions and
    # let dispatch threads end, so no thread is left inside native code.
    for client in list(_live_clients):
        try:
            client.stop()
        except Exception:
            pass


try:
    threading._register_atexit(_stop_live_clients)  # type: ignore[attr-defined]
except Exception:  # pragma: no cover - interpreter already shutting down or no such hook
    atexit.register(_stop_live_clients)


class Client:
    """A ZooKeeper client (kazoo's ``KazooClient`` shape).

    ``hosts`` is a connect string ``host:port,host:port/chroot``; ``timeout``
    the session timeout in seconds (the server clamps it). Call
    :meth:`start` to connect and :meth:`stop` to close the session.

    ``auth_data`` is a list of ``(scheme, credential)`` pairs sent on every
    connection; ``default_acl`` the ACL of nodes created without one;
    ``read_only`` lets the client use read-only servers;
    ``randomize_hosts=False`` tries the servers in the order given rather than
    shuffled.
    """

    def __init__(
        self,
        hosts: str = "127.0.0.1:2181",
        timeout: float = 10.0,
        *,
        auth_data: Optional[Sequence[Tuple[str, Union[str, bytes]]]] = None,
        default_acl: Optional[Sequence[ACL]] = None,
        read_only: bool = False,
        randomize_hosts: bool = True,
    ) -> None:
        self.randomize_hosts = randomize_hosts
        self.hosts = hosts
        self.timeout = float(timeout)
        self.auth_data: List[Tuple[str, bytes]] = [
            (scheme, cred.encode() if isinstance(cred, str) else bytes(cred)) for scheme, cred in (auth_data or [])
        ]
        self.default_acl: Optional[List[ACL]] = list(default_acl) if default_acl is not None else None
        self.read_only = read_only
        self._native: Optional[_corral.Client] = None
        self._dispatcher: Optional[_Dispatcher] = None
        self._listeners: List[ListenerFunc] = []
        self._lock = threading.Lock()
        # A (session id, password) to resume at the next start instead of a new session.
        self._resume: Optional[Tuple[int, bytes]] = None

    # ---- lifecycle ---------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Connects and waits until a session is established (at most ``timeout`` seconds).

        Raises :class:`ConnectionLoss` when no server answered in time.
        """
        with self._lock:
            if self._native is not None:
                return
            native = _corral.Client.connect(
                self._connect_string(), self.timeout, float(timeout), self.auth_data, self.read_only, self._resume,
                self.randomize_hosts,
            )
            self._native = native
            self._dispatcher = _Dispatcher(native, self)
            self._dispatcher.thread.start()
            _live_clients.add(self)

    def stop(self) -> None:
        """Closes the session (its ephemerals go) and ends the dispatch thread.

        Listeners hear CLOSED; pending watches end with a CLOSED event. Safe to
        call twice, and from a callback.
        """
        with self._lock:
            native, dispatcher = self._native, self._dispatcher
            self._native = None
            self._dispatcher = None
        _live_clients.discard(self)
        if native is None:
            return
        native.close()
        if dispatcher is not None:
            dispatcher.stopping = True
            if threading.current_thread() is not dispatcher.thread:
                dispatcher.thread.join()

    def close(self) -> None:
        """Frees the client; stops it first if needed (kazoo calls this after ``stop``)."""
        self.stop()

    def restart(self) -> None:
        """Stops and starts again, with a new session."""
        self.stop()
        self.start()

    def __enter__(self) -> "Client":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _connect_string(self) -> str:
        return self.hosts

    def _make_event(self, raw: Tuple[str, str, str, int]) -> Any:
        """A native watch event as this client's event type."""
        return _event(raw)

    def _opt_event(self, raw: Optional[Tuple[str, str, str, int]]) -> Any:
        return self._make_event(raw) if raw is not None else None

    def _on_state(self, state: State) -> None:
        """Called on the dispatch thread at every state change: runs the listeners."""
        for listener in list(self._listeners):
            try:
                if listener(state) is True:
                    self._listeners.remove(listener)
            except Exception:
                log.exception("corral: a state listener raised")

    @property
    def _c(self) -> _corral.Client:
        native = self._native
        if native is None:
            raise ZookeeperStoppedError("the client is not started")
        return native

    # ---- state -------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The connection state (CLOSED before :meth:`start` and after :meth:`stop`)."""
        native = self._native
        return State(native.state()) if native is not None else State.CLOSED

    @property
    def connected(self) -> bool:
        """Whether the client has a live connection."""
        return self.state in _CONNECTED_STATES

    @property
    def session_id(self) -> int:
        """The current session id (0 while there is none)."""
        native = self._native
        return native.session_id if native is not None else 0

    @property
    def session_timeout(self) -> float:
        """The session timeout the server granted, in seconds."""
        return self._c.session_timeout

    @property
    def last_zxid(self) -> int:
        """The highest zxid seen in any reply."""
        return self._c.last_zxid

    def add_listener(self, listener: ListenerFunc) -> None:
        """Calls ``listener(state)`` on the dispatch thread at every state change after :meth:`start`.

        A listener that returns True is removed.
        """
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: ListenerFunc) -> None:
        """Stops calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # ---- nodes -------------------------------------------------------------------

    def create(
        self,
        path: str,
        value: bytes = b"",
        acl: Optional[Sequence[ACL]] = None,
        ephemeral: bool = False,
        sequence: bool = False,
        makepath: bool = False,
        include_data: bool = False,
        container: bool = False,
        ttl: Optional[float] = None,
    ) -> Any:
        """Creates a node; returns its path (with the sequence suffix), or
        ``(path, ZnodeStat)`` with ``include_data``.

        ``ttl`` (seconds) makes a TTL node: deleted once it has had no
        children and no change for that long. ``makepath`` creates missing
        parents (as persistent nodes with the open ACL).
        """
        data = _data(value)
        mode = _create_mode(ephemeral, sequence, container, ttl)
        acls = _create_acl(acl, self.default_acl)
        ttl_ms = _ttl_ms(ttl)
        try:
            created, stat = self._c.create(path, data, acls, mode, ttl_ms)
        except NoNodeError:
            parent = path.rsplit("/", 1)[0]
            if not makepath or not parent:
                raise
            self._c.ensure_path(parent)
            created, stat = self._c.create(path, data, acls, mode, ttl_ms)
        return (created, ZnodeStat(*stat)) if include_data else created

    def ensure_path(self, path: str) -> bool:
        """Creates ``path`` and any missing parents (mkdir -p). Returns True."""
        self._c.ensure_path(path)
        return True

    def exists(self, path: str, watch: Optional[WatchFunc] = None) -> Optional[ZnodeStat]:
        """The node's :class:`ZnodeStat`, or None when it does not exist.

        ``watch`` is called once when the node is created, changed or deleted.
        """
        stat = self._c.exists(path, watch)
        return ZnodeStat(*stat) if stat is not None else None

    def get(self, path: str, watch: Optional[WatchFunc] = None) -> Tuple[Optional[bytes], ZnodeStat]:
        """The node's data (None when it is null) and :class:`ZnodeStat`.

        ``watch`` is called once at the node's next data change or deletion.
        """
        data, stat = self._c.get_data(path, watch)
        return data, ZnodeStat(*stat)

    def get_children(
        self, path: str, watch: Optional[WatchFunc] = None, include_data: bool = False
    ) -> Any:
        """The names of the node's children (unordered); ``(names, ZnodeStat)`` with ``include_data``.

        ``watch`` is called once at the next child create/delete or the node's deletion.
        """
        names, stat = self._c.get_children(path, watch)
        return (names, ZnodeStat(*stat)) if include_data else names

    def set(self, path: str, value: Optional[bytes], version: int = -1) -> ZnodeStat:
        """Sets the node's data if its version is ``version`` (-1: any); None
        sets null data. Returns the new stat."""
        return ZnodeStat(*self._c.set_data(path, _data(value), version))

    def delete(self, path: str, version: int = -1, recursive: bool = False) -> bool:
        """Deletes the node if its version is ``version`` (-1: any).

        ``recursive`` deletes everything below it first (children first, the
        version is not checked). Returns True.
        """
        if recursive:
            self._c.delete_recursive(path)
        else:
            self._c.delete(path, version)
        return True

    def get_acls(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        """The node's ACL and :class:`ZnodeStat`."""
        acl, stat = self._c.get_acl(path)
        return _acls(acl), ZnodeStat(*stat)

    def set_acls(self, path: str, acls: Sequence[ACL], version: int = -1) -> ZnodeStat:
        """Sets the node's ACL if its ACL version is ``version`` (-1: any)."""
        return ZnodeStat(*self._c.set_acl(path, _acl_tuples(acls), version))

    def get_all_children_number(self, path: str) -> int:
        """The number of nodes below ``path`` (ZooKeeper 3.6+)."""
        return self._c.get_all_children_number(path)

    def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """This session's ephemeral nodes under ``prefix`` (server paths; ZooKeeper 3.6+)."""
        return self._c.get_ephemerals(prefix)

    def sync(self, path: str) -> str:
        """Waits until the connected server has caught up with the leader. Returns ``path``."""
        self._c.sync(path)
        return path

    # ---- auth --------------------------------------------------------------------

    def add_auth(self, scheme: str, credential: Union[str, bytes]) -> bool:
        """Adds an identity (e.g. ``"digest", "user:password"``) to the session, now and after reconnects.

        Raises :class:`AuthFailedError` when the server refuses it.
        """
        cred = credential.encode() if isinstance(credential, str) else bytes(credential)
        self._c.add_auth(scheme, cred)
        return True

    def who_am_i(self) -> List[Tuple[str, str]]:
        """The identities of this connection as ``(scheme, user)`` pairs (ZooKeeper 3.7+)."""
        return self._c.who_am_i()

    # ---- watches -----------------------------------------------------------------

    def add_watch(self, path: str, callback: WatchFunc, recursive: bool = False) -> None:
        """A persistent watch (ZooKeeper 3.6+): ``callback(event)`` for every change of
        ``path`` (with ``recursive``: of any node below it, child events excepted),
        until :meth:`remove_watches`, session expiry or :meth:`stop`.
        """
        self._c.add_watch(path, recursive, callback)

    def remove_watches(self, path: str, watcher_type: WatcherType = WatcherType.ANY) -> None:
        """Removes this client's watches of ``watcher_type`` on ``path``.

        Raises :class:`NoWatcherError` when there were none.
        """
        self._c.remove_watches(path, WatcherType(watcher_type).value)

    def DataWatch(self, path: str, func: Optional[Callable[..., Any]] = None, **kwargs: Any) -> "DataWatch":
        """kazoo's DataWatch on this client: ``@zk.DataWatch("/path")``."""
        return DataWatch(self, path, func, **kwargs)

    def ChildrenWatch(self, path: str, func: Optional[Callable[..., Any]] = None, **kwargs: Any) -> "ChildrenWatch":
        """kazoo's ChildrenWatch on this client: ``@zk.ChildrenWatch("/path")``."""
        return ChildrenWatch(self, path, func, **kwargs)

    # ---- recipes (corral.recipes; kazoo's factory names and arguments) -------------

    def Lock(
        self,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> "recipes.Lock":
        """A distributed lock on ``path`` (kazoo's naming): see :class:`corral.recipes.Lock`."""
        return recipes.Lock(self, path, identifier, extra_lock_patterns, layout=layout)

    def ReadLock(
        self,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> "recipes.ReadLock":
        """The shared side of a read-write lock: see :class:`corral.recipes.ReadLock`."""
        return recipes.ReadLock(self, path, identifier, extra_lock_patterns, layout=layout)

    def WriteLock(
        self,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> "recipes.WriteLock":
        """The exclusive side of a read-write lock: see :class:`corral.recipes.WriteLock`."""
        return recipes.WriteLock(self, path, identifier, extra_lock_patterns, layout=layout)

    def Semaphore(
        self, path: str, identifier: Optional[str] = None, max_leases: int = 1, *, layout: str = "kazoo"
    ) -> "recipes.Semaphore":
        """A counting semaphore: see :class:`corral.recipes.Semaphore`."""
        return recipes.Semaphore(self, path, identifier, max_leases, layout=layout)

    def Counter(self, path: str, default: int = 0, support_curator: bool = False) -> "recipes.Counter":
        """kazoo's integer Counter: see :class:`corral.recipes.Counter`."""
        return recipes.Counter(self, path, default, support_curator)

    def NonBlockingLease(
        self,
        path: str,
        duration: datetime.timedelta,
        identifier: Optional[str] = None,
        utcnow: Optional[Callable[[], Any]] = None,
    ) -> "recipes.NonBlockingLease":
        """kazoo's lease, obtained at once or not: see :class:`corral.recipes.NonBlockingLease`."""
        if utcnow is None:
            return recipes.NonBlockingLease(self, path, duration, identifier)
        return recipes.NonBlockingLease(self, path, duration, identifier, utcnow)

    def MultiNonBlockingLease(
        self,
        count: int,
        path: str,
        duration: datetime.timedelta,
        identifier: Optional[str] = None,
        utcnow: Optional[Callable[[], Any]] = None,
    ) -> "recipes.MultiNonBlockingLease":
        """One of ``count`` leases: see :class:`corral.recipes.MultiNonBlockingLease`."""
        if utcnow is None:
            return recipes.MultiNonBlockingLease(self, count, path, duration, identifier)
        return recipes.MultiNonBlockingLease(self, count, path, duration, identifier, utcnow)

    def Barrier(self, path: str) -> "recipes.Barrier":
        """A barrier: see :class:`corral.recipes.Barrier`."""
        return recipes.Barrier(self, path)

    def DoubleBarrier(
        self, path: str, num_clients: int, identifier: Optional[str] = None
    ) -> "recipes.DoubleBarrier":
        """A double barrier: see :class:`corral.recipes.DoubleBarrier`."""
        return recipes.DoubleBarrier(self, path, num_clients, identifier)

    def Queue(self, path: str) -> "recipes.Queue":
        """A FIFO queue with priorities: see :class:`corral.recipes.Queue`."""
        return recipes.Queue(self, path)

    def LockingQueue(self, path: str) -> "recipes.LockingQueue":
        """A queue whose items stay locked until consumed: see :class:`corral.recipes.LockingQueue`."""
        return recipes.LockingQueue(self, path)

    def Election(self, path: str, identifier: Optional[str] = None, *, layout: str = "kazoo") -> "recipes.Election":
        """A leader election: see :class:`corral.recipes.Election`."""
        return recipes.Election(self, path, identifier, layout=layout)

    def LeaderLatch(self, path: str, identifier: str = "") -> "recipes.LeaderLatch":
        """A leader latch: see :class:`corral.recipes.LeaderLatch`."""
        return recipes.LeaderLatch(self, path, identifier)

    def Party(self, path: str, identifier: Optional[str] = None) -> "recipes.Party":
        """Group membership: see :class:`corral.recipes.Party`."""
        return recipes.Party(self, path, identifier)

    def ShallowParty(self, path: str, identifier: Optional[str] = None) -> "recipes.ShallowParty":
        """Group membership, identifiers in node names: see :class:`corral.recipes.ShallowParty`."""
        return recipes.ShallowParty(self, path, identifier)

    def TreeCache(self, path: str) -> "recipes.TreeCache":
        """A live mirror of the subtree at ``path``: see :class:`corral.recipes.TreeCache`."""
        return recipes.TreeCache(self, path)

    def ServiceDiscovery(self, base_path: str) -> "recipes.ServiceDiscovery":
        """A service registry under ``base_path``: see :class:`corral.recipes.ServiceDiscovery`."""
        return recipes.ServiceDiscovery(self, base_path)

    def SetPartitioner(
        self,
        path: str,
        set: Iterable[Any],
        partition_func: Optional[Callable[..., Any]] = None,
        identifier: Optional[str] = None,
        time_boundary: float = 30,
        max_reaction_time: float = 1,
        state_change_event: Optional[threading.Event] = None,
    ) -> "recipes.SetPartitioner":
        """A share of ``set`` among a party's members: see :class:`corral.recipes.SetPartitioner`."""
        return recipes.SetPartitioner(
            self, path, set, partition_func, identifier, time_boundary, max_reaction_time, state_change_event
        )

    # ---- transactions and batch reads ---------------------------------------------

    def transaction(self) -> "TransactionRequest":
        """A transaction: sub-ops applied atomically, all or none."""
        return TransactionRequest(self)

    def multi_read(self, get_data: Sequence[str] = (), get_children: Sequence[str] = ()) -> List[Any]:
        """Reads several nodes in one request (ZooKeeper 3.6+); each result is independent:
        ``(bytes, ZnodeStat)`` per data path, then a list of names per children path,
        or the exception for a path that failed.
        """
        return _op_results(self._c.multi_read(list(get_data), list(get_children)))

    # ---- server ------------------------------------------------------------------

    def command(self, cmd: bytes = b"ruok") -> str:
        """Sends a four-letter word to the first server of the connect string that answers."""
        last: Optional[Exception] = None
        for host, port in _hosts(self._connect_string()):
            try:
                with socket.create_connection((host, port), timeout=self.timeout) as s:
                    s.sendall(cmd)
                    chunks = []
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        chunks.append(chunk)
                return b"".join(chunks).decode("utf-8", "replace")
            except OSError as e:
                last = e
        raise ConnectionLoss(f"no server answered {cmd!r}: {last}")

    def server_version(self) -> Tuple[int, ...]:
        """The server's ZooKeeper version as a tuple of ints, from ``srvr``
        (corral reports the ZooKeeper version it follows, e.g. (3, 9, 3))."""
        answer = self.command(b"srvr")
        m = re.search(r"version: (\d+)\.(\d+)\.(\d+)", answer, re.IGNORECASE)
        if not m:
            raise ConnectionLoss(f"cannot read a version from srvr: {answer[:80]!r}")
        return tuple(int(x) for x in m.groups())

    def __repr__(self) -> str:
        return f"<corral.Client {self.hosts} {self.state.value} session=0x{self.session_id:x}>"


def _hosts(connect_string: str) -> List[Tuple[str, int]]:
    out = []
    for h in connect_string.split("/", 1)[0].split(","):
        h = h.strip()
        if not h:
            continue
        if h.startswith("["):
            host, _, port = h[1:].partition("]:")
        else:
            host, sep, port = h.rpartition(":")
            if not sep:
                host, port = h, ""
        out.append((host, int(port or 2181)))
    return out


class TransactionRequest:
    """Sub-ops for one atomic transaction (kazoo's shape).

    ``commit()`` raises the first failing sub-op's exception (nothing was
    applied) and otherwise returns one result per sub-op: the created path,
    True for delete and check, the new :class:`ZnodeStat` for set_data.
    ``commit_results()`` is kazoo's ``commit``: failures come back in the
    list as exception objects (:class:`RolledBackError` before the failing
    one, :class:`RuntimeInconsistency` after it). As a context manager, it
    commits on a clean exit.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self.operations: List[tuple] = []
        self.committed = False

    def create(
        self,
        path: str,
        value: bytes = b"",
        acl: Optional[Sequence[ACL]] = None,
        ephemeral: bool = False,
        sequence: bool = False,
        container: bool = False,
        ttl: Optional[float] = None,
    ) -> None:
        """Adds a create."""
        acls = _create_acl(acl, self.client.default_acl)
        mode = _create_mode(ephemeral, sequence, container, ttl)
        self.operations.append(("create", path, _data(value), acls, mode, _ttl_ms(ttl)))

    def delete(self, path: str, version: int = -1) -> None:
        """Adds a delete."""
        self.operations.append(("delete", path, version))

    def set_data(self, path: str, value: bytes, version: int = -1) -> None:
        """Adds a set_data."""
        self.operations.append(("set_data", path, _data(value), version))

    def check(self, path: str, version: int) -> None:
        """Adds a check that the node's version is ``version`` (-1: that it exists)."""
        self.operations.append(("check", path, version))

    def _take(self) -> List[tuple]:
        if self.committed:
            raise ValueError("transaction already committed")
        self.committed = True
        return self.operations

    def commit(self) -> List[Any]:
        """Applies the sub-ops atomically; raises the first failure."""
        return _op_results(self.client._c.multi(self._take(), True))

    def commit_results(self) -> List[Any]:
        """Applies the sub-ops atomically; failures are returned in the list, not raised."""
        return _op_results(self.client._c.multi(self._take(), False))

    def __enter__(self) -> "TransactionRequest":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()


def _takes_event(func: Callable[..., Any]) -> bool:
    """Whether a DataWatch function takes the event too (kazoo looks at its arity)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params)


def _opt_stat(raw: Optional[tuple]) -> Optional[ZnodeStat]:
    return ZnodeStat(*raw) if raw is not None else None


class DataWatch:
    """Calls ``func(data, stat)`` now and after every change of the node (kazoo's DataWatch).

    ``data`` and ``stat`` are None while the node does not exist. A function
    taking three arguments also gets the :class:`WatchedEvent` (None for the
    first call). Returning False stops the watch. The watch survives
    reconnects and session expiry. Usable as a decorator, once (a second
    function raises :class:`corral.CorralError`, kazoo's ``KazooException``)::

        @zk.DataWatch("/config")
        def changed(data, stat):
            ...

    The watch is core's (``corral::recipes::watchers``); the function runs
    one call at a time, in order, on a thread of its own: it may call the client.
    """

    def __init__(self, client: Client, path: str, func: Optional[Callable[..., Any]] = None) -> None:
        self._client = client
        self._path = path
        self._func: Optional[Callable[..., Any]] = None
        self._native: Optional[_corral.DataWatch] = None
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if self._func is not None:
            raise CorralError(f"A function has already been associated with this {type(self).__name__} instance.")
        make_event = self._client._opt_event
        if _takes_event(func):

            def call(data: Optional[bytes], stat: Optional[tuple], event: Optional[tuple]) -> Any:
                return func(data, _opt_stat(stat), make_event(event))

        else:

            def call(data: Optional[bytes], stat: Optional[tuple], event: Optional[tuple]) -> Any:
                return func(data, _opt_stat(stat))

        self._func = func
        self._native = _corral.DataWatch(self._client._c, self._path, call)
        self._native.start()
        return func


class ChildrenWatch:
    """Calls ``func(children)`` now and after every child change (kazoo's ChildrenWatch).

    With ``send_event=True`` it is ``func(children, event)``. Returning False
    stops the watch, as does the node's deletion (a missing node: no call).
    The watch survives reconnects, and session expiry unless
    ``allow_session_lost`` is False.
    """

    def __init__(
        self,
        client: Client,
        path: str,
        func: Optional[Callable[..., Any]] = None,
        allow_session_lost: bool = True,
        send_event: bool = False,
    ) -> None:
        self._client = client
        self._path = path
        self._send_event = send_event
        self._allow_session_lost = allow_session_lost
        self._func: Optional[Callable[..., Any]] = None
        self._native: Optional[_corral.ChildrenWatch] = None
        if func is not None:
            self(func)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if self._func is not None:
            raise CorralError(f"A function has already been associated with this {type(self).__name__} instance.")
        make_event = self._client._opt_event
        if self._send_event:

            def call(children: List[str], event: Optional[tuple]) -> Any:
                return func(children, make_event(event))

        else:

            def call(children: List[str], event: Optional[tuple]) -> Any:
                return func(children)

        self._func = func
        self._native = _corral.ChildrenWatch(self._client._c, self._path, call, self._allow_session_lost)
        self._native.start()
        return func
