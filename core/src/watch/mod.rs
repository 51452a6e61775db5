//! The watch registry: one-shot, persistent and persistent-recursive watches.
//!
//! [`WatchRegistry`] records which connection watches which path in which
//! mode, and answers "who is notified" when the state machine applies a
//! change ([`WatchRegistry::trigger`]). It knows nothing of sockets, sessions
//! or the tree: connections are plain [`ConnId`]s, and the caller maps them
//! to sessions (for `wchc`/`wchp`) and delivers the notifications.
//!
//! Semantics are ZooKeeper 3.9's (wire-protocol.md §8): the modes a
//! connection holds on one path are independent and add up, and a connection
//! gets at most one notification per (event, path) from one trigger.
//!
//! May use: `proto` (event and watcher types, result codes). Nothing else of ours.

mod registry;
mod report;

#[cfg(test)]
mod tests;

pub use registry::WatchRegistry;
pub use report::WatchSummary;

use crate::proto::{AddWatchMode, Code, EventType};

/// Identifies one client connection; assigned by the server, opaque here.
pub type ConnId = u64;

/// Default for [`WatchRegistry::watches_per_connection_max`].
///
/// ZooKeeper has no such bound. A Curator `TreeCache` holds two watches per
/// znode (data + children), so this admits a cache over half a million nodes
/// while keeping one runaway client to a few hundred MB of registry memory.
pub const WATCHES_PER_CONNECTION_MAX_DEFAULT: u32 = 1_000_000;

/// What a request asks to watch; one registration of one mode on one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// One-shot, from getData on an existing node (data table).
    Data,
    /// One-shot, from exists (data table, also set on a missing node). The
    /// server treats it exactly like [`WatchKind::Data`]; only clients tell
    /// the two apart.
    Exist,
    /// One-shot, from getChildren / getChildren2 (child table).
    Child,
    /// addWatch PERSISTENT: every event on the path, never removed on fire.
    Persistent,
    /// addWatch PERSISTENT_RECURSIVE: created/deleted/data-changed on the path
    /// and every descendant, never NodeChildrenChanged, never removed on fire.
    PersistentRecursive,
}

impl From<AddWatchMode> for WatchKind {
    fn from(mode: AddWatchMode) -> WatchKind {
        match mode {
            AddWatchMode::Persistent => WatchKind::Persistent,
            AddWatchMode::PersistentRecursive => WatchKind::PersistentRecursive,
        }
    }
}

/// One notification to deliver, `(conn, event, path)`: send `event` about
/// `path` to connection `conn`. `path` is the server-side path of the changed
/// node (a descendant of the watched path for persistent-recursive watches).
pub type Notification = (ConnId, EventType, String);

/// Why a watch registration was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// The connection already holds `watches_per_connection_max` watches.
    #[error("connection {conn} already holds {limit} watches (watches_per_connection_max)")]
    TooManyWatches {
        /// The connection that asked.
        conn: ConnId,
        /// The configured bound it hit.
        limit: u32,
    },
}

impl WatchError {
    /// The result code to answer the registering request with.
    ///
    /// `QuotaExceeded` rather than `Throttled`: clients (Curator) retry
    /// throttled requests, and retrying cannot succeed until the client
    /// itself drops watches.
    pub fn code(&self) -> Code {
        match self {
            WatchError::TooManyWatches { .. } => Code::QuotaExceeded,
        }
    }
}
