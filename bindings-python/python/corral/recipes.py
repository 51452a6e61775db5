"""Recipes from corral's core, for the blocking client, in kazoo's shape.

Wrapped so far: :class:`Lock`, :class:`Counter`, :class:`Barrier`,
:class:`Queue` and :class:`LeaderLatch`. Each is also a method of
:class:`corral.Client` (``zk.Lock("/locks/x")``). Lock nodes follow kazoo's
naming, so corral and kazoo processes can share a lock path.
"""

from __future__ import annotations

from typing import Iterable, Optional, TYPE_CHECKING

from corral import _corral

if TYPE_CHECKING:
    from corral.client import Client

__all__ = ["Barrier", "Counter", "LeaderLatch", "Lock", "Queue"]


class Lock:
    """A re-entrant distributed mutex (kazoo's ``Lock``; Curator's ``InterProcessMutex``).

    ``with zk.Lock("/locks/report"):`` holds it for the block. While the
    connection is down ownership is unknown (:attr:`state` SUSPENDED); after
    session expiry it is gone (LOST).
    """

    def __init__(self, client: "Client", path: str, identifier: str = "") -> None:
        self.client = client
        self.path = path
        self.identifier = identifier
        self._native = _corral.Lock(client._c, path, identifier)

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes the lock: waits (at most ``timeout`` seconds) unless ``blocking`` is False.
        Returns whether it is held."""
        if not blocking:
            return self._native.try_acquire()
        return self._native.acquire(timeout)

    def release(self) -> bool:
        """Undoes one acquisition; the last one deletes the lock node. Returns True."""
        self._native.release()
        return True

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

    def contenders(self) -> list:
        """The paths of every contender's node, holder first."""
        return self._native.contenders()

    def __enter__(self) -> "Lock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Counter:
    """kazoo's integer ``Counter``: ``counter += 1`` adds atomically; :attr:`value` reads.

    After a change, :attr:`pre_value` and :attr:`post_value` hold the values around it.
    """

    def __init__(self, client: "Client", path: str, default: int = 0) -> None:
        self.client = client
        self.path = path
        self.default = default
        self.pre_value: Optional[int] = None
        self.post_value: Optional[int] = None
        self._native = _corral.Counter(client._c, path, default)

    @property
    def value(self) -> int:
        """The current value (the default while the node is empty or missing)."""
        return self._native.value()

    def add(self, delta: int) -> int:
        """Adds ``delta``; returns the new value."""
        self.pre_value, self.post_value = self._native.add(delta)
        return self.post_value

    def __add__(self, delta: int) -> "Counter":
        self.add(delta)
        return self

    def __sub__(self, delta: int) -> "Counter":
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
        """Lowers the barrier. Returns True."""
        self._native.remove()
        return True

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits until the barrier is down; False when ``timeout`` seconds passed first."""
        return self._native.wait(timeout)


class Queue:
    """A distributed FIFO queue: each item is taken by exactly one consumer."""

    def __init__(self, client: "Client", path: str) -> None:
        self.client = client
        self.path = path
        self._native = _corral.Queue(client._c, path)

    def put(self, value: bytes) -> None:
        """Appends an item."""
        self._native.put(bytes(value))

    def put_all(self, values: Iterable[bytes]) -> None:
        """Appends items, in order, in one transaction."""
        self._native.put_all([bytes(v) for v in values])

    def get(self) -> Optional[bytes]:
        """Takes the next item, or returns None when the queue is empty."""
        return self._native.get()

    def take(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Takes the next item, waiting for one (None after ``timeout`` seconds)."""
        return self._native.take(timeout)

    def __len__(self) -> int:
        return self._native.len()


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
