//! Splitting a set of items among the members of a party, following kazoo's
//! `SetPartitioner`: its layout, its split and its states, so corral and
//! kazoo workers can share one partitioned set.
//!
//! - Members join a [`ShallowParty`] at `<path>/party` (nodes
//!   `<uuidhex>-<identifier>`); identifiers must be unique and valid in a
//!   node name.
//! - Once the membership has been stable for the *time boundary*, each member
//!   takes its share: items and member identifiers are both sorted, and the
//!   member at index `i` of `n` takes items `i, i+n, i+2n, ...`
//!   ([`partition`], kazoo's default `partition_func`).
//! - With locks (the default, as kazoo always does), each item of the share
//!   is locked before the share counts as acquired: a kazoo-style lock node
//!   `<path>/locks/<item>/<uuidhex>__lock__<seq>`. A member still holding an
//!   item it must give up thus keeps the new owner waiting until it releases:
//!   no item is ever held twice. Item names must be valid node names.
//!
//! States: [`PartitionState::Allocating`] → `Acquired` (the share is held) →
//! `Release` (membership changed, or the connection was suspended: call
//! [`SetPartitioner::release_set`]) → `Allocating` again. Session loss ends in
//! `Failure`, as in kazoo: the partitioner must then be created anew.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::election::{delete_node, fired, place, transient, until_connected, Place};
use super::party::ShallowParty;
use super::util::{protected_create, uuid};
use crate::client::{Client, Error, OneshotWatch, Result, State};
use crate::proto::{Code, CreateMode};

/// kazoo's marker in lock node names.
const LOCK_NAME: &str = "__lock__";
/// Pause after a failed call before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// kazoo's `PartitionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionState {
    /// Waiting for the membership to settle, then taking the share.
    Allocating,
    /// The share is held.
    Acquired,
    /// The share must be given up: call [`SetPartitioner::release_set`].
    Release,
    /// Finished, or the session was lost; the partitioner is unusable.
    Failure,
}

/// kazoo's split: the share of `identifier` among `members` — sorted items,
/// sorted members, round-robin from the member's index. Empty when
/// `identifier` is not a member.
pub fn partition(identifier: &str, members: &[String], items: &[String]) -> Vec<String> {
    let mut workers: Vec<&String> = members.iter().collect();
    workers.sort();
    let mut all: Vec<&String> = items.iter().collect();
    all.sort();
    match workers.iter().position(|w| *w == identifier) {
        Some(i) => all.into_iter().skip(i).step_by(workers.len()).cloned().collect(),
        None => Vec::new(),
    }
}

/// A split of the items: `(identifier, members, items) -> share`, called
/// with the sorted member identifiers and the items as given; the share
/// should hold only items of the set (others are ignored).
pub type PartitionFn = Arc<dyn Fn(&str, &[String], &[String]) -> Vec<String> + Send + Sync>;

/// What the owner asks of the task.
enum Cmd {
    Release(oneshot::Sender<()>),
    Finish(oneshot::Sender<()>),
}

/// How to set up a [`SetPartitioner`].
pub struct SetPartitionerBuilder {
    client: Client,
    path: String,
    items: Vec<String>,
    identifier: String,
    time_boundary: Duration,
    locks: bool,
    split: PartitionFn,
}

impl SetPartitionerBuilder {
    /// Splits the set with `split` instead of [`partition`] (kazoo's
    /// `partition_func`); every member must use the same split, or shares overlap
    /// (their locks still keep an item from being held twice).
    pub fn partition_fn(mut self, split: PartitionFn) -> Self {
        self.split = split;
        self
    }

    /// How long the membership must stay unchanged before shares are taken
    /// (kazoo's `time_boundary`; default 30 s).
    pub fn time_boundary(mut self, t: Duration) -> Self {
        self.time_boundary = t;
        self
    }

    /// Whether to lock each item of the share (default true).
    pub fn locks(mut self, yes: bool) -> Self {
        self.locks = yes;
        self
    }

