"""Group membership (``kazoo.recipe.party``)::

    from corral.kazoo.recipe.party import Party

    party = Party(zk, "/workers", "worker-1")
    party.join()
    print(list(party))
"""

from corral.recipes import Party, ShallowParty

__all__ = ["Party", "ShallowParty"]
