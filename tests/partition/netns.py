"""A private network of Linux network namespaces for one test run.

    root namespace (the test and its clients)
        <prefix>r  10.B.C.254/24 ──veth── "root" ┐
                                                 │  bridge namespace <prefix>-br
    member namespace <prefix>-m1                 ├─ br0 (a Linux bridge)
        eth0 10.B.C.1/24 ──────────veth── "m1" ──┤
    member namespace <prefix>-m2 ... "m2" ───────┤
    member namespace <prefix>-m3 ... "m3" ───────┘

Every member has its own namespace, so its address exists only there and
every member can use the same ports. The test process reaches all of them
through its veth into the bridge.

Faults:

* :meth:`Network.isolate_from_peers` -- blackhole routes in the member's
  namespace towards every other member, and in theirs towards it: the members
  cannot exchange a packet (silently dropped, as on a cut link), while the
  clients in the root namespace still reach every member;
* :meth:`Network.isolate_fully` -- the member's port on the bridge goes down:
  nobody reaches it and it reaches nobody;
* :meth:`Network.heal` undoes both.

Names carry a per-run prefix ``crl<pid>``. :meth:`Network.remove` (idempotent)
kills what still runs inside the namespaces and deletes them;
:func:`remove_leftovers` does the same for runs whose test process is gone.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess

PREFIX_BASE = "crl"
BRIDGE = "br0"
MEMBER_IF = "eth0"
ROOT_PORT = "root"  # the bridge port of the root namespace's veth
CLIENT_HOST = 254  # the root namespace's address in the run's /24
LEFTOVER_NS = re.compile(rf"^{PREFIX_BASE}(\d+)-(?:br|m\d+)$")
LEFTOVER_LINK = re.compile(rf"^{PREFIX_BASE}(\d+)r$")


class NetnsError(RuntimeError):
    pass


def ip(*args: str, check: bool = True) -> str:
    """Run ``ip ARGS``; raise with its stderr when it fails and ``check``."""
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {r.stderr.strip() or r.returncode}")
    return r.stdout


def netns_names() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def root_links() -> list[str]:
    names = []
    for line in ip("-o", "link", "show").splitlines():
        # "5: crl123r@if4: <...>"
        name = line.split(":", 2)[1].strip().split("@", 1)[0]
        names.append(name)
    return names


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_inside(ns: str) -> None:
    """SIGKILL every process still inside namespace ``ns`` (resuming stopped ones first)."""
    for pid in ip("netns", "pids", ns, check=False).split():
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(int(pid), sig)
            except (ProcessLookupError, ValueError):
                pass


def _delete(namespaces: list[str], links: list[str]) -> None:
    for link in links:
        ip("link", "del", link, check=False)
    for ns in namespaces:
        _kill_inside(ns)
    for ns in namespaces:
        ip("netns", "del", ns, check=False)


def remove_leftovers() -> list[str]:
    """Delete namespaces and links of earlier runs whose test process is gone; return their names."""
    namespaces = [n for n in netns_names() if (m := LEFTOVER_NS.match(n)) and not pid_alive(int(m[1]))]
    links = [n for n in root_links() if (m := LEFTOVER_LINK.match(n)) and not pid_alive(int(m[1]))]
    _delete(namespaces, links)
    return namespaces + links


def _taken_networks() -> list[ipaddress.IPv4Network]:
    """Networks the root namespace already routes or has addresses in."""
    taken = []
    for line in ip("-4", "route", "show", "table", "all").splitlines():
        word = line.split()[0] if line.split() else ""
        if word in ("default", "broadcast", "local", "unreachable", "blackhole", "prohibit"):
            word = line.split()[1] if word != "default" and len(line.split()) > 1 else ""
        try:
            taken.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            pass
    for line in ip("-4", "-o", "addr", "show").splitlines():
        parts = line.split()
        if "inet" in parts:
            taken.append(ipaddress.ip_network(parts[parts.index("inet") + 1], strict=False))
    return taken


def choose_subnet(pid: int) -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 derived from ``pid`` that overlaps nothing the host routes."""
    taken = _taken_networks()
    for attempt in range(256 * 50):
        n = (pid + attempt * 7919) % (256 * 50)
        candidate = ipaddress.ip_network(f"10.{200 + n // 256}.{n % 256}.0/24")
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    raise NetnsError("no free 10.200-249.x.0/24 network for the test")


