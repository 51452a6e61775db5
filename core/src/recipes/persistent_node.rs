//! A node that stays present, following Curator's `PersistentNode` (formerly
//! `PersistentEphemeralNode`): the node — usually ephemeral — is created, then
//! watched, and created again whenever it goes: deleted by someone else, or
//! taken away with an expired session. Its data can be changed at any time
//! and is restored if someone overwrites it.
//!
//! Naming follows Curator: the node is created at the given path; with
//! [`PersistentEphemeralNode::protected`] its name gets Curator's
//! `_c_<uuid>-` prefix (and, for sequential modes, the server's sequence
//! suffix), which lets a create whose reply was lost be found again.
//!
//! A node of ours left over from an earlier session (the server keeps it
//! until that session's timeout) is deleted and made again at once. A node
//! at the path that belongs to another live session is left alone and
//! watched: ours is created when it goes.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::election::{fired, transient, until_connected};
use super::util::{protected_create, protected_prefix, uuid};
use crate::client::{Client, CreateOptions, Error, OneshotWatch, Result, State};
use crate::proto::{Code, CreateMode};

/// Pause after a failed call before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Pause after an error a reconnect cannot fix, before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// How many of our earlier sessions are remembered to recognise stale nodes.
const OWNERS_MAX: usize = 8;

/// A node kept present by a background task until closed.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::proto::CreateMode;
/// use corral::recipes::persistent_node::PersistentEphemeralNode;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let mut node = PersistentEphemeralNode::new(&client, "/app/nodes/me", CreateMode::Ephemeral, b"v1");
/// node.start();
/// assert!(node.wait_for_initial_create(Duration::from_secs(5)).await);
/// client.delete("/app/nodes/me", None).await?; // it comes back
/// node.set_data(b"v2").await?;
/// for _ in 0..100 {
///     if client.get_data("/app/nodes/me").await.is_ok_and(|(d, _)| d == b"v2") { break }
///     tokio::time::sleep(Duration::from_millis(20)).await;
/// }
/// assert_eq!(client.get_data("/app/nodes/me").await?.0, b"v2");
/// node.close().await?;
/// assert!(client.exists("/app/nodes/me").await?.is_none());
/// # Ok(()) }
/// ```
pub struct PersistentEphemeralNode {
    client: Client,
    shared: Arc<Shared>,
    /// Tells the task to stop (dropping it does too).
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

/// What the owner and the background task share.
struct Shared {
    /// The path asked for (for sequential or protected nodes, the prefix).
    base_path: String,
    mode: CreateMode,
    protected: bool,
    /// The data the node should hold.
    data: Mutex<Vec<u8>>,
    /// The node's actual path once created.
    actual: Mutex<Option<String>>,
    /// Becomes true at the first successful create.
    created: watch::Sender<bool>,
    /// Wakes the task after `set_data`.
    poke: Notify,
}

impl PersistentEphemeralNode {
    /// A node at `path` in `mode` holding `data`; nothing happens until
    /// [`PersistentEphemeralNode::start`].
    pub fn new(client: &Client, path: &str, mode: CreateMode, data: &[u8]) -> PersistentEphemeralNode {
        PersistentEphemeralNode {
            client: client.clone(),
            shared: Arc::new(Shared {
                base_path: path.to_string(),
                mode,
                protected: false,
                data: Mutex::new(data.to_vec()),
                actual: Mutex::new(None),
                created: watch::channel(false).0,
                poke: Notify::new(),
            }),
            stop: None,
            task: None,
        }
    }

    /// Gives the node Curator's protected name `_c_<uuid>-<name>` (use before
    /// `start`; ignored after).
    pub fn protected(mut self, yes: bool) -> PersistentEphemeralNode {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.protected = yes;
        }
        self
    }

