//! Leader election with interruptible leadership, following Curator's
//! `LeaderSelector` (and kazoo's `Election`, whose `run`/`contenders`/`cancel`
//! it keeps).
//!
//! Every contender creates an ephemeral-sequential node
//! `<path>/_c_<uuid>-lock-<seq>` (Curator's protected `lock-` naming, so
//! Curator `LeaderSelector`s can join the same election) or, with
//! [`Naming::Kazoo`], `<path>/<uuidhex>__lock__<seq>` (kazoo's `Election`, a
//! `Lock` underneath), holding its identifier; the lowest sequence leads. Each contender watches only the node
//! just ahead of it, so a change wakes one process, not the herd.
//!
//! While leading, the callback holds a [`Leadership`]: its fencing token (the
//! node's czxid — it strictly increases from one leader to the next) and a
//! [`Leadership::lost`] future. As Curator's standard error policy does, a
//! *suspended* connection already counts as lost (ownership is unknown), and so
//! do session loss, deletion of the node and [`LeaderElection::cancel`].
//! Leadership is relinquished (the node deleted) when the callback returns.
//!
//! This module also holds the contender-queue steps that [`super::leader_latch`]
//! and [`super::partitioner`] share.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot, watch};

use super::lock::{Naming, Role};
use super::lock_internals::NodeName;
use super::util::{protected_create, retry, sequence_of, sort_by_sequence, wait_connected};
use crate::client::{Client, Error, KeeperState, OneshotWatch, Result, State, WatchedEvent};
use crate::proto::{Code, CreateMode, EventType};

/// Curator's lock-node name for `LeaderSelector` contenders.
/// Pause after a failed call before trying again, so a dying connection is
/// not hammered while its state catches up.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Why a [`Leadership`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossReason {
    /// The connection was suspended: whether the node still stands is unknown,
    /// so leadership is given up (Curator's standard policy).
    Suspended,
    /// The session expired: the contender node is gone.
    SessionLost,
    /// Someone deleted the contender node.
    NodeDeleted,
    /// [`LeaderElection::cancel`] was called.
    Cancelled,
    /// The client was closed.
    Closed,
}

/// What the leadership callback holds while it leads.
#[derive(Clone, Debug)]
pub struct Leadership {
    node: String,
    fencing_token: i64,
    loss: watch::Receiver<Option<LossReason>>,
}

impl Leadership {
    /// The fencing token: the czxid of the contender node. Every later leader
    /// of the same path has a larger one, so a resource that remembers the
    /// largest token seen can refuse a deposed leader's late writes.
    pub fn fencing_token(&self) -> i64 {
        self.fencing_token
    }

    /// The contender node's path.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether leadership has been lost (see [`Leadership::lost`]).
    pub fn is_lost(&self) -> bool {
        self.loss.borrow().is_some()
    }

    /// Why leadership was lost, if it was.
    pub fn reason(&self) -> Option<LossReason> {
        *self.loss.borrow()
    }

    /// Resolves once leadership is lost: the callback should then stop acting
    /// as leader and return.
    pub async fn lost(&self) -> LossReason {
        let mut rx = self.loss.clone();
        let reason = match rx.wait_for(|r| r.is_some()).await {
            Ok(r) => *r,
            Err(_) => None,
        };
        reason.unwrap_or(LossReason::Closed)
    }

    /// Same as [`Leadership::lost`] (Curator's vocabulary: the leader is interrupted).
    pub async fn cancelled(&self) -> LossReason {
        self.lost().await
    }
}

/// A leader election on one path. Cloning is cheap; clones share the
/// [`LeaderElection::cancel`] switch.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::election::LeaderElection;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let election = LeaderElection::new(&client, "/app/leader", "worker-1");
/// let token = election
///     .run(|leadership| async move {
///         // Lead here; stop early when `leadership.lost()` resolves.
///         leadership.fencing_token()
///     })
///     .await?;
/// assert!(token.is_some_and(|t| t > 0));
/// assert!(election.contenders().await?.is_empty(), "leadership was given up");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LeaderElection {
    client: Client,
    path: String,
    identifier: String,
    naming: Naming,
    auto_requeue: bool,
    /// Bumped by `cancel`; every `run` in progress watches it.
    cancel: Arc<watch::Sender<u64>>,
}

