//! The callback API: each `corral_client_*_async` call returns at once and
//! runs its completion exactly once on the dispatch thread; the completions
//! of one client run in the order its calls were made (ZooKeeper answers a
//! session's requests in order). A call that returns an error code (a NULL
//! or invalid argument, a closed handle, `CORRAL_QUEUE_FULL`) runs no
//! completion.

use std::ffi::{c_char, c_void, CString};
use std::future::Future;
use std::task::{Context, Poll, Waker};

use corral_core::client::{Client, CreateOptions, Error as ClientError};
use corral_core::proto::{CreateMode, Stat};
use tokio::sync::{mpsc, oneshot};

use crate::client::{corral_client, corral_stat};
use crate::dispatch::{post, UserData};
use crate::ffi::{bytes_arg, str_arg};
use crate::result::*;
use crate::strings::corral_strings;

/// Completion of an operation without a result (delete, sync).
#[allow(non_camel_case_types)]
pub type corral_void_completion = Option<unsafe extern "C" fn(rc: corral_result, userdata: *mut c_void)>;
/// Completion with a stat (set, exists: `stat` is NULL unless `rc` is `CORRAL_OK`).
#[allow(non_camel_case_types)]
pub type corral_stat_completion =
    Option<unsafe extern "C" fn(rc: corral_result, stat: *const corral_stat, userdata: *mut c_void)>;
/// Completion with data and stat (get); valid during the call only.
#[allow(non_camel_case_types)]
pub type corral_data_completion = Option<
    unsafe extern "C" fn(
        rc: corral_result,
        data: *const u8,
        len: usize,
        stat: *const corral_stat,
        userdata: *mut c_void,
    ),
>;
/// Completion with a string (create: the created path); valid during the call only.
#[allow(non_camel_case_types)]
pub type corral_string_completion =
    Option<unsafe extern "C" fn(rc: corral_result, value: *const c_char, userdata: *mut c_void)>;
/// Completion with a list (children); the list is valid during the call only.
#[allow(non_camel_case_types)]
pub type corral_strings_completion =
    Option<unsafe extern "C" fn(rc: corral_result, list: *const corral_strings, userdata: *mut c_void)>;

/// `_async` calls of one client whose completions have not run yet, at most;
/// one more is refused with `CORRAL_QUEUE_FULL`.
pub const PENDING_COMPLETIONS_MAX: usize = 65_536;

type Job = Box<dyn FnOnce() + Send>;

/// Hands completions to the dispatch thread in call order: each call's
/// outcome arrives on its own channel, and one task takes those channels in
/// the order they were queued.
pub(crate) struct Orderer {
    queue: mpsc::Sender<oneshot::Receiver<Job>>,
}

impl Orderer {
    fn new() -> Orderer {
        let (queue, mut rx) = mpsc::channel::<oneshot::Receiver<Job>>(PENDING_COMPLETIONS_MAX);
        corral_core::runtime::get().spawn(async move {
            while let Some(next) = rx.recv().await {
                if let Ok(job) = next.await {
                    post(job).await;
                }
            }
        });
        Orderer { queue }
    }
}

/// Starts `op` on the client's runtime and hands its outcome to `deliver`
/// on the dispatch thread, after the completions of earlier calls.
unsafe fn start<T, F>(
    zk: *const corral_client,
    op: impl FnOnce(Client) -> Result<F, corral_result>,
    deliver: impl FnOnce(Result<T, corral_result>) + Send + 'static,
) -> corral_result
where
    F: Future<Output = Result<T, ClientError>> + Send + 'static,
    T: Send + 'static,
{
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut fut = Box::pin(op(zk.get()?)?);
        let (tx, rx) = oneshot::channel::<Job>();
        let orderer = zk.completions.get_or_init(Orderer::new);
        orderer.queue.try_send(rx).map_err(|_| CORRAL_QUEUE_FULL)?;
        // The first poll queues the request on the connection (the client
        // sends requests in the order their futures are first polled): done
        // here, on the caller's thread, so requests go out in call order.
        let runtime = corral_core::runtime::get();
        let first = {
            let _entered = runtime.enter();
            fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
        };
        match first {
            Poll::Ready(out) => {
                let outcome = out.map_err(|e| from_client(&e));
                let _ = tx.send(Box::new(move || deliver(outcome)));
            }
            Poll::Pending => {
                runtime.spawn(async move {
                    let outcome = fut.await.map_err(|e| from_client(&e));
                    let _ = tx.send(Box::new(move || deliver(outcome)));
                });
            }
        }
        Ok(())
    })
}

/// The stat for C, kept alive by the caller's stack frame.
fn c_stat(s: Stat) -> corral_stat {
    s.into()
}

