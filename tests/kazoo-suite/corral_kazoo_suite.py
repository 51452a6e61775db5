"""pytest plugin: run kazoo 2.11.0's own, unchanged test suite (``kazoo.tests``) against
corral or Apache ZooKeeper, with kazoo's client or corral's kazoo-compatible one.

Loaded by ``tests/kazoo-suite/run.sh`` as ``-p corral_kazoo_suite``. Two independent
choices come from the environment:

``KAZOO_SUITE_SERVER=zookeeper|corral`` (default ``corral``)
    ``zookeeper``: kazoo's own harness (``kazoo.testing.harness.get_global_cluster``)
    starts a 3-member Apache ZooKeeper 3.8 cluster from the Debian package; this plugin
    only sets ``ZOOKEEPER_CLASSPATH``/``ZOOKEEPER_VERSION`` when they are unset.
    ``corral``: ``get_global_cluster`` is replaced by :func:`corral_global_cluster`, a
    cluster of the same shape (:class:`CorralCluster`, :class:`CorralServer`) backed by
    three ``$CORRAL_BIN server`` processes on kazoo's port layout and zoo.cfg.

``KAZOO_SUITE_CLIENT=kazoo|corral`` (default ``kazoo``)
    ``corral``: before any test module is imported, ``kazoo.client.KazooClient`` (and the
    name the harness imported) becomes ``corral.kazoo.KazooClient``, and the classes and
    functions of every other kazoo module that ``corral.kazoo`` mirrors become corral's:
    the recipes of ``kazoo.recipe.*``, the exceptions, the retry, paths, states and
    security helpers, the threading handler (:func:`substitute_corral_client`). The
    harness's ``lose_connection``/``expire_session``, which call kazoo's private
    ``client._call(...)``, are replaced by versions that use only the client's public
    API and the server (:func:`public_lose_connection`, :func:`public_expire_session`).
    ``KAZOO_SUITE_PUBLIC_BREAKS=1`` uses those replacements with kazoo's client too, to
    check them against ZooKeeper (there, only TestClientTransitions fails: it asserts
    the states of kazoo's simulated expiry, see expected.txt).

Other environment: ``CORRAL_BIN`` (default target/debug/corral), ``KAZOO_SUITE_EXPECTED``
(another expectations file), ``KAZOO_SUITE_WORKDIR`` (the corral members' directories
and logs, default target/kazoo-suite/<client>-<server>), ``KAZOO_SUITE_READY_TIMEOUT``.
A test that hangs: ``kill -USR2 <pytest pid>`` appends all thread stacks to
target/kazoo-suite/stacks-<client>-<server>.txt.

``tests/kazoo-suite/expected.txt`` lists the tests that cannot apply to a combination
(see its header). They are deselected or run as strict xfail, and the run ends with one
line ``kazoo-suite (<client> client, <server> server): N passed, M failed, K excluded``.
"""

from __future__ import annotations

import faulthandler
import fnmatch
import importlib
import logging
import os
import pkgutil
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

SERVERS = ("zookeeper", "corral")
CLIENTS = ("kazoo", "corral")

SERVER = os.environ.get("KAZOO_SUITE_SERVER", "corral")
CLIENT = os.environ.get("KAZOO_SUITE_CLIENT", "kazoo")
PUBLIC_BREAKS = CLIENT == "corral" or os.environ.get("KAZOO_SUITE_PUBLIC_BREAKS") == "1"
STACKS_FILE = REPO_ROOT / "target" / "kazoo-suite" / f"stacks-{CLIENT}-{SERVER}.txt"
EXPECTATIONS_FILE = Path(os.environ.get("KAZOO_SUITE_EXPECTED", HERE / "expected.txt"))
# Server directories and logs of the corral cluster (kept after the run for reading).
WORK_DIR = Path(os.environ.get("KAZOO_SUITE_WORKDIR", REPO_ROOT / "target" / "kazoo-suite" / f"{CLIENT}-{SERVER}"))

