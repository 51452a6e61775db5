//! The tree's snapshot form (serde; the storage layer uses bincode): a format
//! number, then every node in key order — path, data, Stat fields, kind, and
//! its ACL either in full or as the index of an earlier identical list, so a
//! shared ACL is written once. Derived state (child counts, ephemeral and
//! reaper indexes, data size, interning) is rebuilt on load, and a stream
//! whose nodes do not form a tree is rejected.
//!
//! May use: `proto` data records.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::proto::Acl;

use super::node::{Node, NodeKind};
use super::{path, DataTree};

/// Bumped whenever the layout below changes.
const FORMAT: u32 = 1;

/// A node's ACL in the stream.
#[derive(Serialize)]
enum AclOut<'a> {
    /// First occurrence of this list.
    New(&'a [Acl]),
    /// The list of the n-th `New` in the stream.
    Seen(u32),
}

/// Mirror of [`AclOut`] for reading (same variants, same order).
#[derive(Deserialize)]
enum AclIn {
    New(Vec<Acl>),
    Seen(u32),
}

/// Data written as one byte string, not element by element.
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// Data read back from [`RawBytes`].
struct RawBuf(Vec<u8>);

impl<'de> Deserialize<'de> for RawBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BufVisitor;
        impl<'de> Visitor<'de> for BufVisitor {
            type Value = RawBuf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("znode data bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawBuf, E> {
                Ok(RawBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<RawBuf, E> {
                Ok(RawBuf(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawBuf, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(RawBuf(out))
            }
        }
        d.deserialize_byte_buf(BufVisitor)
    }
}

/// One node as written.
#[derive(Serialize)]
struct NodeOut<'a> {
    path: String,
    data: Option<RawBytes<'a>>,
    acl: AclOut<'a>,
    czxid: i64,
    mzxid: i64,
    pzxid: i64,
    ctime: i64,
    mtime: i64,
    version: i32,
    aversion: i32,
    child_creates: i32,
    kind: NodeKind,
}

/// One node as read (fields as in [`NodeOut`]).
#[derive(Deserialize)]
struct NodeIn {
    path: String,
    data: Option<RawBuf>,
    acl: AclIn,
    czxid: i64,
    mzxid: i64,
    pzxid: i64,
    ctime: i64,
    mtime: i64,
    version: i32,
    aversion: i32,
    child_creates: i32,
    kind: NodeKind,
}

/// The whole image as written.
#[derive(Serialize)]
struct ImageOut<'a> {
    format: u32,
    nodes: NodesOut<'a>,
}

/// The whole image as read.
#[derive(Deserialize)]
struct ImageIn {
    format: u32,
    nodes: NodesIn,
}

/// Streams the nodes of a tree without materializing them.
struct NodesOut<'a>(&'a DataTree);

impl Serialize for NodesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tree = self.0;
        let mut seq = s.serialize_seq(Some(tree.nodes.len()))?;
        // Deduplicated by content, not by interned address, so equal trees
        // write equal bytes however their lists happen to be shared.
        let mut seen: HashMap<&[Acl], u32> = HashMap::new();
        for (key, node) in tree.nodes.iter() {
            let acl = match seen.get(&*node.acl) {
                Some(&i) => AclOut::Seen(i),
                None => {
                    let i = u32::try_from(seen.len()).map_err(serde::ser::Error::custom)?;
                    seen.insert(&node.acl, i);
                    AclOut::New(&node.acl)
                }
            };
            seq.serialize_element(&NodeOut {
                path: path::path_of_key(key),
                data: node.data.as_deref().map(RawBytes),
                acl,
                czxid: node.czxid,
                mzxid: node.mzxid,
                pzxid: node.pzxid,
                ctime: node.ctime,
                mtime: node.mtime,
                version: node.version,
                aversion: node.aversion,
                child_creates: node.child_creates,
                kind: node.kind,
            })?;
        }
        seq.end()
    }
}

/// The tree rebuilt from a node stream.
struct NodesIn(DataTree);

impl<'de> Deserialize<'de> for NodesIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(NodesVisitor).map(NodesIn)
    }
}

/// Builds the tree node by node, then links children to parents.
struct NodesVisitor;

impl<'de> Visitor<'de> for NodesVisitor {
    type Value = DataTree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of znodes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DataTree, A::Error> {
        let mut tree = DataTree::empty();
        let mut lists: Vec<Arc<[Acl]>> = Vec::new();
        while let Some(rec) = seq.next_element::<NodeIn>()? {
            if path::validate(&rec.path).is_err() {
                return Err(de::Error::custom(format!("snapshot holds invalid path {:?}", rec.path)));
            }
            if tree.node(&rec.path).is_some() {
                return Err(de::Error::custom(format!("snapshot holds {:?} twice", rec.path)));
            }
            let acl = match rec.acl {
                AclIn::New(list) => {
                    let shared = tree.acls.intern(&list);
                    lists.push(shared.clone());
                    shared
                }
                AclIn::Seen(i) => lists
                    .get(i as usize)
                    .cloned()
                    .ok_or_else(|| de::Error::custom(format!("snapshot ACL reference {i} out of range")))?,
            };
            let node = Node {
                data: rec.data.map(|b| Arc::from(b.0)),
                acl,
                czxid: rec.czxid,
                mzxid: rec.mzxid,
                pzxid: rec.pzxid,
                ctime: rec.ctime,
                mtime: rec.mtime,
                version: rec.version,
                aversion: rec.aversion,
                child_creates: rec.child_creates,
                num_children: 0,
                kind: rec.kind,
            };
            tree.insert_node(&rec.path, node);
        }
        link_children(&mut tree).map_err(de::Error::custom)?;
        Ok(tree)
    }
}

