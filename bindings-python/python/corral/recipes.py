"""Recipes from corral's core, for the blocking client, in kazoo's shape.

Each class is also a factory method of :class:`corral.Client`
(``zk.Lock("/locks/x")``), with kazoo's names, arguments and defaults. Every
one of them runs corral's Rust recipe (``corral::recipes``); this module only
gives it kazoo's Python face. Their asyncio twins are in :mod:`corral.aio`.

============================  ====================================================
:class:`Lock`                 exclusive lock (kazoo's node naming: shares paths with kazoo)
:class:`ReadLock`,            the two sides of a read-write lock (kazoo's naming)
:class:`WriteLock`
:class:`Semaphore`            at most ``max_leases`` holders (kazoo's layout)
:class:`Counter`              integer counter
:class:`Barrier`              wait until a node is gone
:class:`DoubleBarrier`        enter together, leave together
:class:`Queue`                FIFO queue with priorities, each item taken once
:class:`LockingQueue`         queue whose items are locked until consumed
:class:`Election`             leader election: ``run(func)`` while leading
:class:`LeaderLatch`          Curator's leader latch
:class:`Party`,               group membership
:class:`ShallowParty`
:class:`TreeCache`            live in-memory mirror of a subtree, with events
:class:`ServiceDiscovery`     service registry (Curator's x-discovery layout)
:class:`SetPartitioner`       splits a set of items among a party's members
============================  ====================================================

Lock, ReadLock, WriteLock, Semaphore and Election lay their nodes out as
kazoo's do, so kazoo and corral processes share them; ``layout="curator"``
picks Curator's layout instead (``InterProcessMutex``,
``InterProcessReadWriteLock``, ``InterProcessSemaphoreV2``,
``LeaderSelector``), to share them with Curator (Java) processes.

Waits release the GIL. ``cancel()`` (Lock, ReadLock, WriteLock, Semaphore)
ends the acquisitions under way with :class:`corral.CancelledError`.
"""

from __future__ import annotations

import calendar
import datetime
import json
import logging
import os
import socket
import threading
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from corral import _corral
from corral.exceptions import BadArgumentsError, CorralError, LockTimeout
from corral.states import ZnodeStat

if TYPE_CHECKING:
    from corral.client import Client

__all__ = [
    "Barrier",
    "Counter",
    "DoubleBarrier",
    "Election",
    "LeaderLatch",
    "Lock",
    "LockingQueue",
    "MultiNonBlockingLease",
    "NodeData",
    "NonBlockingLease",
    "PartitionState",
    "Party",
    "Queue",
    "ReadLock",
    "Semaphore",
    "ServiceCache",
    "ServiceDiscovery",
    "ServiceInstance",
    "SetPartitioner",
    "ShallowParty",
    "TreeCache",
    "TreeEvent",
    "WriteLock",
]

log = logging.getLogger("corral")

DEFAULT_PRIORITY = 100
"""kazoo's default queue priority."""


def _identifier(identifier: Optional[object]) -> str:
    """kazoo's spelling: ``str(identifier or "")``."""
    return str(identifier or "")


def _host_identifier() -> str:
    """kazoo's default member identifier: host name and process id."""
    return f"{socket.getfqdn()}-{os.getpid()}"


