//! `corral_client`: a ZooKeeper client session, with a blocking call for
//! every operation. One handle may be shared by many threads; their calls
//! are pipelined on the one connection.

use std::ffi::c_char;
use std::sync::RwLock;

use corral_core::client::{Client, CreateOptions, Error as ClientError};
use corral_core::proto::{CreateMode, Stat};

use crate::ffi::{bytes_arg, out_arg, str_arg, write_buf};
use crate::result::*;
use crate::strings::corral_strings;

/// A node's metadata, as ZooKeeper's `Stat`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct corral_stat {
    /// zxid of the create.
    pub czxid: i64,
    /// zxid of the last data change.
    pub mzxid: i64,
    /// Create time, milliseconds since the epoch.
    pub ctime: i64,
    /// Last data change time, milliseconds since the epoch.
    pub mtime: i64,
    /// Number of data changes.
    pub version: i32,
    /// Number of child changes.
    pub cversion: i32,
    /// Number of ACL changes.
    pub aversion: i32,
    /// Session id of an ephemeral node's owner, else 0.
    pub ephemeral_owner: i64,
    /// Length of the data.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// zxid of the last child change.
    pub pzxid: i64,
}

impl From<Stat> for corral_stat {
    fn from(s: Stat) -> corral_stat {
        corral_stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: s.data_length,
            num_children: s.num_children,
            pzxid: s.pzxid,
        }
    }
}

/// Create mode: a persistent node.
pub const CORRAL_PERSISTENT: i32 = 0;
/// Create mode: removed when the session ends.
pub const CORRAL_EPHEMERAL: i32 = 1;
/// Create mode: persistent, with a 10-digit sequence number appended.
pub const CORRAL_PERSISTENT_SEQUENTIAL: i32 = 2;
/// Create mode: ephemeral, with a sequence number appended.
pub const CORRAL_EPHEMERAL_SEQUENTIAL: i32 = 3;
/// Create mode: removed by the server once its last child is gone.
pub const CORRAL_CONTAINER: i32 = 4;
/// Create mode: persistent, removed when childless and unmodified for its TTL.
pub const CORRAL_PERSISTENT_WITH_TTL: i32 = 5;
/// Create mode: as `CORRAL_PERSISTENT_WITH_TTL`, with a sequence number.
pub const CORRAL_PERSISTENT_SEQUENTIAL_WITH_TTL: i32 = 6;

/// Version argument meaning "any version".
pub const CORRAL_ANY_VERSION: i32 = -1;

/// Digits of the sequence number a sequential create appends.
const SEQUENCE_DIGITS: usize = 10;

/// A client session.
#[allow(non_camel_case_types)]
pub struct corral_client {
    client: RwLock<Option<Client>>,
    /// Completions of `_async` calls, in call order (made on first use;
    /// shared with this client's transactions).
    completions: std::sync::OnceLock<std::sync::Arc<crate::completion::Orderer>>,
}

impl corral_client {
    /// A handle for a connected client.
    pub(crate) fn new(client: Client) -> corral_client {
        corral_client { client: RwLock::new(Some(client)), completions: std::sync::OnceLock::new() }
    }

    /// The orderer of this client's completions.
    pub(crate) fn orderer(&self) -> std::sync::Arc<crate::completion::Orderer> {
        self.completions.get_or_init(Default::default).clone()
    }

    /// The live client, or `CORRAL_CLOSED_HANDLE` after `corral_client_close`.
    pub(crate) fn get(&self) -> Result<Client, corral_result> {
        self.client.read().map_err(|_| CORRAL_PANIC)?.clone().ok_or(CORRAL_CLOSED_HANDLE)
    }
}

/// Runs one client operation, blocking: the handle is checked, the future
/// made from a clone of the client and waited for.
pub(crate) unsafe fn call<T, F>(
    zk: *const corral_client,
    op: impl FnOnce(Client) -> Result<F, corral_result>,
) -> Result<T, corral_result>
where
    F: std::future::Future<Output = Result<T, ClientError>>,
{
    let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
    let fut = op(zk.get()?)?;
    corral_core::runtime::block_on(fut).map_err(|e| from_block(&e))?.map_err(|e| from_client(&e))
}

