"""ACLs and authentication (wire-protocol.md §10): digest, world, ip, auth, super."""

import pytest
from kazoo.exceptions import (
    AuthFailedError,
    BadVersionError,
    InvalidACLError,
    NoAuthError,
    NoNodeError,
)
from kazoo.protocol.connection import _CONNECTION_DROP
from kazoo.protocol.states import KazooState
from kazoo.security import (
    ACL,
    CREATOR_ALL_ACL,
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    Id,
    Permissions,
    make_acl,
    make_digest_acl,
)

from zkharness import SUPER_PASSWORD, SUPER_USER, digest

ALICE = "alice:secret"
ALICE_ID = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="  # test vector from §10.3


@pytest.fixture
def alice(server, make_client):
    client = make_client(server)
    client.add_auth("digest", ALICE)
    return client


@pytest.fixture
def anon(server, make_client):
    return make_client(server)


def test_digest_id_matches_reference_vector():
    assert digest("alice", "secret") == ALICE_ID


def test_digest_acl_denies_everyone_else(alice, anon, server, make_client, ns):
    acl = [make_digest_acl("alice", "secret", all=True)]
    path = alice.create(f"{ns}/private", b"secret data", acl=acl)
    alice.create(f"{path}/kid", acl=OPEN_ACL_UNSAFE)

    with pytest.raises(NoAuthError):
        anon.get(path)
    with pytest.raises(NoAuthError):
        anon.get_children(path)
    with pytest.raises(NoAuthError):
        anon.set(path, b"x")
    with pytest.raises(NoAuthError):
        anon.create(f"{path}/other")
    with pytest.raises(NoAuthError):
        anon.delete(f"{path}/kid")  # DELETE is checked on the parent
    with pytest.raises(NoAuthError):
        anon.set_acls(path, OPEN_ACL_UNSAFE)
    # The open child itself stays readable.
    assert anon.get(f"{path}/kid")[0] == b""

    bob = make_client(server)
    bob.add_auth("digest", "alice:wrong-password")
    with pytest.raises(NoAuthError):
        bob.get(path)

    alice2 = make_client(server)
    alice2.add_auth("digest", "bob:pw")  # identities accumulate on a connection
    alice2.add_auth("digest", ALICE)
    assert alice2.get(path)[0] == b"secret data"
    alice2.set(path, b"changed")
    assert alice.get(path)[0] == b"changed"


def test_world_read_only_node(alice, anon, ns):
    acl = [make_digest_acl("alice", "secret", all=True), ACL(Permissions.READ, Id("world", "anyone"))]
    path = alice.create(f"{ns}/ro", b"public", acl=acl)
    assert anon.get(path)[0] == b"public"
    assert anon.get_children(path) == []
    with pytest.raises(NoAuthError):
        anon.set(path, b"x")
    with pytest.raises(NoAuthError):
        anon.create(f"{path}/kid")
    # DELETE is checked on the parent (open), not on the node itself.
    anon.delete(path)
    assert alice.exists(path) is None


def test_permission_bits_are_checked_individually(alice, anon, ns):
    create_only = [
        make_digest_acl("alice", "secret", all=True),
        ACL(Permissions.CREATE | Permissions.READ, Id("world", "anyone")),
    ]
    parent = alice.create(f"{ns}/dropbox", acl=create_only)
    kid = anon.create(f"{parent}/letter", b"hi")
    with pytest.raises(NoAuthError):
        anon.delete(kid)  # no DELETE on the parent
    alice.delete(kid)

    write_only = [ACL(Permissions.WRITE, Id("world", "anyone"))]
    wo = alice.create(f"{ns}/wo", b"0", acl=write_only)
    anon.set(wo, b"1")
    with pytest.raises(NoAuthError):
        anon.get(wo)
    with pytest.raises(NoAuthError):
        anon.set_acls(wo, OPEN_ACL_UNSAFE)  # setACL needs ADMIN


def test_get_acls_returns_acl_and_masks_digest_without_admin(alice, anon, ns):
    acl = [
        make_digest_acl("alice", "secret", all=True),
        ACL(Permissions.READ, Id("world", "anyone")),
    ]
    path = alice.create(f"{ns}/n", acl=acl)
    got, stat = alice.get_acls(path)
    assert sorted(got, key=str) == sorted(
        [ACL(Permissions.ALL, Id("digest", ALICE_ID)), ACL(Permissions.READ, Id("world", "anyone"))],
        key=str,
    )
    assert stat.aversion == 0
    masked, _ = anon.get_acls(path)
    assert ACL(Permissions.ALL, Id("digest", "alice:x")) in masked
    assert ACL(Permissions.READ, Id("world", "anyone")) in masked


