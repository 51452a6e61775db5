"""The asyncio client: the same operations as :class:`corral.Client`, as coroutines.

Calls never block the event loop: each one is a future completed by corral's
runtime. Watches are awaitables (one-shot) and async iterators (persistent
watches, state changes)::

    async with corral.aio.Client(hosts) as zk:
        data, stat, watch = await zk.get_w("/config")
        event = await watch
        async for event in await zk.add_watch("/app", recursive=True):
            ...
        async with zk.Lock("/locks/report"):
            ...

Recipes: ``zk.Lock``, ``ReadLock``, ``WriteLock``, ``Semaphore``, ``Counter``,
``Barrier``, ``DoubleBarrier``, ``Queue``, ``LockingQueue``, ``Election``,
``LeaderLatch``, ``Party`` and ``ShallowParty`` give the classes below: the
recipes of :mod:`corral.recipes` (corral's Rust recipes), every call that
talks to the server a coroutine.
"""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Callable, Generator, List, Optional, Sequence, Tuple, Union

from corral import _corral
from corral.client import _acl_tuples, _acls, _create_acl, _create_mode, _data, _event, _op_results, _ttl_ms
from corral.recipes import (
    DEFAULT_PRIORITY,
    _acquired,
    _check_priority,
    _check_value,
    _check_values,
    _host_identifier,
    _identifier,
)
from corral.exceptions import NoNodeError, ZookeeperStoppedError
from corral.security import ACL
from corral.states import State, WatchedEvent, WatcherType, ZnodeStat

__all__ = [
    "Barrier",
    "Client",
    "Counter",
    "DoubleBarrier",
    "Election",
    "LeaderLatch",
    "Lock",
    "LockingQueue",
    "Party",
    "Queue",
    "ReadLock",
    "Semaphore",
    "ShallowParty",
    "StateStream",
    "Transaction",
    "Watch",
    "WatchStream",
    "WriteLock",
]

_CONNECTED_STATES = (State.CONNECTED, State.RECONNECTED, State.READ_ONLY)


class Watch:
    """A one-shot watch: ``await watch`` gives the :class:`WatchedEvent` that fired it
    (a NONE event with state EXPIRED_SESSION or CLOSED if the session ends first)."""

    def __init__(self, native: _corral.Watch) -> None:
        self._native = native

    def __await__(self) -> Generator[Any, None, WatchedEvent]:
        raw = yield from self._native.wait().__await__()
        return _event(raw)


class WatchStream:
    """A persistent watch's events, as an async iterator that ends when the watch
    is removed, the session expires (after a final EXPIRED_SESSION event) or the
    client stops."""

    def __init__(self, native: _corral.WatchStream) -> None:
        self._native = native

    def __aiter__(self) -> "WatchStream":
        return self

    async def __anext__(self) -> WatchedEvent:
        return _event(await self._native.next())


class StateStream:
    """Connection-state changes as an async iterator; it ends after CLOSED."""

    def __init__(self, native: _corral.StateStream) -> None:
        self._native = native
        self._done = False

    def __aiter__(self) -> "StateStream":
        return self

    async def __anext__(self) -> State:
        if self._done:
            raise StopAsyncIteration
        state = State(await self._native.next())
        if state == State.CLOSED:
            self._done = True
        return state


