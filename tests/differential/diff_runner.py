"""Runs a scripted workload (a list of Steps) against one server and records, per step,
every frame each connection received, in order; then normalizes the records so that two
servers can be compared field by field.

What a step observes:
  * ``acting``: frames received on the acting connection up to and including the reply
    (notifications that precede the reply come first), or ``eof`` / ``timeout``;
  * ``after``: for steps that must close the connection, whether EOF followed;
  * ``barrier``: after every step each live connection is pinged and every frame received
    before the ping reply (late notifications, unexpected replies, EOF) is recorded with
    the ping reply itself. Ordering rule being relied on: a reply whose zxid reflects a
    change never overtakes the notification that change fired (wire-protocol.md §4.3).

Normalization (what may vary between servers / runs):
  * zxids (ReplyHeader.zxid, Stat czxid/mzxid/pzxid) become the label of the op that
    created them (``@i``), and each op records how many zxids it consumed, so "a failed
    write consumed one zxid" is compared without one difference shifting all later
    zxids; values <= 0 stay literal;
  * session ids and ephemeralOwner become the label of the session that owns them, and
    passwords become ``pw:<label>`` (so "resume returns the same password" is compared);
  * ctime/mtime become ``T`` (checked separately for sanity: non-zero times are recent
    and ctime <= mtime);
  * children / ephemerals / whoAmI lists are compared as sorted lists (sets).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from typing import Any

import zkraw
from zkraw import EOF, OP, Conn, DecodeError, NoFrame

REPLY_TIMEOUT_S = 10.0
EOF_TIMEOUT_S = 5.0
RUN_DEADLINE_S = 240.0


# --------------------------------------------------------------------------------------
# Steps

class Ref:
    """A value only known while running (session id, password, a recorded zxid)."""

    def __init__(self, kind: str, name: str, delta: int = 0) -> None:
        self.kind, self.name, self.delta = kind, name, delta

    def __repr__(self) -> str:
        return f"<{self.kind}:{self.name}{self.delta:+d}>" if self.delta else \
            f"<{self.kind}:{self.name}>"


def sid(label: str) -> Ref:
    return Ref("sid", label)


def passwd(label: str) -> Ref:
    return Ref("passwd", label)


def wrong_passwd(label: str) -> Ref:
    return Ref("wrong_passwd", label)


def last_zxid(label: str) -> Ref:
    return Ref("last_zxid", label)


def mark(name: str) -> Ref:
    return Ref("mark", name)


@dataclass
class Step:
    kind: str                      # req | fire | connect | connect_raw | raw | drop | mark
    sess: str
    op: str | None = None
    args: Any = None
    xid: int | None = None
    closes: bool = False           # the server must close this connection after the reply
    tags: tuple = ()
    note: str = ""
    opts: dict = field(default_factory=dict)
    idx: int = -1

    def describe(self) -> str:
        if self.kind == "req" or self.kind == "fire":
            a = _short(self.args)
            return f"{self.sess}: {self.op} {a}{' [' + self.note + ']' if self.note else ''}"
        return f"{self.sess}: {self.kind} {_short(self.opts)} {self.note}".rstrip()

    @property
    def sends(self) -> bool:
        return self.kind in ("req", "fire", "connect", "raw", "connect_raw")


def _short(v: Any, limit: int = 160) -> str:
    def fmt(x: Any) -> Any:
        if isinstance(x, (bytes, bytearray)):
            return x if len(x) <= 24 else f"<{len(x)} bytes>"
        if isinstance(x, dict):
            return {k: fmt(w) for k, w in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(fmt(w) for w in x)
        return x
    s = repr(fmt(v)) if v is not None else ""
    return s if len(s) <= limit else s[:limit] + "..."


# --------------------------------------------------------------------------------------
# Running

@dataclass
class SessionInfo:
    sid: int = 0
    passwd: bytes = b""


class Runner:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.live: dict[str, Conn] = {}            # label -> connection in use
        self.retired: dict[str, Conn] = {}         # replaced connections that must close
        self.sessions: dict[str, SessionInfo] = {}
        self.marks: dict[str, int] = {}
        self.sid_labels: dict[int, str] = {}
        self.pw_labels: dict[bytes, str] = {}
        self.records: list[dict] = []
        self.errors: list[str] = []                # harness-level problems
        self.wall_start_ms = int(time.time() * 1000)
        self.retire_seq = 0
        self.last_seen: dict[str, int] = {}        # label -> last zxid its client saw

    # -- refs
    def resolve(self, v: Any) -> Any:
        if isinstance(v, Ref):
            if v.kind == "sid":
                return self.sessions[v.name].sid
            if v.kind == "passwd":
                return self.sessions[v.name].passwd
            if v.kind == "wrong_passwd":
                return bytes(b ^ 0xA5 for b in self.sessions[v.name].passwd)
            if v.kind == "last_zxid":
                c = self.live.get(v.name)
                return (c.last_zxid if c else self.last_seen.get(v.name, 0)) + v.delta
            if v.kind == "mark":
                return self.marks[v.name] + v.delta
            raise ValueError(v.kind)
        if isinstance(v, dict):
            return {k: self.resolve(w) for k, w in v.items()}
        if isinstance(v, list):
            return [self.resolve(w) for w in v]
        if isinstance(v, tuple):
            return tuple(self.resolve(w) for w in v)
        return v

    # -- main loop
    def run(self, steps: list[Step]) -> list[dict]:
        deadline = time.monotonic() + RUN_DEADLINE_S
        for st in steps:
            if time.monotonic() > deadline:
                self.records.append({"aborted": "run deadline exceeded"})
                continue
            rec: dict[str, Any] = {}
            try:
                getattr(self, "_do_" + st.kind)(st, rec)
            except (OSError, DecodeError) as e:
                rec["harness_error"] = f"{type(e).__name__}: {e}"
            if st.kind != "mark":
                rec["barrier"] = self.barrier()
            self.records.append(rec)
        for c in list(self.live.values()) + list(self.retired.values()):
            c.close()
        return self.records

    def conn(self, label: str) -> Conn | None:
        return self.live.get(label)

    def _read_reply(self, c: Conn, xid: int, op: int) -> list[dict]:
        frames: list[dict] = []
        try:
            before, reply = c.read_until_reply(xid, op, REPLY_TIMEOUT_S)
            frames.extend(before)
            if reply is not None:
                frames.append(reply)
        except NoFrame:
            frames.append({"kind": "timeout"})
        except DecodeError as e:
            frames.append({"kind": "undecodable", "error": str(e)})
        return frames

    def _after_close_check(self, label: str, c: Conn, rec: dict) -> None:
        try:
            rec["after"] = "eof" if c.wait_eof(EOF_TIMEOUT_S) else "open"
        except AssertionError as e:
            rec["after"] = f"frame: {e}"
        if rec["after"] == "eof":
            self.live.pop(label, None)
            c.close()

    def _do_mark(self, st: Step, rec: dict) -> None:
        c = self.live[st.sess]
        self.marks[st.opts["name"]] = c.last_zxid

    def _do_req(self, st: Step, rec: dict) -> None:
        c = self.conn(st.sess)
        if c is None:
            rec["acting"] = [{"kind": "no-connection"}]
            return
        op = OP[st.op] if isinstance(st.op, str) else st.op
        args = self.resolve(st.args)
        if st.op in ("multi", "multiRead"):
            args = [(OP[o] if isinstance(o, str) else o, a) for o, a in args]
        xid = st.xid
        if xid is None:
            xid = zkraw.XID_PING if op == 11 else zkraw.XID_AUTH if op == 100 else c.alloc_xid()
        try:
            c.send_frame(zkraw.encode_request(xid, op, args))
        except OSError:
            rec["acting"] = [{"kind": "send-failed"}]
            self.live.pop(st.sess, None)
            return
        want = zkraw.XID_PING if op == 11 else xid
        rec["acting"] = self._read_reply(c, want, op)
        if rec["acting"][-1]["kind"] in ("eof", "timeout"):
            self.live.pop(st.sess, None)
            c.close()
        elif st.closes:
            self._after_close_check(st.sess, c, rec)

    def _do_fire(self, st: Step, rec: dict) -> None:
        """Sends a request that may get no reply at all, pipelined with a ping; records
        everything up to the ping reply (or EOF)."""
        c = self.conn(st.sess)
        if c is None:
            rec["acting"] = [{"kind": "no-connection"}]
            return
        op = OP[st.op] if isinstance(st.op, str) else st.op
        xid = c.alloc_xid()
        c.send_frame(zkraw.encode_request(xid, op, self.resolve(st.args)))
        try:
            c.send_frame(zkraw.encode_request(zkraw.XID_PING, 11))
        except OSError:
            pass
        frames = []
        while True:
            try:
                payload = c.read_payload(REPLY_TIMEOUT_S)
            except EOF:
                frames.append({"kind": "eof"})
                break
            except NoFrame:
                frames.append({"kind": "timeout"})
                break
            pxid = struct.unpack(">i", payload[:4])[0]
            d = zkraw.decode_reply(payload, op if pxid == xid else 11 if pxid == -2 else None)
            frames.append(d)
            if d["kind"] == "ping":
                break
        rec["acting"] = frames
        if frames[-1]["kind"] != "ping":
            self.live.pop(st.sess, None)
            c.close()

    def _do_raw(self, st: Step, rec: dict) -> None:
        """Sends raw bytes; opts: expect = "eof" (the server must close, no frame) or
        a reply xid/op to read."""
        c = self.conn(st.sess)
        if c is None:
            rec["acting"] = [{"kind": "no-connection"}]
            return
        try:
            c.send_raw(st.opts["data"])
        except OSError:
            pass
        if st.opts.get("expect") == "eof":
            try:
                rec["after"] = "eof" if c.wait_eof(EOF_TIMEOUT_S) else "open"
            except AssertionError as e:
                rec["after"] = f"frame: {e}"
            except OSError:
                rec["after"] = "eof"
            self.live.pop(st.sess, None)
            c.close()
        else:
            rec["acting"] = self._read_reply(c, st.opts["xid"], OP[st.opts["op"]])

    def _do_connect_raw(self, st: Step, rec: dict) -> None:
        """A new connection whose first bytes are not a ConnectRequest."""
        c = Conn(self.host, self.port, timeout=REPLY_TIMEOUT_S)
        try:
            c.send_raw(st.opts["data"])
            rec["after"] = "eof" if c.wait_eof(EOF_TIMEOUT_S) else "open"
        except AssertionError as e:
            rec["after"] = f"frame: {e}"
        except OSError:
            rec["after"] = "eof"
        c.close()

    def _do_drop(self, st: Step, rec: dict) -> None:
        c = self.live.pop(st.sess, None)
        if c:
            c.close()
        rec["dropped"] = True

    def _do_connect(self, st: Step, rec: dict) -> None:
        o = self.resolve(st.opts)
        c = Conn(self.host, self.port, timeout=REPLY_TIMEOUT_S)
        kwargs: dict[str, Any] = dict(
            session_id=o.get("sid", 0),
            passwd=None if o.get("passwd") == "null" else o.get("passwd", b"\0" * 16),
            timeout_ms=o.get("timeout_ms", 30000),
            last_zxid=o.get("last_zxid", 0),
            read_only=None if o.get("old_style") else o.get("read_only", False))
        if o.get("passwd") == "null":
            # null buffer (-1) as the password of a new session
            c.send_frame(zkraw.encode_connect_request(
                last_zxid=kwargs["last_zxid"], timeout_ms=kwargs["timeout_ms"],
                session_id=kwargs["session_id"], passwd=None, read_only=kwargs["read_only"]))
            try:
                payload = c.read_payload(REPLY_TIMEOUT_S)
                resp = zkraw.decode_connect_response(payload)
                if resp["timeOut"] > 0:
                    c.session_id, c.passwd = resp["sessionId"], resp["passwd"]
            except EOF:
                resp = None
        else:
            try:
                resp = c.handshake(**kwargs)
            except NoFrame:
                rec["connect"] = "timeout"
                c.close()
                return
        rec["connect"] = "eof" if resp is None else resp
        if resp is None:
            c.close()
            return
        if resp["timeOut"] <= 0:
            self._after_close_check(st.sess + "?rejected", c, rec)
            c.close()
            return
        old = self.live.pop(st.sess, None)
        if old is not None:
            self.retire_seq += 1
            self.retired[f"{st.sess}~old{self.retire_seq}"] = old
        # on resume the client keeps its last seen zxid
        c.last_zxid = old.last_zxid if old is not None else o.get("last_zxid", 0)
        self.live[st.sess] = c
        if resp["sessionId"] not in self.sid_labels:
            self.sid_labels[resp["sessionId"]] = st.sess
            self.pw_labels.setdefault(bytes(resp["passwd"]), st.sess)
        self.sessions[st.sess] = SessionInfo(resp["sessionId"], resp["passwd"])

    def barrier(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for label in sorted(self.live) + sorted(self.retired):
            c = self.live.get(label) or self.retired.get(label)
            frames: list[dict] = []
            try:
                c.send_frame(zkraw.encode_request(zkraw.XID_PING, 11))
                before, reply = c.read_until_reply(zkraw.XID_PING, 11, REPLY_TIMEOUT_S)
                frames.extend(before)
                if reply is not None:
                    frames.append(reply)
            except OSError:
                frames.append({"kind": "eof"})
            except NoFrame:
                frames.append({"kind": "timeout"})
            except DecodeError as e:
                frames.append({"kind": "undecodable", "error": str(e)})
            out[label] = frames
            if label in self.live:
                self.last_seen[label] = c.last_zxid
            if frames[-1]["kind"] != "ping":
                self.live.pop(label, None)
                self.retired.pop(label, None)
                c.close()
        return out


# --------------------------------------------------------------------------------------
# Normalization

ZXID_KEYS = {"zxid", "czxid", "mzxid", "pzxid"}
TIME_KEYS = {"ctime", "mtime"}
SET_KEYS = {"children", "ephemerals"}


class Normalizer:
    def __init__(self, runner: Runner) -> None:
        self.r = runner
        self.labels, self.consumed = self._label_zxids(runner.records)
        self.problems: list[str] = []     # sanity findings (times)
        self.now_ms = int(time.time() * 1000)

    @staticmethod
    def _label_zxids(records: list[dict]) -> tuple[dict[int, str], list[int]]:
        """Names every zxid after the step that created it: the zxids that first show up
        (in a reply or a barrier ping) during op #i are "@i", or "@i.1", "@i.2", ... if
        the op consumed several. Comparing labels instead of numbers keeps one missing
        or extra zxid from shifting every later comparison; the number each op consumed
        is compared separately ("zxids_consumed")."""
        labels: dict[int, str] = {}
        consumed: list[int] = []
        high = 0
        for i, rec in enumerate(records):
            seen = [f["header"]["zxid"] for f in rec.get("acting", [])
                    if f.get("kind") in ("reply", "ping")]
            seen += [f["header"]["zxid"] for fs in rec.get("barrier", {}).values()
                     for f in fs if f.get("kind") in ("reply", "ping")]
            top = max([z for z in seen if z > 0], default=0)
            new = list(range(high + 1, top + 1)) if top > high else []
            # zxids below the first one observed belong to the server's own start-up
            if high == 0:
                new = [top] if top else []
            for k, z in enumerate(new):
                labels[z] = f"@{i}" if len(new) == 1 else f"@{i}.{k + 1}"
            consumed.append(len(new))
            high = max(high, top)
        return labels, consumed

    def zxid(self, v: int) -> Any:
        if v <= 0:
            return v
        return self.labels.get(v, "before-first-op")

    def sid(self, v: int) -> Any:
        if v == 0:
            return 0
        return "sid:" + self.r.sid_labels.get(v, "?")

    def pw(self, v: bytes | None) -> Any:
        if v is None:
            return None
        if v == b"\0" * len(v):
            return f"zeros{len(v)}"
        return "pw:" + self.r.pw_labels.get(bytes(v), f"?len{len(v)}")

    def value(self, key: str, v: Any, where: str) -> Any:
        if isinstance(v, dict):
            out = {k: self.value(k, w, f"{where}.{k}") for k, w in v.items()}
            if "ctime" in v and "mtime" in v:
                self.check_times(v, where)
            return out
        if isinstance(v, list):
            items = [self.value(key, w, f"{where}[{i}]") for i, w in enumerate(v)]
            if key in SET_KEYS:
                return sorted(items, key=repr)
            if key == "clientInfo":
                return sorted(items, key=lambda d: (str(d["authScheme"]), str(d["user"])))
            return items
        if key in ZXID_KEYS and isinstance(v, int):
            return self.zxid(v)
        if key in TIME_KEYS and isinstance(v, int):
            return "T" if v else 0
        if key in ("sessionId", "ephemeralOwner") and isinstance(v, int):
            return self.sid(v)
        if key == "passwd":
            return self.pw(v)
        if isinstance(v, (bytes, bytearray)):
            return "hex:" + bytes(v).hex() if len(v) <= 64 else \
                f"bytes[{len(v)}]:" + _digest(bytes(v))
        return v

    def check_times(self, stat: dict, where: str) -> None:
        c, m = stat["ctime"], stat["mtime"]
        day = 86400_000
        for name, t in (("ctime", c), ("mtime", m)):
            # 0 is legitimate for the nodes that exist on a fresh server
            if t != 0 and abs(t - self.now_ms) > day:
                self.problems.append(f"{where}.{name}={t} is not a current wall-clock time")
        if c > m:
            self.problems.append(f"{where}: ctime {c} > mtime {m}")

    def frame(self, f: dict, where: str) -> dict:
        kind = f.get("kind")
        if kind in ("reply", "ping", "notification"):
            out: dict[str, Any] = {"kind": kind}
            h = f["header"]
            out["xid"] = h["xid"]
            out["zxid"] = self.zxid(h["zxid"])
            out["err"] = _err(h["err"])
            if "body" in f:
                out["body"] = self.value("body", f["body"], where + ".body")
            if "trailing" in f:
                out["trailing"] = f["trailing"]
            return out
        return dict(f)

    def records(self) -> list[dict]:
        out = []
        for i, rec in enumerate(self.r.records):
            n: dict[str, Any] = {"zxids_consumed": self.consumed[i]}
            for k, v in rec.items():
                if k == "acting":
                    n[k] = [self.frame(f, f"step{i}.acting[{j}]") for j, f in enumerate(v)]
                elif k == "barrier":
                    n[k] = {lbl: [self.frame(f, f"step{i}.barrier.{lbl}[{j}]")
                                  for j, f in enumerate(fs)] for lbl, fs in v.items()}
                elif k == "connect":
                    n[k] = self.value("connect", v, f"step{i}.connect") \
                        if isinstance(v, dict) else v
                else:
                    n[k] = v
            out.append(n)
        return out


def _err(code: int) -> Any:
    return f"{zkraw.ERR.get(code, '?')}({code})" if code else 0


def _digest(b: bytes) -> str:
    import hashlib
    return hashlib.sha1(b).hexdigest()[:16]


def run_and_normalize(host: str, port: int, steps: list[Step]) -> tuple[list[dict], list[str]]:
    r = Runner(host, port)
    r.run(steps)
    n = Normalizer(r)
    recs = n.records()
    return recs, n.problems + r.errors


# --------------------------------------------------------------------------------------
# Comparison

def diff_values(a: Any, b: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a:
                out.append((f"{path}.{k}", "<absent>", b[k]))
            elif k not in b:
                out.append((f"{path}.{k}", a[k], "<absent>"))
            else:
                diff_values(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((f"{path}.length", len(a), len(b)))
        for i in range(max(len(a), len(b))):
            if i >= len(a):
                out.append((f"{path}[{i}]", "<absent>", b[i]))
            elif i >= len(b):
                out.append((f"{path}[{i}]", a[i], "<absent>"))
            else:
                diff_values(a[i], b[i], f"{path}[{i}]", out)
    elif a != b:
        out.append((path, a, b))


def compare_runs(steps: list[Step], ref: list[dict], cand: list[dict],
                 rules: list | None = None) -> list[str]:
    """Field-by-field differences between two normalized runs of `steps`, as readable
    lines: op index, op, field path, reference value, candidate value. `rules` are
    intended_differences entries applied to the candidate before diffing."""
    lines: list[str] = []
    if len(ref) != len(cand):
        lines.append(f"record count differs: reference {len(ref)}, candidate {len(cand)}")
    for i, (st, a, b) in enumerate(zip(steps, ref, cand)):
        nxt = ref[i + 1] if i + 1 < len(ref) else None
        for rule in rules or []:
            b = rule.apply(st, a, b, nxt)
        found: list[tuple[str, Any, Any]] = []
        diff_values(a, b, "", found)
        for path, va, vb in found:
            lines.append(f"op #{st.idx} [{st.describe()}] field {path.lstrip('.')}: "
                         f"reference={va!r} candidate={vb!r}")
    return lines