/// Stores `stat` where `out` points, if it is not NULL.
pub(crate) unsafe fn put_stat(out: *mut corral_stat, stat: Stat) {
    if let Some(out) = out.as_mut() {
        *out = stat.into();
    }
}

/// Connects to `connect_string` (`host:port[,host:port...][/chroot]`) with
/// a session timeout in milliseconds, blocking until the session is
/// established or the attempt fails (`CORRAL_CONNECTION_LOSS`,
/// `CORRAL_INVALID_ARGUMENT` for a malformed connect string).
///
/// ```c
/// corral_client *zk = NULL;
/// if (corral_client_connect("127.0.0.1:2181/app", 10000, &zk) != CORRAL_OK) return 1;
/// // ... use zk ...
/// corral_client_free(zk);
/// ```
///
/// # Safety
///
/// `connect_string` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_connect(
    connect_string: *const c_char,
    session_timeout_ms: u32,
    out: *mut *mut corral_client,
) -> corral_result {
    if session_timeout_ms == 0 {
        return CORRAL_INVALID_ARGUMENT;
    }
    let opts = crate::options::corral_client_options::with_session_timeout(session_timeout_ms);
    crate::options::corral_client_connect_with(connect_string, &opts, out)
}

/// Closes the session (its ephemeral nodes go) and stops reconnecting.
/// Every later call on the handle returns `CORRAL_CLOSED_HANDLE`; the handle
/// must still be freed. Closing twice returns `CORRAL_CLOSED_HANDLE`.
///
/// # Safety
///
/// `zk` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_client_close(zk: *const corral_client) -> corral_result {
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let client = zk.client.write().map_err(|_| CORRAL_PANIC)?.take().ok_or(CORRAL_CLOSED_HANDLE)?;
        corral_core::runtime::block_on(async move { client.close().await }).map_err(|e| from_block(&e))
    })
}

/// Closes the session if still open and frees the handle; NULL does nothing.
///
/// # Safety
///
/// `zk` is NULL or a handle not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_client_free(zk: *mut corral_client) {
    if zk.is_null() {
        return;
    }
    let zk = Box::from_raw(zk);
    if let Some(client) = zk.client.into_inner().ok().flatten() {
        // Off a runtime thread, wait for the close; on one, dropping the last
        // handle closes the session in the background.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(async move { client.close().await });
        }));
    }
}

/// The session id (as the server numbers it).
///
/// # Safety
///
/// `zk` is NULL or a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_session_id(zk: *const corral_client, out: *mut i64) -> corral_result {
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = zk.get()?.session_id();
        Ok(())
    })
}

/// The session password (16 bytes) into `buf` of `cap` bytes; `*len` gets 16.
///
/// # Safety
///
/// `zk` is NULL or a live handle; `buf` has `cap` writable bytes; `len` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_session_password(
    zk: *const corral_client,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> corral_result {
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        write_buf(&zk.get()?.session_password(), false, buf, cap, len)
    })
}

/// Creates a node with `data` in `mode` (`CORRAL_PERSISTENT`, ...; the TTL
/// modes need `corral_client_create_ttl`) and the open ACL, writing the
/// created path (with its sequence number, NUL-terminated) into `path_buf`.
/// Pass NULL and 0 to skip the path. A buffer too small for the longest
/// path the create can return is refused before anything is sent:
/// `CORRAL_BUFFER_TOO_SMALL` with the length needed in `*path_len`.
///
/// ```c
/// char path[256]; size_t path_len = 0;
/// corral_client_create(zk, "/jobs/job-", (const uint8_t *)"x", 1, CORRAL_PERSISTENT_SEQUENTIAL,
///                      path, sizeof path, &path_len);   // path = "/jobs/job-0000000000"
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `data`
/// has `data_len` readable bytes; `path_buf` has `path_buf_cap` writable
/// bytes; `path_len` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_create(
    zk: *const corral_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    mode: i32,
    path_buf: *mut c_char,
    path_buf_cap: usize,
    path_len: *mut usize,
) -> corral_result {
    corral_client_create_ttl(zk, path, data, data_len, mode, 0, path_buf, path_buf_cap, path_len, std::ptr::null_mut())
}

