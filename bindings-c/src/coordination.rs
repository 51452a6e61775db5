//! More recipes for C, each the core's own: `corral_semaphore` (Curator's
//! `InterProcessSemaphoreV2`), `corral_barrier` and `corral_double_barrier`,
//! `corral_queue` (kazoo's `Queue`) and `corral_party` (kazoo's `Party`).

use std::ffi::c_char;
use std::sync::Mutex;

use corral_core::recipes::barrier::Barrier;
use corral_core::recipes::double_barrier::DoubleBarrier;
use corral_core::recipes::party::Party;
use corral_core::recipes::queue::Queue;
use corral_core::recipes::semaphore::{Lease, Semaphore};

use crate::client::corral_client;
use crate::ffi::{bytes_arg, free_handle, new_handle, out_arg, str_arg, timeout_arg, wait};
use crate::recipes::layout_arg;
use crate::result::*;
use crate::strings::corral_strings;

/// A counting semaphore: at most `max_leases` holders at a time.
#[allow(non_camel_case_types)]
pub struct corral_semaphore {
    semaphore: Semaphore,
    leases: Mutex<Vec<Lease>>,
}

/// A semaphore at `path` with `max_leases` leases (Curator's node layout).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_semaphore_new(
    zk: *const corral_client,
    path: *const c_char,
    max_leases: u32,
    out: *mut *mut corral_semaphore,
) -> corral_result {
    new_handle(zk, out, |c| {
        if max_leases == 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        Ok(corral_semaphore {
            semaphore: Semaphore::new(c, str_arg(path)?, max_leases as usize),
            leases: Mutex::new(Vec::new()),
        })
    })
}

/// A semaphore at `path` with `max_leases` leases in the given layout
/// (`CORRAL_LAYOUT_CURATOR` or `CORRAL_LAYOUT_KAZOO`; any other value is
/// `CORRAL_INVALID_ARGUMENT`), its lease nodes holding `identifier` (NULL:
/// empty; kazoo lists it as the lease holder).
///
/// ```c
/// corral_semaphore *s = NULL;
/// corral_semaphore_new_layout(zk, "/pools/db", 4, CORRAL_LAYOUT_KAZOO, "host-a", &s);   // kazoo's Semaphore
/// corral_semaphore_free(s);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `identifier` is
/// NULL or one; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_semaphore_new_layout(
    zk: *const corral_client,
    path: *const c_char,
    max_leases: u32,
    layout: i32,
    identifier: *const c_char,
    out: *mut *mut corral_semaphore,
) -> corral_result {
    new_handle(zk, out, |c| {
        if max_leases == 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        let mut semaphore = Semaphore::new(c, str_arg(path)?, max_leases as usize).with_naming(layout_arg(layout)?);
        if !identifier.is_null() {
            semaphore = semaphore.with_data(str_arg(identifier)?.as_bytes());
        }
        Ok(corral_semaphore { semaphore, leases: Mutex::new(Vec::new()) })
    })
}

/// Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) for one lease, held by
/// this handle until `corral_semaphore_release`: `CORRAL_OK` or `CORRAL_TIMEOUT`.
///
/// # Safety
///
/// `semaphore` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_semaphore_acquire(
    semaphore: *const corral_semaphore,
    timeout_ms: i64,
) -> corral_result {
    guard(|| {
        let s = semaphore.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let leases = match timeout_arg(timeout_ms)? {
            None => wait(s.semaphore.acquire(1))?,
            Some(t) => wait(s.semaphore.acquire_timeout(1, t))?.ok_or(CORRAL_TIMEOUT)?,
        };
        s.leases.lock().map_err(|_| CORRAL_PANIC)?.extend(leases);
        Ok(())
    })
}

/// Returns one lease this handle holds (`CORRAL_NOT_HELD` when none).
///
/// # Safety
///
/// `semaphore` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_semaphore_release(semaphore: *const corral_semaphore) -> corral_result {
    guard(|| {
        let s = semaphore.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let lease = s.leases.lock().map_err(|_| CORRAL_PANIC)?.pop().ok_or(CORRAL_NOT_HELD)?;
        wait(lease.release())
    })
}

/// Returns every lease this handle holds and frees it; NULL does nothing.
///
/// # Safety
///
/// `semaphore` is NULL or not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_semaphore_free(semaphore: *mut corral_semaphore) {
    if semaphore.is_null() {
        return;
    }
    let s = Box::from_raw(semaphore);
    let leases = s.leases.into_inner().unwrap_or_default();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = corral_core::runtime::block_on(async move {
            for lease in leases {
                let _ = lease.release().await;
            }
        });
    }));
}

