//! Counters and ids for C, each the core's own: `corral_counter` (Curator's
//! `DistributedAtomicLong`), `corral_kazoo_counter` (kazoo's `Counter`, the
//! value as text), `corral_shared_count` (Curator's `SharedCount`, followed
//! by a watch) and `corral_id_generator` (ids from sequential nodes).

use std::ffi::{c_char, c_void};

use corral_core::recipes::atomic_long::{AtomicValue, DistributedAtomicLong};
use corral_core::recipes::counter::{Counter, SharedCount, VersionedValue};
use corral_core::recipes::id_generator::IdGenerator;
use tokio::task::JoinHandle;

use crate::caches::follow;
use crate::client::corral_client;
use crate::dispatch::{post, UserData};
use crate::ffi::{free_handle, new_handle, out_arg, str_arg, wait};
use crate::result::*;

/// A 64-bit counter in one node (8 big-endian bytes; a missing node reads 0).
#[allow(non_camel_case_types)]
pub struct corral_counter {
    counter: DistributedAtomicLong,
}

/// A counter at `path`, as Curator's `DistributedAtomicLong` keeps it.
///
/// ```c
/// corral_counter *hits = NULL;
/// corral_counter_new(zk, "/stats/hits", &hits);
/// int64_t now = 0;
/// corral_counter_add(hits, 1, &now);
/// corral_counter_free(hits);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_new(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_counter,
) -> corral_result {
    new_handle(zk, out, |c| Ok(corral_counter { counter: DistributedAtomicLong::new(c, str_arg(path)?) }))
}

/// The outcome of an update: the value after it, or `CORRAL_BAD_VERSION`
/// when it lost every optimistic attempt to other writers (retry it).
fn applied(v: AtomicValue<i64>, out: &mut i64) -> Result<(), corral_result> {
    if !v.succeeded {
        return Err(CORRAL_BAD_VERSION);
    }
    *out = v.post_value;
    Ok(())
}

/// Adds `delta` (may be negative) atomically; `*value` gets the new value.
///
/// # Safety
///
/// `counter` is NULL or live; `value` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_add(
    counter: *const corral_counter,
    delta: i64,
    value: *mut i64,
) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let value = out_arg(value)?;
        applied(wait(c.counter.add(delta))?, value)
    })
}

/// The current value.
///
/// # Safety
///
/// `counter` is NULL or live; `value` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_get(counter: *const corral_counter, value: *mut i64) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let value = out_arg(value)?;
        *value = wait(c.counter.get())?.post_value;
        Ok(())
    })
}

/// Sets the value to `new_value` if it is `expected`: `CORRAL_OK`, or
/// `CORRAL_BAD_VERSION` when it was not (nothing changed).
///
/// # Safety
///
/// `counter` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_compare_and_set(
    counter: *const corral_counter,
    expected: i64,
    new_value: i64,
) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut ignored = 0;
        applied(wait(c.counter.compare_and_set(expected, new_value))?, &mut ignored)
    })
}

/// Frees a counter; NULL does nothing.
///
/// # Safety
///
/// `counter` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_free(counter: *mut corral_counter) {
    free_handle(counter)
}

/// Sets the value to `value` in one optimistic attempt (Curator's
/// `trySet`): `CORRAL_OK`, or `CORRAL_BAD_VERSION` when another writer got
/// in between (nothing changed).
///
/// # Safety
///
/// `counter` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_try_set(counter: *const corral_counter, value: i64) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        applied(wait(c.counter.try_set(value))?, &mut 0)
    })
}

/// Sets the value to `value` whatever it is (Curator's `forceSet`).
///
/// # Safety
///
/// `counter` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_force_set(counter: *const corral_counter, value: i64) -> corral_result {
    guard(|| wait(counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.counter.force_set(value)))
}