    /// Starts keeping the node present (a second call does nothing).
    pub fn start(&mut self) {
        if self.task.is_some() {
            return;
        }
        let (stop, stop_rx) = watch::channel(false);
        let task =
            Task { client: self.client.clone(), shared: self.shared.clone(), marker: uuid(), owners: Vec::new() };
        self.task = Some(tokio::spawn(task.run(stop_rx)));
        self.stop = Some(stop);
    }

    /// Waits at most `timeout` for the first create; whether it happened.
    pub async fn wait_for_initial_create(&self, timeout: Duration) -> bool {
        let mut rx = self.shared.created.subscribe();
        let created = tokio::time::timeout(timeout, rx.wait_for(|c| *c)).await;
        matches!(created, Ok(Ok(_)))
    }

    /// The node's actual path, once created (sequential and protected names
    /// change when the node is made again).
    pub fn actual_path(&self) -> Option<String> {
        self.shared.actual.lock().clone()
    }

    /// The data the node holds (or will hold once created).
    pub fn data(&self) -> Vec<u8> {
        self.shared.data.lock().clone()
    }

    /// Changes the node's data, now if the node exists, else when it is
    /// created. Fails only if the server refuses the write (e.g. NoAuth).
    pub async fn set_data(&self, data: &[u8]) -> Result<()> {
        *self.shared.data.lock() = data.to_vec();
        self.shared.poke.notify_one();
        let Some(path) = self.actual_path() else { return Ok(()) };
        match self.client.set_data(&path, data, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == Code::NoNode || transient(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Stops keeping the node and deletes it.
    pub async fn close(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            task.await.map_err(|_| Error::at(Code::SystemError, self.shared.base_path.clone()))?;
        }
        Ok(())
    }
}

/// What one round of the task leads to.
enum Next {
    /// Look again at once (something was just created or deleted).
    Again,
    /// Wait for this watch (or a state change, `set_data`, the stop).
    Wait(OneshotWatch),
}

/// The background keeper of one node.
struct Task {
    client: Client,
    shared: Arc<Shared>,
    /// The UUID of a protected name; the same for every re-create.
    marker: String,
    /// Sessions that created our node: a node they own is stale, not foreign.
    owners: Vec<i64>,
}

impl Task {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut states = self.client.state_changes();
        loop {
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                r = until_connected(&self.client) => if r.is_err() { break },
                _ = stop.changed() => break,
            }
            let mut w = match self.round().await {
                Ok(Next::Again) => continue,
                Ok(Next::Wait(w)) => Some(w),
                Err(e) => {
                    let pause = if transient(&e) { RETRY_PAUSE } else { ERROR_PAUSE };
                    if !transient(&e) {
                        tracing::warn!(path = %self.shared.base_path, error = %e, "persistent node: retrying after an error");
                    }
                    tokio::time::sleep(pause).await;
                    continue;
                }
            };
            tokio::select! {
                _ = stop.changed() => break,
                _ = fired(&mut w) => {}
                _ = self.shared.poke.notified() => {}
                s = states.recv() => if matches!(s, Ok(State::Closed) | Err(tokio::sync::broadcast::error::RecvError::Closed)) { break },
            }
        }
        let path = self.shared.actual.lock().take();
        if let Some(path) = path {
            let limit = self.client.session_timeout().max(Duration::from_secs(1));
            let _ = tokio::time::timeout(limit, self.delete_own(&path)).await;
        }
    }

