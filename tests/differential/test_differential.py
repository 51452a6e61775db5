"""Differential test: the same scripted workload (diff_workload.py, several hundred
operations over sessions A/B/C plus throwaway sessions) runs against a fresh Apache
ZooKeeper 3.8 (the reference) and against a candidate server; every reply,
notification, connection close and barrier observation is compared field by field
after normalization (diff_runner.py). Allowed corral deviations are listed in
intended_differences.py and nowhere else.

Candidates: "zookeeper" (a second fresh ZooKeeper, compared strictly: validates the
harness and its masks) and "corral" ($CORRAL_BIN, else target/debug/corral; without
either the corral test fails: corral_binary.py).
"""

from __future__ import annotations

import json
import time

import pytest

import diff_runner
import diff_workload
import intended_differences
from zkserver import KINDS, Server

MAX_DIFF_LINES = 60


@pytest.fixture(scope="module")
def steps():
    return diff_workload.build()


def run_on(kind: str, workdir, steps):
    srv = Server(kind, workdir).start()
    try:
        t0 = time.monotonic()
        recs, problems = diff_runner.run_and_normalize(srv.host, srv.port, steps)
        elapsed = time.monotonic() - t0
        alive = srv.alive()
    finally:
        srv.stop()
    return {"records": recs, "problems": problems, "elapsed": elapsed, "alive": alive,
            "log": srv.log_tail()}


@pytest.fixture(scope="module")
def reference(steps, tmp_path_factory):
    return run_on("zookeeper", tmp_path_factory.mktemp("zk-reference"), steps)


def test_workload_is_large_and_covers_every_opcode(steps):
    ops = diff_workload.count_ops(steps)
    assert ops >= 500, ops
    used = {s.op for s in steps if s.kind in ("req", "fire")}
    for op in ("create", "create2", "createContainer", "createTTL", "delete", "exists",
               "getData", "setData", "getACL", "setACL", "getChildren", "getChildren2",
               "sync", "ping", "check", "multi", "multiRead", "reconfig", "checkWatches",
               "removeWatches", "auth", "setWatches", "setWatches2", "getEphemerals",
               "getAllChildrenNumber", "addWatch", "whoAmI", "closeSession", 99):
        assert op in used, f"workload never sends {op}"


def test_reference_run_is_sane(reference):
    recs = reference["records"]
    assert not reference["problems"], reference["problems"][:10]
    assert reference["alive"], "reference server died during the workload"
    bad = [(i, r) for i, r in enumerate(recs)
           if "harness_error" in r or "aborted" in r
           or any(f.get("kind") in ("timeout", "undecodable", "no-connection")
                  for f in r.get("acting", []))]
    assert not bad, bad[:5]


@pytest.mark.parametrize("candidate", KINDS)
def test_differential(candidate, steps, reference, tmp_path):
    cand = run_on(candidate, tmp_path / candidate, steps)
    rules = [] if candidate == "zookeeper" else intended_differences.WORKLOAD_DIFFERENCES
    diffs = diff_runner.compare_runs(steps, reference["records"], cand["records"], rules)
    print(f"workload: {diff_workload.count_ops(steps)} ops; reference "
          f"{reference['elapsed']:.1f}s, {candidate} {cand['elapsed']:.1f}s")
    if diffs or cand["problems"]:
        dump = tmp_path / "differential-dump.json"
        dump.write_text(json.dumps(
            [{"op": s.idx, "step": s.describe(), "reference": a, "candidate": b}
             for s, a, b in zip(steps, reference["records"], cand["records"])],
            indent=1, default=str))
        msg = [f"{len(diffs)} differences between zookeeper (reference) and {candidate}; "
               f"full dump: {dump}"]
        msg += diffs[:MAX_DIFF_LINES]
        if len(diffs) > MAX_DIFF_LINES:
            msg.append(f"... {len(diffs) - MAX_DIFF_LINES} more")
        msg += [f"sanity: {p}" for p in cand["problems"][:20]]
        msg.append(f"{candidate} log tail:\n{cand['log']}")
        pytest.fail("\n".join(msg), pytrace=False)
    assert cand["alive"], f"{candidate} died during the workload:\n{cand['log']}"


# --------------------------------------------------------------------------------------
# The comparison itself must be able to fail, and the intended differences must accept
# exactly their documented alternative and nothing else.

def _reply(xid, zxid, err=0, body=None, **extra):
    f = {"kind": "reply", "xid": xid, "zxid": zxid, "err": err}
    if body is not None:
        f["body"] = body
    f.update(extra)
    return f


def _ping(z):
    return {"kind": "ping", "xid": -2, "zxid": z, "err": 0}


def _notif(z, typ=3, path="/x"):
    return {"kind": "notification", "xid": -1, "zxid": z, "err": 0,
            "body": {"type": typ, "state": 3, "path": path}}


def _diff(step, ref, cand):
    return diff_runner.compare_runs([step], [ref], [cand],
                                    intended_differences.WORKLOAD_DIFFERENCES)


