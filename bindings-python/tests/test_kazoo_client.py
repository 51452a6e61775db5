"""corral.kazoo: kazoo's client surface on corral's client, against corral and
Apache ZooKeeper 3.8 (the ``corral_server`` fixture runs each test on both)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, List

import pytest

import corral
from corral.kazoo import KazooClient, KazooRetry, KazooState, KeeperState
from corral.kazoo.exceptions import (
    BadVersionError,
    ConfigurationError,
    ConnectionClosedError,
    ConnectionLoss,
    KazooException,
    LockTimeout,
    NodeExistsError,
    NoNodeError,
    NoNodeException,
    RolledBackError,
    RuntimeInconsistency,
    SessionExpiredError,
)
from corral.kazoo.handlers.threading import KazooTimeoutError, SequentialThreadingHandler
from corral.kazoo.protocol.states import EventType, WatchedEvent
from corral.kazoo.retry import ForceRetryError, InterruptedError, RetryFailedError
from helpers import wait_until


@pytest.fixture
def make_kz(corral_proxy: Any, zk_chroot: str) -> Iterator[Callable[..., KazooClient]]:
    """Started KazooClients in the test's chroot, through the fault proxy."""
    clients: List[KazooClient] = []

    def make(**kwargs: Any) -> KazooClient:
        kwargs.setdefault("timeout", 10)
        c = KazooClient(corral_proxy.hosts + zk_chroot, **kwargs)
        c.start()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.stop()
        c.close()


@pytest.fixture
def kz(make_kz: Callable[..., KazooClient]) -> KazooClient:
    return make_kz()


def test_module_paths_and_exception_names_are_kazoos() -> None:
    import corral.kazoo.client
    import corral.kazoo.protocol.paths
    import corral.kazoo.recipe.barrier
    import corral.kazoo.recipe.cache
    import corral.kazoo.recipe.counter
    import corral.kazoo.recipe.election
    import corral.kazoo.recipe.lock
    import corral.kazoo.recipe.partitioner
    import corral.kazoo.recipe.party
    import corral.kazoo.recipe.queue
    import corral.kazoo.recipe.watchers
    import corral.kazoo.security

    assert corral.kazoo.client.KazooClient is KazooClient
    # kazoo's lock rules over the one implementation (not re-entrant, restarts after expiry).
    assert issubclass(corral.kazoo.recipe.lock.Lock, corral.recipes.Lock)
    assert corral.kazoo.security.make_digest_acl is corral.make_digest_acl
    # One class per error: corral's and kazoo's names catch the same thing.
    assert NoNodeError is corral.NoNodeError and NoNodeException is NoNodeError
    assert KazooException is corral.CorralError
    assert issubclass(ConnectionClosedError, SessionExpiredError)
    assert issubclass(LockTimeout, KazooException) and LockTimeout is corral.LockTimeout
    assert corral.kazoo.protocol.paths.normpath("//a//b/") == "/a/b"
    with pytest.raises(ValueError):
        corral.kazoo.protocol.paths.normpath("/a/../b")


def test_states_and_listeners_speak_kazoo(make_kz: Callable[..., KazooClient], corral_proxy: Any,
                                          zk_chroot: str, drop_connections: Callable[[], None]) -> None:
    kz = KazooClient(corral_proxy.hosts + zk_chroot, timeout=10)
    assert (kz.state, kz.client_state, kz.connected, kz.client_id) == (KazooState.LOST, KeeperState.CLOSED, False, None)
    seen: List[str] = []
    kz.add_listener(seen.append)
    kz.start()
    try:
        assert (kz.state, kz.client_state, kz.connected) == (KazooState.CONNECTED, KeeperState.CONNECTED, True)
        session, password = kz.client_id
        assert session == kz.session_id and len(password) == 16
        drop_connections()
        assert wait_until(lambda: seen == ["CONNECTED", "SUSPENDED", "CONNECTED"], 15), seen
        assert kz.client_id[0] == session
    finally:
        kz.stop()
    # stop: listeners hear LOST before it returns; calls raise ConnectionClosedError.
    assert seen == ["CONNECTED", "SUSPENDED", "CONNECTED", "LOST"]
    assert (kz.state, kz.client_state) == (KazooState.LOST, KeeperState.CLOSED)
    with pytest.raises(ConnectionClosedError):
        kz.get("/")
    assert isinstance(kz.get_async("/").exception, ConnectionClosedError)


def test_session_expiry_is_lost_then_connected(kz: KazooClient, expire_session: Callable[..., None]) -> None:
    seen: List[str] = []
    kz.add_listener(seen.append)
    expire_session(kz)
    assert wait_until(lambda: seen[-2:] == ["LOST", "CONNECTED"], 15), seen