# Apache ZooKeeper 3.8 from Debian: zookeeper.jar's manifest names most of its
# dependencies; kazoo's harness writes a log4j 1.2 configuration (zookeeper.log), so the
# slf4j binding for log4j 1.2 goes first, and the Netty server factory with TLS that
# kazoo's zoo.cfg selects needs netty-codec and netty-resolver, which the manifest omits.
DEBIAN_ZOOKEEPER_CLASSPATH = ":".join(
    f"/usr/share/java/{jar}.jar"
    for jar in (
        "zookeeper",
        "slf4j-log4j12",
        "log4j-1.2",
        "netty-codec",
        "netty-resolver",
        "netty-transport-native-unix-common",
    )
)
DEBIAN_ZOOKEEPER_VERSION = "3.8.0"

# kazoo's harness: the superuser "super" with password "test" (a JVM system property
# for ZooKeeper; corral reads the same key from zoo.cfg).
SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

READY_TIMEOUT_S = float(os.environ.get("KAZOO_SUITE_READY_TIMEOUT", "60"))
STOP_TIMEOUT_S = 15.0

log = logging.getLogger("corral_kazoo_suite")


# ---- the corral cluster -------------------------------------------------------------


def four_letter_word(port: int, word: str, timeout: float = 2.0) -> str:
    """Send a four-letter word to 127.0.0.1:port and read the answer until EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word.encode("ascii"))
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def server_mode(port: int) -> str | None:
    """``leader``/``follower``/``observer``/``standalone``/``read-only`` from ``srvr``,
    or None while the server does not answer or does not serve."""
    try:
        answer = four_letter_word(port, "srvr", timeout=1.0)
    except OSError:
        return None
    for line in answer.splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):].strip()
    return None


def corral_bin() -> Path:
    value = os.environ.get("CORRAL_BIN") or str(REPO_ROOT / "target" / "debug" / "corral")
    path = Path(value)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(f"CORRAL_BIN={value!r}: no executable corral binary at {path}")
    return path


class CorralServer:
    """One corral member with the interface of kazoo's ``ManagedZooKeeper``: ``run()``,
    ``stop()``, ``reset()``, ``destroy()``, ``running``, ``address``, ``secure_address``,
    ``client_port``, ``secure_client_port``, ``server_info``, ``get_logs()``.

    It writes the zoo.cfg kazoo writes for ZooKeeper (same keys, same ports), plus the
    two settings kazoo passes to ZooKeeper as JVM system properties
    (``readonlymode.enabled``, ``DigestAuthenticationProvider.superDigest``), which
    corral reads from zoo.cfg. Keys corral does not use (``secureClientPort``,
    ``admin.serverPort``, ``serverCnxnFactory``, ``authProvider.1``, ``ssl.*``) are
    written too: corral logs a warning and ignores them, so its TLS port stays closed.
    Like kazoo's, ``run()`` returns once the process is started (the cluster's
    ``start()`` waits until the ensemble serves).
    """

    def __init__(self, server_info, peers, workdir: Path, configuration_entries, ssl_configuration):
        self.server_info = server_info
        self.peers = peers
        self.host = "127.0.0.1"
        self.working_path = str(workdir)
        self.configuration_entries = list(configuration_entries)
        self.ssl_configuration = ssl_configuration
        self.process: subprocess.Popen | None = None
        # The log survives destroy(): one file per member for the whole run.
        self.log_path = workdir.parent / f"server{server_info.server_id}.log"
        self._running = False
        self.starts = 0

    # -- kazoo's ManagedZooKeeper interface --

    @property
    def running(self) -> bool:
        return self._running

    @property
    def client_port(self) -> int:
        return self.server_info.client_port

    @property
    def secure_client_port(self) -> int:
        return self.server_info.secure_client_port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.client_port}"

    @property
    def secure_address(self) -> str:
        return f"{self.host}:{self.secure_client_port}"

    def run(self) -> None:
        if self.running:
            return
        work = Path(self.working_path)
        data = work / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "myid").write_text(str(self.server_info.server_id))
        config_path = work / "zoo.cfg"
        keystore, truststore = work / "keystore.jks", work / "truststore.jks"
        if self.ssl_configuration:
            self.ssl_configuration["truststore"].save(str(truststore), "apassword")
            self.ssl_configuration["keystore"].save(str(keystore), "apassword")
        info = self.server_info
        lines = [
            "tickTime=2000",
            f"dataDir={data}",
            f"clientPort={info.client_port}",
            f"secureClientPort={info.secure_client_port}",
            "maxClientCnxns=0",
            f"admin.serverPort={info.admin_port}",
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
            "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
            f"ssl.keyStore.location={keystore}",
            "ssl.keyStore.password=apassword",
            f"ssl.trustStore.location={truststore}",
            "ssl.trustStore.password=apassword",
            *self.configuration_entries,
            # JVM system properties in kazoo's harness:
            "readonlymode.enabled=true",
            f"DigestAuthenticationProvider.superDigest={SUPER_DIGEST}",
        ]
        if self.peers:
            lines += ["initLimit=4", "syncLimit=2"]
            for p in [info, *self.peers]:
                lines.append(f"server.{p.server_id}=localhost:{p.leader_port}:{p.election_port}:{p.peer_type}")
            lines.append(f"peerType={info.peer_type}")
        config_path.write_text("\n".join(lines) + "\n")
        cmd = [str(corral_bin()), "server", "--config", str(config_path)]
        self.starts += 1
        with open(self.log_path, "ab") as out:
            out.write(f"\n===== {time.strftime('%H:%M:%S')} start #{self.starts}: {' '.join(cmd)}\n".encode())
            out.flush()
            # Same process group as pytest: `timeout` in run.sh reaches the servers too.
            self.process = subprocess.Popen(
                cmd,
                cwd=self.working_path,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "RUST_BACKTRACE": "1"},
            )
        log.info("started corral member %s (pid %s) on port %s", info.server_id, self.process.pid, info.client_port)
        self._running = True

    def stop(self) -> None:
        """SIGTERM (SIGKILL after 15 s) and wait; the data stays."""
        if not self.running:
            return
        proc = self.process
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self._note(f"did not exit {STOP_TIMEOUT_S:.0f} s after SIGTERM: killed")
        if proc.returncode not in (0, -signal.SIGTERM):
            self._note(f"exited with status {proc.returncode}")
            log.warning("corral member %s exited with status %s", self.server_info.server_id, proc.returncode)
        self._running = False

    def reset(self) -> None:
        """Stop and wipe the data directory (kazoo's ``reset``)."""
        self.stop()
        shutil.rmtree(Path(self.working_path) / "data", ignore_errors=True)

    def destroy(self) -> None:
        """Stop and remove the working directory (the log file is kept)."""
        self.stop()
        shutil.rmtree(self.working_path, ignore_errors=True)

    def get_logs(self, num_lines: int = 100) -> list[str]:
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.readlines()[-num_lines:]
        except FileNotFoundError:
            return []

    # -- helpers --

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _note(self, text: str) -> None:
        with open(self.log_path, "ab") as out:
            out.write(f"\n===== {time.strftime('%H:%M:%S')} {text}\n".encode())

    def __repr__(self) -> str:
        return f"<CorralServer {self.server_info.server_id} {self.address} running={self.running}>"


def _corral_cluster_class():
    """:class:`CorralCluster`, built lazily: kazoo.testing.common imports pyOpenSSL."""
    from kazoo.testing.common import ServerInfo, ZookeeperCluster

    class CorralCluster(ZookeeperCluster):
        """kazoo's ``ZookeeperCluster`` (iteration, ``[i]``, ``start``, ``stop``,
        ``terminate``, ``reset``, ``get_logs``, ``get_ssl_client_configuration``, its
        generated test certificates) with :class:`CorralServer` members on kazoo's port
        layout: member i (from 0) has client port offset+10i, election +1, peer +2,
        admin +3, TLS +4."""

        def __init__(self, port_offset=20000, size=3, observer_start_id=-1, configuration_entries=()):
            self._install_path = None
            self._classpath = None
            self._servers = []
            self._ssl_configuration = {}
            self.perform_ssl_certs_generation()
            infos = []
            for i in range(size):
                server_id = i + 1
                port = port_offset + 10 * i
                peer_type = "observer" if observer_start_id != -1 and server_id >= observer_start_id else "participant"
                infos.append(ServerInfo(server_id, port, port + 4, port + 1, port + 2, port + 3, peer_type))
            for i, info in enumerate(infos):
                peers = infos[:i] + infos[i + 1:]
                self._servers.append(
                    CorralServer(
                        info,
                        peers,
                        WORK_DIR / f"member{info.server_id}",
                        configuration_entries,
                        dict(self._ssl_configuration),
                    )
                )

        def start(self):
            # Reverse order as kazoo's; then wait until the ensemble serves instead of
            # kazoo's fixed two-second sleep.
            for server in reversed(list(self)):
                server.run()
            self.wait_serving()

        def wait_serving(self, timeout: float = READY_TIMEOUT_S) -> bool:
            """Until every running member is leader/follower/observer with one leader."""
            deadline = time.monotonic() + timeout
            modes: list = []
            while time.monotonic() < deadline:
                running = [s for s in self if s.running]
                for s in running:
                    if not s.alive():
                        log.error("corral member %s died:\n%s", s.server_info.server_id, "".join(s.get_logs(30)))
                        return False
                modes = [server_mode(s.client_port) for s in running]
                if all(m in ("leader", "follower", "observer", "standalone") for m in modes) and (
                    modes.count("leader") == 1 or modes == ["standalone"]
                ):
                    return True
                time.sleep(0.1)
            log.error("corral cluster not serving after %.0f s (modes %s)", timeout, modes)
            return False

        def stop(self):
            # kazoo's stop() also forgets its members; keep them (nothing calls it, but
            # a later start() would otherwise have no members).
            for server in self:
                server.stop()

    return CorralCluster


CLUSTER = None
CLUSTER_CONF = None


def corral_global_cluster():
    """The corral stand-in for ``kazoo.testing.harness.get_global_cluster``: one cluster,
    rebuilt when the ``ZOOKEEPER_*`` variables the harness reads change (tests set
    ``ZOOKEEPER_LOCAL_SESSION_RO`` and ``ZOOKEEPER_JAAS_AUTH`` around some classes), with
    the zoo.cfg entries kazoo's harness adds for ZooKeeper 3.5+."""
    global CLUSTER, CLUSTER_CONF
    from kazoo.testing import harness

    conf = {
        k: os.environ.get(k, harness.CLUSTER_DEFAULTS.get(k))
        for k in (
            "ZOOKEEPER_PORT_OFFSET",
            "ZOOKEEPER_CLUSTER_SIZE",
            "ZOOKEEPER_OBSERVER_START_ID",
            "ZOOKEEPER_JAAS_AUTH",
            "ZOOKEEPER_LOCAL_SESSION_RO",
        )
    }
    if CLUSTER is not None:
        if conf == CLUSTER_CONF:
            return CLUSTER
        log.info("cluster settings changed: new corral cluster")
        CLUSTER.terminate()
        CLUSTER = None
    local_ro = conf["ZOOKEEPER_LOCAL_SESSION_RO"]
    # ZOOKEEPER_JAAS_AUTH (SASL) has no corral equivalent: it only selects a JAAS file
    # for ZooKeeper, so the corral cluster is the same with or without it.
    CLUSTER = _corral_cluster_class()(
        port_offset=int(conf["ZOOKEEPER_PORT_OFFSET"]),
        size=int(conf["ZOOKEEPER_CLUSTER_SIZE"]),
        observer_start_id=int(conf["ZOOKEEPER_OBSERVER_START_ID"]),
        configuration_entries=[
            "4lw.commands.whitelist=*",
            "reconfigEnabled=true",
            f"localSessionsEnabled={local_ro}",
            f"localSessionsUpgradingEnabled={local_ro}",
        ],
    )
    CLUSTER_CONF = conf
    return CLUSTER


def _terminate_corral_cluster():
    if CLUSTER is not None:
        CLUSTER.terminate()


# ---- breaking a client's connection or session by public means ----------------------


def _session_server(client) -> list:
    """Cluster members ordered so that the one serving ``client``'s session (``cons``
    lists ``sid=0x...`` per connection) comes first."""
    from kazoo.testing import harness

    session_id = client.client_id[0]
    members = [s for s in harness.get_global_cluster() if s.running]
    needle = f"sid=0x{session_id:x},"
    for s in members:
        try:
            if needle in four_letter_word(s.client_port, "cons", timeout=2.0):
                return [s] + [m for m in members if m is not s]
        except OSError:
            pass
    return members


def _reattach_raw(port: int, session_id: int, password: bytes) -> None:
    """Open a plain protocol connection that reattaches ``session_id`` (a ConnectRequest
    with its password), read the answer, and drop the socket without closing the
    session. A ZooKeeper server closes the connection that held the session on this
    server when another connection takes it over."""
    body = struct.pack(">iqiq", 0, 0, 10_000, session_id) + struct.pack(">i", len(password)) + password + b"\x00"
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        s.recv(4096)


def _break(harness_self, expected_state, event_factory, breaker) -> None:
    """What kazoo's private ``KazooTestHarness.__break_connection`` checks, with a
    pluggable way of breaking: the client must report ``expected_state`` within 5 s,
    then CONNECTED again within 15 s, then answer a request."""
    from kazoo.protocol.states import KazooState

    client = harness_self.client
    lost = event_factory()
    safe = event_factory()

    def watch_loss(state):
        if state == expected_state:
            lost.set()
        elif lost.is_set() and state == KazooState.CONNECTED:
            safe.set()
            return True

    client.add_listener(watch_loss)
    breaker(client)

    lost.wait(5)
    if not lost.is_set():
        raise Exception("Failed to get notified of broken connection.")

    safe.wait(15)
    if not safe.is_set():
        raise Exception("Failed to see client reconnect.")

    client.retry(client.get_async, "/")


def public_lose_connection(self, event_factory):
    """``KazooTestHarness.lose_connection`` by server-side means: the member serving the
    client's session (found with ``cons``) gets a second connection that reattaches the
    same session with its id and password, so it closes the client's connection, as
    ZooKeeper and corral do when a session moves to a new connection. That connection
    then goes away without closing the session; the client sees SUSPENDED and
    reconnects to the same session. Nothing is restarted."""

    def breaker(client):
        session_id, password = client.client_id
        _reattach_raw(_session_server(client)[0].client_port, session_id, password)

    from kazoo.protocol.states import KazooState

    _break(self, KazooState.SUSPENDED, event_factory, breaker)


def public_expire_session(self, event_factory):
    """``KazooTestHarness.expire_session`` by public means: a second, plain kazoo client
    attaches the session (``client_id`` = session id and password), on another member
    where there is one, and closes it; the server then ends the session and the client
    sees LOST, then connects with a new session."""

    def breaker(client):
        members = _session_server(client)
        target = members[1] if len(members) > 1 else members[0]
        other = ORIGINAL_KAZOO_CLIENT(hosts=target.address, client_id=client.client_id, timeout=10)
        try:
            other.start(timeout=10)
            other.stop()
        finally:
            other.close()

    from kazoo.protocol.states import KazooState

    _break(self, KazooState.LOST, event_factory, breaker)


# ---- client substitution --------------------------------------------------------------

ORIGINAL_KAZOO_CLIENT = None
SUBSTITUTED: list[str] = []


def substitute_corral_client() -> None:
    """Make kazoo's tests use corral's kazoo-compatible client, recipes and helpers.

    ``corral.kazoo`` mirrors kazoo's module paths (``client``, ``exceptions``, ``retry``,
    ``security``, ``protocol.states``, ``protocol.paths``, ``handlers.threading``,
    ``recipe.*``...). For every module it mirrors, each public class or function that
    kazoo's module defines and corral's module also has is replaced by corral's. This
    covers ``kazoo.client.KazooClient`` and the recipe classes tests import from
    ``kazoo.recipe.*``, and also the exception classes: corral's client raises its own
    classes, which must be the ones ``pytest.raises(kazoo.exceptions.NoNodeError)``
    expects. It runs before any test module is imported, so their ``from kazoo.x
    import Y`` get corral's; kazoo's own modules keep the names they bound when they
    were imported (the plain kazoo client that expire_session uses stays kazoo's)."""
    import kazoo.client
    from kazoo.testing import harness

    try:
        corral_kazoo = importlib.import_module("corral.kazoo")
    except ImportError as e:
        raise pytest.UsageError(
            f"KAZOO_SUITE_CLIENT=corral: cannot import corral.kazoo ({e}); build the Python "
            "binding (maturin develop -m bindings-python/Cargo.toml) and put "
            "bindings-python/python on PYTHONPATH (run.sh does)"
        ) from e
    mirrored = ["corral.kazoo"] + [
        m.name for m in pkgutil.walk_packages(corral_kazoo.__path__, prefix="corral.kazoo.")
    ]
    for theirs_name in mirrored:
        ours_name = "kazoo" + theirs_name[len("corral.kazoo"):]
        try:
            ours = importlib.import_module(ours_name)
            theirs = importlib.import_module(theirs_name)
        except ImportError:
            continue
        for name, value in list(vars(ours).items()):
            if name.startswith("_") or not hasattr(theirs, name):
                continue
            if isinstance(value, type) or callable(value):
                if getattr(value, "__module__", None) == ours_name:
                    setattr(ours, name, getattr(theirs, name))
                    SUBSTITUTED.append(f"{ours_name}.{name}")
    harness.KazooClient = kazoo.client.KazooClient
    # corral's client runs on threads only. test_cache's KazooAdaptiveHandlerTestCase
    # takes the first handler it can import (gevent, eventlet, threading): make kazoo's
    # gevent and eventlet handlers unimportable, as if those packages were not
    # installed, so it takes the threading one. (The gevent/eventlet test modules are
    # deselected for corral's client in expected.txt.)
    for module in ("kazoo.handlers.gevent", "kazoo.handlers.eventlet"):
        sys.modules[module] = None
        SUBSTITUTED.append(f"{module}.(unavailable)")
    if kazoo.client.KazooClient is ORIGINAL_KAZOO_CLIENT:
        raise pytest.UsageError("corral.kazoo.client has no KazooClient")


def substitution_summary() -> str:
    """``kazoo.exceptions (52 names), kazoo.client (KazooClient, ...)``: what corral replaces."""
    by_module: dict[str, list[str]] = {}
    for full in SUBSTITUTED:
        module, _, name = full.rpartition(".")
        by_module.setdefault(module, []).append(name)
    parts = []
    for module, names in by_module.items():
        shown = ", ".join(names) if len(names) <= 6 else f"{len(names)} names"
        parts.append(f"{module} ({shown})")
    return "; ".join(parts)


# ---- expectations ---------------------------------------------------------------------


class Expectation:
    def __init__(self, client, server, action, pattern, reason, line):
        self.client, self.server, self.action = client, server, action
        self.pattern, self.reason, self.line = pattern, reason, line
        # `*` is the only wildcard: test ids contain `[`.
        self.regex = re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$")
        self.used = False

    def applies(self) -> bool:
        return fnmatch.fnmatchcase(CLIENT, self.client) and fnmatch.fnmatchcase(SERVER, self.server)


def load_expectations(path: Path) -> list[Expectation]:
    """Parse expected.txt: ``<client> <server> <deselect|xfail> <test id> <reason...>``."""
    out = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 4)
        if len(parts) < 5:
            raise pytest.UsageError(f"{path}:{n}: need <client> <server> <action> <test id> <reason>: {raw!r}")
        client, server, action, pattern, reason = parts
        if client not in (*CLIENTS, "*") or server not in (*SERVERS, "*") or action not in ("deselect", "xfail"):
            raise pytest.UsageError(f"{path}:{n}: bad client/server/action in {raw!r}")
        out.append(Expectation(client, server, action, pattern, reason, n))
    return out


