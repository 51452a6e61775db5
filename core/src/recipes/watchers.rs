//! kazoo's `DataWatch` and `ChildrenWatch`: a callback called with a node's
//! data (or its children) at once, then after every change, until it breaks,
//! the watch is stopped or dropped, or the client closes.
//!
//! Each keeps one one-shot watch set. It reads again after every reconnect,
//! so a change made while it was disconnected is not missed, and after a
//! lost session it sets its watch again in the new one. Callbacks run one at
//! a time, in the order of the changes, each on a thread of its own outside
//! the runtime: they may block (a binding taking its interpreter's lock and
//! calling the client through its blocking bridge, or `Handle::block_on`
//! with a handle taken beforehand).

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::client::{Client, Error, KeeperState, OneshotWatch, Result, State, WatchedEvent};
use crate::proto::{Code, Stat};

/// How long a watch waits before reading again after a read failed while connected.
const REREAD_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The name of the threads callbacks run on.
const CALLBACK_THREAD_NAME: &str = "corral-watch";

/// A watch's callback, boxed: called with the value (for a [`DataWatch`],
/// the node's data and Stat, `None` while it does not exist; for a
/// [`ChildrenWatch`], the children in the server's order) and the event
/// behind the call (`None` for the first call and for a reconnect's re-read).
/// [`ControlFlow::Break`] ends the watch.
pub type Callback<V> = Box<dyn FnMut(V, Option<WatchedEvent>) -> ControlFlow<()> + Send>;

/// kazoo's `DataWatch`: calls back with the node's data and Stat at once,
/// then whenever its data changes, it is deleted or it is created (`None`
/// while it does not exist: the watch waits for its creation).
///
/// As kazoo, it calls back only when the node's `mzxid` moved, so a re-read
/// after a reconnect that finds nothing new stays silent. It lives across
/// reconnects and lost sessions, until the callback returns
/// [`ControlFlow::Break`], [`stop`](Watch::stop) or drop, or the client closes.
/// `DataWatch::start` returns once the first call has returned; a panic in
/// that call comes out of `start`, a later one is logged and ends the watch.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::ops::ControlFlow;
/// use corral::client::{Client, CreateOptions};
/// use corral::recipes::watchers::DataWatch;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let (seen, mut calls) = tokio::sync::mpsc::unbounded_channel();
/// let watch = DataWatch::start(&client, "/config", move |node, _event| {
///     let data = node.map(|(data, _stat)| data);
///     let last = data.as_deref() == Some(&b"v2"[..]);
///     let _ = seen.send(data);
///     if last { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
/// })
/// .await?;
/// assert_eq!(calls.recv().await, Some(None), "called at once: no node yet");
///
/// client.create("/config", b"v1", &CreateOptions::default()).await?;
/// assert_eq!(calls.recv().await, Some(Some(b"v1".to_vec())));
/// client.set_data("/config", b"v2", None).await?;
/// assert_eq!(calls.recv().await, Some(Some(b"v2".to_vec())));
/// assert_eq!(calls.recv().await, None, "the callback broke: the watch is over");
/// assert!(watch.is_stopped());
/// # Ok(())
/// # }
/// ```
pub type DataWatch = Watch<Data>;

impl Watch<Data> {
    /// Reads `path`, calls `callback` with what it found, and keeps calling
    /// it after every change. Fails when the first read fails for good
    /// (e.g. `NoAuth`) or the client closes first.
    pub async fn start<F>(client: &Client, path: &str, callback: F) -> Result<DataWatch>
    where
        F: FnMut(Option<(Vec<u8>, Stat)>, Option<WatchedEvent>) -> ControlFlow<()> + Send + 'static,
    {
        let target = DataTarget { last_mzxid: None };
        Watch::spawn(client, path, target, Box::new(callback)).await
    }
}