impl LeaderElection {
    /// An election on `path`; `identifier` is stored in this contender's node
    /// (what [`LeaderElection::contenders`] lists).
    pub fn new(client: &Client, path: &str, identifier: &str) -> LeaderElection {
        LeaderElection {
            client: client.clone(),
            path: path.trim_end_matches('/').to_string(),
            identifier: identifier.to_string(),
            naming: Naming::Curator,
            auto_requeue: false,
            cancel: Arc::new(watch::channel(0).0),
        }
    }

    /// Names the contender node as Curator's `LeaderSelector` (the default)
    /// or kazoo's `Election` does; every contender of one election must use
    /// the same naming.
    pub fn with_naming(mut self, naming: Naming) -> LeaderElection {
        self.naming = naming;
        self
    }

    /// After the callback returns, queue up again (Curator's `autoRequeue`);
    /// `run` then only ends on [`LeaderElection::cancel`] or an error.
    pub fn auto_requeue(mut self, yes: bool) -> LeaderElection {
        self.auto_requeue = yes;
        self
    }

    /// Joins the election, waits to lead, calls `lead` while leading and
    /// relinquishes leadership when it returns — deletes the node, after a
    /// reconnect if need be — then requeues with `auto_requeue`. Returns the last callback's output, or `None` when
    /// cancelled before leading. Losing the session while queued just queues
    /// again; the error is returned only for failures a retry cannot fix
    /// (the client closed, no permission, ...).
    pub async fn run<F, Fut, T>(&self, mut lead: F) -> Result<Option<T>>
    where
        F: FnMut(Leadership) -> Fut,
        Fut: Future<Output = T>,
    {
        let rx = self.cancel.subscribe();
        let start = *rx.borrow();
        let mut cancel = CancelView { rx, start };
        let mut last = None;
        loop {
            let me = match self.acquire(&mut cancel).await? {
                Some(me) => me,
                None => return Ok(last),
            };
            let out = self.lead(&me, &mut lead, &mut cancel).await;
            let _ = delete_node(&self.client, &me.path).await;
            last = Some(out);
            if !self.auto_requeue || cancel.is_set() {
                return Ok(last);
            }
        }
    }

