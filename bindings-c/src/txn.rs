//! Transactions (ZooKeeper's multi) for C: `corral_txn` collects sub-ops,
//! `corral_txn_commit` applies them atomically and returns every sub-op's
//! result as `corral_txn_results`.

use std::ffi::{c_char, CString};
use std::sync::{Arc, Mutex};

use corral_core::client::{Client, CreateOptions, OpResult, Transaction};
use corral_core::proto::{Code, CreateMode, Stat};

use crate::client::{corral_client, corral_stat, put_stat};
use crate::completion::Orderer;
use crate::ffi::{bytes_arg, out_arg, str_arg};
use crate::result::*;

/// One collected sub-op.
enum Op {
    Create { path: String, data: Vec<u8>, mode: CreateMode },
    Delete { path: String, version: Option<i32> },
    Set { path: String, data: Vec<u8>, version: Option<i32> },
    Check { path: String, version: i32 },
}

/// Sub-ops to apply together.
#[allow(non_camel_case_types)]
pub struct corral_txn {
    client: Client,
    ops: Mutex<Vec<Op>>,
    /// The client's completion order, for `corral_txn_commit_async`.
    pub(crate) orderer: Arc<Orderer>,
}

impl corral_txn {
    /// The collected sub-ops as a core transaction; the handle is emptied.
    pub(crate) fn take(&self) -> Result<Transaction, corral_result> {
        let ops = std::mem::take(&mut *self.ops.lock().map_err(|_| CORRAL_PANIC)?);
        let mut t = self.client.transaction();
        for op in &ops {
            t = match op {
                Op::Create { path, data, mode } => t.create(path, data, &CreateOptions::mode(*mode)),
                Op::Delete { path, version } => t.delete(path, *version),
                Op::Set { path, data, version } => t.set_data(path, data, *version),
                Op::Check { path, version } => t.check(path, *version),
            };
        }
        Ok(t)
    }
}

/// What each sub-op of a committed transaction did.
#[allow(non_camel_case_types)]
pub struct corral_txn_results {
    results: Vec<(corral_result, Option<CString>, Option<Stat>)>,
}

impl corral_txn_results {
    /// Every sub-op's result, and the code of the first failing sub-op
    /// (`CORRAL_OK` when the transaction applied).
    pub(crate) fn collect(results: Vec<OpResult>) -> Result<(corral_result, corral_txn_results), corral_result> {
        let mut first_failure = CORRAL_OK;
        let results = results
            .into_iter()
            .map(|r| match r {
                OpResult::Created { path, stat } => {
                    Ok((CORRAL_OK, Some(CString::new(path).map_err(|_| CORRAL_INVALID_UTF8)?), stat))
                }
                OpResult::SetData(stat) => Ok((CORRAL_OK, None, Some(stat))),
                OpResult::Error(code) => {
                    if first_failure == CORRAL_OK && code != Code::Ok && code != Code::RuntimeInconsistency {
                        first_failure = from_code(code);
                    }
                    Ok((from_code(code), None, None))
                }
                _ => Ok((CORRAL_OK, None, None)),
            })
            .collect::<Result<Vec<_>, corral_result>>()?;
        Ok((first_failure, corral_txn_results { results }))
    }
}

/// Starts a transaction on `zk`'s session.
///
/// ```c
/// corral_txn *t = NULL;
/// corral_txn_new(zk, &t);
/// corral_txn_check(t, "/config", 4);
/// corral_txn_set(t, "/config", data, len, 4);
/// corral_txn_create(t, "/config/history-", data, len, CORRAL_PERSISTENT_SEQUENTIAL);
/// corral_txn_results *r = NULL;
/// if (corral_txn_commit(t, &r) == CORRAL_OK) puts(corral_txn_results_path(r, 2));
/// corral_txn_results_free(r);
/// corral_txn_free(t);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_new(zk: *const corral_client, out: *mut *mut corral_txn) -> corral_result {
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let client = zk.get()?;
        let out = out_arg(out)?;
        *out = Box::into_raw(Box::new(corral_txn { client, ops: Mutex::new(Vec::new()), orderer: zk.orderer() }));
        Ok(())
    })
}

/// Adds `op` to `txn`.
unsafe fn push(txn: *const corral_txn, op: impl FnOnce() -> Result<Op, corral_result>) -> corral_result {
    guard(|| {
        let txn = txn.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let op = op()?;
        txn.ops.lock().map_err(|_| CORRAL_PANIC)?.push(op);
        Ok(())
    })
}

