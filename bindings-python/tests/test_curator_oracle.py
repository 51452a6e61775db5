"""Apache Curator 5.4 as the oracle for corral's recipes that claim Curator's
node layout: a Curator process (``curator/CuratorOracle.java``) and corral's
Python recipes contend and interoperate on the same paths, against corral's
server and Apache ZooKeeper 3.8 alike.

Pairs: ``Lock(layout="curator")`` / InterProcessMutex; ``ReadLock`` and
``WriteLock(layout="curator")`` / InterProcessReadWriteLock;
``Semaphore(layout="curator")`` / InterProcessSemaphoreV2; ``LeaderLatch`` /
LeaderLatch; ``Election(layout="curator")`` / LeaderSelector;
``Counter(support_curator=True)`` / SharedCount; ``ServiceDiscovery`` and its
``cache`` / ServiceDiscovery and ServiceCache (curator-x-discovery);
``TreeCache`` / CuratorCache.

Exclusion is judged from a shared log node that both sides append to with
versioned writes while they hold: the server orders the appends, so the log
is the order of the holds. Had corral laid its nodes out otherwise, each side
would take the lock beside the other, and the log would show it.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from typing import Callable, Iterator, List, Tuple

import pytest

import corral
from corral.recipes import ServiceInstance, TreeEvent
from curator_driver import CuratorError, CuratorOracle, CuratorScope, compile_oracle, missing
from helpers import wait_until

HOLD_S = 0.03
"""How long each hold lasts in the contention tests: long enough for the others to queue up."""
ROUNDS = 3
"""Holds per contender in the contention tests."""


@pytest.fixture(scope="session")
def curator_classes(tmp_path_factory: pytest.TempPathFactory):
    """The oracle compiled once per run against Debian's Curator jars."""
    reason = missing()
    if reason:
        pytest.fail(f"Apache Curator unavailable: {reason}", pytrace=False)
    return compile_oracle(tmp_path_factory.mktemp("curator-oracle"))


@pytest.fixture(scope="session")
def curator_process(corral_server, curator_classes) -> Iterator[CuratorOracle]:
    """One Curator client per server kind, shared by the tests (each in its own namespace)."""
    oracle = CuratorOracle(curator_classes, corral_server.hosts)
    yield oracle
    oracle.close()


@pytest.fixture
def curator(curator_process: CuratorOracle, zk_chroot: str) -> Iterator[CuratorScope]:
    """Curator in this test's chroot: its "/x" is the Python clients' "/x"."""
    scope = CuratorScope(curator_process, zk_chroot)
    yield scope
    scope.close()


# ---- the shared log -------------------------------------------------------------------


def append(client: corral.Client, path: str, line: str) -> None:
    """Appends a line to the log node with a versioned write, again on conflict (as the Java side does)."""
    while True:
        data, stat = client.get(path)
        try:
            client.set(path, (data or b"") + line.encode() + b"\n", version=stat.version)
            return
        except corral.BadVersionError:
            continue


def read_log(client: corral.Client, path: str) -> List[Tuple[str, str]]:
    """The log as (tag, "begin" | "end") pairs, in order."""
    data, _ = client.get(path)
    return [tuple(line.split(" ")) for line in (data or b"").decode().splitlines()]


def holders_after_each_entry(log: List[Tuple[str, str]]) -> List[frozenset]:
    """Who holds after each log entry; fails on an end without a begin or a begin twice."""
    held: set = set()
    out = []
    for tag, what in log:
        if what == "begin":
            assert tag not in held, f"{tag} began twice: {log}"
            held.add(tag)
        else:
            assert what == "end" and tag in held, f"{tag} ended without beginning: {log}"
            held.discard(tag)
        out.append(frozenset(held))
    assert not held, f"unfinished holds {held}: {log}"
    return out


def hold_rounds(client: corral.Client, acquire: Callable, release: Callable, log: str, tag: str) -> None:
    """The Python twin of the Java side's "hold": ROUNDS times acquire, log begin, hold, log end, release."""
    for _ in range(ROUNDS):
        acquire()
        try:
            append(client, log, f"{tag} begin")
            time.sleep(HOLD_S)
            append(client, log, f"{tag} end")
        finally:
            release()


