//! `corral_partitioner` for C, the core's `SetPartitioner` (kazoo's
//! `SetPartitioner`: its layout, split and states): the members of a party
//! share a set of items, each holding (and locking) its part.

use std::ffi::c_char;
use std::sync::RwLock;
use std::time::Duration;

use corral_core::recipes::partitioner::{PartitionState, SetPartitioner};

use crate::client::corral_client;
use crate::ffi::{out_arg, str_arg, strs_arg, timeout_arg, wait};
use crate::result::*;
use crate::strings::corral_strings;

/// Partition state: waiting for the membership to settle, then taking the share.
pub const CORRAL_PARTITION_ALLOCATING: i32 = 0;
/// Partition state: the share is held (`corral_partitioner_partitions`).
pub const CORRAL_PARTITION_ACQUIRED: i32 = 1;
/// Partition state: the membership changed; give the share up with
/// `corral_partitioner_release_set`.
pub const CORRAL_PARTITION_RELEASE: i32 = 2;
/// Partition state: finished, or the session was lost; start a new partitioner.
pub const CORRAL_PARTITION_FAILURE: i32 = 3;

fn state_code(s: PartitionState) -> i32 {
    match s {
        PartitionState::Allocating => CORRAL_PARTITION_ALLOCATING,
        PartitionState::Acquired => CORRAL_PARTITION_ACQUIRED,
        PartitionState::Release => CORRAL_PARTITION_RELEASE,
        PartitionState::Failure => CORRAL_PARTITION_FAILURE,
    }
}

/// One member's share of a set of items.
#[allow(non_camel_case_types)]
pub struct corral_partitioner {
    partitioner: RwLock<Option<SetPartitioner>>,
}

impl corral_partitioner {
    /// Runs `f` on the partitioner; `CORRAL_CLOSED_HANDLE` after `corral_partitioner_finish`.
    fn with<T>(&self, f: impl FnOnce(&SetPartitioner) -> Result<T, corral_result>) -> Result<T, corral_result> {
        f(self.partitioner.read().map_err(|_| CORRAL_PANIC)?.as_ref().ok_or(CORRAL_CLOSED_HANDLE)?)
    }
}

