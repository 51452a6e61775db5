//! Recipes for C, each the core's own: `corral_lock` (Curator's
//! `InterProcessMutex` or kazoo's `Lock` naming, with a fencing token),
//! `corral_latch` (Curator's `LeaderLatch`) and `corral_rwlock` (Curator's
//! `InterProcessReadWriteLock`).

use std::ffi::{c_char, CString};
use std::sync::Mutex;
use std::time::Duration;

use corral_core::recipes::leader_latch::LeaderLatch;
use corral_core::recipes::lock::{Lock, Naming};
use corral_core::recipes::rwlock::{ReadWriteLock, ReadWriteLockHalf};

use crate::client::corral_client;
use crate::ffi::{out_arg, str_arg, wait, write_buf};
use crate::result::*;

/// Wait forever (`corral_lock_acquire`, `corral_latch_await`).
pub const CORRAL_WAIT_FOREVER: i64 = -1;

/// Node layout: Curator's (`InterProcessReadWriteLock`,
/// `InterProcessSemaphoreV2`, `LeaderSelector`), to share a path with
/// Curator processes.
pub const CORRAL_LAYOUT_CURATOR: i32 = 0;
/// Node layout: kazoo's (`ReadLock`/`WriteLock`, `Semaphore`, `Election`),
/// to share a path with kazoo processes.
pub const CORRAL_LAYOUT_KAZOO: i32 = 1;

/// A `CORRAL_LAYOUT_*` value as core's naming; anything else is `CORRAL_INVALID_ARGUMENT`.
pub(crate) fn layout_arg(layout: i32) -> Result<Naming, corral_result> {
    match layout {
        CORRAL_LAYOUT_CURATOR => Ok(Naming::Curator),
        CORRAL_LAYOUT_KAZOO => Ok(Naming::Kazoo),
        _ => Err(CORRAL_INVALID_ARGUMENT),
    }
}

/// A distributed, re-entrant mutex at a path.
#[allow(non_camel_case_types)]
pub struct corral_lock {
    lock: Mutex<Lock>,
}

/// A lock at `path` for this client. With `kazoo_identifier` NULL its
/// nodes follow Curator's `InterProcessMutex` (`_c_<uuid>-lock-<seq>`), so
/// it excludes Curator processes on the same path; otherwise kazoo's `Lock`
/// (`<uuid>__lock__<seq>` holding the identifier), to share a path with
/// kazoo processes. Each contender node is ephemeral and sequential; the
/// lowest holds the lock, the others wait in line.
///
/// ```c
/// corral_lock *lock = NULL;
/// corral_lock_new(zk, "/locks/report", NULL, &lock);
/// if (corral_lock_acquire(lock, 5000) == CORRAL_OK) {
///     int64_t token = 0;
///     corral_lock_fencing_token(lock, &token);  // send it with every write to the guarded resource
///     corral_lock_release(lock);
/// }
/// corral_lock_free(lock);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `kazoo_identifier`
/// is NULL or one; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_lock_new(
    zk: *const corral_client,
    path: *const c_char,
    kazoo_identifier: *const c_char,
    out: *mut *mut corral_lock,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        let lock = if kazoo_identifier.is_null() {
            Lock::new(&client, path)
        } else {
            Lock::kazoo(&client, path, str_arg(kazoo_identifier)?)
        };
        *out = Box::into_raw(Box::new(corral_lock { lock: Mutex::new(lock) }));
        Ok(())
    })
}

/// Waits up to `timeout_ms` (0: only try; `CORRAL_WAIT_FOREVER`) for the
/// lock: `CORRAL_OK` once held (acquiring a held lock again nests), or
/// `CORRAL_TIMEOUT` (this contender's node is removed).
///
/// # Safety
///
/// `lock` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_lock_acquire(lock: *const corral_lock, timeout_ms: i64) -> corral_result {
    guard(|| {
        let lock = lock.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut l = lock.lock.lock().map_err(|_| CORRAL_PANIC)?;
        let got = match timeout_ms {
            CORRAL_WAIT_FOREVER => wait(async { l.acquire().await.map(|()| true) })?,
            0 => wait(l.try_acquire())?,
            ms if ms > 0 => wait(l.acquire_timeout(Duration::from_millis(ms as u64)))?,
            _ => return Err(CORRAL_INVALID_ARGUMENT),
        };
        if got {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// Releases one hold; the last release deletes the node and lets the next
/// contender in. `CORRAL_NOT_HELD` when not held.
///
/// # Safety
///
/// `lock` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_lock_release(lock: *const corral_lock) -> corral_result {
    guard(|| {
        let lock = lock.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut l = lock.lock.lock().map_err(|_| CORRAL_PANIC)?;
        if !l.is_held() {
            return Err(CORRAL_NOT_HELD);
        }
        wait(l.release())
    })
}

/// Whether this handle holds the lock now (false while the connection is
/// down: ownership is unknown then).
///
/// # Safety
///
/// `lock` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_lock_is_held(lock: *const corral_lock) -> bool {
    lock.as_ref().and_then(|l| l.lock.lock().ok()).is_some_and(|l| l.is_held())
}

/// The fencing token of the current hold: the zxid that created the lock
/// node, strictly larger for every later holder. `CORRAL_NOT_HELD` when not held.
///
/// # Safety
///
/// `lock` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_lock_fencing_token(lock: *const corral_lock, out: *mut i64) -> corral_result {
    guard(|| {
        let lock = lock.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let l = lock.lock.lock().map_err(|_| CORRAL_PANIC)?;
        *out = l.fencing_token().filter(|_| l.is_held()).ok_or(CORRAL_NOT_HELD)?;
        Ok(())
    })
}

