"""Test helpers: an in-process corral server, a replicated ensemble in the test
process, and a relay that breaks connections and expires sessions on purpose.

::

    from corral.testing import EmbeddedServer

    with EmbeddedServer() as server:          # ephemeral port, temporary data dir
        zk = corral.Client(server.hosts); zk.start()

    with TestCluster(size=3) as cluster:      # a real 3-member ensemble, in-process
        zk = corral.Client(cluster.hosts); zk.start()
        cluster.kill(cluster.leader())        # writes go on after a new election

``EmbeddedServer(server_id=..., peers=...)`` also runs one durable member of a
real ensemble (beside ``corral server`` processes or other embedded members).

Each class wraps the Rust kit (``corral::embedded``) that the Node and C
bindings wrap too: the options, the cluster and the relay live there.
"""

from __future__ import annotations

import os
from typing import List, Mapping, Optional, Tuple, Union

from corral import _corral

__all__ = ["EmbeddedServer", "TestCluster", "FaultProxy", "expire_session"]

PathLike = Union[str, "os.PathLike[str]"]


class EmbeddedServer:
    """A corral server running inside this process.

    With no arguments: a standalone server on 127.0.0.1 with an ephemeral port
    and a temporary data directory removed at :meth:`close`.

    ``config`` reads a ``zoo.cfg`` file; ``data_dir`` and ``client_port`` give a
    durable node (stop it and start another on the same directory and port:
    data and sessions carry over); ``options`` sets any other ``zoo.cfg`` keys
    (e.g. ``{"tickTime": 100}``). Without ``config`` the server listens on
    127.0.0.1 only.

    ``server_id`` and ``peers`` make the node a member of a replicated
    ensemble: ``peers`` maps every member's id (this one's included) to its
    ``zoo.cfg`` ``server.N`` value, ``host:peerPort:electionPort[:observer][;clientPort]``.
    """

    def __init__(
        self,
        config: Optional[PathLike] = None,
        *,
        data_dir: Optional[PathLike] = None,
        client_port: Optional[int] = None,
        options: Optional[Mapping[str, object]] = None,
        server_id: Optional[int] = None,
        peers: Optional[Mapping[int, str]] = None,
        start: bool = True,
    ) -> None:
        self.config = os.fspath(config) if config is not None else None
        self.server_id = server_id
        self._native = _corral.EmbeddedServer(
            self.config,
            os.fspath(data_dir) if data_dir is not None else None,
            client_port,
            list((options or {}).items()),
            server_id,
            dict(peers or {}),
        )
        if start:
            self.start()

    def start(self) -> "EmbeddedServer":
        """Starts the server (again, after :meth:`stop`, on the same port and directory)."""
        self._native.start()
        return self

    def stop(self) -> None:
        """Stops the server; clients are disconnected. Its temporary directory, if any, is kept
        until :meth:`close`, so :meth:`start` can bring the same node back."""
        self._native.stop()

    def close(self) -> None:
        """Stops the server and removes its temporary data directory."""
        self._native.close()

    def restart(self) -> None:
        """Stops and starts the same node (same port, same data)."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._native.running

    @property
    def hosts(self) -> str:
        """The connect string, ``127.0.0.1:<port>``."""
        return self._native.hosts

    @property
    def port(self) -> int:
        """The client port (kept across :meth:`stop` and :meth:`start`)."""
        return self._native.port

    @property
    def data_dir(self) -> Optional[str]:
        """Where the data lives (None before the first start)."""
        path = self._native.data_dir
        return os.fspath(path) if path is not None else None

    def __enter__(self) -> "EmbeddedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<corral.testing.EmbeddedServer {self.data_dir} {state}>"


class ClusterMember:
    """One member of a :class:`TestCluster`, by index."""

    def __init__(self, cluster: "TestCluster", index: int) -> None:
        self._cluster = cluster._native
        self.index = index

    @property
    def port(self) -> int:
        """The member's client port."""
        return self._cluster.port(self.index)

    @property
    def hosts(self) -> str:
        """The member's connect string."""
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the member runs."""
        return self._cluster.running(self.index)


class TestCluster:
    """A replicated ensemble of ``size`` voting members (plus ``observers``)
    running in this process, each with its own temporary data directory,
    client port and peer port on 127.0.0.1.

    Members are numbered from 0. :meth:`kill` stops one abruptly for its
    peers (its clients are disconnected, the others elect a new leader if it
    led); :meth:`restart` brings it back on the same port and directory, and
    it catches up. Short ticks make failover quick (``tick_ms``).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, size: int = 3, *, observers: int = 0, tick_ms: int = 100, start: bool = True) -> None:
        self._native = _corral.TestCluster(size, observers, tick_ms)
        self.members: List[ClusterMember] = [ClusterMember(self, i) for i in range(self._native.size)]
        if start:
            self.start()

    def start(self, timeout: float = 30.0) -> "TestCluster":
        """Starts every stopped member and waits until one leads and every
        member serves."""
        self._native.start(timeout)
        return self

    def wait_serving(self, timeout: float = 30.0) -> None:
        """Waits until every running member serves clients under one leader."""
        self._native.wait_serving(timeout)

    @property
    def hosts(self) -> str:
        """A connect string naming every member."""
        return self._native.hosts

    def mode(self, index: int) -> Optional[str]:
        """``leader``, ``follower`` or ``observer``; None while the member is
        stopped or has no leader."""
        return self._native.mode(index)

    def leader(self, timeout: float = 30.0) -> int:
        """The index of the leading member, waiting up to ``timeout`` for one."""
        return self._native.leader(timeout)

    def kill(self, index: int) -> None:
        """Stops member ``index``; its clients move to the other members."""
        self._native.kill(index)

    def restart(self, index: int) -> None:
        """Starts member ``index`` again (same port, same data) and waits
        until it serves; it catches up in the background."""
        self._native.restart(index)

    def stop(self) -> None:
        """Stops every member (data kept until :meth:`close`)."""
        self._native.stop()

    def close(self) -> None:
        """Stops every member and removes the data directories."""
        self._native.close()

    def __enter__(self) -> "TestCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<corral.testing.TestCluster {self.hosts}>"