/// Creates the counter's node holding `value` if it does not exist:
/// `CORRAL_OK`, or `CORRAL_NODE_EXISTS` (the value is left as it is).
///
/// ```c
/// if (corral_counter_initialize(c, 100) == CORRAL_NODE_EXISTS) puts("someone was first");
/// ```
///
/// # Safety
///
/// `counter` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_counter_initialize(counter: *const corral_counter, value: i64) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        if wait(c.counter.initialize(value))? {
            Ok(())
        } else {
            Err(CORRAL_NODE_EXISTS)
        }
    })
}

/// kazoo's counter: a 64-bit value stored as decimal text.
#[allow(non_camel_case_types)]
pub struct corral_kazoo_counter {
    counter: Counter,
}

/// A kazoo `Counter` at `path` (created empty on first use; an empty node
/// reads as `default_value`), to share a counter with kazoo processes.
///
/// ```c
/// corral_kazoo_counter *visits = NULL;
/// corral_kazoo_counter_new(zk, "/counters/visits", 0, &visits);
/// int64_t before = 0, after = 0;
/// corral_kazoo_counter_add(visits, 1, &before, &after);
/// corral_kazoo_counter_free(visits);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_kazoo_counter_new(
    zk: *const corral_client,
    path: *const c_char,
    default_value: i64,
    out: *mut *mut corral_kazoo_counter,
) -> corral_result {
    new_handle(zk, out, |c| {
        Ok(corral_kazoo_counter { counter: Counter::new(c, str_arg(path)?).with_default(default_value) })
    })
}

/// The current value (`CORRAL_MARSHALLING_ERROR` when the node holds no number).
///
/// # Safety
///
/// `counter` is NULL or live; `value` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_kazoo_counter_value(
    counter: *const corral_kazoo_counter,
    value: *mut i64,
) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let value = out_arg(value)?;
        *value = wait(c.counter.value())?;
        Ok(())
    })
}

/// Adds `delta` (may be negative) atomically; `*pre_value` (may be NULL)
/// gets the value it was added to, `*post_value` the value written.
/// `CORRAL_BAD_VERSION` when every attempt lost to other writers.
///
/// # Safety
///
/// `counter` is NULL or live; `pre_value` is NULL or writable; `post_value` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_kazoo_counter_add(
    counter: *const corral_kazoo_counter,
    delta: i64,
    pre_value: *mut i64,
    post_value: *mut i64,
) -> corral_result {
    guard(|| {
        let c = counter.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let post = out_arg(post_value)?;
        let change = wait(c.counter.add(delta))?;
        if let Some(pre) = pre_value.as_mut() {
            *pre = change.pre_value;
        }
        *post = change.post_value;
        Ok(())
    })
}

/// Frees a kazoo counter handle; NULL does nothing.
///
/// # Safety
///
/// `counter` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_kazoo_counter_free(counter: *mut corral_kazoo_counter) {
    free_handle(counter)
}

/// A shared count's change callback: runs on the dispatch thread with every
/// new value seen (quick successive changes may be coalesced).
#[allow(non_camel_case_types)]
pub type corral_count_fn = Option<unsafe extern "C" fn(value: i32, userdata: *mut c_void)>;

/// A 32-bit count every holder sees, kept current by a watch.
#[allow(non_camel_case_types)]
pub struct corral_shared_count {
    count: SharedCount,
    task: Option<JoinHandle<()>>,
}

/// Starts following the shared count at `path` (Curator's `SharedCount`: 4
/// big-endian bytes), creating it with `seed` if missing. `callback` (may
/// be NULL) gets every new value seen, the first one included.
///
/// ```c
/// corral_shared_count *workers = NULL;
/// corral_shared_count_start(zk, "/limits/workers", 4, NULL, NULL, &workers);
/// int32_t n = 0, version = 0;
/// corral_shared_count_get(workers, &n, &version);
/// if (corral_shared_count_try_set(workers, version, n * 2) == CORRAL_BAD_VERSION) puts("changed meanwhile");
/// corral_shared_count_free(workers);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
/// writable; `userdata` stays valid until the count is freed.
#[no_mangle]
pub unsafe extern "C" fn corral_shared_count_start(
    zk: *const corral_client,
    path: *const c_char,
    seed: i32,
    callback: corral_count_fn,
    userdata: *mut c_void,
    out: *mut *mut corral_shared_count,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let count = SharedCount::new(&client, path, seed);
        let ud = UserData(userdata);
        let task =
            callback.map(|cb| follow(count.changes(), move |value: i32| post(move || unsafe { cb(value, ud.get()) })));
        if let Err(rc) = wait(count.start()) {
            task.inspect(JoinHandle::abort);
            return Err(rc);
        }
        *out = Box::into_raw(Box::new(corral_shared_count { count, task }));
        Ok(())
    })
}

