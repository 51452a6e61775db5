//! multiRead for C: several reads in one request (ZooKeeper 3.6+), each
//! with its own outcome, returned as `corral_read_results`.

use std::ffi::c_char;

use corral_core::client::OpResult;
use corral_core::proto::{Code, Stat};

use crate::client::{call, corral_client, corral_stat, put_stat};
use crate::ffi::{out_arg, strs_arg};
use crate::result::*;
use crate::strings::corral_strings;

/// One read's outcome.
enum Read {
    Data(Vec<u8>, Stat),
    Children(corral_strings),
    Failed(corral_result),
}

/// The outcomes of a `corral_client_multi_read`, one per read: the data
/// reads first, in the order given, then the children reads.
#[allow(non_camel_case_types)]
pub struct corral_read_results {
    reads: Vec<Read>,
}

/// Reads the data of `data_paths_len` nodes and the children of
/// `children_paths_len` nodes in one request (ZooKeeper's multiRead; either
/// array may be NULL with length 0). Each read succeeds or fails on its own
/// (a missing node is that read's `CORRAL_NO_NODE`); the call itself fails
/// only when the request does. No read sets a watch.
///
/// ```c
/// const char *data_paths[] = {"/config/a", "/config/b"};
/// const char *children_paths[] = {"/workers"};
/// corral_read_results *r = NULL;
/// if (corral_client_multi_read(zk, data_paths, 2, children_paths, 1, &r) == CORRAL_OK) {
///     const uint8_t *data = NULL; size_t len = 0;
///     if (corral_read_results_data(r, 0, &data, &len, NULL) == CORRAL_OK) printf("%.*s\n", (int)len, (const char *)data);
///     const corral_strings *workers = NULL;
///     if (corral_read_results_children(r, 2, &workers) == CORRAL_OK) printf("%zu workers\n", corral_strings_len(workers));
///     corral_read_results_free(r);
/// }
/// ```
///
/// # Safety
///
/// `zk` is NULL or a live handle; `data_paths` and `children_paths` point to
/// that many NUL-terminated strings; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_multi_read(
    zk: *const corral_client,
    data_paths: *const *const c_char,
    data_paths_len: usize,
    children_paths: *const *const c_char,
    children_paths_len: usize,
    out: *mut *mut corral_read_results,
) -> corral_result {
    guard(|| {
        let data = strs_arg(data_paths, data_paths_len)?;
        let children = strs_arg(children_paths, children_paths_len)?;
        let out = out_arg(out)?;
        let results = call(zk, |c| Ok(async move { c.multi_read(&data, &children).await }))?;
        let reads = results
            .into_iter()
            .map(|r| {
                Ok(match r {
                    OpResult::Data(bytes, stat) => Read::Data(bytes, stat),
                    OpResult::Children(names) => Read::Children(corral_strings::new(names)?),
                    OpResult::Error(code) => Read::Failed(from_code(code)),
                    _ => Read::Failed(from_code(Code::MarshallingError)),
                })
            })
            .collect::<Result<Vec<_>, corral_result>>()?;
        *out = Box::into_raw(Box::new(corral_read_results { reads }));
        Ok(())
    })
}

/// How many reads there are (0 for NULL).
///
/// # Safety
///
/// `results` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_read_results_len(results: *const corral_read_results) -> usize {
    results.as_ref().map_or(0, |r| r.reads.len())
}

/// Read `index`'s code: `CORRAL_OK` or why it failed
/// (`CORRAL_INVALID_ARGUMENT` past the end, or for NULL).
///
/// # Safety
///
/// `results` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_read_results_code(results: *const corral_read_results, index: usize) -> corral_result {
    match results.as_ref().and_then(|r| r.reads.get(index)) {
        None => CORRAL_INVALID_ARGUMENT,
        Some(Read::Failed(rc)) => *rc,
        Some(_) => CORRAL_OK,
    }
}

/// The read at `index`, or its failure code.
unsafe fn read_at<'a>(results: *const corral_read_results, index: usize) -> Result<&'a Read, corral_result> {
    let read = results.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.reads.get(index).ok_or(CORRAL_INVALID_ARGUMENT)?;
    match read {
        Read::Failed(rc) => Err(*rc),
        r => Ok(r),
    }
}

/// The data (owned by the results; `*len` its length) and stat (`stat` may
/// be NULL) of data read `index`: `CORRAL_OK`, the read's failure code, or
/// `CORRAL_INVALID_ARGUMENT` for a children read or past the end.
///
/// # Safety
///
/// `results` is NULL or live; `data` and `len` are writable; `stat` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_read_results_data(
    results: *const corral_read_results,
    index: usize,
    data: *mut *const u8,
    len: *mut usize,
    stat: *mut corral_stat,
) -> corral_result {
    guard(|| {
        let (data, len) = (out_arg(data)?, out_arg(len)?);
        let Read::Data(bytes, s) = read_at(results, index)? else { return Err(CORRAL_INVALID_ARGUMENT) };
        *data = bytes.as_ptr();
        *len = bytes.len();
        put_stat(stat, *s);
        Ok(())
    })
}

/// The children's names of children read `index` (a list owned by the
/// results: do not free it): `CORRAL_OK`, the read's failure code, or
/// `CORRAL_INVALID_ARGUMENT` for a data read or past the end.
///
/// # Safety
///
/// `results` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_read_results_children(
    results: *const corral_read_results,
    index: usize,
    out: *mut *const corral_strings,
) -> corral_result {
    guard(|| {
        let out = out_arg(out)?;
        let Read::Children(list) = read_at(results, index)? else { return Err(CORRAL_INVALID_ARGUMENT) };
        *out = list;
        Ok(())
    })
}

/// Frees results; NULL does nothing.
///
/// # Safety
///
/// `results` is NULL or not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_read_results_free(results: *mut corral_read_results) {
    if !results.is_null() {
        drop(Box::from_raw(results));
    }
}
