"""Queues (``kazoo.recipe.queue``)::

    from corral.kazoo.recipe.queue import Queue

    q = Queue(zk, "/jobs")
    q.put(b"job-1")
    print(q.get())
"""

from corral.recipes import LockingQueue, Queue

__all__ = ["LockingQueue", "Queue"]
