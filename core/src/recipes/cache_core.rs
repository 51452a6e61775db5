//! The engine behind [`NodeCache`](super::node_cache::NodeCache),
//! [`PathChildrenCache`](super::children_cache::PathChildrenCache) and
//! [`TreeCache`](super::tree_cache::TreeCache): a background task that mirrors
//! a subtree (down to a maximum depth) into memory and reports every change.
//!
//! It keeps the mirror live with one persistent recursive watch where the
//! server supports it, or else with one-shot data and child watches on every
//! cached node. Whatever an event says, the engine answers it by reading the
//! node again, so late or reordered notifications never leave a stale entry.
//! After a reconnect it reads the whole subtree again; after the session is
//! lost it also sets its watches again.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::tree_cache::{ChildData, TreeCacheEvent};
use super::util::wait_connected;
use crate::client::{Client, KeeperState, OneshotWatch, Result, State, WatchStream, WatchedEvent};
use crate::proto::{AddWatchMode, Code, EventType};

/// How long the engine waits before reading the subtree again after a read failed.
const RESYNC_RETRY_DELAY: Duration = Duration::from_millis(100);
/// How long the initial load waits for a connection before giving up.
const LOAD_CONNECT_WAIT: Duration = Duration::from_secs(60);

/// Where change events go (each cache maps them to its own event type).
pub(crate) type Sink = Box<dyn Fn(TreeCacheEvent) + Send + Sync>;

/// What to mirror and how.
pub(crate) struct CacheConfig {
    /// The root of the mirrored subtree.
    pub path: String,
    /// 0: the root only; 1: the root and its children; and so on.
    pub max_depth: usize,
    /// Try a persistent recursive watch first (falls back to one-shot watches
    /// when the server refuses it).
    pub recursive: bool,
}

/// The state a cache handle shares with its engine task.
#[derive(Default)]
pub(crate) struct CacheCore {
    /// Full path → data and Stat of every cached node.
    nodes: Arc<Mutex<BTreeMap<String, ChildData>>>,
    /// Whether the engine currently relies on a persistent recursive watch.
    recursive: Arc<AtomicBool>,
    /// Set by the first `start`, so a second one does nothing.
    started: AtomicBool,
    /// The engine task; aborted by `close` and on drop.
    task: Mutex<Option<JoinHandle<()>>>,
}

impl CacheCore {
    /// Loads the subtree (emitting an added event per node, then
    /// `Initialized`) and starts the task that keeps it live.
    pub(crate) async fn start(&self, client: &Client, cfg: CacheConfig, sink: Sink) -> Result<()> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // Subscribed before the load so no state change in between is missed.
        let states = client.state_changes();
        let (fired_tx, fired_rx) = mpsc::unbounded_channel();
        let mut engine = Engine {
            client: client.clone(),
            recursive_wanted: cfg.recursive,
            cfg,
            nodes: self.nodes.clone(),
            recursive: self.recursive.clone(),
            sink,
            data_armed: HashSet::new(),
            child_armed: HashSet::new(),
            epoch: 0,
            fired_tx,
            fired_rx,
            stream: None,
        };
        if let Err(e) = engine.load().await {
            self.started.store(false, Ordering::SeqCst);
            return Err(e);
        }
        *self.task.lock() = Some(tokio::spawn(engine.run(states)));
        Ok(())
    }

    /// Stops the engine; the mirror keeps its last content.
    pub(crate) fn close(&self) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }

    /// The cached node at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<ChildData> {
        self.nodes.lock().get(path).cloned()
    }

    /// The cached children of `path` by name, or `None` when `path` is not cached.
    pub(crate) fn children(&self, path: &str) -> Option<BTreeMap<String, ChildData>> {
        let nodes = self.nodes.lock();
        nodes.get(path)?;
        Some(direct_children(&nodes, path).into_iter().map(|(name, d)| (name.to_string(), d.clone())).collect())
    }

    /// Whether a persistent recursive watch keeps the mirror live.
    pub(crate) fn uses_recursive_watch(&self) -> bool {
        self.recursive.load(Ordering::SeqCst)
    }
}

impl Drop for CacheCore {
    fn drop(&mut self) {
        self.close();
    }
}

/// `parent/name`, also for the root.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The prefix every descendant path of `path` starts with.
fn descendant_prefix(path: &str) -> String {
    if path == "/" {
        "/".to_string()
    } else {
        format!("{path}/")
    }
}

