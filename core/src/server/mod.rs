//! One server node: listener, connections, sessions, request pipeline, admin.
//!
//! A request meets, in order: `connection` (framing, handshake, per-session
//! FIFO), `handler` (validation; reads answered from the local tree, writes
//! turned into a `Txn`), the replicated log ([`crate::replication`]), the state
//! machine (`sm`, which applies to the tree and fires watches), and then
//! the reply goes back through the connection.
//!
//! May use: `proto`, `replication`, `txn`, `tree`, `watch`. Never `client`.

mod admin;
pub mod config;
mod connection;
mod handler;
mod node;
pub mod reconfig;
pub mod session;
pub mod sm;
mod stats;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;

pub use config::Config;
use node::Node;

/// The version string reported by `srvr`, `stat`, `envi` and `mntr`: a
/// ZooKeeper version first, because clients and tools parse it to decide
/// which features the server has.
pub const VERSION: &str = concat!("3.9.3-corral-", env!("CARGO_PKG_VERSION"));

/// Why a server could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The client port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The data or log directory could not be used.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The ensemble part of the configuration cannot be used.
    #[error("configuration: {0}")]
    Config(String),
    /// The replicated log could not be opened or failed.
    #[error("replication: {0}")]
    Replication(#[from] crate::replication::ReplicationError),
}

/// A running server node.
pub struct Server {
    node: Arc<Node>,
}

impl Server {
    /// Opens the data directory (recovering the tree and sessions), binds the
    /// client port and starts serving.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        let node = Node::start(config).await?;
        Ok(Server { node })
    }

    /// The address clients connect to (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.node.local_addr
    }

    /// This node's part in the ensemble: `Standalone`, `Leader`, `Follower`,
    /// `Observer`, or `Looking` while it knows no leader (and serves no one).
    pub fn role(&self) -> crate::replication::Role {
        self.node.replica.role()
    }

    /// Stops accepting, disconnects every client and closes the log cleanly.
    /// Sessions are durable: clients resume them on the next start.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.node.shutdown().await
    }
}

/// Runs a server until `shutdown` completes, then stops it cleanly. If
/// consensus stops on its own (a fatal error), the server stops and returns
/// the error, so that a supervisor restarts the process.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServerError> {
    let server = Server::start(config).await?;
    tracing::info!(addr = %server.local_addr(), version = VERSION, "serving");
    let node = server.node.clone();
    tokio::select! {
        _ = shutdown => {}
        reason = node.replica.failed() => {
            tracing::error!(%reason, "consensus stopped; shutting down so that this member can be restarted");
            let _ = server.shutdown().await;
            return Err(ServerError::Replication(crate::replication::ReplicationError::Raft(format!(
                "consensus stopped: {reason}"
            ))));
        }
    }
    tracing::info!("shutting down");
    server.shutdown().await
}