/// Creates a node (as `corral_client_create`, open ACL, no TTL modes); the
/// completion gets the created path.
///
/// ```c
/// static void created(corral_result rc, const char *path, void *ud) {
///     if (rc == CORRAL_OK) printf("created %s\n", path);
/// }
/// corral_client_create_async(zk, "/jobs/job-", data, len, CORRAL_PERSISTENT_SEQUENTIAL, created, NULL);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `data` has
/// `data_len` readable bytes; `userdata` stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_create_async(
    zk: *const corral_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    mode: i32,
    completion: corral_string_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            let data = bytes_arg(data, data_len)?.to_vec();
            let mode = CreateMode::from_flags(mode).ok_or(CORRAL_INVALID_ARGUMENT)?;
            if matches!(mode, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl) {
                return Err(CORRAL_INVALID_ARGUMENT);
            }
            Ok(async move { c.create(&path, &data, &CreateOptions::mode(mode)).await })
        },
        move |out: Result<String, corral_result>| match out
            .and_then(|p| CString::new(p).map_err(|_| CORRAL_INVALID_UTF8))
        {
            Ok(p) => unsafe { cb(CORRAL_OK, p.as_ptr(), ud.get()) },
            Err(rc) => unsafe { cb(rc, std::ptr::null(), ud.get()) },
        },
    )
}

/// Deletes a node if its version is `version` (-1: any).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_delete_async(
    zk: *const corral_client,
    path: *const c_char,
    version: i32,
    completion: corral_void_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            Ok(async move { c.delete(&path, Some(version).filter(|v| *v != -1)).await })
        },
        move |out: Result<(), corral_result>| unsafe { cb(out.err().unwrap_or(CORRAL_OK), ud.get()) },
    )
}

/// Whether a node exists: `CORRAL_OK` with its stat, or `CORRAL_NO_NODE`.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_exists_async(
    zk: *const corral_client,
    path: *const c_char,
    completion: corral_stat_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            Ok(async move { c.exists(&path).await })
        },
        move |out: Result<Option<Stat>, corral_result>| match out.and_then(|s| s.ok_or(CORRAL_NO_NODE)) {
            Ok(s) => unsafe { cb(CORRAL_OK, &c_stat(s), ud.get()) },
            Err(rc) => unsafe { cb(rc, std::ptr::null(), ud.get()) },
        },
    )
}

/// Reads a node's data and stat.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_async(
    zk: *const corral_client,
    path: *const c_char,
    completion: corral_data_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            Ok(async move { c.get_data(&path).await })
        },
        move |out: Result<(Vec<u8>, Stat), corral_result>| match out {
            Ok((data, s)) => unsafe { cb(CORRAL_OK, data.as_ptr(), data.len(), &c_stat(s), ud.get()) },
            Err(rc) => unsafe { cb(rc, std::ptr::null(), 0, std::ptr::null(), ud.get()) },
        },
    )
}

/// Replaces a node's data if its version is `version` (-1: any); the
/// completion gets the new stat.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `data` has
/// `data_len` readable bytes; `userdata` stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_set_async(
    zk: *const corral_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    version: i32,
    completion: corral_stat_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            let data = bytes_arg(data, data_len)?.to_vec();
            Ok(async move { c.set_data(&path, &data, Some(version).filter(|v| *v != -1)).await })
        },
        move |out: Result<Stat, corral_result>| match out {
            Ok(s) => unsafe { cb(CORRAL_OK, &c_stat(s), ud.get()) },
            Err(rc) => unsafe { cb(rc, std::ptr::null(), ud.get()) },
        },
    )
}

/// A node's children; the list is valid during the completion only.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_children_async(
    zk: *const corral_client,
    path: *const c_char,
    completion: corral_strings_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            Ok(async move { c.get_children(&path).await })
        },
        move |out: Result<Vec<String>, corral_result>| match out.and_then(corral_strings::boxed) {
            Ok(list) => unsafe {
                cb(CORRAL_OK, list, ud.get());
                crate::strings::corral_strings_free(list);
            },
            Err(rc) => unsafe { cb(rc, std::ptr::null(), ud.get()) },
        },
    )
}

/// Waits (asynchronously) until the server has caught up with the leader.
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_sync_async(
    zk: *const corral_client,
    path: *const c_char,
    completion: corral_void_completion,
    userdata: *mut c_void,
) -> corral_result {
    let Some(cb) = completion else { return CORRAL_NULL_ARGUMENT };
    let ud = UserData(userdata);
    start(
        zk,
        |c| {
            let path = str_arg(path)?.to_owned();
            Ok(async move { c.sync(&path).await })
        },
        move |out: Result<(), corral_result>| unsafe { cb(out.err().unwrap_or(CORRAL_OK), ud.get()) },
    )
}
