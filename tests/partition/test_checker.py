"""The checker the partition test relies on: handcrafted histories in the format the
clients record, so that a passing run means something."""

from __future__ import annotations

import json

import pytest

import checker


def history(tmp_path, *records: dict):
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return checker.check_history(path)


def op(client, kind, invoke, complete, **fields) -> dict:
    return {"client": client, "op": kind, "key": "k0", "invoke": invoke, "complete": complete, **fields}


CREATED = op(1, "create", 100, 200, value="v1", outcome="ok", result="ok", version=0)
SET = op(1, "set", 300, 400, value="v2", expected=0, outcome="ok", result="ok", version=1)


@pytest.fixture(autouse=True)
def _needs_checker():
    try:
        checker.sim_bin()
    except checker.CheckerMissing as e:
        pytest.fail(str(e), pytrace=False)


def test_stale_read_after_an_acknowledged_write_is_a_violation(tmp_path):
    stale = op(2, "read", 500, 600, outcome="ok", data="v1", version=0)
    verdict = history(tmp_path, CREATED, SET, stale)
    assert verdict.exit_code == 1, verdict.output
    assert "1 violations" in verdict.summary
    assert verdict.violations and verdict.violations[0].startswith("key k0 not linearizable"), verdict.output


def test_the_same_read_overlapping_the_write_may_see_either_value(tmp_path):
    overlapping = op(2, "read", 350, 600, outcome="ok", data="v1", version=0)
    verdict = history(tmp_path, CREATED, SET, overlapping)
    assert verdict.exit_code == 0, verdict.output
    assert "0 violations" in verdict.summary


def test_a_lost_acknowledged_write_is_a_violation(tmp_path):
    # The second conditional set only fits if v2 never happened.
    again = op(3, "set", 500, 600, value="v3", expected=0, outcome="ok", result="ok", version=1)
    verdict = history(tmp_path, CREATED, SET, again)
    assert verdict.exit_code == 1, verdict.output


def test_a_write_of_unknown_outcome_may_show_up_later_or_never(tmp_path):
    maybe = op(2, "set", 300, None, value="v2", expected=-1, outcome="unknown", error="KazooTimeoutError")
    late = op(3, "read", 900, 950, outcome="ok", data="v2", version=1)
    never = op(3, "read", 900, 950, outcome="ok", data="v1", version=0)
    refused = op(4, "delete", 500, 500, expected=-1, outcome="fail", error="SessionExpiredError (not sent)")
    gone = op(3, "read", 960, 970, outcome="ok", data=None)
    assert history(tmp_path, CREATED, maybe, late).exit_code == 0
    assert history(tmp_path, CREATED, maybe, never, refused).exit_code == 0
    # A refused delete did not happen: the node cannot have vanished.
    assert history(tmp_path, CREATED, refused, gone).exit_code == 1


def test_the_direct_scan_finds_exactly_the_stale_read():
    stale = op(2, "read", 500, 600, outcome="ok", data="v1", version=0)
    overlapping = op(2, "read", 350, 600, outcome="ok", data="v1", version=0)
    assert checker.stale_reads([CREATED, SET, stale]) == [(2, 0, 1)]
    assert checker.stale_reads([CREATED, SET, overlapping]) == []
    # A value from a write of unknown outcome may have applied late...
    maybe = op(2, "set", 150, None, value="v9", expected=-1, outcome="unknown", error="ConnectionLoss")
    late = op(3, "read", 500, 600, outcome="ok", data="v9", version=1)
    assert checker.stale_reads([CREATED, maybe, SET, late]) == []
    # ...unless a read saw it before an acknowledged write replaced it.
    seen = op(4, "read", 210, 250, outcome="ok", data="v9", version=1)
    replaced = op(1, "set", 300, 400, value="v2", expected=-1, outcome="ok", result="ok", version=2)
    again = op(3, "read", 500, 600, outcome="ok", data="v9", version=1)
    assert checker.stale_reads([CREATED, maybe, seen, replaced, again]) == [(4, 2, 3)]


def test_bad_input_exits_2(tmp_path):
    bad = op(1, "set", 100, 200, outcome="ok", result="ok", version=1)  # a set without its value
    verdict = history(tmp_path, bad)
    assert verdict.exit_code == 2, verdict.output
