//! `corral_persistent_node` for C, the core's `PersistentEphemeralNode`
//! (Curator's `PersistentNode`): a node kept present by a background task,
//! made again whenever it goes (deleted, or taken with an expired session).

use std::ffi::c_char;
use std::sync::RwLock;
use std::time::Duration;

use corral_core::proto::CreateMode;
use corral_core::recipes::persistent_node::PersistentEphemeralNode;

use crate::client::corral_client;
use crate::ffi::{bytes_arg, out_arg, str_arg, timeout_arg, wait, write_buf};
use crate::result::*;

/// A node kept present until closed.
#[allow(non_camel_case_types)]
pub struct corral_persistent_node {
    node: RwLock<Option<PersistentEphemeralNode>>,
}

impl corral_persistent_node {
    /// Runs `f` on the open node; `CORRAL_CLOSED_HANDLE` after `corral_persistent_node_close`.
    fn with<T>(
        &self,
        f: impl FnOnce(&PersistentEphemeralNode) -> Result<T, corral_result>,
    ) -> Result<T, corral_result> {
        f(self.node.read().map_err(|_| CORRAL_PANIC)?.as_ref().ok_or(CORRAL_CLOSED_HANDLE)?)
    }
}

/// Starts keeping a node at `path` in `mode` (usually `CORRAL_EPHEMERAL`;
/// the TTL modes are refused) holding `data`. With `protected`, its name
/// gets Curator's `_c_<uuid>-` prefix (a create whose reply was lost is
/// found again); sequential and protected nodes get a new name each time
/// they are made (`corral_persistent_node_path`).
///
/// ```c
/// corral_persistent_node *me = NULL;
/// corral_persistent_node_start(zk, "/app/members/host-a", CORRAL_EPHEMERAL, (const uint8_t *)"up", 2, false, &me);
/// corral_persistent_node_wait_created(me, 5000);
/// // ... the node is there for as long as this process keeps `me` ...
/// corral_persistent_node_free(me);   // stops and deletes it
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `data` has
/// `data_len` readable bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_start(
    zk: *const corral_client,
    path: *const c_char,
    mode: i32,
    data: *const u8,
    data_len: usize,
    protected: bool,
    out: *mut *mut corral_persistent_node,
) -> corral_result {
    crate::ffi::new_handle(zk, out, |c| {
        let path = str_arg(path)?;
        let data = bytes_arg(data, data_len)?;
        let mode = CreateMode::from_flags(mode).ok_or(CORRAL_INVALID_ARGUMENT)?;
        if matches!(mode, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl) {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        let mut node = PersistentEphemeralNode::new(c, path, mode, data).protected(protected);
        let _entered = corral_core::runtime::get().enter();
        node.start();
        Ok(corral_persistent_node { node: RwLock::new(Some(node)) })
    })
}

/// Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) for the node's first
/// create: `CORRAL_OK` once it was made, else `CORRAL_TIMEOUT`.
///
/// # Safety
///
/// `node` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_wait_created(
    node: *const corral_persistent_node,
    timeout_ms: i64,
) -> corral_result {
    guard(|| {
        let n = node.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let timeout = timeout_arg(timeout_ms)?.unwrap_or(Duration::MAX);
        let created =
            n.with(|n| corral_core::runtime::block_on(n.wait_for_initial_create(timeout)).map_err(|e| from_block(&e)))?;
        if created {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// The node's actual path, NUL-terminated, into `buf` (`cap` bytes; `*len`
/// gets its length); `CORRAL_NO_NODE` before it was first made.
///
/// # Safety
///
/// `node` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_path(
    node: *const corral_persistent_node,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> corral_result {
    guard(|| {
        let n = node.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(len)?;
        let path = n.with(|n| n.actual_path().ok_or(CORRAL_NO_NODE))?;
        write_buf(path.as_bytes(), true, buf.cast(), cap, len)
    })
}

/// The data the node holds (or will hold once made) into `buf` (`cap`
/// bytes, `*len` its length; not NUL-terminated).
///
/// # Safety
///
/// `node` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_data(
    node: *const corral_persistent_node,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> corral_result {
    guard(|| {
        let n = node.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(len)?;
        let data = n.with(|n| Ok(n.data()))?;
        write_buf(&data, false, buf, cap, len)
    })
}

/// Changes the node's data: now if it exists, else when it is made (and
/// again whenever someone overwrites it). Fails only when the server
/// refuses the write (`CORRAL_NO_AUTH`).
///
/// # Safety
///
/// `node` is NULL or live; `data` has `data_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_set_data(
    node: *const corral_persistent_node,
    data: *const u8,
    data_len: usize,
) -> corral_result {
    guard(|| {
        let n = node.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let data = bytes_arg(data, data_len)?;
        n.with(|n| wait(n.set_data(data)))
    })
}

/// Stops keeping the node and deletes it. Later calls on the handle return
/// `CORRAL_CLOSED_HANDLE` (closing twice too); it must still be freed.
///
/// # Safety
///
/// `node` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_close(node: *const corral_persistent_node) -> corral_result {
    guard(|| {
        let n = node.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let open = n.node.write().map_err(|_| CORRAL_PANIC)?.take().ok_or(CORRAL_CLOSED_HANDLE)?;
        wait(open.close())
    })
}

/// Closes the node if still open (it is deleted) and frees the handle; NULL
/// does nothing.
///
/// # Safety
///
/// `node` is NULL or not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_persistent_node_free(node: *mut corral_persistent_node) {
    if node.is_null() {
        return;
    }
    let n = Box::from_raw(node);
    if let Some(open) = n.node.into_inner().ok().flatten() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(open.close());
        }));
    }
}
