"""Replicated ensembles on loopback: three (or more) real server processes of one
kind, each with its own directory, myid and client port, started from zoo.cfg
files with ``server.N`` lines -- corral members and, as the oracle, Apache
ZooKeeper 3.8 members (QuorumPeerMain) under the same tests.

Faults are real: ``kill -9`` of the leader or of a minority while kazoo clients
connected to every member keep writing. Every acknowledged write must survive,
sessions must survive a failover, and every member must end with the same data.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KeeperState
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    ConnectionLoss,
    EphemeralOnLocalSessionError,
    NoAuthError,
    NotReadOnlyCallError,
    OperationTimeoutError,
    SessionExpiredError,
)

from conftest import fast_retry
from test_zkcli import InteractiveCli, zkcli_path  # noqa: F401  (fixture)
from zkharness import SUPER_PASSWORD, SUPER_USER, Ensemble, ServerError, four_letter_word, wait_until

SESSION_TIMEOUT_S = 6.0
# How long a write to a member without a quorum may stay unanswered before the test
# counts it as failed.
NO_QUORUM_WRITE_TIMEOUT_S = 2 * SESSION_TIMEOUT_S


@pytest.fixture
def ensemble(server_kind, tmp_path):
    """``ensemble(size=3, observers=0, spares=0, **zoo_cfg)`` -> a started ensemble of this kind
    (spares are configured but not started: members to add with reconfig)."""
    made: list[Ensemble] = []

    def factory(size: int = 3, observers: int = 0, spares: int = 0, **config) -> Ensemble:
        e = Ensemble(server_kind, tmp_path / f"ensemble{len(made)}", size, observers, config, spares=spares)
        made.append(e)
        try:
            e.start()
        except (ServerError, AssertionError) as err:
            pytest.fail(f"could not start a {server_kind} ensemble: {err}", pytrace=False)
        return e

    yield factory
    for e in made:
        e.stop()


def client(hosts: str, timeout: float = SESSION_TIMEOUT_S) -> KazooClient:
    """A started kazoo client that tries the hosts in the given order."""
    zk = KazooClient(hosts=hosts, timeout=timeout, randomize_hosts=False, connection_retry=fast_retry())
    zk.start(timeout=20)
    return zk


class Writer(threading.Thread):
    """Creates sequential nodes under ``prefix`` as fast as it can, recording every
    acknowledged path and when it was acknowledged, and every state change."""

    def __init__(self, hosts: str, prefix: str):
        super().__init__(daemon=True)
        self.zk = client(hosts)
        self.prefix = prefix
        self.zk.ensure_path(prefix)
        self.session_id = self.zk.client_id[0]
        # (sent at, acknowledged at, path)
        self.acked: list[tuple[float, float, str]] = []
        self.errors = 0
        self.failure: BaseException | None = None
        self.states: list[str] = []
        self.zk.add_listener(lambda s: self.states.append(s))
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                sent = time.monotonic()
                path = self.zk.create(f"{self.prefix}/w-", b"x", sequence=True)
                self.acked.append((sent, time.monotonic(), path))
            except (ConnectionLoss, OperationTimeoutError):
                self.errors += 1
                time.sleep(0.02)
            except BaseException as err:  # anything else is a client-visible failure
                self.failure = err
                return

    def acked_after(self, t: float) -> int:
        """Writes sent after ``t`` and acknowledged."""
        return sum(1 for sent, _, _ in self.acked if sent > t)

    def first_ack_after(self, t: float) -> float | None:
        return next((at for sent, at, _ in self.acked if sent > t), None)

    def finish(self):
        self._halt.set()
        self.join(timeout=30)
        assert not self.is_alive(), "writer did not stop"
        assert self.failure is None, f"writer failed: {self.failure!r}"


def assert_all_present(zk: KazooClient, writers: list[Writer]) -> int:
    """Every acknowledged path exists; returns how many were checked."""
    total = 0
    for w in writers:
        present = set(zk.get_children(w.prefix))
        lost = [p for _, _, p in w.acked if p.rsplit("/", 1)[1] not in present]
        assert not lost, f"{len(lost)} acknowledged writes lost under {w.prefix}, e.g. {lost[:3]}"
        total += len(w.acked)
    return total


def same_data_on_every_member(e: Ensemble, paths: list[str]) -> None:
    """Each running member, asked directly (after sync), lists the same children."""
    views = {}
    for i, m in e.members.items():
        if not m.alive():
            continue
        zk = client(m.hosts)
        try:
            views[i] = {p: sorted(zk.get_children(p)) for p in paths if zk.sync(p) is not None}
        finally:
            zk.stop()
            zk.close()
    first = next(iter(views.values()))
    for i, view in views.items():
        assert view == first, f"member {i} differs from the others"


def test_three_members_elect_one_leader_and_report_roles(ensemble):
    e = ensemble()
    leader = e.leader()
    modes = sorted(m.mode() for m in e.members.values())
    assert modes == ["follower", "follower", "leader"]
    figures = e.members[leader].mntr()
    assert figures["zk_server_state"] == "leader"
    assert figures["zk_synced_followers"] == "2"
    assert figures["zk_peer_state"] == "leading - broadcast"
    follower = e.followers()[0]
    assert e.members[follower].mntr()["zk_peer_state"] == "following - broadcast"


def test_leader_kill_under_load_loses_nothing_and_sessions_survive(ensemble):
    e = ensemble()
    leader = e.leader()
    root = f"/load-{uuid.uuid4().hex[:6]}"
    # One writer per member, each connected to its own member first.
    writers = [Writer(e.hosts_starting_at(i), f"{root}/c{i}") for i in e.members]
    for i, w in enumerate(writers):
        w.zk.create(f"{root}/eph-{i}", b"", ephemeral=True)
    for w in writers:
        w.start()
    wait_until(lambda: all(len(w.acked) >= 50 for w in writers), timeout=30, message="no write load")

    killed_at = time.monotonic()
    e.members[leader].kill()
    wait_until(
        lambda: all(w.acked_after(killed_at) >= 20 for w in writers),
        timeout=40,
        message="writes did not resume on every client after the leader was killed",
    )
    for w in writers:
        w.finish()

    new_leader = e.leader()
    assert new_leader != leader
    failover = min(w.first_ack_after(killed_at) for w in writers) - killed_at
    print(f"{e.kind}: first write sent after kill -9 of the leader acknowledged {failover:.3f}s after the kill")
    for i, w in enumerate(writers):
        assert w.zk.client_id[0] == w.session_id, "the session changed"
        assert KazooState.LOST not in w.states, f"writer {i} lost its session"
        assert w.zk.exists(f"{root}/eph-{i}") is not None, "an ephemeral vanished in the failover"
    checked = assert_all_present(writers[0].zk, writers)
    assert checked > 150

    # The old leader comes back as a follower and catches up.
    e.members[leader].start(wait=False)
    e.wait_serving()
    e.wait_converged()
    same_data_on_every_member(e, [w.prefix for w in writers])
    for w in writers:
        w.zk.stop()
        w.zk.close()


def test_killing_a_minority_repeatedly_keeps_every_write(ensemble):
    e = ensemble()
    root = f"/minority-{uuid.uuid4().hex[:6]}"
    writer = Writer(e.hosts, f"{root}/w")
    writer.start()
    for round_ in range(4):
        # Alternate: the leader, then a follower.
        victim = e.leader() if round_ % 2 == 0 else e.followers()[0]
        before = len(writer.acked)
        e.members[victim].kill()
        killed_at = time.monotonic()
        wait_until(lambda: writer.acked_after(killed_at) >= 10, timeout=40, message=f"no writes in round {round_}")
        e.members[victim].start(wait=False)
        e.wait_serving()
        assert len(writer.acked) > before
    writer.finish()
    assert KazooState.LOST not in writer.states
    assert_all_present(writer.zk, [writer])
    e.wait_converged()
    same_data_on_every_member(e, [writer.prefix])
    writer.zk.stop()
    writer.zk.close()


def test_restarting_every_member_keeps_data_and_sessions(ensemble):
    e = ensemble()
    root = f"/restart-{uuid.uuid4().hex[:6]}"
    zk = client(e.hosts, timeout=10.0)
    zk.ensure_path(root)
    for i in range(100):
        zk.create(f"{root}/n{i:03}", str(i).encode())
    zk.create(f"{root}/eph", b"e", ephemeral=True)
    session = zk.client_id[0]
    states = []
    zk.add_listener(states.append)
    for m in e.members.values():
        m.kill()
    e.start()
    wait_until(lambda: zk.connected, timeout=30, message="the client did not reconnect")
    assert zk.client_id[0] == session
    assert len(zk.get_children(root)) == 101
    assert zk.get(f"{root}/n042")[0] == b"42"
    assert zk.exists(f"{root}/eph") is not None
    assert KazooState.LOST not in states
    zk.stop()
    zk.close()


def test_expired_session_ephemerals_go_from_every_member(ensemble, hold_session):
    e = ensemble()
    follower = e.followers()[0]
    root = f"/expire-{uuid.uuid4().hex[:6]}"
    setup = client(e.hosts)
    setup.ensure_path(root)
    # A session held by another process, connected to a follower only.
    held = hold_session(e.members[follower], 2.0, f"{root}/eph")
    watchers = {i: client(m.hosts) for i, m in e.members.items()}
    for zk in watchers.values():
        zk.sync(root)
        assert zk.exists(f"{root}/eph") is not None
    # kill -9: no closeSession; the leader expires the session and every
    # member drops its ephemeral.
    held.kill()
    for i, zk in watchers.items():
        wait_until(
            lambda zk=zk: zk.sync(root) is not None and zk.exists(f"{root}/eph") is None,
            timeout=20,
            message=f"member {i} still has the expired session's ephemeral",
        )
    for zk in [setup, *watchers.values()]:
        zk.stop()
        zk.close()


def test_observer_serves_reads_and_forwards_writes(ensemble):
    e = ensemble(size=3, observers=1)
    assert e.members[4].mode() == "observer"
    leader = e.leader()
    wait_until(lambda: e.members[leader].mntr().get("zk_synced_observers") == "1", timeout=20)
    root = f"/observer-{uuid.uuid4().hex[:6]}"
    via_observer = client(e.members[4].hosts)
    via_leader = client(e.members[leader].hosts)
    via_observer.create(root, b"from-observer")
    assert via_leader.get(root)[0] == b"from-observer"
    via_leader.set(root, b"from-leader")
    via_observer.sync(root)
    assert via_observer.get(root)[0] == b"from-leader"
    # Losing the observer changes no quorum: writes go on.
    e.members[4].kill()
    via_leader.create(f"{root}/after", b"")
    for zk in (via_observer, via_leader):
        zk.stop()
        zk.close()


def test_zkcli_across_a_leader_kill(ensemble, zkcli_path):  # noqa: F811
    e = ensemble()
    r = f"/zkcli-ens-{uuid.uuid4().hex[:6]}"
    cli = InteractiveCli(zkcli_path, e)
    try:
        cli.send(f"create {r} v1", "create -e {r}/eph e".replace("{r}", r))
        cli.wait_for(f"Created {r}/eph", timeout=60)
        e.members[e.leader()].kill()
        e.wait_serving(timeout=40)
        # The same zkCli, same session, keeps working on the surviving members.
        deadline = time.monotonic() + 40
        n = 0
        while True:
            n += 1
            cli.send(f"create {r}/after{n} x")
            try:
                cli.wait_for(f"Created {r}/after{n}", timeout=5)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "\n".join(cli.lines)
        cli.send(f"get {r}", f"stat {r}/eph")
        cli.wait_for("ephemeralOwner", timeout=30)
        cli.barrier()
        assert cli.count("v1") >= 1
        assert not any("Session expired" in line or "SESSIONEXPIRED" in line for line in cli.lines)
    finally:
        cli.close()
    zk = client(e.hosts)
    assert zk.exists(r) is not None
    assert zk.exists(f"{r}/eph") is None  # zkCli's session closed when it quit
    zk.stop()
    zk.close()


def test_writes_without_a_quorum_fail_and_resume_when_it_returns(ensemble):
    e = ensemble()
    leader = e.leader()
    followers = e.followers()
    root = f"/quorum-{uuid.uuid4().hex[:6]}"
    zk = KazooClient(hosts=e.members[leader].hosts, timeout=SESSION_TIMEOUT_S, connection_retry=fast_retry(),
                     command_retry=None)
    zk.start(timeout=20)
    zk.create(root, b"")
    for f in followers:
        e.members[f].kill()
    # The lone member may not commit: the write fails (no acknowledgement). Either an
    # error comes back, or no answer at all: once the member has dropped its clients,
    # kazoo queues the request while it reconnects to a member that cannot serve.
    with pytest.raises((ConnectionLoss, OperationTimeoutError, SessionExpiredError, KazooTimeoutError)):
        zk.create_async(f"{root}/lonely", b"").get(timeout=NO_QUORUM_WRITE_TIMEOUT_S)
    for f in followers:
        e.members[f].start(wait=False)
    e.wait_serving(timeout=40)
    zk2 = client(e.hosts)
    zk2.create(f"{root}/back", b"")
    assert zk2.exists(f"{root}/back") is not None
    for c in (zk, zk2):
        c.stop()
        c.close()


def config_members(data: bytes) -> dict[int, str]:
    """``/zookeeper/config`` data -> {id: server spec}; checks the version line."""
    lines = data.decode().splitlines()
    assert lines[-1].startswith("version="), lines
    int(lines[-1][len("version="):], 16)
    return {int(k[len("server."):]): v for k, v in (line.split("=", 1) for line in lines[:-1])}


def test_reconfig_adds_and_removes_members_under_load(ensemble):
    e = ensemble(spares=1, reconfigEnabled="true")
    leader = e.leader()
    root = f"/reconfig-{uuid.uuid4().hex[:6]}"
    first = [i for i in e.members if i not in e.spares]
    writers = [Writer(e.hosts_starting_at(i), f"{root}/c{i}") for i in first]
    for w in writers:
        w.start()
    wait_until(lambda: all(len(w.acked) >= 30 for w in writers), timeout=30, message="no write load")

    admin = client(e.members[leader].hosts)
    admin.add_auth("digest", f"{SUPER_USER}:{SUPER_PASSWORD}")
    data, stat = admin.get("/zookeeper/config")
    assert sorted(config_members(data)) == first
    assert stat.version == -1
    # Only a user with WRITE on /zookeeper/config may reconfigure.
    plain = client(e.members[leader].hosts)
    with pytest.raises(NoAuthError):
        plain.reconfig(joining=None, leaving=str(first[-1]), new_members=None)
    # ZooKeeper's order: the version and the arguments are checked before the ACL.
    with pytest.raises(BadArgumentsError):
        plain.reconfig(joining="server.9=no-such-spec", leaving=None, new_members=None)
    with pytest.raises(BadVersionError):
        plain.reconfig(joining=None, leaving=str(first[-1]), new_members=None, from_config=12345)
    with pytest.raises(BadArgumentsError):
        admin.reconfig(joining="server.9=no-such-spec", leaving=None, new_members=None)
    with pytest.raises(BadArgumentsError):
        admin.reconfig(joining=None, leaving=",".join(map(str, first)), new_members=None)
    with pytest.raises(BadVersionError):
        admin.reconfig(joining=None, leaving=str(first[-1]), new_members=None, from_config=12345)

    # A new member joins: started with the others' lines plus its own, added with reconfig.
    new = max(e.spares)
    e.members[new].start(wait=False)
    line = f"server.{new}={e.lines[f'server.{new}']}"
    data, stat = admin.reconfig(joining=line, leaving=None, new_members=None)
    members = config_members(data)
    assert sorted(members) == first + [new]
    assert members[new].endswith(":participant;127.0.0.1:%d" % e.members[new].port)
    wait_until(lambda: e.members[new].mode() == "follower", timeout=30, message="the new member did not follow")
    # It serves everything acknowledged before a sync through it.
    joined = client(e.members[new].hosts)
    acked_before = {w.prefix: list(w.acked) for w in writers}
    joined.sync("/")
    for prefix, acked in acked_before.items():
        present = set(joined.get_children(prefix))
        assert all(p.rsplit("/", 1)[1] in present for _, _, p in acked), f"the new member misses writes under {prefix}"

    # A follower leaves (the load goes on; its clients move elsewhere).
    gone = next(i for i in first if i != leader)
    data, _ = admin.reconfig(joining=None, leaving=str(gone), new_members=None, from_config=stat.mzxid)
    assert sorted(config_members(data)) == sorted([i for i in first if i != gone] + [new])
    mark = time.monotonic()
    wait_until(lambda: all(w.acked_after(mark) >= 20 for w in writers), timeout=40,
               message="writes did not go on after the reconfigs")
    for w in writers:
        w.finish()
    for i, w in enumerate(writers):
        assert w.zk.client_id[0] == w.session_id, "a session changed"
        assert KazooState.LOST not in w.states, f"writer {i} lost its session"
    joined.sync("/")
    checked = assert_all_present(joined, writers)
    assert checked > 100
    # Every remaining member shows the same membership.
    for i in [m for m in first if m != gone] + [new]:
        c = client(e.members[i].hosts)
        c.sync("/zookeeper/config")
        assert config_members(c.get("/zookeeper/config")[0]) == config_members(data)
        c.stop()
        c.close()
    for c in [admin, plain, joined] + [w.zk for w in writers]:
        c.stop()
        c.close()


def test_rolling_restart_under_load_shows_only_reconnects(ensemble):
    e = ensemble()
    root = f"/rolling-{uuid.uuid4().hex[:6]}"
    writers = [Writer(e.hosts_starting_at(i), f"{root}/c{i}") for i in e.members]
    for i, w in enumerate(writers):
        w.zk.create(f"{root}/eph-{i}", b"", ephemeral=True)
    for w in writers:
        w.start()
    wait_until(lambda: all(len(w.acked) >= 30 for w in writers), timeout=30, message="no write load")
    # One member at a time, followers first and the leader last, as operators do.
    leader = e.leader()
    for i in [m for m in e.members if m != leader] + [leader]:
        e.members[i].stop()
        e.members[i].start(wait=False)
        e.wait_serving(timeout=40)
        mark = time.monotonic()
        wait_until(lambda: all(w.acked_after(mark) >= 10 for w in writers), timeout=40,
                   message=f"writes did not resume after restarting member {i}")
    for w in writers:
        w.finish()
    for i, w in enumerate(writers):
        assert w.zk.client_id[0] == w.session_id, "a session changed"
        assert KazooState.LOST not in w.states, f"writer {i} lost its session"
        assert w.zk.exists(f"{root}/eph-{i}") is not None, "an ephemeral vanished"
    assert assert_all_present(writers[0].zk, writers) > 150
    e.wait_converged()
    same_data_on_every_member(e, [w.prefix for w in writers])
    for w in writers:
        w.zk.stop()
        w.zk.close()


def test_a_wiped_follower_catches_up_after_the_log_was_purged(ensemble):
    e = ensemble(snapCount="100")
    root = f"/wiped-{uuid.uuid4().hex[:6]}"
    zk = client(e.hosts_starting_at(e.leader()))
    zk.create(root, b"")
    for i in range(400):
        zk.create(f"{root}/n{i}", b"x" * 10)
    # A follower loses its disk: everything but myid.
    gone = e.followers()[0]
    member = e.members[gone]
    member.kill()
    for d in {member.data_dir, member.datalog_dir}:
        for p in d.iterdir():
            if p.name != "myid":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    member.start(wait=False)
    e.wait_serving(timeout=40)
    e.wait_converged()
    direct = client(member.hosts)
    assert len(direct.get_children(root)) == 400
    zk.create(f"{root}/after", b"")
    direct.sync(root)
    assert direct.exists(f"{root}/after") is not None
    for c in (zk, direct):
        c.stop()
        c.close()


def test_local_sessions_stay_on_their_member_until_they_own_an_ephemeral(ensemble):
    e = ensemble(localSessionsEnabled="true", localSessionsUpgradingEnabled="true")
    home = e.followers()[0]
    root = f"/local-{uuid.uuid4().hex[:6]}"
    local = client(e.hosts_starting_at(home))
    upgraded = client(e.hosts_starting_at(home))
    states = {"local": [], "upgraded": []}
    local.add_listener(lambda s: states["local"].append(s))
    upgraded.add_listener(lambda s: states["upgraded"].append(s))
    local_id, upgraded_id = local.client_id[0], upgraded.client_id[0]
    # A local session writes like any other...
    local.create(root, b"")
    local.create(f"{root}/by-local", b"x")
    # ...and becomes a global one when it creates an ephemeral.
    upgraded.create(f"{root}/eph", b"", ephemeral=True)
    other = next(i for i in e.members if i != home)
    watcher = client(e.members[other].hosts)
    watcher.sync(root)
    assert watcher.exists(f"{root}/eph").ephemeralOwner == upgraded_id

    e.members[home].kill()

    def moved() -> bool:
        try:
            return upgraded.connected and upgraded.exists(f"{root}/eph") is not None
        except (ConnectionLoss, OperationTimeoutError):
            return False  # still reconnecting

    # The global session moves to another member with its ephemeral.
    wait_until(moved, timeout=30, message="the upgraded session did not move")
    assert upgraded.client_id[0] == upgraded_id
    assert KazooState.LOST not in states["upgraded"]
    # The local session lived only on the member that died: it is gone.
    wait_until(lambda: KazooState.LOST in states["local"], timeout=30, message="the local session survived")
    wait_until(lambda: local.connected, timeout=30, message="the local client did not reconnect")
    assert local.client_id[0] != local_id
    assert local.exists(f"{root}/by-local") is not None
    for c in (local, upgraded, watcher):
        c.stop()
        c.close()


def test_without_upgrading_a_local_session_may_not_own_ephemerals(ensemble):
    e = ensemble(localSessionsEnabled="true")
    zk = client(e.hosts_starting_at(e.followers()[0]))
    root = f"/noupgrade-{uuid.uuid4().hex[:6]}"
    zk.create(root, b"")
    with pytest.raises(EphemeralOnLocalSessionError):
        zk.create(f"{root}/eph", b"", ephemeral=True)
    assert zk.exists(f"{root}/eph") is None
    # The session itself is unharmed.
    zk.create(f"{root}/plain", b"")
    assert zk.get_children(root) == ["plain"]
    zk.stop()
    zk.close()


def test_read_only_mode_serves_reads_without_a_quorum_and_returns_to_read_write(ensemble):
    e = ensemble(**{"readonlymode.enabled": "true", "localSessionsEnabled": "true"})
    keep = e.followers()[0]
    member = e.members[keep]
    root = f"/ro-{uuid.uuid4().hex[:6]}"
    writer = client(e.hosts)
    writer.create(root, b"before")
    writer.stop()
    writer.close()
    # A read-only-capable client with a session from before the partition.
    old = KazooClient(hosts=member.hosts, timeout=SESSION_TIMEOUT_S, read_only=True, connection_retry=fast_retry())
    old.start(timeout=20)
    assert four_letter_word(member.port, "isro").strip() == "rw"
    for i in e.members:
        if i != keep:
            e.members[i].kill()
    wait_until(lambda: four_letter_word(member.port, "isro", timeout=1.0).strip() == "ro", timeout=30,
               message="the cut-off member did not turn read-only")
    wait_until(lambda: old.client_state == KeeperState.CONNECTED_RO, timeout=30,
               message="the old session did not come back read-only")
    assert old.get(root)[0] == b"before"
    with pytest.raises(NotReadOnlyCallError):
        old.create(f"{root}/no", b"")
    # New read-only sessions are served too; ordinary clients are not.
    fresh = KazooClient(hosts=member.hosts, timeout=SESSION_TIMEOUT_S, read_only=True, connection_retry=fast_retry())
    fresh.start(timeout=20)
    assert fresh.client_state == KeeperState.CONNECTED_RO
    assert fresh.get_children("/").count(root[1:]) == 1
    plain = KazooClient(hosts=member.hosts, timeout=SESSION_TIMEOUT_S, connection_retry=fast_retry())
    with pytest.raises(KazooTimeoutError):  # start() never sees a session
        plain.start(timeout=3)
    plain.stop()
    plain.close()
    # The quorum returns: read-only clients move back to read-write.
    for i in e.members:
        if i != keep:
            e.members[i].start(wait=False)
    e.wait_serving(timeout=60)
    assert four_letter_word(member.port, "isro").strip() == "rw"
    wait_until(lambda: old.client_state == KeeperState.CONNECTED, timeout=60,
               message="the read-only session did not return to read-write")
    old.create(f"{root}/after", b"")
    assert old.exists(f"{root}/after") is not None
    for c in (old, fresh):
        c.stop()
        c.close()


def test_reconfig_with_a_whole_new_membership(ensemble):
    e = ensemble(spares=1, reconfigEnabled="true")
    leader = e.leader()
    first = [i for i in e.members if i not in e.spares]
    new = max(e.spares)
    admin = client(e.members[leader].hosts)
    admin.add_auth("digest", f"{SUPER_USER}:{SUPER_PASSWORD}")
    admin.create("/nonincremental", b"kept")
    # Non-incremental: the new membership is listed whole -- here the leader,
    # one follower and the new member; the other follower is left out.
    dropped = next(i for i in first if i != leader)
    kept = [i for i in first if i != dropped]
    e.members[new].start(wait=False)
    members = ",".join(f"server.{i}={e.lines[f'server.{i}']}" for i in kept + [new])
    data, _ = admin.reconfig(joining=None, leaving=None, new_members=members)
    assert sorted(config_members(data)) == sorted(kept + [new])
    wait_until(lambda: e.members[new].mode() in ("follower", "leader"), timeout=30,
               message="the new member did not join")
    joined = client(e.members[new].hosts)
    joined.sync("/nonincremental")
    assert joined.get("/nonincremental")[0] == b"kept"
    joined.create("/nonincremental/after", b"")
    admin.sync("/nonincremental")
    assert admin.exists("/nonincremental/after") is not None
    for c in (admin, joined):
        c.stop()
        c.close()
