"""kazoo's recipes (``kazoo.recipe``), each one corral's own implementation
with kazoo's node layout, reached under kazoo's module names::

    from corral.kazoo.recipe.lock import Lock
    from corral.kazoo.recipe.election import Election
"""
