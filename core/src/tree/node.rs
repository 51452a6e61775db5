//! One znode as stored: data, shared ACL, ZooKeeper's `StatPersisted` fields,
//! the child-create counter and the node kind; plus how its client-visible
//! `Stat` is derived.
//!
//! May use: `proto` data records.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::proto::{Acl, Stat};

/// What owns or reaps a node: ZooKeeper's `EphemeralType`, kept as an enum
/// rather than packed into `ephemeralOwner` so no session id can be mistaken
/// for a container or TTL marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeKind {
    /// persistent or persistent-sequential.
    Persistent,
    /// Belongs to the session; deleted when it ends.
    Ephemeral(i64),
    /// Deleted by the reaper once its last child is gone.
    Container,
    /// Deleted by the reaper when childless and unmodified for this many ms.
    Ttl(i64),
}

/// Largest TTL ZooKeeper accepts: 2^40 − 1 ms (it packs the TTL into the
/// low 40 bits of `ephemeralOwner`).
pub const MAX_TTL_MS: i64 = (1 << 40) - 1;

impl NodeKind {
    /// `ephemeralOwner` as clients see it: the session for ephemerals, else 0
    /// (containers and TTL nodes show 0).
    pub fn client_owner(self) -> i64 {
        match self {
            NodeKind::Ephemeral(session) => session,
            _ => 0,
        }
    }
}

/// A znode. Kept inline in the tree's persistent map; every field is cheap
/// to clone (data and ACL are shared), as path copying clones neighbours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// `None` is ZooKeeper's null buffer, distinct from empty.
    pub(crate) data: Option<Arc<[u8]>>,
    /// Interned: nodes created with equal ACLs share one list.
    pub(crate) acl: Arc<[Acl]>,
    /// zxid of the create.
    pub(crate) czxid: i64,
    /// zxid of the last setData.
    pub(crate) mzxid: i64,
    /// zxid of the last child create/delete.
    pub(crate) pzxid: i64,
    /// Create time, ms.
    pub(crate) ctime: i64,
    /// Last setData time, ms (the TTL clock).
    pub(crate) mtime: i64,
    /// setData count.
    pub(crate) version: i32,
    /// setACL count.
    pub(crate) aversion: i32,
    /// Child creates ever (ZooKeeper's stored `cversion`): the sequence
    /// counter; clients see `2·creates − numChildren`.
    pub(crate) child_creates: i32,
    /// Current number of children.
    pub(crate) num_children: i32,
    /// Owner / reaping class.
    pub(crate) kind: NodeKind,
}

impl Node {
    /// A node as a create at `zxid`/`time_ms` makes it.
    pub(crate) fn new(data: Option<Arc<[u8]>>, acl: Arc<[Acl]>, kind: NodeKind, zxid: i64, time_ms: i64) -> Node {
        Node {
            data,
            acl,
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            ctime: time_ms,
            mtime: time_ms,
            version: 0,
            aversion: 0,
            child_creates: 0,
            num_children: 0,
            kind,
        }
    }

    /// Bytes of data (0 for null).
    pub(crate) fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
    }

    /// The Stat a client sees.
    pub(crate) fn stat(&self) -> Stat {
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.child_creates.wrapping_mul(2).wrapping_sub(self.num_children),
            aversion: self.aversion,
            ephemeral_owner: self.kind.client_owner(),
            data_length: self.data_len() as i32,
            num_children: self.num_children,
            pzxid: self.pzxid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_owner_hides_container_and_ttl() {
        assert_eq!(NodeKind::Ephemeral(0x0100_0000_0000_0001).client_owner(), 0x0100_0000_0000_0001);
        assert_eq!(NodeKind::Container.client_owner(), 0);
        assert_eq!(NodeKind::Ttl(500).client_owner(), 0);
        assert_eq!(NodeKind::Persistent.client_owner(), 0);
    }

    #[test]
    fn cversion_is_creates_plus_deletes() {
        let mut n = Node::new(None, Arc::from(Acl::open_unsafe()), NodeKind::Persistent, 5, 7);
        // 4 creates, 1 delete: counter 4, 3 children left.
        n.child_creates = 4;
        n.num_children = 3;
        assert_eq!(n.stat().cversion, 5);
        assert_eq!(n.stat().data_length, 0);
        assert_eq!((n.stat().czxid, n.stat().mzxid, n.stat().pzxid), (5, 5, 5));
    }
}
