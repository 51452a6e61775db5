//! The feeds behind the recipes' async iterators (`cache.events()`,
//! `latch.changes()`, `party.watch()`, ...): one `EventStream` class over
//! every core channel, read one `next()` at a time; index.js turns it into
//! an async iterator, as it does for `client.watch()`.

use std::sync::Arc;

use corral::proto::Stat as CoreStat;
use corral::recipes::children_cache::{ChildrenWatch as CoreChildrenWatch, PathChildrenCacheEvent};
use corral::recipes::discovery::{ServiceCache, ServiceInstance};
use corral::recipes::party::MemberWatch;
use corral::recipes::tree_cache::{ChildData as CoreChildData, TreeCacheEvent};
use corral::recipes::watchers::DataWatch;
use napi::bindgen_prelude::{JsObjectValue, Object, PromiseRaw, ToNapiValue, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::{broadcast, mpsc, watch};

use crate::client::CallOptions;
use crate::convert::Stat;
use crate::promise::spawn;
use crate::recipes::{instance_to_js, CacheEvent, ChildData, InRuntime};

/// A core channel of recipe events.
pub(crate) enum Feed {
    /// A tree cache's events.
    Tree(broadcast::Receiver<TreeCacheEvent>),
    /// A path children cache's events.
    Children(broadcast::Receiver<PathChildrenCacheEvent>),
    /// A node cache's node after each change.
    Node(broadcast::Receiver<Option<CoreChildData>>),
    /// A shared count's new values.
    Count(broadcast::Receiver<i32>),
    /// A latch's leadership.
    Leadership(watch::Receiver<bool>),
    /// A party's members: the current list first, then each change.
    Members { watch: InRuntime<MemberWatch>, first: bool },
    /// A service's instances: the current list first, then each change.
    Instances { cache: InRuntime<ServiceCache>, first: bool },
    /// A node's children, as kazoo's `ChildrenWatch` lists them.
    ChildList(InRuntime<CoreChildrenWatch>),
    /// A node's data and Stat, as kazoo's `DataWatch` calls back with them.
    Data { values: mpsc::Receiver<Option<(Vec<u8>, CoreStat)>>, _watch: InRuntime<DataWatch> },
}

/// One item of a feed, before it is a JS value.
pub(crate) enum Event {
    Cache(CacheEvent),
    Node(Option<ChildData>),
    Count(i32),
    Leader(bool),
    Names(Vec<String>),
    Instances(Vec<ServiceInstance>),
    Data(Option<(Vec<u8>, CoreStat)>),
}

/// The next message of a broadcast channel; a reader that fell behind
/// skips what it missed (the recipe's current state is readable instead).
async fn recv<T: Clone>(rx: &mut broadcast::Receiver<T>) -> Option<T> {
    loop {
        match rx.recv().await {
            Ok(v) => return Some(v),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// A list watch's current list on the first call, then its next change.
async fn list<T>(
    first: &mut bool,
    current: impl FnOnce() -> T,
    changed: impl std::future::Future<Output = Option<T>>,
) -> Option<T> {
    if std::mem::take(first) {
        return Some(current());
    }
    changed.await
}

impl Feed {
    async fn next(&mut self) -> Option<Event> {
        match self {
            Feed::Tree(rx) => recv(rx).await.map(|e| Event::Cache(e.into())),
            Feed::Children(rx) => recv(rx).await.map(|e| Event::Cache(e.into())),
            Feed::Node(rx) => recv(rx).await.map(|d| Event::Node(d.map(ChildData::from))),
            Feed::Count(rx) => recv(rx).await.map(Event::Count),
            Feed::Leadership(rx) => {
                rx.changed().await.ok()?;
                let leads = *rx.borrow_and_update();
                Some(Event::Leader(leads))
            }
            Feed::Members { watch, first } => {
                let w: &mut MemberWatch = watch;
                let current = w.current();
                list(first, || current, w.changed()).await.map(Event::Names)
            }
            Feed::Instances { cache, first } => {
                let c: &mut ServiceCache = cache;
                let current = c.instances();
                list(first, || current, c.changed()).await.map(Event::Instances)
            }
            Feed::ChildList(w) => w.next().await.map(Event::Names),
            Feed::Data { values, .. } => values.recv().await.map(Event::Data),
        }
    }
}

impl Event {
    fn into_js(self, env: &Env) -> Result<Unknown<'_>> {
        match self {
            Event::Cache(e) => e.into_unknown(env),
            Event::Node(d) => d.into_unknown(env),
            Event::Count(n) => n.into_unknown(env),
            Event::Leader(b) => b.into_unknown(env),
            Event::Names(names) => names.into_unknown(env),
            Event::Instances(list) => {
                let items = list.iter().map(|i| instance_to_js(env, i)).collect::<Result<Vec<_>>>()?;
                items.into_unknown(env)
            }
            Event::Data(None) => napi::bindgen_prelude::Null.into_unknown(env),
            Event::Data(Some((data, stat))) => {
                let mut out = Object::new(env)?;
                out.set_named_property("data", napi::bindgen_prelude::Buffer::from(data))?;
                out.set_named_property("stat", Stat::from(stat))?;
                out.into_unknown(env)
            }
        }
    }
}

/// The items of one recipe feed, until it ends (`next()` resolves `null`).
#[napi]
pub struct EventStream {
    feed: Arc<tokio::sync::Mutex<Option<Feed>>>,
}

impl EventStream {
    pub(crate) fn new(feed: Feed) -> EventStream {
        EventStream { feed: Arc::new(tokio::sync::Mutex::new(Some(feed))) }
    }
}

#[napi]
impl EventStream {
    /// `{ value }` of the next item; `null` once the feed has ended (the
    /// recipe or the client closed, or `close()`).
    #[napi(ts_return_type = "Promise<{ value: unknown } | null>")]
    pub fn next<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Option<Object<'env>>>> {
        let feed = self.feed.clone();
        let fut = async move {
            let mut feed = feed.lock().await;
            let Some(f) = feed.as_mut() else {
                return Ok(None);
            };
            let event = f.next().await;
            if event.is_none() {
                *feed = None;
            }
            Ok(event)
        };
        spawn(env, options.and_then(|o| o.signal), fut, |env, event| {
            event
                .map(|e| {
                    let mut out = Object::new(env)?;
                    out.set_named_property("value", e.into_js(env)?)?;
                    Ok(out)
                })
                .transpose()
        })
    }

    /// Stops listening (a pending `next()` settles first).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let feed = self.feed.clone();
        let fut = async move {
            let taken = feed.lock().await.take();
            drop(taken);
            Ok(())
        };
        spawn(env, None, fut, |_, v| Ok(v))
    }
}