/// A barrier: waiters block while its node exists.
#[allow(non_camel_case_types)]
pub struct corral_barrier {
    barrier: Barrier,
}

/// A barrier at `path` (kazoo's `Barrier`).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_barrier_new(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_barrier,
) -> corral_result {
    new_handle(zk, out, |c| Ok(corral_barrier { barrier: Barrier::new(c, str_arg(path)?) }))
}

/// Raises the barrier (creates its node).
///
/// # Safety
///
/// `barrier` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_barrier_set(barrier: *const corral_barrier) -> corral_result {
    guard(|| wait(barrier.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.barrier.set()))
}

/// Lowers the barrier: every waiter goes on.
///
/// # Safety
///
/// `barrier` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_barrier_remove(barrier: *const corral_barrier) -> corral_result {
    guard(|| wait(barrier.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.barrier.remove()).map(drop))
}

/// Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until the barrier is
/// down: `CORRAL_OK` or `CORRAL_TIMEOUT`.
///
/// # Safety
///
/// `barrier` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_barrier_wait(barrier: *const corral_barrier, timeout_ms: i64) -> corral_result {
    guard(|| {
        let b = barrier.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        if wait(b.barrier.wait(timeout_arg(timeout_ms)?))? {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// Frees a barrier handle (the barrier stays as it is); NULL does nothing.
///
/// # Safety
///
/// `barrier` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_barrier_free(barrier: *mut corral_barrier) {
    free_handle(barrier)
}

/// A double barrier: `members` processes enter together and leave together.
#[allow(non_camel_case_types)]
pub struct corral_double_barrier {
    barrier: DoubleBarrier,
}

/// A double barrier at `path` for `members` participants (Curator's layout).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_double_barrier_new(
    zk: *const corral_client,
    path: *const c_char,
    members: u32,
    out: *mut *mut corral_double_barrier,
) -> corral_result {
    new_handle(zk, out, |c| {
        if members == 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        Ok(corral_double_barrier { barrier: DoubleBarrier::new(c, str_arg(path)?, members as usize) })
    })
}

/// Enters, waiting up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until every
/// member has: `CORRAL_OK` or `CORRAL_TIMEOUT` (then this member stays
/// entered, as in Curator: call `corral_double_barrier_leave` to go).
///
/// # Safety
///
/// `barrier` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_double_barrier_enter(
    barrier: *const corral_double_barrier,
    timeout_ms: i64,
) -> corral_result {
    guard(|| {
        let b = barrier.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let done = match timeout_arg(timeout_ms)? {
            None => wait(async { b.barrier.enter().await.map(|()| true) })?,
            Some(t) => wait(b.barrier.enter_timeout(t))?,
        };
        if done {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// Leaves, waiting up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until every
/// member has: `CORRAL_OK` or `CORRAL_TIMEOUT`.
///
/// # Safety
///
/// `barrier` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_double_barrier_leave(
    barrier: *const corral_double_barrier,
    timeout_ms: i64,
) -> corral_result {
    guard(|| {
        let b = barrier.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let done = match timeout_arg(timeout_ms)? {
            None => wait(async { b.barrier.leave().await.map(|()| true) })?,
            Some(t) => wait(b.barrier.leave_timeout(t))?,
        };
        if done {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// Frees a double barrier handle; NULL does nothing.
///
/// # Safety
///
/// `barrier` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_double_barrier_free(barrier: *mut corral_double_barrier) {
    free_handle(barrier)
}

/// A FIFO queue of byte strings.
#[allow(non_camel_case_types)]
pub struct corral_queue {
    queue: Queue,
}

/// A queue at `path` (kazoo's `Queue` layout).
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_queue_new(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_queue,
) -> corral_result {
    new_handle(zk, out, |c| Ok(corral_queue { queue: Queue::new(c, str_arg(path)?) }))
}

/// Appends an item.
///
/// # Safety
///
/// `queue` is NULL or live; `item` has `item_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_queue_put(
    queue: *const corral_queue,
    item: *const u8,
    item_len: usize,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let item = bytes_arg(item, item_len)?;
        wait(q.queue.put(item))
    })
}

/// An item the library returns; read with `corral_bytes_data` and
/// `corral_bytes_len`, freed with `corral_bytes_free`.
#[allow(non_camel_case_types)]
pub struct corral_bytes {
    bytes: Vec<u8>,
}

impl corral_bytes {
    /// A new heap item for C.
    pub(crate) fn boxed(bytes: Vec<u8>) -> *mut corral_bytes {
        Box::into_raw(Box::new(corral_bytes { bytes }))
    }
}

/// Takes the oldest item off the queue, waiting up to `timeout_ms` (0: only
/// if one is there; `CORRAL_WAIT_FOREVER`): `CORRAL_OK` with the item as a
/// new `corral_bytes`, or `CORRAL_TIMEOUT`. (The item is returned whole, so
/// nothing taken can be lost to a small buffer.)
///
/// ```c
/// corral_bytes *job = NULL;
/// if (corral_queue_take(q, 5000, &job) == CORRAL_OK) {
///     handle(corral_bytes_data(job), corral_bytes_len(job));
///     corral_bytes_free(job);
/// }
/// ```
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_queue_take(
    queue: *const corral_queue,
    timeout_ms: i64,
    out: *mut *mut corral_bytes,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = take_item(timeout_ms, || q.queue.take(), || q.queue.get(), |t| q.queue.take_timeout(t))?;
        Ok(())
    })
}

/// Takes an item off a queue as `corral_queue_take` says, with the queue's
/// three ways of taking: waiting forever, only if one is there, or up to a time.
pub(crate) fn take_item<Take, Get, TakeTimeout>(
    timeout_ms: i64,
    take: impl FnOnce() -> Take,
    get: impl FnOnce() -> Get,
    take_timeout: impl FnOnce(std::time::Duration) -> TakeTimeout,
) -> Result<*mut corral_bytes, corral_result>
where
    Take: std::future::Future<Output = corral_core::client::Result<Vec<u8>>>,
    Get: std::future::Future<Output = corral_core::client::Result<Option<Vec<u8>>>>,
    TakeTimeout: std::future::Future<Output = corral_core::client::Result<Option<Vec<u8>>>>,
{
    let item = match timeout_arg(timeout_ms)? {
        None => wait(take())?,
        Some(t) if t.is_zero() => wait(get())?.ok_or(CORRAL_TIMEOUT)?,
        Some(t) => wait(take_timeout(t))?.ok_or(CORRAL_TIMEOUT)?,
    };
    Ok(corral_bytes::boxed(item))
}

/// The bytes (owned by `bytes`; NULL for NULL).
///
/// # Safety
///
/// `bytes` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_bytes_data(bytes: *const corral_bytes) -> *const u8 {
    bytes.as_ref().map_or(std::ptr::null(), |b| b.bytes.as_ptr())
}

