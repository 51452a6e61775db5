//! Helpers shared by the tree's unit tests.

use crate::proto::{Acl, Code, CreateMode, Id, Stat};

use super::{DataTree, NewNode, Stamp};

/// An anonymous local client.
pub(crate) fn anon() -> Vec<Id> {
    vec![Id::new("ip", "127.0.0.1")]
}

/// A stamp whose time is derived from the zxid.
pub(crate) fn at(zxid: i64) -> Stamp {
    Stamp { zxid, time_ms: 1_000 + zxid }
}

/// Creates `path` with `mode`, open ACL, data `b"v"`, session 7, anonymous.
pub(crate) fn mk(tree: &mut DataTree, path: &str, mode: CreateMode, zxid: i64) -> Result<(String, Stat), Code> {
    let acl = Acl::open_unsafe();
    let req = NewNode { path, data: Some(b"v"), acl: &acl, mode, ttl_ms: 0, session_id: 7 };
    tree.create(&req, &anon(), at(zxid))
}

/// Creates a persistent node, panicking (test only) if it fails.
pub(crate) fn mkp(tree: &mut DataTree, path: &str, zxid: i64) {
    assert_eq!(mk(tree, path, CreateMode::Persistent, zxid).map(|(p, _)| p), Ok(path.to_string()));
}
