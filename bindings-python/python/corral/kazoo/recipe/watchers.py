"""Data and children watches (``kazoo.recipe.watchers``)::

    from corral.kazoo.recipe.watchers import DataWatch

    @DataWatch(zk, "/config")
    def changed(data, stat):
        print(data)
"""

from corral.client import ChildrenWatch, DataWatch

__all__ = ["ChildrenWatch", "DataWatch"]