/// `corral_client_create` with a TTL in milliseconds (for the TTL modes; 0
/// otherwise) and the new node's stat (`stat` may be NULL).
///
/// # Safety
///
/// As `corral_client_create`; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_create_ttl(
    zk: *const corral_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    mode: i32,
    ttl_ms: i64,
    path_buf: *mut c_char,
    path_buf_cap: usize,
    path_len: *mut usize,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let data = bytes_arg(data, data_len)?;
        let mode = CreateMode::from_flags(mode).ok_or(CORRAL_INVALID_ARGUMENT)?;
        let ttl = matches!(mode, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl);
        if ttl != (ttl_ms > 0) || ttl_ms < 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        let wants_path = !(path_buf.is_null() && path_buf_cap == 0);
        if wants_path {
            check_path_buffer(path, mode, path_buf, path_buf_cap, path_len)?;
        }
        let mut opts = CreateOptions::mode(mode);
        if ttl {
            opts = opts.with_ttl_ms(ttl_ms);
        }
        let (created, new_stat) = call(zk, |c| Ok(async move { c.create_with_stat(path, data, &opts).await }))?;
        if wants_path {
            write_buf(created.as_bytes(), true, path_buf.cast(), path_buf_cap, path_len)?;
        }
        put_stat(stat, new_stat);
        Ok(())
    })
}

/// Refuses, before anything is sent, a path buffer too small for the longest
/// path a create of `path` in `mode` can return (with its sequence number and
/// NUL): `CORRAL_BUFFER_TOO_SMALL` with the length needed in `*path_len`.
///
/// # Safety
///
/// `path_len` is NULL or writable.
pub(crate) unsafe fn check_path_buffer(
    path: &str,
    mode: CreateMode,
    path_buf: *mut c_char,
    path_buf_cap: usize,
    path_len: *mut usize,
) -> Result<(), corral_result> {
    let longest = path.len() + if mode.is_sequential() { SEQUENCE_DIGITS } else { 0 } + 1;
    let len = out_arg(path_len)?;
    if path_buf.is_null() {
        return Err(CORRAL_NULL_ARGUMENT);
    }
    if path_buf_cap < longest {
        *len = longest;
        return Err(CORRAL_BUFFER_TOO_SMALL);
    }
    Ok(())
}

/// Deletes a node if its version is `version` (`CORRAL_ANY_VERSION`: any).
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_client_delete(
    zk: *const corral_client,
    path: *const c_char,
    version: i32,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        call(zk, |c| Ok(async move { c.delete(path, Some(version).filter(|v| *v != CORRAL_ANY_VERSION)).await }))
    })
}

/// Whether a node exists: `CORRAL_OK` with its stat (`stat` may be NULL),
/// or `CORRAL_NO_NODE`.
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_exists(
    zk: *const corral_client,
    path: *const c_char,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let found = call(zk, |c| Ok(async move { c.exists(path).await }))?;
        put_stat(stat, found.ok_or(CORRAL_NO_NODE)?);
        Ok(())
    })
}

/// Reads a node's data into `buf` (`cap` bytes; not NUL-terminated) and its
/// stat (`stat` may be NULL). `*len` gets the data's length; when `cap` is
/// smaller, `CORRAL_BUFFER_TOO_SMALL` with the length needed in `*len`, and
/// nothing else is written.
///
/// ```c
/// uint8_t buf[64]; size_t len = 0; corral_stat stat;
/// if (corral_client_get(zk, "/demo", buf, sizeof buf, &len, &stat) == CORRAL_OK)
///     printf("%.*s version=%d\n", (int)len, (const char *)buf, stat.version);
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `buf`
/// has `cap` writable bytes; `len` is writable; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get(
    zk: *const corral_client,
    path: *const c_char,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        out_arg(len)?;
        let (data, s) = call(zk, |c| Ok(async move { c.get_data(path).await }))?;
        write_buf(&data, false, buf, cap, len)?;
        put_stat(stat, s);
        Ok(())
    })
}

