"""Locks and semaphores (``kazoo.recipe.lock``), in kazoo's node layout::

    from corral.kazoo.recipe.lock import Lock
    from corral.kazoo.exceptions import LockTimeout

    lock = Lock(zk, "/locks/job", "worker-1")
    try:
        with lock:            # or lock.acquire(timeout=5): LockTimeout when not had
            ...
    except LockTimeout:
        ...
"""

from corral.exceptions import CancelledError, LockTimeout
from corral.recipes import Lock, ReadLock, Semaphore, WriteLock

__all__ = ["CancelledError", "Lock", "LockTimeout", "ReadLock", "Semaphore", "WriteLock"]
