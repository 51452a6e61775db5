//! A distributed counting semaphore: Curator's `InterProcessSemaphoreV2`.

use std::time::Duration;

use tokio::time::Instant;

use super::lock::Lock;
use super::lock_internals::{
    self, create_node, deadline_passed, fired, in_session, remove_node, Cleanup, Node, NodeName,
};
use super::util;
use crate::client::{Client, Error, Result, State};
use crate::proto::Code;

/// Child of the semaphore path holding the leases (Curator's `LEASE_PARENT`).
pub const LEASE_PARENT: &str = "leases";
/// Child of the semaphore path holding the lock that serialises acquirers (Curator's `LOCK_PARENT`).
pub const LOCK_PARENT: &str = "locks";
/// Name part of lease nodes (Curator's `LEASE_BASE_NAME`).
pub const LEASE_BASE_NAME: &str = "lease-";

/// A counting semaphore at a path, following Curator's
/// `InterProcessSemaphoreV2` layout, so corral and Curator processes can
/// share one: a lease is an ephemeral node `<path>/leases/_c_<uuid>-lease-<seq>`,
/// and acquirers take turns through a mutex at `<path>/locks`.
///
/// The acquirer holding the mutex creates its lease nodes and waits until
/// the leases number at most `max_leases` (its own included); others queue
/// on the mutex, first come, first served. Every process must use the same
/// `max_leases`. Unlike Curator, which takes the mutex once per lease,
/// `acquire(n)` takes all `n` leases in one turn, so acquirers that want
/// several leases cannot deadlock each other holding one each.
///
/// A [`Lease`] is given back by [`Lease::release`] or by dropping it, and
/// goes with its session when that expires. `acquire` takes `&self`:
/// acquisitions through one value from several tasks queue on the mutex.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::recipes::semaphore::Semaphore;
/// use corral::EmbeddedServer;
///
/// let server = EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let pool = Semaphore::new(&client, "/app/db-connections", 3);
/// let two = pool.acquire(2).await?;
/// let one = pool.acquire(1).await?;
/// // All three leases are out: a fourth does not come within the timeout.
/// assert!(pool.acquire_timeout(1, Duration::from_millis(100)).await?.is_none());
/// for lease in two {
///     lease.release().await?;
/// }
/// let again = pool.acquire(2).await?;
/// assert_eq!(again.len() + one.len(), 3);
/// # Ok(())
/// # }
/// ```
pub struct Semaphore {
    client: Client,
    path: String,
    leases_path: String,
    locks_path: String,
    max_leases: usize,
    /// Data of each lease node (Curator's `nodeData`).
    data: Vec<u8>,
}

impl Semaphore {
    /// A semaphore at `path` granting at most `max_leases` leases at a time.
    pub fn new(client: &Client, path: &str, max_leases: usize) -> Semaphore {
        Semaphore {
            client: client.clone(),
            path: path.to_string(),
            leases_path: format!("{path}/{LEASE_PARENT}"),
            locks_path: format!("{path}/{LOCK_PARENT}"),
            max_leases,
            data: Vec::new(),
        }
    }

    /// Sets the data stored in this value's lease nodes.
    pub fn with_data(mut self, data: &[u8]) -> Semaphore {
        self.data = data.to_vec();
        self
    }

    /// The semaphore path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The most leases granted at a time.
    pub fn max_leases(&self) -> usize {
        self.max_leases
    }

    /// Waits until `n` leases are granted. Fails with BadArguments when `n`
    /// is 0 or more than `max_leases`, with SessionExpired when the session
    /// ends while waiting (leases granted so far are given back).
    pub async fn acquire(&self, n: usize) -> Result<Vec<Lease>> {
        match self.acquire_until(n, None).await? {
            Some(leases) => Ok(leases),
            None => Err(Error::at(Code::OperationTimeout, &self.path)),
        }
    }

    /// Like [`acquire`](Semaphore::acquire), giving up after about `timeout`:
    /// `Ok(None)` then, with every lease of this call given back.
    pub async fn acquire_timeout(&self, n: usize, timeout: Duration) -> Result<Option<Vec<Lease>>> {
        self.acquire_until(n, Some(Instant::now() + timeout)).await
    }

