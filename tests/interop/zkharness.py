"""Start, stop, restart and kill a ZooKeeper-protocol server for interop tests.

Two kinds of server speak the same protocol and read the same zoo.cfg:

* ``corral``    -- ``$CORRAL_BIN server --config zoo.cfg`` (the system under test);
* ``zookeeper`` -- Apache ZooKeeper 3.8 from the Debian package, run as the oracle.

A server lives in its own temporary directory (zoo.cfg, data, datalog, server.log)
on a free loopback port. Restarting reuses the directory and the port, so a client's
session and the data on disk carry over. Processes are stopped by their pid only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

KINDS = ("corral", "zookeeper")

# The superuser the generated zoo.cfg trusts (DigestAuthenticationProvider.superDigest).
SUPER_USER = "super"
SUPER_PASSWORD = "superpw"

# Short ticks keep expiry and restart tests fast: sessions may range 400 ms .. 10 s.
TICK_TIME_MS = 200
MIN_SESSION_TIMEOUT_MS = 2 * TICK_TIME_MS
MAX_SESSION_TIMEOUT_MS = 10_000
CONTAINER_CHECK_INTERVAL_MS = 500

READY_TIMEOUT_S = float(os.environ.get("INTEROP_READY_TIMEOUT", "30"))
STOP_TIMEOUT_S = 15.0

ZK_JARS = ("/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar")


def digest(user: str, password: str) -> str:
    """The id ZooKeeper's digest scheme derives: ``user:base64(sha1(user:password))``."""
    raw = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(raw).decode()}"


SUPER_DIGEST = digest(SUPER_USER, SUPER_PASSWORD)

_ports_lock = threading.Lock()
_ports_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on, never the same twice in one test run."""
    with _ports_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _ports_handed_out:
                _ports_handed_out.add(port)
                return port
    raise RuntimeError("no free loopback port found")


def four_letter_word(port: int, word: str, timeout: float = 2.0, host: str = "127.0.0.1") -> str:
    """Send a four-letter word and read the answer until the server closes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(word.encode("ascii"))
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def corral_bin() -> Path:
    """The corral binary from $CORRAL_BIN; raises with a clear message when unusable."""
    value = os.environ.get("CORRAL_BIN")
    if not value:
        raise ServerError(
            "CORRAL_BIN is not set: build with `cargo build` and run with "
            "CORRAL_BIN=target/debug/corral (tests/run-all.sh does both)"
        )
    path = Path(value)
    if not path.is_absolute():
        path = (REPO_ROOT / path) if not path.exists() else path.resolve()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ServerError(f"CORRAL_BIN={value!r}: no executable file at {path}")
    return path


def zookeeper_available() -> str | None:
    """None when Apache ZooKeeper can be started here, else the reason why not."""
    missing = [j for j in ZK_JARS if not os.path.exists(j)]
    if missing:
        return f"missing {', '.join(missing)} (apt-get install zookeeper)"
    if not _which("java"):
        return "no java on PATH (apt-get install zookeeper pulls in default-jre)"
    return None


def _which(cmd: str) -> str | None:
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, cmd)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


class ServerError(RuntimeError):
    pass


