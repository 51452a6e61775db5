"""Crash test: a write load from several client threads (raw protocol, one session and
connection each) runs against a server with its own data dir; after a random number of
acknowledged writes the server is killed with SIGKILL, restarted on the same data dir,
and the recovered tree is checked against everything that was acknowledged:

  * every acknowledged create / setData / delete / multi / sequential create is
    present with the acknowledged value and zxid (czxid/mzxid), or superseded by the
    one in-flight request of that client; in-flight multis are all or nothing;
  * no node exists that nobody wrote;
  * the tree is consistent: every listed child exists, numChildren equals the length of
    the children list, cversion - numChildren is even and >= 0 (cversion counts creates
    + deletes), pzxid >= every child's czxid > the parent's czxid;
  * sequential numbering survives: a sequential create after the restart gets a suffix
    greater than every existing one;
  * zxids keep increasing across restarts: the restarted server's zxid is >= every
    acknowledged zxid and a new write gets a larger one.

Repeated for CRASH_CYCLES (default 20) cycles on one data dir, verifying the cumulative
state every time. Per-cycle figures are printed (run pytest with -s to see them).
"""

from __future__ import annotations

import os
import random
import struct
import threading
import time

import pytest

import zkraw
from crash_model import ABSENT, ACKED, INFLIGHT, Model, NodeState, Op
from zkraw import EOF, OPEN_ACL_UNSAFE, Conn, NoFrame
from zkserver import KINDS, Server

CYCLES = int(os.environ.get("CRASH_CYCLES", "20"))
THREADS = 4
SEED = int(os.environ.get("CRASH_SEED", "4242"))
KILL_AFTER_ACKS = (60, 260)          # kill once this many writes were acked in a cycle
LOAD_TIMEOUT_S = 30.0
SESSION_TIMEOUT_MS = 4000
ROOT, SEQ = "/crash", "/crash/seq"
PIPELINE = 256


def thread_dir(k: int) -> str:
    return f"{ROOT}/t{k}"


class Writer(threading.Thread):
    """One client session doing synchronous writes on its own subtree (and sequential
    creates under SEQ) until the server dies or the cycle stops it."""

    def __init__(self, k: int, cycle: int, srv: Server, alive_nodes: list[str],
                 acked_counter: "Counter", rng: random.Random, group_base: int):
        super().__init__(daemon=True, name=f"writer-{k}")
        self.k, self.cycle, self.srv = k, cycle, srv
        self.alive = list(alive_nodes)
        self.counter = acked_counter
        self.rng = rng
        self.ops: list[Op] = []
        self.inflight_seq: bytes | None = None
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.next_group = group_base
        self.n = 0

    def value(self) -> bytes:
        self.n += 1
        tag = f"t{self.k}c{self.cycle}n{self.n}:{self.rng.getrandbits(48):012x}".encode()
        return tag + (b"." * self.rng.choice([0, 0, 0, 100, 1500]))

    def run(self) -> None:
        try:
            c = Conn(self.srv.host, self.srv.port, timeout=10.0)
            resp = c.handshake(timeout_ms=SESSION_TIMEOUT_MS)
            if resp is None or resp["timeOut"] <= 0:
                self.errors.append(f"writer {self.k}: handshake failed {resp}")
                return
        except (OSError, EOF, NoFrame) as e:
            self.errors.append(f"writer {self.k}: connect failed: {e}")
            return
        try:
            while not self.stop.is_set():
                if not self.one(c):
                    return
        finally:
            c.close()

    def one(self, c: Conn) -> bool:
        """One request. Returns False when the connection died (the op is in-flight)."""
        r = self.rng.random()
        mine = thread_dir(self.k)
        if r < 0.35 or not self.alive:
            path = f"{mine}/c{self.cycle}-{self.n}"
            val = self.value()
            ops = [Op("create", path, val, INFLIGHT)]
            req = (1, {"path": path, "data": val, "acl": OPEN_ACL_UNSAFE, "flags": 0})
        elif r < 0.70:
            path = self.rng.choice(self.alive)
            val = self.value()
            ops = [Op("set", path, val, INFLIGHT)]
            req = (5, {"path": path, "data": val, "version": -1})
        elif r < 0.80:
            path = self.alive[self.rng.randrange(len(self.alive))]
            ops = [Op("delete", path, None, INFLIGHT)]
            req = (2, {"path": path, "version": -1})
        elif r < 0.92:
            val = self.value()
            ops = []
            req = (1, {"path": f"{SEQ}/s-", "data": val, "acl": OPEN_ACL_UNSAFE, "flags": 2})
            self.inflight_seq = val
        else:
            path = f"{mine}/m{self.cycle}-{self.n}"
            v1, v2 = self.value(), self.value()
            g = self.next_group
            self.next_group += 1
            ops = [Op("create", path, v1, INFLIGHT, group=g),
                   Op("set", mine, v2, INFLIGHT, group=g)]
            req = (14, [(1, {"path": path, "data": v1, "acl": OPEN_ACL_UNSAFE, "flags": 0}),
                        (5, {"path": mine, "data": v2, "version": -1})])
        self.ops.extend(ops)
        try:
            _, reply = c.call(req[0], req[1], timeout=10.0)
        except (OSError, NoFrame):
            reply = None
        if reply is None:
            return False                      # server gone: ops stay in-flight
        h = reply["header"]
        ok = h["err"] == 0 and (req[0] != 14 or all(x["err"] == 0 for x in reply["body"]))
        if not ok:
            self.errors.append(f"writer {self.k}: {zkraw.OP_NAME[req[0]]} {req[1]!r:.120} "
                               f"failed: {reply}")
            for op in ops:
                self.ops.remove(op)
            self.inflight_seq = None
            return True
        for op in ops:
            op.status, op.zxid = ACKED, h["zxid"]
        if req[0] == 1 and req[1]["flags"] == 2:
            self.ops.append(Op("create", reply["body"]["path"], self.inflight_seq, ACKED,
                               h["zxid"]))
            self.inflight_seq = None
        for op in ops:
            if op.kind == "create" and op.path != mine:
                self.alive.append(op.path)
            elif op.kind == "delete":
                self.alive.remove(op.path)
        self.counter.add(1)
        return True


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.cv = threading.Condition()

    def add(self, k: int) -> None:
        with self.cv:
            self.n += k
            self.cv.notify_all()

    def wait_for(self, target: int, timeout: float) -> bool:
        with self.cv:
            return self.cv.wait_for(lambda: self.n >= target, timeout)