def test_set_acls_bumps_aversion_and_checks_version(alice, anon, ns):
    path = alice.create(f"{ns}/n", b"d")
    _, s0 = alice.get(path)
    s1 = alice.set_acls(path, [make_digest_acl("alice", "secret", all=True)])
    assert s1.aversion == 1
    assert (s1.version, s1.mzxid, s1.mtime) == (s0.version, s0.mzxid, s0.mtime)
    with pytest.raises(BadVersionError):
        alice.set_acls(path, OPEN_ACL_UNSAFE, version=0)
    with pytest.raises(NoAuthError):
        anon.get(path)
    assert alice.set_acls(path, OPEN_ACL_UNSAFE, version=1).aversion == 2
    assert anon.get(path)[0] == b"d"
    with pytest.raises(NoNodeError):
        alice.set_acls(f"{ns}/missing", OPEN_ACL_UNSAFE)


def test_creator_all_acl_needs_an_authenticated_identity(alice, anon, ns):
    with pytest.raises(InvalidACLError):
        anon.create(f"{ns}/mine", acl=CREATOR_ALL_ACL)
    assert anon.exists(f"{ns}/mine") is None
    path = alice.create(f"{ns}/mine", b"m", acl=CREATOR_ALL_ACL)
    acls, _ = alice.get_acls(path)
    assert acls == [ACL(Permissions.ALL, Id("digest", ALICE_ID))]
    with pytest.raises(NoAuthError):
        anon.get(path)


@pytest.mark.parametrize(
    "acl",
    [
        [],
        [ACL(Permissions.ALL, Id("world", "foo"))],
        [ACL(Permissions.ALL, Id("nosuchscheme", "x"))],
        [ACL(Permissions.ALL, Id("digest", "no-colon"))],
        [ACL(Permissions.ALL, Id("ip", "notanip"))],
    ],
    ids=["empty", "world-foo", "unknown-scheme", "digest-no-colon", "ip-garbage"],
)
def test_invalid_acls_rejected(zk, ns, acl):
    with pytest.raises(InvalidACLError):
        # create_async: kazoo's create() would turn an empty list into OPEN_ACL_UNSAFE.
        zk.create_async(f"{ns}/bad", acl=acl).get()
    assert zk.exists(f"{ns}/bad") is None
    zk.create(f"{ns}/good")
    with pytest.raises(InvalidACLError):
        zk.set_acls(f"{ns}/good", acl)


def test_ip_acl_matches_client_address(anon, ns, zk):
    loopback = zk.create(f"{ns}/lo", b"lo", acl=[make_acl("ip", "127.0.0.0/8", all=True)])
    exact = zk.create(f"{ns}/exact", b"ex", acl=[make_acl("ip", "127.0.0.1", read=True)])
    elsewhere = zk.create(f"{ns}/ten", b"ten", acl=[make_acl("ip", "10.0.0.0/8", all=True)])
    assert anon.get(loopback)[0] == b"lo"
    assert anon.get(exact)[0] == b"ex"
    with pytest.raises(NoAuthError):
        anon.get(elsewhere)


def test_super_digest_bypasses_acls(alice, server, make_client, ns):
    path = alice.create(f"{ns}/private", b"p", acl=[make_digest_acl("alice", "secret", read=True)])
    root = make_client(server)
    root.add_auth("digest", f"{SUPER_USER}:{SUPER_PASSWORD}")
    assert root.get(path)[0] == b"p"
    root.set(path, b"overridden")
    root.create(f"{path}/kid")
    acls, _ = root.get_acls(path)
    assert acls == [ACL(Permissions.READ, Id("digest", ALICE_ID))]  # not masked for super
    root.delete(f"{path}/kid")
    root.delete(path)
    assert root.exists(path) is None

    impostor = make_client(server)
    impostor.add_auth("digest", f"{SUPER_USER}:wrong")
    other = alice.create(f"{ns}/private2", acl=[make_digest_acl("alice", "secret", all=True)])
    with pytest.raises(NoAuthError):
        impostor.get(other)


def test_auth_is_resent_after_reconnect(alice, ns, recorder):
    path = alice.create(f"{ns}/p", b"v", acl=[make_digest_acl("alice", "secret", all=True)])
    states = recorder()
    alice.add_listener(states)
    alice._call(_CONNECTION_DROP, alice.handler.async_result())
    assert states.exactly(2) == [KazooState.SUSPENDED, KazooState.CONNECTED]
    assert alice.get(path)[0] == b"v"


def test_unknown_auth_scheme_fails(server, make_client):
    client = make_client(server)
    with pytest.raises(AuthFailedError):
        client.add_auth("nosuchscheme", "whatever")


def test_read_acl_unsafe_constant(zk, anon, ns):
    path = zk.create(f"{ns}/r", b"r", acl=READ_ACL_UNSAFE)
    assert anon.get(path)[0] == b"r"
    with pytest.raises(NoAuthError):
        anon.set(path, b"w")
