"""Independent raw ZooKeeper client-protocol codec and socket client for tests.

Written from the protocol reference only (it deliberately shares no code with corral's
Rust codec), so that it can judge corral and Apache ZooKeeper alike. Records are
described by small schemas and encoded/decoded generically; every decode must consume
its frame exactly, otherwise a ``DecodeError`` is raised.

Used by tests/differential and tests/crash.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------------------
# Numbers

OP = {
    "notification": 0, "create": 1, "delete": 2, "exists": 3, "getData": 4,
    "setData": 5, "getACL": 6, "setACL": 7, "getChildren": 8, "sync": 9, "ping": 11,
    "getChildren2": 12, "check": 13, "multi": 14, "create2": 15, "reconfig": 16,
    "checkWatches": 17, "removeWatches": 18, "createContainer": 19,
    "deleteContainer": 20, "createTTL": 21, "multiRead": 22, "auth": 100,
    "setWatches": 101, "sasl": 102, "getEphemerals": 103, "getAllChildrenNumber": 104,
    "setWatches2": 105, "addWatch": 106, "whoAmI": 107, "createSession": -10,
    "closeSession": -11, "error": -1,
}
OP_NAME = {v: k for k, v in OP.items()}

ERR = {
    0: "OK", -1: "SYSTEMERROR", -2: "RUNTIMEINCONSISTENCY", -3: "DATAINCONSISTENCY",
    -4: "CONNECTIONLOSS", -5: "MARSHALLINGERROR", -6: "UNIMPLEMENTED",
    -7: "OPERATIONTIMEOUT", -8: "BADARGUMENTS", -12: "UNKNOWNSESSION",
    -13: "NEWCONFIGNOQUORUM", -14: "RECONFIGINPROGRESS", -101: "NONODE", -102: "NOAUTH",
    -103: "BADVERSION", -108: "NOCHILDRENFOREPHEMERALS", -110: "NODEEXISTS",
    -111: "NOTEMPTY", -112: "SESSIONEXPIRED", -114: "INVALIDACL", -115: "AUTHFAILED",
    -118: "SESSIONMOVED", -119: "NOTREADONLY", -120: "EPHEMERALONLOCALSESSION",
    -121: "NOWATCHER", -123: "RECONFIGDISABLED", -124: "SESSIONCLOSEDREQUIRESASLAUTH",
    -125: "QUOTAEXCEEDED", -127: "THROTTLEDOP",
}

XID_NOTIFICATION = -1
XID_PING = -2
XID_AUTH = -4
XID_SET_WATCHES = -8

PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN = 1, 2, 4, 8, 16
PERM_ALL = 31


def acl(perms: int, scheme: str, ident: str) -> dict:
    return {"perms": perms, "id": {"scheme": scheme, "id": ident}}


OPEN_ACL_UNSAFE = [acl(PERM_ALL, "world", "anyone")]
READ_ACL_UNSAFE = [acl(PERM_READ, "world", "anyone")]
CREATOR_ALL_ACL = [acl(PERM_ALL, "auth", "")]


def digest_id(user: str, password: str) -> str:
    """The stored `digest` ACL id for user:password (base64 of SHA-1)."""
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


# --------------------------------------------------------------------------------------
# Jute primitives

class DecodeError(Exception):
    pass


class Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def int(self, v: int) -> None:
        self.parts.append(struct.pack(">i", v))

    def long(self, v: int) -> None:
        self.parts.append(struct.pack(">q", v))

    def bool(self, v: bool) -> None:
        self.parts.append(b"\x01" if v else b"\x00")

    def buffer(self, v: bytes | None) -> None:
        if v is None:
            self.int(-1)
        else:
            self.int(len(v))
            self.parts.append(bytes(v))

    def ustring(self, v: str | bytes | None) -> None:
        if v is None:
            self.int(-1)
            return
        # bytes are written verbatim, so tests can send exactly the bytes they want
        b = v if isinstance(v, (bytes, bytearray)) else v.encode("utf-8", "surrogatepass")
        self.int(len(b))
        self.parts.append(bytes(b))

    def raw(self, b: bytes) -> None:
        self.parts.append(b)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError(f"need {n} bytes at offset {self.pos}, frame has {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def int(self) -> int:
        return struct.unpack(">i", self._take(4))[0]

    def long(self) -> int:
        return struct.unpack(">q", self._take(8))[0]

    def bool(self) -> bool:
        return self._take(1) != b"\x00"

    def buffer(self) -> bytes | None:
        n = self.int()
        if n == -1:
            return None
        if n < -1:
            raise DecodeError(f"negative buffer length {n}")
        return self._take(n)

    def ustring(self) -> str | None:
        b = self.buffer()
        # surrogateescape keeps any byte sequence comparable exactly
        return None if b is None else b.decode("utf-8", "surrogateescape")

    def end(self) -> None:
        if self.remaining():
            raise DecodeError(f"{self.remaining()} unconsumed bytes at offset {self.pos}")


# --------------------------------------------------------------------------------------
# Record schemas (field order = wire order)

SCHEMAS: dict[str, list[tuple[str, Any]]] = {
    "Id": [("scheme", "ustring"), ("id", "ustring")],
    "ACL": [("perms", "int"), ("id", "Id")],
    "Stat": [("czxid", "long"), ("mzxid", "long"), ("ctime", "long"), ("mtime", "long"),
             ("version", "int"), ("cversion", "int"), ("aversion", "int"),
             ("ephemeralOwner", "long"), ("dataLength", "int"), ("numChildren", "int"),
             ("pzxid", "long")],
    "ClientInfo": [("authScheme", "ustring"), ("user", "ustring")],
    "RequestHeader": [("xid", "int"), ("type", "int")],
    "ReplyHeader": [("xid", "int"), ("zxid", "long"), ("err", "int")],
    "MultiHeader": [("type", "int"), ("done", "bool"), ("err", "int")],
    "WatcherEvent": [("type", "int"), ("state", "int"), ("path", "ustring")],
    # requests
    "CreateRequest": [("path", "ustring"), ("data", "buffer"), ("acl", ("vector", "ACL")),
                      ("flags", "int")],
    "CreateTTLRequest": [("path", "ustring"), ("data", "buffer"), ("acl", ("vector", "ACL")),
                         ("flags", "int"), ("ttl", "long")],
    "DeleteRequest": [("path", "ustring"), ("version", "int")],
    "ExistsRequest": [("path", "ustring"), ("watch", "bool")],
    "GetDataRequest": [("path", "ustring"), ("watch", "bool")],
    "SetDataRequest": [("path", "ustring"), ("data", "buffer"), ("version", "int")],
    "GetACLRequest": [("path", "ustring")],
    "SetACLRequest": [("path", "ustring"), ("acl", ("vector", "ACL")), ("version", "int")],
    "GetChildrenRequest": [("path", "ustring"), ("watch", "bool")],
    "SyncRequest": [("path", "ustring")],
    "CheckVersionRequest": [("path", "ustring"), ("version", "int")],
    "ReconfigRequest": [("joiningServers", "ustring"), ("leavingServers", "ustring"),
                        ("newMembers", "ustring"), ("curConfigId", "long")],
    "WatchesRequest": [("path", "ustring"), ("type", "int")],
    "AuthPacket": [("type", "int"), ("scheme", "ustring"), ("auth", "buffer")],
    "SetWatches": [("relativeZxid", "long"), ("dataWatches", ("vector", "ustring")),
                   ("existWatches", ("vector", "ustring")),
                   ("childWatches", ("vector", "ustring"))],
    "SetWatches2": [("relativeZxid", "long"), ("dataWatches", ("vector", "ustring")),
                    ("existWatches", ("vector", "ustring")),
                    ("childWatches", ("vector", "ustring")),
                    ("persistentWatches", ("vector", "ustring")),
                    ("persistentRecursiveWatches", ("vector", "ustring"))],
    "SASLToken": [("token", "buffer")],
    "PathRequest": [("path", "ustring")],
    "AddWatchRequest": [("path", "ustring"), ("mode", "int")],
    # responses
    "CreateResponse": [("path", "ustring")],
    "Create2Response": [("path", "ustring"), ("stat", "Stat")],
    "StatResponse": [("stat", "Stat")],
    "GetDataResponse": [("data", "buffer"), ("stat", "Stat")],
    "GetACLResponse": [("acl", ("vector", "ACL")), ("stat", "Stat")],
    "GetChildrenResponse": [("children", ("vector", "ustring"))],
    "GetChildren2Response": [("children", ("vector", "ustring")), ("stat", "Stat")],
    "PathResponse": [("path", "ustring")],
    "GetEphemeralsResponse": [("ephemerals", ("vector", "ustring"))],
    "GetAllChildrenNumberResponse": [("totalNumber", "int")],
    "ErrorResponse": [("err", "int")],
    "WhoAmIResponse": [("clientInfo", ("vector", "ClientInfo"))],
}

# opcode -> (request record or None, response record or None)
OP_RECORDS: dict[int, tuple[str | None, str | None]] = {
    1: ("CreateRequest", "CreateResponse"),
    2: ("DeleteRequest", None),
    3: ("ExistsRequest", "StatResponse"),
    4: ("GetDataRequest", "GetDataResponse"),
    5: ("SetDataRequest", "StatResponse"),
    6: ("GetACLRequest", "GetACLResponse"),
    7: ("SetACLRequest", "StatResponse"),
    8: ("GetChildrenRequest", "GetChildrenResponse"),
    9: ("SyncRequest", "PathResponse"),
    11: (None, None),
    12: ("GetChildrenRequest", "GetChildren2Response"),
    13: ("CheckVersionRequest", None),
    15: ("CreateRequest", "Create2Response"),
    16: ("ReconfigRequest", "GetDataResponse"),
    17: ("WatchesRequest", None),
    18: ("WatchesRequest", None),
    19: ("CreateRequest", "Create2Response"),
    20: ("PathRequest", None),
    21: ("CreateTTLRequest", "Create2Response"),
    100: ("AuthPacket", None),
    101: ("SetWatches", None),
    102: ("SASLToken", "SASLToken"),
    103: ("PathRequest", "GetEphemeralsResponse"),
    104: ("PathRequest", "GetAllChildrenNumberResponse"),
    105: ("SetWatches2", None),
    106: ("AddWatchRequest", "ErrorResponse"),
    107: (None, "WhoAmIResponse"),
    -11: (None, None),
}
MULTI_OPS = (14, 22)


def encode_record(name: str, value: dict, w: Writer | None = None) -> bytes:
    w = w or Writer()
    for fname, ftype in SCHEMAS[name]:
        _encode_value(ftype, value[fname], w)
    return w.getvalue()


def _encode_value(ftype: Any, v: Any, w: Writer) -> None:
    if isinstance(ftype, tuple):
        if v is None:
            w.int(-1)
            return
        w.int(len(v))
        for item in v:
            _encode_value(ftype[1], item, w)
    elif ftype in ("int", "long", "bool", "buffer", "ustring"):
        getattr(w, ftype)(v)
    else:
        encode_record(ftype, v, w)


def decode_record(name: str, r: Reader) -> dict:
    return {fname: _decode_value(ftype, r) for fname, ftype in SCHEMAS[name]}


def _decode_value(ftype: Any, r: Reader) -> Any:
    if isinstance(ftype, tuple):
        n = r.int()
        if n == -1:
            return None
        if n < -1 or n > r.remaining():
            raise DecodeError(f"bad vector length {n}")
        return [_decode_value(ftype[1], r) for _ in range(n)]
    if ftype in ("int", "long", "bool", "buffer", "ustring"):
        return getattr(r, ftype)()
    return decode_record(ftype, r)


# --------------------------------------------------------------------------------------
# Handshake

def encode_connect_request(*, protocol_version: int = 0, last_zxid: int = 0,
                           timeout_ms: int = 30000, session_id: int = 0,
                           passwd: bytes | None = b"\0" * 16, read_only: bool | None = False
                           ) -> bytes:
    """ConnectRequest payload; read_only=None gives the old 44-byte form."""
    w = Writer()
    w.int(protocol_version)
    w.long(last_zxid)
    w.int(timeout_ms)
    w.long(session_id)
    w.buffer(passwd)
    if read_only is not None:
        w.bool(read_only)
    return w.getvalue()


def decode_connect_response(payload: bytes) -> dict:
    r = Reader(payload)
    out = {"protocolVersion": r.int(), "timeOut": r.int(), "sessionId": r.long(),
           "passwd": r.buffer()}
    if r.remaining():
        out["readOnly"] = r.bool()
    r.end()
    return out


def decode_connect_request(payload: bytes) -> dict:
    r = Reader(payload)
    out = {"protocolVersion": r.int(), "lastZxidSeen": r.long(), "timeOut": r.int(),
           "sessionId": r.long(), "passwd": r.buffer()}
    if r.remaining():
        out["readOnly"] = r.bool()
    r.end()
    return out


# --------------------------------------------------------------------------------------
# Requests

def encode_request_body(op: int, args: dict | list | None) -> bytes:
    """Body (without RequestHeader) for opcode `op`. Multi takes a list of (op, args)."""
    if op in MULTI_OPS:
        return encode_multi(args or [])
    req = OP_RECORDS.get(op, (None, None))[0]
    if req is None:
        return b""
    return encode_record(req, args)


def encode_multi(subops: list[tuple[int, dict]]) -> bytes:
    w = Writer()
    for op, args in subops:
        encode_record("MultiHeader", {"type": op, "done": False, "err": -1}, w)
        w.raw(encode_request_body(op, args))
    encode_record("MultiHeader", {"type": -1, "done": True, "err": -1}, w)
    return w.getvalue()


def encode_request(xid: int, op: int, args: Any = None) -> bytes:
    return struct.pack(">ii", xid, op) + encode_request_body(op, args)


def decode_request(payload: bytes) -> dict:
    """Decodes a C->S frame payload (after the handshake), for dumps and golden replay."""
    r = Reader(payload)
    hdr = decode_record("RequestHeader", r)
    op = hdr["type"]
    out: dict[str, Any] = {"header": hdr}
    if op in MULTI_OPS:
        subs = []
        while True:
            mh = decode_record("MultiHeader", r)
            if mh["done"]:
                break
            rec = OP_RECORDS.get(mh["type"], (None, None))[0]
            subs.append((mh["type"], decode_record(rec, r) if rec else {}))
        out["body"] = subs
    elif op in OP_RECORDS and OP_RECORDS[op][0]:
        out["body"] = decode_record(OP_RECORDS[op][0], r)
    r.end()
    return out


# --------------------------------------------------------------------------------------
# Replies

def decode_reply(payload: bytes, op: int | None) -> dict:
    """Decodes a S->C frame (after the handshake). `op` is the opcode of the request the
    reply answers (None if unknown / notification). Returns {"header", "body"?, "kind"}."""
    r = Reader(payload)
    hdr = decode_record("ReplyHeader", r)
    out: dict[str, Any] = {"header": hdr}
    if hdr["xid"] == XID_NOTIFICATION:
        out["kind"] = "notification"
        out["body"] = decode_record("WatcherEvent", r)
    elif hdr["xid"] == XID_PING and op in (None, 11):
        out["kind"] = "ping"
    else:
        out["kind"] = "reply"
        if hdr["err"] != 0 and r.remaining():
            # an error reply must be header-only; keep any stray bytes for comparison
            out["trailing"] = r._take(r.remaining()).hex()
        if hdr["err"] == 0 and op is not None:
            if op in MULTI_OPS:
                out["body"] = decode_multi_response(r)
            else:
                resp = OP_RECORDS.get(op, (None, None))[1]
                if resp:
                    out["body"] = decode_record(resp, r)
    r.end()
    return out


def decode_multi_response(r: Reader) -> list[dict]:
    results = []
    while True:
        mh = decode_record("MultiHeader", r)
        if mh["done"]:
            if mh["type"] != -1 or mh["err"] != -1:
                raise DecodeError(f"bad multi terminator {mh}")
            break
        t = mh["type"]
        res: dict[str, Any] = {"type": t, "err": mh["err"]}
        if t == -1:
            res["body"] = decode_record("ErrorResponse", r)
        elif t in (1, 15):
            res["body"] = decode_record("CreateResponse" if t == 1 else "Create2Response", r)
        elif t in (2, 13):
            pass
        elif t == 5:
            res["body"] = decode_record("StatResponse", r)
        elif t == 8:
            res["body"] = decode_record("GetChildrenResponse", r)
        elif t == 4:
            res["body"] = decode_record("GetDataResponse", r)
        else:
            raise DecodeError(f"unknown multi result type {t}")
        results.append(res)
    return results


# --------------------------------------------------------------------------------------
# Socket client

class EOF(Exception):
    """The server closed the connection."""


class NoFrame(Exception):
    """No (complete) frame arrived within the timeout."""


@dataclass
class Received:
    """One frame as received, in order, with its decoding (or an EOF marker)."""
    raw: bytes | None           # payload without length prefix; None for EOF
    decoded: dict | None
    t: float = field(default_factory=time.monotonic)


class Conn:
    """One TCP connection speaking the client protocol. Records every frame received."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.addr = (host, port)
        self.sock = socket.create_connection(self.addr, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.log: list[Received] = []
        self.next_xid = 1
        self.session_id = 0
        self.passwd = b""
        self.last_zxid = 0
        self.timeout_ms = 0

    # -- framing
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _fill(self, n: int, deadline: float) -> None:
        while len(self.buf) < n:
            if self.eof:
                raise EOF()
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoFrame()
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise NoFrame() from None
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self.eof = True
                raise EOF()
            self.buf += chunk

    def read_payload(self, timeout: float | None = None) -> bytes:
        """Next frame's payload; raises EOF (recorded in the log) or NoFrame."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            self._fill(4, deadline)
            (n,) = struct.unpack(">i", self.buf[:4])
            if n < 0:
                raise DecodeError(f"negative frame length {n}")
            self._fill(4 + n, deadline)
        except EOF:
            if self.buf:
                raise DecodeError(f"EOF inside a frame ({len(self.buf)} bytes pending)")
            self.log.append(Received(None, None))
            raise
        payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return payload

    def wait_eof(self, timeout: float = 5.0) -> bool:
        """True if the server closes the connection (with no further frame) in time."""
        try:
            payload = self.read_payload(timeout)
        except EOF:
            return True
        except NoFrame:
            return False
        raise AssertionError(f"expected EOF, got a frame {payload.hex()}")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- handshake
    def handshake(self, *, session_id: int = 0, passwd: bytes | None = None,
                  timeout_ms: int = 30000, last_zxid: int | None = None,
                  read_only: bool | None = False) -> dict | None:
        """Sends a ConnectRequest and reads the ConnectResponse (None on EOF)."""
        if passwd is None:
            passwd = b"\0" * 16
        lz = self.last_zxid if last_zxid is None else last_zxid
        self.send_frame(encode_connect_request(last_zxid=lz, timeout_ms=timeout_ms,
                                               session_id=session_id, passwd=passwd,
                                               read_only=read_only))
        try:
            payload = self.read_payload()
        except EOF:
            return None
        resp = decode_connect_response(payload)
        self.log.append(Received(payload, {"kind": "connect", "body": resp}))
        if resp["timeOut"] > 0:
            self.session_id = resp["sessionId"]
            self.passwd = resp["passwd"]
            self.timeout_ms = resp["timeOut"]
        return resp

    # -- requests
    def alloc_xid(self) -> int:
        xid = self.next_xid
        self.next_xid += 1
        return xid

    def submit(self, op: int, args: Any = None, xid: int | None = None) -> int:
        if xid is None:
            xid = XID_PING if op == 11 else XID_AUTH if op == 100 else self.alloc_xid()
        self.send_frame(encode_request(xid, op, args))
        return xid

    def read_until_reply(self, xid: int, op: int, timeout: float | None = None
                         ) -> tuple[list[dict], dict | None]:
        """Reads frames until the reply with `xid`. Returns (frames before it, reply);
        reply None means EOF came first (EOF is then the last element of the list as
        {"kind": "eof"})."""
        before: list[dict] = []
        while True:
            try:
                payload = self.read_payload(timeout)
            except EOF:
                before.append({"kind": "eof"})
                return before, None
            hdr_xid = struct.unpack(">i", payload[:4])[0] if len(payload) >= 4 else None
            d = decode_reply(payload, op if hdr_xid == xid else None)
            self.log.append(Received(payload, d))
            z = d["header"]["zxid"]
            if z > self.last_zxid:
                self.last_zxid = z
            if hdr_xid == xid and d["kind"] != "notification":
                return before, d
            before.append(d)

    def call(self, op: int | str, args: Any = None, xid: int | None = None,
             timeout: float | None = None) -> tuple[list[dict], dict | None]:
        if isinstance(op, str):
            op = OP[op]
        xid = self.submit(op, args, xid)
        return self.read_until_reply(xid, op, timeout)

    def ping(self, timeout: float | None = None) -> tuple[list[dict], dict | None]:
        return self.call(11, None, XID_PING, timeout)

    def drain(self, timeout: float = 0.0) -> list[dict]:
        """Frames already received or arriving within `timeout` (notifications)."""
        out = []
        while True:
            try:
                payload = self.read_payload(timeout)
            except NoFrame:
                return out
            except EOF:
                out.append({"kind": "eof"})
                return out
            d = decode_reply(payload, None)
            self.log.append(Received(payload, d))
            out.append(d)


def ruok(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"ruok")
            data = b""
            while True:
                chunk = s.recv(64)
                if not chunk:
                    break
                data += chunk
            return data == b"imok"
    except OSError:
        return False
