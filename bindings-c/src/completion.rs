//! The callback API: each `corral_client_*_async` call returns at once and
//! runs its completion exactly once on the dispatch thread; the completions
//! of one client run in the order its calls were made (ZooKeeper answers a
//! session's requests in order). A call that returns an error code (a NULL
//! or invalid argument, a closed handle, `CORRAL_QUEUE_FULL`) runs no
//! completion.

use std::ffi::{c_char, c_void, CString};
use std::future::Future;

use corral_core::client::{Client, CreateOptions, Error as ClientError, OpResult};
use corral_core::proto::{Acl, CreateMode, Stat};
use tokio::sync::{mpsc, oneshot};

use crate::acl::{acl_arg, corral_acl, corral_acl_list};
use crate::client::{corral_client, corral_stat};
use crate::dispatch::{post, UserData};
use crate::ffi::{bytes_arg, spawn_started, str_arg};
use crate::result::*;
use crate::strings::corral_strings;
use crate::txn::{corral_txn, corral_txn_results};

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

/// Completion with an ACL and its stat (get_acl); both valid during the call only.
#[allow(non_camel_case_types)]
pub type corral_acl_completion = Option<
    unsafe extern "C" fn(
        rc: corral_result,
        acl: *const corral_acl_list,
        stat: *const corral_stat,
        userdata: *mut c_void,
    ),
>;
/// Completion of a transaction: `rc` as `corral_txn_commit` returns it;
/// `results` (valid during the call only) is NULL when the transaction
/// never reached the server.
#[allow(non_camel_case_types)]
pub type corral_txn_completion =
    Option<unsafe extern "C" fn(rc: corral_result, results: *const corral_txn_results, userdata: *mut c_void)>;

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

impl Default for Orderer {
    fn default() -> Orderer {
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

impl Orderer {
    /// Takes a place in line, makes the call's future with `make` (an error
    /// gives the place up: no completion runs), starts it (its request is
    /// queued on the connection before this returns, so requests go out in
    /// call order) and hands its outcome to `deliver` on the dispatch
    /// thread, after the completions of earlier calls.
    fn start<T, F>(
        &self,
        make: impl FnOnce() -> Result<F, corral_result>,
        deliver: impl FnOnce(Result<T, corral_result>) + Send + 'static,
    ) -> Result<(), corral_result>
    where
        F: Future<Output = Result<T, ClientError>> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Job>();
        self.queue.try_send(rx).map_err(|_| CORRAL_QUEUE_FULL)?;
        // On error `tx` is dropped here, and the line skips this place.
        let fut = make()?;
        spawn_started(async move {
            let outcome = fut.await.map_err(|e| from_client(&e));
            let _ = tx.send(Box::new(move || deliver(outcome)));
        });
        Ok(())
    }
}

/// A completion function and how it receives a call's value.
trait Completion<T>: Copy + Send + 'static {
    /// Calls it with the value (`CORRAL_OK`, or the code the value carries).
    ///
    /// # Safety
    ///
    /// The function is the caller's, registered for exactly this use.
    unsafe fn ok(self, value: T, ud: *mut c_void);
    /// Calls it with `rc` and empty (NULL) outputs.
    ///
    /// # Safety
    ///
    /// As `ok`.
    unsafe fn err(self, rc: corral_result, ud: *mut c_void);
}

impl Completion<()> for unsafe extern "C" fn(corral_result, *mut c_void) {
    unsafe fn ok(self, (): (), ud: *mut c_void) {
        self(CORRAL_OK, ud)
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, ud)
    }
}

type StatFn = unsafe extern "C" fn(corral_result, *const corral_stat, *mut c_void);

impl Completion<Stat> for StatFn {
    unsafe fn ok(self, s: Stat, ud: *mut c_void) {
        self(CORRAL_OK, &corral_stat::from(s), ud)
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, std::ptr::null(), ud)
    }
}

/// exists: no node is `CORRAL_NO_NODE`.
impl Completion<Option<Stat>> for StatFn {
    unsafe fn ok(self, s: Option<Stat>, ud: *mut c_void) {
        match s {
            Some(s) => Completion::<Stat>::ok(self, s, ud),
            None => Completion::<Stat>::err(self, CORRAL_NO_NODE, ud),
        }
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        Completion::<Stat>::err(self, rc, ud)
    }
}

