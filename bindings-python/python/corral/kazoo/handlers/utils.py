"""kazoo's asynchronous result (``IAsyncResult``), for the ``*_async`` methods.

::

    result = zk.get_async("/config")
    result.rawlink(lambda r: print(r.get()))   # called once it is ready
    data, stat = result.get(timeout=5)
"""

from __future__ import annotations

import threading
from typing import Any, Callable, List, Optional

__all__ = ["AsyncResult"]

_NONE = object()


class AsyncResult(object):
    """A value or an exception that arrives later (kazoo's ``IAsyncResult`` contract).

    Callbacks linked with :meth:`rawlink` run on the handler's callback
    thread, once, with this object.
    """

    def __init__(self, handler: Any) -> None:
        self._handler = handler
        self._cond = threading.Condition(threading.Lock())
        self.value: Any = None
        self._exception: Any = _NONE
        self._callbacks: List[Callable[["AsyncResult"], Any]] = []

    def ready(self) -> bool:
        """Whether a value or an exception has arrived."""
        return self._exception is not _NONE

    def successful(self) -> bool:
        """Whether it arrived as a value (not an exception)."""
        return self._exception is None

    @property
    def exception(self) -> Optional[BaseException]:
        """The exception it ended with (None while pending or on success)."""
        if self._exception is _NONE:
            return None
        return self._exception

    def set(self, value: Any = None) -> None:
        """Delivers a value and wakes the waiters."""
        with self._cond:
            self.value = value
            self._exception = None
            self._cond.notify_all()
        self._do_callbacks()

    def set_exception(self, exception: BaseException) -> None:
        """Delivers an exception and wakes the waiters."""
        with self._cond:
            self._exception = exception
            self._cond.notify_all()
        self._do_callbacks()

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Any:
        """The value, or raises the exception; waits at most ``timeout``
        seconds when ``block`` (else raises the handler's timeout exception)."""
        with self._cond:
            if not self.ready() and block:
                self._cond.wait(timeout)
            if not self.ready():
                raise self._handler.timeout_exception("timed out waiting for the result")
        if self._exception is not None:
            raise self._exception
        return self.value

    def get_nowait(self) -> Any:
        """``get(block=False)``."""
        return self.get(block=False)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits until ready (at most ``timeout`` seconds); returns :meth:`ready`."""
        with self._cond:
            if not self.ready():
                self._cond.wait(timeout)
        return self.ready()

    def rawlink(self, callback: Callable[["AsyncResult"], Any]) -> None:
        """Calls ``callback(self)`` once ready (at once if it already is)."""
        with self._cond:
            self._callbacks.append(callback)
            ready = self.ready()
        if ready:
            self._do_callbacks()

    def unlink(self, callback: Callable[["AsyncResult"], Any]) -> None:
        """Removes a callback linked with :meth:`rawlink`."""
        with self._cond:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def _do_callbacks(self) -> None:
        with self._cond:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._handler.dispatch_callback(_Call(callback, self))


class _Call(tuple):
    """A callback and its argument, as a handler's ``dispatch_callback`` takes it."""

    def __new__(cls, func: Callable[..., Any], arg: Any) -> "_Call":
        return tuple.__new__(cls, ("async_result", func, (arg,)))

    @property
    def func(self) -> Callable[..., Any]:
        return self[1]

    @property
    def args(self) -> tuple:
        return self[2]