def _check_value(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError("value must be a byte string")
    return value


def _check_priority(priority: object) -> int:
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise TypeError("priority must be an int")
    if priority < 0 or priority > 999:
        raise ValueError("priority must be between 0 and 999")
    return priority


def _check_values(values: object) -> List[bytes]:
    if not isinstance(values, list):
        raise TypeError("values must be a list of byte strings")
    return [_check_value(v) for v in values]


# ---- locks -----------------------------------------------------------------------


def _acquired(got: bool, blocking: bool, path: str, timeout: Optional[float]) -> bool:
    """kazoo's outcome of a lock or semaphore acquire: a blocking one that
    ran out of time raises LockTimeout instead of returning False."""
    if not got and blocking:
        raise LockTimeout(f"Failed to acquire lock on {path} after {timeout} seconds")
    return got


def _released(native: Any) -> bool:
    """kazoo's outcome of a lock release: False when the lock was not held."""
    if native.state() == "RELEASED":
        return False
    native.release()
    return True


class Lock:
    """A distributed mutex (kazoo's ``Lock``; Curator's ``InterProcessMutex``).

    ``with zk.Lock("/locks/report", "me"):`` holds it for the block. Nodes are
    named as kazoo names them, so corral and kazoo processes can share a lock
    path; ``identifier`` is stored in this contender's node, which
    :meth:`contenders` lists. Unlike kazoo's, the lock is re-entrant per
    object: acquiring it again nests, and the last :meth:`release` frees it.

    While the connection is down ownership is unknown (:attr:`state`
    SUSPENDED); after session expiry it is gone (LOST). ``extra_lock_patterns``
    is accepted for kazoo's signature: corral already treats every
    sequential child of the lock path as a contender.
    """

    _KIND = "lock"

    def __init__(
        self,
        client: "Client",
        path: str,
        identifier: Optional[str] = None,
        extra_lock_patterns: Sequence[str] = (),
        *,
        layout: str = "kazoo",
    ) -> None:
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.data = self.identifier.encode("utf-8")
        self.extra_lock_patterns = tuple(extra_lock_patterns)
        self.layout = layout
        #: Whether :meth:`cancel` was called since the last acquire (kazoo's attribute).
        self.cancelled = False
        self._native = _corral.Lock(client._c, path, self.identifier, self._KIND, layout)

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None, ephemeral: bool = True) -> bool:
        """Takes the lock: waits (at most ``timeout`` seconds) unless ``blocking`` is False.
        Returns True once held; False when not ``blocking`` and the lock is taken.
        Raises :class:`corral.LockTimeout` when ``timeout`` runs out, as kazoo's does.

        Raises :class:`corral.CancelledError` when :meth:`cancel` is called
        meanwhile. ``ephemeral=False`` (kazoo's) makes the lock node
        persistent: the lock stays held after this session ends, even after
        this process exits, until :meth:`release` or the node is deleted.
        """
        self.cancelled = False
        return _acquired(self._native.acquire(blocking, timeout, ephemeral), blocking, self.path, timeout)

    def release(self) -> bool:
        """Undoes one acquisition; the last one deletes the lock node. Returns
        whether this object held the lock (False, as kazoo's, when it did not)."""
        return _released(self._native)

    def cancel(self) -> None:
        """Ends the acquisitions under way with :class:`corral.CancelledError`."""
        self.cancelled = True
        self._native.cancel()

    @property
    def node(self) -> Optional[str]:
        """The name of the held lock node (kazoo's ``Lock.node``); None when not held."""
        path = self._native.node_path()
        return path.rsplit("/", 1)[1] if path else None

    @property
    def is_acquired(self) -> bool:
        """Whether the lock is held with certainty."""
        return self._native.state() == "HELD"

    @property
    def state(self) -> str:
        """RELEASED, HELD, SUSPENDED (connection down) or LOST."""
        return self._native.state()

    @property
    def fencing_token(self) -> Optional[int]:
        """The czxid of the held lock node: grows strictly from one holder to the next."""
        return self._native.fencing_token()

    def contenders(self) -> List[str]:
        """The identifiers of every contender, in line order: the holder first."""
        return self._native.contenders()

    def __enter__(self) -> "Lock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class WriteLock(Lock):
    """The exclusive side of a read-write lock (kazoo's ``WriteLock``).

    Held by one writer when no reader and no other writer is ahead of it.
    ``zk.ReadLock(path)`` and ``zk.WriteLock(path)`` on the same path
    exclude each other. The nodes are named as kazoo's (``__lock__`` /
    ``__rlock__``: a ``zk.Lock`` on the path is a writer too), so kazoo
    processes share the lock; ``layout="curator"`` names them as Curator's
    ``InterProcessReadWriteLock`` (``__WRIT__`` / ``__READ__``).
    """

    _KIND = "write"


class ReadLock(Lock):
    """The shared side of a read-write lock (kazoo's ``ReadLock``).

    Any number of readers hold it together while no writer is ahead of
    them; a reader queued behind a waiting writer waits too, so writers are
    not starved. See :class:`WriteLock` for the node naming.
    """

    _KIND = "read"