/// Adds a create (every mode but the TTL ones; the open ACL).
///
/// # Safety
///
/// `txn` is NULL or live; `path` is a NUL-terminated string; `data` has `data_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_create(
    txn: *const corral_txn,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    mode: i32,
) -> corral_result {
    push(txn, || {
        let mode = CreateMode::from_flags(mode).ok_or(CORRAL_INVALID_ARGUMENT)?;
        if matches!(mode, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl) {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        Ok(Op::Create { path: str_arg(path)?.to_owned(), data: bytes_arg(data, data_len)?.to_vec(), mode })
    })
}

/// Adds a delete (`version` -1: any).
///
/// # Safety
///
/// `txn` is NULL or live; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_delete(txn: *const corral_txn, path: *const c_char, version: i32) -> corral_result {
    push(txn, || Ok(Op::Delete { path: str_arg(path)?.to_owned(), version: Some(version).filter(|v| *v != -1) }))
}

/// Adds a set-data (`version` -1: any).
///
/// # Safety
///
/// `txn` is NULL or live; `path` is a NUL-terminated string; `data` has `data_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_set(
    txn: *const corral_txn,
    path: *const c_char,
    data: *const u8,
    data_len: usize,
    version: i32,
) -> corral_result {
    push(txn, || {
        Ok(Op::Set {
            path: str_arg(path)?.to_owned(),
            data: bytes_arg(data, data_len)?.to_vec(),
            version: Some(version).filter(|v| *v != -1),
        })
    })
}

/// Adds a version check (`version` -1: the node must only exist).
///
/// # Safety
///
/// `txn` is NULL or live; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_check(txn: *const corral_txn, path: *const c_char, version: i32) -> corral_result {
    push(txn, || Ok(Op::Check { path: str_arg(path)?.to_owned(), version }))
}

/// Applies the collected sub-ops atomically (all under one zxid, or none)
/// and empties the transaction. Returns `CORRAL_OK`, or the code of the
/// first failing sub-op; in both cases `*out` gets every sub-op's result
/// (as the ZooKeeper C client's `zoo_multi` fills its results): on failure
/// the sub-ops before the failing one say `CORRAL_OK`, the ones after it
/// `CORRAL_RUNTIME_INCONSISTENCY`, and nothing was applied. A transaction
/// that never reached the server (connection loss) writes nothing.
///
/// # Safety
///
/// `txn` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_commit(txn: *const corral_txn, out: *mut *mut corral_txn_results) -> corral_result {
    let mut first_failure = CORRAL_OK;
    let rc = guard(|| {
        let txn = txn.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        let t = txn.take()?;
        let results = corral_core::runtime::block_on(t.commit_results())
            .map_err(|e| from_block(&e))?
            .map_err(|e| from_client(&e))?;
        let (first, results) = corral_txn_results::collect(results)?;
        first_failure = first;
        *out = Box::into_raw(Box::new(results));
        Ok(())
    });
    if rc == CORRAL_OK {
        first_failure
    } else {
        rc
    }
}

/// Frees a transaction (its uncommitted sub-ops are dropped); NULL does nothing.
///
/// # Safety
///
/// `txn` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_free(txn: *mut corral_txn) {
    if !txn.is_null() {
        drop(Box::from_raw(txn));
    }
}

/// How many sub-op results there are (0 for NULL).
///
/// # Safety
///
/// `results` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_results_len(results: *const corral_txn_results) -> usize {
    results.as_ref().map_or(0, |r| r.results.len())
}

/// Sub-op `index`'s code (`CORRAL_INVALID_ARGUMENT` past the end, or for NULL).
///
/// # Safety
///
/// `results` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_results_code(results: *const corral_txn_results, index: usize) -> corral_result {
    results.as_ref().and_then(|r| r.results.get(index)).map_or(CORRAL_INVALID_ARGUMENT, |r| r.0)
}

/// The path a create sub-op made (owned by the results), else NULL.
///
/// # Safety
///
/// `results` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_results_path(results: *const corral_txn_results, index: usize) -> *const c_char {
    results
        .as_ref()
        .and_then(|r| r.results.get(index))
        .and_then(|r| r.1.as_ref())
        .map_or(std::ptr::null(), |p| p.as_ptr())
}

/// The stat a set-data (or create) sub-op returned into `out`;
/// `CORRAL_NO_NODE` when that sub-op has none.
///
/// # Safety
///
/// `results` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_results_stat(
    results: *const corral_txn_results,
    index: usize,
    out: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let r = results.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(out)?;
        let stat = r.results.get(index).ok_or(CORRAL_INVALID_ARGUMENT)?.2.ok_or(CORRAL_NO_NODE)?;
        put_stat(out, stat);
        Ok(())
    })
}

/// Frees results; NULL does nothing.
///
/// # Safety
///
/// `results` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_txn_results_free(results: *mut corral_txn_results) {
    if !results.is_null() {
        drop(Box::from_raw(results));
    }
}
