//! The contender machinery [`Lock`](super::lock::Lock),
//! [`ReadWriteLock`](super::rwlock::ReadWriteLock) and
//! [`Semaphore`](super::semaphore::Semaphore) share: one ephemeral-sequential
//! node per acquisition, ordered by its 10-digit sequence suffix; a waiter
//! watches one node at a time (no herd); a failed or abandoned acquisition
//! removes its node; and a held node is watched so that its holder learns when
//! ownership becomes unknown (Suspended) or ends (Lost).

use std::future::Future;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::util;
use crate::client::{Client, CreateOptions, Error, KeeperState, OneshotWatch, Result, State, WatchedEvent};
use crate::proto::{Code, CreateMode, EventType};

/// How long a background cleanup waits for a connection before it gives up
/// (the node then goes when its session ends).
const CLEANUP_WAIT: Duration = Duration::from_secs(30);
/// Pause before retrying after a lost connection: the reply may fail just
/// before the client reports the disconnect, and a retry must not spin.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// How a lock held through one value stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// Not held (never acquired, or released).
    Released,
    /// Held, and the session is connected: ownership is certain.
    Held,
    /// Held, but the connection is down (or only a read-only server answers):
    /// ownership is unknown until the session resumes or is lost. Pause any
    /// work that needs exclusion.
    Suspended,
    /// Ownership is gone: the session expired, the client was closed or the
    /// lock node was deleted. `release` resets the value.
    Lost,
}

/// What a contender does next, decided from the sorted contenders.
pub(crate) enum Turn {
    /// It holds the lock.
    Go,
    /// It waits until this contender (a child name) goes, then looks again.
    WaitFor(String),
}

/// A rule deciding a contender's turn: all contenders sorted by sequence, and
/// the index of ours among them.
pub(crate) type TurnRule = fn(&[String], usize) -> Turn;

/// The mutex rule: the first contender holds; each other waits for its predecessor.
pub(crate) fn first_in_line(names: &[String], ours: usize) -> Turn {
    match ours.checked_sub(1) {
        None => Turn::Go,
        Some(i) => Turn::WaitFor(names[i].clone()),
    }
}

/// A contender node's name before the sequence the server appends, and the
/// UUID in it that finds the node again after a lost reply.
pub(crate) struct NodeName {
    /// `_c_<uuid>-lock-` (Curator) or `<uuidhex>__lock__` (kazoo).
    pub prefix: String,
    /// The UUID part of `prefix`.
    pub marker: String,
}

impl NodeName {
    /// Curator's protected name `_c_<uuid>-<kind>`.
    pub(crate) fn curator(kind: &str) -> NodeName {
        let uuid = util::uuid();
        NodeName { prefix: format!("{}{kind}", util::protected_prefix(&uuid)), marker: uuid }
    }

    /// kazoo's name `<uuid as 32 hex digits><kind>`.
    pub(crate) fn kazoo(kind: &str) -> NodeName {
        let hex = util::uuid().replace('-', "");
        NodeName { prefix: format!("{hex}{kind}"), marker: hex }
    }
}

/// A created contender node.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Full path.
    pub path: String,
    /// Last path component.
    pub name: String,
    /// zxid of its create: the fencing token.
    pub czxid: i64,
    /// The session that owns it.
    pub session_id: i64,
}

impl Node {
    fn new(path: String, czxid: i64, session_id: i64) -> Node {
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        Node { path, name, czxid, session_id }
    }
}

/// The deadline error of the wait helpers; `acquire` turns it into `Ok(false)`.
fn timed_out() -> Error {
    Error::new(Code::OperationTimeout)
}

/// Whether `e` means the acquisition ran out of time.
pub(crate) fn deadline_passed(e: &Error, deadline: Option<Instant>) -> bool {
    e.code == Code::OperationTimeout && deadline.is_some_and(|d| Instant::now() >= d)
}

/// Waits for the next connection state change (or the deadline).
async fn next_change(changes: &mut broadcast::Receiver<State>, deadline: Option<Instant>) -> Result<()> {
    let r = match deadline {
        Some(d) => tokio::time::timeout_at(d, changes.recv()).await.map_err(|_| timed_out())?,
        None => changes.recv().await,
    };
    match r {
        Ok(_) | Err(RecvError::Lagged(_)) => Ok(()),
        Err(RecvError::Closed) => Err(Error::new(Code::ConnectionLoss)),
    }
}

