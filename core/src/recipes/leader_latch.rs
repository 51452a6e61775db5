//! A leader latch, following Curator's `LeaderLatch` and its node naming:
//! each participant keeps an ephemeral-sequential node
//! `<path>/_c_<uuid>-latch-<seq>` holding its id; the lowest sequence is the
//! leader, and stays leader until it closes the latch or loses its session.
//!
//! Connection states are handled as Curator 5 does with its standard error
//! policy: `Suspended` (and read-only) already clears leadership, because
//! ownership can no longer be known; `Lost` clears it too and the latch queues
//! again with a new node once a new session is up; `Reconnected` re-reads the
//! queue, so a leader whose session survived the disconnect leads again
//! without going to the back.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::election::{delete_node, enter_queue, place, queue, transient, until_connected, Contender, Place};
use super::lock_internals::NodeName;
use super::util::retry;
use crate::client::{Client, Error, Result, State};
use crate::proto::Code;

/// Curator's lock-node name for `LeaderLatch` participants.
const LATCH_NAME: &str = "latch-";
/// Pause after a failed call before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Pause after an error a reconnect cannot fix (no permission, ...), before
/// trying again: the latch keeps trying until closed, as Curator's does.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// A participant of a latch (Curator's `Participant`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    /// The id the participant gave its latch.
    pub id: String,
    /// Whether it is the leader (first in the queue).
    pub is_leader: bool,
}

