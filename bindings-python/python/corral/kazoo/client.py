"""kazoo's ``KazooClient`` on corral's client: a change of import.

::

    from corral.kazoo import KazooClient, KazooState

    zk = KazooClient(hosts="127.0.0.1:2181")
    zk.add_listener(lambda state: print("now", state))   # CONNECTED, SUSPENDED, LOST
    zk.start()
    zk.ensure_path("/app")
    zk.create("/app/node", b"v")
    result = zk.get_async("/app/node")
    data, stat = result.get(timeout=5)
    zk.stop()

It is :class:`corral.Client` (one implementation) spoken with kazoo's words:

* listeners get :class:`KazooState` strings: CONNECTED (also after a
  reconnect and for a read-only server), SUSPENDED, LOST (session expired,
  and after :meth:`stop`); ``client_state`` is kazoo's :class:`KeeperState`;
* watch callbacks get kazoo's three-field :class:`WatchedEvent`; a one-shot
  watch set with ``get``/``exists``/``get_children`` hears
  ``WatchedEvent(NONE, CONNECTING, None)`` when the connection drops, and
  nothing after that (as kazoo);
* ``transaction().commit()`` returns the result list with exception objects
  in it; calls on a stopped client raise :class:`ConnectionClosedError`;
  paths are normalised as kazoo does (``"a//b/"`` is ``/a/b``);
* the ``*_async`` methods return an :class:`~corral.kazoo.handlers.utils.AsyncResult`;
  they run in call order on one worker thread per client (a blocking call
  made while some are queued waits its turn);
* ``handler=`` takes the threading handler only: gevent and eventlet are
  out of scope (:mod:`corral.aio` is the asyncio client).

What differs: TLS (``use_ssl``) and SASL (``sasl_options``) are not in
corral's client yet and raise :class:`ConfigurationError`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from typing import Any, Callable, List, Optional, Sequence, Set, Tuple, Union

from corral import _corral, recipes
from corral.client import Client, TransactionRequest as _CorralTransaction, _op_results
from corral.kazoo.exceptions import (
    ConfigurationError,
    ConnectionClosedError,
    ConnectionLoss,
    KazooException,
    NoNodeError,
    NodeExistsError,
    SessionExpiredError,
)
from corral.kazoo.handlers.threading import KazooTimeoutError, SequentialThreadingHandler
from corral.kazoo.handlers.utils import AsyncResult
from corral.kazoo.protocol.paths import normpath
from corral.kazoo.protocol.states import EventType, KazooState, KeeperState, WatchedEvent
from corral.kazoo.recipe import barrier as kazoo_barrier, lock as kazoo_lock
from corral.kazoo.retry import KazooRetry
from corral.security import ACL
from corral.states import State, ZnodeStat

__all__ = ["KazooClient", "KazooState", "KeeperState", "TransactionRequest", "WatchedEvent", "EventType"]

log = logging.getLogger("corral.kazoo")

# corral's State -> (KazooState, KeeperState).
_STATES = {
    State.CONNECTED: (KazooState.CONNECTED, KeeperState.CONNECTED),
    State.RECONNECTED: (KazooState.CONNECTED, KeeperState.CONNECTED),
    State.READ_ONLY: (KazooState.CONNECTED, KeeperState.CONNECTED_RO),
    State.SUSPENDED: (KazooState.SUSPENDED, KeeperState.CONNECTING),
    State.LOST: (KazooState.LOST, KeeperState.EXPIRED_SESSION),
    State.CLOSED: (KazooState.LOST, KeeperState.CLOSED),
}

# kazoo's legacy retry keywords -> KazooRetry's.
_LEGACY_RETRY = {"max_retries": "max_tries", "retry_delay": "delay", "retry_backoff": "backoff",
                 "retry_max_delay": "max_delay"}
_LEGACY_RETRY_DEFAULTS = {"max_tries": None, "delay": 0.1, "backoff": 2, "max_delay": 3600}


def _check(name: str, value: Any, kind: Union[type, Tuple[type, ...]], what: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"Invalid type for '{name}' ({what} expected)")


def _check_path(path: Any) -> None:
    _check("path", path, str, "string")


def _check_value(value: Any) -> Optional[bytes]:
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise TypeError("Invalid type for 'value' (must be a byte string)")
    return value


def _check_watch(watch: Any) -> None:
    if watch is not None and not callable(watch):
        raise TypeError("Invalid type for 'watch' (must be a callable)")


def _check_acls(name: str, acls: Any, optional: bool) -> None:
    if optional and acls is None:
        return
    if isinstance(acls, ACL) or hasattr(acls, "perms") or not isinstance(acls, (tuple, list)):
        raise TypeError(f"Invalid type for '{name}' (acl must be a tuple/list of ACL's")


def collect_hosts(hosts: Union[str, Sequence[str]]) -> Tuple[List[Tuple[str, int]], str]:
    """kazoo's host list: ``[(host, port), ...]`` and the chroot ("" for none).

    ``hosts`` is a connect string or a list of ``host[:port]`` strings (a
    chroot, if any, on the last one)."""
    if isinstance(hosts, (list, tuple)):
        hosts = ",".join(hosts)
    if not isinstance(hosts, str):
        raise TypeError("hosts must be a string or a list of strings")
    text, slash, chroot = hosts.partition("/")
    out: List[Tuple[str, int]] = []
    for h in text.split(","):
        h = h.strip()
        if not h:
            continue
        m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:]+)(?::(\d+))?", h)
        if not m:
            raise ValueError(f"not a host[:port]: {h!r}")
        host = m.group(1) or m.group(3)
        port = m.group(2) or m.group(4) or "2181"
        out.append((host, int(port)))
    return out, (normpath("/" + chroot) if slash and chroot.strip("/") else "")


class _OnceWatch:
    """A one-shot watch with kazoo's rules: it fires once, either for its
    event or with NONE when the connection drops first."""

    __slots__ = ("client", "func", "fired")

    def __init__(self, client: "KazooClient", func: Callable[[WatchedEvent], Any]) -> None:
        self.client = client
        self.func = func
        self.fired = False

    def __call__(self, event: WatchedEvent) -> Any:
        with self.client._watch_lock:
            if self.fired:
                return None
            self.fired = True
            self.client._once_watches.discard(self)
        return self.func(event)


class KazooClient(Client):
    """kazoo's client (same constructor, methods, properties, states and exceptions).

    See the module documentation for what differs from corral.Client.
    """

    def __init__(
        self,
        hosts: Union[str, Sequence[str]] = "127.0.0.1:2181",
        timeout: float = 10.0,
        client_id: Optional[Tuple[int, bytes]] = None,
        handler: Any = None,
        default_acl: Optional[Sequence[ACL]] = None,
        auth_data: Optional[Sequence[Tuple[str, Union[str, bytes]]]] = None,
        sasl_options: Optional[dict] = None,
        read_only: Optional[bool] = None,
        randomize_hosts: bool = True,
        connection_retry: Union[None, dict, KazooRetry] = None,
        command_retry: Union[None, dict, KazooRetry] = None,
        logger: Optional[logging.Logger] = None,
        keyfile: Optional[str] = None,
        keyfile_password: Optional[str] = None,
        certfile: Optional[str] = None,
        ca: Optional[str] = None,
        use_ssl: bool = False,
        verify_certs: bool = True,
        check_hostname: bool = False,
        **kwargs: Any,
    ) -> None:
        if handler is None:
            handler = SequentialThreadingHandler()
        elif isinstance(handler, type):
            raise ConfigurationError(f"Handler must be an instance of a class, not the class: {handler}")
        elif type(handler).__name__ != "SequentialThreadingHandler":
            raise ConfigurationError(
                f"corral.kazoo runs on threads only; {type(handler).__name__} is not supported "
                "(for asyncio use corral.aio.Client; gevent and eventlet are not supported)"
            )
        if use_ssl or keyfile or certfile or ca:
            raise ConfigurationError("TLS is not supported by corral's client yet (use_ssl, keyfile, certfile, ca)")
        auth = list(auth_data or [])
        if sasl_options or any(scheme == "sasl" for scheme, _ in auth):
            raise ConfigurationError("SASL is not supported by corral's client yet (sasl_options, 'sasl' auth_data)")
        legacy = {}
        for old, new in _LEGACY_RETRY.items():
            if old in kwargs:
                warnings.warn(
                    f"Passing retry configuration param {old} to the client directly is deprecated, "
                    "please pass a configured retry object (using param connection_retry/command_retry)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                legacy[new] = kwargs.pop(old)
        if kwargs:
            raise TypeError(f"KazooClient got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        self.hosts: List[Tuple[str, int]] = []
        self.chroot: Optional[str] = None
        super().__init__("", timeout, auth_data=auth, default_acl=default_acl, read_only=bool(read_only),
                         randomize_hosts=randomize_hosts)
        self.set_hosts(hosts)
        self.handler = handler
        self.logger = logger or log
        self.sasl_options = sasl_options
        self._resume = (int(client_id[0]), bytes(client_id[1])) if client_id else None
        retry_keys = dict(_LEGACY_RETRY_DEFAULTS, **legacy)
        if retry_keys["max_tries"] is None:
            retry_keys["max_tries"] = -1
        self._conn_retry = _retry_of(connection_retry, retry_keys, handler)
        self._retry = _retry_of(command_retry, retry_keys, handler)
        self._live = threading.Event()
        self._listener_state = KazooState.LOST
        self._watch_lock = threading.Lock()
        self._once_watches: Set[_OnceWatch] = set()
        self._worker: Optional[_Worker] = None
        self._stopped = threading.Event()
        self._stopped.set()
        self._last_client_state = KeeperState.CLOSED

    # ---- hosts and chroot ----------------------------------------------------------

    def set_hosts(self, hosts: Union[str, Sequence[str]], randomize_hosts: Optional[bool] = None) -> None:
        """Replaces the servers; a running client uses them from its next reconnect.

        The chroot cannot change (:class:`ConfigurationError`)."""
        if randomize_hosts is not None:
            self.randomize_hosts = randomize_hosts
        new_hosts, chroot = collect_hosts(hosts)
        if self.chroot is not None and chroot != self.chroot:
            raise ConfigurationError("Changing chroot at runtime is not currently supported")
        if not new_hosts:
            raise ValueError("no host in the host list")
        self.hosts = new_hosts
        self.chroot = chroot
        native = self._native
        if native is not None:
            native.set_hosts(self._hosts_only())

    def _hosts_only(self) -> str:
        return ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.hosts)

    def _connect_string(self) -> str:
        chroot = normpath("/" + self.chroot) if self.chroot else ""
        return self._hosts_only() + ("" if chroot == "/" else chroot)

    def unchroot(self, path: str) -> str:
        """``path`` without the client's chroot prefix."""
        if not self.chroot:
            return path
        if path.startswith(self.chroot):
            return path[len(self.chroot):] or "/"
        return path

    # ---- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 15) -> None:
        """Connects, waiting at most ``timeout`` seconds (else stops and raises
        :class:`KazooTimeoutError`). A ``client_id`` whose session is gone is
        dropped: listeners hear LOST, then the client gets a new session."""
        self.handler.start()
        self._stopped.clear()
        deadline = time.monotonic() + timeout
        try:
            try:
                super().start(timeout)
            except SessionExpiredError:
                if self._resume is None:
                    raise
                self._resume = None
                self._notify_listeners(KazooState.LOST)
                super().start(max(deadline - time.monotonic(), 0.001))
        except ConnectionLoss:
            self.stop()
            raise KazooTimeoutError("Connection time-out")
        except BaseException:
            self.stop()
            raise
        self._live.set()
        self._resume = None
        # corral.Client's listeners hear changes after the first connect; kazoo's hear it too.
        self._notify_listeners(self.state)
        if self.chroot and not self.exists("/"):
            warnings.warn("No chroot path exists, the chroot path should be created before normal use.")

    def start_async(self) -> threading.Event:
        """Starts connecting in the background; returns an event set once connected."""
        self._live.clear()

        def run() -> None:
            try:
                self.start()
            except Exception:
                self.logger.exception("corral.kazoo: start_async could not connect")

        self.handler.spawn(run)
        return self._live

    def stop(self) -> None:
        """Closes the session; listeners hear LOST before it returns."""
        self._stopped.set()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        super().stop()
        self._live.clear()
        self._last_client_state = KeeperState.CLOSED
        self._notify_listeners(KazooState.LOST)
        self.handler.stop()

    def close(self) -> None:
        """Frees the client's resources; only after :meth:`stop` (else it
        raises, as kazoo's does). The client can be started again."""
        if not self._stopped.is_set():
            raise Exception("Cannot close connection until it is stopped")

    def restart(self) -> None:
        """Stops and starts again, with a new session."""
        self.stop()
        self.start()

    @property
    def _c(self) -> _corral.Client:
        native = self._native
        if native is None:
            raise ConnectionClosedError("Connection has been closed")
        return native

    # ---- state ---------------------------------------------------------------------

    @property
    def state(self) -> str:  # type: ignore[override]
        """The :class:`KazooState` (LOST before start and after stop)."""
        native = self._native
        if native is None:
            return KazooState.LOST
        return _STATES[State(native.state())][0]

    @property
    def client_state(self) -> str:
        """The :class:`KeeperState` (CLOSED before start and after stop)."""
        native = self._native
        if native is None:
            return self._last_client_state
        return _STATES[State(native.state())][1]

    @property
    def connected(self) -> bool:
        """Whether the client has a live connection."""
        native = self._native
        return native is not None and _STATES[State(native.state())][0] == KazooState.CONNECTED

    @property
    def client_id(self) -> Optional[Tuple[int, bytes]]:
        """``(session_id, password)`` of the current session, or None; pass it as
        ``client_id=`` to another client to take the session over."""
        native = self._native
        if native is None or not native.session_id:
            return None
        return native.session_id, native.session_password

    @property
    def retry(self) -> Callable[..., Any]:
        """Calls ``func(*args, **kwargs)`` under a copy of the command retry."""

        def run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return self._retry.copy()(func, *args, **kwargs)

        return run

    def _on_state(self, state: State) -> None:
        kazoo_state, keeper_state = _STATES[state]
        if kazoo_state == KazooState.CONNECTED:
            self._live.set()
        else:
            self._live.clear()
            self._void_once_watches(keeper_state)
        self._notify_listeners(kazoo_state)

    def _notify_listeners(self, kazoo_state: str) -> None:
        with self._watch_lock:
            if kazoo_state == self._listener_state:
                return
            self._listener_state = kazoo_state
        for listener in list(self._listeners):
            try:
                if listener(kazoo_state) is True:
                    self.remove_listener(listener)
            except Exception:
                self.logger.exception("Error in connection state listener")

    def _void_once_watches(self, keeper_state: str) -> None:
        """kazoo's rule: a dropped connection ends every one-shot watch with NONE."""
        with self._watch_lock:
            pending = list(self._once_watches)
        event = WatchedEvent(EventType.NONE, keeper_state, None)
        for watch in pending:
            try:
                watch(event)
            except Exception:
                self.logger.exception("corral.kazoo: a watch callback raised")

    def _make_event(self, raw: Tuple[str, str, str, int]) -> WatchedEvent:
        type_, state, path, _zxid = raw
        return WatchedEvent(type_, KeeperState.CONNECTED if state == "CONNECTED" else state, path)

    def _once(self, watch: Optional[Callable[[WatchedEvent], Any]]) -> Optional[_OnceWatch]:
        _check_watch(watch)
        if watch is None:
            return None
        once = _OnceWatch(self, watch)
        with self._watch_lock:
            self._once_watches.add(once)
        return once

    # ---- ordering of blocking and async calls ---------------------------------------

    def _submit(self, func: Callable[[], Any]) -> AsyncResult:
        result = self.handler.async_result()
        if self._stopped.is_set() or self._native is None:
            result.set_exception(ConnectionClosedError("Connection has been closed"))
            return result
        worker = self._worker
        if worker is None:
            with self._lock:
                worker = self._worker
                if worker is None:
                    worker = self._worker = _Worker()
        worker.put(func, result)
        return result

    def _run(self, func: Callable[[], Any]) -> Any:
        """A blocking call; behind any async calls still queued, so calls stay in order."""
        worker = self._worker
        if worker is not None and worker.busy():
            return self._submit(func).get()
        return func()

    # ---- nodes ---------------------------------------------------------------------

    def _path(self, path: Any, trailing: bool = False) -> str:
        _check_path(path)
        p = normpath("/" + path, trailing=trailing)
        return p if p != "" else "/"

    def _create_args(
        self, path: Any, value: Any, acl: Any, ephemeral: Any, sequence: Any, makepath: Any, include_data: Any
    ) -> Tuple[str, bytes]:
        _check_path(path)
        _check_acls("acl", acl, True)
        data = _check_value(value)
        for name, flag in (("ephemeral", ephemeral), ("sequence", sequence), ("makepath", makepath),
                           ("include_data", include_data)):
            _check(name, flag, bool, "bool")
        return self._path(path, trailing=sequence), data

    def create(  # type: ignore[override]
        self,
        path: str,
        value: bytes = b"",
        acl: Optional[Sequence[ACL]] = None,
        ephemeral: bool = False,
        sequence: bool = False,
        makepath: bool = False,
        include_data: bool = False,
        container: bool = False,
        ttl: Optional[float] = None,
    ) -> Any:
        """Creates a node; returns its path, or ``(path, ZnodeStat)`` with ``include_data``."""
        p, data = self._create_args(path, value, acl, ephemeral, sequence, makepath, include_data)
        acl = acl or None  # kazoo: an empty ACL list means the default
        sup = super().create
        return self._run(lambda: sup(p, data, acl, ephemeral, sequence, makepath, include_data, container, ttl))

    def create_async(
        self,
        path: str,
        value: bytes = b"",
        acl: Optional[Sequence[ACL]] = None,
        ephemeral: bool = False,
        sequence: bool = False,
        makepath: bool = False,
        include_data: bool = False,
    ) -> AsyncResult:
        """:meth:`create`, as an :class:`AsyncResult`."""
        p, data = self._create_args(path, value, acl, ephemeral, sequence, makepath, include_data)
        acl = acl or None  # kazoo: an empty ACL list means the default
        sup = super().create
        return self._submit(lambda: sup(p, data, acl, ephemeral, sequence, makepath, include_data))

    def ensure_path(self, path: str, acl: Optional[Sequence[ACL]] = None) -> bool:  # type: ignore[override]
        """Creates ``path`` and its missing parents (with ``acl``, else the default ACL)."""
        p = self._path(path)
        _check_acls("acl", acl, True)
        return self._run(lambda: self._ensure(p, acl))

    def ensure_path_async(self, path: str, acl: Optional[Sequence[ACL]] = None) -> AsyncResult:
        """:meth:`ensure_path`, as an :class:`AsyncResult`."""
        p = self._path(path)
        _check_acls("acl", acl, True)
        return self._submit(lambda: self._ensure(p, acl))

    def _ensure(self, path: str, acl: Optional[Sequence[ACL]]) -> bool:
        if acl is None and self.default_acl is None:
            return Client.ensure_path(self, path)
        # Each missing node gets the ACL, as kazoo creates them.
        if path == "/" or Client.exists(self, path) is not None:
            return True
        parent = path.rsplit("/", 1)[0]
        if parent:
            self._ensure(parent, acl)
        try:
            Client.create(self, path, b"", acl=acl)
        except NodeExistsError:
            pass
        return True

    def exists(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None) -> Optional[ZnodeStat]:
        """The node's stat or None; ``watch`` fires once (or with NONE on a disconnect)."""
        p = self._path(path)
        w = self._once(watch)
        return self._run(lambda: Client.exists(self, p, w))

    def exists_async(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None) -> AsyncResult:
        """:meth:`exists`, as an :class:`AsyncResult`."""
        p = self._path(path)
        w = self._once(watch)
        return self._submit(lambda: Client.exists(self, p, w))

    def get(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None) -> Tuple[Optional[bytes], ZnodeStat]:
        """The node's data (None when null) and stat; ``watch`` fires once (or with NONE on a disconnect)."""
        p = self._path(path)
        w = self._once(watch)
        return self._run(lambda: Client.get(self, p, w))

    def get_async(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None) -> AsyncResult:
        """:meth:`get`, as an :class:`AsyncResult`."""
        p = self._path(path)
        w = self._once(watch)
        return self._submit(lambda: Client.get(self, p, w))

    def get_children(
        self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None, include_data: bool = False
    ) -> Any:
        """The children's names (with ``include_data``: and the stat)."""
        p = self._path(path)
        _check("include_data", include_data, bool, "bool")
        w = self._once(watch)
        return self._run(lambda: Client.get_children(self, p, w, include_data))

    def get_children_async(
        self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None, include_data: bool = False
    ) -> AsyncResult:
        """:meth:`get_children`, as an :class:`AsyncResult`."""
        p = self._path(path)
        _check("include_data", include_data, bool, "bool")
        w = self._once(watch)
        return self._submit(lambda: Client.get_children(self, p, w, include_data))

    def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
        """Sets the node's data if its version is ``version`` (-1: any)."""
        p, data = self._path(path), _check_value(value)
        _check("version", version, int, "int")
        return self._run(lambda: Client.set(self, p, data, version))

    def set_async(self, path: str, value: bytes, version: int = -1) -> AsyncResult:
        """:meth:`set`, as an :class:`AsyncResult`."""
        p, data = self._path(path), _check_value(value)
        _check("version", version, int, "int")
        return self._submit(lambda: Client.set(self, p, data, version))

    def delete(self, path: str, version: int = -1, recursive: bool = False) -> bool:
        """Deletes the node (``recursive``: and everything below it)."""
        p = self._path(path)
        _check("version", version, int, "int")
        _check("recursive", recursive, bool, "bool")
        if recursive:
            return self._run(lambda: self._delete_recursive(p))
        return self._run(lambda: Client.delete(self, p, version))

    def _delete_recursive(self, path: str) -> bool:
        try:
            return Client.delete(self, path, recursive=True)
        except NoNodeError:
            return True  # kazoo: already gone is done

    def delete_async(self, path: str, version: int = -1) -> AsyncResult:
        """:meth:`delete` (not recursive), as an :class:`AsyncResult`."""
        p = self._path(path)
        _check("version", version, int, "int")
        return self._submit(lambda: Client.delete(self, p, version))

    def get_acls(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        """The node's ACL and stat."""
        p = self._path(path)
        return self._run(lambda: Client.get_acls(self, p))

    def get_acls_async(self, path: str) -> AsyncResult:
        """:meth:`get_acls`, as an :class:`AsyncResult`."""
        p = self._path(path)
        return self._submit(lambda: Client.get_acls(self, p))

    def set_acls(self, path: str, acls: Sequence[ACL], version: int = -1) -> ZnodeStat:
        """Sets the node's ACL if its ACL version is ``version`` (-1: any)."""
        p = self._path(path)
        _check_acls("acl", acls, False)
        _check("version", version, int, "int")
        return self._run(lambda: Client.set_acls(self, p, acls, version))

    def set_acls_async(self, path: str, acls: Sequence[ACL], version: int = -1) -> AsyncResult:
        """:meth:`set_acls`, as an :class:`AsyncResult`."""
        p = self._path(path)
        _check_acls("acl", acls, False)
        _check("version", version, int, "int")
        return self._submit(lambda: Client.set_acls(self, p, acls, version))

    def sync(self, path: str) -> str:
        """Waits until the server caught up with the leader; returns ``path``."""
        p = self._path(path)
        self._run(lambda: Client.sync(self, p))
        return path

    def sync_async(self, path: str) -> AsyncResult:
        """:meth:`sync`, as an :class:`AsyncResult`."""
        p = self._path(path)
        return self._submit(lambda: (Client.sync(self, p), path)[1])

    def add_auth(self, scheme: str, credential: Union[str, bytes]) -> bool:
        """Adds an identity to the session (AuthFailedError when refused)."""
        return self._run(lambda: self._add_auth(scheme, credential))

    def add_auth_async(self, scheme: str, credential: Union[str, bytes]) -> AsyncResult:
        """:meth:`add_auth`, as an :class:`AsyncResult`."""
        return self._submit(lambda: self._add_auth(scheme, credential))

    def _add_auth(self, scheme: str, credential: Union[str, bytes]) -> bool:
        _check("scheme", scheme, str, "string")
        _check("credential", credential, (str, bytes), "string")
        Client.add_auth(self, scheme, credential)
        cred = credential.encode() if isinstance(credential, str) else credential
        if (scheme, cred) not in self.auth_data:
            self.auth_data.append((scheme, cred))
        return True

    def reconfig(self, joining: Any, leaving: Any, new_members: Any, from_config: int = -1) -> Tuple[bytes, ZnodeStat]:
        """Changes the ensemble's membership; returns the new config and its stat.

        ``joining`` and ``leaving`` change it incrementally (comma separated
        ``server.N=...`` lines and member ids), ``new_members`` replaces it."""
        args = self._reconfig_args(joining, leaving, new_members, from_config)
        return self._run(lambda: self._reconfig(*args))

    def reconfig_async(self, joining: Any, leaving: Any, new_members: Any, from_config: int) -> AsyncResult:
        """:meth:`reconfig`, as an :class:`AsyncResult`."""
        args = self._reconfig_args(joining, leaving, new_members, from_config)
        return self._submit(lambda: self._reconfig(*args))

    @staticmethod
    def _reconfig_args(joining: Any, leaving: Any, new_members: Any, from_config: Any) -> tuple:
        for name, v in (("joining", joining), ("leaving", leaving), ("new_members", new_members)):
            if v and not isinstance(v, str):
                raise TypeError(f"Invalid type for '{name}' (string expected)")
        _check("from_config", from_config, int, "int")
        return joining or None, leaving or None, new_members or None, from_config

    def _reconfig(self, joining: Optional[str], leaving: Optional[str], new_members: Optional[str],
                  from_config: int) -> Tuple[bytes, ZnodeStat]:
        data, stat = self._c.reconfig(joining, leaving, new_members, from_config)
        return data, ZnodeStat(*stat)

    def transaction(self) -> "TransactionRequest":  # type: ignore[override]
        """A transaction: ``commit()`` returns one result per op, failures as exception objects."""
        return TransactionRequest(self)

    # ---- server --------------------------------------------------------------------

    def command(self, cmd: bytes = b"ruok") -> str:
        """Sends a four-letter word to the server this client is connected to."""
        native = self._native
        host = native.connected_host() if native is not None else None
        if host is None:
            raise ConnectionLoss("Connection to server is not established")
        return _four_letter(host, cmd, self.timeout)

    def server_version(self, retries: int = 3) -> Tuple[int, ...]:
        """The connected server's version as ints, read from ``envi``.

        A reply without at least major and minor is asked again, ``retries``
        more times; then :class:`KazooException`.
        """
        for _ in range(1 + max(retries, 0)):
            version = _envi_version(self.command(b"envi"))
            if len(version) > 1:
                return version
        raise KazooException(f"Unable to fetch useable server version after trying {1 + max(0, retries)} times")

    def add_listener(self, listener: Callable[[str], Any]) -> None:
        """Calls ``listener(state)`` with the :class:`KazooState` at each change
        (True from it removes it); a listener that is not callable raises
        :class:`ConfigurationError`."""
        if not (listener and callable(listener)):
            raise ConfigurationError("listener must be callable")
        super().add_listener(listener)

    def __repr__(self) -> str:
        return f"<corral.kazoo.KazooClient {self._connect_string()} {self.state} session=0x{self.session_id:x}>"

    # ---- recipes: kazoo's layouts only -----------------------------------------------

    def Lock(self, path: str, identifier: Optional[str] = None, extra_lock_patterns: Sequence[str] = ()) -> Any:  # type: ignore[override]
        """kazoo's Lock (:mod:`corral.kazoo.recipe.lock` says how it differs from corral.Client's)."""
        return kazoo_lock.Lock(self, path, identifier, extra_lock_patterns)

    def ReadLock(self, path: str, identifier: Optional[str] = None, extra_lock_patterns: Sequence[str] = ()) -> Any:  # type: ignore[override]
        """kazoo's ReadLock."""
        return kazoo_lock.ReadLock(self, path, identifier, extra_lock_patterns)

    def WriteLock(self, path: str, identifier: Optional[str] = None, extra_lock_patterns: Sequence[str] = ()) -> Any:  # type: ignore[override]
        """kazoo's WriteLock."""
        return kazoo_lock.WriteLock(self, path, identifier, extra_lock_patterns)

    def Semaphore(self, path: str, identifier: Optional[str] = None, max_leases: int = 1) -> Any:  # type: ignore[override]
        """kazoo's Semaphore."""
        return kazoo_lock.Semaphore(self, path, identifier, max_leases)

    def DoubleBarrier(self, path: str, num_clients: int, identifier: Optional[str] = None) -> Any:  # type: ignore[override]
        """kazoo's DoubleBarrier (a failure to enter leaves it not participating)."""
        return kazoo_barrier.DoubleBarrier(self, path, num_clients, identifier)

    def Election(self, path: str, identifier: Optional[str] = None) -> Any:  # type: ignore[override]
        """kazoo's Election."""
        return recipes.Election(self, path, identifier)


def _retry_of(given: Union[None, dict, KazooRetry], defaults: dict, handler: Any) -> KazooRetry:
    if isinstance(given, dict):
        return KazooRetry(**given)
    if isinstance(given, KazooRetry):
        return given
    if given is not None:
        raise ConfigurationError(f"a retry is a KazooRetry or a dict of its arguments, not {type(given).__name__}")
    return KazooRetry(sleep_func=handler.sleep_func, **defaults)


def _envi_version(envi: str) -> Tuple[int, ...]:
    """The ``zookeeper.version`` digits of an ``envi`` reply (``3.8.4-...`` is
    ``(3, 8, 4)``); ``()`` when there are none."""
    for line in envi.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "zookeeper.version":
            digits = re.match(r"[\d.]*", value.strip()).group(0)
            try:
                return tuple(int(d) for d in digits.split("."))
            except ValueError:
                return ()
    return ()


def _four_letter(host_port: str, cmd: bytes, timeout: float) -> str:
    import socket

    host, _, port = host_port.rpartition(":")
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as s:
        s.sendall(cmd)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


class _Worker:
    """One thread per client that runs the ``*_async`` calls in call order."""

    def __init__(self) -> None:
        import queue

        self.queue: "queue.Queue[Any]" = queue.Queue()
        self.pending = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, name="corral-kazoo-requests", daemon=True)
        self.thread.start()

    def busy(self) -> bool:
        return self.pending > 0

    def put(self, func: Callable[[], Any], result: AsyncResult) -> None:
        with self.lock:
            self.pending += 1
        self.queue.put((func, result))

    def stop(self) -> None:
        self.queue.put(None)
        if self.thread is not threading.current_thread():
            self.thread.join()

    def run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            func, result = item
            try:
                value = func()
            except BaseException as e:  # delivered to the caller, never lost
                result.set_exception(e)
            else:
                result.set(value)
            finally:
                with self.lock:
                    self.pending -= 1


