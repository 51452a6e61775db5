"""pytest fixtures for code that uses ZooKeeper (registered automatically when
corral is installed, through the ``pytest11`` entry point).

- ``corral_server``: one in-process :class:`~corral.testing.EmbeddedServer` per
  test session (override this fixture to test against another server: any
  object with a ``hosts`` connect string will do).
- ``corral_cluster``: a fresh in-process 3-member
  :class:`~corral.testing.TestCluster` per test.
- ``corral_proxy``: a session-wide :class:`~corral.testing.FaultProxy` in front of it.
- ``zk``: a started :class:`corral.Client` per test, chrooted to a fresh
  path (``/corral-tests/<test>-<n>``) that is deleted afterwards, connected
  through the proxy.
- ``make_zk``: a factory for more such clients in the same chroot
  (``make_zk(timeout=4.0)``), stopped after the test.
- ``expire_session``: ``expire_session(client)`` expires a client's session
  (made by ``zk`` or ``make_zk``) and waits until it has a new one.
- ``drop_connections``: ``drop_connections()`` disconnects every client of
  the proxy once; they reconnect and keep their sessions.
"""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any, Callable, Iterator, List

import pytest

import corral
from corral.testing import EmbeddedServer, FaultProxy, TestCluster, expire_session as _expire_session

_CHROOT_BASE = "/corral-tests"
_counter = itertools.count()


@pytest.fixture(scope="session")
def corral_server() -> Iterator[Any]:
    """An in-process corral server for the whole test session."""
    with EmbeddedServer() as server:
        yield server


@pytest.fixture
def corral_cluster() -> Iterator[TestCluster]:
    """A fresh in-process 3-member ensemble for one test (kill and restart members at will)."""
    with TestCluster(size=3) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def corral_proxy(corral_server: Any) -> Iterator[FaultProxy]:
    """A fault-injecting relay in front of ``corral_server``."""
    with FaultProxy(corral_server.hosts) as proxy:
        yield proxy


@pytest.fixture
def zk_chroot(request: pytest.FixtureRequest, corral_server: Any) -> Iterator[str]:
    """A fresh, empty node for one test; deleted with everything below it afterwards."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]
    chroot = f"{_CHROOT_BASE}/{name}-{next(_counter)}"
    admin = corral.Client(corral_server.hosts)
    admin.start()
    try:
        admin.ensure_path(chroot)
        yield chroot
        try:
            admin.delete(chroot, recursive=True)
        except corral.ZookeeperError as e:
            # Best effort: a test may leave nodes whose ACL the admin client cannot pass.
            warnings.warn(f"corral: could not delete {chroot}: {e}", stacklevel=1)
    finally:
        admin.stop()


@pytest.fixture
def make_zk(corral_proxy: FaultProxy, zk_chroot: str) -> Iterator[Callable[..., corral.Client]]:
    """A factory of started clients in the test's chroot, through the proxy."""
    clients: List[corral.Client] = []

    def make(**kwargs: Any) -> corral.Client:
        client = corral.Client(corral_proxy.hosts + zk_chroot, **kwargs)
        client.start()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.stop()


@pytest.fixture
def zk(make_zk: Callable[..., corral.Client]) -> corral.Client:
    """A started client chrooted to a fresh path for this test."""
    return make_zk()


@pytest.fixture
def expire_session(corral_proxy: FaultProxy) -> Callable[..., None]:
    """``expire_session(client, timeout=10.0)``: expire a fixture client's session on purpose."""

    def expire(client: Any, timeout: float = 10.0) -> None:
        _expire_session(client, corral_proxy, timeout)

    return expire


@pytest.fixture
def drop_connections(corral_proxy: FaultProxy) -> Callable[[], None]:
    """``drop_connections()``: disconnect every fixture client once (sessions survive)."""
    return corral_proxy.drop