/// The count as last seen and its node version (`version` may be NULL; pass
/// it to `corral_shared_count_try_set`).
///
/// # Safety
///
/// `count` is NULL or live; `value` is writable; `version` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_shared_count_get(
    count: *const corral_shared_count,
    value: *mut i32,
    version: *mut i32,
) -> corral_result {
    guard(|| {
        let c = count.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let value = out_arg(value)?;
        let seen = c.count.get_versioned_value();
        *value = seen.value;
        if let Some(v) = version.as_mut() {
            *v = seen.version;
        }
        Ok(())
    })
}

/// Sets the count to `value` whatever it is.
///
/// # Safety
///
/// `count` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_shared_count_set(count: *const corral_shared_count, value: i32) -> corral_result {
    guard(|| wait(count.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.count.set_count(value)))
}

/// Sets the count to `value` if its node is still at `version` (from
/// `corral_shared_count_get`): `CORRAL_OK`, or `CORRAL_BAD_VERSION` when
/// someone changed it since (nothing written).
///
/// # Safety
///
/// `count` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_shared_count_try_set(
    count: *const corral_shared_count,
    version: i32,
    value: i32,
) -> corral_result {
    guard(|| {
        let c = count.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let previous = VersionedValue { version, value: c.count.get_count() };
        if wait(c.count.try_set_count(previous, value))? {
            Ok(())
        } else {
            Err(CORRAL_BAD_VERSION)
        }
    })
}

/// Stops following the count and frees it; NULL does nothing. No callback
/// starts after.
///
/// # Safety
///
/// `count` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_shared_count_free(count: *mut corral_shared_count) {
    if count.is_null() {
        return;
    }
    let c = Box::from_raw(count);
    c.count.close();
    if let Some(task) = c.task {
        task.abort();
    }
}

/// Unique, increasing ids from the sequence numbers of sequential nodes.
#[allow(non_camel_case_types)]
pub struct corral_id_generator {
    ids: IdGenerator,
}

/// An id generator under `path` (created on first use). Nodes are named
/// `<prefix><seq>` (`prefix` NULL: `"id-"`); with `keep_nodes` each id's
/// node stays (persistent), else it is deleted at once.
///
/// ```c
/// corral_id_generator *ids = NULL;
/// corral_id_generator_new(zk, "/ids/orders", NULL, false, &ids);
/// int64_t order_id = 0;
/// corral_id_generator_next(ids, &order_id);
/// corral_id_generator_free(ids);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `prefix` is
/// NULL or one; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_id_generator_new(
    zk: *const corral_client,
    path: *const c_char,
    prefix: *const c_char,
    keep_nodes: bool,
    out: *mut *mut corral_id_generator,
) -> corral_result {
    new_handle(zk, out, |c| {
        let mut ids = IdGenerator::new(c, str_arg(path)?).keeping_nodes(keep_nodes);
        if !prefix.is_null() {
            ids = ids.with_prefix(str_arg(prefix)?);
        }
        Ok(corral_id_generator { ids })
    })
}

/// A new id, larger than every id this path gave before.
///
/// # Safety
///
/// `ids` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_id_generator_next(ids: *const corral_id_generator, out: *mut i64) -> corral_result {
    guard(|| {
        let g = ids.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = wait(g.ids.next_id())?;
        Ok(())
    })
}

/// Frees an id generator handle; NULL does nothing.
///
/// # Safety
///
/// `ids` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_id_generator_free(ids: *mut corral_id_generator) {
    free_handle(ids)
}
