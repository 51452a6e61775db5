"""``/zookeeper/config``: what each member of an ensemble writes there (and in the
``conf`` four-letter word) for its peers, compared line by line with Apache
ZooKeeper 3.8 running the very same ``zoo.cfg`` files, and what Apache Curator's
``EnsembleTracker`` (on by default) makes of it when the member a client is
connected to dies.

ZooKeeper names a member's client address only when that member's ``server.N``
line has a ``;[host:]port`` part; classic ``host:peerPort:electionPort`` lines are
written without one, and Curator then keeps the connection string it was given.
"""

from __future__ import annotations

import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import BadArgumentsError

from conftest import fast_retry
import curator_probe
from zkharness import SUPER_PASSWORD, SUPER_USER, Ensemble, ServerError, four_letter_word, wait_until

STYLES = {"classic": False, "client-part": True}


def member_client(e: Ensemble, i: int, auth: bool = False) -> KazooClient:
    zk = KazooClient(hosts=e.members[i].hosts, timeout=6.0, connection_retry=fast_retry())
    zk.start(timeout=20)
    if auth:
        zk.add_auth("digest", f"{SUPER_USER}:{SUPER_PASSWORD}")
    return zk


def with_client_part(e: Ensemble, i: int) -> str:
    """Member ``i``'s line, with its client address added if it has none."""
    line = e.lines[f"server.{i}"]
    return line if ";" in line else f"{line};127.0.0.1:{e.ports[i]}"


