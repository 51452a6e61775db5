//! Watches and session states for C: one-shot watches set by a read, which
//! call their callback exactly once; persistent and recursive watches
//! (`corral_watch`), which call it for every event until freed or ended; and
//! the state callback of `corral_client_options`. Every callback runs on the
//! dispatch thread.

use std::ffi::{c_char, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use corral_core::client::{KeeperState, OneshotWatch, State, WatchedEvent};
use corral_core::proto::{AddWatchMode, WatcherType};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::client::{call, corral_client, corral_stat, put_stat};
use crate::dispatch::{post, UserData};
use crate::ffi::{out_arg, str_arg, write_buf};
use crate::result::*;
use crate::strings::corral_strings;

/// Event type: a session event, not a node's (`ZOO_SESSION_EVENT` is -1 too).
pub const CORRAL_EVENT_NONE: i32 = -1;
/// Event type: the node was created.
pub const CORRAL_EVENT_CREATED: i32 = 1;
/// Event type: the node was deleted.
pub const CORRAL_EVENT_DELETED: i32 = 2;
/// Event type: the node's data changed.
pub const CORRAL_EVENT_DATA_CHANGED: i32 = 3;
/// Event type: the node's children changed.
pub const CORRAL_EVENT_CHILDREN_CHANGED: i32 = 4;
/// Event type: a data watch was removed.
pub const CORRAL_EVENT_DATA_WATCH_REMOVED: i32 = 5;
/// Event type: a child watch was removed.
pub const CORRAL_EVENT_CHILD_WATCH_REMOVED: i32 = 6;
/// Event type: a persistent watch was removed.
pub const CORRAL_EVENT_PERSISTENT_WATCH_REMOVED: i32 = 7;

/// Watcher type: one-shot child watches (`ZWATCHTYPE_CHILD`).
pub const CORRAL_WATCHER_CHILDREN: i32 = 1;
/// Watcher type: one-shot data and exists watches (`ZWATCHTYPE_DATA`).
pub const CORRAL_WATCHER_DATA: i32 = 2;
/// Watcher type: every watch on the path (`ZWATCHTYPE_ANY`).
pub const CORRAL_WATCHER_ANY: i32 = 3;
/// Watcher type: persistent watches (`corral_client_add_watch`, not recursive).
pub const CORRAL_WATCHER_PERSISTENT: i32 = 4;
/// Watcher type: persistent recursive watches.
pub const CORRAL_WATCHER_PERSISTENT_RECURSIVE: i32 = 5;

/// Event state: a node event of a connected session (`ZOO_CONNECTED_STATE`).
pub const CORRAL_EVENT_STATE_CONNECTED: i32 = 3;
/// Event state: the session expired; the watch ends without a node event.
pub const CORRAL_EVENT_STATE_EXPIRED: i32 = -112;
/// Event state: the client was closed; the watch ends without a node event.
pub const CORRAL_EVENT_STATE_CLOSED: i32 = 7;

/// Client state: the first session is established.
pub const CORRAL_STATE_CONNECTED: i32 = 0;
/// Client state: disconnected; the session may still be alive.
pub const CORRAL_STATE_SUSPENDED: i32 = 1;
/// Client state: connected again.
pub const CORRAL_STATE_RECONNECTED: i32 = 2;
/// Client state: connected to a read-only server.
pub const CORRAL_STATE_READ_ONLY: i32 = 3;
/// Client state: the session expired (its ephemerals and watches are gone).
pub const CORRAL_STATE_LOST: i32 = 4;
/// Client state: the client was closed; no callback follows.
pub const CORRAL_STATE_CLOSED: i32 = 5;

/// What a watch reports. `path` is valid during the callback only.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct corral_watched_event {
    /// `CORRAL_EVENT_*`.
    pub r#type: i32,
    /// `CORRAL_EVENT_STATE_*`.
    pub state: i32,
    /// The node's path, relative to the client's chroot ("" for session events).
    pub path: *const c_char,
    /// zxid of the change (-1 when the server does not say, as ZooKeeper 3.8).
    pub zxid: i64,
}

/// A watch callback: runs on the dispatch thread; `event` and its `path`
/// are valid during the call only.
#[allow(non_camel_case_types)]
pub type corral_watch_fn =
    Option<unsafe extern "C" fn(event: *const corral_watched_event, userdata: *mut std::ffi::c_void)>;

/// A state callback: runs on the dispatch thread with a `CORRAL_STATE_*`.
#[allow(non_camel_case_types)]
pub type corral_state_fn = Option<unsafe extern "C" fn(state: i32, userdata: *mut std::ffi::c_void)>;

/// The number C sees for a client state.
pub fn state_code(s: State) -> i32 {
    match s {
        State::Connected => CORRAL_STATE_CONNECTED,
        State::Suspended => CORRAL_STATE_SUSPENDED,
        State::Reconnected => CORRAL_STATE_RECONNECTED,
        State::ReadOnly => CORRAL_STATE_READ_ONLY,
        State::Lost => CORRAL_STATE_LOST,
        State::Closed => CORRAL_STATE_CLOSED,
    }
}

