//! Barrier (kazoo's `Barrier`, Curator's `DistributedBarrier`): while a node
//! exists, everyone waiting on it blocks.

use std::time::Duration;

use tokio::time::Instant;

use super::util::{create_if_missing, retry};
use crate::client::{Client, CreateOptions, Result, State};
use crate::proto::Code;

/// kazoo's `Barrier` / Curator's `DistributedBarrier`: the barrier is up
/// while its node exists. [`Barrier::set`] creates the node (kazoo's
/// `create`, Curator's `setBarrier`), [`Barrier::remove`] deletes it
/// (`removeBarrier`), and [`Barrier::wait`] blocks until it is gone
/// (`waitOnBarrier`). The node is persistent: a barrier outlives the session
/// that set it, as in both libraries.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::recipes::barrier::Barrier;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let barrier = Barrier::new(&client, "/barriers/deploy");
/// barrier.set().await?;
///
/// let waiter = Barrier::new(&client, "/barriers/deploy");
/// let released = tokio::spawn(async move { waiter.wait(None).await });
/// assert!(!barrier.wait(Some(Duration::from_millis(50))).await?, "still up");
/// barrier.remove().await?;
/// assert!(released.await??);
/// # Ok(())
/// # }
/// ```
pub struct Barrier {
    client: Client,
    path: String,
}

impl Barrier {
    /// A barrier on the node at `path`.
    pub fn new(client: &Client, path: &str) -> Barrier {
        Barrier { client: client.clone(), path: path.to_string() }
    }

    /// Raises the barrier: creates its node (and missing parents); raising
    /// a barrier that is up is not an error.
    pub async fn set(&self) -> Result<()> {
        create_if_missing(&self.client, &self.path, b"", &CreateOptions::default()).await
    }

    /// Lowers the barrier: deletes its node. `true` when this call lowered
    /// it, `false` when it was down already (not an error).
    pub async fn remove(&self) -> Result<bool> {
        match retry(&self.client, || self.client.delete(&self.path, None)).await {
            Ok(()) => Ok(true),
            Err(e) if e.code == Code::NoNode => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits until the barrier is down. Returns `true` when it is, `false`
    /// when `timeout` passed first (`None`: wait as long as it takes).
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut states = self.client.state_changes();
        loop {
            let (stat, watch) = retry(&self.client, || self.client.exists_w(&self.path)).await?;
            if stat.is_none() {
                return Ok(true);
            }
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = watch => {}
                // After a reconnect or a new session, look again.
                st = states.recv() => {
                    if matches!(st, Ok(State::Closed)) {
                        return Err(crate::client::Error::new(Code::ConnectionLoss));
                    }
                }
                _ = sleep => return Ok(false),
            }
        }
    }
}

/// The parent of an absolute path (`/` for a top-level node).
pub(crate) fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}
