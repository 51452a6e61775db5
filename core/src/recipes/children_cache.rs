//! The children of one node, kept live: [`PathChildrenCache`] (Apache
//! Curator's, with the data of every child) and [`ChildrenWatch`] (kazoo's,
//! the list of names whenever it changes).

use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::cache_core::{join, CacheConfig, CacheCore};
use super::tree_cache::{ChildData, TreeCacheEvent, CACHE_EVENTS_MAX};
use super::util::wait_connected;
use crate::client::{Client, Result, State};
use crate::proto::Code;

/// What changed in a [`PathChildrenCache`] (Curator's `PathChildrenCacheEvent.Type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathChildrenCacheEvent {
    /// A child appeared (also reported for every child of the initial load).
    ChildAdded(ChildData),
    /// A child's data changed.
    ChildUpdated(ChildData),
    /// A child went away; carries its last cached state.
    ChildRemoved(ChildData),
    /// The initial load is complete (Curator's `POST_INITIALIZED_EVENT` mode).
    Initialized,
    /// The connection dropped; the cache may be stale until it reconnects.
    ConnectionSuspended,
    /// Connected again; the cache reads the children again.
    ConnectionReconnected,
    /// The session expired; watches are set again after reconnecting.
    ConnectionLost,
}

/// Apache Curator's `PathChildrenCache`: the data and Stat of every child of
/// a node, kept live with one-shot watches (child watch on the parent, data
/// watch on each child), reporting `ChildAdded`, `ChildUpdated` and
/// `ChildRemoved`. The parent need not exist; the cache fills once it does.
/// It reads everything again after a reconnect and sets its watches again
/// after a lost session.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::{Client, CreateOptions};
/// use corral::proto::CreateMode;
/// use corral::recipes::children_cache::{PathChildrenCache, PathChildrenCacheEvent};
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// client.ensure_path("/workers").await?;
///
/// let cache = PathChildrenCache::new(&client, "/workers");
/// let mut events = cache.events();
/// cache.start().await?;
/// assert_eq!(events.recv().await?, PathChildrenCacheEvent::Initialized);
///
/// client.create("/workers/w1", b"busy", &CreateOptions::mode(CreateMode::Ephemeral)).await?;
/// match events.recv().await? {
///     PathChildrenCacheEvent::ChildAdded(d) => assert_eq!((d.path.as_str(), d.data.as_slice()), ("/workers/w1", &b"busy"[..])),
///     other => panic!("unexpected {other:?}"),
/// }
/// assert_eq!(cache.current_data().len(), 1);
/// # Ok(())
/// # }
/// ```
pub struct PathChildrenCache {
    client: Client,
    path: String,
    events: broadcast::Sender<PathChildrenCacheEvent>,
    core: CacheCore,
}

impl PathChildrenCache {
    /// A cache of the children of `path`; nothing happens until [`PathChildrenCache::start`].
    pub fn new(client: &Client, path: &str) -> PathChildrenCache {
        let (events, _) = broadcast::channel(CACHE_EVENTS_MAX);
        PathChildrenCache { client: client.clone(), path: path.to_string(), events, core: CacheCore::default() }
    }

    /// Every event from now on; subscribe before [`PathChildrenCache::start`]
    /// to see the initial children.
    pub fn events(&self) -> broadcast::Receiver<PathChildrenCacheEvent> {
        self.events.subscribe()
    }

    /// Loads the children and keeps them live; a second call does nothing.
    pub async fn start(&self) -> Result<()> {
        let tx = self.events.clone();
        let parent = self.path.clone();
        let is_child = move |d: &ChildData| d.path != parent;
        let cfg = CacheConfig { path: self.path.clone(), max_depth: 1, recursive: false };
        self.core
            .start(
                &self.client,
                cfg,
                Box::new(move |ev| {
                    let ev = match ev {
                        TreeCacheEvent::NodeAdded(d) if is_child(&d) => PathChildrenCacheEvent::ChildAdded(d),
                        TreeCacheEvent::NodeUpdated(d) if is_child(&d) => PathChildrenCacheEvent::ChildUpdated(d),
                        TreeCacheEvent::NodeRemoved(d) if is_child(&d) => PathChildrenCacheEvent::ChildRemoved(d),
                        TreeCacheEvent::Initialized => PathChildrenCacheEvent::Initialized,
                        TreeCacheEvent::ConnectionSuspended => PathChildrenCacheEvent::ConnectionSuspended,
                        TreeCacheEvent::ConnectionReconnected => PathChildrenCacheEvent::ConnectionReconnected,
                        TreeCacheEvent::ConnectionLost => PathChildrenCacheEvent::ConnectionLost,
                        _ => return,
                    };
                    let _ = tx.send(ev);
                }),
            )
            .await
    }

