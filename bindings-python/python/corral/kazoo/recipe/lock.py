"""Locks and semaphores (``kazoo.recipe.lock``), in kazoo's node layout::

    from corral.kazoo.recipe.lock import Lock
    from corral.kazoo.exceptions import LockTimeout

    lock = Lock(zk, "/locks/job", "worker-1")
    try:
        with lock:            # or lock.acquire(timeout=5): LockTimeout when not had
            ...
    except LockTimeout:
        ...

These are :mod:`corral.recipes`' classes with kazoo's rules for one object:

* a lock is not re-entrant: acquiring it again through the object that holds
  it gives False when not ``blocking`` or once ``timeout`` runs out, and
  otherwise waits until it is released, so threads sharing one object take
  turns (``corral.Client``'s locks nest instead);
* :attr:`~Lock.is_acquired` stays True from a successful acquire to
  :meth:`~Lock.release`, also while the connection is down or after the
  session expired, and releasing a lock whose session expired returns True;
* an acquire that the session's expiry interrupts starts over with the
  client's new session, for locks and semaphores (``corral.Client`` raises
  :class:`~corral.SessionExpiredError` instead).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

from corral import recipes
from corral.exceptions import CancelledError, LockTimeout, SessionExpiredError

__all__ = ["CancelledError", "Lock", "LockTimeout", "ReadLock", "Semaphore", "WriteLock"]

# How long to wait before an acquire starts over after the session expired:
# the client is getting its new session meanwhile.
_RESTART_PAUSE = 0.1


def _left(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _restart_after_expiry(deadline: Optional[float], path: str, timeout: Optional[float]) -> None:
    """Pauses before an acquire starts over; LockTimeout when no time is left."""
    if deadline is not None and time.monotonic() + _RESTART_PAUSE >= deadline:
        raise LockTimeout(f"Failed to acquire lock on {path} after {timeout} seconds")
    time.sleep(_RESTART_PAUSE)


class _KazooLockRules:
    """kazoo's rules for one lock object, over a :class:`corral.recipes.Lock`."""

    path: str
    state: str
    _native: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One acquire at a time through this object; a release wakes the next.
        self._method_lock = threading.Lock()
        self._released = threading.Condition()

    @property
    def is_acquired(self) -> bool:
        """True from a successful acquire until :meth:`release` (kazoo's flag)."""
        return self.state != "RELEASED"

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None, ephemeral: bool = True) -> bool:
        """Takes the lock: True once held. False when not ``blocking`` and it
        is taken, or when this object holds it already and ``timeout`` ran out.
        :class:`LockTimeout` when another holder kept it past ``timeout``.
        ``ephemeral=False`` keeps the lock node after the session."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if blocking and timeout is not None:
            entered = self._method_lock.acquire(True, timeout)
        else:
            entered = self._method_lock.acquire(blocking)
        if not entered:
            return False
        try:
            with self._released:
                while self.state != "RELEASED":
                    left = _left(deadline)
                    if not blocking or left == 0:
                        return False
                    self._released.wait(left)
            while True:
                try:
                    return super().acquire(blocking, _left(deadline), ephemeral)  # type: ignore[misc]
                except SessionExpiredError:
                    _restart_after_expiry(deadline, self.path, timeout)
        finally:
            self._method_lock.release()

    def release(self) -> bool:
        """Releases the lock: True when this object held it (also when its
        session expired meanwhile and the node went with it), else False."""
        try:
            return super().release()  # type: ignore[misc]
        except SessionExpiredError:
            return True
        finally:
            with self._released:
                self._released.notify_all()


class Lock(_KazooLockRules, recipes.Lock):
    """kazoo's ``Lock``: see the module documentation for its rules."""


class ReadLock(_KazooLockRules, recipes.ReadLock):
    """kazoo's ``ReadLock``: see the module documentation for its rules."""


class WriteLock(_KazooLockRules, recipes.WriteLock):
    """kazoo's ``WriteLock``: see the module documentation for its rules."""


class Semaphore(recipes.Semaphore):
    """kazoo's ``Semaphore``: an acquire that the session's expiry interrupts
    starts over with the client's new session."""

    def acquire(self, blocking: bool = True, timeout: Optional[float] = None) -> bool:
        """Takes a lease: see :meth:`corral.Semaphore.acquire`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.cancelled = False
        self.wake_event.clear()
        while True:
            try:
                return self._acquire(blocking, _left(deadline))
            except SessionExpiredError:
                _restart_after_expiry(deadline, self.path, timeout)