/// Releases the lock if held (its node goes) and frees the handle; NULL does nothing.
///
/// # Safety
///
/// `lock` is NULL or a handle not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_lock_free(lock: *mut corral_lock) {
    if lock.is_null() {
        return;
    }
    let lock = Box::from_raw(lock);
    if let Ok(mut l) = lock.lock.into_inner() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(async move {
                while l.is_held() {
                    if l.release().await.is_err() {
                        break;
                    }
                }
            });
        }));
    }
}

/// A leader latch: of all participants on a path, one leads at a time.
#[allow(non_camel_case_types)]
pub struct corral_latch {
    latch: Mutex<Option<LeaderLatch>>,
}

/// Joins the leader latch at `path` as participant `id` (stored in its
/// node, as Curator's `LeaderLatch` does) and starts following it.
///
/// ```c
/// corral_latch *latch = NULL;
/// corral_latch_start(zk, "/election/scheduler", "host-a", &latch);
/// if (corral_latch_await(latch, CORRAL_WAIT_FOREVER) == CORRAL_OK) {
///     // lead, checking corral_latch_has_leadership(latch) between steps
/// }
/// corral_latch_free(latch);   // leaves the latch: the next participant leads
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` and `id` are NUL-terminated strings; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_latch_start(
    zk: *const corral_client,
    path: *const c_char,
    id: *const c_char,
    out: *mut *mut corral_latch,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let (path, id) = (str_arg(path)?, str_arg(id)?);
        let out = out_arg(out)?;
        let mut latch = LeaderLatch::new(&client, path, id);
        wait(latch.start())?;
        *out = Box::into_raw(Box::new(corral_latch { latch: Mutex::new(Some(latch)) }));
        Ok(())
    })
}

/// Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) to lead: `CORRAL_OK`
/// once leading, `CORRAL_TIMEOUT` otherwise.
///
/// # Safety
///
/// `latch` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_latch_await(latch: *const corral_latch, timeout_ms: i64) -> corral_result {
    guard(|| {
        let latch = latch.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let rx = {
            let l = latch.latch.lock().map_err(|_| CORRAL_PANIC)?;
            l.as_ref().ok_or(CORRAL_CLOSED_HANDLE)?.leadership_changes()
        };
        let leads = async move {
            let mut rx = rx;
            let led = rx.wait_for(|l| *l).await.is_ok();
            led
        };
        let led = match timeout_ms {
            CORRAL_WAIT_FOREVER => corral_core::runtime::block_on(leads).map_err(|e| from_block(&e))?,
            ms if ms >= 0 => corral_core::runtime::block_on(async {
                tokio::time::timeout(Duration::from_millis(ms as u64), leads).await.unwrap_or(false)
            })
            .map_err(|e| from_block(&e))?,
            _ => return Err(CORRAL_INVALID_ARGUMENT),
        };
        if led {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// Whether this participant leads now (false for NULL).
///
/// # Safety
///
/// `latch` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_latch_has_leadership(latch: *const corral_latch) -> bool {
    latch.as_ref().and_then(|l| l.latch.lock().ok()).is_some_and(|l| l.as_ref().is_some_and(|l| l.has_leadership()))
}

/// The id of the participant that leads now, NUL-terminated, into `buf`
/// (`cap` bytes; `*len` gets its length). `CORRAL_NO_NODE` when no one leads.
///
/// # Safety
///
/// `latch` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_latch_leader(
    latch: *const corral_latch,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> corral_result {
    guard(|| {
        let latch = latch.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(len)?;
        let leader = {
            let l = latch.latch.lock().map_err(|_| CORRAL_PANIC)?;
            let l = l.as_ref().ok_or(CORRAL_CLOSED_HANDLE)?;
            wait(l.leader())?
        };
        let id = CString::new(leader.ok_or(CORRAL_NO_NODE)?.id).map_err(|_| CORRAL_INVALID_UTF8)?;
        write_buf(id.as_bytes(), true, buf.cast(), cap, len)
    })
}

/// Leaves the latch (its node goes; the next participant leads) and frees
/// the handle; NULL does nothing.
///
/// # Safety
///
/// `latch` is NULL or a handle not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_latch_free(latch: *mut corral_latch) {
    if latch.is_null() {
        return;
    }
    let latch = Box::from_raw(latch);
    if let Some(l) = latch.latch.into_inner().ok().flatten() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(l.close());
        }));
    }
}

/// A read-write lock: readers share it, a writer holds it alone (Curator's
/// `InterProcessReadWriteLock` node layout).
#[allow(non_camel_case_types)]
pub struct corral_rwlock {
    lock: Mutex<ReadWriteLock>,
}

/// A read-write lock at `path` for this client.
///
/// ```c
/// corral_rwlock *rw = NULL;
/// corral_rwlock_new(zk, "/locks/catalog", &rw);
/// if (corral_rwlock_acquire(rw, false, 5000) == CORRAL_OK) {   // shared
///     // read the catalog
///     corral_rwlock_release(rw, false);
/// }
/// corral_rwlock_free(rw);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_rwlock_new(
    zk: *const corral_client,
    path: *const c_char,
    out: *mut *mut corral_rwlock,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let out = out_arg(out)?;
        *out = Box::into_raw(Box::new(corral_rwlock { lock: Mutex::new(ReadWriteLock::new(&client, path)) }));
        Ok(())
    })
}