def in_thread(fn: Callable, *args) -> Tuple[threading.Thread, list]:
    """Runs ``fn`` in a thread; the list gets its result or the exception it raised."""
    results: list = []

    def body() -> None:
        try:
            results.append(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to the test
            results.append(e)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, results


def joined(thread: threading.Thread, results: list, timeout: float = 30.0):
    """The thread's result once it ends; re-raises what it raised."""
    thread.join(timeout)
    assert not thread.is_alive(), f"still running after {timeout}s"
    if isinstance(results[0], BaseException):
        raise results[0]
    return results[0]


def children(client: corral.Client, path: str) -> List[str]:
    """The children of ``path``; none while it does not exist."""
    try:
        return client.get_children(path)
    except corral.NoNodeError:
        return []


# ---- contention: holds never exceed the recipe's limit -------------------------------


def writers_alone(holders: frozenset) -> bool:
    """The read-write rule: a writer ("w-" tag) holds alone."""
    return len(holders) <= 1 or not any(tag.startswith("w-") for tag in holders)


# kind: (Curator's contenders as (verb, extra args, tag), corral's as (factory, tag), the rule
# the holders after every log entry obey)
CONTENTION = {
    "lock": (
        [("mutex", (), "c-1"), ("mutex", (), "c-2")],
        [(lambda zk: zk.Lock("/res", "p-1", layout="curator"), "p-1"),
         (lambda zk: zk.Lock("/res", "p-2", layout="curator"), "p-2")],
        lambda holders: len(holders) <= 1,
    ),
    "rwlock": (
        [("writelock", (), "w-c"), ("readlock", (), "r-c")],
        [(lambda zk: zk.WriteLock("/res", "w-p", layout="curator"), "w-p"),
         (lambda zk: zk.ReadLock("/res", "r-p", layout="curator"), "r-p")],
        writers_alone,
    ),
    "semaphore": (
        [("semaphore", (2,), "c-1"), ("semaphore", (2,), "c-2")],
        [(lambda zk: zk.Semaphore("/res", "p-1", max_leases=2, layout="curator"), "p-1"),
         (lambda zk: zk.Semaphore("/res", "p-2", max_leases=2, layout="curator"), "p-2")],
        lambda holders: len(holders) <= 2,
    ),
}


@pytest.mark.parametrize("kind", sorted(CONTENTION))
def test_holds_respect_the_limit_across_both_sides(kind, zk, make_zk, curator):
    """Two Curator and two corral contenders hold the same path in turns, each
    logging its holds: a mutex never has two holders, a writer of the
    read-write lock holds alone, and a 2-lease semaphore never has three."""
    curator_side, corral_side, rule = CONTENTION[kind]
    zk.create("/log", b"")
    replies = []
    for verb, extra, tag in curator_side:
        handle = curator.make(verb, "/res", *extra)
        replies.append(curator.send("hold", handle, "/log", tag, ROUNDS, int(HOLD_S * 1000)))
    threads = []
    for i, (make, tag) in enumerate(corral_side):
        client = zk if i == 0 else make_zk()
        recipe = make(client)
        threads.append(in_thread(hold_rounds, client, recipe.acquire, recipe.release, "/log", tag))
    for t, results in threads:
        joined(t, results, 60)
    for reply in replies:
        reply.result(60)
    log = read_log(zk, "/log")
    tags = {tag for *_, tag in curator_side} | {tag for _, tag in corral_side}
    begun = collections.Counter(tag for tag, what in log if what == "begin")
    assert begun == {tag: ROUNDS for tag in tags}, log
    for holders in holders_after_each_entry(log):
        assert rule(holders), f"{sorted(holders)} held the {kind} together: {log}"


# ---- locks: each side waits for the other's release -----------------------------------


def test_mutex_each_side_waits_for_the_other(zk, curator):
    """Curator's InterProcessMutex queues behind corral's lock node and gets
    the lock on its release, and the other way round; both see one line."""
    lock = zk.Lock("/lock", "corral", layout="curator")
    mutex = curator.make("mutex", "/lock")
    assert lock.acquire(timeout=10)
    assert curator.call("acquire", mutex, 200) == "false", "Curator took a lock corral holds"
    waiting = curator.send("acquire", mutex, -1)
    wait_until(lambda: len(children(zk, "/lock")) == 2, message="Curator's node never queued")
    line = json.loads(curator.call("participants", mutex))
    assert line[0].rsplit("/", 1)[1] == lock.node, f"Curator sees another holder: {line}, corral holds {lock.node}"
    assert not waiting.done(), "Curator got the lock while corral held it"
    lock.release()
    assert waiting.result(10) == "true"

    with pytest.raises(corral.LockTimeout):
        lock.acquire(timeout=0.3)
    t, got = in_thread(lock.acquire, True, 30)
    wait_until(lambda: len(children(zk, "/lock")) == 2, message="corral's node never queued")
    assert not got, "corral got the lock while Curator held it"
    curator.call("release", mutex)
    assert joined(t, got) is True and lock.is_acquired
    lock.release()


def test_rwlock_writers_exclude_readers_across_sides(zk, make_zk, curator):
    """Readers of both sides share the lock; a Curator writer keeps corral's
    readers out until it releases, and a corral writer keeps Curator's
    readers and writers out."""
    reader = zk.ReadLock("/rw", "corral-r", layout="curator")
    writer = make_zk().WriteLock("/rw", "corral-w", layout="curator")
    c_reader = curator.make("readlock", "/rw")
    c_writer = curator.make("writelock", "/rw")

    assert curator.call("acquire", c_reader, 5000) == "true"
    assert reader.acquire(timeout=5), "corral's reader did not share with Curator's"
    with pytest.raises(corral.LockTimeout):
        writer.acquire(timeout=0.3)
    reader.release()
    curator.call("release", c_reader)

    assert curator.call("acquire", c_writer, 5000) == "true"
    with pytest.raises(corral.LockTimeout):
        reader.acquire(timeout=0.3)
    t, got = in_thread(reader.acquire, True, 30)
    wait_until(lambda: len(children(zk, "/rw")) == 2, message="corral's reader never queued")
    assert not got, "corral's reader got in beside Curator's writer"
    curator.call("release", c_writer)
    assert joined(t, got) is True
    reader.release()

    assert writer.acquire(timeout=5)
    assert curator.call("acquire", c_reader, 200) == "false", "Curator's reader got in beside corral's writer"
    assert curator.call("acquire", c_writer, 200) == "false", "Curator's writer got in beside corral's writer"
    waiting = curator.send("acquire", c_reader, -1)
    wait_until(lambda: len(children(zk, "/rw")) == 2, message="Curator's reader never queued")
    assert not waiting.done()
    writer.release()
    assert waiting.result(10) == "true"
    curator.call("release", c_reader)


def test_semaphore_leases_counted_across_sides(zk, make_zk, curator):
    """With 2 leases, one corral and one Curator holder fill the semaphore:
    a third of either side waits, and gets a lease when the other side
    gives one back."""
    first = zk.Semaphore("/sem", "corral-1", max_leases=2, layout="curator")
    second = make_zk().Semaphore("/sem", "corral-2", max_leases=2, layout="curator")
    c_first = curator.make("semaphore", "/sem", 2)
    c_second = curator.make("semaphore", "/sem", 2)

    assert first.acquire(timeout=5)
    assert curator.call("acquire", c_first, 5000) == "true", "Curator found no room beside one corral lease"
    assert len(children(zk, "/sem/leases")) == 2
    with pytest.raises(corral.LockTimeout):
        second.acquire(timeout=0.3)
    assert curator.call("acquire", c_second, 300) == "false", "Curator took a third lease of two"

    waiting = curator.send("acquire", c_second, -1)
    wait_until(lambda: len(children(zk, "/sem/leases")) == 3, message="Curator's lease node never appeared")
    assert not waiting.done(), "Curator holds a third lease of two"
    first.release()
    assert waiting.result(10) == "true"

    t, got = in_thread(second.acquire, True, 30)
    wait_until(lambda: len(children(zk, "/sem/leases")) == 3, message="corral's lease node never appeared")
    assert not got, "corral holds a third lease of two"
    curator.call("release", c_first)
    assert joined(t, got) is True
    assert "corral-2" in second.lease_holders() and len(children(zk, "/sem/leases")) == 2
    second.release()
    curator.call("release", c_second)


# ---- leaders -------------------------------------------------------------------------


def test_leader_latch_one_leader_and_takeover(zk, curator):
    """corral's and Curator's LeaderLatch participants on one path agree on a
    single leader; when it closes, the other side takes over."""
    mine = zk.LeaderLatch("/latch", "corral-1")
    mine.start()
    assert mine.await_leadership(10)
    theirs = curator.make("latch", "/latch", "curator-1")
    wait_until(lambda: json.loads(curator.call("participants", theirs)) == ["corral-1", "curator-1"])
    assert json.loads(curator.call("leader", theirs)) == "corral-1"
    assert curator.call("isleader", theirs) == "false" and mine.has_leadership

    mine.close()
    assert curator.call("await", theirs, 10_000) == "true", "Curator did not take over"
    assert not mine.has_leadership

    again = zk.LeaderLatch("/latch", "corral-2")
    again.start()
    assert not again.await_leadership(0.3), "corral leads beside Curator's leader"
    assert json.loads(curator.call("leader", theirs)) == "curator-1"
    curator.call("close", theirs)
    assert again.await_leadership(10), "corral did not take over"
    again.close()


def test_leader_selector_and_election_take_turns(zk, curator):
    """Curator's LeaderSelector and corral's Election (Curator layout) on one
    path: one leader at a time, each leads after the other gives up, and both
    list the same contenders."""
    first = curator.make("selector", "/election", "curator-1")
    curator.wait_event(first, "leader")
    election = zk.Election("/election", "corral-1", layout="curator")
    leading, done = threading.Event(), threading.Event()

    def lead() -> None:
        leading.set()
        assert done.wait(30)

    t, ran = in_thread(election.run, lead)
    wait_until(lambda: election.contenders() == ["curator-1", "corral-1"])
    assert json.loads(curator.call("participants", first)) == ["curator-1", "corral-1"]
    assert not leading.is_set(), "corral leads beside Curator's leader"

    curator.call("yield", first)
    assert leading.wait(10), "corral did not take over"
    assert json.loads(curator.call("leader", first)) == "corral-1"
    second = curator.make("selector", "/election", "curator-2")
    wait_until(lambda: election.contenders() == ["corral-1", "curator-2"])
    assert curator.call("isleader", second) == "false"

    done.set()
    joined(t, ran)
    curator.wait_event(second, "leader")
    assert election.contenders() == ["curator-2"]


# ---- shared count ----------------------------------------------------------------------


def test_shared_count_increments_from_both_sides(zk, make_zk, curator):
    """A Curator SharedCount and corral Counters (support_curator) on one node
    read each other's values, and concurrent increments of both sides all count."""
    count = curator.make("sharedcount", "/count", 0)
    counter = zk.Counter("/count", support_curator=True)
    curator.call("increment", count, 3)
    assert counter.value == 3
    counter += 4
    wait_until(lambda: curator.call("count", count) == "7", message="Curator never saw corral's value")

    per_side = 15
    others = [curator.make("sharedcount", "/count", 0) for _ in range(2)]
    replies = [curator.send("increment", h, per_side) for h in others]
    clients = [zk, make_zk()]

    def add_many(client: corral.Client) -> None:
        c = client.Counter("/count", support_curator=True)
        for _ in range(per_side):
            c += 1

    threads = [in_thread(add_many, c) for c in clients]
    for t, results in threads:
        joined(t, results, 60)
    for reply in replies:
        reply.result(60)
    total = 7 + 4 * per_side
    assert counter.value == total
    assert zk.get("/count")[0] == total.to_bytes(4, "big")
    wait_until(lambda: curator.call("count", count) == str(total), message="Curator's count lags")


def test_shared_count_reads_a_node_corral_made(zk, curator):
    """A corral Curator-encoded counter that only read its value leaves a node
    that Curator's SharedCount can read: the default, as 4 bytes."""
    counter = zk.Counter("/count", default=5, support_curator=True)
    assert counter.value == 5
    count = curator.make("sharedcount", "/count", 5)
    try:
        seen = curator.call("count", count)
    except CuratorError as e:
        raise AssertionError(f"Curator cannot read the node corral made ({zk.get('/count')[0]!r}): {e}") from e
    assert seen == "5"


# ---- service discovery ---------------------------------------------------------------


def fields(instance: dict) -> dict:
    """The fields of an instance (as the oracle describes it) that both sides set."""
    return {k: instance[k] for k in ("name", "id", "address", "port", "payload")}


def test_corral_instance_found_by_curator(zk, curator):
    """An instance registered by corral is listed by Curator's ServiceDiscovery
    and ServiceCache with its name, id, address, port and payload, and leaves
    Curator's cache when corral unregisters it."""
    discovery = zk.ServiceDiscovery("/services")
    mine = ServiceInstance("api", address="10.0.0.7", port=8080, payload={"zone": "eu-1", "weight": 3},
                           id="corral-1")
    discovery.register(mine)
    theirs = curator.make("discovery", "/services")
    expected = {"name": "api", "id": "corral-1", "address": "10.0.0.7", "port": 8080,
                "payload": {"zone": "eu-1", "weight": 3}}
    (found,) = json.loads(curator.call("instances", theirs, "api"))
    assert fields(found) == expected and found["serviceType"] == "DYNAMIC" and found["enabled"] is True
    wait_until(lambda: [fields(i) for i in json.loads(curator.call("cached", theirs, "api"))] == [expected])

    discovery.unregister(mine)
    wait_until(lambda: json.loads(curator.call("cached", theirs, "api")) == [],
               message="Curator's ServiceCache still lists the unregistered instance")
    discovery.close()


def test_curator_instance_found_by_corral(zk, curator):
    """An instance registered by Curator is found by corral's ServiceDiscovery
    and ServiceCache with its name, id, address, port and payload, and leaves
    corral's cache when Curator unregisters it."""
    theirs = curator.make("discovery", "/services")
    discovery = zk.ServiceDiscovery("/services")
    with discovery.cache("api") as cache:
        curator.call("register", theirs, "api", "curator-1", "10.0.0.8", 9090,
                     json.dumps({"zone": "us-2", "weight": 5}, separators=(",", ":")))
        assert discovery.names() == ["api"]
        found = discovery.instance("api", "curator-1")
        assert found is not None
        assert (found.name, found.id, found.address, found.port) == ("api", "curator-1", "10.0.0.8", 9090)
        assert found.service_type == "DYNAMIC" and found.enabled
        assert [i.id for i in discovery.instances("api")] == ["curator-1"]
        wait_until(lambda: [i.id for i in cache.instances] == ["curator-1"])

        curator.call("unregister", theirs, "api", "curator-1")
        wait_until(lambda: cache.instances == [], message="corral's cache still lists the unregistered instance")
    discovery.close()


def test_curator_payload_read_by_corral(zk, curator):
    """The payload of a Curator-registered instance reads back in corral as Curator's caller gave it."""
    theirs = curator.make("discovery", "/services")
    curator.call("register", theirs, "api", "curator-1", "10.0.0.8", 9090,
                 json.dumps({"zone": "us-2", "weight": 5}, separators=(",", ":")))
    found = zk.ServiceDiscovery("/services").instance("api", "curator-1")
    assert found is not None
    assert found.payload == {"zone": "us-2", "weight": 5}, f"raw: {zk.get('/services/api/curator-1')[0]!r}"


# ---- caches ---------------------------------------------------------------------------


def test_curator_cache_sees_corral_writes(zk, curator):
    """A Curator CuratorCache follows corral's creates, updates and deletes."""
    zk.ensure_path("/tree")
    cache = curator.make("cache", "/tree")
    zk.create("/tree/a", b"one")
    wait_until(lambda: json.loads(curator.call("cacheget", cache, "/tree/a")) == "one")
    zk.set("/tree/a", b"two")
    wait_until(lambda: json.loads(curator.call("cacheget", cache, "/tree/a")) == "two")
    zk.create("/tree/a/b", b"deep")
    wait_until(lambda: json.loads(curator.call("cacheget", cache, "/tree/a/b")) == "deep")
    zk.delete("/tree/a", recursive=True)
    wait_until(lambda: json.loads(curator.call("cacheget", cache, "/tree/a")) is None)


def test_corral_tree_cache_sees_curator_writes(zk, curator):
    """corral's TreeCache follows Curator's creates, updates and deletes, with an event for each."""
    cache = zk.TreeCache("/tree")
    events: list = []
    cache.listen(lambda e: events.append((e.event_type, e.event_data and e.event_data.path)))
    cache.start()
    try:
        curator.call("create", "/tree/a", "one")
        wait_until(lambda: (cache.get_data("/tree/a") or (None, None))[1] == b"one")
        curator.call("set", "/tree/a", "two")
        wait_until(lambda: (cache.get_data("/tree/a") or (None, None))[1] == b"two")
        curator.call("delete", "/tree/a")
        wait_until(lambda: cache.get_data("/tree/a") is None)
        wait_until(lambda: [e for e in events if e[1] == "/tree/a"] == [
            (TreeEvent.NODE_ADDED, "/tree/a"), (TreeEvent.NODE_UPDATED, "/tree/a"),
            (TreeEvent.NODE_REMOVED, "/tree/a")])
    finally:
        cache.close()
