"""Node types: sequential, ephemeral, container, TTL (wire-protocol.md §7) and the 3.6 reads
getEphemerals / getAllChildrenNumber (§5.3)."""

import re

import pytest
from kazoo.exceptions import BadArgumentsError, NoNodeError, NodeExistsError

from zkharness import wait_until

SEQ_RE = re.compile(r"^(.*)(\d{10})$")


def seq_of(path: str) -> int:
    m = SEQ_RE.match(path)
    assert m, f"{path!r} does not end in a 10-digit sequence number"
    return int(m.group(2))


# ---- sequential ---------------------------------------------------------------------


def test_sequential_suffix_is_ten_digits_and_increasing(zk, ns):
    paths = [zk.create(f"{ns}/job-", b"x", sequence=True) for _ in range(12)]
    assert paths[0] == f"{ns}/job-0000000000"
    assert paths[11] == f"{ns}/job-0000000011"
    assert [seq_of(p) for p in paths] == list(range(12))
    assert sorted(zk.get_children(ns)) == [p.rsplit("/", 1)[1] for p in paths]


def test_sequence_counts_every_child_create_not_deletes(zk, ns):
    # §7.2: the counter is the parent's number of child creates, sequential or not.
    a = zk.create(f"{ns}/s-", sequence=True)
    zk.delete(a)
    b = zk.create(f"{ns}/s-", sequence=True)
    zk.create(f"{ns}/plain")
    c = zk.create(f"{ns}/s-", sequence=True)
    assert [a, b, c] == [f"{ns}/s-0000000000", f"{ns}/s-0000000001", f"{ns}/s-0000000003"]


def test_sequence_counter_is_per_parent(zk, ns):
    zk.create(f"{ns}/p1")
    zk.create(f"{ns}/p2")
    zk.create(f"{ns}/p1/x-", sequence=True)
    zk.create(f"{ns}/p1/x-", sequence=True)
    assert zk.create(f"{ns}/p2/x-", sequence=True) == f"{ns}/p2/x-0000000000"


def test_sequential_with_trailing_slash_names_node_by_number(zk, ns):
    assert zk.create(f"{ns}/", sequence=True) == f"{ns}/0000000000"
    assert zk.create(f"{ns}/", sequence=True) == f"{ns}/0000000001"


def test_sequential_name_collision_is_node_exists_and_does_not_advance(zk, ns):
    zk.create(f"{ns}/lock-0000000001")  # 1st child create: the next suffix is 1 -> taken
    with pytest.raises(NodeExistsError):
        zk.create(f"{ns}/lock-", sequence=True)
    with pytest.raises(NodeExistsError):  # a failed create does not advance the counter
        zk.create(f"{ns}/lock-", sequence=True)
    zk.create(f"{ns}/other")
    assert zk.create(f"{ns}/lock-", sequence=True) == f"{ns}/lock-0000000002"


# ---- ephemeral ----------------------------------------------------------------------


def test_ephemeral_owned_by_session_and_removed_on_close(server, make_client, zk, ns):
    owner = make_client(server)
    eph = owner.create(f"{ns}/eph", b"e", ephemeral=True)
    eseq = owner.create(f"{ns}/eseq-", ephemeral=True, sequence=True)
    persistent = owner.create(f"{ns}/stays")
    session_id = owner.client_id[0]

    for p in (eph, eseq):
        stat = zk.exists(p)
        assert stat is not None
        assert stat.ephemeralOwner == session_id
    assert zk.exists(persistent).ephemeralOwner == 0
    assert seq_of(eseq) == 1

    owner.stop()  # closeSession: the ephemerals go in the same transaction
    assert zk.exists(eph) is None
    assert zk.exists(eseq) is None
    assert zk.exists(persistent) is not None
    assert zk.get_children(ns) == ["stays"]


