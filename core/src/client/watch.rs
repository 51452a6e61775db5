//! Client-side watches: one-shot watches resolve a future once; persistent
//! and recursive watches feed a stream. Both survive reconnects: after a
//! session resumes, the client re-registers them with SetWatches(2) and the
//! server fires what changed meanwhile.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use crate::proto::{AddWatchMode, EventType};

/// The session state carried by a [`WatchedEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeeperState {
    /// A node event from a connected session.
    SyncConnected,
    /// The session expired: the watch will never fire for a node change.
    Expired,
    /// The client was closed.
    Closed,
}

/// What a watch reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedEvent {
    /// NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged; `None` for session events.
    pub event_type: EventType,
    /// SyncConnected for node events; Expired or Closed when the watch ends without one.
    pub state: KeeperState,
    /// Client-side (chroot-relative) path.
    pub path: String,
    /// zxid of the change that fired it (`-1` when the server does not say, as 3.8 and older).
    pub zxid: i64,
}

/// A one-shot watch: await it to get the event that fired it.
pub struct OneshotWatch {
    rx: oneshot::Receiver<WatchedEvent>,
}

impl OneshotWatch {
    pub(crate) fn new() -> (OneshotWatch, oneshot::Sender<WatchedEvent>) {
        let (tx, rx) = oneshot::channel();
        (OneshotWatch { rx }, tx)
    }

    /// Waits for the event. If the client is dropped without one, reports `Closed`.
    pub async fn changed(self) -> WatchedEvent {
        self.rx.await.unwrap_or(WatchedEvent {
            event_type: EventType::None,
            state: KeeperState::Closed,
            path: String::new(),
            zxid: -1,
        })
    }
}

impl std::future::Future for OneshotWatch {
    type Output = WatchedEvent;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<WatchedEvent> {
        std::pin::Pin::new(&mut self.rx).poll(cx).map(|r| {
            r.unwrap_or(WatchedEvent {
                event_type: EventType::None,
                state: KeeperState::Closed,
                path: String::new(),
                zxid: -1,
            })
        })
    }
}

/// A persistent or recursive watch: a stream of events until removed, the
/// session expires (a final `Expired` event) or the client closes.
pub struct WatchStream {
    rx: mpsc::UnboundedReceiver<WatchedEvent>,
}

impl WatchStream {
    pub(crate) fn new() -> (WatchStream, mpsc::UnboundedSender<WatchedEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (WatchStream { rx }, tx)
    }

    /// The next event; `None` once the watch has ended.
    pub async fn next(&mut self) -> Option<WatchedEvent> {
        self.rx.recv().await
    }
}

/// Which table a one-shot watch lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Data,
    Exist,
    Child,
}

/// All watches of one client, keyed by server path (chroot included).
#[derive(Default)]
pub(crate) struct Registry {
    oneshot: HashMap<(Kind, String), Vec<oneshot::Sender<WatchedEvent>>>,
    persistent: HashMap<(AddWatchMode, String), Vec<mpsc::UnboundedSender<WatchedEvent>>>,
}

/// Lists for re-registration: data, exist, child, persistent, recursive.
pub(crate) type WatchLists = [Vec<String>; 5];

impl Registry {
    pub(crate) fn add_oneshot(&mut self, kind: Kind, path: String, tx: oneshot::Sender<WatchedEvent>) {
        self.oneshot.entry((kind, path)).or_default().push(tx);
    }

    pub(crate) fn add_persistent(&mut self, mode: AddWatchMode, path: String, tx: mpsc::UnboundedSender<WatchedEvent>) {
        self.persistent.entry((mode, path)).or_default().push(tx);
    }

    /// Ends the local watches a successful removeWatches removed on the
    /// server, each with the removal event the Java client delivers
    /// (DataWatchRemoved, ChildWatchRemoved, PersistentWatchRemoved).
    pub(crate) fn remove(&mut self, path: &str, local_path: &str, kinds: &[Kind], modes: &[AddWatchMode]) {
        let ev = |event_type| WatchedEvent {
            event_type,
            state: KeeperState::SyncConnected,
            path: local_path.to_string(),
            zxid: -1,
        };
        for k in kinds {
            let t = if *k == Kind::Child { EventType::ChildWatchRemoved } else { EventType::DataWatchRemoved };
            for tx in self.oneshot.remove(&(*k, path.to_string())).unwrap_or_default() {
                let _ = tx.send(ev(t));
            }
        }
        for m in modes {
            for tx in self.persistent.remove(&(*m, path.to_string())).unwrap_or_default() {
                let _ = tx.send(ev(EventType::PersistentWatchRemoved));
            }
        }
    }

    /// Delivers a server notification; `local` maps a server path to the client's view.
    pub(crate) fn dispatch(
        &mut self,
        event_type: EventType,
        server_path: &str,
        zxid: i64,
        local: impl Fn(&str) -> String,
    ) {
        let ev = WatchedEvent { event_type, state: KeeperState::SyncConnected, path: local(server_path), zxid };
        let kinds: &[Kind] = match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => &[Kind::Data, Kind::Exist],
            EventType::NodeChildrenChanged => &[Kind::Child],
            EventType::NodeDeleted => &[Kind::Data, Kind::Exist, Kind::Child],
            _ => &[],
        };
        for k in kinds {
            if let Some(list) = self.oneshot.remove(&(*k, server_path.to_string())) {
                for tx in list {
                    let _ = tx.send(ev.clone());
                }
            }
        }
        if let Some(list) = self.persistent.get_mut(&(AddWatchMode::Persistent, server_path.to_string())) {
            list.retain(|tx| tx.send(ev.clone()).is_ok());
        }
        if event_type != EventType::NodeChildrenChanged {
            let mut p = server_path.to_string();
            loop {
                if let Some(list) = self.persistent.get_mut(&(AddWatchMode::PersistentRecursive, p.clone())) {
                    list.retain(|tx| tx.send(ev.clone()).is_ok());
                }
                if p == "/" {
                    break;
                }
                p = match p.rfind('/') {
                    Some(0) => "/".to_string(),
                    Some(i) => p[..i].to_string(),
                    None => break,
                };
            }
        }
        self.persistent.retain(|_, l| !l.is_empty());
    }

    /// Paths to re-register after a resume.
    pub(crate) fn lists(&mut self) -> WatchLists {
        self.oneshot.retain(|_, l| {
            l.retain(|tx| !tx.is_closed());
            !l.is_empty()
        });
        self.persistent.retain(|_, l| {
            l.retain(|tx| !tx.is_closed());
            !l.is_empty()
        });
        let mut out: WatchLists = Default::default();
        for (k, p) in self.oneshot.keys() {
            let i = match k {
                Kind::Data => 0,
                Kind::Exist => 1,
                Kind::Child => 2,
            };
            out[i].push(p.clone());
        }
        for (m, p) in self.persistent.keys() {
            let i = if *m == AddWatchMode::Persistent { 3 } else { 4 };
            out[i].push(p.clone());
        }
        out
    }

    /// Ends every watch with a session event (expiry or close).
    pub(crate) fn end_all(&mut self, state: KeeperState) {
        let ev = WatchedEvent { event_type: EventType::None, state, path: String::new(), zxid: -1 };
        for (_, list) in self.oneshot.drain() {
            for tx in list {
                let _ = tx.send(ev.clone());
            }
        }
        for (_, list) in self.persistent.drain() {
            for tx in list {
                let _ = tx.send(ev.clone());
            }
        }
    }
}
