//! Unit tests of the tree's writes: precedence (§9.2, §10.5), Stat
//! maintenance (§7.4), sequence numbering (§7.2), containers and TTL (§7.5).

use super::check_version;
use crate::proto::{perms, Acl, Code, CreateMode, Id};
use crate::tree::acl::digest_id;
use crate::tree::testutil::{anon, at, mk, mkp};
use crate::tree::{DataTree, NewNode};

fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
    Acl { perms, id: Id::new(scheme, id) }
}

fn create_with(tree: &mut DataTree, path: &str, acl_list: &[Acl], ids: &[Id]) -> Result<String, Code> {
    let req = NewNode { path, data: None, acl: acl_list, mode: CreateMode::Persistent, ttl_ms: 0, session_id: 7 };
    tree.create(&req, ids, at(50)).map(|(p, _)| p)
}

fn create_path(tree: &mut DataTree, path: &str) -> Result<String, Code> {
    create_with(tree, path, &Acl::open_unsafe(), &anon())
}

#[test]
fn sequence_suffix_counts_creates_not_deletes() {
    let mut t = DataTree::new();
    mkp(&mut t, "/s", 1);
    let seq = |t: &mut DataTree, z| mk(t, "/s/s-", CreateMode::PersistentSequential, z).map(|(p, _)| p);
    assert_eq!(seq(&mut t, 2), Ok("/s/s-0000000000".to_string()));
    assert_eq!(t.delete("/s/s-0000000000", -1, &anon(), at(3)), Ok(()));
    assert_eq!(seq(&mut t, 4), Ok("/s/s-0000000001".to_string()));
    mkp(&mut t, "/s/plain", 5);
    assert_eq!(seq(&mut t, 6), Ok("/s/s-0000000003".to_string()));
    // 4 creates + 1 delete → cversion 5 (053_seq_parent_stat).
    let s = t.stat("/s").expect("/s exists");
    assert_eq!((s.cversion, s.num_children, s.pzxid), (5, 3, 6));
}

#[test]
fn sequential_trailing_slash_and_root_counter() {
    let mut t = DataTree::new();
    mkp(&mut t, "/w", 1);
    let got = mk(&mut t, "/w/", CreateMode::PersistentSequential, 2).map(|(p, _)| p);
    assert_eq!(got, Ok("/w/0000000000".to_string()));
    // The root's counter starts at 0 although it has a child.
    let got = mk(&mut t, "/", CreateMode::EphemeralSequential, 3).map(|(p, _)| p);
    assert_eq!(got, Ok("/0000000001".to_string()));
}

#[test]
fn create_and_delete_maintain_stats() {
    let mut t = DataTree::new();
    mkp(&mut t, "/p", 10);
    let before = t.stat("/p").expect("/p exists");
    let (_, child) = mk(&mut t, "/p/c", CreateMode::Persistent, 11).expect("the create succeeds");
    assert_eq!((child.czxid, child.mzxid, child.pzxid), (11, 11, 11));
    assert_eq!((child.ctime, child.mtime), (1011, 1011));
    assert_eq!((child.version, child.cversion, child.aversion, child.data_length), (0, 0, 0, 1));
    let after = t.stat("/p").expect("/p exists");
    assert_eq!((after.num_children, after.pzxid, after.cversion), (1, 11, 1));
    assert_eq!((after.version, after.mzxid, after.mtime), (before.version, before.mzxid, before.mtime));
    assert_eq!(t.delete("/p/c", 0, &anon(), at(12)), Ok(()));
    let gone = t.stat("/p").expect("/p exists");
    assert_eq!((gone.num_children, gone.pzxid, gone.cversion, gone.mzxid), (0, 12, 2, 10));
    assert_eq!(t.stat("/p/c"), None);
}

#[test]
fn set_data_and_set_acl_maintain_stats() {
    let mut t = DataTree::new();
    mkp(&mut t, "/n", 1);
    let s = t.set_data("/n", Some(b"hello"), 0, &anon(), at(2)).expect("setData succeeds");
    assert_eq!((s.version, s.mzxid, s.mtime, s.data_length, s.czxid, s.ctime), (1, 2, 1002, 5, 1, 1001));
    let s = t.set_acl("/n", &Acl::read_unsafe(), -1, &anon()).expect("setACL succeeds");
    assert_eq!((s.aversion, s.version, s.mzxid, s.mtime), (1, 1, 2, 1002));
    assert_eq!(t.set_data("/n", None, -1, &anon(), at(3)), Err(Code::NoAuth));
}