def test_watch_events_are_three_tuples_and_none_on_disconnect(
    kz: KazooClient, make_kz: Callable[..., KazooClient], drop_connections: Callable[[], None]
) -> None:
    events: List[WatchedEvent] = []
    kz.create("/w", b"1")
    kz.get("/w", watch=events.append)
    make_kz().set("/w", b"2")
    assert wait_until(lambda: len(events) == 1, 10)
    type_, state, path = events[0]
    assert (type_, state, path) == (EventType.CHANGED, KeeperState.CONNECTED, "/w")
    # kazoo's rule: a dropped connection ends a one-shot watch with NONE, and it never fires again.
    voided: List[WatchedEvent] = []
    kz.exists("/w", watch=voided.append)
    drop_connections()
    assert wait_until(lambda: len(voided) == 1, 15), voided
    assert voided[0] == WatchedEvent(EventType.NONE, KeeperState.CONNECTING, None)
    assert wait_until(lambda: kz.connected, 15)
    other = make_kz()
    other.set("/w", b"3")
    marker: List[WatchedEvent] = []
    kz.get("/w", watch=marker.append)
    other.set("/w", b"4")
    assert wait_until(lambda: len(marker) == 1, 10)
    # Callbacks run in order on one thread: whatever came before the marker's event,
    # a duplicate included, has been called by now.
    assert voided == [WatchedEvent(EventType.NONE, KeeperState.CONNECTING, None)]
    assert len(events) == 1


def test_transaction_commit_returns_failures_in_the_list(kz: KazooClient) -> None:
    kz.create("/t", b"")
    t = kz.transaction()
    t.create("/t/a", b"x")
    t.check("/t", 7)
    t.create("/t/b")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], BadVersionError)
    assert isinstance(results[2], RuntimeInconsistency)
    assert kz.exists("/t/a") is None
    with pytest.raises(ValueError):
        t.commit()
    t = kz.transaction()
    t.create("/t/a", b"x")
    t.set_data("/t/a", b"y")
    t.delete("/t/a")
    result = t.commit_async().get(timeout=10)
    assert result[0] == "/t/a" and result[1].version == 1 and result[2] is True
    with pytest.raises(TypeError):
        kz.transaction().create("/t/c", "not bytes")


def test_async_results_keep_call_order_and_kazoos_contract(kz: KazooClient) -> None:
    created = [kz.create_async(f"/a{i}", str(i).encode()) for i in range(20)]
    got = kz.get_async("/a19")  # queued after the creates: it sees the node
    assert [r.get(timeout=10) for r in created] == [f"/a{i}" for i in range(20)]
    data, stat = got.get(timeout=10)
    assert data == b"19" and stat.version == 0 and got.successful() and got.exception is None
    failed = kz.get_async("/missing")
    assert failed.wait(10) and not failed.successful()
    assert isinstance(failed.exception, NoNodeError)
    with pytest.raises(NoNodeError):
        failed.get()
    # rawlink: called once ready, on the handler's thread; at once when already ready.
    called = threading.Event()
    threads: List[str] = []

    def on_ready(result: Any) -> None:
        threads.append(threading.current_thread().name)
        called.set()

    kz.exists_async("/a1").rawlink(on_ready)
    assert called.wait(10) and threads == ["corral-kazoo-callbacks"]
    unlinked: List[Any] = []
    pending = kz.handler.async_result()
    pending.rawlink(unlinked.append)
    pending.unlink(unlinked.append)
    with pytest.raises(KazooTimeoutError):
        pending.get(timeout=0.05)
    with pytest.raises(KazooTimeoutError):
        pending.get_nowait()
    pending.set(5)
    assert pending.get_nowait() == 5 and unlinked == []
    # The other async methods.
    assert kz.set_async("/a1", b"x").get(timeout=10).version == 1
    assert kz.get_children_async("/").get(timeout=10) and kz.sync_async("/a1").get(timeout=10) == "/a1"
    acl, _ = kz.get_acls_async("/a1").get(timeout=10)
    assert kz.set_acls_async("/a1", acl).get(timeout=10).aversion == 1
    assert kz.ensure_path_async("/e/f").get(timeout=10) is True and kz.exists("/e/f")
    assert kz.delete_async("/a1").get(timeout=10) is True
    assert kz.add_auth_async("digest", "u:p").get(timeout=10) is True
    with pytest.raises(TypeError):
        kz.get_async(b"/bytes-path")
    with pytest.raises(TypeError):
        kz.set_async("/a2", b"x", version="1")


