"""Barriers (``kazoo.recipe.barrier``)::

    from corral.kazoo.recipe.barrier import Barrier, DoubleBarrier

    b = Barrier(zk, "/barrier")
    b.create()
    b.wait(timeout=10)     # True once someone calls b.remove()
"""

from __future__ import annotations

import logging
from typing import Callable, Optional

from corral import recipes
from corral.exceptions import CorralError
from corral.recipes import Barrier

__all__ = ["Barrier", "DoubleBarrier"]

log = logging.getLogger("corral.kazoo")


class DoubleBarrier(recipes.DoubleBarrier):
    """kazoo's ``DoubleBarrier``: :meth:`enter` that fails (the barrier's
    parent is an ephemeral node, say) leaves :attr:`participating` False and
    this member's node removed instead of raising, as kazoo's does; so does
    a :meth:`leave` that fails."""

    def enter(self, timeout: Optional[float] = None) -> bool:
        """Enters and waits until enough members have entered; False when
        entering failed or ``timeout`` ran out."""
        return self._softly("enter", super().enter, timeout)

    def leave(self, timeout: Optional[float] = None) -> bool:
        """Leaves and waits until every member has left; False when leaving
        failed or ``timeout`` ran out."""
        return self._softly("leave", super().leave, timeout)

    def _softly(self, what: str, step: Callable[[Optional[float]], bool], timeout: Optional[float]) -> bool:
        """kazoo's handling of a failed step: logged, this member's node removed."""
        try:
            return step(timeout)
        except CorralError:
            log.warning("corral.kazoo: could not %s the barrier at %s", what, self.path, exc_info=True)
            self._best_effort_cleanup()
            self.participating = False
            return False

    def _best_effort_cleanup(self) -> None:
        try:
            self.client.delete(self.create_path)
        except CorralError:  # gone already, or no connection: kazoo ignores it too
            pass
