//! The openraft type configuration, and the byte codecs between openraft's
//! world and ours.
//!
//! The configuration is not generic over the state machine: commands and
//! outputs travel through openraft as [`Blob`]s (bincode bytes), decoded only
//! at the two ends — the state machine store and [`super::Replica::propose`].
//! The same encoding is what the log stores on disk.

use std::fmt;

use bincode::Options;
use openraft::{AnyError, ErrorSubject, ErrorVerb, StorageIOError};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Largest encoded value accepted when decoding (a guard against a damaged
/// length prefix; entries themselves are bounded by the log's record size).
const DECODE_BYTES_MAX: u64 = 64 << 20;

/// Opaque bytes: an encoded command (in a log entry) or an encoded output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Blob(pub(crate) Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

openraft::declare_raft_types!(
    /// openraft's view of corral: opaque commands, `u64` node ids, snapshots as files.
    pub(crate) TypeConfig:
        D = Blob,
        R = Blob,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

pub(crate) type NodeId = u64;
pub(crate) type Node = openraft::BasicNode;
pub(crate) type LogId = openraft::LogId<NodeId>;
pub(crate) type Entry = openraft::Entry<TypeConfig>;
pub(crate) type Vote = openraft::Vote<NodeId>;
pub(crate) type StoredMembership = openraft::StoredMembership<NodeId, Node>;
pub(crate) type SnapshotMeta = openraft::SnapshotMeta<NodeId, Node>;
pub(crate) type Snapshot = openraft::Snapshot<TypeConfig>;
pub(crate) type RaftStorageError = openraft::StorageError<NodeId>;
pub(crate) type Raft = openraft::Raft<TypeConfig>;

fn options() -> impl Options {
    bincode::DefaultOptions::new().with_fixint_encoding().with_limit(DECODE_BYTES_MAX)
}

/// Encodes a value with the layer's bincode settings.
pub(crate) fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, bincode::Error> {
    options().serialize(v)
}

/// Decodes a value written by [`encode`]; trailing bytes are an error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, bincode::Error> {
    options().deserialize(bytes)
}

/// Wraps an error for openraft, which stops the node on any storage error.
pub(crate) fn raft_sto_err(
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    e: &(impl std::error::Error + 'static),
) -> RaftStorageError {
    StorageIOError::new(subject, verb, AnyError::new(e)).into()
}
