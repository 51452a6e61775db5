"""Replays the golden wire vectors (tests/data/wire/NNN_*.hex, captured in numeric order
against one fresh ZooKeeper 3.8.0) against one fresh live server, in the same order,
and compares every server frame with the recorded one under the file's masks.

Replay rules (derived from the files; see CONNECTIONS, SUBSTITUTE and FILLERS):
  * 001-088 ran on session A's first connection; 089-093 on an old-style client B;
    094, 095, 099, 102, 103 open their own connection; 096/097 resume A on a new socket;
    098 and 106 try A's session id on a new socket; 100, 101, 104 need a fresh
    established session and 105 a resumed A session (the capture opened those
    connections without recording them; the replay does the same and says so).
  * C frames are sent verbatim except the masked C fields of 096/098/106 (session id,
    password, lastZxidSeen), which are replaced by the live values (098: a password that
    is certainly wrong). Consecutive C lines are written in one send (102 pipelining).
  * The capture also sent requests it did not record (xid / zxid gaps). Those that
    changed state visible in later vectors are re-created as FILLERS, with the xids the
    gaps imply; the replay asserts their outcome.
  * S frames are compared byte for byte after zeroing the masked ranges; when bytes
    differ only in the order of a children/ephemerals/whoAmI list the frames are equal
    as sets. After each vector the connection is pinged: any frame before the ping reply
    is an unexpected extra frame.
  * Extra checks the vectors imply: 096 closes A's previous connection, 098 closes the
    connection of the session it tried to resume.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import zkraw
from zkraw import EOF, OPEN_ACL_UNSAFE, Conn, DecodeError, NoFrame, acl, digest_id

WIRE_DIR = Path(__file__).resolve().parents[1] / "data" / "wire"
READ_TIMEOUT_S = 10.0
EOF_TIMEOUT_S = 5.0

MASK_RE = re.compile(r"([CS])(\d+)\[(\d+):(\d+)\](?:=(\S+))?")


@dataclass
class Vector:
    name: str
    desc: str
    masks: dict            # (side, index) -> [(start, end, name)]
    lines: list            # [(side, bytes | None)]  None = EOF

    @property
    def c_frames(self) -> list[bytes]:
        return [b for side, b in self.lines if side == "C"]

    @property
    def s_lines(self) -> list[bytes | None]:
        return [b for side, b in self.lines if side == "S"]


def load_vectors(directory: Path = WIRE_DIR) -> list[Vector]:
    out = []
    for p in sorted(directory.glob("*.hex")):
        text = p.read_text().splitlines()
        header = text[0]
        assert header.startswith("# "), p
        desc, _, vary = header[2:].rpartition(" | vary: ")
        masks: dict = {}
        if vary.strip() != "none":
            for m in MASK_RE.finditer(vary):
                masks.setdefault((m.group(1), int(m.group(2))), []).append(
                    (int(m.group(3)), int(m.group(4)), m.group(5) or "?"))
        lines = []
        for ln in text[1:]:
            if not ln.strip():
                continue
            side, _, hx = ln.partition(" ")
            lines.append((side, None if hx == "EOF" else bytes.fromhex(hx)))
        out.append(Vector(p.stem, desc, masks, lines))
    return out


# --------------------------------------------------------------------------------------
# Replay plan

# vector -> ("new", label) a new socket, the vector's C0 is the ConnectRequest
#           ("fresh", label) a new socket + an unrecorded new-session handshake
#           ("resume", label, of) a new socket + an unrecorded resume of session `of`
#           label       an existing connection
CONNECTIONS: dict[str, object] = {
    "001_connect": ("new", "A"),
    "089_connect_old_client": ("new", "B"),
    "090_getacl_masked": "B", "091_getdata_noauth": "B", "092_getacl_noauth": "B",
    "093_close_b": "B",
    "094_connect_timeout_low": ("new", "T94"),
    "095_connect_timeout_high": ("new", "T95"),
    "096_reconnect_same_session": ("new", "A2"),
    "097_getdata_after_reconnect": "A2",
    "098_reconnect_bad_password": ("new", "X98"),
    "099_connect_zxid_ahead": ("new", "X99"),
    "100_oversize_frame": ("fresh", "S100"),
    "101_unknown_opcode": ("fresh", "S101"),
    "102_pipelined_connect": ("new", "S102"),
    "103_connect_readonly_client": ("new", "S103"),
    "104_auth_unknown_scheme": ("fresh", "S104"),
    "105_close": ("resume", "A3", "A"),
    "106_reconnect_closed_session": ("new", "X106"),
}
DEFAULT_CONNECTION = "A"

# masked C fields replaced by live values: field name -> (session label, what)
SUBSTITUTE: dict[str, dict[str, tuple[str, str]]] = {
    "096_reconnect_same_session": {"sessionId": ("A", "sid"), "passwd": ("A", "passwd"),
                                   "lastZxidSeen": ("A", "last_zxid")},
    "098_reconnect_bad_password": {"sessionId": ("A", "sid"), "passwd": ("A", "wrong")},
    "106_reconnect_closed_session": {"sessionId": ("A", "sid"), "passwd": ("A", "passwd")},
}

ALICE_DIGEST = digest_id("alice", "secret")


def _create(path, data=b"", flags=0, acl_=None):
    return (1, {"path": path, "data": data, "acl": acl_ or OPEN_ACL_UNSAFE, "flags": flags})


@dataclass
class Filler:
    """An unrecorded request of the capture, re-created because later vectors see its
    effect. `expect` is the err code it must get (None: any)."""
    conn: str
    xid: int | None
    op: int
    args: object
    expect: int | None
    why: str
    label: str = ""          # for ("fresh"/"resume") connections opened by fillers
    kind: str = "req"        # req | connect-new | close


# vector name -> fillers to run BEFORE it
FILLERS: dict[str, list[Filler]] = {
    "019_multi_fail": [
        Filler("A", 0x12, 14, [_create("/corral-wire/gap-0x12"),
                               (2, {"path": "/corral-wire/gap-0x12", "version": -1})], 0,
               "xid 0x12 / zxid 0xa: /corral-wire cversion +2, numChildren unchanged, "
               "pzxid 0xa (021, 025) = one multi that created and deleted a child")],
    "053_seq_parent_stat": [
        Filler("A", 0x34, *_create("/corral-seq"), 0,
               "053: /corral-seq czxid 0x28 created by xid 0x34"),
        Filler("A", 0x35, *_create("/corral-seq/s-", flags=2), 0,
               "053: create, delete, create, create, create (wire-protocol.md §7.2)"),
        Filler("A", 0x36, 2, {"path": "/corral-seq/s-0000000000", "version": -1}, 0, "delete"),
        Filler("A", 0x37, *_create("/corral-seq/s-", flags=2), 0, "s-0000000001"),
        Filler("A", 0x38, *_create("/corral-seq/plain"), 0, "plain"),
        Filler("A", 0x39, *_create("/corral-seq/s-", flags=2), 0, "s-0000000003"),
    ],
    "061_create_read_only_acl": [
        Filler("A", 0x41, *_create("/corral-mixed", b"m", acl_=[
            acl(1, "world", "anyone"), acl(31, "digest", ALICE_DIGEST)]), 0,
            "090 reads /corral-mixed (czxid 0x2f = xid 0x41): READ world + ALL digest alice")],
    "065_checkwatches_ok": [
        Filler("A", 0x46, 3, {"path": "/corral-wire/ghost", "watch": True}, -101,
               "065 'with an exist watch': exists(/corral-wire/ghost, watch) as xid 0x46")],
    "086_delete_fires_deleted": [
        Filler("A", 0x5b, *_create("/corral-del"), 0, "086 deletes /corral-del"),
        Filler("A", 0x5c, 4, {"path": "/corral-del", "watch": True}, 0,
               "086: data watch on /corral-del"),
        Filler("A", 0x5d, 8, {"path": "/corral-del", "watch": True}, 0,
               "086: child watch on /corral-del"),
        Filler("A", 0x5e, 8, {"path": "/", "watch": True}, 0, "086: child watch on /"),
    ],
    "100_oversize_frame": [
        Filler("F1", None, 0, None, None, "a session for the 1 MB setData",
               kind="connect-new"),
        Filler("F1", 1, 5, {"path": "/corral-wire", "data": b"\x00" * 1048375,
                            "version": -1}, 0,
               "102 sees /corral-wire version 4, dataLength 1048375, mzxid 0x51: the "
               "capture's 'payload of 1 048 407 bytes accepted' setData (wire-protocol.md "
               "§1.1)"),
        Filler("F1", 2, -11, None, 0, "close the helper session", kind="close"),
    ],
}


# --------------------------------------------------------------------------------------
# Comparison helpers

def masked(frame: bytes, ranges) -> bytes:
    b = bytearray(frame)
    for start, end, _ in ranges or []:
        b[start:min(end, len(b))] = b"\0" * max(0, min(end, len(b)) - start)
    return bytes(b)


SET_FIELDS = ("children", "ephemerals", "clientInfo")


def _sorted_sets(v):
    if isinstance(v, dict):
        out = {}
        for k, w in v.items():
            w = _sorted_sets(w)
            if k in SET_FIELDS and isinstance(w, list):
                w = sorted(w, key=repr)
            out[k] = w
        return out
    if isinstance(v, list):
        return [_sorted_sets(w) for w in v]
    return v


def decode_server_frame(frame: bytes, kind: str, op: int | None):
    payload = frame[4:]
    if kind == "connect":
        return zkraw.decode_connect_response(payload)
    return zkraw.decode_reply(payload, op)


def frames_equal(expected: bytes, actual: bytes, ranges, kind: str, op: int | None
                 ) -> tuple[bool, str]:
    """(equal, explanation). Masks first; then children-like lists as sets."""
    me, ma = masked(expected, ranges), masked(actual, ranges)
    if me == ma:
        return True, ""
    if len(me) == len(ma):
        try:
            de = _sorted_sets(decode_server_frame(me, kind, op))
            da = _sorted_sets(decode_server_frame(ma, kind, op))
            if de == da:
                return True, "equal as sets"
        except DecodeError:
            pass
    try:
        de = decode_server_frame(me, kind, op)
    except DecodeError as e:
        de = f"<undecodable: {e}>"
    try:
        da = decode_server_frame(ma, kind, op)
    except DecodeError as e:
        da = f"<undecodable: {e}>"
    return False, (f"expected {expected.hex()}\n      actual   {actual.hex()}\n"
                   f"      expected (masked, decoded) {de}\n"
                   f"      actual   (masked, decoded) {da}")


# --------------------------------------------------------------------------------------
# Replay

@dataclass
class Session:
    sid: int = 0
    passwd: bytes = b""


@dataclass
class Replay:
    host: str
    port: int
    reference: bool = True                    # False: apply GOLDEN_DIFFERENCES
    conns: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    last_zxid: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    checked_frames: int = 0
    _compared: int = 0

    def fail(self, vec: str, msg: str) -> None:
        self.failures.append(f"{vec}: {msg}")

    def note_zxid(self, label: str, frame: bytes) -> None:
        if len(frame) >= 16:
            z = struct.unpack(">q", frame[8:16])[0]
            if z > self.last_zxid.get(label, 0):
                self.last_zxid[label] = z

    def open(self, label: str) -> Conn:
        c = Conn(self.host, self.port, timeout=READ_TIMEOUT_S)
        self.conns[label] = c
        return c

    def handshake(self, label: str, session: str | None) -> None:
        """An unrecorded handshake: a new session, or a resume of `session`."""
        c = self.open(label)
        if session is None:
            resp = c.handshake()
            ok = resp is not None and resp["timeOut"] > 0
            if ok:
                self.sessions[label] = Session(resp["sessionId"], resp["passwd"])
        else:
            s = self.sessions[session]
            resp = c.handshake(session_id=s.sid, passwd=s.passwd,
                               last_zxid=self.last_zxid.get(session, 0))
            ok = resp is not None and resp["timeOut"] > 0 and resp["sessionId"] == s.sid
        if not ok:
            raise AssertionError(f"unrecorded handshake for {label} failed: {resp}")
        self.last_zxid.setdefault(label, self.last_zxid.get(session or "", 0))

    def run_filler(self, vec: str, f: Filler) -> None:
        if f.kind == "connect-new":
            self.handshake(f.conn, None)
            return
        c = self.conns[f.conn]
        before, reply = c.call(f.op, f.args, xid=f.xid, timeout=READ_TIMEOUT_S)
        if reply is None:
            self.fail(vec, f"filler {f.why!r}: connection closed")
            return
        err = reply["header"]["err"]
        if f.expect is not None and err != f.expect:
            self.fail(vec, f"filler ({f.why}) got err {err}, expected {f.expect}")
        if f.kind == "close" and not c.wait_eof(EOF_TIMEOUT_S):
            self.fail(vec, "filler closeSession: no EOF")
        self.notes.append(f"before {vec}: filler op {f.op} xid {f.xid}: {f.why}")

    def substitute(self, vec: Vector, idx: int, frame: bytes) -> bytes:
        subs = SUBSTITUTE.get(vec.name, {})
        ranges = vec.masks.get(("C", idx), [])
        b = bytearray(frame)
        for start, end, name in ranges:
            if name not in subs:
                continue
            label, what = subs[name]
            s = self.sessions[label]
            if what == "sid":
                val = struct.pack(">q", s.sid)
            elif what == "passwd":
                val = s.passwd
            elif what == "wrong":
                val = bytes(x ^ 0xA5 for x in s.passwd)
            else:
                val = struct.pack(">q", self.last_zxid.get(label, 0))
            assert len(val) == end - start, (vec.name, name)
            b[start:end] = val
        return bytes(b)

    def replay_vector(self, vec: Vector, alternatives: dict) -> None:
        for f in FILLERS.get(vec.name, []):
            self.run_filler(vec.name, f)
        spec = CONNECTIONS.get(vec.name, DEFAULT_CONNECTION)
        connect_in_vector = False
        if isinstance(spec, tuple):
            label = spec[1]
            if spec[0] == "new":
                self.open(label)
                connect_in_vector = True
            elif spec[0] == "fresh":
                self.handshake(label, None)
                self.notes.append(f"{vec.name}: runs on a fresh session ({label}) opened "
                                  "without recording")
            elif spec[0] == "resume":
                self.handshake(label, spec[2])
                self.notes.append(f"{vec.name}: runs on a resumed session {spec[2]} "
                                  f"({label}) opened without recording")
        else:
            label = spec
        c = self.conns[label]
        old_a = self.conns.get("A") if vec.name.startswith("096") else None

        # send C frames, grouped: consecutive C lines go out in one write
        pending: list = []          # expected reply keys
        ops: dict = {}
        c_idx = 0
        received: list = []         # actual S frames (bytes) / None for EOF / str marker
        kinds: list = []            # "connect" | "reply" per received frame
        i = 0
        lines = vec.lines
        send_failed = False
        while i < len(lines):
            if lines[i][0] == "C":
                batch = b""
                while i < len(lines) and lines[i][0] == "C":
                    frame = self.substitute(vec, c_idx, lines[i][1])
                    if c_idx == 0 and connect_in_vector:
                        pending.append("connect")
                    elif len(frame) >= 12:
                        xid, op = struct.unpack(">ii", frame[4:12])
                        ops[xid] = op
                        pending.append(-2 if op == 11 else xid)
                    batch += frame
                    c_idx += 1
                    i += 1
                try:
                    c.send_raw(batch)
                except OSError:
                    send_failed = True
            else:
                i += 1
        # read until every request is answered, EOF, or timeout
        while pending:
            try:
                payload = c.read_payload(READ_TIMEOUT_S)
            except EOF:
                received.append(None)
                kinds.append("eof")
                break
            except NoFrame:
                received.append("timeout")
                kinds.append("timeout")
                break
            frame = struct.pack(">i", len(payload)) + payload
            if "connect" in pending:    # first frame on a new connection
                kinds.append("connect")
                pending.remove("connect")
                try:
                    resp = zkraw.decode_connect_response(payload)
                    if resp["timeOut"] > 0:
                        self.sessions.setdefault(label, Session(resp["sessionId"],
                                                                resp["passwd"]))
                except DecodeError:
                    pass
            else:
                kinds.append("reply")
                self.note_zxid(label, frame)
                xid = struct.unpack(">i", payload[:4])[0] if len(payload) >= 4 else None
                if xid in pending and xid != -1:
                    pending.remove(xid)
            received.append(frame)
        if send_failed and not received:
            received.append(None)
            kinds.append("eof")
        # an expected trailing EOF
        if vec.s_lines and vec.s_lines[-1] is None and (not received
                                                        or received[-1] is not None):
            try:
                if c.wait_eof(EOF_TIMEOUT_S):
                    received.append(None)
                    kinds.append("eof")
                else:
                    received.append("no-eof")
                    kinds.append("no-eof")
            except AssertionError as e:
                received.append(f"extra frame: {e}")
                kinds.append("extra")
        # anything else queued for this connection?
        if not received or received[-1] is not None:
            extra = self.ping_barrier(c)
            for e in extra:
                received.append(e)
                kinds.append("reply" if isinstance(e, bytes) else "marker")

        ok, why = self.compare(vec, received, kinds, ops)
        compared = self._compared
        if not ok and not self.reference and vec.name in alternatives:
            reason, make = alternatives[vec.name]
            ok2, why2 = self.compare(make(vec), received, kinds, ops)
            if ok2:
                self.notes.append(f"{vec.name}: matched the intended alternative ({reason})")
                ok, compared = True, self._compared - 1   # the alternative's extra frame
            else:
                why += f"\n    (intended alternative does not match either: {why2})"
        self.checked_frames += compared
        if not ok:
            self.fail(vec.name, why)

        # extra checks implied by the vectors
        if vec.name.startswith("096") and old_a is not None:
            if not old_a.wait_eof(EOF_TIMEOUT_S):
                self.fail(vec.name, "the previous connection of session A was not closed "
                                    "by the resume (wire-protocol.md §3.3 rule 5)")
            self.sessions["A2"] = self.sessions["A"]
            self.last_zxid["A2"] = self.last_zxid.get("A", 0)
        if vec.name.startswith("097"):
            self.last_zxid["A"] = max(self.last_zxid.get("A", 0),
                                      self.last_zxid.get("A2", 0))
        if vec.name.startswith("098") and "A2" in self.conns:
            if not self.conns["A2"].wait_eof(EOF_TIMEOUT_S):
                self.fail(vec.name, "a resume with a wrong password did not close the "
                                    "session's live connection (wire-protocol.md §3.3)")

    def ping_barrier(self, c: Conn) -> list:
        try:
            c.send_frame(struct.pack(">ii", -2, 11))
        except OSError:
            return []
        extra: list = []
        while True:
            try:
                payload = c.read_payload(READ_TIMEOUT_S)
            except EOF:
                return extra
            except NoFrame:
                extra.append("timeout waiting for the ping reply")
                return extra
            if struct.unpack(">i", payload[:4])[0] == -2:
                return extra
            extra.append(struct.pack(">i", len(payload)) + payload)

    def compare(self, vec: Vector, received: list, kinds: list, ops: dict
                ) -> tuple[bool, str]:
        expected = vec.s_lines
        problems = []
        self._compared = 0
        for j in range(max(len(expected), len(received))):
            exp = expected[j] if j < len(expected) else "<nothing>"
            got = received[j] if j < len(received) else "<nothing>"
            if exp is None or got is None or isinstance(exp, str) or isinstance(got, str):
                if exp != got:
                    problems.append(f"S{j}: expected {_show(exp)}, got {_show(got)}")
                continue
            kind = kinds[j] if j < len(kinds) else "reply"
            xid = struct.unpack(">i", exp[4:8])[0] if kind != "connect" else None
            ok, why = frames_equal(exp, got, vec.masks.get(("S", j)), kind, ops.get(xid))
            self._compared += 1
            if not ok:
                problems.append(f"S{j} differs:\n      {why}")
        return (not problems), "\n    ".join(problems)


def _show(x) -> str:
    if x is None:
        return "EOF"
    if isinstance(x, bytes):
        return x.hex()
    return str(x)


def replay_all(host: str, port: int, reference: bool, alternatives: dict) -> Replay:
    r = Replay(host, port, reference=reference)
    for vec in load_vectors():
        try:
            r.replay_vector(vec, alternatives)
        except (OSError, AssertionError, DecodeError, KeyError) as e:
            r.fail(vec.name, f"replay error {type(e).__name__}: {e}")
    for c in r.conns.values():
        c.close()
    return r