/// Calls `cb` with `ev` on the dispatch thread.
async fn deliver(
    cb: unsafe extern "C" fn(*const corral_watched_event, *mut std::ffi::c_void),
    ud: UserData,
    ev: WatchedEvent,
    live: Option<Arc<AtomicBool>>,
) {
    post(move || {
        if live.is_some_and(|l| !l.load(Ordering::Acquire)) {
            return;
        }
        let path = CString::new(ev.path).unwrap_or_default();
        let state = match ev.state {
            KeeperState::SyncConnected => CORRAL_EVENT_STATE_CONNECTED,
            KeeperState::Expired => CORRAL_EVENT_STATE_EXPIRED,
            KeeperState::Closed => CORRAL_EVENT_STATE_CLOSED,
        };
        let c = corral_watched_event { r#type: ev.event_type as i32, state, path: path.as_ptr(), zxid: ev.zxid };
        // SAFETY: the caller registered `cb` for exactly this use.
        unsafe { cb(&c, ud.get()) };
    })
    .await;
}

/// Runs a one-shot watch's callback once, when it fires.
fn arm(
    watch: OneshotWatch,
    cb: unsafe extern "C" fn(*const corral_watched_event, *mut std::ffi::c_void),
    ud: UserData,
) {
    corral_core::runtime::get().spawn(async move { deliver(cb, ud, watch.await, None).await });
}

/// Delivers every state change of `client` to `cb` on the dispatch thread,
/// starting with the current state; ends after `CORRAL_STATE_CLOSED`.
pub fn follow_states(
    client: &corral_core::client::Client,
    cb: unsafe extern "C" fn(i32, *mut std::ffi::c_void),
    ud: UserData,
) {
    let mut rx = client.state_changes();
    let now = client.state();
    corral_core::runtime::get().spawn(async move {
        post(move || unsafe { cb(state_code(now), ud.get()) }).await;
        loop {
            match rx.recv().await {
                Ok(s) => {
                    post(move || unsafe { cb(state_code(s), ud.get()) }).await;
                    if s == State::Closed {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// `corral_client_exists` that also sets a watch: `callback` runs once, when
/// the node is created, deleted or changed (or the session ends). The watch
/// is set when the call returns `CORRAL_OK` or `CORRAL_NO_NODE`.
///
/// ```c
/// static void on_event(const corral_watched_event *ev, void *ud) {
///     printf("event %d on %s\n", ev->type, ev->path);
/// }
/// corral_client_exists_watch(zk, "/config", NULL, on_event, NULL);
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `stat`
/// is NULL or writable; `userdata` stays valid until the callback has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_exists_watch(
    zk: *const corral_client,
    path: *const c_char,
    stat: *mut corral_stat,
    callback: corral_watch_fn,
    userdata: *mut std::ffi::c_void,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let cb = callback.ok_or(CORRAL_NULL_ARGUMENT)?;
        let (found, watch) = call(zk, |c| Ok(async move { c.exists_w(path).await }))?;
        arm(watch, cb, UserData(userdata));
        put_stat(stat, found.ok_or(CORRAL_NO_NODE)?);
        Ok(())
    })
}

/// `corral_client_get` that also sets a watch: `callback` runs once, when
/// the node's data changes or it is deleted (or the session ends). The watch
/// is set when the call returns `CORRAL_OK` or `CORRAL_BUFFER_TOO_SMALL`.
///
/// # Safety
///
/// As `corral_client_get`; `userdata` stays valid until the callback has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_watch(
    zk: *const corral_client,
    path: *const c_char,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    stat: *mut corral_stat,
    callback: corral_watch_fn,
    userdata: *mut std::ffi::c_void,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let cb = callback.ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(len)?;
        let (data, s, watch) = call(zk, |c| Ok(async move { c.get_data_w(path).await }))?;
        arm(watch, cb, UserData(userdata));
        write_buf(&data, false, buf, cap, len)?;
        put_stat(stat, s);
        Ok(())
    })
}

/// `corral_client_get_children` that also sets a watch: `callback` runs
/// once, when a child is added or removed or the node is deleted (or the
/// session ends). The watch is set when the call returns `CORRAL_OK`.
///
/// # Safety
///
/// As `corral_client_get_children`; `userdata` stays valid until the callback has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_children_watch(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_strings,
    stat: *mut corral_stat,
    callback: corral_watch_fn,
    userdata: *mut std::ffi::c_void,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let cb = callback.ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let (children, s, watch) = call(zk, |c| Ok(async move { c.get_children_w(path).await }))?;
        arm(watch, cb, UserData(userdata));
        *out = corral_strings::boxed(children)?;
        put_stat(stat, s);
        Ok(())
    })
}

