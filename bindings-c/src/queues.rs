//! The queues beyond the FIFO one, each the core's own: `corral_priority_queue`
//! (kazoo's `PriorityQueue`) and `corral_locking_queue` (kazoo's
//! `LockingQueue`: an item stays until its consumer consumes it). Items come
//! back as `corral_bytes`.

use std::ffi::c_char;

use corral_core::recipes::locking_queue::LockingQueue;
use corral_core::recipes::queue::PriorityQueue;

use crate::client::corral_client;
use crate::coordination::{corral_bytes, take_item};
use crate::ffi::{free_handle, items_arg, new_handle, out_arg, str_arg, timeout_arg, wait};
use crate::result::*;

/// The priority `corral_queue_put` gives its items (kazoo's default).
pub const CORRAL_QUEUE_DEFAULT_PRIORITY: i32 = 100;
/// The largest priority (taken last); 0 is taken first.
pub const CORRAL_QUEUE_PRIORITY_MAX: i32 = 999;

/// A priority argument, 0 to `CORRAL_QUEUE_PRIORITY_MAX`.
fn priority_arg(priority: i32) -> Result<u16, corral_result> {
    u16::try_from(priority).ok().filter(|p| i32::from(*p) <= CORRAL_QUEUE_PRIORITY_MAX).ok_or(CORRAL_INVALID_ARGUMENT)
}

/// A queue whose most urgent item (lowest priority number, then oldest) is taken first.
#[allow(non_camel_case_types)]
pub struct corral_priority_queue {
    queue: PriorityQueue,
}

/// A priority queue at `path` (kazoo's `PriorityQueue` layout, the same as
/// `corral_queue`'s: the two share items).
///
/// ```c
/// corral_priority_queue *q = NULL;
/// corral_priority_queue_new(zk, "/tasks", &q);
/// corral_priority_queue_put(q, (const uint8_t *)"routine", 7, 500);
/// corral_priority_queue_put(q, (const uint8_t *)"urgent", 6, 1);
/// corral_bytes *next = NULL;
/// corral_priority_queue_take(q, 0, &next);   // "urgent"
/// corral_bytes_free(next);
/// corral_priority_queue_free(q);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_priority_queue_new(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_priority_queue,
) -> corral_result {
    new_handle(zk, out, |c| Ok(corral_priority_queue { queue: PriorityQueue::new(c, str_arg(path)?) }))
}

/// Adds an item with `priority` (0 to `CORRAL_QUEUE_PRIORITY_MAX`, else
/// `CORRAL_INVALID_ARGUMENT`).
///
/// # Safety
///
/// `queue` is NULL or live; `item` has `item_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_priority_queue_put(
    queue: *const corral_priority_queue,
    item: *const u8,
    item_len: usize,
    priority: i32,
) -> corral_result {
    corral_priority_queue_put_all(queue, &item, &item_len, 1, priority)
}

/// Adds `count` items (`items[i]` of `lens[i]` bytes) with one priority,
/// atomically: all of them or none.
///
/// ```c
/// const uint8_t *items[] = {(const uint8_t *)"a", (const uint8_t *)"bc"};
/// size_t lens[] = {1, 2};
/// corral_priority_queue_put_all(q, items, lens, 2, CORRAL_QUEUE_DEFAULT_PRIORITY);
/// ```
///
/// # Safety
///
/// `queue` is NULL or live; `items` and `lens` point to `count` entries.
#[no_mangle]
pub unsafe extern "C" fn corral_priority_queue_put_all(
    queue: *const corral_priority_queue,
    items: *const *const u8,
    lens: *const usize,
    count: usize,
    priority: i32,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let (items, priority) = (items_arg(items, lens, count)?, priority_arg(priority)?);
        wait(q.queue.put_all(&items, priority))
    })
}

/// Takes the most urgent item, waiting up to `timeout_ms` (0: only if one is
/// there; `CORRAL_WAIT_FOREVER`): `CORRAL_OK` with it as a new
/// `corral_bytes`, or `CORRAL_TIMEOUT`.
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_priority_queue_take(
    queue: *const corral_priority_queue,
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

/// The number of queued items.
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_priority_queue_len(
    queue: *const corral_priority_queue,
    out: *mut usize,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        *out_arg(out)? = wait(q.queue.len())?;
        Ok(())
    })
}

/// Frees a priority queue handle (the items stay); NULL does nothing.
///
/// # Safety
///
/// `queue` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_priority_queue_free(queue: *mut corral_priority_queue) {
    free_handle(queue)
}