# --------------------------------------------------------------------------------------
# Reading the recovered tree

def pipelined(c: Conn, op: int, args_list: list[dict]) -> list[dict | None]:
    """Sends requests in batches and returns the replies in order (None on EOF)."""
    out: list[dict | None] = []
    for i in range(0, len(args_list), PIPELINE):
        batch = args_list[i:i + PIPELINE]
        xids = []
        data = b""
        for a in batch:
            xid = c.alloc_xid()
            xids.append(xid)
            p = zkraw.encode_request(xid, op, a)
            data += struct.pack(">i", len(p)) + p
        c.send_raw(data)
        for xid in xids:
            _, reply = c.read_until_reply(xid, op, 10.0)
            out.append(reply)
    return out


def read_tree(c: Conn, model_paths: list[str]) -> tuple[dict, dict, list[str]]:
    """Returns (observed states, parent stats/children, consistency problems)."""
    problems: list[str] = []
    parents = [ROOT, SEQ] + [thread_dir(k) for k in range(THREADS)]
    listing = pipelined(c, 12, [{"path": p, "watch": False} for p in parents])
    tree: dict[str, dict] = {}
    found: set[str] = set()
    for p, rep in zip(parents, listing):
        if rep is None or rep["header"]["err"] != 0:
            problems.append(f"getChildren2({p}) failed: {rep}")
            continue
        kids = rep["body"]["children"]
        st = rep["body"]["stat"]
        tree[p] = {"children": kids, "stat": st}
        if st["numChildren"] != len(kids):
            problems.append(f"{p}: numChildren {st['numChildren']} != {len(kids)} children")
        d = st["cversion"] - st["numChildren"]
        if d < 0 or d % 2:
            problems.append(f"{p}: cversion {st['cversion']} inconsistent with "
                            f"numChildren {st['numChildren']} (creates + deletes)")
        for k in kids:
            found.add(f"{p}/{k}")
    expected_root = {"seq"} | {f"t{k}" for k in range(THREADS)}
    if ROOT in tree and set(tree[ROOT]["children"]) != expected_root:
        problems.append(f"{ROOT} children {sorted(tree[ROOT]['children'])}")
    paths = sorted(set(model_paths) | found)
    replies = pipelined(c, 4, [{"path": p, "watch": False} for p in paths])
    observed: dict[str, NodeState] = {}
    stats: dict[str, dict] = {}
    for p, rep in zip(paths, replies):
        if rep is None:
            problems.append(f"getData({p}): connection lost")
            continue
        err = rep["header"]["err"]
        if err == -101:
            observed[p] = ABSENT
            if p in found:
                problems.append(f"{p} is listed by its parent but does not exist")
            continue
        if err != 0:
            problems.append(f"getData({p}) -> {err}")
            continue
        st = rep["body"]["stat"]
        stats[p] = st
        observed[p] = NodeState(True, rep["body"]["data"], st["czxid"], st["mzxid"])
        parent = p.rsplit("/", 1)[0]
        if parent in tree and p not in found:
            problems.append(f"{p} exists but its parent {parent} does not list it")
        if parent in tree:
            pst = tree[parent]["stat"]
            if not (pst["czxid"] < st["czxid"] <= pst["pzxid"]):
                problems.append(f"{p}: czxid {st['czxid']} not in (parent czxid "
                                f"{pst['czxid']}, parent pzxid {pst['pzxid']}]")
        if p not in tree and st["numChildren"] != 0:
            problems.append(f"{p}: numChildren {st['numChildren']} but leaves have none")
    return observed, tree, problems