/// The number of bytes (0 for NULL).
///
/// # Safety
///
/// `bytes` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_bytes_len(bytes: *const corral_bytes) -> usize {
    bytes.as_ref().map_or(0, |b| b.bytes.len())
}

/// Frees bytes; NULL does nothing.
///
/// # Safety
///
/// `bytes` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_bytes_free(bytes: *mut corral_bytes) {
    free_handle(bytes)
}

/// The number of queued items.
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_queue_len(queue: *const corral_queue, out: *mut usize) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = wait(q.queue.len())?;
        Ok(())
    })
}

/// Frees a queue handle (the items stay); NULL does nothing.
///
/// # Safety
///
/// `queue` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_queue_free(queue: *mut corral_queue) {
    free_handle(queue)
}

/// Group membership: members join with an identifier and are listed.
#[allow(non_camel_case_types)]
pub struct corral_party {
    party: Party,
}

/// A member `identifier` of the party at `path` (kazoo's `Party`), not yet joined.
///
/// # Safety
///
/// `zk` is NULL or live; `path` and `identifier` are NUL-terminated strings; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_party_new(
    zk: *const corral_client,
    path: *const c_char,
    identifier: *const c_char,
    out: *mut *mut corral_party,
) -> corral_result {
    new_handle(zk, out, |c| Ok(corral_party { party: Party::new(c, str_arg(path)?, str_arg(identifier)?) }))
}

/// Joins (an ephemeral node: the member leaves when its session ends).
///
/// # Safety
///
/// `party` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_party_join(party: *const corral_party) -> corral_result {
    guard(|| wait(party.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.party.join()))
}

/// Leaves (`CORRAL_NOT_HELD` when not a member).
///
/// # Safety
///
/// `party` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_party_leave(party: *const corral_party) -> corral_result {
    guard(
        || {
            if wait(party.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.party.leave())? {
                Ok(())
            } else {
                Err(CORRAL_NOT_HELD)
            }
        },
    )
}

/// The members' identifiers as a new list.
///
/// # Safety
///
/// `party` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_party_members(
    party: *const corral_party,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let p = party.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = corral_strings::boxed(wait(p.party.members())?)?;
        Ok(())
    })
}

/// Frees a party handle (a joined member stays until its session ends or it
/// leaves); NULL does nothing.
///
/// # Safety
///
/// `party` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_party_free(party: *mut corral_party) {
    free_handle(party)
}
