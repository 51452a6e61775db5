"""The namespace network itself: who reaches whom under each fault, and that nothing
outlives a run (its own removal, and the next run's removal of a killed run's leftovers)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from netns import Network, netns_names, remove_leftovers, root_links

PORT = 7000
# A TCP server that answers every connection with its own address.
LISTENER = (
    "import socket, sys\n"
    "s = socket.create_server((sys.argv[1], %d))\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    c.sendall(sys.argv[1].encode())\n"
    "    c.close()\n" % PORT
)
# Inside a member: connect to every address given, print which answered.
PROBE = (
    "import socket, sys\n"
    "for host in sys.argv[1:]:\n"
    "    try:\n"
    "        with socket.create_connection((host, %d), timeout=0.5) as c:\n"
    "            print(host, c.recv(64).decode() == host)\n"
    "    except OSError:\n"
    "        print(host, False)\n" % PORT
)


def start_listeners(net: Network) -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen([*net.exec_prefix(i), sys.executable, "-c", LISTENER, net.addr[i]]) for i in net.ids
    ]
    deadline = time.monotonic() + 10
    while not all(client_reaches(net, i) for i in net.ids):
        assert time.monotonic() < deadline, "listeners in the member namespaces did not come up"
        time.sleep(0.05)
    return procs


def client_reaches(net: Network, i: int) -> bool:
    try:
        with socket.create_connection((net.addr[i], PORT), timeout=0.5) as c:
            return c.recv(64).decode() == net.addr[i]
    except OSError:
        return False


def eventually(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def peers_reached(net: Network, i: int, expect: set[int] | None = None) -> set[int]:
    """The members that member ``i`` reaches; with ``expect``, probe again for up to 5 s
    until it matches (after a heal, neighbour entries that failed need a moment)."""
    deadline = time.monotonic() + 5
    while True:
        reached = _probe_peers(net, i)
        if expect is None or reached == expect or time.monotonic() > deadline:
            return reached
        time.sleep(0.2)


def _probe_peers(net: Network, i: int) -> set[int]:
    others = [j for j in net.ids if j != i]
    out = subprocess.run(
        [*net.exec_prefix(i), sys.executable, "-c", PROBE, *(net.addr[j] for j in others)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    by_addr = {net.addr[j]: j for j in others}
    return {by_addr[host] for host, ok in (line.split() for line in out.splitlines()) if ok == "True"}


def test_faults_cut_exactly_what_they_say(network):
    net = network
    start_listeners(net)
    assert all(peers_reached(net, i, set(net.ids) - {i}) == set(net.ids) - {i} for i in net.ids)

    net.isolate_from_peers(1)
    assert peers_reached(net, 1) == set()
    assert peers_reached(net, 2) == {3}
    assert all(client_reaches(net, i) for i in net.ids), "clients must still reach every member"
    net.heal()
    assert peers_reached(net, 1, {2, 3}) == {2, 3}

    net.isolate_fully(2)
    assert not client_reaches(net, 2)
    assert client_reaches(net, 1) and client_reaches(net, 3)
    assert peers_reached(net, 2) == set()
    assert peers_reached(net, 3) == {1}
    net.heal()
    assert all(eventually(lambda: client_reaches(net, i)) for i in net.ids)
    assert peers_reached(net, 2, {1, 3}) == {1, 3}


def test_removal_kills_what_runs_inside_and_leaves_nothing(network):
    procs = start_listeners(network)
    network.remove()
    assert not network.leftovers()
    for p in procs:
        assert p.wait(timeout=10) is not None


def test_leftovers_of_a_dead_run_are_removed():
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid now names a run whose test process is gone
    net = Network(pid=dead.pid)
    try:
        net.create()
        sleeper = subprocess.Popen([*net.exec_prefix(1), "sleep", "600"])
        removed = remove_leftovers()
        assert set(removed) >= {*net.member_ns.values(), net.bridge_ns}
        assert sleeper.wait(timeout=10) == -9
        assert not set(net.member_ns.values()) & set(netns_names())
        assert net.root_link not in root_links()
    finally:
        net.remove()
