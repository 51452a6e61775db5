"""The asyncio client: the same operations as :class:`corral.Client`, as coroutines.

Calls never block the event loop: each one is a future completed by corral's
runtime. Watches are awaitables (one-shot) and async iterators (persistent
watches, state changes)::

    async with corral.aio.Client(hosts) as zk:
        data, stat, watch = await zk.get_w("/config")
        event = await watch
        async for event in await zk.add_watch("/app", recursive=True):
            ...
"""

from __future__ import annotations

from typing import Any, Generator, List, Optional, Sequence, Tuple, Union

from corral import _corral
from corral.client import _acl_tuples, _acls, _create_acl, _create_mode, _data, _event, _op_results, _ttl_ms
from corral.exceptions import NoNodeError, ZookeeperStoppedError
from corral.security import ACL
from corral.states import State, WatchedEvent, WatcherType, ZnodeStat

__all__ = ["Client", "StateStream", "Transaction", "Watch", "WatchStream"]

_CONNECTED_STATES = (State.CONNECTED, State.RECONNECTED, State.READ_ONLY)


class Watch:
    """A one-shot watch: ``await watch`` gives the :class:`WatchedEvent` that fired it
    (a NONE event with state EXPIRED_SESSION or CLOSED if the session ends first)."""

    def __init__(self, native: _corral.Watch) -> None:
        self._native = native

    def __await__(self) -> Generator[Any, None, WatchedEvent]:
        raw = yield from self._native.wait().__await__()
        return _event(raw)


class WatchStream:
    """A persistent watch's events, as an async iterator that ends when the watch
    is removed, the session expires (after a final EXPIRED_SESSION event) or the
    client stops."""

    def __init__(self, native: _corral.WatchStream) -> None:
        self._native = native

    def __aiter__(self) -> "WatchStream":
        return self

    async def __anext__(self) -> WatchedEvent:
        return _event(await self._native.next())


class StateStream:
    """Connection-state changes as an async iterator; it ends after CLOSED."""

    def __init__(self, native: _corral.StateStream) -> None:
        self._native = native
        self._done = False

    def __aiter__(self) -> "StateStream":
        return self

    async def __anext__(self) -> State:
        if self._done:
            raise StopAsyncIteration
        state = State(await self._native.next())
        if state == State.CLOSED:
            self._done = True
        return state


