"""kazoo's threading handler (``kazoo.handlers.threading``): threads, events
and locks for recipes and tests, and one callback thread that runs async
callbacks in order::

    from corral.kazoo import KazooClient

    zk = KazooClient("127.0.0.1:2181")
    done = zk.handler.event_object()
    zk.handler.spawn(work, done)
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable, Optional

from corral.kazoo.handlers.utils import AsyncResult as _AsyncResult

__all__ = ["AsyncResult", "KazooTimeoutError", "SequentialThreadingHandler"]

log = logging.getLogger("corral.kazoo")

_STOP = object()


class KazooTimeoutError(Exception):
    """A wait ran out of time (``start`` with no server, ``AsyncResult.get``)."""


class AsyncResult(_AsyncResult):
    """An :class:`~corral.kazoo.handlers.utils.AsyncResult` of a handler."""


class SequentialThreadingHandler(object):
    """Runs async callbacks one at a time, in order, on a thread of its own."""

    name = "sequential_threading_handler"
    timeout_exception = KazooTimeoutError
    sleep_func = staticmethod(time.sleep)
    queue_impl = queue.Queue
    queue_empty = queue.Empty

    def __init__(self) -> None:
        self.callback_queue: "queue.Queue[Any]" = queue.Queue()
        self._running = False
        self._state_change = threading.Lock()
        self._thread: Optional[threading.Thread] = None

    @property
    def running(self) -> bool:
        """Whether the callback thread runs."""
        return self._running

    def start(self) -> None:
        """Starts the callback thread (a second call does nothing)."""
        with self._state_change:
            if self._running:
                return
            self._running = True
            self._thread = threading.Thread(target=self._work, name="corral-kazoo-callbacks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Runs the callbacks already queued, then ends the callback thread."""
        with self._state_change:
            if not self._running:
                return
            self._running = False
            thread, self._thread = self._thread, None
        self.callback_queue.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.callback_queue = queue.Queue()

    def _work(self) -> None:
        q = self.callback_queue
        while True:
            item = q.get()
            if item is _STOP:
                return
            try:
                item.func(*item.args)
            except Exception:
                log.exception("corral.kazoo: an async callback raised")

    def event_object(self) -> threading.Event:
        """A new ``threading.Event``."""
        return threading.Event()

    def lock_object(self) -> Any:
        """A new ``threading.Lock``."""
        return threading.Lock()

    def rlock_object(self) -> Any:
        """A new ``threading.RLock``."""
        return threading.RLock()

    def async_result(self) -> AsyncResult:
        """A new :class:`AsyncResult` whose callbacks run on this handler."""
        return AsyncResult(self)

    def spawn(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
        """Runs ``func(*args, **kwargs)`` on a new daemon thread; returns the thread."""
        t = threading.Thread(target=func, args=args, kwargs=kwargs, daemon=True)
        t.start()
        return t

    def dispatch_callback(self, callback: Any) -> None:
        """Queues ``callback.func(*callback.args)`` for the callback thread
        (runs it at once when the handler is not started)."""
        if self._running:
            self.callback_queue.put(callback)
        else:
            try:
                callback.func(*callback.args)
            except Exception:
                log.exception("corral.kazoo: an async callback raised")
