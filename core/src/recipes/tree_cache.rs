//! TreeCache (Apache Curator's `TreeCache`): an in-memory mirror of a whole
//! subtree, kept live, with an event for every node added, updated or removed.

use std::collections::BTreeMap;

use tokio::sync::broadcast;

use super::cache_core::{CacheConfig, CacheCore};
use crate::client::{Client, Result};
use crate::proto::Stat;

/// How many events a slow cache listener may fall behind by before it sees
/// `Lagged` (it can then read the cache's current content instead).
pub const CACHE_EVENTS_MAX: usize = 1024;

/// A cached node: Curator's `ChildData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildData {
    /// Full client-side path.
    pub path: String,
    /// The Stat read together with the data.
    pub stat: Stat,
    /// The node's data.
    pub data: Vec<u8>,
}

/// What changed in a [`TreeCache`] (Curator's `TreeCacheEvent.Type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeCacheEvent {
    /// A node appeared (also reported for every node of the initial load).
    NodeAdded(ChildData),
    /// A node's data changed (its `mzxid` moved).
    NodeUpdated(ChildData),
    /// A node went away; carries its last cached state.
    NodeRemoved(ChildData),
    /// The initial load is complete.
    Initialized,
    /// The connection dropped; the cache may be stale until it reconnects.
    ConnectionSuspended,
    /// Connected again; the cache reads the subtree again.
    ConnectionReconnected,
    /// The session expired; watches are set again after reconnecting.
    ConnectionLost,
}

/// How a [`TreeCache`] learns about changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeWatchMode {
    /// One persistent recursive watch on the root (ZooKeeper 3.6+ and
    /// corral), falling back to one-shot watches if the server refuses it.
    Auto,
    /// One-shot data and child watches on every cached node (what Curator
    /// did before persistent watches existed; works with every server).
    OneShot,
}

/// Apache Curator's `TreeCache`: mirrors the subtree at a path (down to an
/// optional maximum depth) and reports every change as a [`TreeCacheEvent`].
///
/// It relies on one persistent recursive watch where the server supports it
/// and falls back to one-shot watches on every node when `addWatch` is
/// refused (`Unimplemented` or a marshalling error); see [`TreeWatchMode`].
/// It survives reconnects: after `Reconnected` it reads the subtree again,
/// after `Lost` it also sets its watches again. Whatever a notification
/// says, the cache answers it by reading the node again, so the mirror
/// converges to the server's state; rapid changes may be coalesced.
///
/// ZooKeeper before 3.9 keeps one watch mode per path and session
/// (ZOOKEEPER-4466): there, do not combine a recursive-mode TreeCache with
/// one-shot watches (NodeCache, PathChildrenCache, `get_data_w`...) on the
/// same paths of the same client; use another client or
/// [`TreeWatchMode::OneShot`]. corral has no such limit.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::{Client, CreateOptions};
/// use corral::recipes::tree_cache::{TreeCache, TreeCacheEvent};
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// client.ensure_path("/app/services/web").await?;
///
/// let cache = TreeCache::new(&client, "/app");
/// let mut events = cache.events();
/// cache.start().await?;
/// assert!(cache.current_data("/app/services/web").is_some());
///
/// client.create("/app/services/db", b"10.0.0.7", &CreateOptions::default()).await?;
/// loop {
///     if let TreeCacheEvent::NodeAdded(d) = events.recv().await? {
///         if d.path == "/app/services/db" {
///             assert_eq!(d.data, b"10.0.0.7");
///             break;
///         }
///     }
/// }
/// let names: Vec<String> = cache.current_children("/app/services").unwrap_or_default().into_keys().collect();
/// assert_eq!(names, ["db", "web"]);
/// # Ok(())
/// # }
/// ```
pub struct TreeCache {
    client: Client,
    path: String,
    max_depth: usize,
    mode: TreeWatchMode,
    events: broadcast::Sender<TreeCacheEvent>,
    core: CacheCore,
}

impl TreeCache {
    /// A cache of the whole subtree at `path`; nothing happens until [`TreeCache::start`].
    pub fn new(client: &Client, path: &str) -> TreeCache {
        let (events, _) = broadcast::channel(CACHE_EVENTS_MAX);
        TreeCache {
            client: client.clone(),
            path: path.to_string(),
            max_depth: usize::MAX,
            mode: TreeWatchMode::Auto,
            events,
            core: CacheCore::default(),
        }
    }

    /// Caches nodes down to `depth` levels below the root only (0: the root alone).
    pub fn with_max_depth(mut self, depth: usize) -> TreeCache {
        self.max_depth = depth;
        self
    }

    /// Chooses how changes are watched (default [`TreeWatchMode::Auto`]).
    pub fn with_watch_mode(mut self, mode: TreeWatchMode) -> TreeCache {
        self.mode = mode;
        self
    }

    /// Every event from now on. Subscribe before [`TreeCache::start`] to see
    /// the initial load.
    pub fn events(&self) -> broadcast::Receiver<TreeCacheEvent> {
        self.events.subscribe()
    }

    /// Loads the subtree (the root need not exist yet) and keeps it live;
    /// returns once the initial load is complete. A second call does nothing.
    pub async fn start(&self) -> Result<()> {
        let cfg = CacheConfig {
            path: self.path.clone(),
            max_depth: self.max_depth,
            recursive: self.mode == TreeWatchMode::Auto,
        };
        let tx = self.events.clone();
        self.core
            .start(
                &self.client,
                cfg,
                Box::new(move |ev| {
                    let _ = tx.send(ev);
                }),
            )
            .await
    }

    /// The cached node at `path`, if any.
    pub fn current_data(&self, path: &str) -> Option<ChildData> {
        self.core.get(path)
    }

    /// The cached children of `path` by name; `None` when `path` is not cached.
    pub fn current_children(&self, path: &str) -> Option<BTreeMap<String, ChildData>> {
        self.core.children(path)
    }

    /// Whether a persistent recursive watch keeps the cache live (false when
    /// forced to, or fell back to, one-shot watches).
    pub fn uses_recursive_watch(&self) -> bool {
        self.core.uses_recursive_watch()
    }

    /// Stops following changes (also done on drop).
    pub fn close(&self) {
        self.core.close();
    }
}