#[test]
fn null_and_empty_data_stay_distinct() {
    let mut t = DataTree::new();
    let open = Acl::open_unsafe();
    let null =
        NewNode { path: "/null", data: None, acl: &open, mode: CreateMode::Persistent, ttl_ms: 0, session_id: 1 };
    let empty = NewNode { path: "/empty", data: Some(b""), ..null };
    assert!(t.create(&null, &anon(), at(1)).is_ok());
    assert!(t.create(&empty, &anon(), at(2)).is_ok());
    let n = t.get_data("/null", &anon()).map(|d| (d.data, d.stat.data_length));
    assert_eq!(n, Ok((None, 0)));
    let e = t.get_data("/empty", &anon()).map(|d| (d.data.map(|b| b.to_vec()), d.stat.data_length));
    assert_eq!(e, Ok((Some(vec![]), 0)));
    assert!(t.set_data("/empty", None, -1, &anon(), at(3)).is_ok());
    assert_eq!(t.get_data("/empty", &anon()).map(|d| d.data.is_none()), Ok(true));
}

#[test]
fn create_error_precedence() {
    let mut t = DataTree::new();
    mkp(&mut t, "/w", 1);
    let bad_acl = [acl(31, "world", "foo")];
    // No '/' at all, or a NUL: BadArguments before anything else.
    assert_eq!(create_path(&mut t, "corral"), Err(Code::BadArguments));
    assert_eq!(create_path(&mut t, "/w/a\0b"), Err(Code::BadArguments));
    assert_eq!(create_with(&mut t, "/missing/a\0b", &bad_acl, &anon()), Err(Code::BadArguments));
    // Invalid ACL before the parent lookup.
    assert_eq!(create_with(&mut t, "/missing/x", &bad_acl, &anon()), Err(Code::InvalidAcl));
    assert_eq!(create_with(&mut t, "/w/x", &[], &anon()), Err(Code::InvalidAcl));
    assert_eq!(create_with(&mut t, "/w/x", &Acl::creator_all(), &anon()), Err(Code::InvalidAcl));
    assert_eq!(create_with(&mut t, "/w/x", &[acl(31, "nosuch", "x")], &anon()), Err(Code::InvalidAcl));
    // Parent lookup happens on the raw text: odd parents simply do not exist.
    assert_eq!(create_path(&mut t, "/no-such-parent/child"), Err(Code::NoNode));
    assert_eq!(create_path(&mut t, "/w/./x"), Err(Code::NoNode));
    assert_eq!(create_path(&mut t, "/w//x"), Err(Code::NoNode));
    assert_eq!(create_path(&mut t, "a/b"), Err(Code::NoNode));
    // Full-path validation after the parent and ACL checks.
    for bad in ["/w/", "/w/.", "/w/..", "/w/\u{1}", "/w/😀", "/w/\u{e000}"] {
        assert_eq!(create_path(&mut t, bad), Err(Code::BadArguments), "{bad:?}");
    }
    assert_eq!(create_path(&mut t, "/w/é"), Ok("/w/é".to_string()));
    assert_eq!(create_path(&mut t, "/w/..."), Ok("/w/...".to_string()));
    // CREATE on the parent before full-path validation.
    assert_eq!(create_path(&mut t, "/zookeeper/config/"), Err(Code::NoAuth));
    assert_eq!(create_path(&mut t, "/zookeeper/config/x"), Err(Code::NoAuth));
    assert_eq!(create_path(&mut t, "/zookeeper/x"), Ok("/zookeeper/x".to_string()));
    // Existence, then ephemeral parent.
    assert_eq!(create_path(&mut t, "/w"), Err(Code::NodeExists));
    assert_eq!(create_path(&mut t, "/"), Err(Code::NodeExists));
    assert!(mk(&mut t, "/w/e", CreateMode::Ephemeral, 2).is_ok());
    assert_eq!(create_path(&mut t, "/w/e/kid"), Err(Code::NoChildrenForEphemerals));
    assert_eq!(create_path(&mut t, "/w/e/"), Err(Code::BadArguments));
}

#[test]
fn create_ttl_bounds() {
    let mut t = DataTree::new();
    let open = Acl::open_unsafe();
    let ttl = |ttl_ms| NewNode {
        path: "/t",
        data: None,
        acl: &open,
        mode: CreateMode::PersistentWithTtl,
        ttl_ms,
        session_id: 1,
    };
    assert_eq!(t.create(&ttl(0), &anon(), at(1)).map(|_| ()), Err(Code::BadArguments));
    assert_eq!(t.create(&ttl(-5), &anon(), at(1)).map(|_| ()), Err(Code::BadArguments));
    assert_eq!(t.create(&ttl(1 << 40), &anon(), at(1)).map(|_| ()), Err(Code::BadArguments));
    let made = t.create(&ttl((1 << 40) - 1), &anon(), at(1)).map(|(_, s)| s.ephemeral_owner);
    assert_eq!(made, Ok(0));
}