/// Replaces a node's data if its version is `version` (`CORRAL_ANY_VERSION`:
/// any); the new stat goes to `stat` (may be NULL).
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `data`
/// has `data_len` readable bytes; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_set(
    zk: *const corral_client,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    version: i32,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let data = bytes_arg(data, data_len)?;
        let version = Some(version).filter(|v| *v != CORRAL_ANY_VERSION);
        let s = call(zk, |c| Ok(async move { c.set_data(path, data, version).await }))?;
        put_stat(stat, s);
        Ok(())
    })
}

/// A node's children (names, unordered) as a new `corral_strings` list to
/// free with `corral_strings_free`, and the node's stat (`stat` may be NULL).
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `out`
/// is writable; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_children(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_strings,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let (children, s) = call(zk, |c| Ok(async move { c.get_children2(path).await }))?;
        *out = corral_strings::boxed(children)?;
        put_stat(stat, s);
        Ok(())
    })
}

/// The number of nodes below `path`, at every depth.
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_all_children_number(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut i32,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        *out = call(zk, |c| Ok(async move { c.get_all_children_number(path).await }))?;
        Ok(())
    })
}

/// The paths of this session's ephemeral nodes that start with `prefix`
/// (`"/"`: all), as a new `corral_strings` list.
///
/// # Safety
///
/// `zk` is NULL or a live handle; `prefix` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_get_ephemerals(
    zk: *const corral_client,
    prefix: *const c_char,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let prefix = str_arg(prefix)?;
        let out = out_arg(out)?;
        let paths = call(zk, |c| Ok(async move { c.get_ephemerals(prefix).await }))?;
        *out = corral_strings::boxed(paths)?;
        Ok(())
    })
}

/// Waits until the server this client is connected to has caught up with
/// the leader (reads after it see every write committed before it).
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_client_sync(zk: *const corral_client, path: *const c_char) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        call(zk, |c| Ok(async move { c.sync(path).await }))
    })
}

/// Adds credentials to the session (`"digest"`, `"user:password"`): they
/// are also sent again after every reconnect.
///
/// # Safety
///
/// `zk` is NULL or a live handle; `scheme` is a NUL-terminated string;
/// `auth` has `auth_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_client_add_auth(
    zk: *const corral_client,
    scheme: *const c_char,
    auth: *const u8,
    auth_len: usize,
) -> corral_result {
    guard(|| {
        let scheme = str_arg(scheme)?;
        let auth = bytes_arg(auth, auth_len)?;
        call(zk, |c| Ok(async move { c.add_auth(scheme, auth).await }))
    })
}

/// Creates `path` and every missing parent as empty persistent nodes with
/// the open ACL (mkdir -p); `CORRAL_OK` also when it already exists.
///
/// ```c
/// corral_client_ensure_path(zk, "/app/config/features");
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_client_ensure_path(zk: *const corral_client, path: *const c_char) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        call(zk, |c| Ok(async move { c.ensure_path(path).await }))
    })
}

/// Deletes `path` and every node below it, children first (not atomic: a
/// child created meanwhile is deleted too); `CORRAL_OK` also when `path`
/// does not exist.
///
/// ```c
/// corral_client_delete_recursive(zk, "/app/scratch");
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_client_delete_recursive(
    zk: *const corral_client,
    path: *const c_char,
) -> corral_result {
    guard(|| {
        let path = str_arg(path)?;
        call(zk, |c| Ok(async move { c.delete_recursive(path).await }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_modes_are_the_wire_flags() {
        for (flags, mode) in [
            (CORRAL_PERSISTENT, CreateMode::Persistent),
            (CORRAL_EPHEMERAL, CreateMode::Ephemeral),
            (CORRAL_PERSISTENT_SEQUENTIAL, CreateMode::PersistentSequential),
            (CORRAL_EPHEMERAL_SEQUENTIAL, CreateMode::EphemeralSequential),
            (CORRAL_CONTAINER, CreateMode::Container),
            (CORRAL_PERSISTENT_WITH_TTL, CreateMode::PersistentWithTtl),
            (CORRAL_PERSISTENT_SEQUENTIAL_WITH_TTL, CreateMode::PersistentSequentialWithTtl),
        ] {
            assert_eq!(CreateMode::from_flags(flags), Some(mode));
        }
        assert_eq!(CreateMode::from_flags(7), None);
    }
}