class Semaphore:
    """A counting semaphore (kazoo's ``Semaphore``): at most ``max_leases``
    holders at a time; this object holds at most one lease.

    ``with zk.Semaphore("/pool", "me", max_leases=3):`` holds a lease for the
    block. Nodes follow kazoo's layout (a lease is ``<path>/<uuid hex>``,
    acquirers queue on a lock at ``<path>-__lock__``, ``<path>`` holds
    ``max_leases``), so kazoo processes share the semaphore; every process
    must use the same ``max_leases`` (an acquire with another number raises
    ValueError, as kazoo's). ``layout="curator"``: Curator's
    ``InterProcessSemaphoreV2`` layout (leases under ``<path>/leases``).

    As kazoo's, :attr:`cancelled` says whether :meth:`cancel` was called
    since the last acquire, and :attr:`wake_event` is set by :meth:`cancel`
    and when the session is lost during an acquire.
    """

    def __init__(
        self,
        client: "Client",
        path: str,
        identifier: Optional[str] = None,
        max_leases: int = 1,
        *,
        layout: str = "kazoo",
    ) -> None:
        if max_leases < 1:
            raise ValueError("max_leases must be at least 1")
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.data = self.identifier.encode("utf-8")
        self.max_leases = max_leases
        self.layout = layout
        self.cancelled = False
        self.wake_event = threading.Event()
        self._native = _corral.Semaphore(client._c, path, self.identifier, max_leases, layout)

    def _watch_session(self, state: str) -> bool:
        if state == "LOST":
            self.wake_event.set()
            return True  # heard once: the listener goes
        return False

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes a lease: waits (at most ``timeout`` seconds) unless ``blocking``
        is False. Returns True once one is held (at once if already); False
        when not ``blocking`` and none is free.

        Raises :class:`corral.LockTimeout` when ``timeout`` runs out (kazoo's
        behaviour), :class:`corral.CancelledError` when :meth:`cancel` is
        called meanwhile, ValueError when the semaphore was made with
        another ``max_leases``.
        """
        self.cancelled = False
        self.wake_event.clear()
        return self._acquire(blocking, timeout)

    def _acquire(self, blocking: bool, timeout: Optional[float]) -> bool:
        self.client.add_listener(self._watch_session)
        try:
            got = self._native.acquire(blocking, timeout)
        except BadArgumentsError as e:
            raise ValueError(f"Inconsistent max leases: {self.path} was made with another number than "
                             f"{self.max_leases}") from e
        finally:
            self.client.remove_listener(self._watch_session)
        return _acquired(got, blocking, self.path, timeout)

    def release(self) -> bool:
        """Gives the lease back; False when none was held."""
        return self._native.release()

    def cancel(self) -> None:
        """Ends the acquisitions under way with :class:`corral.CancelledError`."""
        self.cancelled = True
        self.wake_event.set()
        self._native.cancel()

    @property
    def is_acquired(self) -> bool:
        """Whether this object holds a lease."""
        return self._native.is_acquired()

    def lease_holders(self) -> List[str]:
        """The identifiers of the current lease holders."""
        return self._native.lease_holders()

    def __enter__(self) -> "Semaphore":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# ---- leases ---------------------------------------------------------------------------


def _utc_seconds(utcnow: Callable[[], Any]) -> float:
    """Seconds since the epoch of ``utcnow()`` (a naive datetime is taken as UTC)."""
    return float(calendar.timegm(utcnow().utctimetuple()))


def _utcnow() -> Any:
    return datetime.datetime.now(datetime.timezone.utc)


class _Lease:
    """A lease obtained (or not) when made; true when obtained."""

    obtained: bool

    def _obtain(self, client: "Client", path: str, duration: datetime.timedelta, identifier: Optional[str],
                utcnow: Callable[[], Any], count: Optional[int]) -> None:
        self.obtained = _corral.obtain_lease(
            client._c, path, duration.total_seconds(), identifier or socket.gethostname(), _utc_seconds(utcnow), count
        )

    def __bool__(self) -> bool:
        return self.obtained


class NonBlockingLease(_Lease):
    """kazoo's ``NonBlockingLease``: an exclusive lease on ``path`` for
    ``duration`` (a ``timedelta``), obtained at once or not at all; true when
    obtained. Obtaining again with the same ``identifier`` renews it::

        lease = zk.NonBlockingLease("/leases/cleanup", datetime.timedelta(hours=1), "host-a")
        if lease:
            run_hourly_cleanup()

    The record is kazoo's (``path/lease_holder``, JSON with the holder and
    the end in UTC), written under kazoo's Lock, so kazoo and corral
    processes share leases. ``utcnow`` is the clock (client clocks must
    roughly agree). The recipe is core's ``corral::recipes::lease``.
    """

    def __init__(
        self,
        client: "Client",
        path: str,
        duration: datetime.timedelta,
        identifier: Optional[str] = None,
        utcnow: Callable[[], Any] = _utcnow,
    ) -> None:
        self._obtain(client, path, duration, identifier, utcnow, None)


class MultiNonBlockingLease(_Lease):
    """kazoo's ``MultiNonBlockingLease``: one of ``count`` leases under ``path``
    (``path/0`` .. ``path/<count-1>``) for ``duration``, for a task that at most
    ``count`` hosts should run; true when one was obtained::

        if zk.MultiNonBlockingLease(2, "/leases/report", datetime.timedelta(days=1)):
            send_the_report()
    """

    def __init__(
        self,
        client: "Client",
        count: int,
        path: str,
        duration: datetime.timedelta,
        identifier: Optional[str] = None,
        utcnow: Callable[[], Any] = _utcnow,
    ) -> None:
        self._obtain(client, path, duration, identifier, utcnow, count)


# ---- counter and barriers -----------------------------------------------------------


class Counter:
    """kazoo's ``Counter``: ``counter += 1`` adds atomically; :attr:`value` reads.

    The type of ``default`` (int or float) is the counter's type, as in
    kazoo: the value is stored as text (``repr``), and a change of another
    type raises TypeError. ``support_curator=True`` stores an int as
    Curator's 4 bytes (its ``SharedCount``; a float default is then a
    TypeError). After a change, :attr:`pre_value` and :attr:`post_value`
    hold the values around it.
    """

    def __init__(
        self, client: "Client", path: str, default: Union[int, float] = 0, support_curator: bool = False
    ) -> None:
        self.client = client
        self.path = path
        self.default = default
        self.default_type = type(default)
        self.support_curator = support_curator
        self.pre_value: Optional[Union[int, float]] = None
        self.post_value: Optional[Union[int, float]] = None
        if self.default_type not in (int, float):
            raise TypeError(f"a Counter's default is an int or a float, not {self.default_type.__name__}")
        if support_curator and self.default_type is not int:
            raise TypeError("when support_curator is enabled the default type must be an int")
        if self.default_type is float:
            self._native: Any = _corral.FloatCounter(client._c, path, default)
        else:
            self._native = _corral.Counter(client._c, path, default, support_curator)

    @property
    def value(self) -> Union[int, float]:
        """The current value (the default while the node is empty or missing)."""
        return self._native.value()

    def add(self, delta: Union[int, float]) -> Union[int, float]:
        """Adds ``delta`` (of the counter's type); returns the new value."""
        if not isinstance(delta, self.default_type) or isinstance(delta, bool):
            raise TypeError(
                f"invalid type for value change: {type(delta).__name__} (the counter holds {self.default_type.__name__})"
            )
        self.pre_value, self.post_value = self._native.add(delta)
        return self.post_value

    def __add__(self, delta: Union[int, float]) -> "Counter":
        self.add(delta)
        return self

    def __sub__(self, delta: Union[int, float]) -> "Counter":
        self.add(-delta)
        return self

    __iadd__ = __add__
    __isub__ = __sub__


class Barrier:
    """kazoo's ``Barrier``: up while its node exists; :meth:`wait` until it is removed."""

    def __init__(self, client: "Client", path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.Barrier(client._c, path)

    def create(self) -> None:
        """Raises the barrier (idempotent)."""
        self._native.set()

    def remove(self) -> bool:
        """Lowers the barrier. Returns True, or False when it was down already (as kazoo's)."""
        return self._native.remove()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits until the barrier is down; False when ``timeout`` seconds passed first."""
        return self._native.wait(timeout)


class DoubleBarrier:
    """kazoo's ``DoubleBarrier`` (Curator's ``DistributedDoubleBarrier``):
    :meth:`enter` waits until ``num_clients`` members have entered,
    :meth:`leave` until every member has left.

    Each member is an ephemeral node :attr:`create_path` under ``path``
    holding ``identifier`` (by default host name and process id, as
    kazoo's); a member whose session expires drops out. :attr:`participating`
    is True from the return of :meth:`enter` to :meth:`leave`.
    """

    def __init__(self, client: "Client", path: str, num_clients: int, identifier: Optional[str] = None) -> None:
        if num_clients < 1:
            raise ValueError("num_clients must be at least 1")
        self.client = client
        self.path = path
        self.num_clients = num_clients
        self.identifier = identifier or _host_identifier()
        self.participating = False
        self._native = _corral.DoubleBarrier(client._c, path, num_clients, self.identifier.encode("utf-8"))
        #: This member's node, ``<path>/<uuid>``.
        self.create_path: str = self._native.create_path
        self.node_name: str = self.create_path.rsplit("/", 1)[1]

    def enter(self, timeout: Optional[float] = None) -> bool:
        """Enters and waits until enough members have entered. With
        ``timeout``: False if they did not within that many seconds (this
        member stays entered; :meth:`leave` to go)."""
        entered = self._native.enter(timeout)
        self.participating = True
        return entered

    def leave(self, timeout: Optional[float] = None) -> bool:
        """Leaves and waits until every member has left; False after
        ``timeout`` seconds if some are still in."""
        done = self._native.leave(timeout)
        self.participating = False
        return done


# ---- queues -------------------------------------------------------------------------


class Queue:
    """kazoo's ``Queue``: each item is taken by exactly one consumer, the most
    urgent priority first, then in order.

    Node layout is kazoo's (``entry-<priority>-<seq>``), so kazoo processes
    can share the queue. Unlike kazoo's, a put or take that a lost
    connection interrupts is neither lost nor applied twice.
    """

    def __init__(self, client: "Client", path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.Queue(client._c, path)

    def put(self, value: bytes, priority: int = DEFAULT_PRIORITY) -> None:
        """Appends an item; ``priority`` 0-999, lower taken first."""
        self._native.put(_check_value(value), _check_priority(priority))

    def put_all(self, values: List[bytes], priority: int = DEFAULT_PRIORITY) -> None:
        """Appends items, in order, in one transaction."""
        self._native.put_all(_check_values(values), _check_priority(priority))

    def get(self) -> Optional[bytes]:
        """Takes the next item, or returns None when the queue is empty."""
        return self._native.get()

    def take(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Takes the next item, waiting for one (None after ``timeout`` seconds)."""
        return self._native.take(timeout)

    def __len__(self) -> int:
        return self._native.len()


class LockingQueue:
    """kazoo's ``LockingQueue``: :meth:`get` locks the next item and returns
    it; :meth:`consume` removes it once processed, :meth:`release` gives it
    back. The lock is an ephemeral node, so the item of a consumer whose
    session ends is delivered again (at least once).

    Node layout is kazoo's (``entries/`` and ``taken/``), so kazoo processes
    can share the queue.
    """

    def __init__(self, client: "Client", path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.LockingQueue(client._c, path)

    def put(self, value: bytes, priority: int = DEFAULT_PRIORITY) -> None:
        """Adds an item; ``priority`` 0-999, lower taken first."""
        self._native.put(_check_value(value), _check_priority(priority))

    def put_all(self, values: List[bytes], priority: int = DEFAULT_PRIORITY) -> None:
        """Adds items with one priority: all of them or none."""
        self._native.put_all(_check_values(values), _check_priority(priority))

    def get(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Locks and returns the next item, waiting at most ``timeout`` seconds
        (None: as long as it takes); None if none came. Returns the held item
        again while it is neither consumed nor released."""
        return self._native.get(timeout)

    def holds_lock(self) -> bool:
        """Whether this consumer still holds the lock of its item."""
        return self._native.holds_lock()

    def consume(self) -> bool:
        """Removes the held item from the queue; False when there is none or its lock was lost."""
        return self._native.consume()

    def release(self) -> bool:
        """Unlocks the held item for another consumer; False when there is none or its lock was lost."""
        return self._native.release()

    def __len__(self) -> int:
        """The number of items, locked ones included."""
        return self._native.len()


# ---- leaders ------------------------------------------------------------------------


class Election:
    """kazoo's ``Election``: :meth:`run` waits to be elected, calls the
    function while leading, and gives leadership up when it returns.

    Contender nodes are kazoo's (a :class:`Lock` on the path), so kazoo
    processes share the election (``layout="curator"``: Curator's
    ``LeaderSelector`` naming); each holds its ``identifier``, which
    :meth:`contenders` lists. While the function runs,
    :attr:`fencing_token` is the leader node's czxid (larger for every later
    leader).
    """

    def __init__(
        self, client: "Client", path: str, identifier: Optional[str] = None, *, layout: str = "kazoo"
    ) -> None:
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.fencing_token: Optional[int] = None
        self.layout = layout
        self._native = _corral.Election(client._c, path, self.identifier, layout)

    def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Contends for leadership: blocks until this contender is elected and
        ``func(*args, **kwargs)`` has returned (or raised), or until
        :meth:`cancel` takes it out of the race first."""
        if not callable(func):
            raise ValueError("leader function is not callable")
        run = self._native.start_run()
        try:
            token = run.wait_leader()
        except BaseException:
            self._native.cancel()
            raise
        try:
            if token is not None:
                self.fencing_token = token
                func(*args, **kwargs)
        finally:
            self.fencing_token = None
            run.finish()

    def cancel(self) -> None:
        """Takes this contender out of the race (a running leader function is not interrupted)."""
        self._native.cancel()

    def contenders(self) -> List[str]:
        """The identifiers of every contender, in line order: the leader first."""
        return self._native.contenders()


class LeaderLatch:
    """Curator's ``LeaderLatch``: of all started participants on ``path``, one leads."""

    def __init__(self, client: "Client", path: str, identifier: str = "") -> None:
        self.client = client
        self.path = path
        self.identifier = identifier
        self._native = _corral.LeaderLatch(client._c, path, identifier)

    def start(self) -> None:
        """Joins: creates this participant's node and follows the line in the background."""
        self._native.start()

    @property
    def has_leadership(self) -> bool:
        """Whether this participant leads now."""
        return self._native.has_leadership()

    def await_leadership(self, timeout: Optional[float] = None) -> bool:
        """Waits until this participant leads; False after ``timeout`` seconds."""
        return self._native.await_leadership(timeout)

    def close(self) -> None:
        """Leaves (its node is deleted; another participant may lead)."""
        self._native.close()

    def __enter__(self) -> "LeaderLatch":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- membership -------------------------------------------------------------------


class Party:
    """kazoo's ``Party``: members keep their identifier in their node's data.

    :meth:`join` and :meth:`leave`; ``list(party)`` gives the members'
    identifiers and ``len(party)`` their number. A member's node is
    ephemeral: after its session expires, :meth:`join` again.
    """

    _SHALLOW = False

    def __init__(self, client: "Client", path: str, identifier: Optional[str] = None) -> None:
        self.client = client
        self.path = path
        self.identifier = _identifier(identifier)
        self.data = self.identifier.encode("utf-8")
        self.participating = False
        self._native = _corral.Party(client._c, path, self.identifier, self._SHALLOW)
        #: This member's node (``<path>/<uuid hex>__party__``; a ShallowParty's
        #: is ``<path>/<uuid hex>-<identifier>``), as kazoo names it.
        self.create_path: str = self._native.create_path
        self.node: str = self.create_path.rsplit("/", 1)[1]

    def join(self) -> None:
        """Joins the party (creates this member's node, and the party's path if needed)."""
        self._native.join()
        self.participating = True

    def leave(self) -> bool:
        """Leaves the party; whether this member was in it."""
        self.participating = False
        return self._native.leave()

    def __iter__(self) -> Iterator[str]:
        """The members' identifiers, sorted."""
        return iter(self._native.members())

    def __len__(self) -> int:
        """The number of members."""
        return len(self._native.members())


class ShallowParty(Party):
    """kazoo's ``ShallowParty``: members keep their identifier in their node's
    name, so listing them takes one call; the identifier must be valid in a
    node name."""

    _SHALLOW = True


# ---- TreeCache ----------------------------------------------------------------------


class NodeData(tuple):
    """A cached node (kazoo's ``NodeData``): ``(path, data, stat)``."""

    @property
    def path(self) -> str:
        """The node's full path."""
        return self[0]

    @property
    def data(self) -> bytes:
        """The node's data."""
        return self[1]

    @property
    def stat(self) -> ZnodeStat:
        """The node's :class:`ZnodeStat`."""
        return self[2]

    @classmethod
    def make(cls, path: str, data: bytes, stat: ZnodeStat) -> "NodeData":
        """A new NodeData."""
        return cls((path, data, stat))


class TreeEvent(tuple):
    """A :class:`TreeCache` event (kazoo's ``TreeEvent``): ``(event_type, event_data)``.

    ``event_data`` is the node's :class:`NodeData` for the NODE_* types, else None.
    """

    NODE_ADDED = 0
    NODE_UPDATED = 1
    NODE_REMOVED = 2
    CONNECTION_SUSPENDED = 3
    CONNECTION_RECONNECTED = 4
    CONNECTION_LOST = 5
    INITIALIZED = 6

    @property
    def event_type(self) -> int:
        """One of the constants above."""
        return self[0]

    @property
    def event_data(self) -> Optional[NodeData]:
        """The node concerned, or None."""
        return self[1]

    @classmethod
    def make(cls, event_type: int, event_data: Optional[NodeData]) -> "TreeEvent":
        """A new TreeEvent."""
        return cls((event_type, event_data))


class TreeCache:
    """kazoo's ``TreeCache``: a live in-memory mirror of the subtree at
    ``path``, with an event for every change.

    :meth:`start` creates ``path`` if needed, loads the subtree (one
    NODE_ADDED per node, then INITIALIZED) and returns once it is loaded;
    changes then keep arriving until :meth:`close`. Listeners
    (:meth:`listen`) run on one thread per cache, in order; exceptions they
    raise go to the :meth:`listen_fault` listeners.

    corral keeps the mirror live with one persistent recursive watch
    (ZooKeeper 3.6+; one-shot watches on older servers). On ZooKeeper before
    3.9 a client should not also hold one-shot watches (``DataWatch``,
    ``get(watch=...)``) on paths a cache of it covers: use another client.
    """

    STATE_LATENT = 0
    STATE_STARTED = 1
    STATE_CLOSED = 2

    _POLL_S = 0.25

    def __init__(self, client: "Client", path: str) -> None:
        self.client = client
        self.path = _normal_path(path)
        self._state = self.STATE_LATENT
        self._event_listeners: List[Callable[[TreeEvent], Any]] = []
        self._error_listeners: List[Callable[[BaseException], Any]] = []
        self._thread: Optional[threading.Thread] = None
        self._session_client = client._c
        self._native = _corral.TreeCache(self._session_client, self.path)

    def start(self) -> None:
        """Starts the cache; returns once the subtree is loaded.

        Raises :class:`corral.CorralError` when already started or closed.
        """
        if self._state == self.STATE_CLOSED:
            raise CorralError("already closed")
        if self._state == self.STATE_STARTED:
            raise CorralError("already started")
        self._state = self.STATE_STARTED
        self._thread = threading.Thread(target=self._deliver, name="corral-treecache", daemon=True)
        self._thread.start()
        try:
            self.client.ensure_path(self.path)
            self._native.start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stops following changes; no event is delivered afterwards. The cache cannot start again."""
        if self._state == self.STATE_CLOSED:
            return
        self._state = self.STATE_CLOSED
        self._native.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def listen(self, listener: Callable[[TreeEvent], Any]) -> Callable[[TreeEvent], Any]:
        """Calls ``listener(event)`` with every :class:`TreeEvent`; usable as a decorator."""
        self._event_listeners.append(listener)
        return listener

    def listen_fault(self, listener: Callable[[BaseException], Any]) -> Callable[[BaseException], Any]:
        """Calls ``listener(exception)`` for what an event listener raised; usable as a decorator."""
        self._error_listeners.append(listener)
        return listener

    def get_data(self, path: str, default: Optional[NodeData] = None) -> Optional[NodeData]:
        """The cached :class:`NodeData` of ``path``, or ``default``.

        Raises ValueError when ``path`` is outside the cached subtree.
        """
        raw = self._native.get_data(self._inside(path))
        if raw is None:
            return default
        return NodeData.make(raw[0], raw[1], ZnodeStat(*raw[2]))

    def get_children(self, path: str, default: Optional[FrozenSet[str]] = None) -> Optional[FrozenSet[str]]:
        """The names of the cached children of ``path``, or ``default`` when it is not cached.

        Raises ValueError when ``path`` is outside the cached subtree.
        """
        names = self._native.get_children(self._inside(path))
        return default if names is None else frozenset(names)

    def _inside(self, path: str) -> str:
        path = _normal_path(path)
        root = self.path
        if not (path == root or path.startswith(root.rstrip("/") + "/")):
            raise ValueError("outside of tree")
        return path

    def _deliver(self) -> None:
        while self._state != self.STATE_CLOSED:
            item = self._native.next_event(self._POLL_S)
            if item is None:
                if self.client._native is not self._session_client:
                    return  # the client was stopped: nothing more will come
                continue
            if self._state == self.STATE_CLOSED:
                return
            kind, raw = item
            data = None if raw is None else NodeData.make(raw[0], raw[1], ZnodeStat(*raw[2]))
            event = TreeEvent.make(getattr(TreeEvent, kind), data)
            for listener in list(self._event_listeners):
                try:
                    listener(event)
                except Exception as e:
                    self._fault(e)

    def _fault(self, error: BaseException) -> None:
        if not self._error_listeners:
            log.exception("corral: a TreeCache listener raised", exc_info=error)
        for listener in list(self._error_listeners):
            try:
                listener(error)
            except Exception:
                log.exception("corral: a TreeCache fault listener raised")


def _normal_path(path: str) -> str:
    return path.rstrip("/") or "/"


# ---- service discovery -----------------------------------------------------------------


class ServiceInstance:
    """One instance of a service (Curator's ``ServiceInstance``).

    ``payload`` is any JSON-serialisable value. ``service_type`` is DYNAMIC
    (an ephemeral node, the default), DYNAMIC_SEQUENTIAL, STATIC or
    PERMANENT (persistent nodes). ``uri_spec`` is a template such as
    ``"{scheme}://{address}:{port}"``; :meth:`build_uri` fills it in. Without
    ``id`` the instance gets a fresh UUID; without ``registration_time_utc``,
    now (ms since the epoch).
    """

    def __init__(
        self,
        name: str,
        address: Optional[str] = None,
        port: Optional[int] = None,
        ssl_port: Optional[int] = None,
        payload: Any = None,
        id: Optional[str] = None,
        service_type: str = "DYNAMIC",
        uri_spec: Optional[str] = None,
        enabled: bool = True,
        registration_time_utc: Optional[int] = None,
    ) -> None:
        if id is None or registration_time_utc is None:
            fresh = _corral.ServiceDiscovery.new_instance(name)
            id = fresh[1] if id is None else id
            registration_time_utc = fresh[6] if registration_time_utc is None else registration_time_utc
        self.name = name
        self.id = id
        self.address = address
        self.port = port
        self.ssl_port = ssl_port
        self.payload = payload
        self.service_type = service_type
        self.uri_spec = uri_spec
        self.enabled = enabled
        self.registration_time_utc = registration_time_utc

    def build_uri(self) -> Optional[str]:
        """The URI the ``uri_spec`` template gives (None without one)."""
        return _corral.ServiceDiscovery.build_uri(self._tuple())

    def _tuple(self) -> Tuple[Any, ...]:
        payload = None if self.payload is None else json.dumps(self.payload)
        return (
            self.name,
            self.id,
            self.address,
            self.port,
            self.ssl_port,
            payload,
            int(self.registration_time_utc or 0),
            self.service_type,
            self.uri_spec,
            bool(self.enabled),
        )

    @classmethod
    def _from_tuple(cls, t: Tuple[Any, ...]) -> "ServiceInstance":
        name, id_, address, port, ssl_port, payload, time_, kind, uri_spec, enabled = t
        return cls(
            name,
            address=address,
            port=port,
            ssl_port=ssl_port,
            payload=None if payload is None else json.loads(payload),
            id=id_,
            service_type=kind,
            uri_spec=uri_spec,
            enabled=enabled,
            registration_time_utc=time_,
        )

    def _fields(self) -> Tuple[Any, ...]:
        return (
            self.name,
            self.id,
            self.address,
            self.port,
            self.ssl_port,
            self.payload,
            self.registration_time_utc,
            self.service_type,
            self.uri_spec,
            self.enabled,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceInstance) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((self.name, self.id))

    def __repr__(self) -> str:
        return (
            f"ServiceInstance(name={self.name!r}, id={self.id!r}, address={self.address!r}, "
            f"port={self.port!r}, service_type={self.service_type!r})"
        )


class ServiceCache:
    """A live list of one service's instances (Curator's ``ServiceCache``)."""

    def __init__(self, native: _corral.ServiceCache) -> None:
        self._native = native

    @property
    def instances(self) -> List[ServiceInstance]:
        """The instances as last seen, sorted by id."""
        return [ServiceInstance._from_tuple(t) for t in self._native.instances()]

    def wait_for_change(self, timeout: Optional[float] = None) -> Optional[List[ServiceInstance]]:
        """Waits until the list changes and returns it; None after ``timeout`` seconds or once closed."""
        raw = self._native.wait_for_change(timeout)
        return None if raw is None else [ServiceInstance._from_tuple(t) for t in raw]

    def close(self) -> None:
        """Stops following the service."""
        self._native.close()

    def __enter__(self) -> "ServiceCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ServiceDiscovery:
    """A service registry under ``base_path`` (Curator's ``ServiceDiscovery``).

    Each instance is a node ``<base_path>/<name>/<id>`` holding Curator's
    instance JSON, so Curator processes see corral's instances and the other
    way round. DYNAMIC registrations are kept present by the core (made
    again after session loss) until :meth:`unregister` or :meth:`close`, or
    until this object is garbage-collected: keep it while the instances
    should stay registered.
    """

    def __init__(self, client: "Client", base_path: str) -> None:
        self.client = client
        self.base_path = base_path
        self._native = _corral.ServiceDiscovery(client._c, base_path)

    def register(self, instance: ServiceInstance) -> ServiceInstance:
        """Registers ``instance`` (replacing an earlier registration of its id); returns it as registered."""
        return ServiceInstance._from_tuple(self._native.register(instance._tuple()))

    def update(self, instance: ServiceInstance) -> None:
        """Publishes new data for an instance this object registered (NoNodeError otherwise)."""
        self._native.update(instance._tuple())

    def unregister(self, instance: ServiceInstance) -> None:
        """Removes ``instance`` (registered by this object or not)."""
        self._native.unregister(instance.name, instance.id)

    def names(self) -> List[str]:
        """The names of all services, sorted."""
        return self._native.names()

    def instances(self, name: str) -> List[ServiceInstance]:
        """Every instance of service ``name``, sorted by id."""
        return [ServiceInstance._from_tuple(t) for t in self._native.instances(name)]

    def instance(self, name: str, id: str) -> Optional[ServiceInstance]:
        """One instance, or None when it is not registered."""
        raw = self._native.instance(name, id)
        return None if raw is None else ServiceInstance._from_tuple(raw)

    def cache(self, name: str) -> ServiceCache:
        """A live instance list of service ``name``, loaded before it returns."""
        return ServiceCache(self._native.cache(name))

    def close(self) -> None:
        """Unregisters the DYNAMIC instances this object registered (STATIC and
        PERMANENT ones stay); the object is unusable afterwards."""
        self._native.close()

    def __enter__(self) -> "ServiceDiscovery":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- SetPartitioner ------------------------------------------------------------------


class PartitionState:
    """The states of a :class:`SetPartitioner` (kazoo's ``PartitionState``)."""

    ALLOCATING = "ALLOCATING"
    ACQUIRED = "ACQUIRED"
    RELEASE = "RELEASE"
    FAILURE = "FAILURE"


class SetPartitioner:
    """kazoo's ``SetPartitioner``: splits ``set`` among the members of a party at ``path``.

    Members join a ShallowParty at ``<path>/party``. Once the membership has
    been stable for ``time_boundary`` seconds, each member takes its share
    (sorted items dealt round-robin over sorted identifiers, kazoo's split)
    and locks its items, so no item is ever held twice. States: ALLOCATING
    → ACQUIRED (iterate over the partitioner for the share) → RELEASE (the
    membership changed: call :meth:`release_set`) → ALLOCATING ... Session
    loss or :meth:`finish` end in FAILURE, for good.

    ``identifier`` (default: host name and pid) must be unique and valid in
    a node name, as must the items' ``str()``. ``partition_func(identifier,
    members, partitions)``, as kazoo's, returns this member's share of
    ``partitions`` (every member must use the same one; the default deals
    sorted items round-robin). ``max_reaction_time`` is
    accepted for kazoo's signature (corral reacts to every change at once).
    ``state_change_event`` is set at every state change.
    """

    def __init__(
        self,
        client: "Client",
        path: str,
        set: Iterable[Any],
        partition_func: Optional[Callable[..., Any]] = None,
        identifier: Optional[str] = None,
        time_boundary: float = 30,
        max_reaction_time: float = 1,
        state_change_event: Optional[threading.Event] = None,
    ) -> None:
        self.client = client
        self.path = path
        self._items: Dict[str, Any] = {str(item): item for item in set}
        self._identifier = identifier if identifier is not None else _host_identifier()
        self._time_boundary = time_boundary
        self._max_reaction_time = max_reaction_time
        self.state_change_event = state_change_event if state_change_event is not None else threading.Event()
        split = None
        if partition_func is not None:
            items = self._items

            def split(identifier: str, members: List[str], names: List[str]) -> List[str]:
                share = partition_func(identifier, members, [items[n] for n in names])
                return [str(item) for item in share]

        self._native = _corral.SetPartitioner(
            client._c, path, list(self._items), self._identifier, float(time_boundary), split
        )
        self._watcher = threading.Thread(target=self._watch_states, name="corral-partitioner", daemon=True)
        self._watcher.start()

    @property
    def state(self) -> str:
        """The current :class:`PartitionState`."""
        return self._native.state()

    @property
    def failed(self) -> bool:
        """Whether the state is FAILURE."""
        return self.state == PartitionState.FAILURE

    @property
    def release(self) -> bool:
        """Whether the state is RELEASE: call :meth:`release_set`."""
        return self.state == PartitionState.RELEASE

    @property
    def allocating(self) -> bool:
        """Whether the state is ALLOCATING."""
        return self.state == PartitionState.ALLOCATING

    @property
    def acquired(self) -> bool:
        """Whether the state is ACQUIRED: the share is held."""
        return self.state == PartitionState.ACQUIRED

    def wait_for_acquire(self, timeout: float = 30) -> bool:
        """Waits while allocating (at most ``timeout`` seconds); whether the share is acquired."""
        state = self._native.wait_for_change(PartitionState.ALLOCATING, timeout)
        if state != PartitionState.ALLOCATING:
            self.state_change_event.set()  # before returning, as kazoo does; the watcher may lag
        return state == PartitionState.ACQUIRED

    def release_set(self) -> None:
        """Gives up the share (its locks) and starts allocating again."""
        self._native.release_set()

    def finish(self) -> None:
        """Releases the share and leaves the party; the state ends as FAILURE."""
        self._native.finish()

    def __iter__(self) -> Iterator[Any]:
        """The items of this member's share."""
        return iter([self._items.get(name, name) for name in self._native.partitions()])

    def _watch_states(self) -> None:
        state = PartitionState.ALLOCATING  # where every partitioner starts
        while state != PartitionState.FAILURE:
            new = self._native.wait_for_change(state, None)
            if new != state:
                self.state_change_event.set()
            state = new