# --------------------------------------------------------------------------------------

def setup_tree(srv: Server, model: Model) -> int:
    c = Conn(srv.host, srv.port)
    c.handshake(timeout_ms=SESSION_TIMEOUT_MS)
    z = 0
    for p in [ROOT, SEQ] + [thread_dir(k) for k in range(THREADS)]:
        _, rep = c.call("create", {"path": p, "data": b"", "acl": OPEN_ACL_UNSAFE,
                                   "flags": 0})
        assert rep and rep["header"]["err"] == 0, (p, rep)
        z = rep["header"]["zxid"]
        model.record(Op("create", p, b"", ACKED, z))
    c.call("closeSession")
    c.close()
    return z


def run_cycles(kind: str, workdir, cycles: int = CYCLES, sabotage=None) -> list[dict]:
    """`sabotage(srv, model)` runs after each restart, before the checks (self-test)."""
    rng = random.Random(SEED)
    srv = Server(kind, workdir).start()
    model = Model()
    max_zxid = setup_tree(srv, model)
    figures: list[dict] = []
    failures: list[str] = []
    group = 0
    try:
        for cycle in range(1, cycles + 1):
            t0 = time.monotonic()
            target = rng.randint(*KILL_AFTER_ACKS)
            counter = Counter()
            writers = []
            for k in range(THREADS):
                mine = [p for p, h in model.paths.items()
                        if p.startswith(thread_dir(k) + "/") and h.confirmed.exists]
                w = Writer(k, cycle, srv, mine, counter, random.Random(rng.random()),
                           group)
                group += 10_000
                writers.append(w)
            for w in writers:
                w.start()
            reached = counter.wait_for(target, LOAD_TIMEOUT_S)
            srv.kill9()                                   # the crash
            for w in writers:
                w.stop.set()
                w.join(30)
                assert not w.is_alive(), f"writer {w.k} hangs after the kill"
            errors = [e for w in writers for e in w.errors]
            acked_before = max([max_zxid] + [op.zxid for w in writers for op in w.ops
                                             if op.status == ACKED])
            requests = counter.n
            for w in writers:
                for op in w.ops:
                    model.record(op)
                if w.inflight_seq is not None:
                    model.record_inflight_seq(w.inflight_seq)

            srv.start()                                   # same data dir, same port
            if sabotage:
                sabotage(srv, model)
            c = Conn(srv.host, srv.port)
            resp = c.handshake(timeout_ms=SESSION_TIMEOUT_MS)
            assert resp and resp["timeOut"] > 0, f"cycle {cycle}: no session after restart"
            acked = model.acked_pending()
            observed, tree, problems = read_tree(c, list(model.paths))
            verdict = model.verify(observed, SEQ)
            # zxids keep increasing across the restart
            _, sync = c.call("sync", {"path": "/"})
            server_zxid = sync["header"]["zxid"] if sync else -1
            if server_zxid < acked_before:
                problems.append(f"server zxid {server_zxid:#x} after restart < acknowledged "
                                f"zxid {acked_before:#x}")
            _, probe = c.call("setData", {"path": ROOT, "data": f"probe {cycle}".encode(),
                                          "version": -1})
            if not probe or probe["header"]["err"] != 0:
                problems.append(f"probe write failed: {probe}")
                probe_zxid = -1
            else:
                probe_zxid = probe["header"]["zxid"]
                if probe_zxid <= max(acked_before, server_zxid):
                    problems.append(f"new write got zxid {probe_zxid:#x}, not above "
                                    f"{max(acked_before, server_zxid):#x}")
                model.record(Op("set", ROOT, f"probe {cycle}".encode(), ACKED, probe_zxid))
            # sequential numbering continues above every existing suffix
            seqval = f"seq-probe {cycle}".encode()
            _, sp = c.call("create", {"path": f"{SEQ}/s-", "data": seqval,
                                      "acl": OPEN_ACL_UNSAFE, "flags": 2})
            if not sp or sp["header"]["err"] != 0:
                problems.append(f"sequential probe failed: {sp}")
            else:
                suffixes = [int(k[2:]) for k in tree.get(SEQ, {}).get("children", [])]
                got = int(sp["body"]["path"].rsplit("-", 1)[1])
                if suffixes and got <= max(suffixes):
                    problems.append(f"sequential create after restart got {got}, existing "
                                    f"max {max(suffixes)}")
                model.record(Op("create", sp["body"]["path"], seqval, ACKED,
                                sp["header"]["zxid"]))
            c.call("closeSession")
            c.close()
            max_zxid = max(acked_before, server_zxid, probe_zxid)
            fig = {"cycle": cycle, "kill_after": target, "reached": reached,
                   "requests": requests, "acked": acked, "found": verdict.acked_checked,
                   "inflight_applied": verdict.inflight_applied,
                   "inflight_lost": verdict.inflight_not_applied,
                   "losses": len(verdict.losses), "phantoms": len(verdict.phantoms),
                   "zxid": f"{acked_before:#x}->{probe_zxid:#x}",
                   "nodes": sum(1 for s in observed.values() if s.exists),
                   "secs": round(time.monotonic() - t0, 2)}
            figures.append(fig)
            print("cycle {cycle:2d}: kill after {kill_after:3d} acks ({requests} acked "
                  "requests); acked writes {acked:4d}, found {found:4d}; "
                  "in-flight applied {inflight_applied} / "
                  "not {inflight_lost}; losses {losses}, phantoms {phantoms}; "
                  "zxid {zxid}; {nodes} nodes; {secs}s".format(**fig), flush=True)
            for msg in errors + problems + verdict.losses + verdict.phantoms:
                failures.append(f"cycle {cycle}: {msg}")
            if not reached:
                failures.append(f"cycle {cycle}: only {counter.n} of {target} writes acked "
                                f"within {LOAD_TIMEOUT_S}s")
            if failures:
                break
    finally:
        srv.stop()
    if failures:
        raise AssertionError(f"{kind}: {len(failures)} problems:\n" + "\n".join(failures[:50])
                             + f"\n{kind} log tail:\n{srv.log_tail()}")
    return figures