class FaultProxy:
    """A loopback TCP relay in front of one ZooKeeper-protocol server, for fault tests.

    Clients that connect to :attr:`hosts` instead of the server can be
    disconnected (:meth:`drop`), kept out (:meth:`block`) and have their
    session expired (:meth:`expire`). The relay reads the session id and
    password from each handshake it passes on; :meth:`expire` then does what
    kazoo's and ZooKeeper's own tests do: it opens a second connection to the
    server with that id and password (which takes the session over and closes
    the client's connection) and closes the session with it. The client's
    reconnect is refused as expired: it reports LOST and starts a new session.
    This works against corral and Apache ZooKeeper alike.
    """

    def __init__(self, upstream: str) -> None:
        self._native = _corral.FaultRelay(upstream)

    @property
    def hosts(self) -> str:
        """The connect string of the relay."""
        return self._native.hosts

    @property
    def port(self) -> int:
        """The relay's port."""
        return self._native.port

    @property
    def upstream(self) -> Tuple[str, int]:
        """The server relayed to, ``(host, port)``."""
        return self._native.upstream

    def password(self, session_id: int) -> Optional[bytes]:
        """The password of a session seen in a handshake, or None."""
        return self._native.password(session_id)

    def drop(self) -> None:
        """Closes every relayed connection now (clients see a disconnect, then reconnect)."""
        self._native.drop()

    def block(self) -> None:
        """Drops every connection and refuses new ones until :meth:`unblock`."""
        self._native.block()

    def unblock(self) -> None:
        """Lets clients connect again."""
        self._native.unblock()

    def expire(self, session_id: int) -> None:
        """Ends a session on the server as if it had expired (raises KeyError for a
        session that never connected through this proxy)."""
        self._native.expire(session_id)

    def close(self) -> None:
        """Stops relaying and closes every connection."""
        self._native.close()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def expire_session(client: object, proxy: FaultProxy, timeout: float = 10.0) -> None:
    """Expires ``client``'s session on the server behind ``proxy`` and waits
    until the client has a new session.

    Works for :class:`corral.Client` and :class:`corral.aio.Client` (for the
    latter, call it from a thread: it blocks).
    """
    proxy._native.expire_client(getattr(client, "_native", None), timeout)
