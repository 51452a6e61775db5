//! Caches and service discovery for C, each the core's own: `corral_node_cache`
//! (Curator's `NodeCache`), `corral_tree_cache` (Curator's `TreeCache`) and
//! `corral_discovery` (Curator's `ServiceDiscovery`, its JSON instances).
//! Change callbacks run on the dispatch thread.

use std::ffi::{c_char, c_void, CString};

use corral_core::recipes::discovery::{ServiceDiscovery, ServiceInstance};
use corral_core::recipes::node_cache::NodeCache;
use corral_core::recipes::tree_cache::{ChildData, TreeCache, TreeCacheEvent};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::client::{corral_client, corral_stat, put_stat};
use crate::dispatch::{post, UserData};
use crate::ffi::{out_arg, str_arg, wait, write_buf};
use crate::result::*;
use crate::strings::corral_strings;

/// Tree cache event: a node appeared (also for every node of the first load).
pub const CORRAL_CACHE_NODE_ADDED: i32 = 0;
/// Tree cache event: a node's data changed.
pub const CORRAL_CACHE_NODE_UPDATED: i32 = 1;
/// Tree cache event: a node went away (its last cached state is given).
pub const CORRAL_CACHE_NODE_REMOVED: i32 = 2;
/// Tree cache event: the first load is complete.
pub const CORRAL_CACHE_INITIALIZED: i32 = 3;
/// Tree cache event: the connection dropped; the cache may be stale.
pub const CORRAL_CACHE_CONNECTION_SUSPENDED: i32 = 4;
/// Tree cache event: connected again; the subtree is read again.
pub const CORRAL_CACHE_CONNECTION_RECONNECTED: i32 = 5;
/// Tree cache event: the session expired.
pub const CORRAL_CACHE_CONNECTION_LOST: i32 = 6;

/// A cached node's change: `path` (NULL for connection events), its data
/// and stat (NULL when it does not exist, or for connection events). All are
/// valid during the call only.
#[allow(non_camel_case_types)]
pub type corral_cache_fn = Option<
    unsafe extern "C" fn(
        event: i32,
        path: *const c_char,
        data: *const u8,
        len: usize,
        stat: *const corral_stat,
        userdata: *mut c_void,
    ),
>;

type Callback = unsafe extern "C" fn(i32, *const c_char, *const u8, usize, *const corral_stat, *mut c_void);

/// Calls `cb` for `event` about `node` on the dispatch thread.
async fn report(cb: Callback, ud: UserData, event: i32, node: Option<ChildData>) {
    post(move || {
        let path = node.as_ref().and_then(|n| CString::new(n.path.clone()).ok());
        let stat = node.as_ref().map(|n| corral_stat::from(n.stat));
        let (data, len) = node.as_ref().map_or((std::ptr::null(), 0), |n| (n.data.as_ptr(), n.data.len()));
        unsafe {
            cb(
                event,
                path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
                data,
                len,
                stat.as_ref().map_or(std::ptr::null(), |s| s as *const corral_stat),
                ud.get(),
            )
        }
    })
    .await;
}

/// Forwards a broadcast of changes to `forward` until it ends (a slow
/// receiver that fell behind skips to the newest).
pub(crate) fn follow<T: Clone + Send + 'static, F>(
    mut rx: broadcast::Receiver<T>,
    forward: impl Fn(T) -> F + Send + 'static,
) -> JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send,
{
    corral_core::runtime::get().spawn(async move {
        loop {
            match rx.recv().await {
                Ok(v) => forward(v).await,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

/// A cache of one node.
#[allow(non_camel_case_types)]
pub struct corral_node_cache {
    cache: NodeCache,
    task: Option<JoinHandle<()>>,
}

/// Starts caching the node at `path` (it need not exist). `callback` (may be
/// NULL) runs on the dispatch thread after every change with
/// `CORRAL_CACHE_NODE_UPDATED` (created or changed) or
/// `CORRAL_CACHE_NODE_REMOVED`; the first read is not reported.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
/// writable; `userdata` stays valid until the cache is freed.
#[no_mangle]
pub unsafe extern "C" fn corral_node_cache_start(
    zk: *const corral_client,
    path: *const c_char,
    callback: corral_cache_fn,
    userdata: *mut c_void,
    out: *mut *mut corral_node_cache,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let cache = NodeCache::new(&client, path);
        let ud = UserData(userdata);
        let task = callback.map(|cb| {
            follow(cache.changes(), move |now: Option<ChildData>| {
                let event = if now.is_some() { CORRAL_CACHE_NODE_UPDATED } else { CORRAL_CACHE_NODE_REMOVED };
                report(cb, ud, event, now)
            })
        });
        wait(cache.start())?;
        *out = Box::into_raw(Box::new(corral_node_cache { cache, task }));
        Ok(())
    })
}

/// The cached data (`buf` of `cap` bytes, `*len` its length) and stat (may
/// be NULL): `CORRAL_OK`, `CORRAL_NO_NODE` when the node does not exist, or
/// `CORRAL_BUFFER_TOO_SMALL` with the length needed.
///
/// # Safety
///
/// `cache` is NULL or live; `buf` has `cap` writable bytes; `len` is
/// writable; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_node_cache_current(
    cache: *const corral_node_cache,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let c = cache.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(len)?;
        let now = c.cache.current().ok_or(CORRAL_NO_NODE)?;
        write_buf(&now.data, false, buf, cap, len)?;
        put_stat(stat, now.stat);
        Ok(())
    })
}