    /// Joins the party and starts allocating in the background.
    pub async fn start(self) -> Result<SetPartitioner> {
        let party = ShallowParty::new(&self.client, &format!("{}/party", self.path), &self.identifier);
        party.join().await?;
        let (status_tx, status) = watch::channel((PartitionState::Allocating, Vec::new()));
        let (cmds_tx, cmds) = mpsc::unbounded_channel();
        let task = Task {
            states: self.client.state_changes(),
            client: self.client,
            party,
            path: self.path,
            items: self.items,
            identifier: self.identifier,
            time_boundary: self.time_boundary,
            locks: self.locks,
            split: self.split,
            cmds,
            status: status_tx,
            held: Vec::new(),
        };
        Ok(SetPartitioner { status, cmds: cmds_tx, task: Some(tokio::spawn(task.run())) })
    }
}

/// A member's share of a set of items (kazoo's `SetPartitioner`).
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::recipes::partitioner::{PartitionState, SetPartitioner};
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let items: Vec<String> = ["q1", "q2", "q3"].map(String::from).to_vec();
/// let worker = SetPartitioner::builder(&client, "/app/queues", &items, "worker-1")
///     .time_boundary(Duration::from_millis(200))
///     .start()
///     .await?;
/// assert_eq!(worker.wait_for_acquire().await, PartitionState::Acquired);
/// assert_eq!(worker.partitions(), items, "the only member takes everything");
/// worker.finish().await;
/// # Ok(()) }
/// ```
pub struct SetPartitioner {
    status: watch::Receiver<(PartitionState, Vec<String>)>,
    cmds: mpsc::UnboundedSender<Cmd>,
    task: Option<JoinHandle<()>>,
}

impl SetPartitioner {
    /// A partitioner of `items` under `path` for the member `identifier`.
    pub fn builder(client: &Client, path: &str, items: &[String], identifier: &str) -> SetPartitionerBuilder {
        SetPartitionerBuilder {
            client: client.clone(),
            path: path.trim_end_matches('/').to_string(),
            items: items.to_vec(),
            identifier: identifier.to_string(),
            time_boundary: Duration::from_secs(30),
            locks: true,
            split: Arc::new(partition),
        }
    }

    /// The current state.
    pub fn state(&self) -> PartitionState {
        self.status.borrow().0
    }

    /// The share: the items held while `Acquired` (still listed during
    /// `Release`, until released), sorted.
    pub fn partitions(&self) -> Vec<String> {
        self.status.borrow().1.clone()
    }

    /// Waits while allocating; returns the state reached.
    pub async fn wait_for_acquire(&self) -> PartitionState {
        self.wait_for_change(PartitionState::Allocating).await
    }

    /// Waits until the state is no longer `from`; returns the new state.
    pub async fn wait_for_change(&self, from: PartitionState) -> PartitionState {
        let mut rx = self.status.clone();
        let reached = rx.wait_for(|(s, _)| *s != from).await.map(|s| s.0);
        reached.unwrap_or(PartitionState::Failure)
    }

    /// Gives up the share (its locks) and starts allocating again.
    pub async fn release_set(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        if self.cmds.send(Cmd::Release(tx)).is_err() {
            return Err(Error::new(Code::ConnectionLoss));
        }
        rx.await.map_err(|_| Error::new(Code::ConnectionLoss))
    }

