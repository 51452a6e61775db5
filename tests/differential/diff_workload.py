"""The differential workload: hand-written cases for every operation and error path of
wire-protocol.md §3-§10, plus a seeded random section for breadth.

Sessions: A (new-style client; later digest-authenticated as alice), B (old-style 44-byte
ConnectRequest, unauthenticated), C (offers readOnly=true; later bob + super), and
throwaway sessions T*. Every throwaway session is closed explicitly: a session that
expired during the run would consume a zxid at an unpredictable moment.

Tags used by intended_differences.py: multi_create2, toplevel_check, exists_noread,
multiread_write, setwatches, checkwatches_probe.
"""

from __future__ import annotations

import random
import struct

from diff_runner import Step, last_zxid, mark, passwd, sid, wrong_passwd
from zkraw import (CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, acl, digest_id,
                   encode_request)
from zkserver import SUPER_PASSWORD, SUPER_USER

SEED = 20240607
RANDOM_OPS = 260

ALICE = digest_id("alice", "secret")
BOB = digest_id("bob", "pw")
TTL_MAX = (1 << 40) - 1


class W:
    """Workload builder."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def add(self, st: Step) -> Step:
        st.idx = len(self.steps)
        self.steps.append(st)
        return st

    # -- generic
    def req(self, s: str, op: str, args=None, *, xid=None, closes=False, tags=(), note=""):
        return self.add(Step("req", s, op, args, xid=xid, closes=closes, tags=tuple(tags),
                             note=note))

    def connect(self, s: str, note: str = "", **opts):
        return self.add(Step("connect", s, opts=opts, note=note))

    def resume(self, s: str, note: str = "", **opts):
        o = {"sid": sid(s), "passwd": passwd(s), "last_zxid": last_zxid(s)}
        o.update(opts)
        return self.connect(s, note=note or "resume", **o)

    def raw(self, s: str, data: bytes, note: str, **opts):
        opts["data"] = data
        return self.add(Step("raw", s, opts=opts, note=note))

    def drop(self, s: str):
        return self.add(Step("drop", s, note="client drops TCP without closeSession"))

    def mark(self, s: str, name: str):
        return self.add(Step("mark", s, opts={"name": name}))

    # -- ops
    def create(self, s, path, data=b"", acl_=None, flags=0, op="create", ttl=None, **kw):
        args = {"path": path, "data": data,
                "acl": OPEN_ACL_UNSAFE if acl_ is None else acl_, "flags": flags}
        if op == "createTTL":
            args["ttl"] = ttl
        return self.req(s, op, args, **kw)

    def delete(self, s, path, version=-1, **kw):
        return self.req(s, "delete", {"path": path, "version": version}, **kw)

    def set(self, s, path, data, version=-1, **kw):
        return self.req(s, "setData", {"path": path, "data": data, "version": version}, **kw)

    def get(self, s, path, watch=False, **kw):
        return self.req(s, "getData", {"path": path, "watch": watch}, **kw)

    def exists(self, s, path, watch=False, **kw):
        return self.req(s, "exists", {"path": path, "watch": watch}, **kw)

    def children(self, s, path, watch=False, op="getChildren", **kw):
        return self.req(s, op, {"path": path, "watch": watch}, **kw)

    def children2(self, s, path, watch=False, **kw):
        return self.children(s, path, watch, op="getChildren2", **kw)

    def get_acl(self, s, path, **kw):
        return self.req(s, "getACL", {"path": path}, **kw)

    def set_acl(self, s, path, acl_, version=-1, **kw):
        return self.req(s, "setACL", {"path": path, "acl": acl_, "version": version}, **kw)

    def auth(self, s, scheme, data, **kw):
        return self.req(s, "auth", {"type": 0, "scheme": scheme, "auth": data}, **kw)

    def multi(self, s, subops, op="multi", **kw):
        return self.req(s, op, subops, **kw)

    def check_w(self, s, path, typ, **kw):
        return self.req(s, "checkWatches", {"path": path, "type": typ}, **kw)

    def remove_w(self, s, path, typ, **kw):
        return self.req(s, "removeWatches", {"path": path, "type": typ}, **kw)

    def add_w(self, s, path, mode, **kw):
        return self.req(s, "addWatch", {"path": path, "mode": mode}, **kw)

    def close(self, s, **kw):
        return self.req(s, "closeSession", None, closes=True, **kw)


def c_(path, data=b"", flags=0, acl_=None, op="create", ttl=None):
    """A create sub-op for multi."""
    a = {"path": path, "data": data, "acl": OPEN_ACL_UNSAFE if acl_ is None else acl_,
         "flags": flags}
    if op == "createTTL":
        a["ttl"] = ttl
    return (op, a)


def d_(path, version=-1):
    return ("delete", {"path": path, "version": version})


def s_(path, data, version=-1):
    return ("setData", {"path": path, "data": data, "version": version})


def k_(path, version=-1):
    return ("check", {"path": path, "version": version})


def g_(path):
    return ("getData", {"path": path, "watch": False})


def l_(path):
    return ("getChildren", {"path": path, "watch": False})


# --------------------------------------------------------------------------------------

def handshake_and_fresh_tree(w: W) -> None:
    w.connect("A", note="new session, new-style client")
    w.req("A", "sync", {"path": "/"}, note="first reply: zxid base")
    w.connect("B", old_style=True, note="44-byte ConnectRequest -> 36-byte response")
    w.connect("C", read_only=True, note="readOnly offered to a read-write server")
    # timeout negotiation (tickTime 2000 -> [4000, 40000])
    for label, t in (("T1", 1000), ("T2", 100000), ("T3", 4000), ("T4", 40000)):
        w.connect(label, timeout_ms=t)
        w.close(label)
    w.connect("T5", passwd="null", note="null password buffer for a new session")
    w.close("T5")
    w.connect("T6", passwd=b"", note="empty password buffer for a new session")
    w.close("T6")
    w.connect("T7", last_zxid=0x7FFF00000000, note="lastZxidSeen ahead: closed, no response")
    # the fresh tree
    w.get("A", "/")
    w.children2("A", "/")
    w.children2("A", "/zookeeper")
    w.get_acl("A", "/")
    w.get_acl("A", "/zookeeper")
    w.get_acl("A", "/zookeeper/config")
    w.get("A", "/zookeeper/config")
    w.exists("A", "/zookeeper/quota")
    w.get_acl("A", "/zookeeper/quota")
    w.children("A", "/zookeeper/quota")
    w.req("A", "getAllChildrenNumber", {"path": "/"})
    w.req("A", "getAllChildrenNumber", {"path": "/zookeeper"})
    for s in "ABC":
        w.req(s, "whoAmI")
        w.req(s, "getEphemerals", {"path": "/"})
    w.req("A", "ping", None, xid=1234, note="ping with a non -2 xid: reply xid is -2")
    w.req("B", "ping", None)


def creates(w: W) -> None:
    w.create("A", "/d", b"d-root")
    w.create("A", "/d", b"again", note="NodeExists")
    w.create("A", "/d/p", b"p")
    w.create("A", "/d/p2", b"p2", op="create2")
    w.create("A", "/d/e", b"eph-A", flags=1)
    w.create("B", "/d/e2", b"eph-B", flags=1, op="create2")
    w.create("A", "/d/s-", b"s", flags=2)
    w.create("A", "/d/s-", b"s", flags=2)
    w.create("C", "/d/s-", b"s", flags=2, op="create2")
    w.create("B", "/d/es-", b"", flags=3)
    w.create("B", "/d/es-", b"x", flags=3, op="create2")
    w.create("C", "/d/es-", b"c", flags=3, op="create2")
    w.create("A", "/d/ctr", b"", flags=4, op="createContainer")
    w.create("A", "/d/ctr/kid", b"k")
    w.create("A", "/d/ctr0", b"", flags=0, op="createContainer", note="op 19 with flags 0")
    w.exists("A", "/d/ctr")
    w.create("A", "/d/ttl", b"t", flags=5, op="createTTL", ttl=60000)
    w.create("A", "/d/ttls-", b"t", flags=6, op="createTTL", ttl=60000)
    w.create("A", "/d/ttlmax", b"", flags=5, op="createTTL", ttl=TTL_MAX)
    for ttl in (0, -1, TTL_MAX + 1):
        w.create("A", "/d/ttlbad", b"", flags=5, op="createTTL", ttl=ttl, note=f"ttl={ttl}")
    for flags in (0, 1, 2, 3, 4, 7):
        w.create("A", "/d/ttlmode", b"", flags=flags, op="createTTL", ttl=1000,
                 note=f"createTTL with non-TTL flags {flags}")
    for op, flags in (("create", 5), ("create2", 6), ("create", 7), ("create", -1),
                      ("create", 8), ("create2", 0x100)):
        w.create("A", "/d/badmode", b"", flags=flags, op=op, note=f"flags {flags}")
    w.create("A", "/d/null", None, note="null data buffer")
    w.get("A", "/d/null")
    w.create("A", "/d/empty", b"")
    w.get("A", "/d/empty")
    w.create("A", "/d/big", bytes(range(256)) * 800)
    w.get("A", "/d/big")
    w.create("A", "/d/e/kid", b"", note="child of an ephemeral")
    w.create("A", "/d/e/kid-", b"", flags=2, note="sequential child of an ephemeral")
    w.create("A", "/d/nope/x", b"", note="parent missing")
    w.create("A", "/d/", b"", flags=2, note="sequential create of '/d/' is valid")
    w.create("A", "/d/.", b"", flags=2, note="sequential create of '/d/.' is valid")
    w.create("A", "/rootseq-", b"", flags=2, note="root's sequence counter")
    w.create("A", "/rootseq-", b"", flags=3)
    w.create("A", "/", b"", note="create '/'")
    w.create("A", "", b"", note="empty path")
    w.create("A", None, b"", note="null path")
    w.create("A", "/d/nullacl", b"", acl_=None, note="OPEN acl (control)")
    w.req("A", "create", {"path": "/d/vnull", "data": b"", "acl": None, "flags": 0},
          note="null ACL vector")
    w.exists("A", "/d")
    w.children2("A", "/d")
    w.children("A", "/")
    w.get("A", "/d/p2")
    w.get("A", "/d/ttl")
    w.get("A", "/d/ctr")
    w.req("A", "getAllChildrenNumber", {"path": "/d"})
    w.req("A", "getAllChildrenNumber", {"path": "/d/missing"})
    for s in "ABC":
        w.req(s, "getEphemerals", {"path": "/"})
    w.req("B", "getEphemerals", {"path": "/d/es"})
    w.req("B", "getEphemerals", {"path": "/d/e"}, note="plain prefix, not component aware")
    w.req("B", "getEphemerals", {"path": ""})
    w.req("B", "getEphemerals", {"path": None})
    w.req("B", "getEphemerals", {"path": "/nothing"})
    w.req("B", "getEphemerals", {"path": "  "})


def reads_writes_watches(w: W) -> None:
    w.get("B", "/d/p", watch=True)
    w.set("A", "/d/p", b"p1", note="fires NodeDataChanged at B")
    w.set("A", "/d/p", b"p2", note="one-shot: no second event")
    w.exists("B", "/d/new", watch=True)
    w.create("A", "/d/new", b"n", note="fires NodeCreated at B")
    w.children("C", "/d", watch=True)
    w.create("A", "/d/c1", b"", note="fires NodeChildrenChanged(/d) at C")
    w.children2("C", "/d/p", watch=True)
    w.create("A", "/d/p/x", b"")
    w.get("B", "/d/nope", watch=True, note="NoNode: no watch registered")
    w.create("A", "/d/nope", b"")
    w.children("B", "/d/nope2", watch=True, note="NoNode: no watch registered")
    w.create("A", "/d/nope2", b"")
    w.exists("B", "/d/nope2/q", watch=True)
    w.exists("C", "/d/nope2/q", watch=True)
    w.create("A", "/d/nope2/q", b"", note="NodeCreated to B and C")
    # versions
    w.set("A", "/d/p", b"v", version=0, note="BadVersion")
    w.set("A", "/d/p", b"v", version=2)
    w.set("A", "/d/p", b"v", version=5)
    w.set("A", "/d/p", b"v", version=3)
    w.set("A", "/d/missing", b"v", note="NoNode")
    w.set("A", "/d/missing", b"v", version=7)
    w.set("A", "/d/p", None, note="null data")
    w.get("A", "/d/p")
    w.set("A", "/d/p", b"")
    w.get("A", "/d/p")
    w.exists("A", "/d/p")
    # own watch fires before own reply
    w.get("A", "/d/p", watch=True)
    w.set("A", "/d/p", b"mine", note="A's notification precedes A's reply")
    # several watches of one connection on a deleted node -> one NodeDeleted
    w.get("A", "/d/p", watch=True)
    w.children("A", "/d/p", watch=True)
    w.exists("A", "/d/p", watch=True)
    w.get("B", "/d/p", watch=True)
    w.children("C", "/d", watch=True)
    w.delete("C", "/d/p", note="NotEmpty")
    w.delete("C", "/d/p/x", note="fires NodeChildrenChanged(/d/p) at A")
    w.delete("C", "/d/p", note="NodeDeleted once per connection")
    w.exists("A", "/d/p")
    w.exists("A", "/d/gone", watch=True)
    w.create("B", "/d/gone", b"")
    w.delete("B", "/d/gone")
    w.exists("A", "/d/gone", watch=True)
    w.create("B", "/d/gone", b"", flags=1, note="ephemeral of B")


def deletes(w: W) -> None:
    w.delete("A", "/d", note="NotEmpty")
    w.delete("A", "/d/p2", version=3, note="BadVersion")
    w.delete("A", "/d/p2", version=0)
    w.delete("A", "/d/p2", note="NoNode")
    w.delete("A", "/d/p2", version=5, note="NoNode before version")
    for p in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        w.delete("A", p, note="reserved")
    w.create("A", "/zookeeper/x", b"")
    w.delete("A", "/zookeeper/x")
    w.create("A", "/zookeeper/quota/x", b"")
    w.delete("A", "/zookeeper/quota/x")
    w.create("A", "/zookeeper/config/x", b"", note="config is READ-only")
    w.set("A", "/zookeeper/config", b"x")
    w.set("A", "/zookeeper", b"zk", note="allowed by the ACL")
    w.get("A", "/zookeeper")
    w.delete("A", "/d/es-0000000007", note="delete another session's ephemeral")
    w.req("B", "getEphemerals", {"path": "/"})
    w.delete("A", "/nope/x")
    w.delete("A", "/d/", note="trailing slash")
    w.delete("A", "d", note="no leading slash")
    w.delete("A", "", note="empty path")
    w.delete("A", "/d/ctr", note="NotEmpty container")


def acls(w: W) -> None:
    w.req("A", "whoAmI")
    w.auth("A", "digest", b"alice:secret")
    w.req("A", "whoAmI")
    w.create("A", "/acl", b"a")
    w.create("A", "/acl/creator", b"c", acl_=CREATOR_ALL_ACL)
    w.get_acl("A", "/acl/creator")
    w.create("B", "/acl/unauth", b"", acl_=CREATOR_ALL_ACL, note="auth ACL, no identity")
    w.create("A", "/acl/mixed", b"m", acl_=[acl(1, "world", "anyone"), acl(31, "digest", ALICE)])
    w.get_acl("B", "/acl/mixed", note="no ADMIN: digest masked")
    w.get_acl("A", "/acl/mixed", note="ADMIN: unmasked")
    w.get("B", "/acl/creator")
    w.get_acl("B", "/acl/creator")
    w.exists("B", "/acl/creator", tags=("exists_noread",), note="no READ")
    w.children("B", "/acl/creator")
    w.children2("B", "/acl/creator")
    w.set("B", "/acl/creator", b"x")
    w.create("A", "/acl/creator/kid", b"", note="alice may create")
    w.delete("B", "/acl/creator/kid", note="DELETE is checked on the parent")
    w.create("B", "/acl/creator/kid2", b"")
    w.get_acl("A", "/acl/creator/kid")
    w.req("B", "getAllChildrenNumber", {"path": "/acl/creator"})
    w.req("B", "sync", {"path": "/acl/creator"})
    w.set_acl("B", "/acl/mixed", OPEN_ACL_UNSAFE, note="no ADMIN")
    w.set_acl("A", "/acl/mixed", OPEN_ACL_UNSAFE, version=3, note="BadVersion")
    w.set_acl("A", "/acl/mixed", [acl(1, "world", "anyone"), acl(31, "digest", ALICE)],
              version=0)
    w.set_acl("A", "/acl/mixed", OPEN_ACL_UNSAFE + [acl(31, "digest", ALICE)], version=1)
    w.get_acl("A", "/acl/mixed")
    w.set_acl("A", "/acl/missing", OPEN_ACL_UNSAFE, note="NoNode")
    w.set_acl("A", "/acl/missing", [], note="InvalidACL before NoNode?")
    w.create("A", "/acl/ro", b"r", acl_=READ_ACL_UNSAFE)
    w.set("B", "/acl/ro", b"w")
    w.create("B", "/acl/ro/kid", b"")
    w.set_acl("A", "/acl/ro", OPEN_ACL_UNSAFE, note="no ADMIN even for the creator")
    w.get("B", "/acl/ro")
    w.create("A", "/acl/nodel", b"", acl_=[acl(1 | 4, "world", "anyone")])
    w.create("A", "/acl/nodel/kid", b"", note="CREATE granted")
    w.delete("A", "/acl/nodel/kid", note="DELETE not granted on parent")
    w.create("A", "/acl/zero", b"z", acl_=[acl(0, "world", "anyone")])
    w.get("A", "/acl/zero")
    w.create("A", "/acl/p63", b"", acl_=[acl(63, "world", "anyone")])
    w.get_acl("A", "/acl/p63")
    w.create("A", "/acl/dup", b"", acl_=OPEN_ACL_UNSAFE * 2)
    w.get_acl("A", "/acl/dup")
    invalid = [
        ("empty", []), ("null", None), ("world:foo", [acl(31, "world", "foo")]),
        ("digest nocolon", [acl(31, "digest", "nocolon")]),
        ("digest a:b:c", [acl(31, "digest", "a:b:c")]),
        ("unknown scheme", [acl(31, "nosuch", "x")]),
        ("ip notanip", [acl(31, "ip", "notanip")]),
        ("ip /33", [acl(31, "ip", "1.2.3.4/33")]),
        ("auth:foo", [acl(31, "auth", "foo")]),
        ("super:x", [acl(31, "super", "x")]),
        ("one good one bad", [acl(31, "world", "anyone"), acl(31, "world", "x")]),
    ]
    for name, a in invalid:
        w.req("A", "create", {"path": "/acl/inv", "data": b"", "acl": a, "flags": 0},
              note=f"invalid ACL {name}")
    for name, a in invalid[:4]:
        w.set_acl("A", "/acl/mixed", a, note=f"invalid ACL {name}")
    w.create("A", "/acl/nosuchparent/x", b"", acl_=[], note="InvalidACL before NoNode")
    # ip ACLs
    w.create("A", "/acl/ip127", b"i", acl_=[acl(31, "ip", "127.0.0.0/8")])
    w.create("A", "/acl/ip10", b"i", acl_=[acl(31, "ip", "10.0.0.0/8")])
    w.create("A", "/acl/ipexact", b"i", acl_=[acl(1, "ip", "127.0.0.1")])
    w.create("A", "/acl/ipv6", b"i", acl_=[acl(31, "ip", "::1/128")])
    for p in ("/acl/ip127", "/acl/ip10", "/acl/ipexact"):
        w.get("B", p)
        w.set("B", p, b"j")
    w.get_acl("B", "/acl/ip127")
    # more identities
    w.auth("C", "digest", b"bob:pw")
    w.req("C", "whoAmI")
    w.get("C", "/acl/creator", note="bob has no access")
    w.create("C", "/acl/bob", b"", acl_=CREATOR_ALL_ACL)
    w.get_acl("C", "/acl/bob")
    w.auth("A", "digest", b"bob:pw", note="second identity on A")
    w.req("A", "whoAmI")
    w.create("A", "/acl/both", b"", acl_=CREATOR_ALL_ACL, note="expands to alice and bob")
    w.get_acl("A", "/acl/both")
    w.get("A", "/acl/bob")
    w.auth("C", "digest", f"{SUPER_USER}:{SUPER_PASSWORD}".encode(), note="super digest")
    w.req("C", "whoAmI")
    w.get("C", "/acl/creator", note="super bypasses ACLs")
    w.get_acl("C", "/acl/mixed", note="super sees unmasked")
    w.get("C", "/acl/zero")
    w.set_acl("C", "/acl/ro", OPEN_ACL_UNSAFE)
    w.delete("C", "/acl/nodel/kid")
    w.set("A", "/acl/ro", b"now writable")


def multis(w: W) -> None:
    w.create("A", "/m", b"m")
    w.get("B", "/m", watch=True)
    w.children("C", "/m", watch=True)
    w.multi("A", [c_("/m/a", b"1"), c_("/m/b", b"2", op="create2"), s_("/m", b"m1"),
                  k_("/m", 1), d_("/m/a"), c_("/m/ctr", op="createContainer", flags=4),
                  c_("/m/ttl", op="createTTL", flags=5, ttl=60000), c_("/m/q-", flags=2),
                  c_("/m/e", flags=1)],
            tags=("multi_create2",), note="all kinds succeed; events to B and C")
    w.children2("A", "/m")
    w.get("A", "/m")
    w.get("B", "/m", watch=True)
    w.children("C", "/m", watch=True)
    w.multi("A", [s_("/m", b"no"), k_("/m", 0)], note="check fails after setData")
    w.multi("A", [k_("/m", 0), s_("/m", b"no")], note="first op fails")
    w.multi("A", [c_("/m/z"), c_("/m/z")], note="second create NodeExists")
    w.multi("A", [c_("/m/z"), d_("/m/nope"), s_("/m", b"no")], note="middle fails")
    w.multi("A", [c_("/m/z"), s_("/m", b"no", 9)], note="last fails BadVersion")
    w.multi("A", [c_("/m/z"), c_("/m/bad/")], note="bad path sub-op")
    w.multi("A", [c_("/m/z"), c_("/m/inv", acl_=[])], note="invalid ACL sub-op")
    w.multi("A", [c_("/m/z"), s_("/acl/creator", b"x")], note="NoAuth? A is alice")
    w.multi("B", [c_("/m/z"), s_("/acl/creator", b"x")], note="NoAuth sub-op")
    w.multi("A", [c_("/m/z"), c_("/m/t0", op="createTTL", flags=5, ttl=0)], note="bad TTL")
    w.multi("A", [c_("/m/z"), k_("/m/missing")], note="check NoNode")
    w.multi("A", [c_("/m/z"), d_("/m")], note="delete NotEmpty")
    w.exists("A", "/m/z", note="atomicity: nothing applied")
    w.get("A", "/m")
    w.multi("A", [d_("/m/b"), c_("/m/b", b"again")], note="delete then create")
    w.multi("B", [c_("/m/be", flags=1), s_("/m/be", b"x"), k_("/m/be", 1)])
    w.req("B", "getEphemerals", {"path": "/m"})
    w.multi("A", [], note="empty multi")
    w.multi("A", [], op="multiRead", note="empty multiRead")
    w.multi("A", [g_("/m"), c_("/m/mix")], note="read op in multi: -5")
    w.multi("A", [g_("/m")], note="only a read op in multi: -5")
    w.multi("A", [c_("/m/mix")], op="multiRead", tags=("multiread_write",),
            note="write op in multiRead")
    w.multi("A", [g_("/m"), s_("/m", b"x")], op="multiRead", note="write op in multiRead")
    w.multi("A", [l_("/m"), g_("/m"), g_("/m/absent"), l_("/m/absent"), g_("/acl/zero"),
                  g_("/m/b"), l_("/")], op="multiRead")
    w.multi("B", [g_("/acl/creator"), l_("/acl/creator"), g_("/m")], op="multiRead",
            note="NoAuth entries")
    w.multi("A", [c_("/m/sq-", flags=2), c_("/m/sq-", flags=2), c_("/m/sq-", flags=3)])
    w.multi("A", [k_("/m", -1), k_("/m/b", 0)], note="checks only")
    w.multi("A", [s_("/m/b", b"x", 0), s_("/m/b", b"y", 1), k_("/m/b", 2)],
            note="versions seen within the multi")
    w.children2("A", "/m")


def misc(w: W) -> None:
    for p in ("/d", "/missing", "/"):
        w.req("A", "sync", {"path": p})
    w.req("A", "getAllChildrenNumber", {"path": "/"})
    w.req("A", "reconfig", {"joiningServers": "", "leavingServers": "", "newMembers": "",
                            "curConfigId": -1}, note="reconfig disabled")
    w.req("A", "reconfig", {"joiningServers": None, "leavingServers": None,
                            "newMembers": "server.2=127.0.0.1:1:2", "curConfigId": 5})
    w.get("A", "/d/new", xid=500, note="duplicate xid #1")
    w.get("A", "/d/new", xid=500, note="duplicate xid #2")
    # malformed bodies: -5 and the connection stays open
    hdr = struct.pack(">ii", 900, 4)
    w.raw("A", struct.pack(">i", 8 + 7) + hdr + struct.pack(">i", 10) + b"/ab",
          "getData with a truncated path", xid=900, op="getData")
    hdr = struct.pack(">ii", 901, 1)
    w.raw("A", struct.pack(">i", 8 + 6) + hdr + struct.pack(">i", 2) + b"/q",
          "create with a truncated body", xid=901, op="create")
    w.raw("A", struct.pack(">i", 9) + struct.pack(">ii", 902, 3) + b"\x00",
          "exists with a 1-byte body", xid=902, op="exists")
    w.add_w("A", "/d", 2, note="bad addWatch mode")
    w.check_w("A", "/d", 0, note="bad watcher type")
    w.remove_w("A", "/d", 9, note="bad watcher type")
    w.req("A", "getData", {"path": None, "watch": False}, note="null path")
    w.get("A", "/d/big")
    # a frame of exactly jute.maxbuffer bytes is accepted
    big = b"Q" * (1048575 - (8 + 4 + len("/d/big") + 4 + 4))
    w.set("A", "/d/big", big, note="payload of exactly 1048575 bytes")
    w.exists("A", "/d/big")


BAD_PATHS = [
    "/bad/", "/bad/.", "/bad/..", "/bad/./x", "/bad/../x", "/bad//x", "/bad/a\x01b",
    "/bad/a\x1fb", "/bad/a\x7fb", "/bad/a\x85b", "/bad/a\x9fb", "/bad/a\x00b",
    "/bad/smile\U0001f600", "/bad/p\ue000", "/bad/p\uf8ff", "/bad/p\ufff0", "/bad/p\uffff",
    "/bad/p\ud7ff\ufffe", b"/bad/cesu\xed\xa0\xbd\xed\xb8\x80", b"/bad/invalid\xff",
    "bad", "bad/x", "//", "/bad/.x/..",
]
GOOD_PATHS = ["/bad/caf\u00e9", "/bad/\u00a0", "/bad/\ud7ff", "/bad/\uf900", "/bad/\uffef",
              "/bad/...", "/bad/.a", "/bad/a.", "/bad/a b", "/bad/-", "/bad/\u4e2d\u6587"]


def paths(w: W) -> None:
    w.create("A", "/bad", b"")
    for p in BAD_PATHS + GOOD_PATHS:
        w.create("A", p, b"", note="path validation")
    for p in BAD_PATHS[:12] + ["bad"]:
        w.create("A", p, b"", flags=2, note="sequential create of a bad path")
    for p in BAD_PATHS + GOOD_PATHS[:3]:
        w.set("A", p, b"x", note="setData path validation")
        w.delete("A", p, note="delete path validation")
        w.exists("A", p)
        w.get("A", p)
    for p in BAD_PATHS[:12]:
        w.children("A", p)
        w.set_acl("A", p, OPEN_ACL_UNSAFE)
    w.children2("A", "/bad")


def watches(w: W) -> None:
    w.create("A", "/w", b"")
    w.create("A", "/w/a", b"")
    w.create("A", "/w/a/b", b"")
    w.add_w("B", "/w", 0, note="PERSISTENT")
    w.add_w("C", "/w", 1, note="PERSISTENT_RECURSIVE")
    w.create("A", "/w/c", b"")
    w.set("A", "/w", b"1")
    w.set("A", "/w/a/b", b"1")
    w.create("A", "/w/a/b/c", b"")
    w.set("A", "/w/a/b/c", b"1")
    w.delete("A", "/w/a/b/c")
    w.multi("A", [c_("/w/x"), s_("/w/a", b"m"), d_("/w/x")])
    w.create("A", "/w/e-", b"", flags=3)
    w.check_w("B", "/w", 3)
    w.check_w("C", "/w", 3)
    w.remove_w("B", "/w", 3)
    w.set("A", "/w", b"2", note="only C's recursive watch fires")
    w.remove_w("C", "/w", 3)
    w.remove_w("C", "/w", 3, note="NoWatcher")
    w.set("A", "/w", b"3", note="no watches left")
    # standard watches and check/remove by type
    w.get("B", "/w/a", watch=True)
    w.check_w("B", "/w/a", 2)
    w.check_w("B", "/w/a", 1, note="no child watch")
    w.children("B", "/w/a", watch=True)
    w.check_w("B", "/w/a", 1)
    w.remove_w("B", "/w/a", 2)
    w.set("A", "/w/a", b"no event")
    w.create("A", "/w/a/z", b"", note="child watch still fires")
    w.exists("B", "/w/ghost", watch=True)
    w.check_w("B", "/w/ghost", 2, note="an exist watch is a data watch")
    w.remove_w("B", "/w/ghost", 1)
    w.remove_w("B", "/w/ghost", 2)
    w.create("A", "/w/ghost", b"", note="removed: no event")
    w.check_w("B", "/w/none", 3)
    w.check_w("A", "/w", 3)
    w.children("B", "/w", watch=True)
    w.get("B", "/w", watch=True)
    w.remove_w("B", "/w", 3, note="removes both")
    w.set("A", "/w", b"4")
    # persistent watch on a path that does not exist yet
    w.add_w("B", "/w/future", 0)
    w.create("A", "/w/future", b"")
    w.create("A", "/w/future/k", b"")
    w.set("A", "/w/future", b"1")
    w.delete("A", "/w/future/k")
    w.delete("A", "/w/future")
    w.remove_w("B", "/w/future", 3)
    w.add_w("C", "/w/a", 1)
    w.create("A", "/w/a/deep", b"")
    w.create("A", "/w/a/deep/er", b"")
    w.set("A", "/w/a/deep/er", b"x")
    w.delete("A", "/w/a/deep/er")
    w.remove_w("C", "/w/a", 3)


def setwatches(w: W) -> None:
    """Resume B on a new socket (old one is kicked), then SetWatches / SetWatches2."""
    w.create("A", "/sw", b"")
    w.create("A", "/sw/data", b"")
    w.create("A", "/sw/stale", b"")
    w.create("A", "/sw/kids", b"")
    w.create("A", "/sw/kids/k0", b"")
    w.create("A", "/sw/gone", b"")
    w.mark("B", "m0")
    w.set("A", "/sw/data", b"changed after m0")
    w.create("A", "/sw/kids/k1", b"")
    w.delete("A", "/sw/gone")
    w.resume("B", note="resume while the old connection is open: old one is closed")
    w.req("B", "whoAmI", note="auth is per connection")
    w.req("B", "getEphemerals", {"path": "/"}, note="ephemerals survive the resume")
    w.req("B", "setWatches", {
        "relativeZxid": mark("m0"),
        "dataWatches": ["/sw/data", "/sw/stale", "/sw/gone", "/sw/missing"],
        "existWatches": ["/sw/data", "/sw/later", "/sw/gone"],
        "childWatches": ["/sw/kids", "/sw", "/sw/stale", "/sw/gone"]},
        xid=-8, tags=("setwatches",), note="relativeZxid = before the changes")
    w.set("A", "/sw/stale", b"fires the registered data watch")
    w.create("A", "/sw/later", b"", note="fires the registered exist watch")
    w.create("A", "/sw/stale/c", b"", note="fires the registered child watch")
    w.req("B", "setWatches", {
        "relativeZxid": last_zxid("B"), "dataWatches": ["/sw/data"], "existWatches": [],
        "childWatches": ["/sw/kids"]}, xid=-8, tags=("setwatches",),
        note="relativeZxid = current: nothing fires")
    w.set("A", "/sw/data", b"now")
    w.create("A", "/sw/kids/k2", b"")
    w.req("B", "setWatches", {"relativeZxid": 0, "dataWatches": [], "existWatches": [],
                              "childWatches": []}, tags=("setwatches",), note="empty lists")
    w.req("B", "setWatches2", {
        "relativeZxid": last_zxid("B"), "dataWatches": ["/sw/data"], "existWatches": [],
        "childWatches": [], "persistentWatches": ["/sw/p"],
        "persistentRecursiveWatches": ["/sw/r"]}, xid=-8, tags=("setwatches",))
    w.create("A", "/sw/p", b"")
    w.create("A", "/sw/p/c", b"")
    w.create("A", "/sw/r", b"")
    w.create("A", "/sw/r/c", b"")
    w.set("A", "/sw/r/c", b"x")
    w.set("A", "/sw/data", b"again")
    w.remove_w("B", "/sw/p", 3)
    w.remove_w("B", "/sw/r", 3)
    w.req("B", "setWatches2", {
        "relativeZxid": 0, "dataWatches": ["/sw/data"], "existWatches": ["/sw/nothing"],
        "childWatches": ["/sw/kids"], "persistentWatches": [],
        "persistentRecursiveWatches": []}, tags=("setwatches",), note="relativeZxid 0")
    # C: resume with a wrong password kicks the live connection too
    w.connect("C", sid=sid("C"), passwd=wrong_passwd("C"), note="wrong password")
    w.resume("C", note="resume after the kick, same password")
    w.req("C", "getEphemerals", {"path": "/"})
    w.req("C", "whoAmI")
    w.drop("C")
    w.set("A", "/sw/data", b"while C is away")
    w.resume("C", old_style=True, note="old-style resume")
    w.get("C", "/sw/data")


def random_section(w: W, seed: int, n: int) -> None:
    rng = random.Random(seed)
    w.create("A", "/r", b"")
    for p in ("/r/a", "/r/b", "/r/a/x"):
        w.create("A", p, b"base")
    nodes = ["/r/a", "/r/b", "/r/c", "/r/a/x", "/r/a/y", "/r/b/z", "/r/a/x/q"]
    seqp = ["/r/a/s-", "/r/b/t-"]
    sessions = ["A", "A", "B", "C"]

    def data() -> bytes | None:
        k = rng.randrange(6)
        return None if k == 0 else rng.randbytes(rng.randrange(0, 40))

    def version() -> int:
        return rng.choice([-1, -1, 0, 0, 1, 2, 3])

    def rnd_sub() -> tuple:
        k = rng.randrange(4)
        p = rng.choice(nodes)
        if k == 0:
            return c_(rng.choice(nodes + seqp), data() or b"", rng.choice([0, 0, 1, 2, 3]))
        if k == 1:
            return d_(p, version())
        if k == 2:
            return s_(p, data(), version())
        return k_(p, version())

    for _ in range(n):
        s = rng.choice(sessions)
        k = rng.randrange(100)
        p = rng.choice(nodes)
        if k < 18:
            op = rng.choice(["create", "create", "create2"])
            w.create(s, rng.choice(nodes + seqp), data(), flags=rng.choice([0, 0, 1, 2, 3]),
                     op=op)
        elif k < 28:
            w.delete(s, p, version())
        elif k < 40:
            w.set(s, p, data(), version())
        elif k < 50:
            w.get(s, p, watch=rng.random() < 0.5)
        elif k < 58:
            w.exists(s, p, watch=rng.random() < 0.5)
        elif k < 66:
            w.children(s, rng.choice(nodes + ["/r"]), watch=rng.random() < 0.5,
                       op=rng.choice(["getChildren", "getChildren2"]))
        elif k < 76:
            subs = [rnd_sub() for _ in range(rng.randrange(1, 5))]
            w.multi(s, subs)
        elif k < 81:
            w.multi(s, [rng.choice([g_, l_])(rng.choice(nodes + ["/r"]))
                        for _ in range(rng.randrange(1, 4))], op="multiRead")
        elif k < 84:
            w.req(s, "getAllChildrenNumber", {"path": rng.choice(nodes + ["/r"])})
        elif k < 86:
            w.req(s, "sync", {"path": p})
        elif k < 89:
            w.set_acl(s, p, OPEN_ACL_UNSAFE, rng.choice([-1, 0, 1]))
        elif k < 91:
            w.get_acl(s, p)
        elif k < 95:
            t = rng.choice([1, 2, 3])
            w.check_w(s, p, t, tags=("checkwatches_probe",))
            w.remove_w(s, p, t, note="tells whether the checkWatches caller had the watch")
        elif k < 98:
            w.remove_w(s, p, rng.choice([1, 2, 3]))
        else:
            w.req(s, "getEphemerals", {"path": rng.choice(["/", "/r", "/r/a"])})
    for p in ["/r"] + nodes[:3]:
        w.children2("A", p)


def closing(w: W) -> None:
    # watchers on B's ephemerals, then B closes its session
    w.exists("A", "/d/gone", watch=True)
    w.children("A", "/d", watch=True)
    w.get("C", "/d/e2", watch=True)
    w.children("C", "/m", watch=True)
    w.close("B", note="ephemerals of B deleted: events to A and C")
    w.children("A", "/d")
    w.connect("B", sid=sid("B"), passwd=passwd("B"), note="resume a closed session")
    # unknown opcode on a throwaway session, which is then resumed and closed
    w.connect("T8")
    w.req("T8", 99, None, closes=True, note="unknown opcode: -6 then close")
    w.resume("T8")
    w.close("T8")
    # auth with an unknown scheme: -115 then close
    w.connect("T9")
    w.auth("T9", "nosuch", b"x", closes=True)
    w.resume("T9")
    w.close("T9")
    # oversize frame: connection dropped, session kept
    w.connect("T10")
    w.create("T10", "/d/t10", b"", flags=1)
    w.raw("T10", struct.pack(">i", 0x00100000) + b"\0" * 64, "length prefix 1048576",
          expect="eof")
    w.resume("T10")
    w.req("T10", "getEphemerals", {"path": "/"})
    w.close("T10")
    w.connect("T11")
    w.raw("T11", struct.pack(">i", -5), "negative length prefix", expect="eof")
    w.resume("T11")
    w.close("T11")
    # request before ConnectRequest
    w.add(Step("connect_raw", "T12", opts={"data": struct.pack(">i", 8) +
                                           encode_request(-2, 11)},
               note="ping as the first frame: closed"))
    w.req("C", "getEphemerals", {"path": "/"})
    w.close("C")
    w.close("A")
    # last: top-level check (3.8.0: no reply, consumes a zxid; 3.8.5+/3.9.3+: -6 + close)
    w.connect("T13")
    w.add(Step("fire", "T13", "check", {"path": "/", "version": -1},
               tags=("toplevel_check",), note="top-level check"))


def build(seed: int = SEED, random_ops: int = RANDOM_OPS) -> list[Step]:
    w = W()
    handshake_and_fresh_tree(w)
    creates(w)
    reads_writes_watches(w)
    deletes(w)
    acls(w)
    multis(w)
    misc(w)
    paths(w)
    watches(w)
    setwatches(w)
    random_section(w, seed, random_ops)
    closing(w)
    return w.steps


def count_ops(steps: list[Step]) -> int:
    return sum(1 for s in steps if s.sends)
