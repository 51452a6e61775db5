//! Caches and watchers: the node cache, the tree cache and the path children
//! cache (Curator's), the children and data watches (kazoo's); their changes
//! reach JS through `EventStream`s (index.js's `events()` / `changes()`).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use corral::client::Client as CoreClient;
use corral::recipes::children_cache::{
    ChildrenWatch as CoreChildrenWatch, PathChildrenCache as CorePathChildrenCache, PathChildrenCacheEvent,
};
use corral::recipes::node_cache::NodeCache as CoreNodeCache;
use corral::recipes::tree_cache::{
    ChildData as CoreChildData, TreeCache as CoreTreeCache, TreeCacheEvent, TreeWatchMode,
};
use corral::recipes::watchers::DataWatch;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::mpsc;

use super::InRuntime;
use crate::convert::Stat;
use crate::error::{Failure, Outcome};
use crate::events::{EventStream, Feed};
use crate::promise::spawn_value;

/// Values a data watch may hold for a slow reader before its callback waits.
const DATA_WATCH_VALUES_MAX: usize = 64;

/// A cached node (Curator's `ChildData`).
#[napi(object, object_from_js = false)]
pub struct ChildData {
    /// Full client-side path.
    pub path: String,
    /// The node's data.
    pub data: Buffer,
    /// The Stat read with the data.
    pub stat: Stat,
}

impl From<CoreChildData> for ChildData {
    fn from(d: CoreChildData) -> ChildData {
        ChildData { path: d.path, data: d.data.into(), stat: d.stat.into() }
    }
}

/// A change of a tree or path children cache (Curator's event types).
#[napi(object, object_from_js = false)]
pub struct CacheEvent {
    /// `'NODE_ADDED'`, `'NODE_UPDATED'`, `'NODE_REMOVED'` (tree cache) or
    /// `'CHILD_ADDED'`, `'CHILD_UPDATED'`, `'CHILD_REMOVED'` (children cache);
    /// `'INITIALIZED'`, `'CONNECTION_SUSPENDED'`, `'CONNECTION_RECONNECTED'`, `'CONNECTION_LOST'`.
    #[napi(js_name = "type")]
    pub kind: String,
    /// The node concerned (its last cached state when removed).
    pub data: Option<ChildData>,
}

fn event(kind: &str, data: Option<CoreChildData>) -> CacheEvent {
    CacheEvent { kind: kind.to_string(), data: data.map(ChildData::from) }
}

impl From<TreeCacheEvent> for CacheEvent {
    fn from(e: TreeCacheEvent) -> CacheEvent {
        match e {
            TreeCacheEvent::NodeAdded(d) => event("NODE_ADDED", Some(d)),
            TreeCacheEvent::NodeUpdated(d) => event("NODE_UPDATED", Some(d)),
            TreeCacheEvent::NodeRemoved(d) => event("NODE_REMOVED", Some(d)),
            TreeCacheEvent::Initialized => event("INITIALIZED", None),
            TreeCacheEvent::ConnectionSuspended => event("CONNECTION_SUSPENDED", None),
            TreeCacheEvent::ConnectionReconnected => event("CONNECTION_RECONNECTED", None),
            TreeCacheEvent::ConnectionLost => event("CONNECTION_LOST", None),
        }
    }
}

impl From<PathChildrenCacheEvent> for CacheEvent {
    fn from(e: PathChildrenCacheEvent) -> CacheEvent {
        match e {
            PathChildrenCacheEvent::ChildAdded(d) => event("CHILD_ADDED", Some(d)),
            PathChildrenCacheEvent::ChildUpdated(d) => event("CHILD_UPDATED", Some(d)),
            PathChildrenCacheEvent::ChildRemoved(d) => event("CHILD_REMOVED", Some(d)),
            PathChildrenCacheEvent::Initialized => event("INITIALIZED", None),
            PathChildrenCacheEvent::ConnectionSuspended => event("CONNECTION_SUSPENDED", None),
            PathChildrenCacheEvent::ConnectionReconnected => event("CONNECTION_RECONNECTED", None),
            PathChildrenCacheEvent::ConnectionLost => event("CONNECTION_LOST", None),
        }
    }
}

/// What the three caches share: starting (once) and closing.
pub(crate) trait Cache: Send + Sync + 'static {
    fn start(&self) -> impl std::future::Future<Output = corral::client::Result<()>> + Send;
    fn close(&self);
}

macro_rules! cache_by_core {
    ($($t:ty),*) => {$(
        impl Cache for $t {
            fn start(&self) -> impl std::future::Future<Output = corral::client::Result<()>> + Send {
                <$t>::start(self)
            }
            fn close(&self) {
                <$t>::close(self)
            }
        }
    )*};
}

cache_by_core!(CoreNodeCache, CoreTreeCache, CorePathChildrenCache);

/// `start()` of a cache: loads, then keeps the cache live.
fn start_cache<'env, C: Cache>(env: &'env Env, cache: &Arc<InRuntime<C>>) -> Result<PromiseRaw<'env, ()>> {
    let cache = cache.clone();
    spawn_value(env, None, async move { Ok(cache.start().await?) })
}

/// Declares `start()` and `close()` of a JS cache class over its `cache` field.
macro_rules! cache_methods {
    ($t:ident) => {
        #[napi]
        impl $t {
            /// Loads (the node need not exist) and keeps the cache live;
            /// resolves once loaded. A second call does nothing.
            #[napi(ts_return_type = "Promise<void>")]
            pub fn start<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
                start_cache(env, &self.cache)
            }

            /// Stops following changes; the iterators end.
            #[napi]
            pub fn close(&self) {
                Cache::close(&**self.cache);
            }
        }
    };
}