class Server:
    """One server process of either kind, restartable on the same port and directory."""

    def __init__(
        self,
        kind: str,
        workdir: Path,
        config: dict[str, str] | None = None,
        port: int | None = None,
    ):
        if kind not in KINDS:
            raise ValueError(f"unknown server kind {kind!r}")
        self.kind = kind
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.data_dir = self.workdir / "data"
        self.datalog_dir = self.workdir / "datalog"
        self.config_path = self.workdir / "zoo.cfg"
        self.log_path = self.workdir / "server.log"
        self.config = self._default_config()
        self.config.update(config or {})
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._write_config()

    # ---- configuration -------------------------------------------------------------

    def _default_config(self) -> dict[str, str]:
        return {
            "tickTime": str(TICK_TIME_MS),
            "dataDir": str(self.data_dir),
            "dataLogDir": str(self.datalog_dir),
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "maxClientCnxns": "0",
            "minSessionTimeout": str(MIN_SESSION_TIMEOUT_MS),
            "maxSessionTimeout": str(MAX_SESSION_TIMEOUT_MS),
            "4lw.commands.whitelist": "*",
            "autopurge.snapRetainCount": "3",
            "autopurge.purgeInterval": "0",
            "extendedTypesEnabled": "true",
            "znode.container.checkIntervalMs": str(CONTAINER_CHECK_INTERVAL_MS),
            "DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
            # A ZooKeeper-only key an operator's zoo.cfg typically has: corral must
            # warn and ignore it.
            "admin.enableServer": "false",
        }

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.datalog_dir.mkdir(parents=True, exist_ok=True)
        lines = [f"{k}={v}" for k, v in self.config.items()]
        self.config_path.write_text("\n".join(lines) + "\n")

    def _command(self) -> list[str]:
        if self.kind == "corral":
            return [str(corral_bin()), "server", "--config", str(self.config_path)]
        reason = zookeeper_available()
        if reason:
            raise ServerError(f"cannot start Apache ZooKeeper: {reason}")
        # Settings 3.8 reads only as JVM system properties (see zoo.cfg note above).
        props = {
            "zookeeper.extendedTypesEnabled": self.config.get("extendedTypesEnabled", "true"),
            "znode.container.checkIntervalMs": self.config["znode.container.checkIntervalMs"],
            "zookeeper.DigestAuthenticationProvider.superDigest": self.config[
                "DigestAuthenticationProvider.superDigest"
            ],
            "zookeeper.admin.enableServer": "false",
        }
        if "readonlymode.enabled" in self.config:
            # Read as a JVM system property only.
            props["readonlymode.enabled"] = self.config["readonlymode.enabled"]
        return [
            "java",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            *[f"-D{k}={v}" for k, v in props.items()],
            "-cp",
            ":".join(ZK_JARS),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain"
            if any(k.startswith("server.") for k in self.config)
            else "org.apache.zookeeper.server.ZooKeeperServerMain",
            str(self.config_path),
        ]

    # ---- lifecycle -----------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address clients reach the server at (its ``clientPortAddress``)."""
        return self.config["clientPortAddress"]

    @property
    def hosts(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait: bool = True) -> None:
        if self.alive():
            raise ServerError(f"{self.kind} already running (pid {self.pid})")
        cmd = self._command()
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "RUST_BACKTRACE": "1"},
            )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Poll ``ruok`` until the server answers ``imok`` and serves; fail with the log tail."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if not self.alive():
                raise ServerError(
                    f"{self.kind} exited with status {self.proc.returncode} before it "
                    f"answered ruok on port {self.port}\n{self.log_tail()}"
                )
            try:
                answer = four_letter_word(self.port, "ruok", timeout=1.0)
                if answer == "imok":
                    # ruok is answered as soon as the listener is up; ZooKeeper may still
                    # be loading its database then, which srvr tells.
                    answer = four_letter_word(self.port, "srvr", timeout=1.0)
                    if "not currently serving" not in answer:
                        return
                last = f"answered {answer!r}"
            except OSError as e:
                last = f"{type(e).__name__}: {e}"
            time.sleep(0.05)
        self.kill()
        raise ServerError(
            f"{self.kind} did not answer ruok with imok on port {self.port} within "
            f"{timeout:.0f}s (last: {last})\n{self.log_tail()}"
        )

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Signal the server (by pid), wait for it, SIGKILL if it lingers. Returns status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT_S)
                with open(self.log_path, "ab") as log:
                    log.write(
                        f"\n===== did not exit {STOP_TIMEOUT_S:.0f}s after signal {sig}: killed\n".encode()
                    )
        return self.proc.returncode

    def kill(self) -> int | None:
        """kill -9: no chance to flush or say goodbye."""
        return self.stop(signal.SIGKILL)

    def restart(self, sig: int = signal.SIGTERM) -> None:
        """Stop with ``sig`` and start again on the same port with the same data."""
        self.stop(sig)
        self.start()

    def mode(self, timeout: float = 1.0) -> str | None:
        """``leader``, ``follower``, ``observer`` or ``standalone`` from ``srvr``; None
        while the server does not serve (no quorum) or does not answer."""
        try:
            answer = four_letter_word(self.port, "srvr", timeout=timeout, host=self.host)
        except OSError:
            return None
        for line in answer.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return None

    def mntr(self) -> dict[str, str]:
        """The ``mntr`` figures as a dict (empty while not serving)."""
        try:
            answer = four_letter_word(self.port, "mntr", timeout=1.0, host=self.host)
        except OSError:
            return {}
        return dict(line.split("\t", 1) for line in answer.splitlines() if "\t" in line)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return f"(no log at {self.log_path})"
        tail = "\n".join(text[-lines:])
        return f"--- last {min(lines, len(text))} lines of {self.log_path} ---\n{tail}"

    def __repr__(self) -> str:
        state = "running" if self.alive() else "stopped"
        return f"<Server {self.kind} {self.hosts} {state} pid={self.pid}>"