/// Sets every node's child count; fails if the root or any parent is missing.
fn link_children(tree: &mut DataTree) -> Result<(), String> {
    if tree.node("/").is_none() {
        return Err("snapshot has no root node".to_string());
    }
    let mut counts: HashMap<String, i32> = HashMap::new();
    for key in tree.nodes.keys().filter(|k| !k.is_empty()) {
        let child = path::path_of_key(key);
        let parent = path::parent(&child).unwrap_or("/");
        *counts.entry(parent.to_string()).or_default() += 1;
    }
    for (parent, n) in counts {
        let node = tree.node_mut(&parent).ok_or_else(|| format!("snapshot node {parent:?} is missing"))?;
        node.num_children = n;
    }
    Ok(())
}

impl Serialize for DataTree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ImageOut { format: FORMAT, nodes: NodesOut(self) }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for DataTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let image = ImageIn::deserialize(d)?;
        if image.format != FORMAT {
            return Err(de::Error::custom(format!("unknown tree snapshot format {}", image.format)));
        }
        Ok(image.nodes.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{CreateMode, Id};
    use crate::tree::testutil::{anon, at, mk, mkp};
    use crate::tree::NewNode;

    fn sample() -> DataTree {
        let mut t = DataTree::new();
        mkp(&mut t, "/a", 1);
        for i in 0..50 {
            assert!(mk(&mut t, "/a/s-", CreateMode::PersistentSequential, 2 + i).is_ok());
        }
        assert!(mk(&mut t, "/a/e", CreateMode::Ephemeral, 60).is_ok());
        assert!(mk(&mut t, "/c", CreateMode::Container, 61).is_ok());
        let open = crate::proto::Acl::open_unsafe();
        let ttl = NewNode {
            path: "/t",
            data: None,
            acl: &open,
            mode: CreateMode::PersistentWithTtl,
            ttl_ms: 9,
            session_id: 1,
        };
        assert!(t.create(&ttl, &anon(), at(62)).is_ok());
        let empty = NewNode { path: "/empty", data: Some(b""), mode: CreateMode::Persistent, ..ttl };
        assert!(t.create(&empty, &anon(), at(63)).is_ok());
        let alice = vec![Id::new("digest", crate::tree::acl::digest_id("alice:secret"))];
        let mine = NewNode { path: "/mine", acl: &crate::proto::Acl::creator_all(), ..empty };
        assert!(t.create(&mine, &alice, at(64)).is_ok());
        assert_eq!(t.delete("/a/s-0000000007", -1, &anon(), at(65)), Ok(()));
        assert!(t.set_data("/a", Some(b"new"), -1, &anon(), at(66)).is_ok());
        t
    }

    #[test]
    fn bincode_round_trip_is_equal() {
        let tree = sample();
        let bytes = bincode::serialize(&tree).unwrap_or_default();
        assert!(!bytes.is_empty());
        let back: DataTree = bincode::deserialize(&bytes).unwrap_or_default();
        assert_eq!(back, tree);
        assert_eq!(back.node_count(), tree.node_count());
        assert_eq!(back.approximate_data_size(), tree.approximate_data_size());
        assert_eq!(back.stat("/a"), tree.stat("/a"));
        assert_eq!(back.stat("/"), tree.stat("/"));
        assert_eq!(back.get_ephemerals(7, None), vec!["/a/e".to_string()]);
        assert_eq!(back.get_data("/empty", &anon()).map(|d| d.data.map(|b| b.len())), Ok(Some(0)));
        assert_eq!(back.get_data("/t", &anon()).map(|d| d.data.is_none()), Ok(true));
        assert_eq!(back.reap_candidates(1_000_000, 10), vec!["/t".to_string()]);
        // Shared ACLs are written once and shared again after loading.
        let (a, b) = (back.node("/a/s-0000000001"), back.node("/a/s-0000000002"));
        assert!(matches!((a, b), (Some(a), Some(b)) if Arc::ptr_eq(&a.acl, &b.acl)));
        // Writing the loaded tree gives the same bytes.
        assert_eq!(bincode::serialize(&back).unwrap_or_default(), bytes);
    }

    #[test]
    fn fresh_tree_round_trips() {
        let tree = DataTree::new();
        let bytes = bincode::serialize(&tree).unwrap_or_default();
        let back: Result<DataTree, _> = bincode::deserialize(&bytes);
        assert_eq!(back.ok(), Some(tree));
    }

    #[test]
    fn corrupt_images_are_rejected() {
        let bytes = bincode::serialize(&sample()).unwrap_or_default();
        for cut in [0, 3, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(bincode::deserialize::<DataTree>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut wrong_format = bytes.clone();
        wrong_format[0] = 9;
        assert!(bincode::deserialize::<DataTree>(&wrong_format).is_err());
        // An orphan: a child whose parent is missing.
        let mut orphan = DataTree::new();
        mkp(&mut orphan, "/p", 1);
        mkp(&mut orphan, "/p/q", 2);
        orphan.remove_node("/p");
        assert!(bincode::deserialize::<DataTree>(&bincode::serialize(&orphan).unwrap_or_default()).is_err());
    }
}
