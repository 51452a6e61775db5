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


class Recorder:
    """A callback that records its arguments and the thread it ran on."""

    def __init__(self) -> None:
        self.calls: List[Any] = []
        self.threads: List[int] = []
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> None:
        with self.lock:
            self.calls.append(args[0] if len(args) == 1 else args)
            self.threads.append(threading.get_ident())

    def wait(self, n: int, timeout: float = 10.0) -> List[Any]:
        wait_until(lambda: len(self.calls) >= n, timeout, message=f"expected {n} calls, got {self.calls}")
        return list(self.calls)
