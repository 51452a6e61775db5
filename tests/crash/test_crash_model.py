"""The crash checker itself must be able to fail."""

from crash_model import ABSENT, ACKED, INFLIGHT, Model, NodeState, Op


def model_with(*ops):
    m = Model()
    for op in ops:
        m.record(op)
    return m


def test_acked_write_must_survive():
    m = model_with(Op("create", "/a", b"1", ACKED, 10), Op("set", "/a", b"2", ACKED, 11))
    v = m.verify({"/a": NodeState(True, b"1", 10, 10)}, "/seq")
    assert v.losses and "/a" in v.losses[0]
    v = m.verify({"/a": ABSENT}, "/seq")
    assert v.losses
    v = m.verify({"/a": NodeState(True, b"2", 10, 12)}, "/seq")   # wrong mzxid
    assert v.losses
    v = m.verify({"/a": NodeState(True, b"2", 10, 11)}, "/seq")
    assert not v.losses and not v.phantoms and v.acked_checked == 2


def test_inflight_may_or_may_not_apply():
    for obs in (NodeState(True, b"1", 10, 10), NodeState(True, b"2", 10, 99)):
        m = model_with(Op("create", "/a", b"1", ACKED, 10), Op("set", "/a", b"2", INFLIGHT))
        v = m.verify({"/a": obs}, "/seq")
        assert not v.losses, v.losses
    m = model_with(Op("create", "/a", b"1", ACKED, 10), Op("set", "/a", b"2", INFLIGHT))
    assert m.verify({"/a": NodeState(True, b"3", 10, 11)}, "/seq").losses


def test_acked_delete_must_stay_deleted():
    m = model_with(Op("create", "/a", b"1", ACKED, 10), Op("delete", "/a", None, ACKED, 11))
    assert m.verify({"/a": NodeState(True, b"1", 10, 10)}, "/seq").losses
    assert not m.verify({"/a": ABSENT}, "/seq").losses


def test_inflight_multi_is_all_or_nothing():
    ops = [Op("create", "/t", b"", ACKED, 5), Op("create", "/t/m", b"x", INFLIGHT, group=1),
           Op("set", "/t", b"y", INFLIGHT, group=1)]
    m = model_with(*ops)
    v = m.verify({"/t": NodeState(True, b"y", 5, 50), "/t/m": ABSENT}, "/seq")
    assert any("partially" in x for x in v.losses), v.losses
    m = model_with(*[Op(o.kind, o.path, o.value, o.status, o.zxid, o.group) for o in ops])
    assert not m.verify({"/t": NodeState(True, b"y", 5, 50),
                         "/t/m": NodeState(True, b"x", 50, 50)}, "/seq").losses


def test_phantom_nodes_are_reported():
    m = model_with(Op("create", "/seq", b"", ACKED, 1))
    m.record_inflight_seq(b"v1")
    v = m.verify({"/seq": NodeState(True, b"", 1, 1),
                  "/seq/s-0000000001": NodeState(True, b"v1", 7, 7),
                  "/seq/s-0000000002": NodeState(True, b"nobody", 8, 8)}, "/seq")
    assert len(v.phantoms) == 1 and "s-0000000002" in v.phantoms[0]
    assert v.inflight_applied == 1