    /// Releases the share, leaves the party and ends in `Failure`.
    pub async fn finish(mut self) {
        let (tx, rx) = oneshot::channel();
        if self.cmds.send(Cmd::Finish(tx)).is_ok() {
            let _ = rx.await;
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// What woke the task.
enum Wake {
    /// The first or second watch fired.
    Watch(usize),
    Cmd(Cmd),
    State(State),
    Timer,
    /// The owner or the client went away.
    Gone,
}

/// Why allocation stopped.
enum Stop {
    /// The owner asked to finish.
    Finish(oneshot::Sender<()>),
    /// Session lost, client closed, owner gone, or a hard error.
    Fail,
}

/// What an attempt to lock an item ended with.
enum Locking {
    Locked,
    /// The membership changed meanwhile.
    Abort,
    Stop(Stop),
}

/// The background allocator of one member.
struct Task {
    client: Client,
    party: ShallowParty,
    path: String,
    items: Vec<String>,
    identifier: String,
    time_boundary: Duration,
    locks: bool,
    split: PartitionFn,
    cmds: mpsc::UnboundedReceiver<Cmd>,
    states: broadcast::Receiver<State>,
    status: watch::Sender<(PartitionState, Vec<String>)>,
    /// Paths of the lock nodes held.
    held: Vec<String>,
}

impl Task {
    async fn run(mut self) {
        let stop = self.allocate().await;
        self.release_locks().await;
        let limit = self.client.session_timeout().max(Duration::from_secs(1));
        let _ = tokio::time::timeout(limit, self.party.leave()).await;
        self.status.send_replace((PartitionState::Failure, Vec::new()));
        if let Stop::Finish(ack) = stop {
            let _ = ack.send(());
        }
    }

    /// Publishes a new state and share; the same again is no change.
    fn set(&self, state: PartitionState, share: Vec<String>) {
        self.status.send_if_modified(|now| {
            let changed = now.0 != state || now.1 != share;
            if changed {
                *now = (state, share);
            }
            changed
        });
    }

    async fn wake(
        &mut self,
        a: &mut Option<OneshotWatch>,
        b: &mut Option<OneshotWatch>,
        timer: Option<Instant>,
    ) -> Wake {
        tokio::select! {
            _ = fired(a) => { *a = None; Wake::Watch(0) }
            _ = fired(b) => { *b = None; Wake::Watch(1) }
            c = self.cmds.recv() => c.map(Wake::Cmd).unwrap_or(Wake::Gone),
            s = self.states.recv() => match s {
                Ok(s) => Wake::State(s),
                Err(broadcast::error::RecvError::Lagged(_)) => Wake::State(self.client.state()),
                Err(broadcast::error::RecvError::Closed) => Wake::Gone,
            },
            _ = async { match timer { Some(t) => tokio::time::sleep_until(t).await, None => std::future::pending().await } } => Wake::Timer,
        }
    }

    /// Handles what every waiting point handles alike; `Some` ends allocation.
    fn common(&self, wake: Wake) -> Option<Stop> {
        match wake {
            Wake::Cmd(Cmd::Release(ack)) => {
                // Nothing more to give up than what the caller will re-take anyway.
                let _ = ack.send(());
                None
            }
            Wake::Cmd(Cmd::Finish(ack)) => Some(Stop::Finish(ack)),
            Wake::State(State::Lost | State::Closed) | Wake::Gone => Some(Stop::Fail),
            _ => None,
        }
    }

    async fn allocate(&mut self) -> Stop {
        let party_path = format!("{}/party", self.path);
        'alloc: loop {
            self.set(PartitionState::Allocating, Vec::new());
            // Wait for the membership to stay unchanged for the time boundary.
            let (children, mut members_w) = 'stable: loop {
                if !matches!(self.client.state(), State::Connected | State::Reconnected) {
                    let w = self.wake(&mut None, &mut None, None).await;
                    if let Some(stop) = self.common(w) {
                        return stop;
                    }
                    continue;
                }
                let (children, cw) = match self.client.get_children_w(&party_path).await {
                    Ok((c, _, w)) => (c, w),
                    Err(e) if transient(&e) => {
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(path = %self.path, error = %e, "partitioner: cannot read the party");
                        return Stop::Fail;
                    }
                };
                let mut cw = Some(cw);
                let deadline = Instant::now() + self.time_boundary;
                loop {
                    match self.wake(&mut cw, &mut None, Some(deadline)).await {
                        Wake::Timer => break 'stable (children, cw),
                        Wake::Watch(_) => continue 'stable,
                        w => {
                            if let Some(stop) = self.common(w) {
                                return stop;
                            }
                        }
                    }
                }
            };
            let members: Vec<String> =
                children.iter().filter_map(|c| c.split_once('-')).map(|(_, id)| id.to_string()).collect();
            if !members.contains(&self.identifier) {
                // Our member node went with a lost session.
                return Stop::Fail;
            }
            let mut sorted = members.clone();
            sorted.sort();
            let mut share = (self.split)(&self.identifier, &sorted, &self.items);
            share.retain(|item| self.items.contains(item));
            share.sort();
            share.dedup();
            if self.locks {
                for item in &share {
                    match self.lock(item, &mut members_w).await {
                        Locking::Locked => {}
                        Locking::Abort => {
                            self.release_locks().await;
                            continue 'alloc;
                        }
                        Locking::Stop(stop) => return stop,
                    }
                }
            }
            self.set(PartitionState::Acquired, share.clone());
            loop {
                match self.wake(&mut members_w, &mut None, None).await {
                    Wake::Watch(_) | Wake::State(State::Suspended | State::ReadOnly) => break,
                    Wake::Cmd(Cmd::Release(ack)) => {
                        self.release_locks().await;
                        // Moved on before the caller hears back: whoever
                        // waits for the next change never sees Release again.
                        self.set(PartitionState::Allocating, Vec::new());
                        let _ = ack.send(());
                        continue 'alloc;
                    }
                    w => {
                        if let Some(stop) = self.common(w) {
                            return stop;
                        }
                    }
                }
            }
            self.set(PartitionState::Release, share);
            loop {
                match self.wake(&mut None, &mut None, None).await {
                    Wake::Cmd(Cmd::Release(ack)) => {
                        self.release_locks().await;
                        // Moved on before the caller hears back: whoever
                        // waits for the next change never sees Release again.
                        self.set(PartitionState::Allocating, Vec::new());
                        let _ = ack.send(());
                        continue 'alloc;
                    }
                    w => {
                        if let Some(stop) = self.common(w) {
                            return stop;
                        }
                    }
                }
            }
        }
    }

    /// Takes the lock of one item, unless the membership changes first.
    async fn lock(&mut self, item: &str, members_w: &mut Option<OneshotWatch>) -> Locking {
        let item_path = format!("{}/locks/{item}", self.path);
        let marker = uuid().replace('-', "");
        let prefix = format!("{marker}{LOCK_NAME}");
        let data = self.identifier.clone().into_bytes();
        let node =
            match protected_create(&self.client, &item_path, &prefix, &marker, &data, CreateMode::EphemeralSequential)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(path = %item_path, error = %e, "partitioner: cannot lock");
                    return Locking::Stop(Stop::Fail);
                }
            };
        self.held.push(node.clone());
        let name = node.rsplit('/').next().unwrap_or_default().to_string();
        loop {
            let before = match place(&self.client, &item_path, &name, LOCK_NAME).await {
                Ok(Place::First) => return Locking::Locked,
                Ok(Place::Behind(b)) => b,
                Ok(Place::Gone) => return Locking::Stop(Stop::Fail),
                Err(e) if transient(&e) => {
                    if until_connected(&self.client).await.is_err() {
                        return Locking::Stop(Stop::Fail);
                    }
                    continue;
                }
                Err(_) => return Locking::Stop(Stop::Fail),
            };
            let mut w = match self.client.get_data_w(&format!("{item_path}/{before}")).await {
                Ok((_, _, w)) => Some(w),
                Err(e) if e.code == Code::NoNode || transient(&e) => continue,
                Err(_) => return Locking::Stop(Stop::Fail),
            };
            match self.wake(&mut w, members_w, None).await {
                Wake::Watch(0) => {}
                Wake::Watch(_) => return Locking::Abort,
                wake => {
                    if let Some(stop) = self.common(wake) {
                        return Locking::Stop(stop);
                    }
                }
            }
        }
    }

    async fn release_locks(&mut self) {
        let limit = self.client.session_timeout().max(Duration::from_secs(1));
        for path in std::mem::take(&mut self.held) {
            let _ = tokio::time::timeout(limit, delete_node(&self.client, &path)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::partition;

    #[test]
    fn split_is_kazoos_round_robin() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let members = s(&["b", "a", "c"]);
        let items = s(&["5", "1", "4", "2", "3", "6", "7"]);
        assert_eq!(partition("a", &members, &items), s(&["1", "4", "7"]));
        assert_eq!(partition("b", &members, &items), s(&["2", "5"]));
        assert_eq!(partition("c", &members, &items), s(&["3", "6"]));
        assert!(partition("z", &members, &items).is_empty());
    }
}
