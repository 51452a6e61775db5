"""Data and children watches (``kazoo.recipe.watchers``)::

    from corral.kazoo.recipe.watchers import DataWatch, PatientChildrenWatch

    @DataWatch(zk, "/config")
    def changed(data, stat):
        print(data)

    # The children once they have stayed unchanged for 5 s:
    children, changed_again = PatientChildrenWatch(zk, "/workers", 5).start().get()
"""

from __future__ import annotations

import threading
import time
from typing import Any, List, Optional

from corral.client import ChildrenWatch, DataWatch

__all__ = ["ChildrenWatch", "DataWatch", "PatientChildrenWatch"]


class PatientChildrenWatch(object):
    """kazoo's ``PatientChildrenWatch``: waits until the children of ``path``
    have not changed for ``time_boundary`` seconds.

    :meth:`start` returns an async result (of the client's handler) that
    becomes ``(children, changed)``: the settled list, and another async
    result that is set (to the time) at the next change after it. A failure
    (the node does not exist, the client stopped) is the result's exception.
    """

    def __init__(self, client: Any, path: str, time_boundary: float = 30) -> None:
        self.client = client
        self.path = path
        self.time_boundary = time_boundary
        self.children: List[str] = []
        self.children_changed = threading.Event()
        self.asy: Optional[Any] = None

    def start(self) -> Any:
        """Starts watching on a thread of the handler; returns the async result."""
        self.asy = self.client.handler.async_result()
        self.client.handler.spawn(self._settle)
        return self.asy

    def _settle(self) -> None:
        try:
            while True:
                changed = self.client.handler.async_result()

                def watch(event: Any, changed: Any = changed) -> None:
                    self.children_changed.set()
                    if not changed.ready():
                        changed.set(time.time())

                self.children = self.client.retry(self.client.get_children, self.path, watch)
                self.client.handler.sleep_func(self.time_boundary)
                if not self.children_changed.is_set():
                    break
                self.children_changed.clear()
            self.asy.set((self.children, changed))
        except Exception as exc:
            self.asy.set_exception(exc)
