//! Consensus glue: every write becomes an entry of a replicated log (openraft),
//! committed once a quorum has it on disk, then applied to the state machine in
//! log order on every node. zxid = the log index of the entry.
//!
//! Nothing outside this folder sees openraft's types.
//!
//! May use: `storage`. It knows the state machine only through [`StateMachine`].
//!
//! - [`Replica`]: the handle the server uses (open, propose, stats, shutdown).
//! - `types`: the openraft type configuration and byte codecs.
//! - `log_store`: openraft's log storage over [`crate::storage::Wal`].
//! - `state_machine`: openraft's state machine over a [`StateMachine`] and
//!   [`crate::storage::SnapshotStore`].
//! - `io`: the seams — log storage, snapshot storage, peer network and
//!   where blocking work runs, as parameters of a [`Replica`] ([`ReplicaIo`]).
//! - `network`: the network of a standalone node (no peers).
//! - `transport`: the peer transport of an ensemble (TCP, checksummed frames).

mod io;
mod log_store;
mod network;
mod replica;
mod state_machine;
mod transport;
mod types;

#[cfg(test)]
mod ensemble_tests;
#[cfg(test)]
mod tests;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};

use crate::storage::StorageError;
pub use io::{
    Blocking, BoxFuture, LogDisk, PeerListener, PeerNetwork, PeerStream, ReplicaIo, SnapshotData, SnapshotDisk,
    TcpNetwork,
};
pub use replica::{Applied, EnsembleOptions, EnsembleStats, Member, Replica, Role};
pub use types::seed_consensus_rng;

/// A state captured for a snapshot, serialized when run (off the apply path).
pub type SnapshotJob = Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()> + Send>;

/// What the replicated log drives. Implemented by the server over the data
/// tree, sessions and watches; tests use small machines of their own.
pub trait StateMachine: Send + Sync + 'static {
    /// A replicated command.
    type Command: Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What applying a command returns to the proposer.
    type Output: Clone + std::fmt::Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Applies a committed command; `index` is its log index (the zxid).
    fn apply(&mut self, index: u64, cmd: &Self::Command) -> Self::Output;

    /// Records that a log entry without a command (leader blank entry,
    /// membership change) at `index` was applied.
    fn apply_other(&mut self, index: u64);

    /// The index of the last applied entry (0 when nothing was applied).
    fn last_applied(&self) -> u64;

    /// Captures the current state cheaply (no long pause for writers) and
    /// returns a job that serializes it; the job runs off the apply path.
    fn capture(&self) -> SnapshotJob;

    /// Replaces the whole state with a snapshot written by a `capture` job
    /// taken at log index `index`.
    fn restore(&mut self, index: u64, r: &mut dyn Read) -> std::io::Result<()>;
}

/// ZooKeeper's default `snapCount`: log entries between snapshots.
pub const SNAP_COUNT_DEFAULT: u64 = 100_000;
/// ZooKeeper's minimum (and default) `autopurge.snapRetainCount`.
pub const SNAP_RETAIN_COUNT_MIN: usize = 3;

/// How to open a [`Replica`].
#[derive(Debug, Clone)]
pub struct ReplicaOptions {
    /// This node's id in the ensemble (ZooKeeper's `myid`).
    pub node_id: u64,
    /// Directory of the snapshots (ZooKeeper's `dataDir`).
    pub data_dir: PathBuf,
    /// Directory of the write-ahead log (ZooKeeper's `dataLogDir`); may equal `data_dir`.
    pub log_dir: PathBuf,
    /// Log entries between snapshots (ZooKeeper's `snapCount`, default [`SNAP_COUNT_DEFAULT`]).
    pub snap_count: u64,
    /// Snapshots kept on disk, with the log needed to recover from the
    /// oldest of them (`autopurge.snapRetainCount`, at least [`SNAP_RETAIN_COUNT_MIN`]).
    pub snap_retain_count: usize,
    /// Also purge old snapshots and logs on this period (`autopurge.purgeInterval`);
    /// `None` purges only after each new snapshot.
    pub purge_interval: Option<Duration>,
    /// How long opening waits for a data or log directory still locked by
    /// another process — a predecessor killed a moment ago can take a while
    /// to release its files — before giving up (default [`LOCK_WAIT_DEFAULT`]).
    pub lock_wait: Duration,
}

/// How long a starting node waits, by default, for its directories to be unlocked.
pub const LOCK_WAIT_DEFAULT: Duration = Duration::from_secs(30);

/// Figures for the admin commands (`dirs`, `mntr`, `srvr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStats {
    /// Index (zxid) of the last entry in the log, if any.
    pub last_log_index: Option<u64>,
    /// Index of the last entry applied to the state machine, if any.
    pub last_applied: Option<u64>,
    /// Index of the last entry included in the current snapshot, if any.
    pub snapshot_index: Option<u64>,
    /// Index of the last entry purged from the log, if any.
    pub purged_index: Option<u64>,
    /// Bytes of the files in the data (snapshot) directory.
    pub data_dir_bytes: u64,
    /// Bytes of the files in the log directory.
    pub log_dir_bytes: u64,
}

/// What can go wrong in the replication layer.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// Durable files could not be read or written, or are damaged.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The options or the given state machine cannot be used.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The snapshots and the log on disk do not fit together (e.g. entries
    /// were purged but no valid snapshot covers them).
    #[error("inconsistent durable state: {0}")]
    Inconsistent(String),
    /// A command or output could not be encoded or decoded.
    #[error("codec: {0}")]
    Codec(String),
    /// This node is not the leader; proposals go to `leader` (if known).
    #[error("not the leader (leader: {leader:?})")]
    NotLeader {
        /// The current leader's node id, if known.
        leader: Option<u64>,
    },
    /// No leader could be reached, or the connection to it broke before it
    /// answered (the outcome of a forwarded write is then unknown).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The replica was shut down.
    #[error("the replica is shut down")]
    ShutDown,
    /// The consensus engine stopped on an error, or did not start in time.
    #[error("consensus: {0}")]
    Raft(String),
}

/// Runs `open` again while the directory it locks is held by another
/// process, for at most `wait`, saying so once; the last `Locked` error
/// (with the time waited) if the lock never came free.
pub(crate) fn open_when_unlocked<T>(
    wait: Duration,
    mut open: impl FnMut() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        match open() {
            Err(StorageError::Locked { dir, lock, .. }) => {
                let waited = started.elapsed();
                if waited >= wait {
                    if told {
                        tracing::error!(dir = %dir.display(), "the directory is still locked after {waited:?}; giving up");
                    }
                    return Err(StorageError::Locked { dir, lock, waited });
                }
                if !told {
                    tracing::warn!(
                        dir = %dir.display(),
                        lock = %lock.display(),
                        "the directory is locked by another process (one still exiting?); waiting up to {wait:?} for it"
                    );
                    told = true;
                }
                std::thread::sleep(LOCK_POLL.min(wait - waited));
            }
            done => {
                if told && done.is_ok() {
                    tracing::info!("the directory lock came free after {:?}", started.elapsed());
                }
                return done;
            }
        }
    }
}

/// How often a locked directory is tried again.
const LOCK_POLL: Duration = Duration::from_millis(50);