/// A queue whose items stay until consumed: at-least-once delivery.
#[allow(non_camel_case_types)]
pub struct corral_locking_queue {
    queue: LockingQueue,
}

/// A locking queue at `path` (kazoo's `LockingQueue` layout: items under
/// `<path>/entries`, each taken item's ephemeral lock under `<path>/taken`).
/// A consumer whose session ends before it consumes its item gives it back.
///
/// ```c
/// corral_locking_queue *q = NULL;
/// corral_locking_queue_new(zk, "/work", &q);
/// corral_bytes *job = NULL;
/// if (corral_locking_queue_get(q, 5000, &job) == CORRAL_OK) {
///     if (process(corral_bytes_data(job), corral_bytes_len(job))) corral_locking_queue_consume(q);
///     else corral_locking_queue_release(q);   // for another consumer
///     corral_bytes_free(job);
/// }
/// corral_locking_queue_free(q);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_new(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_locking_queue,
) -> corral_result {
    new_handle(zk, out, |c| Ok(corral_locking_queue { queue: LockingQueue::new(c, str_arg(path)?) }))
}

/// Adds an item with `priority` (0 to `CORRAL_QUEUE_PRIORITY_MAX`, lower first).
///
/// # Safety
///
/// `queue` is NULL or live; `item` has `item_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_put(
    queue: *const corral_locking_queue,
    item: *const u8,
    item_len: usize,
    priority: i32,
) -> corral_result {
    corral_locking_queue_put_all(queue, &item, &item_len, 1, priority)
}

/// Adds `count` items with one priority, atomically (as
/// `corral_priority_queue_put_all`).
///
/// # Safety
///
/// `queue` is NULL or live; `items` and `lens` point to `count` entries.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_put_all(
    queue: *const corral_locking_queue,
    items: *const *const u8,
    lens: *const usize,
    count: usize,
    priority: i32,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let (items, priority) = (items_arg(items, lens, count)?, priority_arg(priority)?);
        wait(q.queue.put_all(&items, priority))
    })
}

/// Locks the next available item and returns it as a new `corral_bytes`,
/// waiting up to `timeout_ms` (`CORRAL_WAIT_FOREVER`); `CORRAL_TIMEOUT` when
/// none came. While an item is held (not consumed or released), returns that
/// item again.
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_get(
    queue: *const corral_locking_queue,
    timeout_ms: i64,
    out: *mut *mut corral_bytes,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let item = wait(q.queue.get(timeout_arg(timeout_ms)?))?.ok_or(CORRAL_TIMEOUT)?;
        *out = corral_bytes::boxed(item);
        Ok(())
    })
}

/// Whether this consumer still holds the lock of its item (false when it
/// has none, or its session lost it).
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_holds_lock(
    queue: *const corral_locking_queue,
    out: *mut bool,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        *out_arg(out)? = wait(q.queue.holds_lock())?;
        Ok(())
    })
}

/// Removes the held item from the queue: `CORRAL_OK`, or `CORRAL_NOT_HELD`
/// when there is none or its lock was lost (the item may go to another
/// consumer; it is forgotten here).
///
/// # Safety
///
/// `queue` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_consume(queue: *const corral_locking_queue) -> corral_result {
    guard(|| held(wait(queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.queue.consume())?))
}

/// Unlocks the held item without consuming it, for another consumer:
/// `CORRAL_OK`, or `CORRAL_NOT_HELD` when there is none or its lock was lost.
///
/// # Safety
///
/// `queue` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_release(queue: *const corral_locking_queue) -> corral_result {
    guard(|| held(wait(queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.queue.release())?))
}

/// `CORRAL_NOT_HELD` unless the held item was there to act on.
fn held(done: bool) -> Result<(), corral_result> {
    if done {
        Ok(())
    } else {
        Err(CORRAL_NOT_HELD)
    }
}

/// The number of items, locked ones included.
///
/// # Safety
///
/// `queue` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_len(
    queue: *const corral_locking_queue,
    out: *mut usize,
) -> corral_result {
    guard(|| {
        let q = queue.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        *out_arg(out)? = wait(q.queue.len())?;
        Ok(())
    })
}

/// Frees a locking queue handle; NULL does nothing. A held item stays
/// locked until this session ends (then another consumer gets it).
///
/// # Safety
///
/// `queue` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_locking_queue_free(queue: *mut corral_locking_queue) {
    free_handle(queue)
}