class Client:
    """An asyncio ZooKeeper client; arguments as :class:`corral.Client`.

    ``await start()`` connects, ``await stop()`` closes the session; or use
    ``async with``.
    """

    def __init__(
        self,
        hosts: str = "127.0.0.1:2181",
        timeout: float = 10.0,
        *,
        auth_data: Optional[Sequence[Tuple[str, Union[str, bytes]]]] = None,
        default_acl: Optional[Sequence[ACL]] = None,
        read_only: bool = False,
    ) -> None:
        self.hosts = hosts
        self.timeout = float(timeout)
        self.auth_data: List[Tuple[str, bytes]] = [
            (scheme, cred.encode() if isinstance(cred, str) else bytes(cred)) for scheme, cred in (auth_data or [])
        ]
        self.default_acl: Optional[List[ACL]] = list(default_acl) if default_acl is not None else None
        self.read_only = read_only
        self._native: Optional[_corral.AsyncClient] = None

    async def start(self, timeout: float = 15.0) -> None:
        """Connects and waits until a session is established (at most ``timeout`` seconds)."""
        if self._native is None:
            self._native = await _corral.AsyncClient.connect(
                self.hosts, self.timeout, float(timeout), self.auth_data, self.read_only
            )

    async def stop(self) -> None:
        """Closes the session; pending watches end with a CLOSED event."""
        native, self._native = self._native, None
        if native is not None:
            await native.close()

    async def close(self) -> None:
        """Same as :meth:`stop`."""
        await self.stop()

    async def __aenter__(self) -> "Client":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def _c(self) -> _corral.AsyncClient:
        native = self._native
        if native is None:
            raise ZookeeperStoppedError("the client is not started")
        return native

    @property
    def state(self) -> State:
        """The connection state (CLOSED when not started)."""
        return State(self._native.state()) if self._native is not None else State.CLOSED

    @property
    def connected(self) -> bool:
        """Whether the client has a live connection."""
        return self.state in _CONNECTED_STATES

    @property
    def session_id(self) -> int:
        """The current session id (0 while there is none)."""
        return self._native.session_id if self._native is not None else 0

    @property
    def session_timeout(self) -> float:
        """The session timeout the server granted, in seconds."""
        return self._c.session_timeout

    def state_changes(self) -> StateStream:
        """Every state change from now on, as an async iterator."""
        return StateStream(self._c.state_changes())

    async def create(
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
        """As :meth:`corral.Client.create`."""
        data = _data(value)
        mode = _create_mode(ephemeral, sequence, container, ttl)
        acls = _create_acl(acl, self.default_acl)
        ttl_ms = _ttl_ms(ttl)
        try:
            created, stat = await self._c.create(path, data, acls, mode, ttl_ms)
        except NoNodeError:
            parent = path.rsplit("/", 1)[0]
            if not makepath or not parent:
                raise
            await self._c.ensure_path(parent)
            created, stat = await self._c.create(path, data, acls, mode, ttl_ms)
        return (created, ZnodeStat(*stat)) if include_data else created

    async def ensure_path(self, path: str) -> bool:
        """Creates ``path`` and any missing parents. Returns True."""
        await self._c.ensure_path(path)
        return True

    async def exists(self, path: str) -> Optional[ZnodeStat]:
        """The node's stat, or None."""
        stat = await self._c.exists(path)
        return ZnodeStat(*stat) if stat is not None else None

    async def exists_w(self, path: str) -> Tuple[Optional[ZnodeStat], Watch]:
        """The node's stat (or None) and a watch for its creation, change or deletion."""
        stat, w = await self._c.exists_w(path)
        return (ZnodeStat(*stat) if stat is not None else None), Watch(w)

    async def get(self, path: str) -> Tuple[Optional[bytes], ZnodeStat]:
        """The node's data (None when null) and stat."""
        data, stat = await self._c.get_data(path)
        return data, ZnodeStat(*stat)

    async def get_w(self, path: str) -> Tuple[Optional[bytes], ZnodeStat, Watch]:
        """The node's data (None when null) and stat, and a watch for its next change or deletion."""
        data, stat, w = await self._c.get_data_w(path)
        return data, ZnodeStat(*stat), Watch(w)

    async def get_children(self, path: str, include_data: bool = False) -> Any:
        """The children's names; ``(names, ZnodeStat)`` with ``include_data``."""
        names, stat = await self._c.get_children(path)
        return (names, ZnodeStat(*stat)) if include_data else names

    async def get_children_w(self, path: str) -> Tuple[List[str], ZnodeStat, Watch]:
        """The children, the node's stat, and a watch for the next child change or deletion."""
        names, stat, w = await self._c.get_children_w(path)
        return names, ZnodeStat(*stat), Watch(w)

    async def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
        """Sets the node's data (``version`` -1: any)."""
        return ZnodeStat(*await self._c.set_data(path, _data(value), version))

    async def delete(self, path: str, version: int = -1, recursive: bool = False) -> bool:
        """Deletes the node (``recursive``: and everything below it). Returns True."""
        if recursive:
            await self._c.delete_recursive(path)
        else:
            await self._c.delete(path, version)
        return True

    async def get_acls(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        """The node's ACL and stat."""
        acl, stat = await self._c.get_acl(path)
        return _acls(acl), ZnodeStat(*stat)

    async def set_acls(self, path: str, acls: Sequence[ACL], version: int = -1) -> ZnodeStat:
        """Sets the node's ACL."""
        return ZnodeStat(*await self._c.set_acl(path, _acl_tuples(acls), version))

    async def get_all_children_number(self, path: str) -> int:
        """The number of nodes below ``path``."""
        return await self._c.get_all_children_number(path)

    async def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """This session's ephemeral nodes under ``prefix``."""
        return await self._c.get_ephemerals(prefix)

    async def sync(self, path: str) -> str:
        """Waits until the connected server has caught up with the leader."""
        await self._c.sync(path)
        return path

    async def add_auth(self, scheme: str, credential: Union[str, bytes]) -> bool:
        """Adds an identity to the session."""
        cred = credential.encode() if isinstance(credential, str) else bytes(credential)
        await self._c.add_auth(scheme, cred)
        return True

    async def who_am_i(self) -> List[Tuple[str, str]]:
        """The identities of this connection."""
        return await self._c.who_am_i()

    async def add_watch(self, path: str, recursive: bool = False) -> WatchStream:
        """A persistent (or recursive) watch, as an async iterator of events."""
        return WatchStream(await self._c.add_watch(path, recursive))

    async def remove_watches(self, path: str, watcher_type: WatcherType = WatcherType.ANY) -> None:
        """Removes this client's watches of ``watcher_type`` on ``path``."""
        await self._c.remove_watches(path, WatcherType(watcher_type).value)

    def transaction(self) -> "Transaction":
        """A transaction (``await t.commit()``, or ``async with``)."""
        return Transaction(self)

    async def multi_read(self, get_data: Sequence[str] = (), get_children: Sequence[str] = ()) -> List[Any]:
        """As :meth:`corral.Client.multi_read`."""
        return _op_results(await self._c.multi_read(list(get_data), list(get_children)))

    # ---- recipes (the classes below; kazoo's factory names and arguments) ----------

    def Lock(
        self,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> "Lock":
        """A distributed lock: see :class:`Lock`."""
        return Lock(self, path, identifier, extra_lock_patterns, layout=layout)

    def ReadLock(
        self,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> "ReadLock":
        """The shared side of a read-write lock: see :class:`ReadLock`."""
        return ReadLock(self, path, identifier, extra_lock_patterns, layout=layout)

    def WriteLock(
        self,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> "WriteLock":
        """The exclusive side of a read-write lock: see :class:`WriteLock`."""
        return WriteLock(self, path, identifier, extra_lock_patterns, layout=layout)

    def Semaphore(
        self, path: str, identifier: Optional[str] = None, max_leases: int = 1, *, layout: str = "kazoo"
    ) -> "Semaphore":
        """A counting semaphore: see :class:`Semaphore`."""
        return Semaphore(self, path, identifier, max_leases, layout=layout)

    def Counter(self, path: str, default: int = 0, support_curator: bool = False) -> "Counter":
        """kazoo's integer Counter: see :class:`Counter`."""
        return Counter(self, path, default, support_curator)

    def Barrier(self, path: str) -> "Barrier":
        """A barrier: see :class:`Barrier`."""
        return Barrier(self, path)

    def DoubleBarrier(self, path: str, num_clients: int, identifier: Optional[str] = None) -> "DoubleBarrier":
        """A double barrier: see :class:`DoubleBarrier`."""
        return DoubleBarrier(self, path, num_clients, identifier)

    def Queue(self, path: str) -> "Queue":
        """A FIFO queue with priorities: see :class:`Queue`."""
        return Queue(self, path)

    def LockingQueue(self, path: str) -> "LockingQueue":
        """A queue whose items stay locked until consumed: see :class:`LockingQueue`."""
        return LockingQueue(self, path)

    def Election(self, path: str, identifier: Optional[str] = None, *, layout: str = "kazoo") -> "Election":
        """A leader election: see :class:`Election`."""
        return Election(self, path, identifier, layout=layout)

    def LeaderLatch(self, path: str, identifier: str = "") -> "LeaderLatch":
        """A leader latch: see :class:`LeaderLatch`."""
        return LeaderLatch(self, path, identifier)

    def Party(self, path: str, identifier: Optional[str] = None) -> "Party":
        """Group membership: see :class:`Party`."""
        return Party(self, path, identifier)

    def ShallowParty(self, path: str, identifier: Optional[str] = None) -> "ShallowParty":
        """Group membership, identifiers in node names: see :class:`ShallowParty`."""
        return ShallowParty(self, path, identifier)

    def __repr__(self) -> str:
        return f"<corral.aio.Client {self.hosts} {self.state.value}>"


class Transaction:
    """Sub-ops for one atomic transaction; as :class:`corral.TransactionRequest`."""

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
        """Adds a version check."""
        self.operations.append(("check", path, version))

    def _take(self) -> List[tuple]:
        if self.committed:
            raise ValueError("transaction already committed")
        self.committed = True
        return self.operations

    async def commit(self) -> List[Any]:
        """Applies the sub-ops atomically; raises the first failure."""
        return _op_results(await self.client._c.multi(self._take(), True))

    async def commit_results(self) -> List[Any]:
        """Applies the sub-ops atomically; failures are returned in the list."""
        return _op_results(await self.client._c.multi(self._take(), False))

    async def __aenter__(self) -> "Transaction":
        return self

    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            await self.commit()


# ---- recipes ---------------------------------------------------------------------------
#
# corral's Rust recipes, as in :mod:`corral.recipes`, with coroutines for every
# call that talks to the server.


class Lock:
    """A distributed lock, as :class:`corral.recipes.Lock` (kazoo's naming):
    ``async with zk.Lock("/locks/x"):`` holds it for the block."""

    _KIND = "lock"

    def __init__(
        self,
        client: Client,
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> None:
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.extra_lock_patterns = tuple(extra_lock_patterns)
        self.layout = layout
        self._native = _corral.Lock(client._c, path, self.identifier, self._KIND, layout)

    async def acquire(self, blocking: bool = True, timeout: Optional[float] = None, ephemeral: bool = True) -> bool:
        """Takes the lock (at most ``timeout`` seconds; not waiting unless ``blocking``):
        True once held, False when not ``blocking`` and it is taken.
        :class:`corral.LockTimeout` when ``timeout`` runs out;
        :class:`corral.CancelledError` after :meth:`cancel`. ``ephemeral=False``:
        the lock node outlives the session (see :meth:`corral.Lock.acquire`)."""
        got = await self._native.acquire_async(blocking, timeout, ephemeral)
        return _acquired(got, blocking, self.path, timeout)

    async def release(self) -> bool:
        """Undoes one acquisition; whether this object held the lock (False when not)."""
        if self._native.state() == "RELEASED":
            return False
        await self._native.release_async()
        return True

    def cancel(self) -> None:
        """Ends the acquisitions under way with :class:`corral.CancelledError`."""
        self._native.cancel()

    @property
    def is_acquired(self) -> bool:
        """Whether the lock is held with certainty."""
        return self._native.state() == "HELD"

    @property
    def state(self) -> str:
        """RELEASED, HELD, SUSPENDED or LOST."""
        return self._native.state()

    @property
    def fencing_token(self) -> Optional[int]:
        """The czxid of the held lock node."""
        return self._native.fencing_token()

    async def contenders(self) -> List[str]:
        """The identifiers of every contender, holder first."""
        return await self._native.contenders_async()

    async def __aenter__(self) -> "Lock":
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class WriteLock(Lock):
    """The exclusive side of a read-write lock, as :class:`corral.recipes.WriteLock`."""

    _KIND = "write"


class ReadLock(Lock):
    """The shared side of a read-write lock, as :class:`corral.recipes.ReadLock`."""

    _KIND = "read"


class Semaphore:
    """A counting semaphore, as :class:`corral.recipes.Semaphore`; ``async with`` holds a lease."""

    def __init__(
        self, client: Client, path: str, identifier: Optional[str] = None, max_leases: int = 1, *, layout: str = "kazoo"
    ) -> None:
        if max_leases < 1:
            raise ValueError("max_leases must be at least 1")
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.max_leases = max_leases
        self.layout = layout
        self._native = _corral.Semaphore(client._c, path, self.identifier, max_leases, layout)

    async def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes a lease: True once held, False when not ``blocking`` and none is free.
        :class:`corral.LockTimeout` when ``timeout`` runs out;
        :class:`corral.CancelledError` after :meth:`cancel`."""
        return _acquired(await self._native.acquire_async(blocking, timeout), blocking, self.path, timeout)

    async def release(self) -> bool:
        """Gives the lease back; False when none was held."""
        return await self._native.release_async()

    def cancel(self) -> None:
        """Ends the acquisitions under way with :class:`corral.CancelledError`."""
        self._native.cancel()

    @property
    def is_acquired(self) -> bool:
        """Whether this object holds a lease."""
        return self._native.is_acquired()

    async def lease_holders(self) -> List[str]:
        """The identifiers of the current lease holders."""
        return await self._native.lease_holders_async()

    async def __aenter__(self) -> "Semaphore":
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class Counter:
    """kazoo's integer Counter, as :class:`corral.recipes.Counter`: ``await
    counter.add(1)``, ``await counter.value()``.

    After a change, :attr:`pre_value` and :attr:`post_value` hold the values
    around it. ``support_curator=True`` stores the value as Curator's 4 bytes.
    (Float counters are the blocking client's.)
    """

    def __init__(self, client: Client, path: str, default: int = 0, support_curator: bool = False) -> None:
        self.client = client
        self.path = path
        self.default = default
        self.support_curator = support_curator
        self.pre_value: Optional[int] = None
        self.post_value: Optional[int] = None
        if not isinstance(default, int) or isinstance(default, bool):
            raise TypeError(f"an asyncio Counter's default is an int, not {type(default).__name__}")
        self._native = _corral.Counter(client._c, path, default, support_curator)

    async def value(self) -> int:
        """The current value (the default while the node is empty or missing)."""
        return await self._native.value_async()

    async def add(self, delta: int) -> int:
        """Adds ``delta`` atomically; returns the new value."""
        self.pre_value, self.post_value = await self._native.add_async(delta)
        return self.post_value

    async def subtract(self, delta: int) -> int:
        """Subtracts ``delta`` atomically; returns the new value."""
        return await self.add(-delta)


class Barrier:
    """kazoo's Barrier, as :class:`corral.recipes.Barrier`."""

    def __init__(self, client: Client, path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.Barrier(client._c, path)

    async def create(self) -> None:
        """Raises the barrier (idempotent)."""
        await self._native.set_async()

    async def remove(self) -> bool:
        """Lowers the barrier. Returns True, or False when it was down already."""
        return await self._native.remove_async()

    async def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits until the barrier is down; False after ``timeout`` seconds."""
        return await self._native.wait_async(timeout)


class DoubleBarrier:
    """kazoo's DoubleBarrier, as :class:`corral.recipes.DoubleBarrier`."""

    def __init__(self, client: Client, path: str, num_clients: int, identifier: Optional[str] = None) -> None:
        if num_clients < 1:
            raise ValueError("num_clients must be at least 1")
        self.client = client
        self.path = path
        self.num_clients = num_clients
        self.identifier = identifier or _host_identifier()
        self.participating = False
        self._native = _corral.DoubleBarrier(client._c, path, num_clients, self.identifier.encode("utf-8"))
        self.create_path: str = self._native.create_path
        self.node_name: str = self.create_path.rsplit("/", 1)[1]

    async def enter(self, timeout: Optional[float] = None) -> bool:
        """Enters and waits until enough members have entered (False after ``timeout`` seconds)."""
        entered = await self._native.enter_async(timeout)
        self.participating = True
        return entered

    async def leave(self, timeout: Optional[float] = None) -> bool:
        """Leaves and waits until every member has left (False after ``timeout`` seconds)."""
        done = await self._native.leave_async(timeout)
        self.participating = False
        return done


class Queue:
    """kazoo's Queue, as :class:`corral.recipes.Queue`; ``await q.len()`` counts."""

    def __init__(self, client: Client, path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.Queue(client._c, path)

    async def put(self, value: bytes, priority: int = DEFAULT_PRIORITY) -> None:
        """Appends an item; ``priority`` 0-999, lower taken first."""
        await self._native.put_async(_check_value(value), _check_priority(priority))

    async def put_all(self, values: List[bytes], priority: int = DEFAULT_PRIORITY) -> None:
        """Appends items, in order, in one transaction."""
        await self._native.put_all_async(_check_values(values), _check_priority(priority))

    async def get(self) -> Optional[bytes]:
        """Takes the next item, or None when the queue is empty."""
        return await self._native.get_async()

    async def take(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Takes the next item, waiting for one (None after ``timeout`` seconds)."""
        return await self._native.take_async(timeout)

    async def len(self) -> int:
        """The number of items."""
        return await self._native.len_async()


class LockingQueue:
    """kazoo's LockingQueue, as :class:`corral.recipes.LockingQueue`."""

    def __init__(self, client: Client, path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.LockingQueue(client._c, path)

    async def put(self, value: bytes, priority: int = DEFAULT_PRIORITY) -> None:
        """Adds an item; ``priority`` 0-999, lower taken first."""
        await self._native.put_async(_check_value(value), _check_priority(priority))

    async def put_all(self, values: List[bytes], priority: int = DEFAULT_PRIORITY) -> None:
        """Adds items with one priority: all of them or none."""
        await self._native.put_all_async(_check_values(values), _check_priority(priority))

    async def get(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Locks and returns the next item (None after ``timeout`` seconds); the held item again until consumed."""
        return await self._native.get_async(timeout)

    async def holds_lock(self) -> bool:
        """Whether this consumer still holds the lock of its item."""
        return await self._native.holds_lock_async()

    async def consume(self) -> bool:
        """Removes the held item; False when there is none or its lock was lost."""
        return await self._native.consume_async()

    async def release(self) -> bool:
        """Unlocks the held item for another consumer; False when there is none or its lock was lost."""
        return await self._native.release_async()

    async def len(self) -> int:
        """The number of items, locked ones included."""
        return await self._native.len_async()


class Election:
    """kazoo's Election, as :class:`corral.recipes.Election`: ``await
    election.run(func, *args)`` waits to lead, then calls ``func`` (a
    coroutine function or a plain one) and gives leadership up when it is done."""

    def __init__(
        self, client: Client, path: str, identifier: Optional[str] = None, *, layout: str = "kazoo"
    ) -> None:
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.fencing_token: Optional[int] = None
        self.layout = layout
        self._native = _corral.Election(client._c, path, self.identifier, layout)

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Contends for leadership; returns once ``func`` has run as leader, or
        after :meth:`cancel` took this contender out of the race first."""
        if not callable(func):
            raise ValueError("leader function is not callable")
        run = self._native.start_run()
        try:
            token = await run.wait_leader_async()
        except BaseException:
            self._native.cancel()
            raise
        try:
            if token is not None:
                self.fencing_token = token
                result = func(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self.fencing_token = None
            await run.finish_async()

    def cancel(self) -> None:
        """Takes this contender out of the race (a running leader function is not interrupted)."""
        self._native.cancel()

    async def contenders(self) -> List[str]:
        """The identifiers of every contender, leader first."""
        return await self._native.contenders_async()


class LeaderLatch:
    """Curator's LeaderLatch, as :class:`corral.recipes.LeaderLatch`; ``async with`` starts and closes it."""

    def __init__(self, client: Client, path: str, identifier: str = "") -> None:
        self.client = client
        self.path = path
        self.identifier = identifier
        self._native = _corral.LeaderLatch(client._c, path, identifier)

    async def start(self) -> None:
        """Joins the latch."""
        await self._native.start_async()

    @property
    def has_leadership(self) -> bool:
        """Whether this participant leads now."""
        return self._native.has_leadership()

    async def await_leadership(self, timeout: Optional[float] = None) -> bool:
        """Waits until this participant leads; False after ``timeout`` seconds."""
        return await self._native.await_leadership_async(timeout)

    async def close(self) -> None:
        """Leaves the latch (its node is deleted)."""
        await self._native.close_async()

    async def __aenter__(self) -> "LeaderLatch":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Party:
    """kazoo's Party, as :class:`corral.recipes.Party`: ``async for member in party``."""

    _SHALLOW = False

    def __init__(self, client: Client, path: str, identifier: Optional[str] = None) -> None:
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.participating = False
        self._native = _corral.Party(client._c, path, self.identifier, self._SHALLOW)

    async def join(self) -> None:
        """Joins the party."""
        await self._native.join_async()
        self.participating = True

    async def leave(self) -> bool:
        """Leaves the party; whether this member was in it."""
        self.participating = False
        return await self._native.leave_async()

    async def members(self) -> List[str]:
        """The members' identifiers, sorted."""
        return await self._native.members_async()

    async def len(self) -> int:
        """The number of members."""
        return len(await self.members())

    async def __aiter__(self) -> AsyncIterator[str]:
        for member in await self.members():
            yield member


class ShallowParty(Party):
    """kazoo's ShallowParty, as :class:`corral.recipes.ShallowParty`."""

    _SHALLOW = True
