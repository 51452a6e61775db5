"""Real faults under a real ensemble: a 3-member ensemble of corral or Apache ZooKeeper 3.8,
each member a process in its own network namespace, while client threads record a
history that ``corral-sim check-history`` checks for linearizability.

Each of ``PARTITION_CYCLES`` (20) fault cycles, drawn from the seed: inject one
fault, let the clients work 1-3 s (2-2.8 s for a pause), heal it, wait until every
member serves again.
The faults, in equal numbers and shuffled:

* ``isolate-peers`` -- a member (often the leader) cut off from the other members,
  its clients still reaching it;
* ``isolate-full``  -- a member cut off from everyone, clients included;
* ``pause``         -- SIGSTOP, then SIGCONT;
* ``kill``          -- kill -9, then a restart on the same data.

Afterwards a write must succeed, every member (read directly) must hold the same
data, and the history must be linearizable. corral must show no anomaly.
ZooKeeper's sync + read is not linearizable: a sync answered by the leader itself
waits for no quorum and no commit, so a leader resumed after a pause, already
replaced, answers from its own state for a moment, and a leader that has not yet
applied a write its followers already acknowledged answers without it. Its
anomalies are reported, not failed on, but it must converge.

``PARTITION_SEED`` replays a schedule (printed at the start and in the report).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

import checker
from members import Ensemble
from netns import Network
from workload import KEYS, ROOT, Client, History, OpRunner, close, connect

CYCLES = int(os.environ.get("PARTITION_CYCLES", "20"))
CLIENTS = 6
FAULTS = ("isolate-peers", "isolate-full", "pause", "kill")
AT_LEADER = 0.7  # chance that a fault hits the leader rather than a follower
HOLD_S = (1.0, 3.0)
# A pause must outlast the failover (about 1.5 s for ZooKeeper at tickTime 200 ms,
# syncLimit 5) to depose the leader, and end before kazoo gives up on the paused
# member's connections (about 2/3 of the 4 s session), so that the clients still
# connected to it talk to a deposed leader when it resumes.
PAUSE_HOLD_S = (2.0, 2.8)
SETTLE_S = 0.5  # clients work on a healthy ensemble between faults
SETTLE_TIMEOUT_S = 40.0
FINAL_TIMEOUT_S = 30.0
STALE_SHOWN = 5  # stale reads described in the report


@dataclass
class Fault:
    kind: str
    at_leader: bool
    follower_pick: float  # which follower, when not the leader
    hold_s: float


def schedule(rng: random.Random, cycles: int) -> list[Fault]:
    kinds = [FAULTS[i % len(FAULTS)] for i in range(cycles)]
    rng.shuffle(kinds)
    faults = []
    for kind in kinds:
        hold = rng.uniform(*(PAUSE_HOLD_S if kind == "pause" else HOLD_S))
        faults.append(Fault(kind, rng.random() < AT_LEADER, rng.random(), round(hold, 2)))
    return faults


def seed() -> str:
    return os.environ.get("PARTITION_SEED") or str(random.SystemRandom().randrange(10**9))


class FaultRunner:
    """Injects and heals one :class:`Fault` at a time, and keeps the timeline."""

    def __init__(self, ensemble: Ensemble, net: Network):
        self.ensemble = ensemble
        self.net = net
        self.counts: Counter = Counter()
        #: (start ns, end ns, what) per cycle
        self.timeline: list[tuple[int, int, str]] = []

    def target(self, fault: Fault) -> tuple[int, str]:
        leader = self.ensemble.leader()
        if leader is None:
            self.ensemble.wait_serving(SETTLE_TIMEOUT_S)
            leader = self.ensemble.leader()
        if fault.at_leader:
            return leader, "leader"
        followers = [i for i in self.net.ids if i != leader]
        return followers[int(fault.follower_pick * len(followers))], "follower"

    def cycle(self, n: int, fault: Fault) -> str:
        victim, role = self.target(fault)
        member = self.ensemble.members[victim]
        what = f"cycle {n}: {fault.kind} of the {role} (member {victim}) for {fault.hold_s:.2f} s"
        start = time.monotonic_ns()
        if fault.kind == "isolate-peers":
            self.net.isolate_from_peers(victim)
        elif fault.kind == "isolate-full":
            self.net.isolate_fully(victim)
        elif fault.kind == "pause":
            member.pause()
        else:
            member.kill()
        time.sleep(fault.hold_s)
        if fault.kind == "pause":
            member.resume()
        elif fault.kind == "kill":
            member.start(wait=False)
        else:
            self.net.heal()
        healed = time.monotonic()
        modes = self.ensemble.wait_serving(SETTLE_TIMEOUT_S)
        settled_s = time.monotonic() - healed
        time.sleep(SETTLE_S)
        self.timeline.append((start, time.monotonic_ns(), what))
        self.counts[fault.kind] += 1
        self.counts[f"{fault.kind} of the {role}"] += 1
        leader = next(i for i, m in modes.items() if m == "leader")
        return f"{what}; serving again {settled_s:.2f} s after healing, leader member {leader}"


def wait_ok(do, what: str, timeout: float = FINAL_TIMEOUT_S) -> dict:
    """Repeat ``do()`` (which records an op) until it is answered."""
    deadline = time.monotonic() + timeout
    while True:
        record = do()
        if record["outcome"] == "ok":
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: no answer within {timeout:.0f}s (last: {record})")
        time.sleep(0.2)


def final_write(ensemble: Ensemble, history: History) -> dict:
    """After healing, a write through the ensemble succeeds."""
    zk = connect(ensemble.hosts)
    try:
        ops = OpRunner(zk, history)
        record = wait_ok(lambda: ops.write("set", KEYS[0]), "the final write")
        if record["result"] == "no_node":
            record = wait_ok(lambda: ops.write("create", KEYS[0]), "the final create")
        assert record["result"] == "ok", f"the final write was refused: {record}"
        return record
    finally:
        close(zk)


def read_every_member(ensemble: Ensemble, history: History) -> dict[int, dict[str, tuple | None]]:
    """sync + getData of every key on each member directly (recorded in the history too)."""
    views = {}
    for i, member in ensemble.members.items():
        zk = connect(member.hosts)
        try:
            ops = OpRunner(zk, history)
            view = {}
            for key in KEYS:
                r = wait_ok(lambda: ops.read(key), f"reading {key} on member {i}")
                view[key] = None if r["data"] is None else (r["data"], r["version"])
            views[i] = view
        finally:
            close(zk)
    return views


def test_faults_keep_sync_reads_linearizable(server_kind, ensemble, network, tmp_path, partition_report):
    run_seed = seed()
    rng = random.Random(f"{run_seed}/{server_kind}")
    print(f"\n{server_kind}: PARTITION_SEED={run_seed}, {CYCLES} cycles, network {network.prefix} {network.subnet}")
    started = time.monotonic()

    setup = connect(ensemble.hosts)
    setup.ensure_path(ROOT)
    close(setup)

    history = History()
    halt = threading.Event()
    clients = [Client(n, ensemble.hosts, history, run_seed, halt) for n in range(CLIENTS)]
    for c in clients:
        c.start()
    faults = FaultRunner(ensemble, network)
    try:
        for n, fault in enumerate(schedule(rng, CYCLES), 1):
            print(faults.cycle(n, fault), flush=True)
            dead = [c.name for c in clients if not c.is_alive()]
            assert not dead, f"client threads died: {[(c.name, c.failure) for c in clients if c.failure]}"
    finally:
        halt.set()
        for c in clients:
            c.stop()
    failures = [(c.name, c.failure) for c in clients if c.failure]
    assert not failures, f"client threads failed: {failures}"

    ensemble.wait_serving(SETTLE_TIMEOUT_S)
    written = final_write(ensemble, history)
    deadline = time.monotonic() + FINAL_TIMEOUT_S
    while True:
        views = read_every_member(ensemble, history)
        first = views[min(views)]
        if all(view == first for view in views.values()):
            break
        assert time.monotonic() < deadline, f"{server_kind} members did not converge: {views}"
        time.sleep(0.5)
    assert first[KEYS[0]] == (written["value"], written["version"]), f"every member holds {first}, not the final write"
    cycles_s = time.monotonic() - started

    path = tmp_path / f"history-{server_kind}.jsonl"
    history.write_jsonl(path)
    checked_at = time.monotonic()
    verdict = checker.check_history(path)
    check_s = time.monotonic() - checked_at
    outcomes = history.outcomes()
    names = {m.hosts: f"member {i}" for i, m in ensemble.members.items()}
    served_by = {op: names.get(addr, addr) for op, addr in history.served_by.items()}
    explained = [checker.explain(v, history.records, served_by, faults.timeline) for v in verdict.violations]
    stale = checker.stale_reads(history.records)
    explained += [checker.describe_stale_read(f, history.records, served_by) for f in stale[:STALE_SHOWN]]
    kinds = ", ".join(f"{k} {faults.counts[k]} (leader {faults.counts[k + ' of the leader']})" for k in FAULTS)
    report = (
        f"{server_kind}: seed {run_seed}, {len(faults.timeline)} cycles in {cycles_s:.0f} s "
        f"(check {check_s:.1f} s); faults: {kinds}; "
        f"ops {len(history.records)} (ok {outcomes['ok']}, fail {outcomes['fail']}, "
        f"unknown {outcomes['unknown']}); members converged; "
        f"checker exit {verdict.exit_code}: {verdict.summary}; stale reads found directly: {len(stale)}; "
        f"history {path}"
    )
    if explained:
        report += "\n" + "\n".join(explained)
    print(report)
    partition_report(report)

    assert verdict.exit_code in (0, 1), f"the checker rejected the history as input:\n{verdict.output}"
    if server_kind == "corral":
        assert verdict.linearizable and not stale, f"corral's history is not linearizable:\n{report}"
