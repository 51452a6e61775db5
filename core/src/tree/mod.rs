//! The data tree: znodes, Stat, paths, ACLs, ephemerals, sequence, container, TTL.
//!
//! [`DataTree`] holds every znode in persistent (`imbl`) maps, so cloning the
//! whole tree is O(1): snapshots serialize a clone in the background, and a
//! multi applies to a clone that is kept or dropped. The tree knows nothing of
//! networks, sessions or the log; it answers reads with ZooKeeper's codes in
//! ZooKeeper's precedence (`read`), validates and applies single writes
//! (`write`), and serializes itself (`snapshot`).
//!
//! May use: `proto` data records and codes. Nothing else of ours.

pub mod acl;
mod node;
pub mod path;
mod read;
mod snapshot;
#[cfg(test)]
mod testutil;
mod write;

use std::ops::Bound;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

use crate::proto::Acl;

use self::acl::AclInterner;
use self::node::Node;

pub use self::node::{NodeKind, MAX_TTL_MS};
pub use self::read::NodeData;
pub use self::write::{NewNode, Stamp};

/// All znodes plus the indexes ZooKeeper keeps beside them.
///
/// Nodes are keyed by `path::key_of` (the last `/` replaced by NUL), so a
/// node's children are one contiguous key range and no per-node child set is
/// needed — a 100k-node tree costs a few hundred bytes per node.
#[derive(Clone)]
pub struct DataTree {
    /// Every node, by map key.
    nodes: OrdMap<Arc<str>, Node>,
    /// Session id → paths of its ephemerals.
    ephemerals: OrdMap<i64, OrdSet<Arc<str>>>,
    /// Paths of containers and TTL nodes, the reaper's candidates.
    reapable: OrdSet<Arc<str>>,
    /// Σ over nodes of path length + data length (`zk_approximate_data_size`).
    data_size: i64,
    /// Shared ACL lists.
    acls: AclInterner,
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new()
    }
}

impl DataTree {
    /// A fresh tree exactly as a fresh ZooKeeper 3.8 server reports it: `/`,
    /// `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config` with empty data,
    /// zero times and zxids, root cversion −1 and `/zookeeper` cversion −2
    /// (children but no counted creates), `/zookeeper/config` aversion −1 and
    /// ACL world:anyone READ, the others world:anyone ALL.
    pub fn new() -> DataTree {
        let mut tree = DataTree::empty();
        let open = tree.acls.intern(&Acl::open_unsafe());
        let read_only = tree.acls.intern(&Acl::read_unsafe());
        let empty: Option<Arc<[u8]>> = Some(Arc::from(&[][..]));
        let plain = |acl: &Arc<[Acl]>| Node::new(empty.clone(), acl.clone(), NodeKind::Persistent, 0, 0);
        let mut root = plain(&open);
        root.num_children = 1;
        let mut zookeeper = plain(&open);
        zookeeper.num_children = 2;
        let mut config = plain(&read_only);
        config.aversion = -1;
        tree.insert_node("/", root);
        tree.insert_node(path::ZOOKEEPER, zookeeper);
        tree.insert_node(path::QUOTA, plain(&open));
        tree.insert_node(path::CONFIG, config);
        tree
    }

    /// A tree without even a root (snapshot loading starts here).
    fn empty() -> DataTree {
        DataTree {
            nodes: OrdMap::new(),
            ephemerals: OrdMap::new(),
            reapable: OrdSet::new(),
            data_size: 0,
            acls: AclInterner::default(),
        }
    }

    /// Number of znodes, the root and system nodes included (`zk_znode_count`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Σ path length + data length over all nodes (`zk_approximate_data_size`);
    /// the root counts as the empty path, as in ZooKeeper.
    pub fn approximate_data_size(&self) -> i64 {
        self.data_size
    }

    /// The node at `path`, if any (no validation: odd paths simply miss).
    fn node(&self, path: &str) -> Option<&Node> {
        let key = path::key_of(path)?;
        self.nodes.get(key.as_str())
    }

    /// Mutable access to the node at `path` (copy-on-write if shared).
    fn node_mut(&mut self, path: &str) -> Option<&mut Node> {
        let key = path::key_of(path)?;
        self.nodes.get_mut(key.as_str())
    }

    /// Size a node contributes to [`DataTree::approximate_data_size`].
    fn size_of(path: &str, node: &Node) -> i64 {
        let path_len = if path == "/" { 0 } else { path::java_len(path) };
        path_len + node.data_len() as i64
    }

    /// Adds a node (parent counters are the caller's business) and indexes it.
    fn insert_node(&mut self, path: &str, node: Node) {
        let Some(key) = path::key_of(path) else {
            return;
        };
        self.data_size += Self::size_of(path, &node);
        let shared: Arc<str> = Arc::from(path);
        match node.kind {
            NodeKind::Ephemeral(session) => {
                self.ephemerals.entry(session).or_default().insert(shared);
            }
            NodeKind::Container | NodeKind::Ttl(_) => {
                self.reapable.insert(shared);
            }
            NodeKind::Persistent => {}
        }
        if let Some(old) = self.nodes.insert(Arc::from(key), node) {
            self.data_size -= Self::size_of(path, &old);
        }
    }

