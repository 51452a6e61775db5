"""Test helpers: an in-process corral server, and a relay that breaks connections
and expires sessions on purpose.

::

    from corral.testing import EmbeddedServer

    with EmbeddedServer() as server:          # ephemeral port, temporary data dir
        zk = corral.Client(server.hosts); zk.start()

    with TestCluster(size=3) as cluster:      # a real 3-member ensemble, in-process
        zk = corral.Client(cluster.hosts); zk.start()
        cluster.kill(cluster.leader())        # writes go on after a new election

``EmbeddedServer(server_id=..., peers=...)`` also runs one durable member of a
real ensemble (beside ``corral server`` processes or other embedded members).
"""

from __future__ import annotations

import os
import socket
import struct
import tempfile
import threading
import time
from typing import Dict, List, Mapping, Optional, Tuple, Union

from corral import _corral
from corral.states import State

__all__ = ["EmbeddedServer", "TestCluster", "FaultProxy", "expire_session"]

PathLike = Union[str, "os.PathLike[str]"]


class EmbeddedServer:
    """A corral server running inside this process.

    With no arguments: a standalone server on 127.0.0.1 with an ephemeral port
    and a temporary data directory removed at :meth:`stop`.

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
        self.data_dir = os.fspath(data_dir) if data_dir is not None else None
        self.client_port = client_port
        self.options: Dict[str, str] = {k: _cfg_value(v) for k, v in (options or {}).items()}
        if peers:
            for member, spec in peers.items():
                self.options[f"server.{int(member)}"] = spec
        if server_id is not None:
            self.options["myid"] = str(int(server_id))
        self.server_id = server_id
        self._native: Optional[_corral.EmbeddedServer] = None
        self._tmp: Optional[tempfile.TemporaryDirectory] = None  # type: ignore[type-arg]
        if start:
            self.start()

    def start(self) -> "EmbeddedServer":
        """Starts the server (again, after :meth:`stop`, on the same port and directory)."""
        if self._native is not None:
            return self
        if self.config is None and self.data_dir is None and self.client_port is None and not self.options:
            self._native = _corral.EmbeddedServer.start()
        else:
            opts: List[Tuple[str, str]] = []
            if self.config is None:
                opts.append(("clientPortAddress", "127.0.0.1"))
                opts.append(("clientPort", str(self.client_port or 0)))
                if self.data_dir is None:
                    self._tmp = tempfile.TemporaryDirectory(prefix="corral-")
                    self.data_dir = self._tmp.name
            elif self.client_port is not None:
                opts.append(("clientPort", str(self.client_port)))
            if self.data_dir is not None:
                opts.append(("dataDir", self.data_dir))
            opts.extend(self.options.items())
            self._native = _corral.EmbeddedServer.with_config(self.config, opts)
        # Restart on the same port even when the first start picked it.
        self.client_port = self._native.port
        return self

    def stop(self) -> None:
        """Stops the server; clients are disconnected. Its temporary directory, if any, is kept
        until :meth:`close`, so :meth:`start` can bring the same node back."""
        native, self._native = self._native, None
        if native is not None:
            native.stop()

    def close(self) -> None:
        """Stops the server and removes its temporary data directory."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def restart(self) -> None:
        """Stops and starts the same node (same port, same data)."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._native is not None

    @property
    def hosts(self) -> str:
        """The connect string, ``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        """The client port."""
        if self._native is not None:
            return self._native.port
        if self.client_port:
            return self.client_port
        raise RuntimeError("the server is not running")

    def __enter__(self) -> "EmbeddedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<corral.testing.EmbeddedServer {self.hosts if self.client_port else '?'} {state}>"


