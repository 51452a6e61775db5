//! NodeCache (Apache Curator's `NodeCache`): the live data and Stat of one node.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::broadcast;

use super::cache_core::{CacheConfig, CacheCore};
use super::tree_cache::{ChildData, TreeCacheEvent, CACHE_EVENTS_MAX};
use crate::client::{Client, Result};

/// Apache Curator's `NodeCache`: keeps the current data and Stat of one node
/// in memory, following its creation, changes and deletion with one-shot
/// watches (so it works with every server version).
///
/// [`NodeCache::start`] reads the node before returning (Curator's
/// `start(true)`); afterwards [`NodeCache::changes`] yields the new state
/// after every change: `Some` when the node exists, `None` once it is
/// deleted. Changes in quick succession may be coalesced into the latest
/// one. The cache survives reconnects and session loss by reading the node
/// again and setting its watch again.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::{Client, CreateOptions};
/// use corral::recipes::node_cache::NodeCache;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// client.create("/config", b"v1", &CreateOptions::default()).await?;
///
/// let cache = NodeCache::new(&client, "/config");
/// let mut changes = cache.changes();
/// cache.start().await?;
/// assert_eq!(cache.current().map(|d| d.data), Some(b"v1".to_vec()));
///
/// client.set_data("/config", b"v2", None).await?;
/// let now = changes.recv().await?;
/// assert_eq!(now.map(|d| d.data), Some(b"v2".to_vec()));
/// # Ok(())
/// # }
/// ```
pub struct NodeCache {
    client: Client,
    path: String,
    changes: broadcast::Sender<Option<ChildData>>,
    core: CacheCore,
}

impl NodeCache {
    /// A cache of the node at `path`; nothing happens until [`NodeCache::start`].
    pub fn new(client: &Client, path: &str) -> NodeCache {
        let (changes, _) = broadcast::channel(CACHE_EVENTS_MAX);
        NodeCache { client: client.clone(), path: path.to_string(), changes, core: CacheCore::default() }
    }

    /// The node's state after each change from now on (not the initial read).
    pub fn changes(&self) -> broadcast::Receiver<Option<ChildData>> {
        self.changes.subscribe()
    }

    /// Reads the node (it need not exist) and keeps following it; a second call does nothing.
    pub async fn start(&self) -> Result<()> {
        let tx = self.changes.clone();
        // Curator's start(true): the initial read is not a change.
        let loaded = Arc::new(AtomicBool::new(false));
        let cfg = CacheConfig { path: self.path.clone(), max_depth: 0, recursive: false };
        self.core
            .start(
                &self.client,
                cfg,
                Box::new(move |ev| {
                    let now = match ev {
                        TreeCacheEvent::Initialized => {
                            loaded.store(true, Ordering::SeqCst);
                            return;
                        }
                        TreeCacheEvent::NodeAdded(d) | TreeCacheEvent::NodeUpdated(d) => Some(d),
                        TreeCacheEvent::NodeRemoved(_) => None,
                        _ => return,
                    };
                    if loaded.load(Ordering::SeqCst) {
                        let _ = tx.send(now);
                    }
                }),
            )
            .await
    }

    /// The node's data and Stat as last seen; `None` when it does not exist.
    pub fn current(&self) -> Option<ChildData> {
        self.core.get(&self.path)
    }

    /// Stops following the node (also done on drop).
    pub fn close(&self) {
        self.core.close();
    }
}