class TransactionRequest(_CorralTransaction):
    """kazoo's transaction: ``commit()`` returns one result per op (the
    created path, True, a ZnodeStat) with failures as exception objects in
    the list (:class:`RolledBackError` for the ops undone, the failing op's
    own error, :class:`RuntimeInconsistency` after it); nothing raises."""

    client: KazooClient

    def create(  # type: ignore[override]
        self,
        path: str,
        value: bytes = b"",
        acl: Optional[Sequence[ACL]] = None,
        ephemeral: bool = False,
        sequence: bool = False,
    ) -> None:
        """Adds a create."""
        _check_path(path)
        _check_acls("acl", acl, True)
        if not isinstance(value, bytes):
            raise TypeError("Invalid type for 'value' (must be a byte string)")
        _check("ephemeral", ephemeral, bool, "bool")
        _check("sequence", sequence, bool, "bool")
        self._check_state()
        super().create(self.client._path(path, trailing=sequence), value, acl, ephemeral, sequence)

    def delete(self, path: str, version: int = -1) -> None:
        """Adds a delete."""
        _check_path(path)
        _check("version", version, int, "int")
        self._check_state()
        super().delete(self.client._path(path), version)

    def set_data(self, path: str, value: bytes, version: int = -1) -> None:
        """Adds a set_data."""
        _check_path(path)
        if not isinstance(value, bytes):
            raise TypeError("Invalid type for 'value' (must be a byte string)")
        _check("version", version, int, "int")
        self._check_state()
        super().set_data(self.client._path(path), value, version)

    def check(self, path: str, version: int) -> None:
        """Adds a version check."""
        _check_path(path)
        _check("version", version, int, "int")
        self._check_state()
        super().check(self.client._path(path), version)

    def _check_state(self) -> None:
        if self.committed:
            raise ValueError("Transaction already committed")

    def commit(self) -> List[Any]:
        """Applies the ops atomically; returns the results (failures in the list)."""
        return self.commit_async().get()

    def commit_async(self) -> AsyncResult:
        """:meth:`commit`, as an :class:`AsyncResult`."""
        self._check_state()
        ops = self._take()
        client = self.client
        return client._submit(lambda: _op_results(client._c.multi(ops, False)))

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