/// A read-write lock at `path` in the given layout (`CORRAL_LAYOUT_CURATOR`
/// or `CORRAL_LAYOUT_KAZOO`; any other value is `CORRAL_INVALID_ARGUMENT`),
/// its nodes holding `identifier` (NULL: empty; kazoo lists it as the
/// contender). Every process sharing the path must use the same layout.
///
/// ```c
/// corral_rwlock *rw = NULL;
/// corral_rwlock_new_layout(zk, "/locks/catalog", CORRAL_LAYOUT_KAZOO, "host-a", &rw);  // kazoo's ReadLock/WriteLock
/// corral_rwlock_free(rw);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` is a NUL-terminated string; `identifier` is
/// NULL or one; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_rwlock_new_layout(
    zk: *const corral_client,
    path: *const c_char,
    layout: i32,
    identifier: *const c_char,
    out: *mut *mut corral_rwlock,
) -> corral_result {
    guard(|| {
        let client = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.get()?;
        let path = str_arg(path)?;
        let naming = layout_arg(layout)?;
        let out = out_arg(out)?;
        let mut lock = ReadWriteLock::new(&client, path).with_naming(naming);
        if !identifier.is_null() {
            lock = lock.with_data(str_arg(identifier)?.as_bytes());
        }
        *out = Box::into_raw(Box::new(corral_rwlock { lock: Mutex::new(lock) }));
        Ok(())
    })
}

/// The side asked for.
fn side(rw: &mut ReadWriteLock, write: bool) -> &mut ReadWriteLockHalf {
    if write {
        rw.write()
    } else {
        rw.read()
    }
}

/// Waits up to `timeout_ms` (0: only try; `CORRAL_WAIT_FOREVER`) for the
/// write side (`write`) or the read side: `CORRAL_OK` or `CORRAL_TIMEOUT`.
/// The holder of the write side may also take the read side; a holder of
/// only the read side asking for the write side gets `CORRAL_BAD_ARGUMENTS`
/// (it would wait for itself), as in Curator.
///
/// # Safety
///
/// `rwlock` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_rwlock_acquire(
    rwlock: *const corral_rwlock,
    write: bool,
    timeout_ms: i64,
) -> corral_result {
    guard(|| {
        let rw = rwlock.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut l = rw.lock.lock().map_err(|_| CORRAL_PANIC)?;
        let half = side(&mut l, write);
        let got = match timeout_ms {
            CORRAL_WAIT_FOREVER => wait(async { half.acquire().await.map(|()| true) })?,
            0 => wait(half.try_acquire())?,
            ms if ms > 0 => wait(half.acquire_timeout(Duration::from_millis(ms as u64)))?,
            _ => return Err(CORRAL_INVALID_ARGUMENT),
        };
        if got {
            Ok(())
        } else {
            Err(CORRAL_TIMEOUT)
        }
    })
}

/// Releases one hold of a side (`CORRAL_NOT_HELD` when not held).
///
/// # Safety
///
/// `rwlock` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_rwlock_release(rwlock: *const corral_rwlock, write: bool) -> corral_result {
    guard(|| {
        let rw = rwlock.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut l = rw.lock.lock().map_err(|_| CORRAL_PANIC)?;
        let half = side(&mut l, write);
        if !half.is_held() {
            return Err(CORRAL_NOT_HELD);
        }
        wait(half.release())
    })
}

/// Whether this handle holds a side now (false for NULL).
///
/// # Safety
///
/// `rwlock` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_rwlock_is_held(rwlock: *const corral_rwlock, write: bool) -> bool {
    rwlock.as_ref().and_then(|r| r.lock.lock().ok()).is_some_and(|mut l| side(&mut l, write).is_held())
}

/// Releases both sides if held and frees the handle; NULL does nothing.
///
/// # Safety
///
/// `rwlock` is NULL or not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_rwlock_free(rwlock: *mut corral_rwlock) {
    if rwlock.is_null() {
        return;
    }
    let rw = Box::from_raw(rwlock);
    if let Ok(mut l) = rw.lock.into_inner() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(async move {
                for write in [false, true] {
                    let half = side(&mut l, write);
                    while half.is_held() {
                        if half.release().await.is_err() {
                            break;
                        }
                    }
                }
            });
        }));
    }
}