/// (name, data) of the cached direct children of `path`.
fn direct_children<'a>(nodes: &'a BTreeMap<String, ChildData>, path: &str) -> Vec<(&'a str, &'a ChildData)> {
    let prefix = descendant_prefix(path);
    nodes
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(k, d)| {
            let rest = &k[prefix.len()..];
            (!rest.is_empty() && !rest.contains('/')).then_some((rest, d))
        })
        .collect()
}

/// Which one-shot watch fired.
#[derive(Clone, Copy)]
enum WatchKind {
    /// A data or exist watch on the node.
    Data,
    /// A child watch on the node.
    Child,
}

/// One step of bringing the mirror up to date.
enum Work {
    /// Read the node's data, then (within depth) its children.
    Node(String),
    /// Read the node's data only.
    Data(String),
    /// Read the node's children; `all`: read every child again, not only new ones.
    Children(String, bool),
}

struct Engine {
    client: Client,
    cfg: CacheConfig,
    /// Whether to try the recursive watch (false once the server refused it).
    recursive_wanted: bool,
    nodes: Arc<Mutex<BTreeMap<String, ChildData>>>,
    recursive: Arc<AtomicBool>,
    sink: Sink,
    /// One-shot mode: nodes with a data or exist watch set on the server.
    data_armed: HashSet<String>,
    /// One-shot mode: nodes with a child watch set on the server.
    child_armed: HashSet<String>,
    /// Bumped when the session is lost: watches of an older epoch are gone.
    epoch: u64,
    /// One-shot watches report here, tagged with epoch and kind.
    fired_tx: mpsc::UnboundedSender<(u64, WatchKind, WatchedEvent)>,
    fired_rx: mpsc::UnboundedReceiver<(u64, WatchKind, WatchedEvent)>,
    /// Recursive mode: the watch's events; `None` when it has to be set (again).
    stream: Option<WatchStream>,
}

fn is_connected(s: State) -> bool {
    matches!(s, State::Connected | State::Reconnected | State::ReadOnly)
}

async fn next_event(stream: &mut Option<WatchStream>) -> Option<WatchedEvent> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

impl Engine {
    fn one_shot(&self) -> bool {
        !self.recursive.load(Ordering::SeqCst)
    }

    /// The initial load, retried across connection loss.
    async fn load(&mut self) -> Result<()> {
        loop {
            match self.resync().await {
                Ok(()) => break,
                Err(e) if e.is_retryable() || e.code == Code::SessionExpired => {
                    wait_connected(&self.client, LOAD_CONNECT_WAIT).await?;
                }
                Err(e) => return Err(e),
            }
        }
        (self.sink)(TreeCacheEvent::Initialized);
        Ok(())
    }