/// kazoo's `ChildrenWatch`: calls back with the node's children at once,
/// then after every change of them.
///
/// As kazoo, it stops when the node does not exist (at start: without a
/// call) or is deleted; after a reconnect it calls back only if the children
/// differ from the last ones it reported. It lives across reconnects and, from
/// `ChildrenWatch::start`, lost sessions (kazoo's `allow_session_lost=True`),
/// until the callback returns [`ControlFlow::Break`], [`stop`](Watch::stop)
/// or drop, or the client closes. Panics are treated as [`DataWatch`]'s.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::ops::ControlFlow;
/// use corral::client::{Client, CreateOptions};
/// use corral::recipes::watchers::ChildrenWatch;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// client.ensure_path("/members").await?;
/// let (seen, mut calls) = tokio::sync::mpsc::unbounded_channel();
/// let watch = ChildrenWatch::start(&client, "/members", move |children, _event| {
///     let _ = seen.send(children);
///     ControlFlow::Continue(())
/// })
/// .await?;
/// assert_eq!(calls.recv().await, Some(vec![]));
/// client.create("/members/alice", b"", &CreateOptions::default()).await?;
/// assert_eq!(calls.recv().await, Some(vec!["alice".to_string()]));
/// client.delete("/members/alice", None).await?;
/// assert_eq!(calls.recv().await, Some(vec![]));
/// client.delete("/members", None).await?;
/// assert_eq!(calls.recv().await, None, "the node is gone: the watch is over");
/// assert!(watch.is_stopped());
/// # Ok(())
/// # }
/// ```
pub type ChildrenWatch = Watch<Children>;

impl Watch<Children> {
    /// Reads the children of `path`, calls `callback` with them, and keeps
    /// calling it after every change, also in a new session after a lost one.
    pub async fn start<F>(client: &Client, path: &str, callback: F) -> Result<ChildrenWatch>
    where
        F: FnMut(Vec<String>, Option<WatchedEvent>) -> ControlFlow<()> + Send + 'static,
    {
        Self::start_with(client, path, true, Box::new(callback)).await
    }

    /// As `ChildrenWatch::start`, but the watch ends with the session
    /// (kazoo's `allow_session_lost=False`).
    pub async fn start_in_session<F>(client: &Client, path: &str, callback: F) -> Result<ChildrenWatch>
    where
        F: FnMut(Vec<String>, Option<WatchedEvent>) -> ControlFlow<()> + Send + 'static,
    {
        Self::start_with(client, path, false, Box::new(callback)).await
    }

    async fn start_with(
        client: &Client,
        path: &str,
        allow_session_lost: bool,
        callback: Callback<Vec<String>>,
    ) -> Result<ChildrenWatch> {
        let target = ChildrenTarget { prior: None, allow_session_lost };
        Watch::spawn(client, path, target, callback).await
    }
}

/// What a watch reads: a node's data, or its children.
trait Target: Send + 'static {
    type Value: Send + 'static;

    /// Reads the value and sets a one-shot watch; `None`: the watch is over.
    fn read(
        &self,
        client: &Client,
        path: &str,
    ) -> impl Future<Output = Result<Option<(Self::Value, OneshotWatch)>>> + Send;

    /// Whether `value` is news to the callback; `event` is the node event
    /// behind the read (`None` for the first read and a reconnect's).
    fn is_news(&mut self, value: &Self::Value, event: Option<&WatchedEvent>) -> bool;

    /// Whether the watch goes on in a new session after a lost one.
    fn survives_session_loss(&self) -> bool;
}

/// DataWatch's target.
struct DataTarget {
    /// The `mzxid` of the last call (`Some(None)`: the node was missing); `None` before the first.
    last_mzxid: Option<Option<i64>>,
}

impl Target for DataTarget {
    type Value = Option<(Vec<u8>, Stat)>;

