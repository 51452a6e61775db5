"""ACLs, as ``kazoo.security`` has them (the same objects as :mod:`corral.security`)::

    from corral.kazoo.security import make_digest_acl

    acl = make_digest_acl("admin", "secret", all=True)
    zk.create("/private", b"", acl=[acl])
"""

from corral.security import *  # noqa: F401,F403
from corral.security import __all__  # noqa: F401
