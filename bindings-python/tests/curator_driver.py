"""Apache Curator 5.4's recipes in a Java process, driven from Python: the
program ``curator/CuratorOracle.java``, compiled once per run against
Debian's jars (``libcurator-*-java``) with the classpath and compile helper of
``tests/interop/curator_probe.py``, and spoken to over its stdin and stdout.

Requests carry an id and are answered in their own time, so a Curator
acquisition can block while the test goes on; see the Java file for the verbs.
"""

from __future__ import annotations

import importlib.util
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

JAVA_SOURCE = Path(__file__).resolve().parent / "curator" / "CuratorOracle.java"
_PROBE = Path(__file__).resolve().parents[2] / "tests" / "interop" / "curator_probe.py"


def _probe_module():
    """tests/interop/curator_probe.py: the Curator jar list and the javac call."""
    spec = importlib.util.spec_from_file_location("curator_probe", _PROBE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


curator_probe = _probe_module()


def missing() -> Optional[str]:
    """Why Curator cannot run here, or None."""
    return curator_probe.missing()


def compile_oracle(out_dir: Path) -> Path:
    """Compiles the oracle into ``out_dir``; returns the class directory."""
    return curator_probe.compile_java([JAVA_SOURCE], out_dir)


class CuratorError(Exception):
    """An exception Curator raised for a request, as ``<Java class>: <message>``."""


class Reply:
    """The answer to one request, to come."""

    def __init__(self, request: str) -> None:
        self.request = request
        self._done = threading.Event()
        self._ok = False
        self._text = ""

    def _set(self, ok: bool, text: str) -> None:
        self._ok, self._text = ok, text
        self._done.set()

    def done(self) -> bool:
        """Whether the answer has come."""
        return self._done.is_set()

    def result(self, timeout: float = 30.0) -> str:
        """The answer's text; raises CuratorError when Curator failed."""
        if not self._done.wait(timeout):
            raise AssertionError(f"Curator did not answer {self.request!r} within {timeout}s")
        if not self._ok:
            raise CuratorError(self._text)
        return self._text


class CuratorOracle:
    """One Curator client (one JVM, one ZooKeeper session) connected to ``hosts``."""

    def __init__(self, classes: Path, hosts: str, start_timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen(
            ["java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-cp", f"{classes}:{curator_probe.classpath()}", "CuratorOracle", hosts],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: Dict[str, Reply] = {}
        self._events: "queue.Queue[tuple[str, str]]" = queue.Queue()
        self._ready = threading.Event()
        self._exited = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(start_timeout) or self._exited.is_set():
            self.close()
            raise AssertionError(f"Curator did not connect within {start_timeout}s: {self.proc.stderr.read()}")

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == "READY":
                self._ready.set()
                continue
            words = line.split(" ", 2)
            if words[0] == "EVENT":
                self._events.put((words[1], words[2] if len(words) > 2 else ""))
                continue
            with self._lock:
                reply = self._replies.pop(words[0], None)
            if reply is not None:
                reply._set(words[1] == "OK", words[2] if len(words) > 2 else "")
        self._exited.set()
        self._ready.set()
        with self._lock:
            for reply in self._replies.values():
                reply._set(False, "the Curator process exited")
            self._replies.clear()

    def send(self, verb: str, *args: object) -> Reply:
        """Sends a request; returns its Reply at once."""
        request = " ".join([verb, *map(str, args)])
        reply = Reply(request)
        with self._lock:
            self._next_id += 1
            rid = str(self._next_id)
            self._replies[rid] = reply
            if self._exited.is_set():
                reply._set(False, "the Curator process exited")
                return reply
            self.proc.stdin.write(f"{rid} {request}\n")
            self.proc.stdin.flush()
        return reply

    def call(self, verb: str, *args: object, timeout: float = 30.0) -> str:
        """Sends a request and waits for its answer."""
        return self.send(verb, *args).result(timeout)

    def wait_event(self, handle: str, what: str, timeout: float = 20.0) -> None:
        """Waits until ``handle`` reports ``what``; other events seen meanwhile are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"Curator handle {handle} did not report {what!r} within {timeout}s")
            try:
                got = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if got == (handle, what):
                return

    def events(self) -> List[tuple]:
        """The (handle, event) pairs reported and not yet consumed."""
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Ends the process (its session closes with it)."""
        curator_probe.end_java(self.proc, "0 quit")


class CuratorScope:
    """The oracle as one test uses it: in the test's namespace (its chroot, so
    both sides name nodes alike), with every handle it made closed at the end."""

    CLOSE_WAIT_S = 5.0

    def __init__(self, oracle: CuratorOracle, chroot: str) -> None:
        self.oracle = oracle
        self._handles: List[str] = []
        oracle.call("ns", chroot.strip("/"))

    def make(self, kind: str, *args: object) -> str:
        """Makes a recipe handle (``mutex``, ``latch``, ...); returns its name."""
        name = f"{kind}{len(self._handles)}"
        self.oracle.call(kind, name, *args)
        self._handles.append(name)
        return name

    def call(self, verb: str, *args: object, timeout: float = 30.0) -> str:
        return self.oracle.call(verb, *args, timeout=timeout)

    def send(self, verb: str, *args: object) -> Reply:
        return self.oracle.send(verb, *args)

    def wait_event(self, handle: str, what: str, timeout: float = 20.0) -> None:
        self.oracle.wait_event(handle, what, timeout)

    def close(self) -> None:
        """Closes the handles, newest first; one stuck behind a blocked request is left to the process's end."""
        replies = [self.oracle.send("close", h) for h in reversed(self._handles)]
        deadline = time.monotonic() + self.CLOSE_WAIT_S
        for reply in replies:
            try:
                reply.result(max(0.0, deadline - time.monotonic()))
            except (AssertionError, CuratorError):
                pass
        self.oracle.events()  # what the closes reported is of no interest to the next test
