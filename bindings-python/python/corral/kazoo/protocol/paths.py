"""Path helpers with kazoo's rules (``kazoo.protocol.paths``)::

    from corral.kazoo.protocol.paths import normpath, join
    normpath("//a/b/")     # '/a/b'
    join("/a", "b")        # '/a/b'
"""

__all__ = ["normpath", "join", "isabs", "basename"]


def normpath(path: str, trailing: bool = False) -> str:
    """``path`` with double and trailing slashes removed (a trailing one kept
    with ``trailing``); ``.`` and ``..`` raise ValueError."""
    parts = []
    for part in path.split("/"):
        if part == "":
            continue
        if part in (".", ".."):
            raise ValueError("relative paths not allowed")
        parts.append(part)
    out = "/".join(parts)
    if path.startswith("/"):
        out = "/" + out
    if trailing and path.endswith("/") and not out.endswith("/"):
        out += "/"
    return out


def join(a: str, *parts: str) -> str:
    """Joins path parts with ``/`` (an absolute part restarts the path)."""
    path = a
    for p in parts:
        if p.startswith("/"):
            path = p
        elif path == "" or path.endswith("/"):
            path += p
        else:
            path += "/" + p
    return path


def isabs(path: str) -> bool:
    """Whether ``path`` starts with ``/``."""
    return path.startswith("/")


def basename(path: str) -> str:
    """The last part of ``path``."""
    return path[path.rfind("/") + 1:]