/// Waits until the client is connected; returns its session id.
pub(crate) async fn connected(client: &Client, deadline: Option<Instant>) -> Result<i64> {
    let mut changes = client.state_changes();
    loop {
        match client.state() {
            State::Connected | State::Reconnected if client.session_id() != 0 => return Ok(client.session_id()),
            State::Closed => return Err(Error::new(Code::ConnectionLoss)),
            _ => {}
        }
        next_change(&mut changes, deadline).await?;
    }
}

/// Waits until the client is connected in `session` again; SessionExpired
/// when that session ended, ConnectionLoss when the client was closed.
pub(crate) async fn resumed(client: &Client, session: i64, deadline: Option<Instant>) -> Result<()> {
    let mut changes = client.state_changes();
    loop {
        match client.state() {
            State::Connected | State::Reconnected if client.session_id() == session => return Ok(()),
            State::Connected | State::Reconnected | State::Lost => return Err(Error::new(Code::SessionExpired)),
            State::Closed => return Err(Error::new(Code::ConnectionLoss)),
            State::Suspended | State::ReadOnly => {}
        }
        next_change(&mut changes, deadline).await?;
    }
}

/// How long a contender whose node vanished waits to hear whether its
/// session ended (see [`session_ended`]).
const SESSION_NEWS: Duration = Duration::from_secs(3);

/// Whether `session` has ended, for a contender whose ephemeral node is gone.
/// A server can answer a read on the old connection after it closed the
/// session (and dropped its ephemerals) but before the client hears of it:
/// so wait up to [`SESSION_NEWS`] for the news (a new or lost session). A
/// reconnect to the same session, or no news, means it lives: the node was
/// deleted by someone.
async fn session_ended(client: &Client, session: i64) -> bool {
    let mut changes = client.state_changes();
    let until = Instant::now() + SESSION_NEWS;
    loop {
        match client.state() {
            State::Lost | State::Closed => return true,
            State::Connected | State::Reconnected | State::ReadOnly if client.session_id() != session => return true,
            _ => {}
        }
        match tokio::time::timeout_at(until, changes.recv()).await {
            Err(_) => return false,
            Ok(Ok(State::Connected | State::Reconnected)) if client.session_id() == session => return false,
            Ok(Err(RecvError::Closed)) => return true,
            Ok(_) => {}
        }
    }
}

/// Runs `op` until it succeeds or fails for another reason than a lost
/// connection, as long as `session` lives.
pub(crate) async fn in_session<T, F, Fut>(
    client: &Client,
    session: i64,
    deadline: Option<Instant>,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    loop {
        match op().await {
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(RETRY_PAUSE).await;
                resumed(client, session, deadline).await?;
            }
            other => return other,
        }
    }
}

/// Waits for a one-shot watch (or the deadline); fails when the session ended.
pub(crate) async fn fired(watch: OneshotWatch, deadline: Option<Instant>, path: &str) -> Result<WatchedEvent> {
    let event = match deadline {
        Some(d) => tokio::time::timeout_at(d, watch).await.map_err(|_| timed_out())?,
        None => watch.await,
    };
    match event.state {
        KeeperState::SyncConnected => Ok(event),
        KeeperState::Expired => Err(Error::at(Code::SessionExpired, path)),
        KeeperState::Closed => Err(Error::at(Code::ConnectionLoss, path)),
    }
}

/// The children of `parent` that carry a sequence suffix, in sequence order.
pub(crate) async fn sorted_contenders(client: &Client, parent: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> =
        client.get_children(parent).await?.into_iter().filter(|n| util::sequence_of(n).is_some()).collect();
    util::sort_by_sequence(&mut names);
    Ok(names)
}

/// The child of `parent` carrying `marker`, with its Stat.
async fn find(client: &Client, parent: &str, marker: &str) -> Result<Option<Node>> {
    let children = match client.get_children(parent).await {
        Ok(c) => c,
        Err(e) if e.code == Code::NoNode => return Ok(None),
        Err(e) => return Err(e),
    };
    for child in children.into_iter().filter(|c| c.contains(marker)) {
        let path = format!("{parent}/{child}");
        if let Some(stat) = client.exists(&path).await? {
            return Ok(Some(Node::new(path, stat.czxid, stat.ephemeral_owner)));
        }
    }
    Ok(None)
}