def short_test_id(item) -> str:
    """The node id from ``kazoo/tests/`` on, whatever the rootdir."""
    nodeid = item.nodeid
    i = nodeid.find("kazoo/tests/")
    return nodeid[i:] if i >= 0 else nodeid


# ---- pytest hooks -----------------------------------------------------------------------

EXPECTATIONS: list[Expectation] = []
DESELECTED: list[tuple[str, str]] = []
XFAIL_MARKED: dict[str, str] = {}


def _exit_on_sigterm(signum, frame):
    # As Ctrl-C: pytest ends the session (a SystemExit would only fail the current test).
    raise KeyboardInterrupt(f"signal {signum}")


def _signals_to_main_thread_only() -> None:
    """Keep SIGALRM, SIGTERM and SIGINT away from every thread but the main one.

    pytest-timeout (signal method) and `timeout` in run.sh signal the process. The kernel
    hands such a signal to any thread that does not block it; with kazoo's connection
    and worker threads around, that is rarely the main thread, and a main thread
    blocked in a lock wait without timeout (``AsyncResult.get()``) then never wakes up to
    run the handler: the test hangs past its timeout. Threads started from here on
    block these signals, so the main thread gets them and its wait is interrupted."""
    blocked = {signal.SIGALRM, signal.SIGTERM, signal.SIGINT}
    bootstrap = threading.Thread._bootstrap_inner

    def _bootstrap_inner(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        bootstrap(self)

    threading.Thread._bootstrap_inner = _bootstrap_inner


def pytest_configure(config):
    global ORIGINAL_KAZOO_CLIENT, EXPECTATIONS
    if SERVER not in SERVERS or CLIENT not in CLIENTS:
        raise pytest.UsageError(
            f"KAZOO_SUITE_SERVER must be one of {SERVERS} (got {SERVER!r}), "
            f"KAZOO_SUITE_CLIENT one of {CLIENTS} (got {CLIENT!r})"
        )
    # A SIGTERM (from `timeout` or run.sh) ends the session as Ctrl-C does; the servers
    # are stopped in pytest_unconfigure (and at exit).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    _signals_to_main_thread_only()
    # `kill -USR2 <pytest pid>` appends every thread's stack to STACKS_FILE (for a test
    # that hangs; pytest captures stderr).
    STACKS_FILE.parent.mkdir(parents=True, exist_ok=True)
    faulthandler.register(signal.SIGUSR2, file=open(STACKS_FILE, "a"), all_threads=True)

    import kazoo.client
    from kazoo.testing import harness

    ORIGINAL_KAZOO_CLIENT = kazoo.client.KazooClient
    if SERVER == "zookeeper":
        os.environ.setdefault("ZOOKEEPER_CLASSPATH", DEBIAN_ZOOKEEPER_CLASSPATH)
        os.environ.setdefault("ZOOKEEPER_VERSION", DEBIAN_ZOOKEEPER_VERSION)
    else:
        corral_bin()  # fail early with a clear message
        if WORK_DIR.exists():
            shutil.rmtree(WORK_DIR)
        WORK_DIR.mkdir(parents=True)
        harness.get_global_cluster = corral_global_cluster
        import atexit

        atexit.register(_terminate_corral_cluster)
    if CLIENT == "corral":
        substitute_corral_client()
    if PUBLIC_BREAKS:
        harness.KazooTestHarness.lose_connection = public_lose_connection
        harness.KazooTestHarness.expire_session = public_expire_session
    EXPECTATIONS = load_expectations(EXPECTATIONS_FILE)


def pytest_report_header(config):
    lines = [f"kazoo-suite: {CLIENT} client, {SERVER} server; expectations from {EXPECTATIONS_FILE}"]
    if SERVER == "corral":
        lines.append(f"kazoo-suite: corral = {corral_bin()}, server dirs and logs in {WORK_DIR}")
    else:
        lines.append(f"kazoo-suite: ZOOKEEPER_CLASSPATH={os.environ['ZOOKEEPER_CLASSPATH']}")
    if SUBSTITUTED:
        lines.append("kazoo-suite: corral's replace " + substitution_summary())
    if PUBLIC_BREAKS:
        lines.append("kazoo-suite: lose_connection/expire_session by public means")
    return lines


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    # trylast: after -k/-m, so that only tests still selected count as excluded.
    active = [e for e in EXPECTATIONS if e.applies()]
    keep, drop = [], []
    for item in items:
        tid = short_test_id(item)
        matching = [e for e in active if e.regex.match(tid)]
        for e in matching:
            e.used = True
        if not matching:
            keep.append(item)
            continue
        match = matching[0]  # the first line that matches applies
        if match.action == "deselect":
            drop.append(item)
            DESELECTED.append((tid, match.reason))
        else:
            item.add_marker(pytest.mark.xfail(reason=match.reason, strict=True))
            XFAIL_MARKED[tid] = match.reason
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    # Only complain about stale lines on a full run (not under -k or explicit ids).
    full_run = not config.getoption("keyword") and not config.getoption("markexpr")
    if full_run:
        for e in active:
            if not e.used:
                print(f"\nkazoo-suite: warning: {EXPECTATIONS_FILE.name}:{e.line} matches no test: {e.pattern}")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = terminalreporter.stats

    def count(key):
        return len([r for r in stats.get(key, []) if getattr(r, "when", "call") in ("call", "setup", "teardown")])

    passed = len([r for r in stats.get("passed", []) if r.when == "call"])
    failed = count("failed") + count("error")
    xfailed = len(stats.get("xfailed", []))
    skipped = len(stats.get("skipped", []))
    deselected = len(DESELECTED)
    excluded = deselected + xfailed + skipped
    tr = terminalreporter
    tr.write_sep("-", "kazoo-suite expectations")
    tr.write_line(
        f"excluded {excluded}: {deselected} deselected and {xfailed} expected failures (xfail strict) "
        f"from {EXPECTATIONS_FILE.name}, {skipped} skipped by kazoo's tests themselves"
    )
    for key in ("skipped",):
        for r in stats.get(key, []):
            reason = r.longrepr[2] if isinstance(r.longrepr, tuple) else str(r.longrepr)
            tr.write_line(f"  skipped by kazoo: {short_test_id(r)}: {reason}")
    CLOSING.append(f"kazoo-suite ({CLIENT} client, {SERVER} server): {passed} passed, {failed} failed, {excluded} excluded")


CLOSING: list[str] = []


EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # Stop the servers now rather than at exit, and silence kazoo's logger first: clients
    # some tests leave running would log their reconnection attempts after the closing
    # line, which is meant to be the run's very last line (after pytest's own).
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    from kazoo.testing import harness

    for cluster in (CLUSTER, harness.CLUSTER):
        if cluster is not None:
            try:
                cluster.terminate()
            except Exception:
                log.exception("stopping the cluster")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    closing_file = os.environ.get("KAZOO_SUITE_CLOSING_FILE")
    if closing_file and CLOSING:
        Path(closing_file).write_text("\n".join(CLOSING) + "\n")
    for line in CLOSING:
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line)
    if EXIT_STATUS:
        # A failed test can leave non-daemon threads waiting forever (kazoo's barrier
        # tests start such threads), and the interpreter would wait for them at exit.
        # Everything is reported and the servers are stopped: leave now, with pytest's
        # exit status.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_STATUS[0])