    async fn acquire_until(&self, n: usize, deadline: Option<Instant>) -> Result<Option<Vec<Lease>>> {
        if n == 0 || n > self.max_leases {
            return Err(Error::at(Code::BadArguments, &self.path));
        }
        let mut lock = Lock::new(&self.client, &self.locks_path);
        if !lock.acquire_until(deadline).await? {
            return Ok(None);
        }
        let leases = self.leases(n, deadline).await;
        let released = lock.release().await;
        match (leases, released) {
            (Ok(leases), Ok(())) => Ok(leases),
            (Ok(leases), Err(e)) => {
                for lease in leases.into_iter().flatten() {
                    let _ = lease.release().await;
                }
                Err(e)
            }
            (Err(e), _) => Err(e),
        }
    }

    /// Creates `n` lease nodes and waits for room for all of them (holding
    /// the mutex); `None` at the deadline, with the nodes deleted again.
    async fn leases(&self, n: usize, deadline: Option<Instant>) -> Result<Option<Vec<Lease>>> {
        let mut cleanups = Vec::with_capacity(n);
        let outcome = async {
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                let uuid = util::uuid();
                let name =
                    NodeName { prefix: format!("{}{LEASE_BASE_NAME}", util::protected_prefix(&uuid)), marker: uuid };
                let mut cleanup = Cleanup::new(&self.client, &self.leases_path, &name.marker);
                let created = create_node(&self.client, &self.leases_path, &name, &self.data, deadline).await;
                if let Ok(node) = &created {
                    cleanup.created(&node.path);
                }
                cleanups.push(cleanup);
                nodes.push(created?);
            }
            self.wait_for_room(&nodes, deadline).await?;
            Ok(nodes)
        }
        .await;
        match outcome {
            Ok(nodes) => {
                cleanups.iter_mut().for_each(Cleanup::disarm);
                Ok(Some(
                    nodes
                        .into_iter()
                        .map(|node| Lease { client: self.client.clone(), node, released: false })
                        .collect(),
                ))
            }
            Err(e) => {
                for cleanup in cleanups {
                    cleanup.run().await;
                }
                if deadline_passed(&e, deadline) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Waits until the leases, `ours` included, number at most `max_leases`.
    async fn wait_for_room(&self, ours: &[Node], deadline: Option<Instant>) -> Result<()> {
        let Some(first) = ours.first() else { return Ok(()) };
        loop {
            let (children, _, watch) =
                in_session(&self.client, first.session_id, deadline, || self.client.get_children_w(&self.leases_path))
                    .await?;
            if let Some(missing) = ours.iter().find(|n| !children.contains(&n.name)) {
                let code =
                    if self.client.session_id() == missing.session_id { Code::NoNode } else { Code::SessionExpired };
                return Err(Error::at(code, &missing.path));
            }
            if children.len() <= self.max_leases {
                return Ok(());
            }
            fired(watch, deadline, &first.path).await?;
        }
    }

    /// Curator's `getParticipantNodes`: the full paths of the lease nodes, in
    /// sequence order (the newest may still be waiting for room).
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        match lock_internals::sorted_contenders(&self.client, &self.leases_path).await {
            Ok(names) => Ok(names.into_iter().map(|n| format!("{}/{n}", self.leases_path)).collect()),
            Err(e) if e.code == Code::NoNode => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// One lease of a [`Semaphore`]: an ephemeral node, deleted by
/// [`release`](Lease::release) or, in the background, when dropped.
pub struct Lease {
    client: Client,
    node: Node,
    /// Set once given back, so that drop does nothing more.
    released: bool,
}

impl Lease {
    /// The lease node's full path.
    pub fn path(&self) -> &str {
        &self.node.path
    }

    /// The lease node's name (`_c_<uuid>-lease-<seq>`).
    pub fn node_name(&self) -> &str {
        &self.node.name
    }

    /// Whether the session that owns the lease is connected: false while
    /// disconnected (unknown) and after the session expired (gone).
    pub fn is_held(&self) -> bool {
        matches!(self.client.state(), State::Connected | State::Reconnected)
            && self.client.session_id() == self.node.session_id
    }

    /// Gives the lease back (deletes its node).
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        remove_node(&self.client, &self.node).await
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            lock_internals::spawn_cleanup(
                self.client.clone(),
                String::new(),
                String::new(),
                Some(self.node.path.clone()),
            );
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("path", &self.node.path).finish()
    }
}