    /// Every cached child, sorted by path.
    pub fn current_data(&self) -> Vec<ChildData> {
        self.core.children(&self.path).map(|m| m.into_values().collect()).unwrap_or_default()
    }

    /// The cached child with full path `path`.
    pub fn current_data_for(&self, path: &str) -> Option<ChildData> {
        self.core.get(path).filter(|d| d.path != self.path)
    }

    /// The cached child named `name`.
    pub fn child(&self, name: &str) -> Option<ChildData> {
        self.current_data_for(&join(&self.path, name))
    }

    /// Stops following the children (also done on drop).
    pub fn close(&self) {
        self.core.close();
    }
}

/// How many children lists a slow [`ChildrenWatch`] reader may fall behind
/// by before the watcher waits for it.
pub const CHILDREN_UPDATES_MAX: usize = 64;
/// How long the watcher waits for a connection before reading again.
const RECONNECT_WAIT: Duration = Duration::from_secs(60);

/// kazoo's `ChildrenWatch`: the sorted list of a node's children, first as it
/// is, then again whenever it changes (one-shot child watches; a list
/// changing twice in quick succession may be reported once). While the node
/// does not exist the list is empty and the watcher waits for its creation
/// (kazoo stops instead). It reads again after a reconnect or a lost session.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::{Client, CreateOptions};
/// use corral::recipes::children_cache::ChildrenWatch;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// client.ensure_path("/members").await?;
///
/// let mut watch = ChildrenWatch::start(&client, "/members");
/// assert_eq!(watch.next().await, Some(Vec::<String>::new()));
/// client.create("/members/alice", b"", &CreateOptions::default()).await?;
/// assert_eq!(watch.next().await, Some(vec!["alice".to_string()]));
/// # Ok(())
/// # }
/// ```
pub struct ChildrenWatch {
    lists: mpsc::Receiver<Vec<String>>,
    task: JoinHandle<()>,
}

impl ChildrenWatch {
    /// Starts watching the children of `path`.
    pub fn start(client: &Client, path: &str) -> ChildrenWatch {
        let (tx, lists) = mpsc::channel(CHILDREN_UPDATES_MAX);
        let task = tokio::spawn(watch_children(client.clone(), path.to_string(), tx));
        ChildrenWatch { lists, task }
    }

    /// The next list that differs from the one before; `None` once the
    /// client is closed or a read failed for good (e.g. NoAuth).
    pub async fn next(&mut self) -> Option<Vec<String>> {
        self.lists.recv().await
    }
}

impl Drop for ChildrenWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn watch_children(client: Client, path: String, tx: mpsc::Sender<Vec<String>>) {
    let mut last: Option<Vec<String>> = None;
    let mut states = client.state_changes();
    loop {
        let (list, watch) = match client.get_children_w(&path).await {
            Ok((mut c, _, w)) => {
                c.sort();
                (c, Some(w))
            }
            Err(e) if e.code == Code::NoNode => match client.exists_w(&path).await {
                Ok((None, w)) => (Vec::new(), Some(w)),
                // Created in between: read its children.
                Ok((Some(_), _)) => continue,
                Err(e) if e.is_retryable() => (Vec::new(), None),
                Err(_) => return,
            },
            Err(e) if e.is_retryable() || e.code == Code::SessionExpired => {
                if wait_connected(&client, RECONNECT_WAIT).await.is_err() && client.state() == State::Closed {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(path = %path, error = %e, "children watch stopped");
                return;
            }
        };
        if last.as_ref() != Some(&list) {
            if tx.send(list.clone()).await.is_err() {
                return;
            }
            last = Some(list);
        }
        let Some(watch) = watch else {
            continue;
        };
        tokio::select! {
            _ = watch => {}
            st = states.recv() => match st {
                Ok(State::Connected | State::Reconnected | State::ReadOnly | State::Lost) => {}
                Ok(State::Suspended) => continue,
                Ok(State::Closed) | Err(broadcast::error::RecvError::Closed) => return,
                Err(broadcast::error::RecvError::Lagged(_)) => {}
            },
        }
    }
}
