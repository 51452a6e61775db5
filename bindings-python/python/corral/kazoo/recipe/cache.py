"""The tree cache (``kazoo.recipe.cache``)::

    from corral.kazoo.recipe.cache import TreeCache

    cache = TreeCache(zk, "/app")
    cache.start()
    print(cache.get_children("/app"))
"""

from corral.recipes import NodeData, TreeCache, TreeEvent

__all__ = ["NodeData", "TreeCache", "TreeEvent"]
