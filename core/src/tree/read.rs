//! Reads on the tree, answering exactly what ZooKeeper 3.8 answers: node
//! missing (−101) before ACL (−102); reads do not validate paths (an invalid
//! path simply does not exist), except exists with NUL (−8). Also what the
//! admin commands and the container/TTL reaper need.
//!
//! May use: `proto` data records and codes.

use std::sync::Arc;

use crate::proto::{perms, Acl, Code, Id, Stat};

use super::node::{Node, NodeKind};
use super::{acl, path, DataTree};

/// A node's data and Stat, as getData returns them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeData {
    /// `None` = null buffer (length −1 on the wire), distinct from empty.
    pub data: Option<Arc<[u8]>>,
    /// The node's Stat.
    pub stat: Stat,
}

impl DataTree {
    /// The Stat of a node, without any check (for setWatches catch-up and
    /// internal use).
    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.node(path).map(Node::stat)
    }

    /// exists: NUL in the path → BadArguments; missing → NoNode. No ACL check
    /// (3.8.0 behaviour).
    pub fn exists(&self, path: &str) -> Result<Stat, Code> {
        if path.contains('\0') {
            return Err(Code::BadArguments);
        }
        self.stat(path).ok_or(Code::NoNode)
    }

    /// The node, if the identities hold `perm` on it: NoNode, then NoAuth.
    fn readable(&self, path: &str, perm: i32, ids: &[Id]) -> Result<&Node, Code> {
        let node = self.node(path).ok_or(Code::NoNode)?;
        acl::check(&node.acl, perm, ids)?;
        Ok(node)
    }

    /// Whether `ids` hold any bit of `perm` on the node: NoNode, then NoAuth.
    /// (For callers that filter notifications or gate other requests.)
    pub fn check_access(&self, path: &str, perm: i32, ids: &[Id]) -> Result<(), Code> {
        self.readable(path, perm, ids).map(|_| ())
    }

    /// getData: NoNode, then READ → NoAuth.
    pub fn get_data(&self, path: &str, ids: &[Id]) -> Result<NodeData, Code> {
        let node = self.readable(path, perms::READ, ids)?;
        Ok(NodeData { data: node.data.clone(), stat: node.stat() })
    }

    /// getChildren / getChildren2: bare child names (sorted) and the node's
    /// Stat. NoNode, then READ → NoAuth.
    pub fn get_children(&self, path: &str, ids: &[Id]) -> Result<(Vec<String>, Stat), Code> {
        let node = self.readable(path, perms::READ, ids)?;
        let prefix_len = path::children_prefix(path).len();
        let names = self.children_of(path).map(|(key, _)| key[prefix_len..].to_string()).collect();
        Ok((names, node.stat()))
    }

    /// getACL: NoNode, then READ or ADMIN → NoAuth; without ADMIN every
    /// digest id is masked to `user:x`.
    pub fn get_acl(&self, path: &str, ids: &[Id]) -> Result<(Vec<Acl>, Stat), Code> {
        let node = self.readable(path, perms::READ | perms::ADMIN, ids)?;
        let list = if acl::permits(&node.acl, perms::ADMIN, ids) { node.acl.to_vec() } else { acl::masked(&node.acl) };
        Ok((list, node.stat()))
    }

    /// getAllChildrenNumber: number of descendants, the node excluded.
    /// NoNode, then READ → NoAuth.
    pub fn get_all_children_number(&self, path: &str, ids: &[Id]) -> Result<i32, Code> {
        self.readable(path, perms::READ, ids)?;
        if path == "/" {
            return Ok(i32::try_from(self.node_count() - 1).unwrap_or(i32::MAX));
        }
        let mut count: i64 = 0;
        let mut pending = vec![path.to_string()];
        while let Some(parent) = pending.pop() {
            for (key, child) in self.children_of(&parent) {
                count += 1;
                if child.num_children > 0 {
                    pending.push(path::path_of_key(key));
                }
            }
        }
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// getEphemerals: the session's ephemeral paths (sorted). A prefix that is
    /// absent, blank or `/` (after trimming) selects all; otherwise a plain
    /// string-prefix match on the full path (`/a` matches `/ab`).
    pub fn get_ephemerals(&self, session_id: i64, prefix: Option<&str>) -> Vec<String> {
        let all = self.ephemerals_of(session_id);
        // Java's trim(): strips every char <= U+0020.
        match prefix.map(|p| (p, p.trim_matches(|c: char| c <= ' '))) {
            None => all,
            Some((_, trimmed)) if trimmed.is_empty() || trimmed == "/" => all,
            Some((p, _)) => all.into_iter().filter(|e| e.starts_with(p)).collect(),
        }
    }

    /// Every ephemeral of a session (sorted); empty for unknown sessions.
    pub fn ephemerals_of(&self, session_id: i64) -> Vec<String> {
        self.ephemerals.get(&session_id).map(|set| set.iter().map(|p| p.to_string()).collect()).unwrap_or_default()
    }

    /// Sessions owning ephemerals with their paths, by session id (for `dump`).
    pub fn ephemerals_by_session(&self) -> Vec<(i64, Vec<String>)> {
        self.ephemerals.iter().map(|(s, set)| (*s, set.iter().map(|p| p.to_string()).collect())).collect()
    }

    /// Total number of ephemeral nodes (`zk_ephemerals_count`).
    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(|set| set.len()).sum()
    }

    /// Up to `max` containers and TTL nodes the reaper should delete at
    /// `now_ms`: childless containers that have had a child, and childless TTL
    /// nodes with `now − mtime > ttl`. Each becomes a `DeleteContainer` entry,
    /// re-checked when applied.
    pub fn reap_candidates(&self, now_ms: i64, max: usize) -> Vec<String> {
        self.reapable
            .iter()
            .filter(|p| self.node(p).is_some_and(|n| is_reapable_at(n, now_ms)))
            .take(max)
            .map(|p| p.to_string())
            .collect()
    }
}