def test_paths_are_normalised_and_arguments_checked(kz: KazooClient) -> None:
    assert kz.create("relative", b"") == "/relative"
    assert kz.exists("//relative/") is not None
    assert kz.create("/seq/", b"", sequence=True, makepath=True) == "/seq/0000000000"
    for bad in (lambda: kz.create("/x", "str"), lambda: kz.create("/x", b"", ephemeral=1),
                lambda: kz.delete("/x", recursive="yes"), lambda: kz.exists("/x", watch=5),
                lambda: kz.set_acls("/x", corral.OPEN_ACL_UNSAFE[0])):
        with pytest.raises(TypeError):
            bad()
    with pytest.raises(ValueError):
        kz.get("/a/../b")
    assert kz.delete("/never-there", recursive=True) is True  # kazoo: gone is done


def test_client_id_resumes_a_session(kz: KazooClient, make_kz: Callable[..., KazooClient],
                                     corral_proxy: Any, zk_chroot: str) -> None:
    kz.create("/eph", b"", ephemeral=True)
    other = make_kz(client_id=kz.client_id)
    assert other.client_id == kz.client_id
    assert other.exists("/eph").ephemeralOwner == kz.client_id[0]
    # A session that is gone: as kazoo, the client starts with a new one.
    missing = (kz.client_id[0] + 1, b"\0" * 16)
    gone = make_kz(client_id=missing)
    assert gone.connected and gone.client_id is not None
    assert gone.client_id[0] != kz.client_id[0] and gone.client_id[1] != missing[1]


def test_hosts_chroot_and_configuration(kz: KazooClient, corral_proxy: Any, zk_chroot: str) -> None:
    host, port = corral_proxy.hosts.split(":")
    assert kz.hosts == [(host, int(port))] and kz.chroot == zk_chroot
    assert kz.unchroot(zk_chroot + "/x") == "/x"
    with pytest.raises(ConfigurationError):
        kz.set_hosts(corral_proxy.hosts + "/elsewhere")
    kz.set_hosts([corral_proxy.hosts + zk_chroot])
    assert kz.get("/")  # still connected, same chroot
    listed = KazooClient([f"{host}:1", f"{host}:{port}{zk_chroot}"])
    assert listed.hosts == [(host, 1), (host, int(port))] and listed.chroot == zk_chroot

    class GeventHandler:
        pass

    with pytest.raises(ConfigurationError, match="corral.aio"):
        KazooClient(corral_proxy.hosts, handler=GeventHandler())
    with pytest.raises(ConfigurationError):
        KazooClient(corral_proxy.hosts, handler=SequentialThreadingHandler)
    with pytest.raises(ConfigurationError, match="TLS"):
        KazooClient(corral_proxy.hosts, use_ssl=True)
    with pytest.raises(ConfigurationError, match="SASL"):
        KazooClient(corral_proxy.hosts, sasl_options={"mechanism": "DIGEST-MD5"})
    with pytest.raises(TypeError):
        KazooClient(corral_proxy.hosts, no_such_option=1)
    assert KazooClient(corral_proxy.hosts, handler=SequentialThreadingHandler()).handler is not None


def test_start_without_a_server_times_out() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kz = KazooClient(f"127.0.0.1:{port}")
    with pytest.raises(KazooTimeoutError):
        kz.start(timeout=0.5)
    assert kz.state == KazooState.LOST