class Client:
    """An asyncio ZooKeeper client; arguments as :class:`corral.Client`.

    ``await start()`` connects, ``await stop()`` closes the session; or use
    ``async with``.
    """

    def __init__(
        self,
        hosts: str = "127.0.0.1:2181",
        timeout: float = 10.0,
        *,
        auth_data: Optional[Sequence[Tuple[str, Union[str, bytes]]]] = None,
        default_acl: Optional[Sequence[ACL]] = None,
        read_only: bool = False,
    ) -> None:
        self.hosts = hosts
        self.timeout = float(timeout)
        self.auth_data: List[Tuple[str, bytes]] = [
            (scheme, cred.encode() if isinstance(cred, str) else bytes(cred)) for scheme, cred in (auth_data or [])
        ]
        self.default_acl: Optional[List[ACL]] = list(default_acl) if default_acl is not None else None
        self.read_only = read_only
        self._native: Optional[_corral.AsyncClient] = None

    async def start(self, timeout: float = 15.0) -> None:
        """Connects and waits until a session is established (at most ``timeout`` seconds)."""
        if self._native is None:
            self._native = await _corral.AsyncClient.connect(
                self.hosts, self.timeout, float(timeout), self.auth_data, self.read_only
            )

    async def stop(self) -> None:
        """Closes the session; pending watches end with a CLOSED event."""
        native, self._native = self._native, None
        if native is not None:
            await native.close()

    async def close(self) -> None:
        """Same as :meth:`stop`."""
        await self.stop()

    async def __aenter__(self) -> "Client":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def _c(self) -> _corral.AsyncClient:
        native = self._native
        if native is None:
            raise ZookeeperStoppedError("the client is not started")
        return native

    @property
    def state(self) -> State:
        """The connection state (CLOSED when not started)."""
        return State(self._native.state()) if self._native is not None else State.CLOSED

    @property
    def connected(self) -> bool:
        """Whether the client has a live connection."""
        return self.state in _CONNECTED_STATES

    @property
    def session_id(self) -> int:
        """The current session id (0 while there is none)."""
        return self._native.session_id if self._native is not None else 0

    @property
    def session_timeout(self) -> float:
        """The session timeout the server granted, in seconds."""
        return self._c.session_timeout

    def state_changes(self) -> StateStream:
        """Every state change from now on, as an async iterator."""
        return StateStream(self._c.state_changes())

    async def create(
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
        """As :meth:`corral.Client.create`."""
        data = _data(value)
        mode = _create_mode(ephemeral, sequence, container, ttl)
        acls = _create_acl(acl, self.default_acl)
        ttl_ms = _ttl_ms(ttl)
        try:
            created, stat = await self._c.create(path, data, acls, mode, ttl_ms)
        except NoNodeError:
            parent = path.rsplit("/", 1)[0]
            if not makepath or not parent:
                raise
            await self._c.ensure_path(parent)
            created, stat = await self._c.create(path, data, acls, mode, ttl_ms)
        return (created, ZnodeStat(*stat)) if include_data else created

    async def ensure_path(self, path: str) -> bool:
        """Creates ``path`` and any missing parents. Returns True."""
        await self._c.ensure_path(path)
        return True

    async def exists(self, path: str) -> Optional[ZnodeStat]:
        """The node's stat, or None."""
        stat = await self._c.exists(path)
        return ZnodeStat(*stat) if stat is not None else None

    async def exists_w(self, path: str) -> Tuple[Optional[ZnodeStat], Watch]:
        """The node's stat (or None) and a watch for its creation, change or deletion."""
        stat, w = await self._c.exists_w(path)
        return (ZnodeStat(*stat) if stat is not None else None), Watch(w)

    async def get(self, path: str) -> Tuple[bytes, ZnodeStat]:
        """The node's data and stat."""
        data, stat = await self._c.get_data(path)
        return data, ZnodeStat(*stat)

    async def get_w(self, path: str) -> Tuple[bytes, ZnodeStat, Watch]:
        """The node's data and stat, and a watch for its next change or deletion."""
        data, stat, w = await self._c.get_data_w(path)
        return data, ZnodeStat(*stat), Watch(w)

    async def get_children(self, path: str, include_data: bool = False) -> Any:
        """The children's names; ``(names, ZnodeStat)`` with ``include_data``."""
        names, stat = await self._c.get_children(path)
        return (names, ZnodeStat(*stat)) if include_data else names

    async def get_children_w(self, path: str) -> Tuple[List[str], ZnodeStat, Watch]:
        """The children, the node's stat, and a watch for the next child change or deletion."""
        names, stat, w = await self._c.get_children_w(path)
        return names, ZnodeStat(*stat), Watch(w)

    async def set(self, path: str, value: bytes, version: int = -1) -> ZnodeStat:
        """Sets the node's data (``version`` -1: any)."""
        return ZnodeStat(*await self._c.set_data(path, _data(value), version))

    async def delete(self, path: str, version: int = -1, recursive: bool = False) -> bool:
        """Deletes the node (``recursive``: and everything below it). Returns True."""
        if recursive:
            await self._c.delete_recursive(path)
        else:
            await self._c.delete(path, version)
        return True

    async def get_acls(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        """The node's ACL and stat."""
        acl, stat = await self._c.get_acl(path)
        return _acls(acl), ZnodeStat(*stat)

    async def set_acls(self, path: str, acls: Sequence[ACL], version: int = -1) -> ZnodeStat:
        """Sets the node's ACL."""
        return ZnodeStat(*await self._c.set_acl(path, _acl_tuples(acls), version))

    async def get_all_children_number(self, path: str) -> int:
        """The number of nodes below ``path``."""
        return await self._c.get_all_children_number(path)

    async def get_ephemerals(self, prefix: str = "/") -> List[str]:
        """This session's ephemeral nodes under ``prefix``."""
        return await self._c.get_ephemerals(prefix)

    async def sync(self, path: str) -> str:
        """Waits until the connected server has caught up with the leader."""
        await self._c.sync(path)
        return path

    async def add_auth(self, scheme: str, credential: Union[str, bytes]) -> bool:
        """Adds an identity to the session."""
        cred = credential.encode() if isinstance(credential, str) else bytes(credential)
        await self._c.add_auth(scheme, cred)
        return True

    async def who_am_i(self) -> List[Tuple[str, str]]:
        """The identities of this connection."""
        return await self._c.who_am_i()

    async def add_watch(self, path: str, recursive: bool = False) -> WatchStream:
        """A persistent (or recursive) watch, as an async iterator of events."""
        return WatchStream(await self._c.add_watch(path, recursive))

    async def remove_watches(self, path: str, watcher_type: WatcherType = WatcherType.ANY) -> None:
        """Removes this client's watches of ``watcher_type`` on ``path``."""
        await self._c.remove_watches(path, WatcherType(watcher_type).value)

    def transaction(self) -> "Transaction":
        """A transaction (``await t.commit()``, or ``async with``)."""
        return Transaction(self)

    async def multi_read(self, get_data: Sequence[str] = (), get_children: Sequence[str] = ()) -> List[Any]:
        """As :meth:`corral.Client.multi_read`."""
        return _op_results(await self._c.multi_read(list(get_data), list(get_children)))

    def __repr__(self) -> str:
        return f"<corral.aio.Client {self.hosts} {self.state.value}>"


class Transaction:
    """Sub-ops for one atomic transaction; as :class:`corral.TransactionRequest`."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.operations: List[tuple] = []
        self.committed = False

    def create(
        self,
        path: str,
        value: bytes = b"",
        acl: Optional[Sequence[ACL]] = None,
        ephemeral: bool = False,
        sequence: bool = False,
        container: bool = False,
        ttl: Optional[float] = None,
    ) -> None:
        """Adds a create."""
        acls = _create_acl(acl, self.client.default_acl)
        mode = _create_mode(ephemeral, sequence, container, ttl)
        self.operations.append(("create", path, _data(value), acls, mode, _ttl_ms(ttl)))

    def delete(self, path: str, version: int = -1) -> None:
        """Adds a delete."""
        self.operations.append(("delete", path, version))

    def set_data(self, path: str, value: bytes, version: int = -1) -> None:
        """Adds a set_data."""
        self.operations.append(("set_data", path, _data(value), version))

    def check(self, path: str, version: int) -> None:
        """Adds a version check."""
        self.operations.append(("check", path, version))

    def _take(self) -> List[tuple]:
        if self.committed:
            raise ValueError("transaction already committed")
        self.committed = True
        return self.operations

    async def commit(self) -> List[Any]:
        """Applies the sub-ops atomically; raises the first failure."""
        return _op_results(await self.client._c.multi(self._take(), True))

    async def commit_results(self) -> List[Any]:
        """Applies the sub-ops atomically; failures are returned in the list."""
        return _op_results(await self.client._c.multi(self._take(), False))

    async def __aenter__(self) -> "Transaction":
        return self

    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            await self.commit()
