"""kazoo's API on corral: switch by changing the import.

::

    from corral.kazoo import KazooClient, KazooState     # was: from kazoo.client import ...
    from corral.kazoo.exceptions import NoNodeError, LockTimeout
    from corral.kazoo.recipe.lock import Lock

    zk = KazooClient(hosts="127.0.0.1:2181")
    zk.start()
    with zk.Lock("/locks/job", "worker-1"):
        ...
    zk.stop()

Module paths follow kazoo's: ``corral.kazoo.client``, ``.exceptions``,
``.retry``, ``.security``, ``.protocol.states``, ``.protocol.paths``,
``.handlers.threading`` and ``.recipe.*``. Recipes use kazoo's node
layouts, so kazoo and corral processes share locks, elections and
semaphores on the same paths.
"""

from corral.kazoo.client import KazooClient, KazooState, KeeperState, TransactionRequest
from corral.kazoo.retry import KazooRetry

__all__ = ["KazooClient", "KazooRetry", "KazooState", "KeeperState", "TransactionRequest"]
