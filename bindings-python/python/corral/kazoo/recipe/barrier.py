"""Barriers (``kazoo.recipe.barrier``)::

    from corral.kazoo.recipe.barrier import Barrier, DoubleBarrier

    b = Barrier(zk, "/barrier")
    b.create()
    b.wait(timeout=10)     # True once someone calls b.remove()
"""

from corral.recipes import Barrier, DoubleBarrier

__all__ = ["Barrier", "DoubleBarrier"]