def test_retry_with_kazoos_parameters(kz: KazooClient) -> None:
    calls: List[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionLoss()
        return "done"

    assert KazooRetry(max_tries=5, delay=0.001)(flaky) == "done" and len(calls) == 3
    with pytest.raises(RetryFailedError):
        KazooRetry(max_tries=2, delay=0.001)(lambda: (_ for _ in ()).throw(ForceRetryError()))
    with pytest.raises(SessionExpiredError):
        KazooRetry(max_tries=3, delay=0.001, ignore_expire=False)(
            lambda: (_ for _ in ()).throw(SessionExpiredError())
        )
    with pytest.raises(RetryFailedError, match="deadline"):
        KazooRetry(max_tries=-1, delay=0.05, deadline=0.1)(lambda: (_ for _ in ()).throw(ConnectionLoss()))
    with pytest.raises(InterruptedError):
        KazooRetry(max_tries=-1, delay=0.3, interrupt=lambda: True)(lambda: (_ for _ in ()).throw(ConnectionLoss()))
    assert kz.retry(kz.ensure_path, "/r") is True
    copy = KazooRetry(max_tries=4, delay=0.2).copy()
    assert (copy.max_tries, copy.delay) == (4, 0.2)


def test_lock_timeout_raises_in_both_clients(kz: KazooClient, make_kz: Callable[..., KazooClient],
                                            make_zk: Callable[..., corral.Client]) -> None:
    holder = kz.Lock("/lock", "holder")
    assert holder.acquire()
    started = time.monotonic()
    with pytest.raises(LockTimeout):
        make_kz().Lock("/lock", "waiter").acquire(timeout=0.2)
    with pytest.raises(LockTimeout):
        make_zk().Lock("/lock", "waiter").acquire(timeout=0.2)
    assert time.monotonic() - started < 5
    assert holder.release() is True
    assert holder.release() is False  # not held: False, as kazoo


def test_command_and_server_version_ask_the_connected_server(kz: KazooClient) -> None:
    assert "Zookeeper version" in kz.command(b"srvr")
    # kazoo reads the version from envi, which the default whitelist (srvr only)
    # refuses: corral's embedded server has the default, the oracle allows all.
    if "not in the whitelist" in kz.command(b"envi"):
        with pytest.raises(KazooException, match="after trying 2 times"):
            kz.server_version(retries=1)
    else:
        assert kz.server_version() >= (3, 5, 0)


def test_server_version_reads_envi() -> None:
    from corral.testing import EmbeddedServer

    with EmbeddedServer(options={"4lw.commands.whitelist": "*"}) as server:
        kz = KazooClient(server.hosts)
        kz.start()
        try:
            version = kz.server_version()
            assert len(version) == 3 and version >= (3, 5, 0)
            assert kz.command(b"ruok") == "imok"
        finally:
            kz.stop()
    with pytest.raises(ConnectionLoss):
        kz.command(b"ruok")  # stopped: no connected server


def test_server_version_asks_again_until_it_has_major_and_minor(kz: KazooClient) -> None:
    answers = iter(["", "zookeeper.version=3", "zookeeper.version=3.", "zookeeper.version=3.8.4-abc, built on x"])
    kz.command = lambda cmd=b"ruok": next(answers)  # type: ignore[method-assign]
    assert kz.server_version(retries=3) == (3, 8, 4)
    kz.command = lambda cmd=b"ruok": "zookeeper.version=3"  # type: ignore[method-assign]
    with pytest.raises(KazooException):
        kz.server_version(retries=2)


def test_listener_close_and_chroot_as_kazoo(make_kz: Callable[..., KazooClient], zk_chroot: str) -> None:
    kz = make_kz()
    with pytest.raises(ConfigurationError):
        kz.add_listener(15)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="until it is stopped") as refused:
        kz.close()
    assert type(refused.value) is Exception, "kazoo raises a plain Exception here, no subclass"
    kz.stop()
    kz.close()
    kz.start()  # a closed client starts again
    assert kz.connected
    kz.stop()
    kz.chroot = zk_chroot.lstrip("/") + "/missing"  # set by hand, without the leading '/'
    with pytest.warns(UserWarning, match="No chroot path exists"):
        kz.start()
    assert kz.exists("/") is None
    kz.stop()


def test_kazoo_locks_are_not_reentrant_and_threads_take_turns(kz: KazooClient) -> None:
    lock = kz.Lock("/nr", "one")
    assert lock.acquire(blocking=False) is True
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.3) is False  # held by this object: False, not LockTimeout
    assert lock.is_acquired and lock.node is not None
    assert lock.release() is True and lock.node is None
    inside: List[int] = []
    overlaps: List[int] = []

    def worker() -> None:
        with lock:
            inside.append(1)
            overlaps.append(len(inside))
            time.sleep(0.01)  # on purpose: hold the lock long enough for another holder to overlap
            inside.pop()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert overlaps == [1] * 8
    read = kz.ReadLock("/rw", "reader")
    assert read.acquire(blocking=False) is True
    assert read.acquire(blocking=False) is False
    read.release()
    # corral.Client's lock nests instead.
    nesting = corral.Client.Lock(kz, "/nr", "nests")
    assert nesting.acquire(blocking=False) and nesting.acquire(blocking=False)
    assert nesting.release() and nesting.is_acquired and nesting.release() and not nesting.is_acquired


