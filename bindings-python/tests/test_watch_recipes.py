"""kazoo's DataWatch and ChildrenWatch beyond test_watches: a raising
function, a function that only takes ``*args``, and ``allow_session_lost``."""

from __future__ import annotations

import logging

import pytest

import corral

from helpers import wait_until


def test_first_call_raises_later_errors_are_logged(zk, caplog):
    zk.create("/err", b"0")
    calls = []

    def watcher(data, stat):
        calls.append(data)
        if data in (b"0", b"1"):
            raise RuntimeError(f"bad {data!r}")

    # As kazoo: the first call's exception comes out of the constructor...
    with caplog.at_level(logging.ERROR, logger="corral"), pytest.raises(RuntimeError, match="bad b'0'"):
        zk.DataWatch("/err", watcher)
    # ... and the watch goes on; a later exception is logged, and it still goes on.
    with caplog.at_level(logging.ERROR, logger="corral"):
        zk.set("/err", b"1")
        wait_until(lambda: calls[-1:] == [b"1"])
        zk.set("/err", b"2")
        wait_until(lambda: calls[-1:] == [b"2"])
    assert calls == [b"0", b"1", b"2"]
    raised = [r for r in caplog.records if "DataWatch callback raised" in r.getMessage()]
    assert len(raised) == 1 and raised[0].exc_info and "bad b'1'" in str(raised[0].exc_info[1])


def test_data_watch_passes_the_event_to_varargs(zk):
    seen = []
    zk.DataWatch("/va", lambda *args: seen.append(args))
    zk.create("/va", b"x")
    wait_until(lambda: len(seen) == 2)
    assert seen[0] == (None, None, None)
    data, stat, event = seen[1]
    assert (data, stat.version, event.type.value, event.path) == (b"x", 0, "CREATED", "/va")


def test_children_watch_allow_session_lost(zk, expire_session):
    zk.create("/asl")
    kept, ended = [], []
    zk.ChildrenWatch("/asl", lambda c: kept.append(sorted(c)))
    session_only = zk.ChildrenWatch("/asl", lambda c: ended.append(sorted(c)), allow_session_lost=False)
    assert kept == ended == [[]]
    expire_session(zk)
    wait_until(lambda: session_only._native.stopped)
    zk.create("/asl/k")
    wait_until(lambda: kept[-1] == ["k"])
    assert ended == [[]]


def test_watch_function_may_call_the_client_and_stop_it(zk, make_zk):
    zk.create("/cc", b"0")
    seen = []

    @zk.DataWatch("/cc")
    def watcher(data, stat):
        seen.append((data, zk.get_children("/cc")))  # a blocking call from the watch's thread
        if data == b"1":
            zk.create("/cc/ack")

    zk.set("/cc", b"1")
    wait_until(lambda: zk.exists("/cc/ack"))
    assert seen[:2] == [(b"0", []), (b"1", [])]
    # Stopping the client from inside a call ends the watch.
    other = make_zk()
    other.DataWatch("/cc", lambda data, stat: other.stop() if data == b"bye" else None)
    zk.set("/cc", b"bye")
    wait_until(lambda: other.state == corral.State.CLOSED)
