//! A distributed counting semaphore: Curator's `InterProcessSemaphoreV2`,
//! or kazoo's `Semaphore` layout.

use std::time::Duration;

use tokio::time::Instant;

use super::lock::{Lock, Naming};
use super::lock_internals::{
    self, create_node, deadline_passed, fired, in_session, remove_node, Cleanup, Node, NodeName,
};
use crate::client::{Client, Error, Result, State};
use crate::proto::{Code, CreateMode};

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
/// With [`Naming::Kazoo`] the layout is kazoo's `Semaphore`, so kazoo
/// processes can share the semaphore: a lease is an ephemeral node
/// `<path>/<uuidhex>`, acquirers take turns through a kazoo `Lock` at
/// `<path>-__lock__`, and `<path>` holds `max_leases` as text, which every
/// acquirer checks (BadArguments when it differs). The acquirer holding the
/// mutex then waits for room before it creates its lease nodes, as kazoo's does.
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
    naming: Naming,
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
            naming: Naming::Curator,
            leases_path: format!("{path}/{LEASE_PARENT}"),
            locks_path: format!("{path}/{LOCK_PARENT}"),
            max_leases,
            data: Vec::new(),
        }
    }

    /// Lays the semaphore out as Curator (the default) or kazoo processes
    /// do; every process sharing it must use the same layout.
    pub fn with_naming(mut self, naming: Naming) -> Semaphore {
        let path = &self.path;
        (self.leases_path, self.locks_path) = match naming {
            Naming::Curator => (format!("{path}/{LEASE_PARENT}"), format!("{path}/{LOCK_PARENT}")),
            Naming::Kazoo => (path.clone(), format!("{path}-__lock__")),
        };
        self.naming = naming;
        self
    }

    /// The layout of this semaphore.
    pub fn naming(&self) -> Naming {
        self.naming
    }

    /// Sets the data stored in this value's lease nodes (kazoo's identifier,
    /// which its `lease_holders` lists; kazoo's layout stores it in the
    /// mutex's node too).
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
        if self.naming == Naming::Kazoo {
            self.check_max_leases().await?;
        }
        let mut lock = Lock::with_naming(&self.client, &self.locks_path, self.naming);
        if self.naming == Naming::Kazoo {
            lock = lock.with_data(&self.data);
        }
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

    /// kazoo's check of the semaphore node: created holding `max_leases` as
    /// text, or holding the same number (other data is left alone, as kazoo
    /// leaves it).
    async fn check_max_leases(&self) -> Result<()> {
        let stored = match self.client.get_data(&self.path).await {
            Ok((data, _)) => data,
            Err(e) if e.code == Code::NoNode => {
                self.client.ensure_path(&self.path).await?;
                let text = self.max_leases.to_string();
                return self.client.set_data(&self.path, text.as_bytes(), None).await.map(|_| ());
            }
            Err(e) => return Err(e),
        };
        match std::str::from_utf8(&stored).ok().and_then(|t| t.trim().parse::<i64>().ok()) {
            Some(n) if usize::try_from(n).ok() != Some(self.max_leases) => {
                Err(Error::at(Code::BadArguments, &self.path))
            }
            _ => Ok(()),
        }
    }

    /// Creates `n` lease nodes and waits for room for all of them (holding
    /// the mutex): Curator's order, or kazoo's (room first, then the
    /// nodes); `None` at the deadline, with the nodes deleted again.
    async fn leases(&self, n: usize, deadline: Option<Instant>) -> Result<Option<Vec<Lease>>> {
        let mut cleanups = Vec::with_capacity(n);
        let outcome = async {
            if self.naming == Naming::Kazoo {
                let session = lock_internals::connected(&self.client, deadline).await?;
                self.wait_for_room(session, &[], n, deadline).await?;
            }
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                let (name, mode) = match self.naming {
                    Naming::Curator => (NodeName::curator(LEASE_BASE_NAME), CreateMode::EphemeralSequential),
                    Naming::Kazoo => (NodeName::kazoo(""), CreateMode::Ephemeral),
                };
                let mut cleanup = Cleanup::new(&self.client, &self.leases_path, &name.marker);
                let created = create_node(&self.client, &self.leases_path, &name, mode, &self.data, deadline).await;
                if let Ok(node) = &created {
                    cleanup.created(&node.path);
                }
                cleanups.push(cleanup);
                nodes.push(created?);
            }
            if self.naming == Naming::Curator {
                if let Some(first) = nodes.first() {
                    self.wait_for_room(first.session_id, &nodes, 0, deadline).await?;
                }
            }
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

    /// Waits until the leases, `ours` (created in `session`) included and
    /// `more` still to come, number at most `max_leases`.
    async fn wait_for_room(&self, session: i64, ours: &[Node], more: usize, deadline: Option<Instant>) -> Result<()> {
        loop {
            let (children, _, watch) =
                in_session(&self.client, session, deadline, || self.client.get_children_w(&self.leases_path)).await?;
            if let Some(missing) = ours.iter().find(|n| !children.contains(&n.name)) {
                let code =
                    if self.client.session_id() == missing.session_id { Code::NoNode } else { Code::SessionExpired };
                return Err(Error::at(code, &missing.path));
            }
            if children.len() + more <= self.max_leases {
                return Ok(());
            }
            fired(watch, deadline, &self.leases_path).await?;
        }
    }

    /// Curator's `getParticipantNodes`: the full paths of the lease nodes, in
    /// sequence order (the newest may still be waiting for room); with
    /// kazoo's layout, every child of the path, sorted by name.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        let names = match self.naming {
            Naming::Curator => lock_internals::sorted_contenders(&self.client, &self.leases_path).await,
            Naming::Kazoo => self.client.get_children(&self.leases_path).await.map(|mut c| {
                c.sort();
                c
            }),
        };
        match names {
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

    /// The lease node's name (`_c_<uuid>-lease-<seq>`, kazoo's `<uuidhex>`).
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