/// Stops the cache and frees it; NULL does nothing. No callback starts after.
///
/// # Safety
///
/// `cache` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_node_cache_free(cache: *mut corral_node_cache) {
    if cache.is_null() {
        return;
    }
    let c = Box::from_raw(cache);
    c.cache.close();
    if let Some(task) = c.task {
        task.abort();
    }
}

/// A cache of a subtree.
#[allow(non_camel_case_types)]
pub struct corral_tree_cache {
    cache: TreeCache,
    task: Option<JoinHandle<()>>,
}

/// Starts caching the subtree at `path`; `callback` (may be NULL) gets
/// every `CORRAL_CACHE_*` event in order, starting with one
/// `CORRAL_CACHE_NODE_ADDED` per node of the first load and then
/// `CORRAL_CACHE_INITIALIZED`.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
/// writable; `userdata` stays valid until the cache is freed.
#[no_mangle]
pub unsafe extern "C" fn corral_tree_cache_start(
    zk: *const corral_client,
    path: *const c_char,
    callback: corral_cache_fn,
    userdata: *mut c_void,
    out: *mut *mut corral_tree_cache,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let cache = TreeCache::new(&client, path);
        let ud = UserData(userdata);
        let task = callback.map(|cb| {
            follow(cache.events(), move |ev: TreeCacheEvent| {
                let (event, node) = match ev {
                    TreeCacheEvent::NodeAdded(d) => (CORRAL_CACHE_NODE_ADDED, Some(d)),
                    TreeCacheEvent::NodeUpdated(d) => (CORRAL_CACHE_NODE_UPDATED, Some(d)),
                    TreeCacheEvent::NodeRemoved(d) => (CORRAL_CACHE_NODE_REMOVED, Some(d)),
                    TreeCacheEvent::Initialized => (CORRAL_CACHE_INITIALIZED, None),
                    TreeCacheEvent::ConnectionSuspended => (CORRAL_CACHE_CONNECTION_SUSPENDED, None),
                    TreeCacheEvent::ConnectionReconnected => (CORRAL_CACHE_CONNECTION_RECONNECTED, None),
                    TreeCacheEvent::ConnectionLost => (CORRAL_CACHE_CONNECTION_LOST, None),
                };
                report(cb, ud, event, node)
            })
        });
        wait(cache.start())?;
        *out = Box::into_raw(Box::new(corral_tree_cache { cache, task }));
        Ok(())
    })
}

/// The cached data of `path` (in the subtree), as `corral_node_cache_current`.
///
/// # Safety
///
/// `cache` is NULL or live; `path` is a NUL-terminated string; `buf` has
/// `cap` writable bytes; `len` is writable; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_tree_cache_data(
    cache: *const corral_tree_cache,
    path: *const c_char,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let c = cache.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let path = str_arg(path)?;
        out_arg(len)?;
        let now = c.cache.current_data(path).ok_or(CORRAL_NO_NODE)?;
        write_buf(&now.data, false, buf, cap, len)?;
        put_stat(stat, now.stat);
        Ok(())
    })
}

/// The cached children's names of `path` as a new list; `CORRAL_NO_NODE`
/// when `path` is not cached.
///
/// # Safety
///
/// `cache` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_tree_cache_children(
    cache: *const corral_tree_cache,
    path: *const c_char,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let c = cache.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let children = c.cache.current_children(path).ok_or(CORRAL_NO_NODE)?;
        *out = corral_strings::boxed(children.into_keys().collect())?;
        Ok(())
    })
}

