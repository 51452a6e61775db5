"""Sharing a set among a party's members (``kazoo.recipe.partitioner``)::

    from corral.kazoo.recipe.partitioner import SetPartitioner

    p = SetPartitioner(zk, "/parts", set=("a", "b", "c"))
    p.wait_for_acquire()
    if p.acquired:
        print(list(p))
"""

from corral.recipes import PartitionState, SetPartitioner

__all__ = ["PartitionState", "SetPartitioner"]