    async fn run(mut self, mut states: broadcast::Receiver<State>) {
        let mut needs_resync = false;
        loop {
            if needs_resync && is_connected(self.client.state()) {
                match self.resync().await {
                    Ok(()) => needs_resync = false,
                    Err(e) => tracing::debug!(path = %self.cfg.path, error = %e, "cache resync failed; retrying"),
                }
            }
            tokio::select! {
                Some((epoch, kind, ev)) = self.fired_rx.recv() => {
                    if epoch != self.epoch {
                        continue;
                    }
                    match kind {
                        WatchKind::Data => self.data_armed.remove(&ev.path),
                        WatchKind::Child => self.child_armed.remove(&ev.path),
                    };
                    match ev.state {
                        KeeperState::Closed => return,
                        KeeperState::Expired => {
                            self.session_lost();
                            needs_resync = true;
                        }
                        KeeperState::SyncConnected => {
                            if self.on_event(&ev).await.is_err() {
                                needs_resync = true;
                            }
                        }
                    }
                }
                ev = next_event(&mut self.stream) => match ev {
                    Some(ev) if ev.state == KeeperState::SyncConnected => {
                        if self.on_event(&ev).await.is_err() {
                            needs_resync = true;
                        }
                    }
                    Some(ev) if ev.state == KeeperState::Closed => return,
                    _ => {
                        // The watch ended with the session; set it again once reconnected.
                        self.stream = None;
                        needs_resync = true;
                    }
                },
                st = states.recv() => match st {
                    Ok(State::Suspended) => (self.sink)(TreeCacheEvent::ConnectionSuspended),
                    Ok(State::Lost) => {
                        self.session_lost();
                        (self.sink)(TreeCacheEvent::ConnectionLost);
                    }
                    Ok(State::Connected | State::Reconnected | State::ReadOnly) => {
                        (self.sink)(TreeCacheEvent::ConnectionReconnected);
                        needs_resync = true;
                    }
                    Ok(State::Closed) | Err(broadcast::error::RecvError::Closed) => return,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // A state change may have been missed: assume the worst.
                        self.session_lost();
                        needs_resync = true;
                    }
                },
                _ = tokio::time::sleep(RESYNC_RETRY_DELAY), if needs_resync => {}
            }
        }
    }

    /// Every server-side watch of this session is gone.
    fn session_lost(&mut self) {
        self.epoch += 1;
        self.data_armed.clear();
        self.child_armed.clear();
        self.stream = None;
    }

    /// Reads the whole subtree again, setting the recursive watch first if needed.
    async fn resync(&mut self) -> Result<()> {
        if self.recursive_wanted && self.stream.is_none() {
            match self.client.add_watch(&self.cfg.path, AddWatchMode::PersistentRecursive).await {
                Ok(s) => {
                    self.stream = Some(s);
                    self.recursive.store(true, Ordering::SeqCst);
                }
                Err(e) if matches!(e.code, Code::Unimplemented | Code::MarshallingError) => {
                    tracing::debug!(path = %self.cfg.path, "server refused addWatch; using one-shot watches");
                    self.recursive_wanted = false;
                    self.recursive.store(false, Ordering::SeqCst);
                }
                Err(e) => return Err(e),
            }
        }
        self.work(vec![Work::Node(self.cfg.path.clone())], true).await
    }

    /// Answers a node event by reading what it concerns again.
    async fn on_event(&mut self, ev: &WatchedEvent) -> Result<()> {
        if !self.in_scope(&ev.path) {
            return Ok(());
        }
        let w = match ev.event_type {
            EventType::NodeCreated | EventType::NodeDeleted => Work::Node(ev.path.clone()),
            EventType::NodeDataChanged => Work::Data(ev.path.clone()),
            EventType::NodeChildrenChanged => Work::Children(ev.path.clone(), false),
            _ => return Ok(()),
        };
        self.work(vec![w], true).await
    }

    fn depth(&self, path: &str) -> usize {
        if path == self.cfg.path {
            return 0;
        }
        let rest = &path[descendant_prefix(&self.cfg.path).len()..];
        rest.split('/').count()
    }

    fn in_scope(&self, path: &str) -> bool {
        (path == self.cfg.path || path.starts_with(&descendant_prefix(&self.cfg.path)))
            && self.depth(path) <= self.cfg.max_depth
    }

    /// Runs the steps (and the steps they lead to). A retryable failure
    /// stops the run (the caller reads everything again once reconnected);
    /// any other failure skips that one node.
    async fn work(&mut self, mut stack: Vec<Work>, all: bool) -> Result<()> {
        while let Some(w) = stack.pop() {
            let path = match &w {
                Work::Node(p) | Work::Data(p) | Work::Children(p, _) => p.clone(),
            };
            let r = match w {
                Work::Node(p) => match self.refresh_data(&p).await {
                    Ok(true) if self.depth(&p) < self.cfg.max_depth => {
                        stack.push(Work::Children(p, all));
                        Ok(())
                    }
                    other => other.map(|_| ()),
                },
                Work::Data(p) => self.refresh_data(&p).await.map(|_| ()),
                Work::Children(p, all) => self.refresh_children(&p, all).await.map(|more| stack.extend(more)),
            };
            match r {
                Ok(()) => {}
                Err(e) if e.is_retryable() || e.code == Code::SessionExpired => return Err(e),
                Err(e) => tracing::warn!(path = %path, error = %e, "cache could not read a node; skipping it"),
            }
        }
        Ok(())
    }

    fn arm(&mut self, kind: WatchKind, path: &str, w: OneshotWatch) {
        match kind {
            WatchKind::Data => self.data_armed.insert(path.to_string()),
            WatchKind::Child => self.child_armed.insert(path.to_string()),
        };
        let tx = self.fired_tx.clone();
        let epoch = self.epoch;
        tokio::spawn(async move {
            let ev = w.await;
            let _ = tx.send((epoch, kind, ev));
        });
    }

    /// Reads the node's data into the mirror; false when it does not exist.
    async fn refresh_data(&mut self, path: &str) -> Result<bool> {
        loop {
            let watch = self.one_shot() && !self.data_armed.contains(path);
            let read = if watch {
                self.client.get_data_w(path).await.map(|(d, s, w)| {
                    self.arm(WatchKind::Data, path, w);
                    (d, s)
                })
            } else {
                self.client.get_data(path).await
            };
            match read {
                Ok((data, stat)) => {
                    self.upsert(path, data, stat);
                    return Ok(true);
                }
                Err(e) if e.code == Code::NoNode => {
                    self.remove_subtree(path);
                    if path != self.cfg.path || !self.one_shot() || self.data_armed.contains(path) {
                        return Ok(false);
                    }
                    // Watch for the root's creation; read again if it appeared meanwhile.
                    let (stat, w) = self.client.exists_w(path).await?;
                    self.arm(WatchKind::Data, path, w);
                    if stat.is_none() {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the node's children; returns the steps for children to read.
    async fn refresh_children(&mut self, path: &str, all: bool) -> Result<Vec<Work>> {
        let watch = self.one_shot() && !self.child_armed.contains(path);
        let read = if watch {
            self.client.get_children_w(path).await.map(|(c, _, w)| {
                self.arm(WatchKind::Child, path, w);
                c
            })
        } else {
            self.client.get_children(path).await
        };
        let names = match read {
            Ok(names) => names,
            Err(e) if e.code == Code::NoNode => {
                self.remove_subtree(path);
                return Ok(if path == self.cfg.path { vec![Work::Data(path.to_string())] } else { Vec::new() });
            }
            Err(e) => return Err(e),
        };
        let present: HashSet<&str> = names.iter().map(String::as_str).collect();
        let known: HashSet<String> = {
            let nodes = self.nodes.lock();
            direct_children(&nodes, path).into_iter().map(|(n, _)| n.to_string()).collect()
        };
        for gone in known.iter().filter(|k| !present.contains(k.as_str())) {
            self.remove_subtree(&join(path, gone));
        }
        Ok(names.iter().filter(|n| all || !known.contains(*n)).map(|n| Work::Node(join(path, n))).collect())
    }

    fn upsert(&self, path: &str, data: Vec<u8>, stat: crate::proto::Stat) {
        let fresh = ChildData { path: path.to_string(), stat, data };
        let events = {
            let mut nodes = self.nodes.lock();
            match nodes.get_mut(path) {
                None => {
                    nodes.insert(path.to_string(), fresh.clone());
                    vec![TreeCacheEvent::NodeAdded(fresh)]
                }
                Some(old) if old.stat.czxid != stat.czxid => {
                    // Deleted and created again between two reads.
                    let before = std::mem::replace(old, fresh.clone());
                    vec![TreeCacheEvent::NodeRemoved(before), TreeCacheEvent::NodeAdded(fresh)]
                }
                Some(old) if old.stat.mzxid != stat.mzxid => {
                    *old = fresh.clone();
                    vec![TreeCacheEvent::NodeUpdated(fresh)]
                }
                Some(old) => {
                    // Only the child part of the Stat moved: not a data change.
                    old.stat = stat;
                    Vec::new()
                }
            }
        };
        for ev in events {
            (self.sink)(ev);
        }
    }

    /// Drops `path` and its descendants from the mirror, deepest first.
    fn remove_subtree(&self, path: &str) {
        let removed: Vec<ChildData> = {
            let mut nodes = self.nodes.lock();
            let prefix = descendant_prefix(path);
            let mut keys: Vec<String> = nodes.contains_key(path).then(|| path.to_string()).into_iter().collect();
            keys.extend(
                nodes.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k.clone()),
            );
            keys.dedup();
            keys.iter().rev().filter_map(|k| nodes.remove(k)).collect()
        };
        for d in removed {
            (self.sink)(TreeCacheEvent::NodeRemoved(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str) -> (String, ChildData) {
        (path.to_string(), ChildData { path: path.to_string(), stat: Default::default(), data: Vec::new() })
    }

    #[test]
    fn direct_children_skip_grandchildren_and_lookalikes() {
        let nodes: BTreeMap<_, _> = ["/a", "/a/b", "/a/b/c", "/a/d", "/ab", "/ab/x"].into_iter().map(node).collect();
        let names: Vec<&str> = direct_children(&nodes, "/a").into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["b", "d"]);
        let top: Vec<&str> = direct_children(&nodes, "/").into_iter().map(|(n, _)| n).collect();
        assert_eq!(top, ["a", "ab"]);
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("/a", "x"), "/a/x");
    }
}