/// Stops the cache and frees it; NULL does nothing.
///
/// # Safety
///
/// `cache` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_tree_cache_free(cache: *mut corral_tree_cache) {
    if cache.is_null() {
        return;
    }
    let c = Box::from_raw(cache);
    c.cache.close();
    if let Some(task) = c.task {
        task.abort();
    }
}

/// Service registration and lookup under a base path, in Curator's layout
/// (`<base>/<name>/<id>` holding the instance as JSON).
#[allow(non_camel_case_types)]
pub struct corral_discovery {
    discovery: Option<ServiceDiscovery>,
}

/// Service discovery under `base_path` (e.g. `/services`).
///
/// ```c
/// corral_discovery *sd = NULL;
/// corral_discovery_new(zk, "/services", &sd);
/// corral_discovery_register(sd, "billing", "host-a-1", "10.1.2.3", 8080, NULL);
/// corral_strings *found = NULL;
/// corral_discovery_instances(sd, "billing", &found);   // each one Curator's JSON
/// corral_strings_free(found);
/// corral_discovery_free(sd);                           // unregisters what it registered
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `base_path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_discovery_new(
    zk: *const corral_client,
    base_path: *const c_char,
    out: *mut *mut corral_discovery,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let base = str_arg(base_path)?;
        let out = out_arg(out)?;
        *out = Box::into_raw(Box::new(corral_discovery { discovery: Some(ServiceDiscovery::new(&client, base)) }));
        Ok(())
    })
}

/// Registers instance `id` of service `name` at `address:port`, with an
/// optional JSON payload (NULL: none; not JSON: `CORRAL_INVALID_ARGUMENT`).
/// It lives as long as this session (re-registered after a new one) or
/// until unregistered.
///
/// # Safety
///
/// `discovery` is NULL or live; the strings are NUL-terminated (`payload_json` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn corral_discovery_register(
    discovery: *const corral_discovery,
    name: *const c_char,
    id: *const c_char,
    address: *const c_char,
    port: i32,
    payload_json: *const c_char,
) -> corral_result {
    guard(|| {
        let d = discovery.as_ref().and_then(|d| d.discovery.as_ref()).ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut instance =
            ServiceInstance::new(str_arg(name)?).with_id(str_arg(id)?).with_address(str_arg(address)?).with_port(port);
        if !payload_json.is_null() {
            let payload = serde_json::from_str(str_arg(payload_json)?).map_err(|_| CORRAL_INVALID_ARGUMENT)?;
            instance = instance.with_payload(payload);
        }
        wait(d.register(&instance))
    })
}

/// Removes instance `id` of service `name` (registered here or not). A
/// dynamic instance is re-created by the handle that registered it while
/// that handle lives: unregister it there (or free that handle).
///
/// # Safety
///
/// `discovery` is NULL or live; the strings are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn corral_discovery_unregister(
    discovery: *const corral_discovery,
    name: *const c_char,
    id: *const c_char,
) -> corral_result {
    guard(|| {
        let d = discovery.as_ref().and_then(|d| d.discovery.as_ref()).ok_or(CORRAL_NULL_ARGUMENT)?;
        wait(d.unregister(&ServiceInstance::new(str_arg(name)?).with_id(str_arg(id)?)))
    })
}

/// The registered service names as a new list.
///
/// # Safety
///
/// `discovery` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_discovery_names(
    discovery: *const corral_discovery,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let d = discovery.as_ref().and_then(|d| d.discovery.as_ref()).ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = corral_strings::boxed(wait(d.query_for_names())?)?;
        Ok(())
    })
}

/// The instances of service `name`, each as its JSON (Curator's
/// `ServiceInstance` serialisation), as a new list.
///
/// # Safety
///
/// `discovery` is NULL or live; `name` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_discovery_instances(
    discovery: *const corral_discovery,
    name: *const c_char,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let d = discovery.as_ref().and_then(|d| d.discovery.as_ref()).ok_or(CORRAL_NULL_ARGUMENT)?;
        let name = str_arg(name)?;
        let out = out_arg(out)?;
        let json = wait(d.query_for_instances(name))?
            .iter()
            .map(|i| String::from_utf8(i.to_json()).map_err(|_| CORRAL_INVALID_UTF8))
            .collect::<Result<Vec<_>, _>>()?;
        *out = corral_strings::boxed(json)?;
        Ok(())
    })
}

/// Unregisters what this handle registered and frees it; NULL does nothing.
///
/// # Safety
///
/// `discovery` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_discovery_free(discovery: *mut corral_discovery) {
    if discovery.is_null() {
        return;
    }
    let mut d = Box::from_raw(discovery);
    if let Some(sd) = d.discovery.take() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(sd.close());
        }));
    }
}
