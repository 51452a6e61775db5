//! The openraft type configuration of the simulation: the real replicated
//! command (`corral::txn::Txn`) and its output, in-memory snapshots, and the
//! seeded runtime.

use std::io::Cursor;

use corral::txn::{Txn, TxnResult};

use crate::runtime::SimRuntime;

openraft::declare_raft_types!(
    /// openraft's view of a simulated corral node.
    pub TypeConfig:
        D = Txn,
        R = TxnResult,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = SimRuntime,
);

/// A node id (ZooKeeper's `myid`).
pub type NodeId = u64;
/// openraft's node record.
pub type Node = openraft::BasicNode;
/// A log id.
pub type LogId = openraft::LogId<NodeId>;
/// A log entry.
pub type Entry = openraft::Entry<TypeConfig>;
/// A vote.
pub type Vote = openraft::Vote<NodeId>;
/// Membership as stored with the applied state.
pub type StoredMembership = openraft::StoredMembership<NodeId, Node>;
/// Snapshot metadata.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, Node>;
/// A snapshot with its data.
pub type Snapshot = openraft::Snapshot<TypeConfig>;
/// openraft's storage error.
pub type StorageError = openraft::StorageError<NodeId>;
/// A Raft handle.
pub type Raft = openraft::Raft<TypeConfig>;

/// FNV-1a over bytes: a hash that is the same on every run and platform.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Feeds more bytes into an FNV-1a state.
pub fn fnv_more(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