/// Curator's `NodeCache`: the live data and Stat of one node.
#[napi]
pub struct NodeCache {
    cache: Arc<InRuntime<CoreNodeCache>>,
}

impl NodeCache {
    pub(crate) fn new(client: &CoreClient, path: &str) -> NodeCache {
        NodeCache { cache: Arc::new(InRuntime::new(CoreNodeCache::new(client, path))) }
    }
}

cache_methods!(NodeCache);

#[napi]
impl NodeCache {
    /// The node as last seen; `null` when it does not exist.
    #[napi(getter)]
    pub fn current(&self) -> Option<ChildData> {
        self.cache.current().map(ChildData::from)
    }

    /// The node after each change from now on (index.js's `changes()`).
    #[napi(skip_typescript)]
    pub fn subscribe(&self) -> EventStream {
        EventStream::new(Feed::Node(self.cache.changes()))
    }
}

/// Options of `treeCache`.
#[napi(object, object_to_js = false)]
pub struct TreeCacheOptions {
    /// Cache nodes down to this many levels below the root only (0: the root alone).
    pub max_depth: Option<u32>,
    /// `'auto'` (one persistent recursive watch where the server has them,
    /// the default) or `'oneShot'` (one-shot watches on every node).
    #[napi(ts_type = "'auto' | 'oneShot'")]
    pub watch_mode: Option<String>,
}

/// Curator's `TreeCache`: a live mirror of a subtree, with an event for every change.
#[napi]
pub struct TreeCache {
    cache: Arc<InRuntime<CoreTreeCache>>,
}

impl TreeCache {
    pub(crate) fn new(client: &CoreClient, path: &str, options: Option<TreeCacheOptions>) -> Outcome<TreeCache> {
        let mut cache = CoreTreeCache::new(client, path);
        if let Some(o) = options {
            if let Some(depth) = o.max_depth {
                cache = cache.with_max_depth(depth as usize);
            }
            let mode = match o.watch_mode.as_deref() {
                None | Some("auto") => TreeWatchMode::Auto,
                Some("oneShot") => TreeWatchMode::OneShot,
                Some(other) => {
                    return Err(Failure::corral(
                        "ERR_CORRAL_ARGUMENT",
                        format!("watchMode: {other:?} is not a watch mode"),
                    ))
                }
            };
            cache = cache.with_watch_mode(mode);
        }
        Ok(TreeCache { cache: Arc::new(InRuntime::new(cache)) })
    }
}

cache_methods!(TreeCache);

#[napi]
impl TreeCache {
    /// The cached node at `path`, `null` when not cached.
    #[napi]
    pub fn current_data(&self, path: String) -> Option<ChildData> {
        self.cache.current_data(&path).map(ChildData::from)
    }

    /// The cached children of `path` by name; `null` when `path` is not cached.
    #[napi(ts_return_type = "Record<string, ChildData> | null")]
    pub fn current_children(&self, path: String) -> Option<HashMap<String, ChildData>> {
        self.cache.current_children(&path).map(|m| m.into_iter().map(|(k, v)| (k, v.into())).collect())
    }

    /// Whether a persistent recursive watch keeps the cache live.
    #[napi(getter)]
    pub fn uses_recursive_watch(&self) -> bool {
        self.cache.uses_recursive_watch()
    }

    /// Every event from now on (index.js's `events()`).
    #[napi(skip_typescript)]
    pub fn subscribe(&self) -> EventStream {
        EventStream::new(Feed::Tree(self.cache.events()))
    }
}

/// Curator's `PathChildrenCache`: the live data and Stat of every child of a node.
#[napi]
pub struct PathChildrenCache {
    cache: Arc<InRuntime<CorePathChildrenCache>>,
}

impl PathChildrenCache {
    pub(crate) fn new(client: &CoreClient, path: &str) -> PathChildrenCache {
        PathChildrenCache { cache: Arc::new(InRuntime::new(CorePathChildrenCache::new(client, path))) }
    }
}

cache_methods!(PathChildrenCache);

#[napi]
impl PathChildrenCache {
    /// Every cached child, sorted by path.
    #[napi]
    pub fn current_data(&self) -> Vec<ChildData> {
        self.cache.current_data().into_iter().map(ChildData::from).collect()
    }

    /// The cached child named `name`, `null` when there is none.
    #[napi]
    pub fn child(&self, name: String) -> Option<ChildData> {
        self.cache.child(&name).map(ChildData::from)
    }

    /// Every event from now on (index.js's `events()`).
    #[napi(skip_typescript)]
    pub fn subscribe(&self) -> EventStream {
        EventStream::new(Feed::Children(self.cache.events()))
    }
}

/// kazoo's `ChildrenWatch` as a feed: the sorted children now, then after each change.
pub(crate) fn children_watch(client: &CoreClient, path: &str) -> EventStream {
    let _runtime = corral::runtime::get().enter();
    EventStream::new(Feed::ChildList(InRuntime::new(CoreChildrenWatch::start(client, path))))
}

/// kazoo's `DataWatch` as a feed: the node's data and Stat now (`null` while
/// it does not exist), then after each change. The callback runs on a
/// thread of its own, so it may wait for room in the bounded channel.
pub(crate) async fn data_watch(client: CoreClient, path: String) -> Outcome<EventStream> {
    let (tx, values) = mpsc::channel(DATA_WATCH_VALUES_MAX);
    let watch = DataWatch::start(&client, &path, move |value, _event| match tx.blocking_send(value) {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(()),
    })
    .await?;
    Ok(EventStream::new(Feed::Data { values, _watch: InRuntime::new(watch) }))
}
