"""ACLs: identities, permission bits and the well-known ACL lists (kazoo's names).

The bits and lists come from corral's core, so they cannot drift from what
the server enforces.
"""

from __future__ import annotations

import enum
from typing import List, NamedTuple

from corral import _corral

__all__ = [
    "ACL",
    "ANYONE_ID_UNSAFE",
    "AUTH_IDS",
    "CREATOR_ALL_ACL",
    "Id",
    "OPEN_ACL_UNSAFE",
    "Permissions",
    "READ_ACL_UNSAFE",
    "make_acl",
    "make_digest_acl",
    "make_digest_acl_credential",
]

_PERMS = dict(_corral.PERMS)


class Permissions(enum.IntFlag):
    """Permission bits of an ACL entry."""

    READ = _PERMS["READ"]
    """getData, getChildren, exists."""
    WRITE = _PERMS["WRITE"]
    """setData."""
    CREATE = _PERMS["CREATE"]
    """Create children."""
    DELETE = _PERMS["DELETE"]
    """Delete children."""
    ADMIN = _PERMS["ADMIN"]
    """setACL."""
    ALL = _PERMS["ALL"]
    """Every permission."""


class Id(NamedTuple):
    """An identity: ``scheme:id`` (``world:anyone``, ``digest:user:hash``, ``ip:10.0.0.0/8``, ...)."""

    scheme: str
    """Authentication scheme: world, auth, digest, ip, super, ..."""
    id: str
    """Scheme-specific identity text."""


class ACL(NamedTuple):
    """One ACL entry: permission bits granted to an identity."""

    perms: int
    """Bit mask of :class:`Permissions`."""
    id: Id
    """Who the bits are granted to."""

    @property
    def acl_list(self) -> List[str]:
        """The names of the granted permissions, e.g. ``["READ", "WRITE"]`` or ``["ALL"]``."""
        if self.perms == Permissions.ALL:
            return ["ALL"]
        bits = (Permissions.READ, Permissions.WRITE, Permissions.CREATE, Permissions.DELETE, Permissions.ADMIN)
        return [str(p.name) for p in bits if self.perms & p]

    def __repr__(self) -> str:
        # kazoo's form, with the permission names spelled out.
        return f"ACL(perms={self.perms!r}, acl_list={self.acl_list}, id={self.id!r})"


def _acls(raw: list) -> List[ACL]:
    return [ACL(perms, Id(scheme, id_)) for perms, scheme, id_ in raw]


ANYONE_ID_UNSAFE = Id("world", "anyone")
"""Everybody."""
AUTH_IDS = Id("auth", "")
"""Whoever is authenticated on the creating session."""
OPEN_ACL_UNSAFE: List[ACL] = _acls(_corral.OPEN_ACL_UNSAFE)
"""Everybody may do everything (the default)."""
CREATOR_ALL_ACL: List[ACL] = _acls(_corral.CREATOR_ALL_ACL)
"""The creator's authenticated identities may do everything."""
READ_ACL_UNSAFE: List[ACL] = _acls(_corral.READ_ACL_UNSAFE)
"""Everybody may read."""


def make_acl(
    scheme: str,
    credential: str,
    read: bool = False,
    write: bool = False,
    create: bool = False,
    delete: bool = False,
    admin: bool = False,
    all: bool = False,
) -> ACL:
    """An ACL entry for ``scheme:credential`` with the chosen permissions."""
    if all:
        perms = int(Permissions.ALL)
    else:
        perms = 0
        for on, bit in (
            (read, Permissions.READ),
            (write, Permissions.WRITE),
            (create, Permissions.CREATE),
            (delete, Permissions.DELETE),
            (admin, Permissions.ADMIN),
        ):
            if on:
                perms |= int(bit)
    return ACL(perms, Id(scheme, credential))


def make_digest_acl_credential(username: str, password: str) -> str:
    """The digest identity ``user:base64(sha1(user:password))`` of a user and password."""
    return _corral.digest_id(f"{username}:{password}")


def make_digest_acl(
    username: str,
    password: str,
    read: bool = False,
    write: bool = False,
    create: bool = False,
    delete: bool = False,
    admin: bool = False,
    all: bool = False,
) -> ACL:
    """A ``digest`` ACL entry for a user and password (add_auth("digest", "user:password") to pass it)."""
    cred = make_digest_acl_credential(username, password)
    return make_acl("digest", cred, read=read, write=write, create=create, delete=delete, admin=admin, all=all)
