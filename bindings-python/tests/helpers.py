"""Small helpers shared by the test modules."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01, message: str = "") -> Any:
    """Polls ``predicate`` until truthy; returns its value or fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        time.sleep(interval)


# How long a check that no further call comes keeps listening. A duplicate event
# travels right behind the first one, far within this.
QUIET_S = 0.3


class Recorder:
    """A callback that records its arguments and the thread it ran on.

    ``wait(n)`` returns as soon as n calls came (for synchronisation: a call arriving a
    moment later is not in the list); a test that claims which calls came, and that no
    others did, uses ``exactly(n)`` or ``quiet()``.
    """

    def __init__(self) -> None:
        self.calls: List[Any] = []
        self.threads: List[int] = []
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> None:
        with self.lock:
            self.calls.append(args[0] if len(args) == 1 else args)
            self.threads.append(threading.get_ident())

    def wait(self, n: int, timeout: float = 10.0) -> List[Any]:
        """At least ``n`` calls: everything received so far."""
        wait_until(lambda: len(self.calls) >= n, timeout, message=f"expected {n} calls, got {self.calls}")
        with self.lock:
            return list(self.calls)

    def exactly(self, n: int, timeout: float = 10.0, quiet: float = QUIET_S) -> List[Any]:
        """``n`` calls and, ``quiet`` seconds later, still no more: a duplicate or extra
        call fails here."""
        self.wait(n, timeout)
        calls = self.quiet(quiet)
        if len(calls) != n:
            raise AssertionError(f"expected exactly {n} calls, got {len(calls)}: {calls}")
        return calls

    def quiet(self, seconds: float = QUIET_S) -> List[Any]:
        """Lets ``seconds`` pass on purpose and returns every call so far (for "no more
        calls" checks: only time can show that nothing else arrives)."""
        time.sleep(seconds)
        with self.lock:
            return list(self.calls)
