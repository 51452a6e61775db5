"""Leader election (``kazoo.recipe.election``), in kazoo's node layout::

    from corral.kazoo.recipe.election import Election

    Election(zk, "/election", "node-1").run(lead)   # lead() runs while leader
"""

from corral.recipes import Election

__all__ = ["Election"]
