"""The counter (``kazoo.recipe.counter``)::

    from corral.kazoo.recipe.counter import Counter

    c = Counter(zk, "/hits")
    c += 1
    print(c.value)
"""

from corral.recipes import Counter

__all__ = ["Counter"]