/// A persistent or recursive watch; freed with `corral_watch_free`.
#[allow(non_camel_case_types)]
pub struct corral_watch {
    live: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// Adds a persistent watch on `path` (every change of the node; with
/// `recursive`, of the node and every descendant, without child-list
/// events), ZooKeeper 3.6's addWatch. `callback` runs for every event, in
/// order, until `corral_watch_free` or a last event with state
/// `CORRAL_EVENT_STATE_EXPIRED` or `CORRAL_EVENT_STATE_CLOSED`.
///
/// ```c
/// corral_watch *w = NULL;
/// corral_client_add_watch(zk, "/services", true, on_event, NULL, &w);
/// // ... events arrive on the dispatch thread ...
/// corral_watch_free(w);
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `out`
/// is writable; `userdata` stays valid until the watch is freed or ended.
#[no_mangle]
pub unsafe extern "C" fn corral_client_add_watch(
    zk: *const corral_client,
    path: *const c_char,
    recursive: bool,
    callback: corral_watch_fn,
    userdata: *mut std::ffi::c_void,
    out: *mut *mut corral_watch,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let cb = callback.ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let mode = if recursive { AddWatchMode::PersistentRecursive } else { AddWatchMode::Persistent };
        let mut stream = call(zk, |c| Ok(async move { c.add_watch(path, mode).await }))?;
        let live = Arc::new(AtomicBool::new(true));
        let (flag, ud) = (live.clone(), UserData(userdata));
        let task = corral_core::runtime::get().spawn(async move {
            while let Some(ev) = stream.next().await {
                deliver(cb, ud, ev, Some(flag.clone())).await;
            }
        });
        *out = Box::into_raw(Box::new(corral_watch { live, task }));
        Ok(())
    })
}

/// Stops a persistent watch's callbacks and frees it; NULL does nothing.
/// Once it returns no new callback starts (one already running on the
/// dispatch thread finishes; from inside the callback itself, none follows).
///
/// # Safety
///
/// `watch` is NULL or a handle not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_watch_free(watch: *mut corral_watch) {
    if watch.is_null() {
        return;
    }
    let watch = Box::from_raw(watch);
    watch.live.store(false, Ordering::Release);
    watch.task.abort();
}

/// Removes this client's watches of `watcher_type` (`CORRAL_WATCHER_*`;
/// `CORRAL_WATCHER_ANY`: all of them) on `path`, on the server and here
/// (ZooKeeper 3.5's removeWatches). Each removed watch's callback runs once
/// more, with `CORRAL_EVENT_DATA_WATCH_REMOVED`,
/// `CORRAL_EVENT_CHILD_WATCH_REMOVED` or `CORRAL_EVENT_PERSISTENT_WATCH_REMOVED`
/// (a persistent watch then ends; still free its handle).
/// `CORRAL_NO_WATCHER` when there was no such watch.
///
/// ```c
/// corral_client_exists_watch(zk, "/config", NULL, on_event, NULL);
/// corral_client_remove_watches(zk, "/config", CORRAL_WATCHER_ANY);   // on_event gets DATA_WATCH_REMOVED
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_client_remove_watches(
    zk: *const corral_client,
    path: *const c_char,
    watcher_type: i32,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let kind = match watcher_type {
            CORRAL_WATCHER_CHILDREN => WatcherType::Children,
            CORRAL_WATCHER_DATA => WatcherType::Data,
            CORRAL_WATCHER_ANY => WatcherType::Any,
            CORRAL_WATCHER_PERSISTENT => WatcherType::Persistent,
            CORRAL_WATCHER_PERSISTENT_RECURSIVE => WatcherType::PersistentRecursive,
            _ => return Err(CORRAL_INVALID_ARGUMENT),
        };
        call(zk, |c| Ok(async move { c.remove_watches(path, kind).await }))
    })
}

/// The client's state now (`CORRAL_STATE_*`).
///
/// # Safety
///
/// `zk` is NULL or a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_state(zk: *const corral_client, out: *mut i32) -> corral_result {
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = state_code(zk.get()?.state());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_core::proto::EventType;

    #[test]
    fn event_numbers_are_zookeepers() {
        for (ours, theirs) in [
            (CORRAL_EVENT_NONE, EventType::None),
            (CORRAL_EVENT_CREATED, EventType::NodeCreated),
            (CORRAL_EVENT_DELETED, EventType::NodeDeleted),
            (CORRAL_EVENT_DATA_CHANGED, EventType::NodeDataChanged),
            (CORRAL_EVENT_CHILDREN_CHANGED, EventType::NodeChildrenChanged),
            (CORRAL_EVENT_DATA_WATCH_REMOVED, EventType::DataWatchRemoved),
            (CORRAL_EVENT_CHILD_WATCH_REMOVED, EventType::ChildWatchRemoved),
            (CORRAL_EVENT_PERSISTENT_WATCH_REMOVED, EventType::PersistentWatchRemoved),
        ] {
            assert_eq!(EventType::from_i32(ours), Some(theirs));
        }
    }
}
