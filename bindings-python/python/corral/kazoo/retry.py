"""kazoo's retry helper (``kazoo.retry``), with kazoo's parameters::

    from corral.kazoo.retry import KazooRetry

    retry = KazooRetry(max_tries=5, delay=0.1, backoff=2, max_delay=2)
    data, stat = retry(zk.get, "/config")

It calls the function again after :class:`ConnectionLoss`,
:class:`OperationTimeoutError` and :class:`ForceRetryError` (and
:class:`SessionExpiredError` unless ``ignore_expire=False``), sleeping a
jittered, growing delay in between, and raises :class:`RetryFailedError`
when the tries or the deadline run out.
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Optional, Tuple, Type

from corral.kazoo.exceptions import (
    ConnectionClosedError,
    ConnectionLoss,
    CorralError,
    OperationTimeoutError,
    SessionExpiredError,
)

__all__ = ["ForceRetryError", "InterruptedError", "KazooRetry", "RetryFailedError"]


class ForceRetryError(Exception):
    """Raise it inside a retried function to have it called again."""


class RetryFailedError(CorralError):
    """The tries or the deadline ran out."""


class InterruptedError(RetryFailedError):  # noqa: A001 - kazoo's name
    """The ``interrupt`` function asked the retry to stop."""


class KazooRetry(object):
    """Calls a function until it succeeds or the retry gives up.

    ``max_tries`` (-1: no limit), ``delay`` (first pause, seconds),
    ``backoff`` (its multiplier), ``max_jitter`` (0..1, spread of each
    pause), ``max_delay`` (cap of a pause), ``ignore_expire`` (retry after a
    session expiry too), ``sleep_func``, ``deadline`` (seconds for all tries)
    and ``interrupt`` (a function; True stops the retry, checked at least
    every 0.1 s while pausing).
    """

    RETRY_EXCEPTIONS: Tuple[Type[BaseException], ...] = (ConnectionLoss, OperationTimeoutError, ForceRetryError)
    EXPIRED_EXCEPTIONS: Tuple[Type[BaseException], ...] = (SessionExpiredError,)

    def __init__(
        self,
        max_tries: int = 1,
        delay: float = 0.1,
        backoff: float = 2,
        max_jitter: float = 0.4,
        max_delay: float = 60.0,
        ignore_expire: bool = True,
        sleep_func: Callable[[float], Any] = time.sleep,
        deadline: Optional[float] = None,
        interrupt: Optional[Callable[[], bool]] = None,
    ) -> None:
        self.max_tries = max_tries
        self.delay = delay
        self.backoff = backoff
        self.max_jitter = max(min(max_jitter, 1.0), 0.0)
        self.max_delay = float(max_delay)
        self.deadline = deadline
        self.sleep_func = sleep_func
        self.interrupt = interrupt
        self.retry_exceptions = self.RETRY_EXCEPTIONS + (self.EXPIRED_EXCEPTIONS if ignore_expire else ())
        self.reset()

    def reset(self) -> None:
        """Forgets the tries made so far."""
        self._attempts = 0
        self._cur_delay = self.delay
        self._cur_stoptime: Optional[float] = None

    def copy(self) -> "KazooRetry":
        """A fresh retry with the same settings."""
        other = KazooRetry(
            max_tries=self.max_tries,
            delay=self.delay,
            backoff=self.backoff,
            max_jitter=self.max_jitter,
            max_delay=self.max_delay,
            sleep_func=self.sleep_func,
            deadline=self.deadline,
            interrupt=self.interrupt,
        )
        other.retry_exceptions = self.retry_exceptions
        return other

    def __call__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)``, called again after each retryable failure."""
        self.reset()
        while True:
            try:
                if self.deadline is not None and self._cur_stoptime is None:
                    self._cur_stoptime = time.monotonic() + self.deadline
                return func(*args, **kwargs)
            except ConnectionClosedError:
                raise
            except self.retry_exceptions:
                self._attempts += 1
                if self._attempts == self.max_tries:
                    raise RetryFailedError("Too many retry attempts")
                pause = self._cur_delay * random.uniform(1.0 - self.max_jitter, 1.0 + self.max_jitter)
                if self._cur_stoptime is not None and time.monotonic() + pause >= self._cur_stoptime:
                    raise RetryFailedError("Exceeded retry deadline")
                self._pause(pause)
                self._cur_delay = min(self._cur_delay * self.backoff, self.max_delay)

    def _pause(self, seconds: float) -> None:
        if not self.interrupt:
            self.sleep_func(seconds)
            return
        # Look at the interrupt at least every 0.1 s.
        steps, rest = divmod(seconds, 0.1)
        for _ in range(int(steps)):
            if self.interrupt():
                raise InterruptedError()
            self.sleep_func(0.1)
        if self.interrupt():
            raise InterruptedError()
        self.sleep_func(rest)
