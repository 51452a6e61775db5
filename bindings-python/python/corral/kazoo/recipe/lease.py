"""Leases (``kazoo.recipe.lease``), in kazoo's record format::

    import datetime
    from corral.kazoo.recipe.lease import NonBlockingLease

    if NonBlockingLease(zk, "/leases/cleanup", datetime.timedelta(hours=1), "host-a"):
        run_hourly_cleanup()
"""

from corral.recipes import MultiNonBlockingLease, NonBlockingLease

__all__ = ["MultiNonBlockingLease", "NonBlockingLease"]