/// Joins the party at `<path>/party` as member `identifier` (unique, valid
/// in a node name) and starts taking this member's share of the `items_len`
/// items (valid node names) in the background. The share is taken once the
/// membership stayed unchanged for `time_boundary_ms`; with `locks` each of
/// its items is also locked (`<path>/locks/<item>`), so that no item is ever
/// held by two members.
///
/// ```c
/// const char *queues[] = {"q1", "q2", "q3"};
/// corral_partitioner *p = NULL;
/// corral_partitioner_start(zk, "/app/queues", queues, 3, "worker-1", 200, true, &p);
/// int32_t state = 0;
/// corral_partitioner_wait_for_change(p, CORRAL_PARTITION_ALLOCATING, 10000, &state);
/// if (state == CORRAL_PARTITION_ACQUIRED) {
///     corral_strings *mine = NULL;
///     corral_partitioner_partitions(p, &mine);   // work on these until the state changes
///     corral_strings_free(mine);
/// }
/// corral_partitioner_free(p);   // releases the share, leaves the party
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` and `identifier` are NUL-terminated
/// strings; `items` points to `items_len` of them; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_start(
    zk: *const corral_client,
    path: *const c_char,
    items: *const *const c_char,
    items_len: usize,
    identifier: *const c_char,
    time_boundary_ms: u32,
    locks: bool,
    out: *mut *mut corral_partitioner,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let items: Vec<String> = strs_arg(items, items_len)?.into_iter().map(str::to_owned).collect();
        let identifier = str_arg(identifier)?;
        let out = out_arg(out)?;
        let builder = SetPartitioner::builder(&client, path, &items, identifier)
            .time_boundary(Duration::from_millis(u64::from(time_boundary_ms)))
            .locks(locks);
        let partitioner = wait(builder.start())?;
        *out = Box::into_raw(Box::new(corral_partitioner { partitioner: RwLock::new(Some(partitioner)) }));
        Ok(())
    })
}

/// The current state (`CORRAL_PARTITION_*`).
///
/// # Safety
///
/// `partitioner` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_state(
    partitioner: *const corral_partitioner,
    out: *mut i32,
) -> corral_result {
    guard(|| {
        let p = partitioner.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        *out_arg(out)? = p.with(|p| Ok(state_code(p.state())))?;
        Ok(())
    })
}

/// Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until the state is no
/// longer `from` (`CORRAL_PARTITION_ALLOCATING`: until the share is taken):
/// `CORRAL_OK` with the new state in `*out`, or `CORRAL_TIMEOUT`.
///
/// # Safety
///
/// `partitioner` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_wait_for_change(
    partitioner: *const corral_partitioner,
    from: i32,
    timeout_ms: i64,
    out: *mut i32,
) -> corral_result {
    guard(|| {
        let p = partitioner.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let from = match from {
            CORRAL_PARTITION_ALLOCATING => PartitionState::Allocating,
            CORRAL_PARTITION_ACQUIRED => PartitionState::Acquired,
            CORRAL_PARTITION_RELEASE => PartitionState::Release,
            CORRAL_PARTITION_FAILURE => PartitionState::Failure,
            _ => return Err(CORRAL_INVALID_ARGUMENT),
        };
        let timeout = timeout_arg(timeout_ms)?;
        let reached = p.with(|p| {
            corral_core::runtime::block_on(async {
                match timeout {
                    None => Some(p.wait_for_change(from).await),
                    Some(t) => tokio::time::timeout(t, p.wait_for_change(from)).await.ok(),
                }
            })
            .map_err(|e| from_block(&e))
        })?;
        *out = state_code(reached.ok_or(CORRAL_TIMEOUT)?);
        Ok(())
    })
}

/// This member's share (sorted), as a new list: the items held while
/// `CORRAL_PARTITION_ACQUIRED`, still listed during
/// `CORRAL_PARTITION_RELEASE` until released; else empty.
///
/// # Safety
///
/// `partitioner` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_partitions(
    partitioner: *const corral_partitioner,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let p = partitioner.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = corral_strings::boxed(p.with(|p| Ok(p.partitions()))?)?;
        Ok(())
    })
}

/// Gives the share up (its locks) and starts allocating again; what a
/// member does on `CORRAL_PARTITION_RELEASE`.
///
/// # Safety
///
/// `partitioner` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_release_set(partitioner: *const corral_partitioner) -> corral_result {
    guard(|| {
        let p = partitioner.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        p.with(|p| {
            wait(p.release_set())?;
            // The core acknowledges the release just before it leaves
            // `Release`: wait for that step, so that a wait for the next
            // change made after this call returns sees the new round.
            corral_core::runtime::block_on(p.wait_for_change(PartitionState::Release)).map_err(|e| from_block(&e))?;
            Ok(())
        })
    })
}

/// Releases the share and leaves the party. Later calls on the handle
/// return `CORRAL_CLOSED_HANDLE` (finishing twice too); it must still be freed.
///
/// # Safety
///
/// `partitioner` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_finish(partitioner: *const corral_partitioner) -> corral_result {
    guard(|| {
        let p = partitioner.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let open = p.partitioner.write().map_err(|_| CORRAL_PANIC)?.take().ok_or(CORRAL_CLOSED_HANDLE)?;
        corral_core::runtime::block_on(open.finish()).map_err(|e| from_block(&e))
    })
}

/// Finishes if not finished yet and frees the handle; NULL does nothing.
///
/// # Safety
///
/// `partitioner` is NULL or not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_partitioner_free(partitioner: *mut corral_partitioner) {
    if partitioner.is_null() {
        return;
    }
    let p = Box::from_raw(partitioner);
    if let Some(open) = p.partitioner.into_inner().ok().flatten() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(open.finish());
        }));
    }
}