class Ensemble:
    """A replicated ensemble of ``size`` members of one kind on loopback, each a
    :class:`Server` with its own directory, ``myid`` file and client port, all
    sharing the ``server.N`` lines (``observers`` extra members as observers)."""

    def __init__(
        self,
        kind: str,
        workdir: Path,
        size: int = 3,
        observers: int = 0,
        config: dict[str, str] | None = None,
        spares: int = 0,
        client_part: bool = True,
        ports_of: Ensemble | None = None,
    ):
        """``client_part=False`` writes classic ``server.N=host:peer:election`` lines
        (each member's client port only in its own ``clientPort``); ``ports_of``
        reuses another (stopped) ensemble's ports, so that both kinds run the same
        ``zoo.cfg`` files."""
        self.kind = kind
        total = size + observers
        ids = range(1, total + spares + 1)
        if ports_of is None:
            self.peer_ports = {i: (free_port(), free_port()) for i in ids}
            self.ports = {i: free_port() for i in ids}
        else:
            self.peer_ports, self.ports = dict(ports_of.peer_ports), dict(ports_of.ports)
        #: Members outside the first membership, started by hand and added with reconfig.
        self.spares = set(range(total + 1, total + spares + 1))
        lines = {}
        for i in ids:
            role = ":observer" if size < i <= total else ""
            client = f";127.0.0.1:{self.ports[i]}" if client_part else ""
            lines[f"server.{i}"] = f"127.0.0.1:{self.peer_ports[i][0]}:{self.peer_ports[i][1]}{role}{client}"
        self.lines = lines
        self.members: dict[int, Server] = {}
        for i in ids:
            # The first members know each other; a spare also knows itself.
            known = {k: v for k, v in lines.items() if int(k.split(".")[1]) <= total or k == f"server.{i}"}
            member_config = {"initLimit": "10", "syncLimit": "5", **known, **(config or {})}
            if size < i <= total:
                member_config["peerType"] = "observer"
            srv = Server(kind, Path(workdir) / f"member{i}", member_config, port=self.ports[i])
            (srv.data_dir / "myid").write_text(f"{i}\n")
            self.members[i] = srv

    @property
    def hosts(self) -> str:
        return ",".join(m.hosts for i, m in self.members.items() if i not in self.spares)

    def start(self, timeout: float = READY_TIMEOUT_S) -> None:
        for i, m in self.members.items():
            if not m.alive() and i not in self.spares:
                m.start(wait=False)
        self.wait_serving(timeout=timeout)

    def wait_serving(self, ids=None, timeout: float = READY_TIMEOUT_S) -> None:
        """Wait until the running members (or ``ids``) serve, with exactly one leader."""
        ids = list(ids or [i for i, m in self.members.items() if m.alive()])

        def ready():
            for i in ids:
                if not self.members[i].alive():
                    raise ServerError(f"member {i} exited\n{self.members[i].log_tail()}")
            modes = [self.members[i].mode() for i in ids]
            leaders = [i for i in self.members if self.members[i].alive() and self.members[i].mode() == "leader"]
            return all(m in ("leader", "follower", "observer") for m in modes) and len(leaders) == 1

        try:
            wait_until(ready, timeout=timeout, interval=0.1, message=f"{self.kind} ensemble did not settle")
        except AssertionError:
            tails = "\n".join(m.log_tail(30) for m in self.members.values())
            raise AssertionError(f"{self.kind} ensemble did not settle within {timeout}s\n{tails}") from None

    def leader(self, timeout: float = READY_TIMEOUT_S) -> int:
        """The id of the (one) member that reports ``Mode: leader``."""

        def find():
            found = [i for i, m in self.members.items() if m.alive() and m.mode() == "leader"]
            return found[0] if len(found) == 1 else None

        return wait_until(find, timeout=timeout, interval=0.05, message="no single leader")

    def followers(self) -> list[int]:
        return [i for i, m in self.members.items() if m.alive() and m.mode() == "follower"]

    def hosts_starting_at(self, i: int) -> str:
        """A connect string with member ``i`` first (use with randomize_hosts=False)."""
        order = [i] + [j for j in self.members if j != i]
        return ",".join(self.members[j].hosts for j in order)

    def last_zxids(self) -> dict[int, int]:
        """Each member's last zxid from ``srvr`` (-1 if it does not answer)."""
        out = {}
        for i, m in self.members.items():
            out[i] = -1
            if not m.alive():
                continue
            try:
                answer = four_letter_word(m.port, "srvr", timeout=1.0)
            except OSError:
                continue
            for line in answer.splitlines():
                if line.startswith("Zxid: "):
                    out[i] = int(line[len("Zxid: "):], 16)
        return out

    def wait_converged(self, timeout: float = 30.0) -> int:
        """Wait until every running member reports the same last zxid; return it."""

        def same():
            zx = [z for i, z in self.last_zxids().items() if self.members[i].alive()]
            return zx[0] if zx and zx[0] >= 0 and all(z == zx[0] for z in zx) else None

        return wait_until(same, timeout=timeout, interval=0.1, message="members did not converge")

    def stop(self) -> None:
        for m in self.members.values():
            m.stop()

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(m.log_tail(lines) for m in self.members.values())


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll ``predicate`` until it returns a truthy value; return it or raise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        time.sleep(interval)