def test_kazoo_semaphore_checks_max_leases_and_survives_expiry(
        kz: KazooClient, make_kz: Callable[..., KazooClient], expire_session: Callable[..., None]) -> None:
    one = kz.Semaphore("/sem", "fred", max_leases=1)
    assert one.acquire() is True
    with pytest.raises(ValueError):
        make_kz().Semaphore("/sem", max_leases=2).acquire()
    assert one.release() is True
    one.cancel()
    assert one.cancelled is True and one.wake_event.is_set()
    assert one.acquire() is True and one.cancelled is False
    other = make_kz()
    waiter = other.Semaphore("/sem", "george", max_leases=1)
    got: List[bool] = []
    t = threading.Thread(target=lambda: got.append(waiter.acquire(timeout=30)))
    t.start()
    # The waiter queues: it takes the acquirers' lock and waits for the lease.
    wait_until(lambda: kz.exists("/sem-__lock__") and kz.get_children("/sem-__lock__"), 10,
               message="the waiter never queued")
    expire_session(other)
    assert waiter.wake_event.wait(15), "the lost session woke the waiter"
    one.release()
    t.join(30)
    assert got == [True] and waiter.lease_holders() == ["george"]


def test_kazoo_double_barrier_that_cannot_enter_is_not_participating(kz: KazooClient) -> None:
    kz.create("/eph", ephemeral=True)
    b = kz.DoubleBarrier("/eph/barrier", 1)
    assert b.enter() is False and b.participating is False
    ok = kz.DoubleBarrier("/barrier", 1)
    kz.ensure_path("/barrier")
    kz.create(ok.create_path, ephemeral=True)  # an existing member node is reused
    assert ok.enter() is True and ok.participating is True
    ok.leave()
    assert not ok.participating


def test_reconfig_on_a_standalone_server_is_refused(kz: KazooClient) -> None:
    with pytest.raises(corral.ReconfigDisabledError):
        kz.reconfig(joining=None, leaving="1", new_members=None)
    with pytest.raises(TypeError):
        kz.reconfig(joining=["server.4=x:1:2"], leaving=None, new_members=None)


class _Clock:
    """A settable UTC clock for leases."""

    def __init__(self) -> None:
        import datetime

        self.now = datetime.datetime(2026, 12, 7, 12, 0, 0)

    def __call__(self) -> Any:
        return self.now

    def forward(self, **delta: float) -> None:
        import datetime

        self.now += datetime.timedelta(**delta)


def test_leases_share_kazoos_record(kz: KazooClient, corral_server: Any, zk_chroot: str) -> None:
    import datetime

    from kazoo.client import KazooClient as RealKazoo
    from kazoo.recipe.lease import MultiNonBlockingLease as RealMulti
    from kazoo.recipe.lease import NonBlockingLease as RealLease

    from corral.kazoo.recipe.lease import MultiNonBlockingLease, NonBlockingLease

    real = RealKazoo(corral_server.hosts + zk_chroot)
    real.start()
    try:
        clock = _Clock()
        hour = datetime.timedelta(hours=1)
        assert kz.NonBlockingLease("/lease", hour, "corral-host", utcnow=clock)
        assert not RealLease(real, "/lease", hour, "kazoo-host", utcnow=clock)  # kazoo sees corral's lease
        clock.forward(minutes=30)
        assert NonBlockingLease(kz, "/lease", hour, "corral-host", utcnow=clock)  # renewed
        clock.forward(minutes=45)
        assert not RealLease(real, "/lease", hour, "kazoo-host", utcnow=clock)
        clock.forward(minutes=16)
        assert RealLease(real, "/lease", hour, "kazoo-host", utcnow=clock)  # ended: kazoo takes it
        assert not kz.NonBlockingLease("/lease", hour, "corral-host", utcnow=clock)  # corral sees kazoo's
        assert RealMulti(real, 2, "/multi", hour, "k", utcnow=clock)
        assert MultiNonBlockingLease(kz, 2, "/multi", hour, "c", utcnow=clock)
        assert not kz.MultiNonBlockingLease(2, "/multi", hour, "x", utcnow=clock)
        assert kz.NonBlockingLease("/default-clock", hour)  # the real clock, host name as identifier
    finally:
        real.stop()
        real.close()


def test_patient_children_watch_waits_for_quiet(kz: KazooClient, make_kz: Callable[..., KazooClient]) -> None:
    from corral.kazoo.recipe.watchers import PatientChildrenWatch

    kz.create("/p/a", makepath=True)
    other = make_kz()
    result = PatientChildrenWatch(kz, "/p", time_boundary=0.5).start()
    # On purpose: the change should come after the first read and inside the boundary
    # (nothing shows when that read happened; a late one weakens the test, never fails it).
    time.sleep(0.2)
    other.create("/p/b")  # a change inside the boundary: it waits again
    children, changed = result.get(timeout=10)
    assert sorted(children) == ["a", "b"]
    assert not changed.ready()
    other.create("/p/c")
    assert changed.get(timeout=10) > 0
    missing = PatientChildrenWatch(kz, "/nope", time_boundary=0.1).start()
    with pytest.raises(NoNodeError):
        missing.get(timeout=10)
