"""The Recorder must let an extra or duplicate call fail a test that claims which
calls came: fed calls by hand, no server involved."""

from __future__ import annotations

import threading

import pytest

from helpers import Recorder


def test_exactly_fails_on_a_duplicate() -> None:
    rec = Recorder()
    rec("event")
    assert rec.exactly(1, quiet=0.05) == ["event"]
    rec("event")
    with pytest.raises(AssertionError, match="expected exactly 1 calls, got 2"):
        rec.exactly(1, quiet=0.05)


def test_exactly_sees_a_call_that_comes_after_the_awaited_ones() -> None:
    rec = Recorder()
    rec("first")
    late = threading.Timer(0.05, rec, args=("duplicate",))
    late.start()
    rec.wait(1)  # returns at once: it only synchronises
    with pytest.raises(AssertionError, match="got 2"):
        rec.exactly(1, quiet=0.5)
    late.join()


def test_quiet_returns_every_call() -> None:
    rec = Recorder()
    assert rec.quiet(0.01) == []
    rec("a", "b")
    assert rec.quiet(0.01) == [("a", "b")]
