"""Clients that work on a few keys and record every operation for the linearizability checker.

Each client is a thread with its own kazoo session over every member, doing
create / set / delete (conditional on a version or not) and linearizable reads
(sync, then getData) on ``/partition-test/k0..k3``. Each op is recorded with
its invocation and completion times from ``time.monotonic_ns()`` (one clock:
all clients live in this process) and one of three outcomes:

* ``ok``      -- answered; NodeExists / NoNode / BadVersion are answers too;
* ``fail``    -- certainly not applied: kazoo refused it before sending
                 (its session had just expired);
* ``unknown`` -- may or may not have been applied: connection loss, session
                 expiry or no answer within ``OP_TIMEOUT_S``.

The records are the JSON Lines that ``corral-sim check-history`` reads.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter
from pathlib import Path

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    ConnectionClosedError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    SessionExpiredError,
)
from kazoo.protocol.states import KeeperState
from kazoo.retry import KazooRetry

ROOT = "/partition-test"
KEYS = ("k0", "k1", "k2", "k3")
SESSION_TIMEOUT_S = 4.0
OP_TIMEOUT_S = 2.0
# Pause after each op (uniform 0..PACE_S) and after an error, so the history
# stays a size the checker searches quickly.
PACE_S = 0.01
ERROR_PAUSE_S = 0.05
# op -> weight
OP_MIX = {"read": 4, "set": 3, "create": 2, "delete": 1}

ANSWERS = {NodeExistsError: "exists", NoNodeError: "no_node", BadVersionError: "bad_version"}
# What kazoo raises, without queueing the request, for a call made while its session is
# expired or the client closed (while merely disconnected it queues requests instead).
REFUSED_UNSENT = (SessionExpiredError, ConnectionClosedError)
REFUSING_STATES = (KeeperState.EXPIRED_SESSION, KeeperState.CLOSED)


def now() -> int:
    return time.monotonic_ns()


def connect(hosts: str, timeout: float = SESSION_TIMEOUT_S) -> KazooClient:
    """A started kazoo client that reconnects quickly and forever."""
    zk = KazooClient(
        hosts=hosts,
        timeout=timeout,
        connection_retry=KazooRetry(max_tries=-1, delay=0.05, backoff=1.5, max_delay=0.5),
    )
    zk.start(timeout=20)
    return zk


def close(zk: KazooClient) -> None:
    try:
        zk.stop()
        zk.close()
    except Exception:  # a client broken by a fault still has to go
        pass


class History:
    """Every recorded op, in completion order, plus fresh client ids and unique values."""

    def __init__(self):
        self._lock = threading.Lock()
        self.records: list[dict] = []
        #: record index -> the member address that answered (for explaining anomalies)
        self.served_by: dict[int, str] = {}
        self._client_ids = itertools.count(1)
        self._values = itertools.count(1)

    def client_id(self) -> int:
        with self._lock:
            return next(self._client_ids)

    def value(self) -> str:
        with self._lock:
            return f"v{next(self._values)}"

    def add(self, record: dict, served_by: str | None = None) -> None:
        with self._lock:
            if served_by:
                self.served_by[len(self.records)] = served_by
            self.records.append(record)

    def outcomes(self) -> Counter:
        with self._lock:
            return Counter(r["outcome"] for r in self.records)

    def write_jsonl(self, path: Path) -> None:
        with self._lock:
            path.write_text("".join(json.dumps(r) + "\n" for r in self.records))


def _peer(zk: KazooClient) -> str | None:
    """The member this client is connected to now (kazoo keeps it private; best effort)."""
    try:
        host, port = zk._connection._socket.getpeername()[:2]
        return f"{host}:{port}"
    except Exception:
        return None


class OpRunner:
    """Runs single ops on one kazoo client and records them in a :class:`History`."""

    def __init__(self, zk: KazooClient, history: History):
        self.zk = zk
        self.history = history
        self.client = history.client_id()
        # Bumped by kazoo's connection thread on every state change, before it
        # reconnects: when it moves during a read, the getData may have gone over a
        # new connection, to a member that did not take part in the sync.
        self.connection_changes = 0
        zk.add_listener(self._on_state)
        # kazoo's errors, and the handler's "no answer within the timeout"
        self.errors = (KazooException, zk.handler.timeout_exception)

    def _on_state(self, _state) -> None:
        self.connection_changes += 1

    def _finish(self, record: dict, error: BaseException | None, refused_unsent: bool) -> dict:
        if error is None:
            record["outcome"] = "ok"
        elif refused_unsent:
            record.update(outcome="fail", error=f"{type(error).__name__} (refused by the client, not sent)")
        else:
            record.update(outcome="unknown", error=type(error).__name__ + (f": {error}" if str(error) else ""))
            if isinstance(error, self.zk.handler.timeout_exception):
                record["complete"] = None
        self.history.add(record, _peer(self.zk) if error is None else None)
        if record["outcome"] == "unknown":
            # The op may still apply later: from now on this thread is another client.
            self.client = self.history.client_id()
        return record

    def write(self, op: str, key: str, expected: int = -1) -> dict:
        record: dict = {"client": self.client, "op": op, "key": key}
        if op in ("create", "set"):
            record["value"] = self.history.value()
        if op in ("set", "delete"):
            record["expected"] = expected
        path = f"{ROOT}/{key}"
        refusing = self.zk.client_state in REFUSING_STATES
        record["invoke"] = now()
        if op == "create":
            pending = self.zk.create_async(path, record["value"].encode())
        elif op == "set":
            pending = self.zk.set_async(path, record["value"].encode(), version=expected)
        else:
            pending = self.zk.delete_async(path, version=expected)
        refused = refusing and pending.ready()
        try:
            answer = pending.get(timeout=OP_TIMEOUT_S)
        except tuple(ANSWERS) as e:
            record.update(complete=now(), result=ANSWERS[type(e)])
            return self._finish(record, None, False)
        except self.errors as e:
            record["complete"] = now()
            return self._finish(record, e, refused and isinstance(e, REFUSED_UNSENT))
        record.update(complete=now(), result="ok")
        if op == "create":
            record["version"] = 0
        elif op == "set":
            record["version"] = answer.version
        return self._finish(record, None, False)

    def read(self, key: str) -> dict:
        """sync, then getData, pipelined on one connection."""
        record: dict = {"client": self.client, "op": "read", "key": key}
        path = f"{ROOT}/{key}"
        refusing = self.zk.client_state in REFUSING_STATES
        changes = self.connection_changes
        record["invoke"] = started = now()
        synced = self.zk.sync_async(path)
        got = self.zk.get_async(path)
        refused = refusing and synced.ready()
        try:
            synced.get(timeout=OP_TIMEOUT_S)
            left = max(0.0, OP_TIMEOUT_S - (now() - started) / 1e9)
            try:
                data, stat = got.get(timeout=left)
                record.update(data=data.decode(), version=stat.version)
            except NoNodeError:
                record["data"] = None
        except self.errors as e:
            record["complete"] = now()
            record.pop("data", None)
            return self._finish(record, e, refused and isinstance(e, REFUSED_UNSENT))
        record["complete"] = now()
        if self.connection_changes != changes:
            record.pop("data", None)
            record.pop("version", None)
            record.update(outcome="unknown", error="the connection changed between sync and getData")
            self.history.add(record)
            return record
        return self._finish(record, None, False)


class Client(threading.Thread):
    """A client thread: random ops on random keys until halted."""

    def __init__(self, index: int, hosts: str, history: History, seed: str, halt: threading.Event):
        super().__init__(name=f"client-{index}", daemon=True)
        self.rng = random.Random(f"{seed}/client{index}")
        self.zk = connect(hosts)
        self.ops = OpRunner(self.zk, history)
        self.halt = halt
        # key -> the version this client last saw (None: it saw no node)
        self.versions: dict[str, int | None] = {}
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                if not self.zk.connected:
                    # kazoo would queue the op until it reconnects; wait instead, as
                    # an application does, rather than pile up ops of unknown outcome.
                    self.halt.wait(ERROR_PAUSE_S)
                    continue
                record = self.step()
                pause = ERROR_PAUSE_S if record["outcome"] != "ok" else self.rng.uniform(0, PACE_S)
                self.halt.wait(pause)
        except BaseException as e:  # reported by the test: a client must never die
            self.failure = e

    def step(self) -> dict:
        key = self.rng.choice(KEYS)
        op = self.rng.choices(list(OP_MIX), weights=list(OP_MIX.values()))[0]
        if op == "read":
            record = self.ops.read(key)
        else:
            expected = -1
            if op != "create" and self.rng.random() < 0.5:
                expected = self.versions.get(key) or 0
            record = self.ops.write(op, key, expected)
        if record["outcome"] == "ok":
            if op == "read":
                self.versions[key] = record.get("version")
            elif record["result"] == "ok":
                self.versions[key] = record.get("version")
        return record

    def stop(self) -> None:
        self.join(timeout=OP_TIMEOUT_S * 3)
        close(self.zk)
