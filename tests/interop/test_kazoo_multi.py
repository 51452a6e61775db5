"""Transactions (multi, wire-protocol.md §5.4): all-or-nothing, one zxid, per-op results."""

from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import EventType, ZnodeStat


def test_multi_applies_every_op_under_one_zxid(zk, ns, recorder):
    zk.create(f"{ns}/old", b"old")
    zk.create(f"{ns}/gone")
    rec = recorder()
    zk.get_children(ns, watch=rec)

    t = zk.transaction()
    t.create(f"{ns}/a", b"A")
    t.create(f"{ns}/a/b", b"B")
    t.create(f"{ns}/seq-", b"S", sequence=True)
    t.set_data(f"{ns}/old", b"new", version=0)
    t.check(f"{ns}/old", 1)  # sees the set_data just before it in the same multi
    t.delete(f"{ns}/gone", version=0)
    results = t.commit()

    assert results[:3] == [f"{ns}/a", f"{ns}/a/b", f"{ns}/seq-0000000003"]
    assert isinstance(results[3], ZnodeStat) and results[3].version == 1
    assert results[4:] == [True, True]

    a = zk.get(f"{ns}/a")
    b = zk.get(f"{ns}/a/b")
    old = zk.get(f"{ns}/old")
    assert (a[0], b[0], old[0]) == (b"A", b"B", b"new")
    assert zk.exists(f"{ns}/gone") is None
    zxids = {a[1].czxid, b[1].czxid, old[1].mzxid, zk.exists(f"{ns}/seq-0000000003").czxid}
    assert len(zxids) == 1, f"all ops of a multi share one zxid, got {zxids}"
    assert results[3].mzxid in zxids
    assert zk.exists(ns).pzxid in zxids
    assert [(e.type, e.path) for e in rec.exactly(1)] == [(EventType.CHILD, ns)]


def test_failed_multi_applies_nothing_and_reports_each_op(zk, ns):
    zk.create(f"{ns}/x", b"x0")
    before = zk.get(f"{ns}/x")

    t = zk.transaction()
    t.create(f"{ns}/new", b"n")
    t.set_data(f"{ns}/x", b"x1")
    t.check(f"{ns}/x", 7)  # fails: the version after set_data is 1
    t.delete(f"{ns}/x")
    results = t.commit()

    assert [type(r) for r in results] == [
        RolledBackError,
        RolledBackError,
        BadVersionError,
        RuntimeInconsistency,
    ]
    assert zk.exists(f"{ns}/new") is None
    assert zk.get(f"{ns}/x") == before
    assert zk.get_children(ns) == ["x"]


def test_failed_multi_error_codes(zk, ns):
    zk.create(f"{ns}/exists")
    zk.create(f"{ns}/parent/kid", makepath=True)
    cases = [
        (lambda t: t.create(f"{ns}/exists"), NodeExistsError),
        (lambda t: t.create(f"{ns}/missing/kid"), NoNodeError),
        (lambda t: t.delete(f"{ns}/parent"), NotEmptyError),
        (lambda t: t.set_data(f"{ns}/nope", b""), NoNodeError),
        (lambda t: t.check(f"{ns}/nope", 0), NoNodeError),
    ]
    for add_failing_op, error in cases:
        t = zk.transaction()
        t.create(f"{ns}/first")
        add_failing_op(t)
        results = t.commit()
        assert [type(r) for r in results] == [RolledBackError, error]
        assert zk.exists(f"{ns}/first") is None


def test_multi_later_ops_see_earlier_ones(zk, ns):
    t = zk.transaction()
    t.create(f"{ns}/tmp", b"1")
    t.set_data(f"{ns}/tmp", b"2", version=0)
    t.delete(f"{ns}/tmp", version=1)
    t.create(f"{ns}/tmp", b"3")
    results = t.commit()
    assert results[0] == f"{ns}/tmp"
    assert results[1].version == 1
    assert results[2:] == [True, f"{ns}/tmp"]
    data, stat = zk.get(f"{ns}/tmp")
    assert (data, stat.version) == (b"3", 0)


def test_multi_ephemeral_create_is_owned_by_session(zk, ns):
    t = zk.transaction()
    t.create(f"{ns}/e", ephemeral=True)
    assert t.commit() == [f"{ns}/e"]
    assert zk.exists(f"{ns}/e").ephemeralOwner == zk.client_id[0]


def test_empty_multi_is_valid(zk):
    assert zk.transaction().commit() == []
