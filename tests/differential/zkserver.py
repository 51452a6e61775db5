"""Start/stop Apache ZooKeeper 3.8 or corral on loopback for the differential and crash
tests. Both get the same zoo.cfg; ZooKeeper additionally gets the settings that are JVM
system properties in 3.8 as -D flags (unknown zoo.cfg keys also become `zookeeper.<key>`
properties, so the zoo.cfg alone would do; the flags make that explicit).
"""

from __future__ import annotations

import base64
import hashlib
import signal
import socket
import subprocess
import time
from pathlib import Path

from corral_binary import corral_bin
from zkraw import EOF, Conn, NoFrame, ruok

ZK_JARS = ["/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar",
           "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-simple.jar"]

SUPER_USER, SUPER_PASSWORD = "super", "corral-super-secret"
SUPER_DIGEST = "super:" + base64.b64encode(
    hashlib.sha1(f"{SUPER_USER}:{SUPER_PASSWORD}".encode()).digest()).decode()

START_TIMEOUT_S = 30.0
# never issued by ZooKeeper (top byte = server id 0x7e) nor likely by corral
PROBE_SESSION_ID = 0x7E5A5A5A5A5A0001


# The reference first; every suite runs each test against both.
KINDS = ("zookeeper", "corral")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_config(data_dir: Path, port: int) -> dict[str, str]:
    return {
        "tickTime": "2000",
        "dataDir": str(data_dir),
        "clientPort": str(port),
        "clientPortAddress": "127.0.0.1",
        "maxClientCnxns": "0",
        "4lw.commands.whitelist": "*",
        "admin.enableServer": "false",
        "extendedTypesEnabled": "true",
        "DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
    }


class Server:
    """One server process on 127.0.0.1 with its own data dir. Restartable on the same
    data dir and port (crash test)."""

    def __init__(self, kind: str, workdir: Path, extra_cfg: dict[str, str] | None = None):
        self.kind = kind
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.cfg = base_config(self.data_dir, self.port)
        self.cfg.update(extra_cfg or {})
        self.cfg_path = self.workdir / "zoo.cfg"
        self.cfg_path.write_text("".join(f"{k}={v}\n" for k, v in self.cfg.items()))
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def command(self) -> list[str]:
        if self.kind == "zookeeper":
            return ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dzookeeper.extendedTypesEnabled=true",
                    f"-Dzookeeper.DigestAuthenticationProvider.superDigest={SUPER_DIGEST}",
                    "-cp", ":".join(ZK_JARS),
                    "org.apache.zookeeper.server.ZooKeeperServerMain", str(self.cfg_path)]
        if self.kind == "corral":
            return [str(corral_bin()), "server", "--config", str(self.cfg_path)]
        raise ValueError(self.kind)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    def start(self) -> "Server":
        assert self.proc is None
        self.starts += 1
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        imok = False
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind} exited with {self.proc.returncode} during "
                                     f"startup:\n{self.log_tail()}")
            imok = imok or ruok(self.host, self.port, timeout=0.5)
            if imok and self.serving():
                return self
            time.sleep(0.05)
        self.kill9()
        what = ("answered ruok but never answered a ConnectRequest" if imok
                else "did not answer ruok")
        raise AssertionError(f"{self.kind} on port {self.port} {what} within "
                             f"{START_TIMEOUT_S}s:\n{self.log_tail()}")

    def serving(self) -> bool:
        """ruok answers as soon as the port listens; a server is serving once it answers a
        ConnectRequest. The probe resumes a session id that cannot exist, which gets the
        "invalid session" answer without creating a session (no zxid consumed)."""
        try:
            c = Conn(self.host, self.port, timeout=2.0)
        except OSError:
            return False
        try:
            return c.handshake(session_id=PROBE_SESSION_ID, passwd=b"\x5a" * 16) is not None
        except (OSError, EOF, NoFrame):
            return False
        finally:
            c.close()

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def kill9(self) -> None:
        if self.proc is not None:
            try:
                self.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