impl Completion<(Vec<u8>, Stat)>
    for unsafe extern "C" fn(corral_result, *const u8, usize, *const corral_stat, *mut c_void)
{
    unsafe fn ok(self, (data, s): (Vec<u8>, Stat), ud: *mut c_void) {
        self(CORRAL_OK, data.as_ptr(), data.len(), &corral_stat::from(s), ud)
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, std::ptr::null(), 0, std::ptr::null(), ud)
    }
}

impl Completion<String> for unsafe extern "C" fn(corral_result, *const c_char, *mut c_void) {
    unsafe fn ok(self, value: String, ud: *mut c_void) {
        match CString::new(value) {
            Ok(v) => self(CORRAL_OK, v.as_ptr(), ud),
            Err(_) => self(CORRAL_INVALID_UTF8, std::ptr::null(), ud),
        }
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, std::ptr::null(), ud)
    }
}

impl Completion<Vec<String>> for unsafe extern "C" fn(corral_result, *const corral_strings, *mut c_void) {
    unsafe fn ok(self, items: Vec<String>, ud: *mut c_void) {
        match corral_strings::boxed(items) {
            Ok(list) => {
                self(CORRAL_OK, list, ud);
                crate::strings::corral_strings_free(list);
            }
            Err(rc) => self(rc, std::ptr::null(), ud),
        }
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, std::ptr::null(), ud)
    }
}

impl Completion<(Vec<Acl>, Stat)>
    for unsafe extern "C" fn(corral_result, *const corral_acl_list, *const corral_stat, *mut c_void)
{
    unsafe fn ok(self, (acl, s): (Vec<Acl>, Stat), ud: *mut c_void) {
        match corral_acl_list::new(acl) {
            Ok(list) => self(CORRAL_OK, &list, &corral_stat::from(s), ud),
            Err(rc) => self(rc, std::ptr::null(), std::ptr::null(), ud),
        }
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, std::ptr::null(), std::ptr::null(), ud)
    }
}

impl Completion<Vec<OpResult>> for unsafe extern "C" fn(corral_result, *const corral_txn_results, *mut c_void) {
    unsafe fn ok(self, results: Vec<OpResult>, ud: *mut c_void) {
        match corral_txn_results::collect(results) {
            Ok((first_failure, results)) => self(first_failure, &results, ud),
            Err(rc) => self(rc, std::ptr::null(), ud),
        }
    }
    unsafe fn err(self, rc: corral_result, ud: *mut c_void) {
        self(rc, std::ptr::null(), ud)
    }
}

/// Starts an `_async` call: checks the completion and the handle, makes the
/// call's future with `op` (which reads the arguments: an unusable one is
/// returned and no completion runs) and queues its completion.
unsafe fn start<T, F, C>(
    zk: *const corral_client,
    completion: Option<C>,
    userdata: *mut c_void,
    op: impl FnOnce(Client) -> Result<F, corral_result>,
) -> corral_result
where
    C: Completion<T>,
    F: Future<Output = Result<T, ClientError>> + Send + 'static,
    T: Send + 'static,
{
    guard(|| {
        let cb = completion.ok_or(CORRAL_NULL_ARGUMENT)?;
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let client = zk.get()?;
        zk.orderer().start(|| op(client), deliver(cb, UserData(userdata)))
    })
}

/// Calls `cb` with an outcome.
fn deliver<T, C: Completion<T>>(cb: C, ud: UserData) -> impl FnOnce(Result<T, corral_result>) + Send + 'static {
    move |out| match out {
        // SAFETY: the caller registered `cb` for this call's outcome.
        Ok(v) => unsafe { cb.ok(v, ud.get()) },
        Err(rc) => unsafe { cb.err(rc, ud.get()) },
    }
}