/// A leader latch on one path.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::leader_latch::LeaderLatch;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let mut latch = LeaderLatch::new(&client, "/app/latch", "node-1");
/// latch.start().await?;
/// latch.await_leadership().await?;
/// assert!(latch.has_leadership());
/// assert_eq!(latch.leader().await?.map(|p| p.id), Some("node-1".to_string()));
/// latch.close().await?;
/// # Ok(()) }
/// ```
pub struct LeaderLatch {
    client: Client,
    path: String,
    id: String,
    /// Leadership as the background task sees it; its sender lives in the
    /// task, so waiting ends when the task does.
    leader: watch::Receiver<bool>,
    /// Handed to the task by `start`.
    leader_tx: Option<watch::Sender<bool>>,
    /// Our current node, for `our_path`.
    node: Arc<Mutex<Option<String>>>,
    /// Tells the task to stop (dropping it does too).
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl LeaderLatch {
    /// A latch on `path` for participant `id` (stored in its node). Nothing
    /// happens until [`LeaderLatch::start`].
    pub fn new(client: &Client, path: &str, id: &str) -> LeaderLatch {
        let (leader_tx, leader) = watch::channel(false);
        LeaderLatch {
            client: client.clone(),
            path: path.trim_end_matches('/').to_string(),
            id: id.to_string(),
            leader,
            leader_tx: Some(leader_tx),
            node: Arc::new(Mutex::new(None)),
            stop: None,
            task: None,
        }
    }

    /// Joins the latch: creates this participant's node (creating `path` if
    /// needed) and starts following the queue in the background. Fails if
    /// already started, or if the node cannot be created.
    pub async fn start(&mut self) -> Result<()> {
        let Some(leader_tx) = self.leader_tx.take() else {
            return Err(Error::at(Code::BadArguments, self.path.clone()));
        };
        let me = match enter_queue(&self.client, &self.path, &NodeName::curator(LATCH_NAME), self.id.as_bytes()).await {
            Ok(me) => me,
            Err(e) => {
                self.leader_tx = Some(leader_tx);
                return Err(e);
            }
        };
        *self.node.lock() = Some(me.path.clone());
        let (stop, stop_rx) = watch::channel(false);
        let task =
            Task { client: self.client.clone(), path: self.path.clone(), id: self.id.clone(), node: self.node.clone() };
        self.task = Some(tokio::spawn(task.run(Some(me), leader_tx, stop_rx)));
        self.stop = Some(stop);
        Ok(())
    }

    /// Whether this participant leads right now.
    pub fn has_leadership(&self) -> bool {
        *self.leader.borrow()
    }

    /// Waits until this participant leads. Fails if the latch was never
    /// started, or stops (the client was closed) before.
    pub async fn await_leadership(&self) -> Result<()> {
        let lost = || Error::at(Code::ConnectionLoss, self.path.clone());
        if self.task.is_none() {
            return Err(lost());
        }
        let mut rx = self.leader.clone();
        rx.wait_for(|l| *l).await.map(|_| ()).map_err(|_| lost())
    }

    /// Waits at most `timeout` to lead; whether this participant leads.
    pub async fn await_leadership_timeout(&self, timeout: Duration) -> bool {
        matches!(tokio::time::timeout(timeout, self.await_leadership()).await, Ok(Ok(())))
    }

    /// Leadership changes: `changed().await` then `borrow()` gives the new
    /// value (Curator's `isLeader`/`notLeader`; quick flips may coalesce,
    /// the latest value is never missed).
    pub fn leadership_changes(&self) -> watch::Receiver<bool> {
        self.leader.clone()
    }

    /// This participant's node, while it has one.
    pub fn our_path(&self) -> Option<String> {
        self.node.lock().clone()
    }

    /// This participant's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Every participant in queue order; the first is the leader.
    pub async fn participants(&self) -> Result<Vec<Participant>> {
        let mut out = Vec::new();
        for name in queue(&self.client, &self.path, LATCH_NAME).await? {
            let path = format!("{}/{name}", self.path);
            match retry(&self.client, || self.client.get_data(&path)).await {
                Ok((data, _)) => {
                    let is_leader = out.is_empty();
                    out.push(Participant { id: String::from_utf8_lossy(&data).into_owned(), is_leader });
                }
                Err(e) if e.code == Code::NoNode => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The leader, if there is one.
    pub async fn leader(&self) -> Result<Option<Participant>> {
        Ok(self.participants().await?.into_iter().next())
    }

    /// Leaves the latch: leadership ends and the node is deleted.
    pub async fn close(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            task.await.map_err(|_| Error::at(Code::SystemError, self.path.clone()))?;
        }
        Ok(())
    }
}

/// The background follower of one latch.
struct Task {
    client: Client,
    path: String,
    id: String,
    node: Arc<Mutex<Option<String>>>,
}

impl Task {
    async fn run(self, mut me: Option<Contender>, leader: watch::Sender<bool>, mut stop: watch::Receiver<bool>) {
        let set = |v: bool| {
            leader.send_if_modified(|cur| std::mem::replace(cur, v) != v);
        };
        let mut states = self.client.state_changes();
        'outer: loop {
            if *stop.borrow() {
                break;
            }
            if !matches!(self.client.state(), State::Connected | State::Reconnected) {
                set(false);
            }
            tokio::select! {
                r = until_connected(&self.client) => if r.is_err() { break },
                _ = stop.changed() => break,
            }
            if let Some(stale) = me.take_if(|c| c.owner != self.client.session_id()) {
                set(false);
                *self.node.lock() = None;
                let _ = delete_node(&self.client, &stale.path).await;
            }
            let c = match &me {
                Some(c) => c.clone(),
                None => match enter_queue(&self.client, &self.path, &NodeName::curator(LATCH_NAME), self.id.as_bytes())
                    .await
                {
                    Ok(c) => {
                        *self.node.lock() = Some(c.path.clone());
                        me.insert(c).clone()
                    }
                    Err(e) => {
                        self.pause(&e).await;
                        continue;
                    }
                },
            };
            let target = match place(&self.client, &self.path, &c.name, LATCH_NAME).await {
                Ok(Place::First) => {
                    set(true);
                    // Watch our own node: its deletion ends leadership.
                    c.path.clone()
                }
                Ok(Place::Behind(before)) => {
                    set(false);
                    format!("{}/{before}", self.path)
                }
                Ok(Place::Gone) => {
                    set(false);
                    me = None;
                    continue;
                }
                Err(e) => {
                    self.pause(&e).await;
                    continue;
                }
            };
            let w = match self.client.get_data_w(&target).await {
                Ok((_, _, w)) => w,
                Err(e) if e.code == Code::NoNode => continue,
                Err(e) => {
                    self.pause(&e).await;
                    continue;
                }
            };
            tokio::select! {
                _ = stop.changed() => break 'outer,
                _ = w => {}
                s = states.recv() => match s {
                    Ok(State::Closed) | Err(tokio::sync::broadcast::error::RecvError::Closed) => break 'outer,
                    Ok(State::Suspended | State::ReadOnly | State::Lost) => set(false),
                    _ => {}
                },
            }
        }
        set(false);
        *self.node.lock() = None;
        if let Some(c) = me {
            let limit = self.client.session_timeout().max(Duration::from_secs(1));
            let _ = tokio::time::timeout(limit, delete_node(&self.client, &c.path)).await;
        }
    }

    async fn pause(&self, e: &Error) {
        if transient(e) {
            tokio::time::sleep(RETRY_PAUSE).await;
        } else {
            tracing::warn!(path = %self.path, error = %e, "leader latch: retrying after an error");
            tokio::time::sleep(ERROR_PAUSE).await;
        }
    }
}
