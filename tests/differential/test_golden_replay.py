"""Replays every golden wire vector (tests/data/wire/, captured from ZooKeeper 3.8.0)
against a live server, in order, on one fresh server; see golden_replay.py for the
replay rules, the unrecorded requests that are re-created, and the substitutions.
No vector is excluded."""

from __future__ import annotations

import struct

import pytest

import golden_replay
import intended_differences
from zkserver import KINDS, Server


def test_vectors_parse_and_masks_are_in_range():
    vecs = golden_replay.load_vectors()
    # a new vector needs its connection in golden_replay.CONNECTIONS (default: session A,
    # which 105 closes) and possibly fillers: this count makes sure someone looks
    assert len(vecs) == 106, f"{len(vecs)} vectors: update golden_replay's replay plan"
    assert [v.name[:3] for v in vecs] == [f"{i:03d}" for i in range(1, 107)]
    for v in vecs:
        for (side, idx), ranges in v.masks.items():
            frames = v.c_frames if side == "C" else [b for b in v.s_lines if b]
            assert idx < len(frames), (v.name, side, idx)
            for start, end, _ in ranges:
                assert 0 <= start < end <= len(frames[idx]), (v.name, side, idx, start, end)
        for side, frame in v.lines:
            if frame is not None and v.name != "100_oversize_frame":
                assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4, v.name


def test_comparator_detects_changes_and_accepts_masks_and_sets():
    vec = {v.name: v for v in golden_replay.load_vectors()}
    # 012: getChildren2 with two children and a Stat
    v = vec["012_getchildren2"]
    exp = v.s_lines[0]
    ranges = v.masks[("S", 0)]
    # masked bytes may differ
    b = bytearray(exp)
    for start, end, _ in ranges:
        b[start:end] = b"\x7f" * (end - start)
    assert golden_replay.frames_equal(exp, bytes(b), ranges, "reply", 12)[0]
    # children in another order are equal as sets
    r = golden_replay.zkraw.decode_reply(exp[4:], 12)
    kids = r["body"]["children"]
    body = golden_replay.zkraw.encode_record(
        "GetChildren2Response", {"children": kids[::-1], "stat": r["body"]["stat"]})
    payload = exp[4:20] + body
    swapped = struct.pack(">i", len(payload)) + payload
    assert swapped != exp
    assert golden_replay.frames_equal(exp, swapped, ranges, "reply", 12)[0]
    # an unmasked field (numChildren) must not be accepted
    b = bytearray(exp)
    b[-12] ^= 1
    ok, why = golden_replay.frames_equal(exp, bytes(b), ranges, "reply", 12)
    assert not ok and "numChildren" in why


@pytest.mark.parametrize("kind", KINDS)
def test_golden_replay(kind, tmp_path):
    srv = Server(kind, tmp_path).start()
    try:
        r = golden_replay.replay_all(srv.host, srv.port, reference=(kind == "zookeeper"),
                                     alternatives=intended_differences.GOLDEN_DIFFERENCES)
        alive = srv.alive()
    finally:
        srv.stop()
    print("\n".join(r.notes))
    print(f"compared {r.checked_frames} server frames")
    assert not r.failures, (f"{len(r.failures)} golden vectors differ on {kind}:\n"
                            + "\n".join(r.failures) + f"\n{kind} log tail:\n"
                            + srv.log_tail())
    assert alive, f"{kind} died during the replay"
    expected_frames = sum(1 for v in golden_replay.load_vectors() for b in v.s_lines if b)
    assert r.checked_frames == expected_frames, (r.checked_frames, expected_frames)


def test_golden_080_alternative_is_exact():
    vec = {v.name: v for v in golden_replay.load_vectors()}["080_setwatches2_fires"]
    reason, make = intended_differences.GOLDEN_DIFFERENCES[vec.name]
    alt = make(vec)
    s = alt.s_lines
    assert len(s) == len(vec.s_lines) + 1
    ev = golden_replay.zkraw.decode_reply(s[1][4:], None)
    assert ev["kind"] == "notification"
    assert ev["body"] == {"type": 4, "state": 3, "path": "/corral-seq"}
    assert s[0] == vec.s_lines[0] and s[2] == vec.s_lines[1]
    r = golden_replay.Replay("127.0.0.1", 0, reference=False)
    # a 3.9-style answer (with its own notification zxid) matches the alternative...
    got = [s[0], s[1][:8] + struct.pack(">q", 0x39) + s[1][16:], s[2]]
    ok, _ = r.compare(alt, got, ["reply"] * 3, {0x53: 2})
    assert ok
    # ...but not the recorded 3.8.0 vector, and a wrong path is rejected
    assert not r.compare(vec, got, ["reply"] * 3, {0x53: 2})[0]
    bad = [s[0], s[1].replace(b"/corral-seq", b"/corral-sex"), s[2]]
    assert not r.compare(alt, bad, ["reply"] * 3, {0x53: 2})[0]


def test_an_extra_notification_fails_the_comparison():
    """A server frame beyond the recorded ones (a duplicate notification) is a
    difference, with or without the intended alternative."""
    vec = {v.name: v for v in golden_replay.load_vectors()}["080_setwatches2_fires"]
    alt = intended_differences.GOLDEN_DIFFERENCES[vec.name][1](vec)
    r = golden_replay.Replay("127.0.0.1", 0, reference=False)
    ops = {0x53: 2}
    for expected in (vec, alt):
        frames = list(expected.s_lines)
        assert r.compare(expected, frames, ["reply"] * len(frames), ops)[0]
        twice = frames[:2] + [frames[1]] + frames[2:]
        ok, why = r.compare(expected, twice, ["reply"] * len(twice), ops)
        assert not ok and "expected <nothing>" in why, why
