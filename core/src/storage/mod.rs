//! Durable files: write-ahead log segments and snapshots.
//!
//! - [`Wal`]: the write-ahead log — checksummed records in segment files, one
//!   writer thread that groups many appends under one fsync, torn-tail repair
//!   on open, the durable vote and purge point.
//! - [`SnapshotStore`]: `snapshot.<index>` files written atomically, verified
//!   by checksum on load, pruned to a retain count.
//!
//! Storage knows nothing of consensus or of the data tree: the log keeps opaque
//! entry bytes by index, a snapshot keeps opaque metadata and state-machine
//! bytes. `replication` gives them meaning.
//!
//! May use: the standard library, tokio channels, crc32fast. Nothing of ours.

mod fsutil;
mod record;
pub mod snapshot;
pub mod wal;

use std::io;
use std::path::PathBuf;

pub use snapshot::{SnapshotFile, SnapshotJob, SnapshotStore};
pub use wal::{FlushDone, LogBounds, Wal, WalOptions};

/// What can go wrong with durable files. One enum for the whole layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An operating-system call failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"open"`, `"fsync"`, ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file holds bytes that cannot be what corral wrote: never applied,
    /// never silently skipped.
    #[error("corrupt file {} at offset {offset}: {reason}", path.display())]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the first bad byte or record.
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A caller broke the log's rules (a hole, an index out of range, an oversize entry).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The log or snapshot store was closed; it accepts nothing more.
    #[error("closed")]
    Closed,
    /// An earlier write or fsync failed; the on-disk state is unknown, so the
    /// log refuses every later write (retrying an fsync is not safe).
    #[error("the write-ahead log failed earlier and refuses writes: {0}")]
    Failed(String),
    /// Another process (or another open handle) owns the directory.
    #[error("directory {} is in use (lock file {} is held, waited {waited:?} for it)", dir.display(), lock.display())]
    Locked {
        /// The directory.
        dir: PathBuf,
        /// The lock file that could not be locked.
        lock: PathBuf,
        /// How long the opener waited for the lock before giving up.
        waited: std::time::Duration,
    },
}

impl StorageError {
    /// Builds a closure that wraps an `io::Error` with what was done to which path.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StorageError {
        let path = path.into();
        move |source| StorageError::Io { op, path, source }
    }

    /// A corruption error at `offset` of `path`.
    pub(crate) fn corrupt(path: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> StorageError {
        StorageError::Corrupt { path: path.into(), offset, reason: reason.into() }
    }
}