#[test]
fn delete_error_precedence() {
    let mut t = DataTree::new();
    for p in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        assert_eq!(t.delete(p, -1, &anon(), at(1)), Err(Code::BadArguments), "{p}");
    }
    assert_eq!(t.delete("noslash", -1, &anon(), at(1)), Err(Code::BadArguments));
    assert_eq!(t.delete("/a\0", -1, &anon(), at(1)), Err(Code::BadArguments));
    assert_eq!(t.delete("/missing/x", -1, &anon(), at(1)), Err(Code::NoNode));
    assert_eq!(t.delete("/missing", -1, &anon(), at(1)), Err(Code::NoNode));
    // DELETE on the parent is checked before the node's existence.
    let nodelete = [acl(perms::ALL & !perms::DELETE, "world", "anyone")];
    assert!(create_with(&mut t, "/locked", &nodelete, &anon()).is_ok());
    assert_eq!(t.delete("/locked/ghost", -1, &anon(), at(2)), Err(Code::NoAuth));
    mkp(&mut t, "/locked/kid", 3);
    assert_eq!(t.delete("/locked/kid", -1, &anon(), at(4)), Err(Code::NoAuth));
    // Version before emptiness.
    mkp(&mut t, "/full", 5);
    mkp(&mut t, "/full/kid", 6);
    assert_eq!(t.delete("/full", 3, &anon(), at(7)), Err(Code::BadVersion));
    assert_eq!(t.delete("/full", 0, &anon(), at(7)), Err(Code::NotEmpty));
    assert_eq!(t.delete("/full/kid", -1, &anon(), at(8)), Ok(()));
    assert_eq!(t.delete("/full", 0, &anon(), at(9)), Ok(()));
    // Non-protected system children are ordinary nodes.
    mkp(&mut t, "/zookeeper/x", 10);
    assert_eq!(t.delete("/zookeeper/x", -1, &anon(), at(11)), Ok(()));
}

#[test]
fn set_data_error_precedence() {
    let mut t = DataTree::new();
    assert_eq!(t.set_data("/a/", None, -1, &anon(), at(1)), Err(Code::BadArguments));
    assert_eq!(t.set_data("/missing", None, -1, &anon(), at(1)), Err(Code::NoNode));
    // NoAuth before BadVersion.
    assert_eq!(t.set_data("/zookeeper/config", None, 9, &anon(), at(1)), Err(Code::NoAuth));
    mkp(&mut t, "/n", 2);
    assert_eq!(t.set_data("/n", None, 9, &anon(), at(3)), Err(Code::BadVersion));
    assert!(t.set_data("/n", None, 0, &anon(), at(3)).is_ok());
    assert!(t.set_data("/zookeeper", Some(b"x"), -1, &anon(), at(4)).is_ok());
}

#[test]
fn set_acl_error_precedence() {
    let mut t = DataTree::new();
    let bad = [acl(31, "ip", "notanip")];
    assert_eq!(t.set_acl("bad", &bad, -1, &anon()), Err(Code::BadArguments));
    // InvalidAcl before the node lookup.
    assert_eq!(t.set_acl("/missing", &bad, -1, &anon()), Err(Code::InvalidAcl));
    assert_eq!(t.set_acl("/missing", &Acl::open_unsafe(), -1, &anon()), Err(Code::NoNode));
    assert_eq!(t.set_acl("/zookeeper/config", &Acl::open_unsafe(), 5, &anon()), Err(Code::NoAuth));
    mkp(&mut t, "/n", 1);
    assert_eq!(t.set_acl("/n", &Acl::open_unsafe(), 5, &anon()), Err(Code::BadVersion));
    let sup = vec![Id::new("ip", "127.0.0.1"), Id::new("super", "")];
    let s = t.set_acl("/zookeeper/config", &Acl::read_unsafe(), -1, &sup).map(|s| s.aversion);
    assert_eq!(s, Ok(0));
}

#[test]
fn check_semantics() {
    let mut t = DataTree::new();
    mkp(&mut t, "/c", 1);
    assert_eq!(t.check("/c", -1, &anon()), Ok(()));
    assert_eq!(t.check("/c", 0, &anon()), Ok(()));
    assert_eq!(t.check("/c", 1, &anon()), Err(Code::BadVersion));
    assert_eq!(t.check("/nope", -1, &anon()), Err(Code::NoNode));
    assert_eq!(t.check("/c/", -1, &anon()), Err(Code::BadArguments));
    let secret = [acl(perms::WRITE, "world", "anyone")];
    assert!(create_with(&mut t, "/hidden", &secret, &anon()).is_ok());
    assert_eq!(t.check("/hidden", 5, &anon()), Err(Code::NoAuth));
}

#[test]
fn version_wraps_without_reaching_minus_one() {
    assert_eq!(check_version(i32::MAX, -1), Ok(i32::MIN));
    assert_eq!(check_version(-2, -1), Ok(0));
    assert_eq!(check_version(-1, -1), Ok(0));
    assert_eq!(check_version(4, 3), Err(Code::BadVersion));
}

