"""The recipes of the blocking client (corral.recipes, backed by corral's Rust
recipes): contention between clients, timeouts, cancellation and state, against
corral's EmbeddedServer and Apache ZooKeeper alike."""

from __future__ import annotations

import _thread
import gc
import threading
import time

import pytest

import corral
from corral.recipes import PartitionState, ServiceInstance, TreeEvent
from helpers import Recorder, wait_until


def in_thread(fn, *args, **kwargs):
    """Runs ``fn`` in a thread; returns (thread, results) where results gets its
    return value, or the exception it raised."""
    results = []

    def body():
        try:
            results.append(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed to the test
            results.append(e)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, results


# ---- Lock ------------------------------------------------------------------------


def test_lock(zk, make_zk):
    other = make_zk()
    lock = zk.Lock("/locks/a", "me")
    assert lock.state == "RELEASED" and not lock.is_acquired
    with lock:
        assert lock.is_acquired and lock.fencing_token
        assert lock.contenders() == ["me"]
        assert any("__lock__" in name for name in zk.get_children("/locks/a"))
        rival = other.Lock("/locks/a", "rival")
        assert rival.acquire(blocking=False) is False
        started = time.monotonic()
        with pytest.raises(corral.LockTimeout):
            rival.acquire(timeout=0.3)
        assert time.monotonic() - started >= 0.25
        assert lock.contenders() == ["me"], "a timed-out contender leaves the line"
        token = lock.fencing_token
        t, got = in_thread(rival.acquire, timeout=10)
        wait_until(lambda: lock.contenders() == ["me", "rival"])
        assert not got, "the rival waits while the lock is held"
    t.join(10)
    assert got == [True] and rival.is_acquired and rival.fencing_token > token
    assert rival.state == "HELD" and not lock.is_acquired
    rival.release()
    assert rival.state == "RELEASED" and rival.contenders() == []
    assert rival.release() is False, "kazoo's: releasing a lock not held is False"


def test_lock_is_reentrant_per_object(zk, make_zk):
    lock = zk.Lock("/locks/r")
    assert lock.acquire() and lock.acquire()
    lock.release()
    assert lock.is_acquired, "one acquisition is still not released"
    with pytest.raises(corral.LockTimeout):
        make_zk().Lock("/locks/r").acquire(timeout=0.2)
    lock.release()
    assert not lock.is_acquired
    assert make_zk().Lock("/locks/r").acquire(timeout=5)


def test_lock_cancel(zk, make_zk):
    holder = zk.Lock("/locks/c", "holder")
    assert holder.acquire()
    waiter = make_zk().Lock("/locks/c", "waiter")
    t, got = in_thread(waiter.acquire)
    wait_until(lambda: holder.contenders() == ["holder", "waiter"])
    waiter.cancel()
    t.join(10)
    assert len(got) == 1 and isinstance(got[0], corral.CancelledError)
    assert isinstance(got[0], corral.CorralError)
    wait_until(lambda: holder.contenders() == ["holder"], message="the cancelled contender's node is removed")
    assert not waiter.is_acquired
    holder.release()
    assert waiter.acquire(timeout=5), "a cancel does not affect later acquisitions"
    waiter.release()


def test_lock_wait_interrupted_by_ctrl_c(zk, make_zk):
    holder = zk.Lock("/locks/i", "holder")
    assert holder.acquire()
    waiter = make_zk().Lock("/locks/i", "waiter")
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        waiter.acquire()
    wait_until(lambda: holder.contenders() == ["holder"], message="the abandoned contender's node is removed")
    holder.release()


def test_lock_dropped_while_held(zk, make_zk):
    lock = zk.Lock("/locks/g", "gone")
    assert lock.acquire()
    del lock
    gc.collect()
    wait_until(lambda: zk.Lock("/locks/g").contenders() == [], message="a collected lock gives its node up")
    assert make_zk().Lock("/locks/g").acquire(timeout=5)


def test_lock_persistent_node_outlives_the_session(zk, make_zk):
    # kazoo's acquire(ephemeral=False): the lock stays held after the holder's session.
    holder = make_zk()
    lock = holder.Lock("/locks/p", "holder")
    assert lock.acquire(ephemeral=False)
    assert lock.node in zk.get_children("/locks/p")
    assert zk.exists("/locks/p/" + lock.node).owner_session_id is None
    node = lock.node
    holder.stop()
    with pytest.raises(corral.LockTimeout):
        zk.Lock("/locks/p", "next").acquire(timeout=0.3)
    zk.delete("/locks/p/" + node)
    waiter = zk.Lock("/locks/p", "next")
    assert waiter.acquire(timeout=5)
    assert zk.exists("/locks/p/" + waiter.node).owner_session_id == zk.session_id
    waiter.release()
    assert waiter.node is None


def test_lock_lost_on_expiry(zk, expire_session):
    lock = zk.Lock("/locks/e")
    assert lock.acquire()
    expire_session(zk)
    wait_until(lambda: lock.state == "LOST")


# ---- ReadLock / WriteLock ---------------------------------------------------------


def test_read_write_lock(zk, make_zk):
    c2, c3 = make_zk(), make_zk()
    r1 = zk.ReadLock("/rw", "r1")
    r2 = c2.ReadLock("/rw", "r2")
    w = c3.WriteLock("/rw", "w")
    assert r1.acquire(timeout=5) and r2.acquire(timeout=5), "readers share"
    assert r1.is_acquired and r2.is_acquired
    assert w.acquire(blocking=False) is False
    with pytest.raises(corral.LockTimeout):
        w.acquire(timeout=0.2)
    t, got = in_thread(w.acquire, timeout=10)
    wait_until(lambda: r1.contenders() == ["r1", "r2", "w"])
    # A reader queued behind the waiting writer waits too.
    with pytest.raises(corral.LockTimeout):
        zk.ReadLock("/rw", "late").acquire(timeout=0.2)
    r1.release()
    assert not got
    r2.release()
    t.join(10)
    assert got == [True] and w.is_acquired
    with pytest.raises(corral.LockTimeout):
        r1.acquire(timeout=0.2)  # readers wait for the writer
    t, got = in_thread(r1.acquire, timeout=10)
    wait_until(lambda: w.contenders() == ["w", "r1"])
    w.release()
    t.join(10)
    assert got == [True]
    r1.release()
    assert w.contenders() == []


def test_write_lock_excludes_writers_and_cancels(zk, make_zk):
    a = zk.WriteLock("/wl", "a")
    b = make_zk().WriteLock("/wl", "b")
    with a:
        assert b.acquire(blocking=False) is False
        t, got = in_thread(b.acquire)
        wait_until(lambda: a.contenders() == ["a", "b"])
        b.cancel()
        t.join(10)
        assert isinstance(got[0], corral.CancelledError)
        wait_until(lambda: a.contenders() == ["a"])
    assert b.acquire(timeout=5)
    b.release()


# ---- Semaphore -------------------------------------------------------------------


def test_semaphore(zk, make_zk):
    c2, c3 = make_zk(), make_zk()
    a = zk.Semaphore("/sem", "a", max_leases=2)
    b = c2.Semaphore("/sem", "b", max_leases=2)
    c = c3.Semaphore("/sem", "c", max_leases=2)
    assert a.acquire() and b.acquire(timeout=5)
    assert a.is_acquired and a.acquire(), "acquiring again keeps the one lease"
    assert sorted(a.lease_holders()) == ["a", "b"]
    assert c.acquire(blocking=False) is False
    with pytest.raises(corral.LockTimeout):
        c.acquire(timeout=0.3)
    assert not c.is_acquired
    assert sorted(c.lease_holders()) == ["a", "b"]
    t, got = in_thread(c.acquire, timeout=10)
    # c queues: it takes the acquirers' lock (kazoo's layout) and waits for a lease.
    wait_until(lambda: zk.exists("/sem-__lock__") and zk.get_children("/sem-__lock__"), message="c never queued")
    time.sleep(0.2)  # on purpose: c must not get a lease while a and b hold both
    assert not got
    assert a.release() is True
    t.join(10)
    assert got == [True] and c.is_acquired
    assert sorted(b.lease_holders()) == ["b", "c"]
    assert a.release() is False, "nothing left to release"
    b.release()
    c.release()
    assert a.lease_holders() == []


def test_semaphore_cancel_and_context(zk, make_zk):
    with zk.Semaphore("/sem1", "holder") as holder:
        assert holder.is_acquired
        waiter = make_zk().Semaphore("/sem1", "waiter")
        t, got = in_thread(waiter.acquire)
        wait_until(lambda: zk.exists("/sem1-__lock__") and zk.get_children("/sem1-__lock__"),
                   message="the waiter never queued")
        waiter.cancel()
        t.join(10)
        assert isinstance(got[0], corral.CancelledError)
        wait_until(lambda: holder.lease_holders() == ["holder"], message="the cancelled lease node is removed")
    assert not holder.is_acquired
    assert waiter.acquire(timeout=5)
    waiter.release()
    with pytest.raises(ValueError):
        zk.Semaphore("/sem1", max_leases=0)


# ---- Counter, Barrier, DoubleBarrier --------------------------------------------------


def test_counter(zk, make_zk):
    c = zk.Counter("/counters/c")
    assert c.value == 0
    c += 5
    assert (c.pre_value, c.post_value) == (0, 5)
    c -= 2
    assert c.value == 3 and zk.get("/counters/c")[0] == b"3"
    assert zk.Counter("/counters/d", default=10).value == 10
    others = [make_zk().Counter("/counters/c") for _ in range(3)]
    threads = [threading.Thread(target=lambda o=o: [o.add(1) for _ in range(10)]) for o in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert c.value == 33, "concurrent changes all count"


def test_barrier(zk, make_zk):
    b = zk.Barrier("/barriers/b")
    assert b.wait(0.1) is True  # no node: down
    b.create()
    waiter = make_zk().Barrier("/barriers/b")
    assert waiter.wait(0.2) is False
    t, result = in_thread(waiter.wait, 10)
    assert b.remove() is True
    t.join(10)
    assert result == [True]
    assert b.remove() is False, "down already: False, as kazoo's"


def test_double_barrier(zk, make_zk):
    c2 = make_zk()
    a = zk.DoubleBarrier("/db", 2, "a")
    b = c2.DoubleBarrier("/db", 2, "b")
    started = time.monotonic()
    assert not a.participating
    assert a.create_path.startswith("/db/") and a.create_path != b.create_path
    assert a.enter(timeout=0.3) is False, "alone, the threshold is not reached"
    assert time.monotonic() - started >= 0.25 and a.participating
    assert zk.get(a.create_path)[0] == b"a", "the member's node holds its identifier"
    t, entered = in_thread(a.enter, timeout=10)
    assert b.enter(timeout=10) is True
    t.join(10)
    assert entered == [True]
    assert a.leave(timeout=0.3) is False, "b has not left yet"
    t, left = in_thread(a.leave, timeout=10)
    assert b.leave(timeout=10) is True
    t.join(10)
    assert left == [True] and not a.participating and not b.participating
    assert zk.get_children("/db") == []


def test_double_barrier_threshold_of_three(zk, make_zk):
    members = [c.DoubleBarrier("/db3", 3) for c in (zk, make_zk(), make_zk())]
    runs = [in_thread(m.enter, timeout=10) for m in members[:2]]
    wait_until(lambda: zk.exists("/db3") and len(zk.get_children("/db3")) == 2, message="two members never entered")
    time.sleep(0.3)  # on purpose: neither may pass with two of three
    assert all(not r for _, r in runs), "two of three wait"
    assert members[2].enter(timeout=10)
    for t, r in runs:
        t.join(10)
        assert r == [True]
    runs = [in_thread(m.leave, timeout=10) for m in members]
    for t, r in runs:
        t.join(15)
        assert r == [True]


# ---- Queue, LockingQueue -----------------------------------------------------------


def test_queue(zk, make_zk):
    q = zk.Queue("/queues/q")
    q.put(b"1")
    q.put_all([b"2", b"3"])
    assert len(q) == 3
    consumer = make_zk().Queue("/queues/q")
    assert consumer.get() == b"1"
    assert q.take() == b"2"
    assert consumer.take(timeout=1) == b"3"
    assert q.get() is None
    assert q.take(timeout=0.1) is None
    later = threading.Timer(0.2, lambda: q.put(b"late"))
    later.start()
    assert consumer.take(timeout=10) == b"late"


def test_queue_priorities_and_arguments(zk):
    q = zk.Queue("/queues/p")
    q.put(b"routine", priority=500)
    q.put(b"urgent", priority=1)
    q.put_all([b"default-1", b"default-2"])
    assert [q.get() for _ in range(4)] == [b"urgent", b"default-1", b"default-2", b"routine"]
    with pytest.raises(TypeError):
        q.put("text")
    with pytest.raises(ValueError):
        q.put(b"x", priority=1000)
    with pytest.raises(TypeError):
        q.put_all((b"a",))


def test_locking_queue(zk, make_zk):
    q = zk.LockingQueue("/lq")
    other = make_zk().LockingQueue("/lq")
    q.put(b"later", priority=200)
    q.put_all([b"first", b"second"], priority=10)
    assert len(q) == 3
    assert q.get() == b"first"
    assert q.holds_lock()
    assert q.get() == b"first", "the held item again until consumed"
    assert other.get(timeout=1) == b"second", "a locked item goes to nobody else"
    assert q.release() is True and not q.holds_lock()
    assert len(q) == 3, "locked items stay queued"
    assert q.get(timeout=1) == b"first"
    assert q.consume() is True and q.consume() is False
    assert other.consume() is True
    assert len(q) == 1
    assert q.get(timeout=1) == b"later"
    assert other.get(timeout=0.3) is None, "the last item is locked"
    t, got = in_thread(other.get, timeout=10)
    q.put(b"new")
    t.join(10)
    assert got == [b"new"]
    with pytest.raises(TypeError):
        q.put_all((b"x",))
    with pytest.raises(ValueError):
        q.put(b"x", priority=-1)


def test_locking_queue_redelivers_after_session_loss(zk, make_zk, expire_session):
    q = zk.LockingQueue("/lq2")
    q.put(b"job")
    worker = make_zk()
    wq = worker.LockingQueue("/lq2")
    assert wq.get(timeout=1) == b"job"
    assert q.get(timeout=0.2) is None
    expire_session(worker)
    assert not wq.holds_lock()
    assert q.get(timeout=10) == b"job", "the dead consumer's item comes back"
    assert wq.consume() is False, "the lost lock does not consume"
    assert q.consume()
    assert len(q) == 0


# ---- Election, LeaderLatch -----------------------------------------------------------


def test_election(zk, make_zk):
    e1 = zk.Election("/election", "one")
    e2 = make_zk().Election("/election", "two")
    leading = threading.Event()
    release = threading.Event()
    led = []

    def lead(name, election):
        led.append((name, election.fencing_token))
        leading.set()
        release.wait(10)

    t1, r1 = in_thread(e1.run, lead, "one", e1)
    assert leading.wait(10)
    t2, r2 = in_thread(e2.run, lead, "two", election=e2)
    wait_until(lambda: e1.contenders() == ["one", "two"])
    assert led == [("one", led[0][1])] and led[0][1] > 0
    leading.clear()
    release.set()
    t1.join(10)
    assert r1 == [None]
    assert leading.wait(10)
    t2.join(10)
    assert r2 == [None]
    assert [n for n, _ in led] == ["one", "two"]
    assert led[1][1] > led[0][1], "every later leader has a larger fencing token"
    assert e1.contenders() == [] and e1.fencing_token is None


def test_election_cancel_and_errors(zk, make_zk):
    holder = zk.Election("/election2", "holder")
    queued = make_zk().Election("/election2", "queued")
    release = threading.Event()
    called = []
    t1, r1 = in_thread(holder.run, release.wait, 10)
    wait_until(lambda: holder.contenders() == ["holder"])
    t2, r2 = in_thread(queued.run, called.append, "queued ran")
    wait_until(lambda: holder.contenders() == ["holder", "queued"])
    queued.cancel()
    t2.join(10)
    assert r2 == [None] and called == [], "a cancelled contender never leads"
    wait_until(lambda: holder.contenders() == ["holder"])
    release.set()
    t1.join(10)
    assert r1 == [None]

    def boom():
        raise RuntimeError("leader failed")

    with pytest.raises(RuntimeError, match="leader failed"):
        queued.run(boom)
    assert queued.contenders() == [], "leadership is given up when the function raises"
    with pytest.raises(ValueError):
        queued.run("not callable")


def test_leader_latch(zk, make_zk):
    a = zk.LeaderLatch("/latch", "a")
    b = make_zk().LeaderLatch("/latch", "b")
    a.start()
    assert a.await_leadership(10)
    b.start()
    assert b.await_leadership(0.2) is False and not b.has_leadership
    a.close()
    assert b.await_leadership(10) and b.has_leadership
    b.close()


# ---- Party, ShallowParty --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Party", "ShallowParty"])
def test_party(zk, make_zk, kind):
    other = make_zk()
    alice = getattr(zk, kind)("/party", "alice")
    bob = getattr(other, kind)("/party", "bob")
    assert list(alice) == [] and len(alice) == 0
    alice.join()
    alice.join()  # idempotent
    bob.join()
    assert alice.participating and bob.participating
    assert list(alice) == ["alice", "bob"] and len(bob) == 2
    assert alice.leave() is True and alice.leave() is False
    assert not alice.participating
    assert list(bob) == ["bob"]
    other.stop()
    wait_until(lambda: len(alice) == 0, message="a member goes with its session")


# ---- TreeCache ------------------------------------------------------------------------


def test_tree_cache(zk, make_zk):
    writer = make_zk()
    writer.create("/tree/a", b"1", makepath=True)
    writer.create("/tree/a/deep", b"2")
    cache = zk.TreeCache("/tree")
    events = Recorder()
    cache.listen(events)
    cache.start()
    with pytest.raises(corral.CorralError):
        cache.start()
    initial = events.wait(4)
    assert initial[-1] == (TreeEvent.INITIALIZED, None)
    added = {e.event_data.path for e in initial if e.event_type == TreeEvent.NODE_ADDED}
    assert added == {"/tree", "/tree/a", "/tree/a/deep"}
    node = cache.get_data("/tree/a/deep")
    assert node.data == b"2" and node.path == "/tree/a/deep" and isinstance(node.stat, corral.ZnodeStat)
    assert cache.get_children("/tree") == frozenset({"a"})
    assert cache.get_data("/tree/none") is None and cache.get_data("/tree/none", "d") == "d"
    with pytest.raises(ValueError):
        cache.get_data("/elsewhere")

    def seen(kind, path):
        return any(e.event_type == kind and e.event_data.path == path for e in events.calls[len(initial) :])

    writer.create("/tree/b", b"3")
    wait_until(lambda: seen(TreeEvent.NODE_ADDED, "/tree/b"))
    assert cache.get_data("/tree/b").data == b"3"
    assert cache.get_children("/tree") == frozenset({"a", "b"})
    writer.set("/tree/a", b"changed")
    wait_until(lambda: seen(TreeEvent.NODE_UPDATED, "/tree/a"))
    assert cache.get_data("/tree/a").data == b"changed"
    writer.delete("/tree/a", recursive=True)
    wait_until(lambda: seen(TreeEvent.NODE_REMOVED, "/tree/a") and seen(TreeEvent.NODE_REMOVED, "/tree/a/deep"))
    assert cache.get_data("/tree/a") is None and cache.get_children("/tree") == frozenset({"b"})
    cache.close()
    count = len(events.calls)
    writer.create("/tree/after-close")
    assert len(events.quiet()) == count, "no event after close"
    with pytest.raises(corral.CorralError):
        cache.start()


def test_tree_cache_listener_faults(zk, make_zk):
    writer = make_zk()
    faults = Recorder()
    cache = zk.TreeCache("/faulty")

    @cache.listen
    def broken(event):
        raise RuntimeError(f"listener failed on {event.event_type}")

    cache.listen_fault(faults)
    cache.start()
    assert zk.exists("/faulty"), "start creates the root"
    writer.create("/faulty/x")
    errors = faults.wait(3)
    assert all(isinstance(e, RuntimeError) for e in errors)
    cache.close()


# ---- ServiceDiscovery --------------------------------------------------------------------


def test_service_discovery(zk, make_zk):
    other = make_zk()
    mine = zk.ServiceDiscovery("/services")
    theirs = other.ServiceDiscovery("/services")
    api = ServiceInstance(
        "api",
        address="10.0.0.7",
        port=8080,
        payload={"zone": "a", "weight": 2},
        uri_spec="{scheme}://{address}:{port}/v1",
    )
    assert api.build_uri() == "http://10.0.0.7:8080/v1"
    registered = mine.register(api)
    assert registered == api and registered.registration_time_utc > 0
    second = theirs.register(ServiceInstance("api", address="10.0.0.8", port=8081, id="b-second"))
    theirs.register(ServiceInstance("db", id="db-1", service_type="STATIC"))
    assert mine.names() == ["api", "db"]
    found = {i.id: i for i in mine.instances("api")}
    assert set(found) == {api.id, "b-second"}
    assert found[api.id].payload == {"zone": "a", "weight": 2}
    assert found[api.id].build_uri() == "http://10.0.0.7:8080/v1"
    assert mine.instance("api", "b-second").address == "10.0.0.8"
    assert mine.instance("api", "nope") is None
    raw, _ = zk.get(f"/services/api/{api.id}")
    assert b'"address":"10.0.0.7"' in raw and b'"serviceType":"DYNAMIC"' in raw, "Curator's JSON"

    cache = mine.cache("api")
    assert {i.id for i in cache.instances} == {api.id, "b-second"}
    assert cache.wait_for_change(timeout=0.2) is None
    api.payload = {"zone": "b"}
    mine.update(api)
    changed = cache.wait_for_change(timeout=10)
    assert changed is not None and {i.id: i.payload for i in changed}[api.id] == {"zone": "b"}
    theirs.unregister(second)
    changed = cache.wait_for_change(timeout=10)
    assert [i.id for i in changed] == [api.id]
    other.stop()  # theirs: nothing dynamic left; the STATIC instance stays
    assert mine.instances("db")[0].service_type == "STATIC"
    mine.close()
    wait_until(lambda: cache.instances == [], message="close unregisters dynamic instances")
    cache.close()
    assert cache.wait_for_change(timeout=0.1) is None
    with pytest.raises(corral.ConnectionLoss):
        mine.names()


def test_service_discovery_instance_goes_with_its_session(zk, make_zk):
    worker = make_zk()
    registry = worker.ServiceDiscovery("/svc")
    registry.register(ServiceInstance("job", id="w1", port=1))
    watcher = zk.ServiceDiscovery("/svc")
    cache = watcher.cache("job")
    assert [i.id for i in cache.instances] == ["w1"]
    assert cache.wait_for_change(timeout=0.3) is None, "the registration stays while its registry lives"
    worker.stop()
    assert cache.wait_for_change(timeout=10) == []
    cache.close()
    with pytest.raises(ValueError):
        watcher.register(ServiceInstance("job", service_type="SOMETIMES"))


# ---- SetPartitioner ---------------------------------------------------------------------


def test_set_partitioner(zk, make_zk):
    items = ["q1", "q2", "q3", "q4", "q5"]
    changes = threading.Event()
    p1 = zk.SetPartitioner("/parts", set=items, identifier="w1", time_boundary=0.3, state_change_event=changes)
    assert p1.allocating or p1.acquired
    assert p1.wait_for_acquire(10) and p1.acquired and not p1.failed
    assert list(p1) == items, "the only member takes everything"
    assert changes.is_set()
    other = make_zk()
    p2 = other.SetPartitioner("/parts", set=items, identifier="w2", time_boundary=0.3)
    wait_until(lambda: p1.release, message="a new member makes the others release")
    assert p1.state == PartitionState.RELEASE
    p1.release_set()
    assert p1.wait_for_acquire(10) and p2.wait_for_acquire(10)
    assert list(p1) == ["q1", "q3", "q5"] and list(p2) == ["q2", "q4"]
    p2.finish()
    assert p2.failed and list(p2) == []
    wait_until(lambda: p1.release)
    p1.release_set()
    assert p1.wait_for_acquire(10) and list(p1) == items
    p1.finish()
    assert p1.state == PartitionState.FAILURE


def test_set_partitioner_fails_with_its_session(zk, make_zk, expire_session):
    worker = make_zk()
    p = worker.SetPartitioner("/parts2", set=[1, 2, 3], identifier="w", time_boundary=0.2)
    assert p.wait_for_acquire(10) and list(p) == [1, 2, 3], "items come back as given"
    expire_session(worker)
    wait_until(lambda: p.failed, message="session loss ends in FAILURE")


def test_set_partitioner_with_a_partition_func(zk, make_zk):
    """kazoo's partition_func(identifier, members, partitions): items as given, not their str()."""
    calls = []

    def evens_first(identifier, members, partitions):
        calls.append((identifier, list(members), sorted(partitions)))
        mine = [p for p in partitions if (p % 2 == 0) == (identifier == members[0])]
        return mine + ["not in the set"]

    a = zk.SetPartitioner("/parts3", set=[1, 2, 3, 4], partition_func=evens_first, identifier="a", time_boundary=0.2)
    b = make_zk().SetPartitioner("/parts3", set=[1, 2, 3, 4], partition_func=evens_first, identifier="b",
                                 time_boundary=0.2)
    wait_until(lambda: a.acquired and b.acquired and sorted(a) == [2, 4] and sorted(b) == [1, 3], 20)
    assert ("a", ["a", "b"], [1, 2, 3, 4]) in calls
    a.finish()
    b.finish()


def test_counter_floats_and_curator_encoding(zk, corral_server, zk_chroot):
    """kazoo's float counter and its support_curator mode, read back by kazoo itself."""
    from kazoo.client import KazooClient

    f = zk.Counter("/counters/f", default=1.5)
    f += 0.25
    assert (f.pre_value, f.post_value, f.value) == (1.5, 1.75, 1.75)
    with pytest.raises(TypeError):
        f += 1  # an int change of a float counter, as kazoo refuses it
    c = zk.Counter("/counters/cur", default=3, support_curator=True)
    c += 4
    assert zk.get("/counters/cur")[0] == (7).to_bytes(4, "big")
    with pytest.raises(TypeError):
        c += 1.0
    with pytest.raises(TypeError):  # kazoo raises TypeError here
        zk.Counter("/counters/bad", default=1.0, support_curator=True)
    with pytest.raises(TypeError):
        zk.Counter("/counters/bad", default="1")
    kz = KazooClient(corral_server.hosts + zk_chroot)
    kz.start()
    try:
        assert kz.Counter("/counters/f", default=0.0).value == 1.75
        kc = kz.Counter("/counters/cur", support_curator=True)
        assert kc.value == 7
        kc += 2
        assert c.value == 9
    finally:
        kz.stop()
        kz.close()


def test_layouts_kazoo_by_default_curator_by_name(zk):
    """kazoo's names lay nodes out as kazoo does; ``layout="curator"`` as Curator does."""
    with zk.ReadLock("/layouts/rw", "r"):
        (name,) = zk.get_children("/layouts/rw")
        assert name[:32].isalnum() and name[32:].startswith("__rlock__"), name
    with zk.WriteLock("/layouts/rw-c", "w", layout="curator"):
        (name,) = zk.get_children("/layouts/rw-c")
        assert name.startswith("_c_") and "-__WRIT__" in name, name
    with zk.Semaphore("/layouts/sem", "s", max_leases=2):
        assert zk.get("/layouts/sem")[0] == b"2"
        (lease,) = zk.get_children("/layouts/sem")
        assert len(lease) == 32 and zk.get(f"/layouts/sem/{lease}")[0] == b"s"
    with zk.Semaphore("/layouts/sem-c", "s", max_leases=2, layout="curator"):
        (lease,) = zk.get_children("/layouts/sem-c/leases")
        assert lease.startswith("_c_") and "-lease-" in lease, lease
    with pytest.raises(ValueError):  # kazoo's error for another max_leases
        zk.Semaphore("/layouts/sem", "s", max_leases=3).acquire(timeout=5)
    seen = []
    zk.Election("/layouts/el", "e").run(lambda: seen.extend(zk.get_children("/layouts/el")))
    assert len(seen) == 1 and seen[0][32:].startswith("__lock__"), seen
    for make in (zk.Lock, zk.ReadLock, zk.WriteLock, zk.Election):
        with pytest.raises(ValueError, match='unknown layout "bogus"'):
            make("/layouts/x", "i", layout="bogus")
    with pytest.raises(ValueError, match="unknown layout"):
        zk.Semaphore("/layouts/x", "i", layout="bogus")