def test_get_ephemerals_lists_own_session_only(server, make_client, zk, ns):
    other = make_client(server)
    mine = {zk.create(f"{ns}/a/e1", ephemeral=True, makepath=True),
            zk.create(f"{ns}/ab", ephemeral=True),
            zk.create(f"{ns}/b/e2", ephemeral=True, makepath=True)}
    other.create(f"{ns}/a/theirs", ephemeral=True)
    zk.create(f"{ns}/a/persistent")

    assert set(zk.get_ephemerals(ns)) == mine
    # A plain string prefix, not component-aware: "/a" matches "/ab" (§5.3).
    assert set(zk.get_ephemerals(f"{ns}/a")) == {f"{ns}/a/e1", f"{ns}/ab"}
    assert set(zk.get_ephemerals("/")) >= mine
    assert zk.get_ephemerals(f"{ns}/none") == []
    assert other.get_ephemerals(ns) == [f"{ns}/a/theirs"]


def test_get_all_children_number_counts_descendants(zk, ns):
    for p in ("a", "a/b", "a/b/c", "a/d", "e"):
        zk.create(f"{ns}/{p}")
    assert zk.get_all_children_number(ns) == 5
    assert zk.get_all_children_number(f"{ns}/a") == 3
    assert zk.get_all_children_number(f"{ns}/e") == 0
    with pytest.raises(NoNodeError):
        zk.get_all_children_number(f"{ns}/missing")


# ---- container ----------------------------------------------------------------------


def test_container_removed_after_last_child_goes(server, make_client, zk, ns):
    used, stat = zk.create_container(f"{ns}/used", b"c")
    assert used == f"{ns}/used"
    assert stat.ephemeralOwner == 0  # containers show owner 0 on the wire (§7.3)
    assert stat.dataLength == 1
    never_used, _ = zk.create_container(f"{ns}/never-used")
    busy, _ = zk.create_container(f"{ns}/busy")
    zk.create(f"{busy}/child")
    owner = make_client(server)
    lock_dir, _ = zk.create_container(f"{ns}/lockdir")
    owner.create(f"{lock_dir}/lock-", ephemeral=True, sequence=True)

    zk.create(f"{used}/child")
    zk.delete(f"{used}/child")
    owner.stop()  # the ephemeral child goes with the session

    wait_until(lambda: zk.exists(used) is None, 10, message="emptied container not reaped")
    wait_until(lambda: zk.exists(lock_dir) is None, 10,
               message="container emptied by session close not reaped")
    assert zk.exists(never_used) is not None, "a never-used container must be kept"
    assert zk.exists(busy) is not None, "a container with a child must be kept"


def test_container_errors(zk, ns):
    zk.create_container(f"{ns}/c")
    with pytest.raises(NodeExistsError):
        zk.create_container(f"{ns}/c")
    with pytest.raises(NoNodeError):
        zk.create_container(f"{ns}/missing/c")


# ---- TTL ----------------------------------------------------------------------------


def test_ttl_nodes_expire_unless_touched_or_parents(zk, ns):
    ttl_ms = 800
    plain, stat = zk.create_ttl(f"{ns}/plain", ttl_ms, b"t")
    assert plain == f"{ns}/plain"
    assert stat.ephemeralOwner == 0  # TTL nodes show owner 0 on the wire (§7.3)
    assert zk.get(plain)[0] == b"t"
    touched, _ = zk.create_ttl(f"{ns}/touched", ttl_ms)
    parent, _ = zk.create_ttl(f"{ns}/parent", ttl_ms)
    zk.create(f"{parent}/child")
    seq, _ = zk.create_ttl(f"{ns}/seq-", ttl_ms, sequence=True)
    assert seq_of(seq) == 3

    def plain_gone():
        zk.set(touched, b"keep")  # setData resets the TTL clock (mtime)
        return zk.exists(plain) is None and zk.exists(seq) is None

    wait_until(plain_gone, 10, interval=0.2, message="TTL nodes not removed after expiry")
    assert zk.exists(touched) is not None, "a TTL node set within its TTL must be kept"
    assert zk.exists(parent) is not None, "a TTL node with children must be kept"

    wait_until(lambda: zk.exists(touched) is None, 10, message="untouched TTL node kept")
    zk.delete(f"{parent}/child")
    wait_until(lambda: zk.exists(parent) is None, 10, message="childless TTL node kept")


@pytest.mark.parametrize("ttl", [0, -5, 1 << 40], ids=["zero", "negative", "too-big"])
def test_ttl_out_of_range_is_bad_arguments(zk, ns, ttl):
    with pytest.raises(BadArgumentsError):
        zk.create_ttl(f"{ns}/bad", ttl)
    assert zk.exists(f"{ns}/bad") is None