def server_lines(text: str) -> list[str]:
    """The ``server.N=`` lines of a membership text, without its ``version=`` line."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("version="), text
    return lines[:-1]


def observe(e: Ensemble, ids: list[int]) -> list[str]:
    """What every member in ``ids`` shows, in ``/zookeeper/config`` and in ``conf``;
    they must all agree. Returns the server lines."""
    seen = {}
    for i in ids:
        zk = member_client(e, i)

        def recorded():
            # corral's first leader records the membership just after it is
            # elected: a member may serve a moment before the entry reaches it.
            zk.sync("/zookeeper/config")
            data, _ = zk.get("/zookeeper/config")
            return data if data.strip() else None

        try:
            data = wait_until(recorded, timeout=10, interval=0.05, message=f"member {i}: no membership recorded")
        finally:
            zk.stop()
            zk.close()
        conf = four_letter_word(e.members[i].port, "conf")
        assert f"serverId={i}\n" in conf, conf
        assert "membership: \n" in conf, conf
        membership = conf.split("membership: \n", 1)[1]
        assert server_lines(membership) == server_lines(data.decode()), f"member {i}: conf and /zookeeper/config differ"
        seen[i] = server_lines(data.decode())
    first = seen[ids[0]]
    assert all(lines == first for lines in seen.values()), f"members disagree: {seen}"
    return first


def scenario(kind: str, workdir, client_part: bool, ports_of: Ensemble | None) -> tuple[Ensemble, dict[str, list[str]]]:
    """Starts a 3-member ensemble (+1 spare) of ``kind`` and takes it through a
    join, a leave, a non-incremental reconfig and a leader kill -9 + restart,
    recording the membership every member shows after each step."""
    e = Ensemble(kind, workdir, size=3, spares=1, config={"reconfigEnabled": "true"},
                 client_part=client_part, ports_of=ports_of)
    stages: dict[str, list[str]] = {}
    try:
        e.start()
        stages["initial"] = observe(e, [1, 2, 3])
        admin = member_client(e, e.leader(), auth=True)
        e.members[4].start(wait=False)
        # A member added by reconfig must say where its clients connect.
        with_client = {i: with_client_part(e, i) for i in e.members}
        if not client_part:
            with pytest.raises(BadArgumentsError):
                admin.reconfig(joining=f"server.4={e.lines['server.4']}", leaving=None, new_members=None)
        admin.reconfig(joining=f"server.4={with_client[4]}", leaving=None, new_members=None)
        wait_until(lambda: e.members[4].mode() == "follower", timeout=30, message="member 4 did not join")
        stages["joined"] = observe(e, [1, 2, 3, 4])
        admin.reconfig(joining=None, leaving="4", new_members=None)
        stages["left"] = observe(e, [1, 2, 3])
        whole = ",".join(f"server.{i}={e.lines[f'server.{i}']}" for i in (1, 2, 3)) + f",server.4={with_client[4]}"
        admin.reconfig(joining=None, leaving=None, new_members=whole)
        wait_until(lambda: e.members[4].mode() == "follower", timeout=30, message="member 4 did not rejoin")
        stages["non-incremental"] = observe(e, [1, 2, 3, 4])
        admin.stop()
        admin.close()
        leader = e.leader()
        e.members[leader].kill()
        wait_until(lambda: any(e.members[i].mode() == "leader" for i in e.members if i != leader),
                   timeout=30, message="no new leader")
        e.members[leader].start()
        e.wait_serving()
        stages["leader killed and restarted"] = observe(e, [1, 2, 3, 4])
    finally:
        e.stop()
    return e, stages


@pytest.mark.parametrize("style", STYLES)
def test_zookeeper_config_matches_apache_zookeeper(style, tmp_path):
    """The same zoo.cfg files on both kinds: every stage shows the same lines."""
    oracle, expected = scenario("zookeeper", tmp_path / "zookeeper", STYLES[style], None)
    _, got = scenario("corral", tmp_path / "corral", STYLES[style], oracle)
    for stage, lines in expected.items():
        assert got[stage] == lines, f"{stage}: corral {got[stage]} vs ZooKeeper {lines}"
    # And what that means, spelled out: each member's own client address, or none.
    for stage, lines in got.items():
        for line in lines:
            i = int(line.split("=", 1)[0][len("server."):])
            if STYLES[style] or i == 4:  # member 4 joined by reconfig, with a client part
                assert line.endswith(f";127.0.0.1:{oracle.ports[i]}"), f"{stage}: {line}"
            else:
                assert ";" not in line, f"{stage}: {line}"


@pytest.fixture(scope="session")
def curator_classes(tmp_path_factory):
    reason = curator_probe.missing()
    if reason:
        pytest.fail(f"Apache Curator cannot run: {reason}", pytrace=False)
    return curator_probe.compile_probe(tmp_path_factory.mktemp("curator"))


@pytest.mark.parametrize("style", STYLES)
def test_curator_keeps_its_session_when_its_member_dies(server_kind, style, tmp_path, curator_classes):
    """Curator 5.4 with its defaults: after EnsembleTracker has read
    ``/zookeeper/config`` the connection string names every member, and killing
    the member the client is connected to, three times in a row, never costs
    the session."""
    e = Ensemble(server_kind, tmp_path, size=3, client_part=STYLES[style])
    try:
        e.start()
    except (ServerError, AssertionError) as err:
        pytest.fail(f"could not start a {server_kind} ensemble: {err}", pytrace=False)
    probe = None
    try:
        # With client parts in the lines, Curator learns the other members from
        # /zookeeper/config, so one member is enough to start with; without them
        # it keeps the string it was given, which then names them all.
        probe = curator_probe.CuratorProbe(curator_classes, e.members[1].hosts if STYLES[style] else e.hosts)
        every_member = {f"127.0.0.1:{port}" for port in e.ports.values()}

        def names_every_member() -> bool:
            return set(probe.info()[0].split(",")) == every_member

        try:
            wait_until(names_every_member, timeout=20, interval=0.1)
        except AssertionError:
            raise AssertionError(f"Curator's connection string does not name every member: {probe.info()[0]}") from None
        # The tracker answers within milliseconds of the connect; the string must stay
        # (the loop lets two seconds pass on purpose, checking it all along).
        stable_until = time.monotonic() + 2.0
        while time.monotonic() < stable_until:
            assert names_every_member(), f"the tracker rewrote the connection string to {probe.info()[0]}"
            time.sleep(0.1)
        _, _, session, _ = probe.info()
        for n in range(3):
            # The member restarted in the previous round may briefly cost Curator its
            # connection (never its session: checked below), so wait for it.
            try:
                port = probe.wait_connected(timeout=30)
            except AssertionError as err:
                raise AssertionError(f"round {n}: {err}") from None
            assert probe.info()[2] == session, f"round {n}: the session changed ({probe.states})"
            victim = next(i for i, p in e.ports.items() if p == port)
            e.members[victim].kill()
            wait_until(lambda: probe.info()[3] and probe.info()[1] not in (None, port), timeout=20, interval=0.05,
                       message=f"round {n}: Curator did not move off the killed member {victim} ({probe.states})")
            assert probe.create(f"/curator-failover/{style}-{n}").startswith("OK"), probe.states
            assert probe.info()[2] == session, "the session changed"
            e.members[victim].start(wait=False)
            e.wait_serving()
            assert names_every_member(), f"round {n}: connection string {probe.info()[0]}"
        assert "LOST" not in probe.states, probe.states
    finally:
        if probe is not None:
            probe.close()
        e.stop()