@pytest.mark.parametrize("kind", KINDS)
def test_crash_recovery_keeps_acknowledged_writes(kind, tmp_path):
    print(f"seed {SEED}, {THREADS} writer threads, {CYCLES} cycles")
    figures = run_cycles(kind, tmp_path)
    assert len(figures) == CYCLES
    total_acked = sum(f["acked"] for f in figures)
    assert sum(f["requests"] for f in figures) >= CYCLES * KILL_AFTER_ACKS[0]
    assert all(f["losses"] == 0 and f["phantoms"] == 0 and f["found"] == f["acked"]
               for f in figures), figures
    print(f"{kind}: {CYCLES} kill -9 cycles, {total_acked} acknowledged writes, 0 lost")


def test_crash_checks_detect_a_lost_write(tmp_path):
    """Self-test on ZooKeeper: after the restart one acknowledged create is deleted
    behind the checker's back; the cycle must report it as lost."""
    victims = []

    def sabotage(srv, model):
        path = next(op.path for h in model.paths.values() for op in h.pending
                    if op.status == ACKED and op.kind == "create"
                    and op.path.startswith(thread_dir(0) + "/c")
                    and all(o.kind != "delete" for o in model.paths[op.path].pending))
        c = Conn(srv.host, srv.port)
        c.handshake()
        _, rep = c.call("delete", {"path": path, "version": -1})
        assert rep["header"]["err"] == 0, rep
        c.close()
        victims.append(path)

    with pytest.raises(AssertionError) as e:
        run_cycles("zookeeper", tmp_path, cycles=1, sabotage=sabotage)
    assert victims and f"{victims[0]}: recovered" in str(e.value), str(e.value)[:2000]
