"""A 3-member ensemble of corral or Apache ZooKeeper 3.8, one member per network namespace.

Each member is a :class:`zkharness.Server` (tests/interop) whose command runs
under ``ip netns exec`` (which execs, so the process id is the server's own and
SIGSTOP/SIGKILL reach it), listening on its namespace's address. Every member
uses the same ports, as on separate hosts.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from netns import Network
from zkharness import Server, ServerError, wait_until

CLIENT_PORT = 2181
PEER_PORT = 2888
ELECTION_PORT = 3888
SERVING_MODES = ("leader", "follower")


class Member(Server):
    """One member inside its own namespace of ``net``."""

    def __init__(self, kind: str, workdir: Path, net: Network, member_id: int, config: dict[str, str]):
        self.net = net
        self.id = member_id
        super().__init__(kind, workdir, {**config, "clientPortAddress": net.addr[member_id]}, port=CLIENT_PORT)
        (self.data_dir / "myid").write_text(f"{member_id}\n")
        self.paused = False

    def _command(self) -> list[str]:
        return [*self.net.exec_prefix(self.id), *super()._command()]

    def mode(self, timeout: float = 0.5) -> str | None:
        """As the server reports it; None while paused (it would not answer)."""
        if not self.alive() or self.paused:
            return None
        return super().mode(timeout=timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until this member serves (as leader or follower)."""
        try:
            wait_until(lambda: self.mode() in SERVING_MODES, timeout=timeout, interval=0.1)
        except AssertionError:
            raise ServerError(f"member {self.id} did not serve within {timeout:.0f}s\n{self.log_tail()}") from None

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        self.resume()  # a stopped process would hold a SIGTERM until SIGCONT
        return super().stop(sig)


class Ensemble:
    """Three members of one kind, each in its namespace of ``net``."""

    def __init__(self, kind: str, workdir: Path, net: Network):
        self.kind = kind
        self.net = net
        lines = {f"server.{i}": f"{net.addr[i]}:{PEER_PORT}:{ELECTION_PORT}" for i in net.ids}
        config = {"initLimit": "10", "syncLimit": "5", **lines}
        self.members = {i: Member(kind, Path(workdir) / f"member{i}", net, i, config) for i in net.ids}

    @property
    def hosts(self) -> str:
        return ",".join(m.hosts for m in self.members.values())

    def start(self, timeout: float = 60.0) -> None:
        for m in self.members.values():
            if not m.alive():
                m.start(wait=False)
        self.wait_serving(timeout)

    def modes(self) -> dict[int, str | None]:
        return {i: m.mode() for i, m in self.members.items()}

    def wait_serving(self, timeout: float = 40.0) -> dict[int, str | None]:
        """Until every member serves, exactly one of them as leader; raises with the logs."""
        last: dict[int, str | None] = {}

        def settled():
            for i, m in self.members.items():
                if not m.alive():
                    raise ServerError(f"member {i} exited ({m.proc.returncode})\n{m.log_tail(40)}")
            last.update(self.modes())
            modes = list(last.values())
            return all(m in SERVING_MODES for m in modes) and modes.count("leader") == 1

        try:
            wait_until(settled, timeout=timeout, interval=0.1)
        except AssertionError:
            raise AssertionError(
                f"{self.kind} ensemble did not settle within {timeout:.0f}s (modes {last})\n{self.log_tails()}"
            ) from None
        return dict(last)

    def leader(self) -> int | None:
        leaders = [i for i, mode in self.modes().items() if mode == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def stop(self) -> None:
        for m in self.members.values():
            m.stop()

    def kill_all(self) -> None:
        """SIGKILL by pid (for interrupt handlers: no waiting for a clean stop)."""
        for m in self.members.values():
            if m.alive():
                for sig in (signal.SIGCONT, signal.SIGKILL):
                    try:
                        os.kill(m.pid, sig)
                    except ProcessLookupError:
                        pass

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(m.log_tail(lines) for m in self.members.values())
