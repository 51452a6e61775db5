"""The asyncio client: every operation as a coroutine, watches as awaitables and
async iterators, state changes, and calls that never block the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import corral
import corral.aio
from corral import EventType, KeeperState, State
from corral.testing import expire_session


@pytest.fixture
def hosts(corral_proxy, zk_chroot):
    """A connect string through the fault proxy, chrooted for this test."""
    return corral_proxy.hosts + zk_chroot


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_crud(hosts):
    async def main():
        async with corral.aio.Client(hosts) as zk:
            assert zk.connected and zk.session_id and zk.session_timeout > 0
            assert await zk.create("/a", b"1") == "/a"
            path, stat = await zk.create("/b", b"22", include_data=True)
            assert stat.dataLength == 2
            data, stat = await zk.get("/a")
            assert data == b"1" and isinstance(stat, corral.ZnodeStat)
            assert (await zk.set("/a", b"2", version=0)).version == 1
            assert (await zk.exists("/a")).version == 1
            assert await zk.exists("/zz") is None
            assert sorted(await zk.get_children("/")) == ["a", "b"]
            names, st = await zk.get_children("/", include_data=True)
            assert st.numChildren == 2
            assert await zk.create("/x/y/z", makepath=True) == "/x/y/z"
            assert await zk.ensure_path("/q/r")
            assert await zk.get_all_children_number("/x") == 2
            eph = await zk.create("/e", ephemeral=True, sequence=True)
            assert any(p.endswith(eph) for p in await zk.get_ephemerals("/"))
            assert await zk.sync("/") == "/"
            acls, _ = await zk.get_acls("/a")
            assert acls == corral.OPEN_ACL_UNSAFE
            assert (await zk.set_acls("/a", corral.OPEN_ACL_UNSAFE)).aversion == 1
            assert await zk.add_auth("digest", "u:p")
            assert ("digest", "u") in await zk.who_am_i()
            with pytest.raises(corral.NoNodeError) as e:
                await zk.get("/missing")
            assert e.value.path == "/missing" and e.value.code == -101
            with pytest.raises(corral.BadVersionError):
                await zk.delete("/a", version=7)
            assert await zk.delete("/a")
            assert await zk.delete("/x", recursive=True)
            assert await zk.exists("/x") is None
            res = await zk.multi_read(get_data=["/b"], get_children=["/q"])
            assert res[0][0] == b"22" and res[1] == ["r"]
        assert zk.state == State.CLOSED
        with pytest.raises(corral.ZookeeperStoppedError):
            await zk.get("/")

    run(main())


def test_transactions(hosts):
    async def main():
        async with corral.aio.Client(hosts) as zk:
            await zk.create("/t", b"0")
            async with zk.transaction() as t:
                t.create("/t/a", b"a")
                t.set_data("/t", b"1")
                t.check("/t", 1)
            assert (await zk.get("/t"))[0] == b"1"
            t = zk.transaction()
            t.delete("/t/a")
            t.create("/t/a")
            t.create("/t/a")
            with pytest.raises(corral.NodeExistsError):
                await t.commit()
            t = zk.transaction()
            t.delete("/t/nope")
            r = await t.commit_results()
            assert isinstance(r[0], corral.NoNodeError)

    run(main())


def test_one_shot_watches(hosts):
    async def main():
        async with corral.aio.Client(hosts) as zk, corral.aio.Client(hosts) as other:
            stat, w = await zk.exists_w("/w")
            assert stat is None
            await other.create("/w", b"0")
            ev = await w
            assert ev.type == EventType.CREATED and ev.path == "/w"
            data, stat, w = await zk.get_w("/w")
            await other.set("/w", b"1")
            assert (await w).type == EventType.CHANGED
            names, stat, w = await zk.get_children_w("/w")
            await other.create("/w/k")
            assert (await w).type == EventType.CHILD
            _, _, w = await zk.get_w("/w/k")
            await zk.stop()
            ev = await w
            assert ev.type == EventType.NONE and ev.state == KeeperState.CLOSED

    run(main())


def test_watch_stream(hosts):
    async def main():
        async with corral.aio.Client(hosts) as zk:
            await zk.create("/s")
            stream = await zk.add_watch("/s", recursive=True)
            for i in range(3):
                await zk.create(f"/s/n{i}")
            got = []
            async for ev in stream:
                got.append((ev.type, ev.path))
                if len(got) == 3:
                    break
            assert got == [(EventType.CREATED, f"/s/n{i}") for i in range(3)]
            await zk.remove_watches("/s", corral.WatcherType.ANY)
            assert (await stream.__anext__()).type == EventType.PERSISTENT_WATCH_REMOVED
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
            plain = await zk.add_watch("/s")
            await zk.set("/s", b"x")
            assert (await plain.__anext__()).type == EventType.CHANGED

    run(main())


def test_state_changes_and_expiry(hosts, corral_proxy):
    async def main():
        zk = corral.aio.Client(hosts)
        await zk.start()
        changes = zk.state_changes()
        await zk.create("/eph", ephemeral=True)
        corral_proxy.drop()
        assert await changes.__anext__() == State.SUSPENDED
        assert await changes.__anext__() == State.RECONNECTED
        old = zk.session_id
        await asyncio.get_running_loop().run_in_executor(None, expire_session, zk, corral_proxy)
        seen = []
        async for s in changes:
            seen.append(s)
            if s == State.RECONNECTED:
                break
        assert State.LOST in seen
        assert zk.session_id != old
        assert await zk.exists("/eph") is None
        await zk.stop()
        rest = [s async for s in changes]
        assert rest == [State.CLOSED]

    run(main())


def test_calls_do_not_block_the_loop(hosts):
    async def main():
        async with corral.aio.Client(hosts) as zk:
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0)

            t = asyncio.ensure_future(ticker())
            await asyncio.gather(*(zk.create(f"/n{i}", b"") for i in range(200)))
            t.cancel()
            assert ticks > 10
            assert len(await zk.get_children("/")) == 200
            main_thread = threading.get_ident()
            seen = []
            await zk.exists("/n1")
            seen.append(threading.get_ident())
            assert seen == [main_thread]  # results come back on the loop's thread

    run(main())


def test_cancelled_call(hosts):
    async def main():
        async with corral.aio.Client(hosts) as zk:
            task = asyncio.ensure_future(zk.get("/"))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await zk.exists("/")) is not None

    run(main())


def test_connect_failure():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    async def main():
        zk = corral.aio.Client(f"127.0.0.1:{port}")
        t0 = time.monotonic()
        with pytest.raises(corral.ConnectionLoss):
            await zk.start(timeout=0.3)
        assert time.monotonic() - t0 < 5

    run(main())
