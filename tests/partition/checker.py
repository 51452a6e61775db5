"""Runs ``corral-sim check-history`` over a recorded history and explains what it finds."""

from __future__ import annotations

import bisect
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK_TIMEOUT_S = 600

# "  key k0 not linearizable: ... then history op #123 Read -> ... could not be placed"
STUCK_OP = re.compile(r"history op #(\d+)")


class CheckerMissing(RuntimeError):
    pass


def sim_bin() -> Path:
    """``$CORRAL_SIM_BIN``, else target/debug/corral-sim; raises when it is not there."""
    value = os.environ.get("CORRAL_SIM_BIN") or str(REPO_ROOT / "target" / "debug" / "corral-sim")
    path = Path(value)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise CheckerMissing(f"no corral-sim at {path} (cargo build -p corral-sim, or set CORRAL_SIM_BIN)")
    return path


@dataclass
class Verdict:
    exit_code: int
    summary: str
    violations: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def linearizable(self) -> bool:
        return self.exit_code == 0


def check_history(path: Path) -> Verdict:
    r = subprocess.run(
        [str(sim_bin()), "check-history", str(path)], capture_output=True, text=True, timeout=CHECK_TIMEOUT_S
    )
    lines = r.stdout.splitlines()
    summary = next((l for l in lines if l.startswith("corral-sim check-history:")), r.stderr.strip())
    violations = [l.strip() for l in lines if l.startswith("  ")]
    return Verdict(r.returncode, summary, violations, r.stdout + r.stderr)


def _ms(ns: int, origin: int) -> str:
    return f"{(ns - origin) / 1e6:.0f} ms"


def explain(
    violation: str, records: list[dict], served_by: dict[int, str], timeline: list[tuple[int, int, str]]
) -> str:
    """Context for a violation: the op where the checker's deepest attempt got stuck (not
    necessarily the culprit), who answered it, the fault around it, and the last writes of
    its key acknowledged before it was invoked."""
    m = STUCK_OP.search(violation)
    if not m or int(m[1]) >= len(records):
        return violation
    index = int(m[1])
    op = records[index]
    origin = records[0]["invoke"] if records else 0
    lines = [violation, f"    stuck at op #{index}: {describe(op, origin)}, answered by {served_by.get(index, '?')}"]
    for start, end, what in timeline:
        if start <= op["invoke"] <= end:
            lines.append(f"    during {what} ({_ms(start, origin)} .. {_ms(end, origin)})")
    before = [
        (i, r)
        for i, r in enumerate(records)
        if r["key"] == op["key"]
        and r["op"] != "read"
        and r["outcome"] == "ok"
        and r.get("result") == "ok"
        and r["complete"] < op["invoke"]
    ]
    for i, r in before[-3:]:
        lines.append(f"    acknowledged before: op #{i}: {describe(r, origin)}, answered by {served_by.get(i, '?')}")
    return "\n".join(lines)


def describe(r: dict, origin: int) -> str:
    what = f"{r['op']} {r['key']}"
    if "value" in r:
        what += f" value={r['value']}"
    if r.get("expected", -1) != -1:
        what += f" expected={r['expected']}"
    done = "never" if r.get("complete") is None else _ms(r["complete"], origin)
    what += f" invoked {_ms(r['invoke'], origin)} completed {done} -> {r['outcome']}"
    if r["op"] == "read" and r["outcome"] == "ok":
        what += f" data={r.get('data')!r} version={r.get('version')}"
    elif "result" in r:
        what += f" {r['result']}" + (f" version={r['version']}" if "version" in r else "")
    return what


def stale_reads(records: list[dict]) -> list[tuple[int, int, int]]:
    """Reads that certainly returned an overwritten value, found directly (no search).

    Values are unique, so a read of ``x`` names the one write that wrote it. ``x``
    was certainly in place when its write was acknowledged, or when any read
    returned it. If an acknowledged write ``W`` of the key that changed it (a
    create, set or delete answered ``ok``) started after that moment and was
    acknowledged before a read began, the read cannot return ``x``: every
    linearization orders x's write < that moment < ``W`` < the read.
    Returns (read, witness, W) record indexes; the witness is the op that proves
    ``x`` in place (its write, or an earlier read of it)."""
    present: dict[str, tuple[int, int]] = {}  # value -> (earliest time known in place, witness)
    writes: dict[str, list[tuple[int, int, int]]] = {}  # key -> (invoke, complete, index) of changes
    for i, r in enumerate(records):
        if r["outcome"] != "ok":
            continue
        value = r.get("data") if r["op"] == "read" else (r.get("value") if r.get("result") == "ok" else None)
        if value is not None and (value not in present or r["complete"] < present[value][0]):
            present[value] = (r["complete"], i)
        if r["op"] != "read" and r.get("result") == "ok":
            writes.setdefault(r["key"], []).append((r["invoke"], r["complete"], i))
    # per key: changes by invocation, and the earliest-acknowledged change among each suffix
    suffix_min: dict[str, list[tuple[int, int]]] = {}
    for key, ws in writes.items():
        ws.sort()
        best: list[tuple[int, int]] = [(0, -1)] * len(ws)
        current = (2**63, -1)
        for k in range(len(ws) - 1, -1, -1):
            current = min(current, (ws[k][1], ws[k][2]))
            best[k] = current
        suffix_min[key] = best
    found = []
    for i, r in enumerate(records):
        if r["op"] != "read" or r["outcome"] != "ok" or r.get("data") is None:
            continue
        since, witness = present[r["data"]]
        ws = writes.get(r["key"], [])
        k = bisect.bisect_right(ws, (since, 2**63, 2**63))
        if k < len(ws):
            done, w = suffix_min[r["key"]][k]
            if done < r["invoke"]:
                found.append((i, witness, w))
    return found


def describe_stale_read(found: tuple[int, int, int], records: list[dict], served_by: dict[int, str]) -> str:
    read, wx, w = found
    origin = records[0]["invoke"] if records else 0
    return "\n".join(
        [
            f"  stale read: op #{read}: {describe(records[read], origin)}, answered by {served_by.get(read, '?')}",
            f"    its value was in place at op #{wx}: {describe(records[wx], origin)}",
            f"    and overwritten by op #{w}: {describe(records[w], origin)}, answered by {served_by.get(w, '?')}",
        ]
    )
