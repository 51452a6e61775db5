"""Runs the client suites against two servers: corral's EmbeddedServer and a real
Apache ZooKeeper 3.8 (Debian's package, started from a temporary directory
on a loopback port, stopped by its pid).

``CORRAL_PY_SERVERS=corral`` (or ``zookeeper``) limits the run to one kind.
The plugin's fixtures (zk, make_zk, expire_session, drop_connections) are
used as any project would use them; only ``corral_server`` is overridden,
to parametrize it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from corral.testing import EmbeddedServer

ZK_JARS = ("/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar")
KINDS = [k for k in os.environ.get("CORRAL_PY_SERVERS", "corral,zookeeper").split(",") if k]


def zookeeper_missing() -> Optional[str]:
    missing = [j for j in ZK_JARS if not os.path.exists(j)]
    if missing:
        return f"missing {', '.join(missing)} (apt-get install zookeeper)"
    if shutil.which("java") is None:
        return "no java on PATH"
    return None


def four_letter_word(port: int, word: bytes, timeout: float = 1.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


class ZooKeeperServer:
    """Apache ZooKeeper 3.8, standalone, in a temporary directory."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="corral-py-zk-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (self.dir / "data").mkdir()
        cfg = {
            "tickTime": "200",
            "dataDir": str(self.dir / "data"),
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "maxClientCnxns": "0",
            "minSessionTimeout": "400",
            "maxSessionTimeout": "30000",
            "4lw.commands.whitelist": "*",
            "admin.enableServer": "false",
        }
        (self.dir / "zoo.cfg").write_text("".join(f"{k}={v}\n" for k, v in cfg.items()))
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [
                "java",
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.extendedTypesEnabled=true",
                "-Dznode.container.checkIntervalMs=500",
                "-Dzookeeper.admin.enableServer=false",
                "-cp",
                ":".join(ZK_JARS),
                "org.apache.zookeeper.server.ZooKeeperServerMain",
                str(self.dir / "zoo.cfg"),
            ],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ZooKeeper exited: {(self.dir / 'server.log').read_text()[-2000:]}")
            try:
                if four_letter_word(self.port, b"ruok") == b"imok" and b"not currently serving" not in four_letter_word(
                    self.port, b"srvr"
                ):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("ZooKeeper did not answer ruok within 30 s")

    @property
    def hosts(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session", params=KINDS)
def corral_server(request: pytest.FixtureRequest) -> Iterator[object]:
    """The server under test: corral's EmbeddedServer, or Apache ZooKeeper 3.8."""
    if request.param == "corral":
        with EmbeddedServer() as server:
            yield server
    elif request.param == "zookeeper":
        reason = zookeeper_missing()
        if reason:
            pytest.fail(f"Apache ZooKeeper unavailable: {reason} (set CORRAL_PY_SERVERS=corral to test corral alone)")
        server = ZooKeeperServer()
        try:
            yield server
        finally:
            server.stop()
    else:
        raise ValueError(f"unknown server kind {request.param!r} in CORRAL_PY_SERVERS")


@pytest.fixture
def server_kind(corral_server: object) -> str:
    """'corral' or 'zookeeper'."""
    return "corral" if isinstance(corral_server, EmbeddedServer) else "zookeeper"

