"""Fixtures: every interop test runs once against corral and once against Apache ZooKeeper.

* ``server``        -- a server shared by the tests of one kind (tests work under their own
                       ``ns`` path, so they never see each other's nodes);
* ``fresh_server``  -- a factory for a private server, for restart / kill -9 tests and for
                       tests that need their own zoo.cfg keys;
* ``zk``, ``make_client`` -- started kazoo clients (``ExtKazooClient``), stopped afterwards;
* ``ns``            -- a fresh, empty path for the test.

Select one kind with ``-k zookeeper`` / ``-k corral`` or ``INTEROP_SERVERS=zookeeper``.
corral is ``$CORRAL_BIN``; when it is unset or missing the corral tests fail (never skip).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from kazoo.retry import KazooRetry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kazoo_ext import ExtKazooClient  # noqa: E402
from zkharness import KINDS, Server, ServerError  # noqa: E402

SERVER_KINDS = [
    k.strip() for k in os.environ.get("INTEROP_SERVERS", ",".join(KINDS)).split(",") if k.strip()
]
for _k in SERVER_KINDS:
    if _k not in KINDS:
        raise pytest.UsageError(f"INTEROP_SERVERS: unknown server kind {_k!r} (known: {KINDS})")


def start_or_fail(server: Server) -> Server:
    try:
        server.start()
        return server
    except ServerError as e:
        reason = str(e)
    pytest.fail(f"could not start {server.kind}: {reason}", pytrace=False)


@pytest.fixture(scope="session", params=SERVER_KINDS)
def server_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def _shared_server(server_kind, tmp_path_factory):
    srv = Server(server_kind, tmp_path_factory.mktemp(f"{server_kind}-shared"))
    start_or_fail(srv)
    yield srv
    srv.stop()


@pytest.fixture
def server(_shared_server: Server):
    """The shared server of this kind; a test during which it dies fails with its log."""
    if not _shared_server.alive():
        # An earlier test killed it; that test already failed. Start afresh on the
        # same directory so one crash does not cascade through the suite.
        start_or_fail(_shared_server)
    yield _shared_server
    if not _shared_server.alive():
        pytest.fail(
            f"{_shared_server.kind} died during the test (status "
            f"{_shared_server.proc.returncode})\n{_shared_server.log_tail()}",
            pytrace=False,
        )


@pytest.fixture
def fresh_server(server_kind, tmp_path):
    """``fresh_server(**zoo_cfg_overrides)`` -> a started private server of this kind."""
    servers: list[Server] = []

    def factory(**config) -> Server:
        srv = Server(server_kind, tmp_path / f"{server_kind}-{len(servers)}", config)
        servers.append(srv)
        return start_or_fail(srv)

    yield factory
    for srv in servers:
        srv.stop()


def fast_retry() -> KazooRetry:
    # Reconnect quickly after a server restart; never give up on the connection.
    return KazooRetry(max_tries=-1, delay=0.05, backoff=1.5, max_delay=0.5)


@pytest.fixture
def make_client():
    """``make_client(server, timeout=4.0, **kazoo_kwargs)`` -> a started ExtKazooClient."""
    clients: list[ExtKazooClient] = []

    def factory(
        srv: Server, timeout: float = 4.0, start: bool = True, host_repeats: int = 1, **kwargs
    ) -> ExtKazooClient:
        """``host_repeats``: list the server that many times in the connect string. kazoo
        waits session_timeout / len(hosts) for a ConnectResponse, so repeating the host
        shortens that wait. Clients that reconnect while a server restarts need it: a
        connection that ZooKeeper 3.8.0 accepts before its database is loaded fails with
        "ZooKeeperServer not running" and an NPE that leaves the socket open, and a
        full-length wait outlives the session."""
        kwargs.setdefault("connection_retry", fast_retry())
        hosts = ",".join([srv.hosts] * host_repeats)
        client = ExtKazooClient(hosts=hosts, timeout=timeout, **kwargs)
        clients.append(client)
        if start:
            client.start(timeout=15)
        return client

    yield factory
    unrouted = []
    for i, client in enumerate(clients):
        unrouted += [f"client {i}: {n}" for n in client.unrouted_notifications]
        try:
            client.stop()
            client.close()
        except Exception:  # a test may have stopped or broken it on purpose
            pass
    # kazoo drops a notification no watcher waits for (a second one for a one-shot
    # watch, one for a removed watch); no test expects any.
    if unrouted:
        pytest.fail("notifications that no watcher was waiting for:\n" + "\n".join(unrouted), pytrace=False)


@pytest.fixture
def zk(server, make_client) -> ExtKazooClient:
    return make_client(server)


@pytest.fixture
def ns(request, zk) -> str:
    """A unique, freshly created path for this test on the shared server."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")[:60]
    path = f"/interop/{name}-{uuid.uuid4().hex[:8]}"
    zk.ensure_path(path)
    return path


# How long a check that no further event comes keeps listening. A duplicate
# notification travels right behind the first one, far within this.
QUIET_S = 0.5


class Recorder:
    """Thread-safe collector for watch callbacks; wait for events, or for silence.

    ``wait(n)`` returns as soon as n callbacks came (for synchronisation: an event
    arriving a moment later is not in the list); a test that claims which events came,
    and that no others did, uses ``exactly(n)``.
    """

    def __init__(self):
        self.items: list = []
        self._cond = threading.Condition()

    def __call__(self, *args):
        with self._cond:
            self.items.append(args[0] if len(args) == 1 else args)
            self._cond.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list:
        """At least ``count`` callbacks: everything received so far."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.items) >= count, timeout)
            if not ok:
                raise AssertionError(
                    f"expected at least {count} callbacks within {timeout}s, got {self.items!r}"
                )
            return list(self.items)

    def exactly(self, count: int, timeout: float = 10.0, quiet: float = QUIET_S) -> list:
        """``count`` callbacks and, ``quiet`` seconds later, still no more: a duplicate
        or extra event fails here."""
        self.wait(count, timeout)
        items = self.quiet(quiet)
        if len(items) != count:
            raise AssertionError(f"expected exactly {count} callbacks, got {len(items)}: {items!r}")
        return items

    def quiet(self, seconds: float = QUIET_S) -> list:
        """Let ``seconds`` pass on purpose and return everything received (for 'no more
        events' checks: only time can show that nothing else arrives)."""
        with self._cond:
            self._cond.wait_for(lambda: False, seconds)
            return list(self.items)


@pytest.fixture
def recorder():
    return Recorder


class HeldSession:
    """A session owned by a separate process (see session_holder.py)."""

    def __init__(self, proc: subprocess.Popen, info: dict):
        self.proc = proc
        self.session_id: int = info["session_id"]
        self.passwd: bytes = bytes.fromhex(info["passwd"])

    @property
    def client_id(self):
        return (self.session_id, self.passwd)

    def kill(self) -> None:
        """kill -9 the owning process: its TCP connection closes, no closeSession is sent."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def hold_session():
    """``hold_session(server, timeout_s, *ephemeral_paths)`` -> HeldSession."""
    held: list[HeldSession] = []
    script = Path(__file__).resolve().parent / "session_holder.py"

    def factory(srv: Server, timeout: float, *paths: str) -> HeldSession:
        proc = subprocess.Popen(
            [sys.executable, str(script), srv.hosts, str(timeout), *paths],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"session holder failed:\n{err[-3000:]}", pytrace=False)
        session = HeldSession(proc, json.loads(line))
        held.append(session)
        return session

    yield factory
    for session in held:
        session.kill()