/// A version argument: -1 is any.
fn version_arg(version: i32) -> Option<i32> {
    Some(version).filter(|v| *v != -1)
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        let data = bytes_arg(data, data_len)?.to_vec();
        let mode = CreateMode::from_flags(mode).ok_or(CORRAL_INVALID_ARGUMENT)?;
        if matches!(mode, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl) {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        Ok(async move { c.create(&path, &data, &CreateOptions::mode(mode)).await })
    })
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        Ok(async move { c.delete(&path, version_arg(version)).await })
    })
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        Ok(async move { c.exists(&path).await })
    })
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        Ok(async move { c.get_data(&path).await })
    })
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        let data = bytes_arg(data, data_len)?.to_vec();
        Ok(async move { c.set_data(&path, &data, version_arg(version)).await })
    })
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        Ok(async move { c.get_children(&path).await })
    })
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
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        Ok(async move { c.sync(&path).await })
    })
}

/// A node's ACL and stat (as `corral_client_get_acl`); the list is valid
/// during the completion only.
///
/// ```c
/// static void got_acl(corral_result rc, const corral_acl_list *acl, const corral_stat *st, void *ud) {
///     if (rc == CORRAL_OK) printf("%zu entries, aversion %d\n", corral_acl_list_len(acl), st->aversion);
/// }
/// corral_client_get_acl_async(zk, "/secret", got_acl, NULL);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_acl_async(
    zk: *const corral_client,
    path: *const c_char,
    completion: corral_acl_completion,
    userdata: *mut c_void,
) -> corral_result {
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        Ok(async move { c.get_acl(&path).await })
    })
}

/// Replaces a node's ACL if its ACL version is `version` (-1: any), as
/// `corral_client_set_acl`; the completion gets the new stat. The entries
/// are copied before the call returns.
///
/// ```c
/// static void acl_set(corral_result rc, const corral_stat *st, void *ud) {
///     if (rc == CORRAL_OK) printf("aversion now %d\n", st->aversion);
/// }
/// corral_acl read_only[] = {{CORRAL_PERM_READ, "world", "anyone"}};
/// corral_client_set_acl_async(zk, "/config", read_only, 1, -1, acl_set, NULL);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `acl` points to
/// `acl_len` entries; `userdata` stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_set_acl_async(
    zk: *const corral_client,
    path: *const c_char,
    acl: *const corral_acl,
    acl_len: usize,
    version: i32,
    completion: corral_stat_completion,
    userdata: *mut c_void,
) -> corral_result {
    start(zk, completion, userdata, |c| {
        let path = str_arg(path)?.to_owned();
        let acl = acl_arg(acl, acl_len)?;
        Ok(async move { c.set_acl(&path, &acl, version_arg(version)).await })
    })
}

/// The paths of this session's ephemeral nodes under `prefix` (as
/// `corral_client_get_ephemerals`); the list is valid during the completion only.
///
/// ```c
/// static void mine(corral_result rc, const corral_strings *paths, void *ud) {
///     if (rc == CORRAL_OK) printf("%zu ephemerals\n", corral_strings_len(paths));
/// }
/// corral_client_get_ephemerals_async(zk, "/", mine, NULL);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `prefix` is a NUL-terminated string; `userdata`
/// stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_ephemerals_async(
    zk: *const corral_client,
    prefix: *const c_char,
    completion: corral_strings_completion,
    userdata: *mut c_void,
) -> corral_result {
    start(zk, completion, userdata, |c| {
        let prefix = str_arg(prefix)?.to_owned();
        Ok(async move { c.get_ephemerals(&prefix).await })
    })
}

/// Commits a transaction (as `corral_txn_commit`, which it empties at once)
/// in call order with the other `_async` calls of its client. The completion
/// gets `CORRAL_OK` or the first failing sub-op's code, with every sub-op's
/// result; on connection loss and the like, the code and NULL results.
///
/// ```c
/// static void committed(corral_result rc, const corral_txn_results *r, void *ud) {
///     if (r) printf("%d: %zu results\n", rc, corral_txn_results_len(r));
/// }
/// corral_txn_create(t, "/jobs/job-", NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL);
/// corral_txn_commit_async(t, committed, NULL);
/// ```
///
/// # Safety
///
/// `txn` is NULL or live; `userdata` stays valid until the completion has run.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_commit_async(
    txn: *const corral_txn,
    completion: corral_txn_completion,
    userdata: *mut c_void,
) -> corral_result {
    guard(|| {
        let cb = completion.ok_or(CORRAL_NULL_ARGUMENT)?;
        let txn = txn.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        txn.orderer.start(|| Ok(txn.take()?.commit_results()), deliver(cb, UserData(userdata)))
    })
}