    async fn read(&self, client: &Client, path: &str) -> Result<Option<(Self::Value, OneshotWatch)>> {
        loop {
            match client.get_data_w(path).await {
                Ok((data, stat, watch)) => return Ok(Some((Some((data, stat)), watch))),
                Err(e) if e.code == Code::NoNode => {
                    let (stat, watch) = client.exists_w(path).await?;
                    if stat.is_none() {
                        return Ok(Some((None, watch)));
                    }
                    // Created in between: read its data (with a data watch).
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn is_news(&mut self, value: &Self::Value, _event: Option<&WatchedEvent>) -> bool {
        let mzxid = value.as_ref().map(|(_, stat)| stat.mzxid);
        self.last_mzxid.replace(mzxid) != Some(mzxid)
    }

    fn survives_session_loss(&self) -> bool {
        true
    }
}

/// ChildrenWatch's target.
struct ChildrenTarget {
    /// The children of the last call, sorted; `None` before the first.
    prior: Option<Vec<String>>,
    /// kazoo's `allow_session_lost`.
    allow_session_lost: bool,
}

impl Target for ChildrenTarget {
    type Value = Vec<String>;

    async fn read(&self, client: &Client, path: &str) -> Result<Option<(Self::Value, OneshotWatch)>> {
        match client.get_children_w(path).await {
            Ok((children, _, watch)) => Ok(Some((children, watch))),
            Err(e) if e.code == Code::NoNode => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn is_news(&mut self, value: &Self::Value, event: Option<&WatchedEvent>) -> bool {
        let mut sorted = value.clone();
        sorted.sort();
        // As kazoo: every node event calls back; a re-read only when something moved.
        let news = event.is_some() || self.prior.as_ref() != Some(&sorted);
        self.prior = Some(sorted);
        news
    }

    fn survives_session_loss(&self) -> bool {
        self.allow_session_lost
    }
}

/// How a watch's task ended.
enum Ended {
    /// Broken by the callback, stopped by its target, or its session gone.
    Stopped,
    /// The client closed.
    Closed,
    /// A read failed for good.
    Failed(Error),
    /// The callback panicked.
    Panicked(Box<dyn Any + Send>),
}

/// What `start` hears from the task: `Ok` once the first call returned.
type FirstCall = std::result::Result<(), Ended>;

/// A running watch: [`DataWatch`] or [`ChildrenWatch`] (`K` says which).
/// Dropping it stops the watch, unless it was [detached](Watch::detach).
#[derive(Debug)]
pub struct Watch<K> {
    /// Set when the watch ends (or is asked to); checked before every call.
    stopped: Arc<AtomicBool>,
    /// The task; `None` once detached.
    task: Option<JoinHandle<()>>,
    /// Which kind of watch this is.
    kind: PhantomData<K>,
}

/// The kind of a [`DataWatch`].
#[derive(Debug)]
pub enum Data {}

/// The kind of a [`ChildrenWatch`].
#[derive(Debug)]
pub enum Children {}

impl<K> Watch<K> {
    /// Starts the task and waits for the first call to return.
    async fn spawn<T: Target>(
        client: &Client,
        path: &str,
        target: T,
        callback: Callback<T::Value>,
    ) -> Result<Watch<K>> {
        let stopped = Arc::new(AtomicBool::new(false));
        // Subscribed before the first read, so no state change in between is missed.
        let states = client.state_changes();
        let (first_tx, first_rx) = oneshot::channel();
        let engine = Engine {
            client: client.clone(),
            path: path.to_string(),
            target,
            callback: Some(callback),
            stopped: stopped.clone(),
        };
        // Built before waiting: if `start` is dropped half-way, so is the task.
        let watch = Watch { stopped, task: Some(tokio::spawn(engine.run(states, first_tx))), kind: PhantomData };
        match first_rx.await {
            // Started, or stopped by the first call or a missing node: a watch either way.
            Ok(Ok(()) | Err(Ended::Stopped)) => Ok(watch),
            Ok(Err(Ended::Failed(e))) => Err(e),
            Ok(Err(Ended::Panicked(payload))) => std::panic::resume_unwind(payload),
            Ok(Err(Ended::Closed)) | Err(_) => Err(Error::new(Code::ConnectionLoss)),
        }
    }

    /// Stops the watch: once this returns no call starts (one under way finishes).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// Whether the watch has ended: stopped, broken by its callback, the
    /// client closed; a [`ChildrenWatch`] also when its node went or, without
    /// `allow_session_lost`, its session.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Lets the watch run on without this handle, until its callback breaks
    /// or the client closes (kazoo's watches live that long; bindings whose
    /// objects the garbage collector frees use this).
    pub fn detach(mut self) {
        self.task = None;
    }
}

impl<K> Drop for Watch<K> {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.stop();
        }
    }
}

/// Marks the watch stopped when its task ends, also when aborted.
struct StopOnExit(Arc<AtomicBool>);

impl Drop for StopOnExit {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn is_connected(s: State) -> bool {
    matches!(s, State::Connected | State::Reconnected | State::ReadOnly)
}

async fn fired(watch: &mut Option<OneshotWatch>) -> WatchedEvent {
    match watch {
        Some(w) => w.await,
        None => std::future::pending().await,
    }
}

/// One watch's state, owned by its task.
struct Engine<T: Target> {
    /// Reads with it and follows its connection states.
    client: Client,
    /// The watched node.
    path: String,
    /// What to read and when a value is worth a call.
    target: T,
    /// Moved onto the blocking pool for each call and back; `None` only meanwhile.
    callback: Option<Callback<T::Value>>,
    /// Shared with the handle: asked to stop, or ended.
    stopped: Arc<AtomicBool>,
}

impl<T: Target> Engine<T> {
    /// Runs the watch; `first` hears `Ok` once the first call returned, or
    /// how the watch ended before that.
    async fn run(mut self, states: broadcast::Receiver<State>, first: oneshot::Sender<FirstCall>) {
        let _mark = StopOnExit(self.stopped.clone());
        let mut first = Some(first);
        let ended = self.watch(states, &mut first).await;
        // Before anyone hears of the end: a `start` that returns sees it stopped.
        self.stopped.store(true, Ordering::SeqCst);
        match (first, ended) {
            (Some(first), ended) => {
                let _ = first.send(Err(ended));
            }
            (None, Ended::Failed(e)) => {
                tracing::warn!(path = %self.path, error = %e, "watch ended: a read failed")
            }
            (None, Ended::Panicked(_)) => {
                tracing::error!(path = %self.path, "watch ended: its callback panicked")
            }
            (None, Ended::Stopped | Ended::Closed) => {}
        }
    }

    async fn watch(
        &mut self,
        mut states: broadcast::Receiver<State>,
        first: &mut Option<oneshot::Sender<FirstCall>>,
    ) -> Ended {
        // `Some(event)`: a read is due, for that node event (`None`: first read or reconnect).
        let mut due: Option<Option<WatchedEvent>> = Some(None);
        let mut watch: Option<OneshotWatch> = None;
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return Ended::Stopped;
            }
            if due.is_some() && (first.is_some() || is_connected(self.client.state())) {
                let event = due.take().flatten();
                match self.target.read(&self.client, &self.path).await {
                    Ok(Some((value, w))) => {
                        // The watch the last read set is replaced; dropped, it is not set again on a reconnect.
                        watch = Some(w);
                        if self.target.is_news(&value, event.as_ref()) {
                            match self.call(value, event).await {
                                Ok(ControlFlow::Continue(())) => {}
                                Ok(ControlFlow::Break(())) => return Ended::Stopped,
                                Err(ended) => return ended,
                            }
                        }
                        if let Some(f) = first.take() {
                            let _ = f.send(Ok(()));
                        }
                    }
                    Ok(None) => return Ended::Stopped,
                    Err(e) if e.is_retryable() || e.code == Code::SessionExpired => due = Some(event),
                    Err(e) => return Ended::Failed(e),
                }
            }
            let retry = due.is_some() && is_connected(self.client.state());
            tokio::select! {
                ev = fired(&mut watch) => {
                    watch = None;
                    match ev.state {
                        KeeperState::SyncConnected => due = Some(Some(ev)),
                        KeeperState::Expired if self.target.survives_session_loss() => {
                            due.get_or_insert(None);
                        }
                        KeeperState::Expired => return Ended::Stopped,
                        KeeperState::Closed => return Ended::Closed,
                    }
                }
                st = states.recv() => match st {
                    Ok(State::Connected | State::Reconnected | State::ReadOnly) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        due.get_or_insert(None);
                    }
                    Ok(State::Lost) if !self.target.survives_session_loss() => return Ended::Stopped,
                    Ok(State::Lost | State::Suspended) => {}
                    Ok(State::Closed) | Err(broadcast::error::RecvError::Closed) => return Ended::Closed,
                },
                _ = tokio::time::sleep(REREAD_RETRY_DELAY), if retry => {}
            }
        }
    }

    /// Calls the callback on a thread of its own, outside the runtime: it
    /// may block, also on a blocking bridge that refuses runtime threads.
    async fn call(
        &mut self,
        value: T::Value,
        event: Option<WatchedEvent>,
    ) -> std::result::Result<ControlFlow<()>, Ended> {
        let Some(mut callback) = self.callback.take() else {
            return Ok(ControlFlow::Break(()));
        };
        let stopped = self.stopped.clone();
        let (done_tx, done_rx) = oneshot::channel();
        let spawned = std::thread::Builder::new().name(CALLBACK_THREAD_NAME.to_string()).spawn(move || {
            // Checked on the calling thread: after stop() returned, no call starts.
            let flow = if stopped.load(Ordering::SeqCst) {
                Ok(ControlFlow::Break(()))
            } else {
                std::panic::catch_unwind(AssertUnwindSafe(|| callback(value, event)))
            };
            let _ = done_tx.send((callback, flow));
        });
        if let Err(e) = spawned {
            tracing::error!(path = %self.path, error = %e, "watch ended: no thread for its callback");
            return Err(Ended::Failed(Error::at(Code::SystemError, self.path.clone())));
        }
        match done_rx.await {
            Ok((callback, Ok(flow))) => {
                self.callback = Some(callback);
                Ok(flow)
            }
            Ok((_, Err(payload))) => Err(Ended::Panicked(payload)),
            // The thread always answers; only a dying process gets here.
            Err(_) => Ok(ControlFlow::Break(())),
        }
    }
}