class TestCluster:
    """A replicated ensemble of ``size`` voting members (plus ``observers``)
    running in this process, each an :class:`EmbeddedServer` with its own
    temporary data directory, client port and peer port on 127.0.0.1.

    Members are numbered from 0. :meth:`kill` stops one abruptly for its
    peers (its clients are disconnected, the others elect a new leader if it
    led); :meth:`restart` brings it back on the same port and directory, and
    it catches up. Short ticks make failover quick (``tick_ms``).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, size: int = 3, *, observers: int = 0, tick_ms: int = 100, start: bool = True) -> None:
        if size < 1:
            raise ValueError("a cluster needs at least one voting member")
        self._tmp = tempfile.TemporaryDirectory(prefix="corral-cluster-")
        total = size + observers
        client_ports = [_free_port() for _ in range(total)]
        peers: Dict[int, str] = {}
        for i in range(total):
            role = ":observer" if i >= size else ""
            peers[i + 1] = f"127.0.0.1:{_free_port()}:{_free_port()}{role};127.0.0.1:{client_ports[i]}"
        options = {
            "tickTime": tick_ms,
            "electionTimeoutMs": max(150, 3 * tick_ms),
            "4lw.commands.whitelist": "*",
            "standaloneEnabled": "false",
        }
        self.members: List[EmbeddedServer] = []
        for i in range(total):
            data_dir = os.path.join(self._tmp.name, f"member{i}")
            os.makedirs(data_dir, exist_ok=True)
            self.members.append(
                EmbeddedServer(
                    data_dir=data_dir,
                    client_port=client_ports[i],
                    options=options,
                    server_id=i + 1,
                    peers=peers,
                    start=False,
                )
            )
        if start:
            self.start()

    def start(self, timeout: float = 30.0) -> "TestCluster":
        """Starts every stopped member and waits until one leads and every
        member serves."""
        for m in self.members:
            m.start()
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float = 30.0) -> None:
        """Waits until every running member serves clients under one leader."""
        deadline = time.monotonic() + timeout
        while True:
            modes = [self.mode(i) for i in range(len(self.members)) if self.members[i].running]
            if modes.count("leader") == 1 and None not in modes:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster did not settle within {timeout}s (modes: {modes})")
            time.sleep(0.05)

    @property
    def hosts(self) -> str:
        """A connect string naming every member."""
        return ",".join(f"127.0.0.1:{m.client_port}" for m in self.members)

    def mode(self, index: int) -> Optional[str]:
        """``leader``, ``follower`` or ``observer``; None while the member is
        stopped or has no leader."""
        m = self.members[index]
        if not m.running:
            return None
        try:
            answer = _four_letter_word(m.port, "srvr")
        except OSError:
            return None
        for line in answer.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return None

    def leader(self, timeout: float = 30.0) -> int:
        """The index of the leading member, waiting up to ``timeout`` for one."""
        deadline = time.monotonic() + timeout
        while True:
            leaders = [i for i in range(len(self.members)) if self.mode(i) == "leader"]
            if len(leaders) == 1:
                return leaders[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no single leader within {timeout}s (modes: {[self.mode(i) for i in range(len(self.members))]})")
            time.sleep(0.05)

    def kill(self, index: int) -> None:
        """Stops member ``index``; its clients move to the other members."""
        self.members[index].stop()

    def restart(self, index: int) -> None:
        """Starts member ``index`` again (same port, same data) and waits
        until it serves; it catches up in the background."""
        self.members[index].start()
        self.wait_serving()

    def stop(self) -> None:
        """Stops every member (data kept until :meth:`close`)."""
        for m in self.members:
            m.stop()

    def close(self) -> None:
        """Stops every member and removes the data directories."""
        self.stop()
        for m in self.members:
            m.close()
        self._tmp.cleanup()

    def __enter__(self) -> "TestCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        modes = [self.mode(i) or "stopped" for i in range(len(self.members))]
        return f"<corral.testing.TestCluster {self.hosts} {modes}>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _four_letter_word(port: int, word: str, timeout: float = 2.0) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word.encode("ascii"))
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode()


def _cfg_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


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
        host, _, port = upstream.split("/", 1)[0].split(",")[0].rpartition(":")
        self.upstream: Tuple[str, int] = (host or "127.0.0.1", int(port))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: List[Tuple[socket.socket, socket.socket]] = []
        self._passwords: Dict[int, bytes] = {}
        self._blocked = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="corral-fault-proxy", daemon=True)
        self._thread.start()

    @property
    def hosts(self) -> str:
        """The connect string of the relay."""
        return f"127.0.0.1:{self.port}"

    def password(self, session_id: int) -> Optional[bytes]:
        """The password of a session seen in a handshake, or None."""
        with self._lock:
            return self._passwords.get(session_id)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                down, _ = self._listener.accept()
            except OSError:
                return
            if self._blocked:
                down.close()
                continue
            try:
                up = socket.create_connection(self.upstream, timeout=5)
                up.settimeout(None)
            except OSError:
                down.close()
                continue
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.append((down, up))
            threading.Thread(target=self._pipe, args=(down, up, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(up, down, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        handshake = b"" if from_server else None
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if handshake is not None:
                    handshake += chunk
                    if self._learn(handshake):
                        handshake = None
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            with self._lock:
                self._conns = [c for c in self._conns if src not in c]

    def _learn(self, buf: bytes) -> bool:
        """Records the session of a ConnectResponse; True once the frame was complete."""
        if len(buf) < 4:
            return False
        (n,) = struct.unpack_from(">i", buf, 0)
        if len(buf) < 4 + n:
            return False
        _, timeout_ms, session_id, plen = struct.unpack_from(">iiqi", buf, 4)
        if timeout_ms > 0 and plen > 0:
            with self._lock:
                self._passwords[session_id] = buf[24 : 24 + plen]
        return True

    def drop(self) -> None:
        """Closes every relayed connection now (clients see a disconnect, then reconnect)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for pair in conns:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def block(self) -> None:
        """Drops every connection and refuses new ones until :meth:`unblock`."""
        self._blocked = True
        self.drop()

    def unblock(self) -> None:
        """Lets clients connect again."""
        self._blocked = False

    def expire(self, session_id: int) -> None:
        """Ends a session on the server as if it had expired."""
        passwd = self.password(session_id)
        if passwd is None:
            raise KeyError(f"session 0x{session_id:x} never connected through this proxy")
        with socket.create_connection(self.upstream, timeout=5) as s:
            body = struct.pack(">iqiqi", 0, 0, 30000, session_id, len(passwd)) + passwd + b"\x00"
            s.sendall(struct.pack(">i", len(body)) + body)
            resp = _read_frame(s)
            (timeout_ms,) = struct.unpack_from(">i", resp, 4)
            if timeout_ms <= 0:
                return  # already gone
            s.sendall(struct.pack(">iii", 8, 1, -11))  # closeSession, xid 1
            try:
                _read_frame(s)
            except OSError:
                pass

    def close(self) -> None:
        """Stops relaying and closes every connection."""
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        self.drop()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_frame(s: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buf += chunk
        return buf

    (n,) = struct.unpack(">i", exactly(4))
    return exactly(n)


def expire_session(client: object, proxy: FaultProxy, timeout: float = 10.0) -> None:
    """Expires ``client``'s session through ``proxy`` (which it must connect through)
    and waits until the client has a new session.

    Works for :class:`corral.Client` and :class:`corral.aio.Client` (for the
    latter, call it from a thread: it blocks).
    """
    old = getattr(client, "session_id")
    if not old:
        raise ValueError("the client has no session")
    deadline = time.monotonic() + timeout
    while True:
        proxy.expire(old)
        # The client notices on its next reconnect; give it a moment, and
        # expire again if it managed to slip back in with the old session.
        end = min(deadline, time.monotonic() + 2.0)
        while time.monotonic() < end:
            sid = getattr(client, "session_id")
            if sid and sid != old and getattr(client, "state") != State.LOST:
                return
            time.sleep(0.01)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"session 0x{old:x} did not expire within {timeout}s")