    /// Stops every `run` in progress: a queued contender leaves the queue, a
    /// leader's [`Leadership::lost`] resolves with [`LossReason::Cancelled`].
    pub fn cancel(&self) {
        self.cancel.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// The identifiers of all contenders in queue order; the first leads.
    pub async fn contenders(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for name in queue(&self.client, &self.path, self.naming.kind(Role::Lock)).await? {
            let path = format!("{}/{name}", self.path);
            match retry(&self.client, || self.client.get_data(&path)).await {
                Ok((data, _)) => out.push(String::from_utf8_lossy(&data).into_owned()),
                Err(e) if e.code == Code::NoNode => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The current leader's identifier, if anyone leads.
    pub async fn leader(&self) -> Result<Option<String>> {
        Ok(self.contenders().await?.into_iter().next())
    }

    /// Queues up and waits until first; `None` when cancelled.
    async fn acquire(&self, cancel: &mut CancelView) -> Result<Option<Contender>> {
        let mut me: Option<Contender> = None;
        let result = loop {
            if cancel.is_set() {
                break Ok(None);
            }
            tokio::select! {
                r = until_connected(&self.client) => if let Err(e) = r { break Err(e) },
                _ = cancel.wait() => break Ok(None),
            }
            if let Some(stale) = me.take_if(|c| c.owner != self.client.session_id()) {
                // Its session is gone; the server deletes it soon, we do at once.
                let _ = delete_node(&self.client, &stale.path).await;
            }
            let c = match &me {
                Some(c) => c.clone(),
                None => match enter_queue(
                    &self.client,
                    &self.path,
                    &self.naming.node_name(Role::Lock),
                    self.identifier.as_bytes(),
                )
                .await
                {
                    Ok(c) => me.insert(c).clone(),
                    Err(e) if transient(&e) => {
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    Err(e) => break Err(e),
                },
            };
            let before = match place(&self.client, &self.path, &c.name, self.naming.kind(Role::Lock)).await {
                Ok(Place::First) => break Ok(Some(c)),
                Ok(Place::Behind(p)) => p,
                Ok(Place::Gone) => {
                    me = None;
                    continue;
                }
                Err(e) if transient(&e) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
                Err(e) => break Err(e),
            };
            let w = match self.client.get_data_w(&format!("{}/{before}", self.path)).await {
                Ok((_, _, w)) => w,
                Err(e) if e.code == Code::NoNode => continue,
                Err(e) if transient(&e) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
                Err(e) => break Err(e),
            };
            tokio::select! {
                _ = w => {}
                _ = cancel.wait() => {}
            }
        };
        if !matches!(result, Ok(Some(_))) {
            if let Some(c) = me {
                let _ = delete_node(&self.client, &c.path).await;
            }
        }
        result
    }

    /// Runs the callback beside a monitor that reports the loss of leadership.
    async fn lead<F, Fut, T>(&self, me: &Contender, lead: &mut F, cancel: &mut CancelView) -> T
    where
        F: FnMut(Leadership) -> Fut,
        Fut: Future<Output = T>,
    {
        let (loss_tx, loss_rx) = watch::channel(None);
        let leadership = Leadership { node: me.path.clone(), fencing_token: me.czxid, loss: loss_rx };
        let (done_tx, done_rx) = oneshot::channel();
        let body = async {
            let out = lead(leadership).await;
            let _ = done_tx.send(());
            out
        };
        let (out, ()) = tokio::join!(body, self.monitor(me, loss_tx, done_rx, cancel));
        out
    }

    /// Watches the connection, the node and the cancel switch until the
    /// callback is done; the first reason to stop leading is reported.
    async fn monitor(
        &self,
        me: &Contender,
        loss: watch::Sender<Option<LossReason>>,
        mut done: oneshot::Receiver<()>,
        cancel: &mut CancelView,
    ) {
        let lose = |r: LossReason| {
            loss.send_if_modified(|cur| {
                let first = cur.is_none();
                if first {
                    *cur = Some(r);
                }
                first
            });
        };
        let mut states = self.client.state_changes();
        if let Some(r) = loss_for_state(self.client.state()) {
            lose(r);
        }
        if self.client.session_id() != me.owner {
            lose(LossReason::SessionLost);
        }
        let mut node_watch: Option<OneshotWatch> = None;
        let mut arm = true;
        loop {
            if loss.borrow().is_some() {
                let _ = done.await;
                return;
            }
            if arm {
                arm = false;
                match self.client.get_data_w(&me.path).await {
                    Ok((_, _, w)) => node_watch = Some(w),
                    Err(e) if e.code == Code::NoNode => lose(LossReason::NodeDeleted),
                    // A lost connection shows up on the state stream.
                    Err(_) => {}
                }
                continue;
            }
            tokio::select! {
                _ = &mut done => return,
                s = states.recv() => match s {
                    Ok(s) => if let Some(r) = loss_for_state(s) { lose(r) },
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(r) = loss_for_state(self.client.state()) { lose(r) }
                    }
                    Err(broadcast::error::RecvError::Closed) => lose(LossReason::Closed),
                },
                ev = fired(&mut node_watch) => {
                    node_watch = None;
                    match (ev.event_type, ev.state) {
                        (EventType::NodeDeleted, _) => lose(LossReason::NodeDeleted),
                        (_, KeeperState::Expired) => lose(LossReason::SessionLost),
                        (_, KeeperState::Closed) => lose(LossReason::Closed),
                        _ => arm = true,
                    }
                }
                _ = cancel.wait() => lose(LossReason::Cancelled),
            }
        }
    }
}

/// A `run`'s view of the cancel switch: cancelled for good once the
/// generation moves past the one the run started with.
struct CancelView {
    rx: watch::Receiver<u64>,
    start: u64,
}

impl CancelView {
    fn is_set(&self) -> bool {
        *self.rx.borrow() != self.start
    }

    /// Resolves once cancelled (at once if already).
    async fn wait(&mut self) {
        let start = self.start;
        let _ = self.rx.wait_for(|g| *g != start).await;
    }
}

fn loss_for_state(s: State) -> Option<LossReason> {
    match s {
        State::Connected | State::Reconnected => None,
        // Read-only: writes (and so ownership checks) are impossible.
        State::Suspended | State::ReadOnly => Some(LossReason::Suspended),
        State::Lost => Some(LossReason::SessionLost),
        State::Closed => Some(LossReason::Closed),
    }
}

/// One of our own contender nodes.
#[derive(Clone, Debug)]
pub(crate) struct Contender {
    /// Full path of the node.
    pub path: String,
    /// Its last path segment.
    pub name: String,
    /// Its czxid (the fencing token).
    pub czxid: i64,
    /// The session that owns it; another session id means it is stale.
    pub owner: i64,
}

/// Where a contender stands in the queue.
pub(crate) enum Place {
    /// At the head.
    First,
    /// Behind this sibling (a name).
    Behind(String),
    /// Its node is gone.
    Gone,
}

/// Whether an error may go away after a reconnect (or with a new session).
pub(crate) fn transient(e: &Error) -> bool {
    e.is_retryable() || matches!(e.code, Code::SessionExpired | Code::SessionMoved)
}

/// Waits, however long it takes, until the client is connected; fails only
/// once the client is closed.
pub(crate) async fn until_connected(client: &Client) -> Result<()> {
    loop {
        match wait_connected(client, Duration::from_secs(3600)).await {
            Err(e) if e.code == Code::OperationTimeout => continue,
            other => return other,
        }
    }
}

/// Resolves with the watch's event; never resolves when there is no watch.
pub(crate) async fn fired(w: &mut Option<OneshotWatch>) -> WatchedEvent {
    match w {
        Some(w) => w.await,
        None => std::future::pending().await,
    }
}

/// Creates our ephemeral-sequential contender `parent/<name.prefix><seq>`
/// holding `data`; the name's fresh marker finds it again after a lost
/// reply, so that no orphan is left behind.
pub(crate) async fn enter_queue(client: &Client, parent: &str, name: &NodeName, data: &[u8]) -> Result<Contender> {
    loop {
        let path =
            protected_create(client, parent, &name.prefix, &name.marker, data, CreateMode::EphemeralSequential).await?;
        if let Some(stat) = retry(client, || client.exists(&path)).await? {
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            return Ok(Contender { path, name, czxid: stat.czxid, owner: stat.ephemeral_owner });
        }
        // It vanished with the session that made it: make another.
    }
}

/// The contender names under `parent` in queue order (an absent parent is an empty queue).
pub(crate) async fn queue(client: &Client, parent: &str, kind: &str) -> Result<Vec<String>> {
    let mut children = match retry(client, || client.get_children(parent)).await {
        Ok(c) => c,
        Err(e) if e.code == Code::NoNode => Vec::new(),
        Err(e) => return Err(e),
    };
    children.retain(|c| c.contains(kind) && sequence_of(c).is_some());
    sort_by_sequence(&mut children);
    Ok(children)
}

/// Where `name` stands in the queue under `parent`.
pub(crate) async fn place(client: &Client, parent: &str, name: &str, kind: &str) -> Result<Place> {
    let mut children = match client.get_children(parent).await {
        Ok(c) => c,
        Err(e) if e.code == Code::NoNode => return Ok(Place::Gone),
        Err(e) => return Err(e),
    };
    children.retain(|c| c.contains(kind) && sequence_of(c).is_some());
    sort_by_sequence(&mut children);
    Ok(match children.iter().position(|c| c == name) {
        None => Place::Gone,
        Some(0) => Place::First,
        Some(i) => Place::Behind(children[i - 1].clone()),
    })
}

/// Deletes `path`, waiting out connection loss; a missing node is fine.
/// Fails only when the client is closed or the server refuses.
pub(crate) async fn delete_node(client: &Client, path: &str) -> Result<()> {
    loop {
        match client.delete(path, None).await {
            Ok(()) => return Ok(()),
            Err(e) if e.code == Code::NoNode => return Ok(()),
            Err(e) if transient(&e) => {
                tokio::time::sleep(RETRY_PAUSE).await;
                until_connected(client).await?;
            }
            Err(e) => return Err(e),
        }
    }
}