def test_comparer_reports_op_field_and_both_values():
    st = diff_runner.Step("req", "A", "setData", {"path": "/x", "data": b"", "version": -1})
    st.idx = 7
    ref = {"acting": [_reply(3, "@5", body={"stat": {"version": 1}})], "barrier": {}}
    cand = {"acting": [_reply(3, "@5", body={"stat": {"version": 2}})], "barrier": {}}
    lines = diff_runner.compare_runs([st], [ref], [cand])
    assert len(lines) == 1
    assert lines[0].startswith("op #7 [A: setData")
    assert "field acting[0].body.stat.version: reference=1 candidate=2" in lines[0]


def test_notification_zxid_rule():
    st = diff_runner.Step("req", "A", "setData", {})
    ref = {"acting": [_notif(-1), _reply(1, "@5")], "barrier": {"B": [_notif(-1), _ping("@5")]}}
    ok = {"acting": [_notif("@5"), _reply(1, "@5")],
          "barrier": {"B": [_notif("@5"), _ping("@5")]}}
    assert _diff(st, ref, ok) == []
    bad = {"acting": [_notif("@4"), _reply(1, "@5")], "barrier": {"B": [_notif(-1), _ping("@5")]}}
    assert len(_diff(st, ref, bad)) == 1
    assert diff_runner.compare_runs([st], [ref], [ok]) != []      # strict mode: no rules


def test_multi_create2_rule():
    st = diff_runner.Step("req", "A", "multi", [], tags=("multi_create2",))
    ref = {"acting": [_reply(1, "@7", body=[{"type": 1, "err": 0, "body": {"path": "/m/b"}}])]}
    stat = {"czxid": "@7", "mzxid": "@7", "pzxid": "@7", "version": 0, "cversion": 0}
    ok = {"acting": [_reply(1, "@7", body=[{"type": 15, "err": 0,
                                             "body": {"path": "/m/b", "stat": stat}}])]}
    assert _diff(st, ref, ok) == []
    wrong = dict(stat, czxid="@6")
    bad = {"acting": [_reply(1, "@7", body=[{"type": 15, "err": 0,
                                              "body": {"path": "/m/b", "stat": wrong}}])]}
    assert _diff(st, ref, bad) != []


def test_toplevel_check_rule():
    st = diff_runner.Step("fire", "T", "check", {}, tags=("toplevel_check",))
    ref = {"acting": [_ping("@9")], "barrier": {"T": [_ping("@9")]}}
    ok = {"acting": [_reply(1, -1, "UNIMPLEMENTED(-6)"), {"kind": "eof"}], "barrier": {}}
    assert _diff(st, ref, ok) == []
    no_close = {"acting": [_reply(1, -1, "UNIMPLEMENTED(-6)"), _ping("@9")],
                "barrier": {"T": [_ping("@9")]}}
    assert _diff(st, ref, no_close) != []


def test_exists_noread_and_stray_body_rules():
    st = diff_runner.Step("req", "B", "exists", {}, tags=("exists_noread",))
    ref = {"acting": [_reply(4, "@3", body={"stat": {}})]}
    assert _diff(st, ref, {"acting": [_reply(4, "@3", "NOAUTH(-102)")]}) == []
    assert _diff(st, ref, {"acting": [_reply(4, "@3", "NONODE(-101)")]}) != []
    st = diff_runner.Step("req", "A", "multiRead", [], tags=("multiread_write",))
    ref = {"acting": [_reply(5, "@3", "MARSHALLINGERROR(-5)", trailing="ffffffff01ffffffff")]}
    assert _diff(st, ref, {"acting": [_reply(5, "@3", "MARSHALLINGERROR(-5)")]}) == []
    assert _diff(st, ref, {"acting": [_reply(5, "@3", 0)]}) != []


def test_checkwatches_rule_needs_proof():
    st = diff_runner.Step("req", "A", "checkWatches", {}, tags=("checkwatches_probe",))
    ref = {"acting": [_reply(9, "@3", 0)]}
    cand = {"acting": [_reply(9, "@3", "NOWATCHER(-121)")]}
    truth_no = {"acting": [_reply(10, "@3", "NOWATCHER(-121)")]}
    truth_yes = {"acting": [_reply(10, "@3", 0)]}
    rules = intended_differences.WORKLOAD_DIFFERENCES
    assert diff_runner.compare_runs([st, st], [ref, truth_no], [cand, truth_no], rules) == []
    assert diff_runner.compare_runs([st, st], [ref, truth_yes], [cand, truth_yes], rules)


def test_an_extra_notification_is_a_difference():
    """The rules rewrite matching frames only; a duplicate notification stays a
    difference (in the acting connection and in a barrier)."""
    st = diff_runner.Step("req", "A", "setData", {})
    ref = {"acting": [_notif(-1), _reply(1, "@5")], "barrier": {"B": [_notif(-1), _ping("@5")]}}
    ok = {"acting": [_notif("@5"), _reply(1, "@5")], "barrier": {"B": [_notif("@5"), _ping("@5")]}}
    assert _diff(st, ref, ok) == []
    twice = {"acting": [_notif("@5"), _notif("@5"), _reply(1, "@5")],
             "barrier": {"B": [_notif("@5"), _ping("@5")]}}
    assert any("acting.length" in line for line in _diff(st, ref, twice))
    late = {"acting": [_notif("@5"), _reply(1, "@5")],
            "barrier": {"B": [_notif("@5"), _notif("@5"), _ping("@5")]}}
    assert any("barrier.B.length" in line for line in _diff(st, ref, late))
