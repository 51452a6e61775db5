"""Apache Curator 5.4 (Debian's ``libcurator-*-java``) as a test client: the Java
program ``java/CuratorProbe.java`` compiled once per run against the jars in
``/usr/share/java`` and driven line by line over its stdin and stdout."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

JAVA_DIR = Path(__file__).resolve().parent / "java"
SHARE = Path("/usr/share/java")
CURATOR_JARS = [
    "curator-client", "curator-framework", "curator-recipes", "curator-x-discovery",
    "zookeeper", "zookeeper-jute", "guava", "slf4j-api", "slf4j-nop",
    "jackson-core", "jackson-databind", "jackson-annotations",
    "netty-buffer", "netty-codec", "netty-common", "netty-handler", "netty-resolver",
    "netty-transport", "netty-transport-native-epoll", "netty-transport-native-unix-common",
]


def classpath() -> str:
    return ":".join(str(SHARE / f"{name}.jar") for name in CURATOR_JARS)


def missing() -> str | None:
    """Why Curator cannot run here, or None."""
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (default-jdk-headless)"
    absent = [n for n in CURATOR_JARS if not (SHARE / f"{n}.jar").exists()]
    if absent:
        return f"missing jars in {SHARE}: {', '.join(absent)} (libcurator-*-java)"
    return None


def compile_java(sources: list[Path], out_dir: Path) -> Path:
    """Compiles Java ``sources`` against the Curator jars into ``out_dir``;
    returns the class directory. Other suites' Curator programs use this too."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["javac", "-nowarn", "-cp", classpath(), "-d", str(out_dir), *map(str, sources)],
        check=True, capture_output=True, text=True,
    )
    return out_dir


def compile_probe(out_dir: Path) -> Path:
    """Compiles the probe into ``out_dir``; returns the class directory."""
    return compile_java([JAVA_DIR / "CuratorProbe.java"], out_dir)



def end_java(proc: subprocess.Popen, quit_line: str) -> None:
    """Asks a line-protocol Java program to quit (its session closes with it); kills it
    if it does not within 10 s."""
    if proc.poll() is not None:
        return
    try:
        proc.stdin.write(quit_line + "\n")
        proc.stdin.flush()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()

class CuratorProbe:
    """One Curator client process. ``states`` collects every connection state it
    reported, in order."""

    def __init__(self, classes: Path, connect_string: str, session_timeout_ms: int = 10_000):
        self.proc = subprocess.Popen(
            ["java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", f"{classes}:{classpath()}",
             "CuratorProbe", connect_string, str(session_timeout_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
        )
        self.states: list[str] = []
        self._answers: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("STATE "):
                self.states.append(line[len("STATE "):])
            else:
                self._answers.put(line)
        self._answers.put("EOF")

    def ask(self, command: str, timeout: float = 30.0) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"Curator did not answer {command!r} within {timeout}s") from None
        if answer == "EOF":
            raise AssertionError(f"Curator exited: {self.proc.stderr.read()}")
        return answer

    def info(self) -> tuple[str, int | None, int, bool]:
        """(connection string, port of the server it is connected to, session id, connected)."""
        answer = self.ask("info")
        tag, conn, port, sid, connected = answer.split(" ")
        assert tag == "INFO", answer
        return conn, None if port == "-" else int(port), int(sid, 16), connected == "true"

    def create(self, path: str) -> str:
        return self.ask(f"create {path}")

    def wait_connected(self, timeout: float = 30.0) -> int:
        """Until the client is connected again (its retries run on their own); returns the
        port of the server it is connected to."""
        deadline = time.monotonic() + timeout
        while True:
            _, port, _, connected = self.info()
            if connected and port is not None:
                return port
            if time.monotonic() > deadline:
                raise AssertionError(f"Curator did not reconnect within {timeout}s (states {self.states})")
            time.sleep(0.05)

    def close(self) -> None:
        end_java(self.proc, "quit")