/// The reaper's rule for one node at `now_ms` (ZooKeeper's ContainerManager).
pub(super) fn is_reapable_at(node: &Node, now_ms: i64) -> bool {
    if node.num_children != 0 {
        return false;
    }
    match node.kind {
        NodeKind::Container => node.child_creates != 0,
        NodeKind::Ttl(ttl) => ttl != 0 && now_ms.saturating_sub(node.mtime) > ttl,
        NodeKind::Persistent | NodeKind::Ephemeral(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::CreateMode;
    use crate::tree::testutil::{anon, at, mk, mkp};
    use crate::tree::NewNode;

    #[test]
    fn missing_before_noauth_and_reads_do_not_validate() {
        let mut t = DataTree::new();
        let write_only = [Acl { perms: perms::WRITE, id: Id::new("world", "anyone") }];
        let req = NewNode {
            path: "/x",
            data: None,
            acl: &write_only,
            mode: CreateMode::Persistent,
            ttl_ms: 0,
            session_id: 1,
        };
        assert!(t.create(&req, &anon(), at(1)).is_ok());
        assert_eq!(t.get_data("/x", &anon()).map(|_| ()), Err(Code::NoAuth));
        assert_eq!(t.get_children("/x", &anon()).map(|_| ()), Err(Code::NoAuth));
        assert_eq!(t.get_acl("/x", &anon()).map(|_| ()), Err(Code::NoAuth));
        assert_eq!(t.get_all_children_number("/x", &anon()), Err(Code::NoAuth));
        assert_eq!(t.get_data("/y", &anon()).map(|_| ()), Err(Code::NoNode));
        for odd in ["", "x", "/x/", "//x", "/./x", "/x/.."] {
            assert_eq!(t.get_data(odd, &anon()).map(|_| ()), Err(Code::NoNode), "{odd:?}");
        }
        // exists: no ACL check in 3.8.0; NUL is BadArguments.
        assert!(t.exists("/x").is_ok());
        assert_eq!(t.exists("/nope"), Err(Code::NoNode));
        assert_eq!(t.exists("/x\0"), Err(Code::BadArguments));
        assert_eq!(t.check_access("/x", perms::WRITE, &anon()), Ok(()));
    }

    #[test]
    fn get_acl_masks_without_admin() {
        let mut t = DataTree::new();
        let alice = crate::tree::acl::digest_id("alice:secret");
        let list = vec![
            Acl { perms: perms::READ, id: Id::new("world", "anyone") },
            Acl { perms: perms::ALL, id: Id::new("digest", alice.clone()) },
        ];
        let req =
            NewNode { path: "/m", data: None, acl: &list, mode: CreateMode::Persistent, ttl_ms: 0, session_id: 1 };
        assert!(t.create(&req, &anon(), at(1)).is_ok());
        let (seen, _) = t.get_acl("/m", &anon()).unwrap_or_default();
        assert_eq!(seen[1].id, Id::new("digest", "alice:x"));
        assert_eq!(seen[0], list[0]);
        let owner = vec![Id::new("ip", "127.0.0.1"), Id::new("digest", alice)];
        assert_eq!(t.get_acl("/m", &owner).map(|(l, _)| l), Ok(list));
    }

    #[test]
    fn children_and_descendants() {
        let mut t = DataTree::new();
        for (i, p) in ["/a", "/a/c", "/a/b", "/a/b/x", "/a/b/x/y", "/ab", "/a/d"].iter().enumerate() {
            mkp(&mut t, p, i as i64 + 1);
        }
        let (names, stat) = t.get_children("/a", &anon()).unwrap_or_default();
        assert_eq!(names, vec!["b", "c", "d"]);
        assert_eq!(stat.num_children, 3);
        let (root, _) = t.get_children("/", &anon()).unwrap_or_default();
        assert_eq!(root, vec!["a", "ab", "zookeeper"]);
        assert_eq!(t.get_all_children_number("/a", &anon()), Ok(5));
        assert_eq!(t.get_all_children_number("/a/b/x/y", &anon()), Ok(0));
        assert_eq!(t.get_all_children_number("/", &anon()), Ok(10));
        assert_eq!(t.get_all_children_number("/zookeeper", &anon()), Ok(2));
        assert_eq!(t.get_all_children_number("/q", &anon()), Err(Code::NoNode));
    }

    #[test]
    fn ephemerals_by_prefix_and_session() {
        let mut t = DataTree::new();
        mkp(&mut t, "/a", 1);
        mkp(&mut t, "/ab", 2);
        for (i, p) in ["/a/e1", "/ab/e2", "/e3"].iter().enumerate() {
            assert!(mk(&mut t, p, CreateMode::Ephemeral, 3 + i as i64).is_ok());
        }
        let all = vec!["/a/e1".to_string(), "/ab/e2".to_string(), "/e3".to_string()];
        assert_eq!(t.get_ephemerals(7, None), all);
        assert_eq!(t.get_ephemerals(7, Some("")), all);
        assert_eq!(t.get_ephemerals(7, Some(" / ")), all);
        assert_eq!(t.get_ephemerals(7, Some("/a")), all[..2].to_vec());
        assert_eq!(t.get_ephemerals(7, Some("/a/")), all[..1].to_vec());
        assert_eq!(t.get_ephemerals(7, Some("/zz")), Vec::<String>::new());
        assert_eq!(t.get_ephemerals(8, None), Vec::<String>::new());
        assert_eq!(t.ephemerals_by_session(), vec![(7, all)]);
        assert_eq!(t.ephemeral_count(), 3);
    }

    #[test]
    fn node_count_and_data_size_follow_changes() {
        let mut t = DataTree::new();
        let base = t.approximate_data_size();
        mkp(&mut t, "/abc", 1);
        assert_eq!(t.node_count(), 5);
        assert_eq!(t.approximate_data_size(), base + 4 + 1);
        assert!(t.set_data("/abc", Some(b"12345"), -1, &anon(), at(2)).is_ok());
        assert_eq!(t.approximate_data_size(), base + 4 + 5);
        assert_eq!(t.delete("/abc", -1, &anon(), at(3)), Ok(()));
        assert_eq!((t.node_count(), t.approximate_data_size()), (4, base));
    }
}