/// Creates `parent/<prefix>` (`<prefix><seq>` when `mode` is sequential),
/// ephemeral, in the client's current session (parents as needed). After a lost reply it looks for its
/// marker before creating again, so a retry never leaves an orphan behind.
pub(crate) async fn create_node(
    client: &Client,
    parent: &str,
    name: &NodeName,
    mode: CreateMode,
    data: &[u8],
    deadline: Option<Instant>,
) -> Result<Node> {
    let session = connected(client, deadline).await?;
    let path = format!("{parent}/{}", name.prefix);
    let opts = CreateOptions::mode(mode);
    loop {
        match client.create_with_stat(&path, data, &opts).await {
            Ok((p, stat)) => return Ok(Node::new(p, stat.czxid, stat.ephemeral_owner)),
            Err(e) if e.code == Code::NoNode => {
                in_session(client, session, deadline, || client.ensure_path(parent)).await?
            }
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(RETRY_PAUSE).await;
                resumed(client, session, deadline).await?;
                if let Some(node) = in_session(client, session, deadline, || find(client, parent, &name.marker)).await?
                {
                    return Ok(node);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Waits until `rule` gives `node` its turn, watching one contender at a time.
pub(crate) async fn wait_turn(
    client: &Client,
    parent: &str,
    node: &Node,
    deadline: Option<Instant>,
    rule: TurnRule,
) -> Result<()> {
    let session = node.session_id;
    loop {
        let names = in_session(client, session, deadline, || sorted_contenders(client, parent)).await?;
        let Some(ours) = names.iter().position(|n| *n == node.name) else {
            let code = if session_ended(client, session).await { Code::SessionExpired } else { Code::NoNode };
            return Err(Error::at(code, &node.path));
        };
        let other = match rule(&names, ours) {
            Turn::Go => return Ok(()),
            Turn::WaitFor(other) => format!("{parent}/{other}"),
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(timed_out());
        }
        // getData, as kazoo does: a vanished node leaves no watch behind.
        match client.get_data_w(&other).await {
            Ok((_, _, watch)) => {
                fired(watch, deadline, &node.path).await?;
            }
            Err(e) if e.code == Code::NoNode => {}
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(RETRY_PAUSE).await;
                resumed(client, session, deadline).await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes `node`; waits out a disconnect while its session may live. When
/// the session is gone, a background task removes any remnant.
pub(crate) async fn remove_node(client: &Client, node: &Node) -> Result<()> {
    loop {
        match client.delete(&node.path, None).await {
            Ok(()) => return Ok(()),
            Err(e) if e.code == Code::NoNode => return Ok(()),
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(RETRY_PAUSE).await;
                if resumed(client, node.session_id, None).await.is_err() {
                    spawn_cleanup(client.clone(), String::new(), String::new(), Some(node.path.clone()));
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes the node at `path`, or else the child of `parent` carrying `marker`.
async fn delete_marked(client: &Client, parent: &str, marker: &str, path: Option<&str>) -> Result<()> {
    let path = match path {
        Some(p) => p.to_string(),
        None => match find(client, parent, marker).await? {
            Some(node) => node.path,
            None => return Ok(()),
        },
    };
    match client.delete(&path, None).await {
        Err(e) if e.code != Code::NoNode => Err(e),
        _ => Ok(()),
    }
}

/// Removes a node in the background, waiting up to [`CLEANUP_WAIT`] for a
/// connection (ephemeral nodes may be deleted from any session).
pub(crate) fn spawn_cleanup(client: Client, parent: String, marker: String, path: Option<String>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
    rt.spawn(async move {
        let deadline = Instant::now() + CLEANUP_WAIT;
        loop {
            match delete_marked(&client, &parent, &marker, path.as_deref()).await {
                Err(e) if e.is_retryable() && Instant::now() < deadline => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    let _ = util::wait_connected(&client, deadline.saturating_duration_since(Instant::now())).await;
                }
                _ => return,
            }
        }
    });
}

/// Removes the node of an acquisition that did not complete: explicitly
/// through [`Cleanup::run`], or in the background when the acquiring future
/// is dropped midway (the node may then exist without our knowing its path).
pub(crate) struct Cleanup {
    client: Client,
    parent: String,
    marker: String,
    path: Option<String>,
    armed: bool,
}

impl Cleanup {
    /// Guards the acquisition of a node named with `marker` under `parent`.
    pub(crate) fn new(client: &Client, parent: &str, marker: &str) -> Cleanup {
        Cleanup {
            client: client.clone(),
            parent: parent.to_string(),
            marker: marker.to_string(),
            path: None,
            armed: true,
        }
    }

    /// The node is known now.
    pub(crate) fn created(&mut self, path: &str) {
        self.path = Some(path.to_string());
    }

    /// The acquisition succeeded: keep the node.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// Removes the node now; finishes in the background if the server is unreachable.
    pub(crate) async fn run(mut self) {
        self.armed = false;
        if delete_marked(&self.client, &self.parent, &self.marker, self.path.as_deref()).await.is_err() {
            spawn_cleanup(self.client.clone(), self.parent.clone(), self.marker.clone(), self.path.clone());
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.armed {
            spawn_cleanup(self.client.clone(), self.parent.clone(), self.marker.clone(), self.path.take());
        }
    }
}

/// Which hold a state belongs to: `hold` counts acquisitions and releases.
#[derive(Clone, Copy, Debug)]
struct Status {
    hold: u64,
    state: LockState,
}

/// A lock held through one value.
struct Hold {
    node: Node,
    /// Re-entrant acquisitions not yet released.
    depth: usize,
    /// Follows the connection and the node while held.
    monitor: JoinHandle<()>,
}

/// One value's re-entrant participation in a lock at `parent`.
pub(crate) struct Contender {
    client: Client,
    parent: String,
    /// Data of each contender node (kazoo's identifier).
    data: Vec<u8>,
    /// Kind of each contender node: ephemeral sequential, or persistent
    /// sequential for kazoo's `acquire(ephemeral=False)`.
    mode: CreateMode,
    hold: Option<Hold>,
    /// The holder's view of its ownership, for `lost()` futures.
    status: watch::Sender<Status>,
}

impl Contender {
    /// Not yet contending for the lock at `parent`.
    pub(crate) fn new(client: &Client, parent: &str, data: Vec<u8>) -> Contender {
        let (status, _) = watch::channel(Status { hold: 0, state: LockState::Released });
        Contender {
            client: client.clone(),
            parent: parent.to_string(),
            data,
            mode: CreateMode::EphemeralSequential,
            hold: None,
            status,
        }
    }

    /// The lock path.
    pub(crate) fn parent(&self) -> &str {
        &self.parent
    }

    /// The client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Sets the data of future contender nodes.
    pub(crate) fn set_data(&mut self, data: Vec<u8>) {
        self.data = data;
    }

    /// Whether future contender nodes go with the session (the default) or
    /// stay until released.
    pub(crate) fn set_ephemeral(&mut self, ephemeral: bool) {
        self.mode = if ephemeral { CreateMode::EphemeralSequential } else { CreateMode::PersistentSequential };
    }

    /// The held node.
    pub(crate) fn node(&self) -> Option<&Node> {
        self.hold.as_ref().map(|h| &h.node)
    }

    /// Acquisitions not yet released.
    pub(crate) fn depth(&self) -> usize {
        self.hold.as_ref().map_or(0, |h| h.depth)
    }

    /// The holder's view, from the monitor and the client's current state.
    pub(crate) fn state(&self) -> LockState {
        let Some(h) = &self.hold else { return LockState::Released };
        let recorded = self.status.borrow().state;
        if recorded == LockState::Lost {
            return LockState::Lost;
        }
        match self.client.state() {
            State::Lost | State::Closed => LockState::Lost,
            State::Suspended | State::ReadOnly => LockState::Suspended,
            State::Connected | State::Reconnected if self.client.session_id() != h.node.session_id => LockState::Lost,
            State::Connected | State::Reconnected => recorded,
        }
    }

    /// Resolves when the current hold ends: `Lost`, or `Released` (also at once when not held).
    pub(crate) fn lost(&self) -> impl Future<Output = LockState> + Send + 'static {
        let mut rx = self.status.subscribe();
        let held = self.hold.is_some();
        let hold = rx.borrow().hold;
        async move {
            if !held {
                return LockState::Released;
            }
            let ended = rx.wait_for(|s| s.hold != hold || s.state == LockState::Lost).await.map(|s| *s);
            match ended {
                Ok(s) if s.hold == hold => LockState::Lost,
                _ => LockState::Released,
            }
        }
    }

    /// Nests when held; else joins the line with a node named `name` and
    /// waits for `rule` to give it its turn. `Ok(false)`: the deadline passed
    /// first (the node is removed again).
    pub(crate) async fn acquire(&mut self, name: NodeName, deadline: Option<Instant>, rule: TurnRule) -> Result<bool> {
        let state = self.state();
        if let Some(h) = &mut self.hold {
            if state == LockState::Lost {
                return Err(Error::at(Code::SessionExpired, &h.node.path));
            }
            h.depth += 1;
            return Ok(true);
        }
        // Subscribed before the node exists, so the monitor misses no change.
        let states = self.client.state_changes();
        let mut cleanup = Cleanup::new(&self.client, &self.parent, &name.marker);
        let outcome = async {
            let node = create_node(&self.client, &self.parent, &name, self.mode, &self.data, deadline).await?;
            cleanup.created(&node.path);
            wait_turn(&self.client, &self.parent, &node, deadline, rule).await?;
            Ok(node)
        }
        .await;
        match outcome {
            Ok(node) => {
                cleanup.disarm();
                let hold = self.status.borrow().hold + 1;
                self.status.send_replace(Status { hold, state: LockState::Held });
                let monitor =
                    tokio::spawn(monitor(self.client.clone(), node.clone(), self.status.clone(), hold, states));
                self.hold = Some(Hold { node, depth: 1, monitor });
                Ok(true)
            }
            Err(e) => {
                cleanup.run().await;
                if deadline_passed(&e, deadline) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Undoes one acquisition; the last one deletes the node. Fails with
    /// SessionExpired when the hold had been lost (the value is reset all
    /// the same), BadArguments when not held.
    pub(crate) async fn release(&mut self) -> Result<()> {
        let state = self.state();
        let Some(h) = &mut self.hold else {
            return Err(Error::at(Code::BadArguments, &self.parent));
        };
        let result = if state == LockState::Lost { Err(Error::at(Code::SessionExpired, &h.node.path)) } else { Ok(()) };
        if h.depth > 1 {
            h.depth -= 1;
            return result;
        }
        let Some(h) = self.hold.take() else { return result };
        h.monitor.abort();
        self.status.send_modify(|s| {
            s.hold += 1;
            s.state = LockState::Released;
        });
        remove_node(&self.client, &h.node).await?;
        result
    }
}

impl Drop for Contender {
    fn drop(&mut self) {
        if let Some(h) = self.hold.take() {
            h.monitor.abort();
            spawn_cleanup(self.client.clone(), String::new(), String::new(), Some(h.node.path));
        }
    }
}

/// Follows a hold: Suspended while disconnected, Held again once the session
/// resumes and the node is still there, Lost when the session ends or the
/// node is deleted.
async fn monitor(
    client: Client,
    node: Node,
    status: watch::Sender<Status>,
    hold: u64,
    mut states: broadcast::Receiver<State>,
) {
    let set = |state: LockState| {
        status.send_if_modified(|s| {
            let change = s.hold == hold && s.state != LockState::Lost && s.state != state;
            if change {
                s.state = state;
            }
            change
        });
    };
    let mut watch: Option<OneshotWatch> = None;
    loop {
        match client.state() {
            State::Lost | State::Closed => return set(LockState::Lost),
            State::Suspended | State::ReadOnly => set(LockState::Suspended),
            State::Connected | State::Reconnected if client.session_id() != node.session_id => {
                return set(LockState::Lost)
            }
            State::Connected | State::Reconnected => match &watch {
                // The client re-registered the watch on resume; it fires if the node went meanwhile.
                Some(_) => set(LockState::Held),
                None => match client.exists_w(&node.path).await {
                    Ok((Some(_), w)) => {
                        watch = Some(w);
                        set(LockState::Held);
                    }
                    Ok((None, _)) => return set(LockState::Lost),
                    // A lost connection: the state stream says what comes next.
                    Err(_) => {}
                },
            },
        }
        let woke = tokio::select! {
            event = async {
                match watch.as_mut() {
                    Some(w) => w.await,
                    None => std::future::pending().await,
                }
            } => Some(event),
            changed = states.recv() => match changed {
                Err(RecvError::Closed) => return set(LockState::Lost),
                _ => None,
            },
        };
        if let Some(event) = woke {
            watch = None;
            if event.state != KeeperState::SyncConnected || event.event_type == EventType::NodeDeleted {
                return set(LockState::Lost);
            }
        }
    }
}