    /// Deletes the node at `path` if it is ours (not another session's
    /// ephemeral that happens to sit on the path).
    async fn delete_own(&self, path: &str) -> Result<()> {
        loop {
            until_connected(&self.client).await?;
            let stat = match self.client.exists(path).await {
                Ok(Some(stat)) => stat,
                Ok(None) => return Ok(()),
                Err(e) if transient(&e) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let owner = stat.ephemeral_owner;
            if self.shared.mode.is_ephemeral() && owner != self.client.session_id() && !self.owners.contains(&owner) {
                return Ok(());
            }
            match self.client.delete(path, Some(stat.version)).await {
                Ok(()) => return Ok(()),
                Err(e) if e.code == Code::NoNode => return Ok(()),
                Err(e) if e.code == Code::BadVersion || transient(&e) => tokio::time::sleep(RETRY_PAUSE).await,
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks the node (deleting a stale one, restoring its data) or creates it.
    async fn round(&mut self) -> Result<Next> {
        let current = self.shared.actual.lock().clone();
        let Some(path) = current else { return self.create().await };
        let (data, stat, w) = match self.client.get_data_w(&path).await {
            Ok(r) => r,
            Err(e) if e.code == Code::NoNode => {
                if self.shared.mode.is_sequential() || self.shared.protected {
                    // A new node gets a new name; the old one may be reported until then.
                    *self.shared.actual.lock() = None;
                }
                return self.create().await;
            }
            Err(e) => return Err(e),
        };
        if self.shared.mode.is_ephemeral() && stat.ephemeral_owner != self.client.session_id() {
            if !self.owners.contains(&stat.ephemeral_owner) {
                // Another live session's node sits on the path: wait for it to go.
                return Ok(Next::Wait(w));
            }
            match self.client.delete(&path, Some(stat.version)).await {
                Ok(()) => {}
                Err(e) if matches!(e.code, Code::NoNode | Code::BadVersion) => {}
                Err(e) => return Err(e),
            }
            return Ok(Next::Again);
        }
        let _ = self.shared.created.send_if_modified(|c| !std::mem::replace(c, true));
        // Read after the node: a concurrent `set_data` stores before it writes.
        let want = self.shared.data.lock().clone();
        if data != want {
            match self.client.set_data(&path, &want, Some(stat.version)).await {
                Ok(_) => {}
                Err(e) if matches!(e.code, Code::NoNode | Code::BadVersion) => return Ok(Next::Again),
                Err(e) => return Err(e),
            }
        }
        Ok(Next::Wait(w))
    }

    async fn create(&mut self) -> Result<Next> {
        let base = self.shared.base_path.clone();
        let data = self.shared.data.lock().clone();
        let mode = self.shared.mode;
        // What this session creates is ours even if the reply is lost.
        let sid = self.client.session_id();
        if sid != 0 && !self.owners.contains(&sid) {
            if self.owners.len() == OWNERS_MAX {
                self.owners.remove(0);
            }
            self.owners.push(sid);
        }
        let (parent, name) = match base.rfind('/') {
            Some(0) => ("/", &base[1..]),
            Some(i) => (&base[..i], &base[i + 1..]),
            None => return Err(Error::at(Code::BadArguments, base.clone())),
        };
        let result = if self.shared.protected {
            let prefix = format!("{}{name}", protected_prefix(&self.marker));
            let parent = if parent == "/" { "" } else { parent };
            protected_create(&self.client, parent, &prefix, &self.marker, &data, mode).await
        } else {
            self.create_plain(&base, parent, &data, mode).await
        };
        let path = match result {
            Ok(p) => p,
            // Ours from a past session, or someone else's: the next round decides.
            Err(e) if e.code == Code::NodeExists && !mode.is_sequential() => {
                let path = if self.shared.protected {
                    let parent = if parent == "/" { "" } else { parent };
                    format!("{parent}/{}{name}", protected_prefix(&self.marker))
                } else {
                    base.clone()
                };
                *self.shared.actual.lock() = Some(path);
                return Ok(Next::Again);
            }
            Err(e) => return Err(e),
        };
        *self.shared.actual.lock() = Some(path);
        Ok(Next::Again)
    }

    async fn create_plain(&self, path: &str, parent: &str, data: &[u8], mode: CreateMode) -> Result<String> {
        loop {
            match self.client.create(path, data, &CreateOptions::mode(mode)).await {
                Err(e) if e.code == Code::NoNode && parent != "/" => self.client.ensure_path(parent).await?,
                other => return other,
            }
        }
    }
}
