//! The embedding and testing kit every binding translates: an in-process
//! server ([`EmbeddedServer`], built by [`ServerBuilder`]), a replicated
//! ensemble in one process ([`TestCluster`]), and faults on purpose
//! ([`FaultRelay`], [`expire_session`]).
//!
//! Bindings reach servers only through this kit, never through
//! [`crate::server::Config`] internals, so Python, Node and C start, stop and
//! break servers the same way and report the same errors.
//!
//! May use: `server` (its public API), `client`, `proto`, `replication::Role`.

mod cluster;
mod faults;
mod server;

use std::time::Duration;

use thiserror::Error;

use crate::server::config::ConfigError;
use crate::server::ServerError;

/// A member's role, as `role()` of the kit's servers and clusters reports it.
pub use crate::replication::Role;
pub use cluster::{ClusterBuilder, TestCluster};
pub use faults::{close_session, expire_session, FaultRelay};
pub use server::{EmbeddedServer, ServerBuilder};

/// Why the kit could not do what it was asked.
#[derive(Debug, Error)]
pub enum EmbedError {
    /// A `zoo.cfg` file, option or member spec was rejected (the key is named,
    /// as `corral server` names it).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A server could not start or stop (port in use, unusable data directory, ...).
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The temporary data directory could not be created.
    #[error("cannot create a temporary data directory: {0}")]
    TempDir(#[source] std::io::Error),
    /// A cluster needs a voting member.
    #[error("a cluster needs at least one voting member")]
    NoVoters,
    /// A member index outside the cluster.
    #[error("no member {index}: the cluster has {members} (numbered from 0)")]
    NoMember {
        /// The index asked for.
        index: usize,
        /// How many members there are.
        members: usize,
    },
    /// The cluster was closed.
    #[error("the cluster is closed")]
    Closed,
    /// A wait ran out of time.
    #[error("{what} within {timeout:?}")]
    Timeout {
        /// What did not happen.
        what: String,
        /// How long it was waited for.
        timeout: Duration,
    },
    /// An address that is not `host:port` (or a connect string).
    #[error("not a server address: {0:?}")]
    BadAddress(String),
    /// A network operation of the relay or of a session takeover failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server answered the takeover handshake with something unreadable.
    #[error("unreadable handshake reply: {0}")]
    Protocol(#[from] crate::proto::DecodeError),
    /// The relay never saw this session's handshake, so it has no password.
    #[error("session 0x{0:x} never connected through this relay")]
    UnknownSession(i64),
    /// The client has no session to expire.
    #[error("the client has no session")]
    NoSession,
}

impl EmbedError {
    fn io(what: impl Into<String>, source: std::io::Error) -> EmbedError {
        EmbedError::Io { what: what.into(), source }
    }
}

/// How long waits for a cluster to settle take at most, unless told otherwise.
pub const SETTLE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);

/// How often a wait looks again (member roles, a client's session).
const POLL_INTERVAL: Duration = Duration::from_millis(20);