    /// Removes a node (parent counters are the caller's business) and unindexes it.
    fn remove_node(&mut self, path: &str) -> Option<Node> {
        let key = path::key_of(path)?;
        let node = self.nodes.remove(key.as_str())?;
        self.data_size -= Self::size_of(path, &node);
        match node.kind {
            NodeKind::Ephemeral(session) => {
                let now_empty = match self.ephemerals.get_mut(&session) {
                    Some(set) => {
                        set.remove(path);
                        set.is_empty()
                    }
                    None => false,
                };
                if now_empty {
                    self.ephemerals.remove(&session);
                }
            }
            NodeKind::Container | NodeKind::Ttl(_) => {
                self.reapable.remove(path);
            }
            NodeKind::Persistent => {}
        }
        Some(node)
    }

    /// The children of `path` as (map key, node), in key order.
    fn children_of(&self, path: &str) -> imbl::ordmap::Iter<'_, Arc<str>, Node> {
        let prefix = path::children_prefix(path);
        let mut end = prefix.clone();
        // NUL is the prefix's last char; U+0001 is the next one.
        end.pop();
        end.push('\u{1}');
        self.nodes.range::<_, str>((Bound::Included(prefix.as_str()), Bound::Excluded(end.as_str())))
    }
}

impl PartialEq for DataTree {
    /// Equal content; how ACL lists happen to be shared does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.data_size == other.data_size
            && self.nodes == other.nodes
            && self.ephemerals == other.ephemerals
            && self.reapable == other.reapable
    }
}

impl std::fmt::Debug for DataTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataTree")
            .field("nodes", &self.nodes.len())
            .field("ephemeral_sessions", &self.ephemerals.len())
            .field("reapable", &self.reapable.len())
            .field("data_size", &self.data_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Id, Stat};

    fn stat(tree: &DataTree, p: &str) -> Stat {
        tree.stat(p).unwrap_or_default()
    }

    #[test]
    fn fresh_tree_matches_zookeeper_3_8() {
        let tree = DataTree::new();
        assert_eq!(tree.node_count(), 4);
        let root = stat(&tree, "/");
        assert_eq!((root.cversion, root.num_children, root.czxid, root.ctime), (-1, 1, 0, 0));
        let zk = stat(&tree, "/zookeeper");
        assert_eq!((zk.cversion, zk.num_children), (-2, 2));
        let config = stat(&tree, "/zookeeper/config");
        assert_eq!((config.aversion, config.cversion, config.num_children), (-1, 0, 0));
        let anyone = [Id::new("ip", "127.0.0.1")];
        let (acl, _) = tree.get_acl("/zookeeper/config", &anyone).unwrap_or_default();
        assert_eq!(acl, Acl::read_unsafe());
        let (acl, _) = tree.get_acl("/zookeeper/quota", &anyone).unwrap_or_default();
        assert_eq!(acl, Acl::open_unsafe());
        let data = tree.get_data("/", &anyone).map(|d| d.data);
        assert_eq!(data.ok().flatten().as_deref(), Some(&[][..]));
        let (children, _) = tree.get_children("/zookeeper", &anyone).unwrap_or_default();
        assert_eq!(children, vec!["config".to_string(), "quota".to_string()]);
        // "/zookeeper" + "/zookeeper/quota" + "/zookeeper/config"; the root counts 0.
        assert_eq!(tree.approximate_data_size(), 10 + 16 + 17);
    }

    /// The Stat inside the first server frame of a golden vector, located by
    /// the vector's `stat.czxid` mask.
    fn golden_stat(file: &str) -> Option<Stat> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/wire");
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let header = text.lines().next()?;
        let mask = header.split_whitespace().find(|m| m.ends_with("]=stat.czxid"))?;
        let start: usize = mask.strip_prefix("S0[")?.split(':').next()?.parse().ok()?;
        let hex = text.lines().find_map(|l| l.strip_prefix("S "))?;
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<_>>()?;
        let b = bytes.get(start..start + 68)?;
        let long = |o: usize| i64::from_be_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let int = |o: usize| i32::from_be_bytes(b[o..o + 4].try_into().unwrap_or_default());
        Some(Stat {
            czxid: long(0),
            mzxid: long(8),
            ctime: long(16),
            mtime: long(24),
            version: int(32),
            cversion: int(36),
            aversion: int(40),
            ephemeral_owner: long(44),
            data_length: int(52),
            num_children: int(56),
            pzxid: long(60),
        })
    }

    #[test]
    fn fresh_tree_stats_match_golden_frames() {
        let tree = DataTree::new();
        for (file, p) in [
            ("002_getdata_root.hex", "/"),
            ("003_getchildren2_zookeeper.hex", "/zookeeper"),
            ("004_getacl_config.hex", "/zookeeper/config"),
        ] {
            let golden = golden_stat(file);
            assert!(golden.is_some(), "cannot read {file}");
            assert_eq!(tree.stat(p), golden, "{file}");
        }
    }
}
