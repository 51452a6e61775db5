"""The asyncio recipes (corral.aio.Client.Lock, ...): the same Rust recipes as
the blocking client, as coroutines that never block the event loop; against
corral's EmbeddedServer and Apache ZooKeeper alike."""

from __future__ import annotations

import asyncio

import pytest

import corral
import corral.aio


@pytest.fixture
def hosts(corral_proxy, zk_chroot):
    """A connect string through the fault proxy, chrooted for this test."""
    return corral_proxy.hosts + zk_chroot


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def eventually(predicate, timeout=10.0):
    """Awaits ``predicate()`` (a coroutine function) until truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def ticker(stop):
    """Counts event-loop turns: proof that waits do not block the loop."""
    n = 0
    while not stop.is_set():
        n += 1
        await asyncio.sleep(0.01)
    return n


def test_lock(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            lock = a.Lock("/locks/x", "a")
            rival = b.Lock("/locks/x", "b")
            async with lock:
                assert lock.is_acquired and lock.state == "HELD" and lock.fencing_token
                assert await rival.acquire(blocking=False) is False
                stop = asyncio.Event()
                ticks = asyncio.ensure_future(ticker(stop))
                with pytest.raises(corral.LockTimeout):
                    await rival.acquire(timeout=0.3)
                stop.set()
                assert await ticks >= 5, "the event loop ran during the wait"
                waiting = asyncio.ensure_future(rival.acquire(timeout=10))
                await eventually(lambda: _eq(lock.contenders(), ["a", "b"]))
                assert not waiting.done()
                token = lock.fencing_token
            assert await waiting is True and rival.fencing_token > token
            assert not lock.is_acquired
            await rival.release()
            assert await rival.contenders() == []
            assert await rival.release() is False, "kazoo's: releasing a lock not held is False"

    run(main())


async def _eq(coro, expected):
    return await coro == expected


def test_lock_cancel_and_task_cancellation(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            holder = a.Lock("/locks/c", "holder")
            assert await holder.acquire()
            waiter = b.Lock("/locks/c", "waiter")
            pending = asyncio.ensure_future(waiter.acquire())
            await eventually(lambda: _eq(holder.contenders(), ["holder", "waiter"]))
            waiter.cancel()
            with pytest.raises(corral.CancelledError):
                await pending
            await eventually(lambda: _eq(holder.contenders(), ["holder"]))
            # Cancelling the asyncio task abandons the wait too.
            task = asyncio.ensure_future(waiter.acquire())
            await eventually(lambda: _eq(holder.contenders(), ["holder", "waiter"]))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await eventually(lambda: _eq(holder.contenders(), ["holder"]))
            await holder.release()
            assert await waiter.acquire(timeout=5)
            await waiter.release()

    run(main())


def test_read_write_lock(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            r1, r2 = a.ReadLock("/rw", "r1"), b.ReadLock("/rw", "r2")
            w = b.WriteLock("/rw", "w")
            assert await r1.acquire() and await r2.acquire()
            with pytest.raises(corral.LockTimeout):
                await w.acquire(timeout=0.2)
            writing = asyncio.ensure_future(w.acquire())
            await eventually(lambda: _eq(r1.contenders(), ["r1", "r2", "w"]))
            await r1.release()
            await r2.release()
            assert await writing
            assert await r1.acquire(blocking=False) is False
            await w.release()
            async with r1:
                assert r1.is_acquired

    run(main())


def test_semaphore(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            s1 = a.Semaphore("/sem", "one", max_leases=1)
            s2 = b.Semaphore("/sem", "two", max_leases=1)
            async with s1:
                assert s1.is_acquired and await s1.lease_holders() == ["one"]
                with pytest.raises(corral.LockTimeout):
                    await s2.acquire(timeout=0.2)
                # cancel() ends the acquisitions under way, so wait until s2 queues.
                before = await _lock_nodes(a, "/sem")
                pending = asyncio.ensure_future(s2.acquire())
                await eventually(lambda: _queued_beyond(a, "/sem", before))
                s2.cancel()
                with pytest.raises(corral.CancelledError):
                    await pending
                before = await _lock_nodes(a, "/sem")
                waiting = asyncio.ensure_future(s2.acquire(timeout=10))
                await eventually(lambda: _queued_beyond(a, "/sem", before))
                await asyncio.sleep(0.1)  # on purpose: no lease while s1 holds the only one
                assert not waiting.done()
            assert await waiting and await s2.lease_holders() == ["two"]
            assert await s2.release() is True and await s2.release() is False

    run(main())


async def _lock_nodes(client, semaphore_path):
    """The nodes of the lock that a semaphore's acquirers queue on (kazoo's layout)."""
    lock = f"{semaphore_path}-__lock__"
    return set(await client.get_children(lock)) if await client.exists(lock) else set()


async def _queued_beyond(client, semaphore_path, before):
    """Whether an acquirer queued since ``before`` was taken."""
    return bool(await _lock_nodes(client, semaphore_path) - before)


def test_counter_barrier_double_barrier(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            c1, c2 = a.Counter("/n"), b.Counter("/n", default=0)
            await asyncio.gather(*(c.add(1) for c in (c1, c2) for _ in range(10)))
            assert await c1.value() == 20
            assert await c2.subtract(5) == 15 and (c2.pre_value, c2.post_value) == (20, 15)
            assert await a.Counter("/m", default=7).value() == 7

            barrier = a.Barrier("/gate")
            await barrier.create()
            waiting = asyncio.ensure_future(b.Barrier("/gate").wait(10))
            assert await b.Barrier("/gate").wait(0.2) is False
            assert await barrier.remove()
            assert await waiting is True

            d1, d2 = a.DoubleBarrier("/db", 2), b.DoubleBarrier("/db", 2)
            assert await d1.enter(timeout=0.2) is False
            assert await asyncio.gather(d1.enter(10), d2.enter(10)) == [True, True]
            assert await d1.leave(timeout=0.2) is False
            assert await asyncio.gather(d1.leave(10), d2.leave(10)) == [True, True]

    run(main())


def test_queues(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            q = a.Queue("/q")
            await q.put(b"low", priority=900)
            await q.put_all([b"x", b"y"])
            assert await q.len() == 3
            assert await b.Queue("/q").get() == b"x"
            assert [await q.take(1), await q.take(1)] == [b"y", b"low"]
            assert await q.get() is None and await q.take(timeout=0.1) is None
            later = asyncio.ensure_future(b.Queue("/q").take(10))
            await asyncio.sleep(0.1)  # on purpose: take() must wait for a put, not end
            assert not later.done()
            await q.put(b"late")
            assert await later == b"late"
            with pytest.raises(ValueError):
                await q.put(b"z", priority=1000)

            lq, other = a.LockingQueue("/lq"), b.LockingQueue("/lq")
            await lq.put_all([b"one", b"two"])
            assert await lq.get() == b"one" and await lq.holds_lock()
            assert await other.get(1) == b"two"
            assert await lq.release() and not await lq.holds_lock()
            assert await lq.get(1) == b"one" and await lq.consume()
            assert await other.consume() and await lq.len() == 0
            assert await other.get(timeout=0.1) is None

    run(main())


def test_election_and_latch(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            e1, e2 = a.Election("/e", "one"), b.Election("/e", "two")
            order = []
            release = asyncio.Event()

            async def lead(name):
                order.append(name)
                await release.wait()

            first = asyncio.ensure_future(e1.run(lead, "one"))
            await eventually(lambda: _eq(e1.contenders(), ["one"]))
            await eventually(lambda: asyncio.sleep(0, order == ["one"]))
            second = asyncio.ensure_future(e2.run(order.append, "two"))  # a plain function works too
            await eventually(lambda: _eq(e2.contenders(), ["one", "two"]))
            release.set()
            await first
            await second
            assert order == ["one", "two"] and await e1.contenders() == []

            done = asyncio.Event()
            holder = asyncio.ensure_future(e1.run(done.wait))
            await eventually(lambda: _eq(e1.contenders(), ["one"]))
            queued = asyncio.ensure_future(e2.run(order.append, "never"))
            await eventually(lambda: _eq(e1.contenders(), ["one", "two"]))
            e2.cancel()
            assert await queued is None
            assert "never" not in order, "a cancelled contender never leads"
            await eventually(lambda: _eq(e1.contenders(), ["one"]))
            done.set()
            await holder

            l1, l2 = a.LeaderLatch("/latch", "l1"), b.LeaderLatch("/latch", "l2")
            async with l1:
                assert await l1.await_leadership(10) and l1.has_leadership
                await l2.start()
                assert await l2.await_leadership(0.2) is False
            assert await l2.await_leadership(10) and l2.has_leadership
            await l2.close()

    run(main())


def test_party(hosts):
    async def main():
        async with corral.aio.Client(hosts) as a, corral.aio.Client(hosts) as b:
            for kind in ("Party", "ShallowParty"):
                p1 = getattr(a, kind)(f"/{kind}", "alice")
                p2 = getattr(b, kind)(f"/{kind}", "bob")
                await p1.join()
                await p2.join()
                assert [m async for m in p1] == ["alice", "bob"] and await p2.len() == 2
                assert await p2.leave() is True and await p2.leave() is False
                assert await p1.members() == ["alice"]
            await b.stop()
            assert await a.Party("/Party").members() == ["alice"]

    run(main())