class Network:
    """The namespaces, bridge and veths of one run; see the module doc."""

    def __init__(self, members: int = 3, pid: int | None = None):
        self.pid = pid or os.getpid()
        self.prefix = f"{PREFIX_BASE}{self.pid}"
        self.subnet = choose_subnet(self.pid)
        hosts = list(self.subnet.hosts())
        self.ids = list(range(1, members + 1))
        self.bridge_ns = f"{self.prefix}-br"
        self.member_ns = {i: f"{self.prefix}-m{i}" for i in self.ids}
        self.addr = {i: str(hosts[i - 1]) for i in self.ids}
        self.client_addr = str(hosts[CLIENT_HOST - 1])
        self.root_link = f"{self.prefix}r"
        self.created = False
        # member -> the peers it currently has blackhole routes towards
        self._blackholed: dict[int, set[int]] = {i: set() for i in self.ids}
        self._down: set[int] = set()

    # ---- life cycle --------------------------------------------------------------

    def create(self) -> None:
        self.created = True  # from the first command on, remove() has work to do
        br = self.bridge_ns
        ip("netns", "add", br)
        ip("-n", br, "link", "set", "lo", "up")
        ip("-n", br, "link", "add", BRIDGE, "type", "bridge")
        ip("-n", br, "link", "set", BRIDGE, "up")
        for i in self.ids:
            ns = self.member_ns[i]
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "add", MEMBER_IF, "type", "veth", "peer", "name", f"m{i}", "netns", br)
            ip("-n", ns, "addr", "add", f"{self.addr[i]}/{self.subnet.prefixlen}", "dev", MEMBER_IF)
            ip("-n", ns, "link", "set", MEMBER_IF, "up")
            ip("-n", br, "link", "set", f"m{i}", "master", BRIDGE)
            ip("-n", br, "link", "set", f"m{i}", "up")
        ip("link", "add", self.root_link, "type", "veth", "peer", "name", ROOT_PORT, "netns", br)
        ip("addr", "add", f"{self.client_addr}/{self.subnet.prefixlen}", "dev", self.root_link)
        ip("link", "set", self.root_link, "up")
        ip("-n", br, "link", "set", ROOT_PORT, "master", BRIDGE)
        ip("-n", br, "link", "set", ROOT_PORT, "up")

    def remove(self) -> None:
        """Kill whatever still runs in the namespaces and delete everything (idempotent)."""
        if not self.created:
            return
        self.created = False
        existing = set(netns_names())
        _delete(
            [ns for ns in [*self.member_ns.values(), self.bridge_ns] if ns in existing],
            [self.root_link] if self.root_link in root_links() else [],
        )

    def leftovers(self) -> list[str]:
        """Names of this run still present (empty after :meth:`remove`)."""
        mine = {*self.member_ns.values(), self.bridge_ns, self.root_link}
        return sorted(mine & {*netns_names(), *root_links()})

    def exec_prefix(self, i: int) -> list[str]:
        """The command prefix that runs a program inside member ``i``'s namespace."""
        return ["ip", "netns", "exec", self.member_ns[i]]

    # ---- faults ------------------------------------------------------------------

    def isolate_from_peers(self, i: int) -> None:
        """Member ``i`` and the other members drop each other's packets; clients still reach all."""
        for j in self.ids:
            if j != i:
                self._blackhole(i, j)
                self._blackhole(j, i)

    def isolate_fully(self, i: int) -> None:
        """Member ``i``'s bridge port goes down: no packet in or out."""
        ip("-n", self.bridge_ns, "link", "set", f"m{i}", "down")
        self._down.add(i)

    def heal(self) -> None:
        for i in sorted(self._down):
            ip("-n", self.bridge_ns, "link", "set", f"m{i}", "up")
        self._down.clear()
        for i, peers in self._blackholed.items():
            for j in sorted(peers):
                ip("-n", self.member_ns[i], "route", "del", "blackhole", f"{self.addr[j]}/32")
            peers.clear()

    def _blackhole(self, i: int, j: int) -> None:
        if j not in self._blackholed[i]:
            ip("-n", self.member_ns[i], "route", "add", "blackhole", f"{self.addr[j]}/32")
            self._blackholed[i].add(j)

    def __repr__(self) -> str:
        return f"<Network {self.prefix} {self.subnet}>"
