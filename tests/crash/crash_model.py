"""Bookkeeping and verification for the crash test, independent of any server so that
the checks themselves can be tested.

Every path is written by exactly one client thread, one request at a time, so its
operations are totally ordered; all but possibly the last are acknowledged. After a
crash the recovered state of a path must be the state after its last acknowledged
operation, or the state after the single in-flight (sent, never answered) operation.
Anything else is a lost acknowledged write or a phantom write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACKED, INFLIGHT = "acked", "inflight"


@dataclass(frozen=True)
class NodeState:
    exists: bool
    value: bytes | None = None
    czxid: int | None = None      # None: unknown (in-flight op), any value accepted
    mzxid: int | None = None

    def matches(self, observed: "NodeState") -> bool:
        if self.exists != observed.exists:
            return False
        if not self.exists:
            return True
        return (self.value == observed.value
                and (self.czxid is None or self.czxid == observed.czxid)
                and (self.mzxid is None or self.mzxid == observed.mzxid))


ABSENT = NodeState(False)


@dataclass
class Op:
    kind: str                 # create | set | delete
    path: str
    value: bytes | None
    status: str               # acked | inflight
    zxid: int | None = None   # reply zxid (acked only)
    group: int | None = None  # ops of one multi share a group id (atomic)


def apply(state: NodeState, op: Op) -> NodeState:
    z = op.zxid if op.status == ACKED else None
    if op.kind == "create":
        return NodeState(True, op.value, z, z)
    if op.kind == "set":
        return NodeState(True, op.value, state.czxid, z)
    if op.kind == "delete":
        return ABSENT
    raise ValueError(op.kind)


@dataclass
class PathHistory:
    confirmed: NodeState = ABSENT
    pending: list[Op] = field(default_factory=list)

    def allowed(self) -> tuple[NodeState, NodeState | None]:
        """(state after the acknowledged ops, state if the in-flight op also applied)."""
        s = self.confirmed
        inflight = None
        for op in self.pending:
            if op.status == ACKED:
                assert inflight is None, "an acknowledged op after an in-flight one"
                s = apply(s, op)
            else:
                inflight = op
        return s, (apply(s, inflight) if inflight else None)


@dataclass
class Verdict:
    losses: list[str] = field(default_factory=list)      # acked writes missing/wrong
    phantoms: list[str] = field(default_factory=list)    # data nobody wrote
    acked_checked: int = 0
    inflight_applied: int = 0
    inflight_not_applied: int = 0


class Model:
    def __init__(self) -> None:
        self.paths: dict[str, PathHistory] = {}
        self.inflight_seq: dict[bytes, Op] = {}   # value -> in-flight sequential create

    def record(self, op: Op) -> None:
        self.paths.setdefault(op.path, PathHistory()).pending.append(op)

    def record_inflight_seq(self, value: bytes) -> None:
        self.inflight_seq[value] = Op("create", "", value, INFLIGHT)

    def acked_pending(self) -> int:
        return sum(1 for h in self.paths.values() for op in h.pending if op.status == ACKED)

    def verify(self, observed: dict[str, NodeState], seq_parent: str) -> Verdict:
        """`observed`: the recovered state of every path in the model and of every node
        found in the tree (absent paths map to ABSENT). Updates the model to the
        observed state when everything is consistent."""
        v = Verdict()
        choice: dict[str, bool] = {}          # path -> in-flight op applied?
        for path, hist in self.paths.items():
            obs = observed.get(path, ABSENT)
            after, alt = hist.allowed()
            acked_ops = sum(1 for op in hist.pending if op.status == ACKED)
            if after.matches(obs):
                choice[path] = False
                v.acked_checked += acked_ops
            elif alt is not None and alt.matches(obs):
                choice[path] = True
                v.acked_checked += acked_ops
            else:
                v.losses.append(f"{path}: recovered {obs}, expected {after}"
                                + (f" or (in-flight applied) {alt}" if alt else ""))
        # an in-flight multi is all or nothing
        groups: dict[int, set[bool]] = {}
        for path, hist in self.paths.items():
            for op in hist.pending:
                if op.status == INFLIGHT and op.group is not None and path in choice:
                    groups.setdefault(op.group, set()).add(choice[path])
        for g, outcomes in groups.items():
            if len(outcomes) > 1:
                v.losses.append(f"in-flight multi #{g} applied partially")
        # nodes nobody (or no in-flight sequential create) wrote
        for path, obs in observed.items():
            if path in self.paths or not obs.exists:
                continue
            if path.startswith(seq_parent + "/") and obs.value in self.inflight_seq:
                self.inflight_seq.pop(obs.value)
                self.paths[path] = PathHistory(obs)
                v.inflight_applied += 1
                continue
            v.phantoms.append(f"{path}: exists with {obs.value!r}, never written")
        v.inflight_not_applied += len(self.inflight_seq)
        for path, applied in choice.items():
            if any(op.status == INFLIGHT for op in self.paths[path].pending):
                if applied:
                    v.inflight_applied += 1
                else:
                    v.inflight_not_applied += 1
        if not v.losses and not v.phantoms:
            for path, hist in self.paths.items():
                hist.confirmed = observed.get(path, ABSENT)
                hist.pending.clear()
            self.inflight_seq.clear()
        return v