#[test]
fn auth_acl_is_expanded_and_enforced() {
    let mut t = DataTree::new();
    let alice = vec![Id::new("ip", "127.0.0.1"), Id::new("digest", digest_id("alice:secret"))];
    assert_eq!(create_with(&mut t, "/mine", &Acl::creator_all(), &alice), Ok("/mine".to_string()));
    let (list, _) = t.get_acl("/mine", &alice).expect("getACL succeeds");
    assert_eq!(list, vec![acl(31, "digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")]);
    assert_eq!(t.get_data("/mine", &anon()).map(|_| ()), Err(Code::NoAuth));
    assert_eq!(t.set_data("/mine", None, -1, &anon(), at(2)), Err(Code::NoAuth));
    assert!(t.set_data("/mine", None, -1, &alice, at(2)).is_ok());
    let sup = vec![Id::new("ip", "10.9.9.9"), Id::new("super", "")];
    assert!(t.get_data("/mine", &sup).is_ok());
}

#[test]
fn session_ephemerals_are_removed_with_parent_updates() {
    let mut t = DataTree::new();
    mkp(&mut t, "/e", 1);
    assert!(mk(&mut t, "/e/a", CreateMode::Ephemeral, 2).is_ok());
    assert!(mk(&mut t, "/e/b", CreateMode::EphemeralSequential, 3).is_ok());
    assert_eq!(t.stat("/e/a").map(|s| s.ephemeral_owner), Some(7));
    assert_eq!(t.ephemeral_count(), 2);
    let gone = t.remove_session_ephemerals(7, at(4));
    assert_eq!(gone, vec!["/e/a".to_string(), "/e/b0000000001".to_string()]);
    let s = t.stat("/e").expect("/e exists");
    assert_eq!((s.num_children, s.pzxid, s.cversion), (0, 4, 4));
    assert_eq!(t.ephemeral_count(), 0);
    assert!(t.remove_session_ephemerals(7, at(5)).is_empty());
}

#[test]
fn container_reaping_rules() {
    let mut t = DataTree::new();
    let (_, s) = mk(&mut t, "/used", CreateMode::Container, 1).expect("the create succeeds");
    assert_eq!(s.ephemeral_owner, 0);
    assert!(mk(&mut t, "/never", CreateMode::Container, 2).is_ok());
    // Containers may hold ephemerals.
    assert!(mk(&mut t, "/used/kid", CreateMode::Ephemeral, 3).is_ok());
    assert!(t.reap_candidates(10_000, 10).is_empty());
    assert_eq!(t.delete_reapable("/used", at(4)), Err(Code::NotEmpty));
    assert_eq!(t.delete("/used/kid", -1, &anon(), at(5)), Ok(()));
    assert_eq!(t.reap_candidates(10_000, 10), vec!["/used".to_string()]);
    assert_eq!(t.delete_reapable("/never", at(6)), Err(Code::BadVersion));
    assert_eq!(t.delete_reapable("/used", at(6)), Ok(()));
    assert_eq!(t.stat("/used"), None);
    assert_eq!(t.delete_reapable("/used", at(7)), Err(Code::NoNode));
    mkp(&mut t, "/plain", 8);
    assert_eq!(t.delete_reapable("/plain", at(9)), Err(Code::BadVersion));
}

#[test]
fn ttl_reaping_rules() {
    let mut t = DataTree::new();
    let open = Acl::open_unsafe();
    let ttl = |path| NewNode {
        path,
        data: None,
        acl: &open,
        mode: CreateMode::PersistentWithTtl,
        ttl_ms: 500,
        session_id: 1,
    };
    // mtime = 1_001 (zxid 1).
    assert!(t.create(&ttl("/t1"), &anon(), at(1)).is_ok());
    assert!(t.create(&ttl("/t2"), &anon(), at(1)).is_ok());
    mkp(&mut t, "/t2/kid", 2);
    assert!(t.reap_candidates(1_501, 10).is_empty());
    assert_eq!(t.reap_candidates(1_502, 10), vec!["/t1".to_string()]);
    assert_eq!(t.reap_candidates(1_502, 0), Vec::<String>::new());
    // setData restarts the clock.
    assert!(t.set_data("/t1", None, -1, &anon(), at(400)).is_ok());
    assert!(t.reap_candidates(1_502, 10).is_empty());
    let early = crate::tree::Stamp { zxid: 401, time_ms: 1_800 };
    assert_eq!(t.delete_reapable("/t1", early), Err(Code::BadVersion));
    let due = crate::tree::Stamp { zxid: 402, time_ms: 1_901 };
    assert_eq!(t.delete_reapable("/t1", due), Ok(()));
    assert_eq!(t.delete_reapable("/t2", due), Err(Code::NotEmpty));
}
